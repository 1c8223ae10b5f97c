import pg from "pg";
import { applyMigrations } from "../../app/db/migrations.server";

// One real PostgreSQL database per test worker, cloned from a migrated template so each
// worker starts from the current schema in milliseconds (Epic Stack's pattern, on Postgres).

/**
 * The run's admin database, from which it creates and drops its own: the one
 * tests/support/global-setup.ts resolved (scripts/test-services.ts), handed to every worker
 * as TEST_DATABASE_URL by setup-env.ts.
 */
export function adminDatabaseUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error("TEST_DATABASE_URL is not set: run the tests through vitest (tests/support/global-setup.ts resolves it)");
  return url;
}
/** Names of one test run's databases: distinct per run, so concurrent runs never collide. */
export const templateDatabase = (runId: string) => `tenure_test_${runId}_template`;
export const workerDatabase = (runId: string, workerId: string) => `tenure_test_${runId}_w${workerId}`;

export function databaseUrl(name: string): string {
  const url = new URL(adminDatabaseUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminDatabaseUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function recreateTemplate(runId: string): Promise<void> {
  const template = templateDatabase(runId);
  await withAdmin(async (admin) => {
    await admin.query(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${template}"`);
  });
  await applyMigrations(databaseUrl(template));
}

export async function cloneTemplate(runId: string, name: string): Promise<string> {
  await withAdmin(async (admin) => {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${templateDatabase(runId)}"`);
  });
  return databaseUrl(name);
}

/** Drops every database of one run (template, workers, and any a test made with the run's prefix). */
export async function dropRunDatabases(runId: string): Promise<void> {
  await withAdmin(async (admin) => {
    const { rows } = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE $1`,
      [`tenure_test_${runId}_%`],
    );
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  });
}
