import pg from "pg";

// A database of a benchmark's own on a PostgreSQL server (embedded or DATABASE_URL's), so a
// benchmark never touches the data it runs beside and can drop everything it made.

export interface BenchDatabase {
  url: string;
  /** An existing database was kept (see `reuseWhen`). */
  reused: boolean;
  drop: () => Promise<void>;
}

async function adminQuery(serverUrl: string, statement: string): Promise<void> {
  const admin = new URL(serverUrl);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * Database `name` on the server of `serverUrl`, created afresh, unless `reuseWhen` says the
 * existing one can be kept (it is called with the existing database's URL and must not throw).
 */
export async function benchDatabase(
  serverUrl: string,
  name: string,
  options: { reuseWhen?: (url: string) => Promise<boolean> } = {},
): Promise<BenchDatabase> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new RangeError(`bench database name "${name}" must be a plain identifier`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const drop = () => adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  if (options.reuseWhen && (await options.reuseWhen(url.toString()))) return { url: url.toString(), reused: true, drop };
  await drop();
  await adminQuery(serverUrl, `CREATE DATABASE ${name}`);
  return { url: url.toString(), reused: false, drop };
}
