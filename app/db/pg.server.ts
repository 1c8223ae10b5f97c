import { Prisma } from "@prisma/client";
import { createHash } from "node:crypto";
import pg from "pg";
import { env } from "~/env.server";

// Plain `pg` for the hot paths (ingest, metrics, refit, backfill): Prisma's engine-less
// client spends several times pg's CPU per raw query, which kept a worker below the
// live-metrics target (ADR 0006). Prisma stays for everything else.
//
// `RawTx` is the part of Prisma's transaction client the ingest code uses ($queryRaw and
// $executeRaw as tagged templates, Prisma.sql fragments inside). A Prisma transaction
// satisfies it, and so does `PgTx` below, which renders the same templates with
// Prisma.sql and runs them on a pg client, returning values typed as Prisma returns
// them (bigint for int8, Date for timestamps read as UTC).

/** Anything that runs a pg query: the pool, or a client checked out of it (inside a transaction). */
export type Queryable = Pick<pg.Pool | pg.PoolClient, "query">;

/** A client checked out of the pool, not the pool: COPY runs on a client (app/db/copy-binary.server.ts). */
export type ClientQueryable = Pick<pg.PoolClient, "query" | "release">;

export interface RawTx {
  $queryRaw<T = unknown>(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Prisma.PrismaPromise<T>;
  $executeRaw(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Prisma.PrismaPromise<number>;
}

const INT8 = 20;
const TIMESTAMP = 1114;
const DATE = 1082;
const NUMERIC = 1700;
const INT8_ARRAY = 1016;

/** Type parsers matching what Prisma's raw queries return. */
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === INT8) return (value: string) => BigInt(value);
    // timestamp without time zone holds UTC (Prisma's convention); pg would read it as local time.
    if (oid === TIMESTAMP) return (value: string) => new Date(`${value.replace(" ", "T")}Z`);
    if (oid === DATE) return (value: string) => new Date(`${value}T00:00:00Z`);
    if (oid === NUMERIC) return (value: string) => value;
    if (oid === INT8_ARRAY) {
      const parseArray = (pg.types.getTypeParser as (oid: number) => (value: string) => (string | null)[])(INT8_ARRAY);
      return (value: string) => parseArray(value).map((item) => (item === null ? null : BigInt(item)));
    }
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

/** Values as Prisma would send them: bigint and Date as text the casts in the SQL read. */
function toParameter(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return arrayLiteral(value) ?? value.map(toParameter);
  return value;
}

const NEEDS_ESCAPE = /[\\"]/;
const ESCAPED = /[\\"]/g;

/**
 * A one-dimensional array of scalars as a PostgreSQL array literal ('{1,"a b",NULL}'), or
 * undefined for anything else (nested arrays, objects: pg serialises those). The same text
 * pg would send, built in one pass: pg escapes each element with two regular expressions,
 * which a bulk import's million-row columns spend seconds on.
 */
export function arrayLiteral(values: readonly unknown[]): string | undefined {
  let literal = "{";
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i];
    if (i > 0) literal += ",";
    if (value === null || value === undefined) literal += "NULL";
    else if (typeof value === "string") literal += NEEDS_ESCAPE.test(value) ? `"${value.replace(ESCAPED, "\\$&")}"` : `"${value}"`;
    else if (typeof value === "bigint" || typeof value === "number") literal += String(value);
    else if (typeof value === "boolean") literal += value ? "t" : "f";
    else if (value instanceof Date) literal += `"${value.toISOString()}"`;
    else return undefined;
  }
  return `${literal}}`;
}

// Prisma.Sql is not exported as a runtime class (only its instances exist); recognise one by shape.
function isSql(query: unknown): query is Prisma.Sql {
  return typeof query === "object" && query !== null && !Array.isArray(query) && "text" in query && "values" in query;
}

function render(query: TemplateStringsArray | Prisma.Sql, values: unknown[]): { text: string; values: unknown[] } {
  const sql = isSql(query) ? query : Prisma.sql(query, ...values);
  return { text: sql.text, values: sql.values.map(toParameter) };
}

/** A thenable that runs once, like a PrismaPromise. */
function lazy<T>(run: () => Promise<T>): Prisma.PrismaPromise<T> {
  let started: Promise<T> | undefined;
  const start = () => (started ??= run());
  const promise = {
    then: (ok?: (v: T) => unknown, fail?: (e: unknown) => unknown) => start().then(ok, fail),
    catch: (fail?: (e: unknown) => unknown) => start().catch(fail),
    finally: (done?: () => void) => start().finally(done),
    [Symbol.toStringTag]: "PrismaPromise",
  };
  return promise as unknown as Prisma.PrismaPromise<T>;
}

/**
 * A query for `client.query`: with `prepared`, a named statement (named by its text's hash),
 * which PostgreSQL parses once per connection and, once its generic plan proves as cheap as
 * the custom ones, stops planning. For a fixed set of short statements run thousands of
 * times per connection (ingest, live metrics): planning was a large share of their statement
 * time under the freshness benchmark's load (ADR 0010). Not for statements whose text
 * varies without bound (a refit's table names): each name stays prepared for the
 * connection's life.
 */
export function pgQuery(text: string, values: unknown[], prepared: boolean): pg.QueryConfig {
  return prepared ? { name: statementName(text), text, values } : { text, values };
}

/** Statement names by text: a live delivery runs about a dozen named statements, and hashing each text every time showed in the worker's profile. */
const statementNames = new Map<string, string>();
const STATEMENT_NAMES_KEPT = 2_000;

function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `tenure_${createHash("sha1").update(text).digest("hex").slice(0, 24)}`;
    if (statementNames.size >= STATEMENT_NAMES_KEPT) statementNames.clear();
    statementNames.set(text, name);
  }
  return name;
}

/** Raw queries on one pg client (inside a transaction the caller opened). `prepared`: see pgQuery. */
export class PgTx implements RawTx {
  constructor(
    readonly client: pg.PoolClient | pg.Client,
    private readonly options: { prepared?: boolean } = {},
  ) {}

  $queryRaw<T = unknown>(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Prisma.PrismaPromise<T> {
    return lazy(async () => {
      const { text, values: params } = render(query, values);
      const result = await this.client.query(pgQuery(text, params, this.options.prepared ?? false));
      return result.rows as T;
    });
  }

  $executeRaw(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Prisma.PrismaPromise<number> {
    return lazy(async () => {
      const { text, values: params } = render(query, values);
      const result = await this.client.query(pgQuery(text, params, this.options.prepared ?? false));
      return result.rowCount ?? 0;
    });
  }
}

/**
 * How a transaction runs. Default: READ COMMITTED, read-write, commits wait for the WAL flush.
 * - prepared: see pgQuery;
 * - repeatableRead + readOnly: one snapshot for every statement, blocking nobody (the refit's read);
 * - asyncCommit: COMMIT does not wait for the WAL flush, for derived rows a crash may lose
 *   and the next recompute writes again. Sent with BEGIN, in the same round trip.
 * - genericPlans: prepared statements run their generic plan from the first execution, planned
 *   again only when a table's statistics change, for key lookups whose best plan does not
 *   depend on their values (ADR 0012). Sent with BEGIN, in the same round trip.
 */
export interface TransactionOptions {
  prepared?: boolean;
  repeatableRead?: boolean;
  readOnly?: boolean;
  asyncCommit?: boolean;
  genericPlans?: boolean;
}

function beginStatement(options: TransactionOptions): string {
  let begin = "BEGIN";
  if (options.repeatableRead) begin += " ISOLATION LEVEL REPEATABLE READ";
  if (options.readOnly) begin += " READ ONLY";
  if (options.asyncCommit) begin += "; SET LOCAL synchronous_commit TO off";
  if (options.genericPlans) begin += "; SET LOCAL plan_cache_mode TO force_generic_plan";
  return begin;
}

/**
 * A client checked out of `pool` that remembers whether its connection died while it was
 * out (a database restart, pg_terminate_backend): on release a broken client is destroyed
 * rather than handed out again. The query in flight fails with that error, so the caller's
 * transaction fails and its job retries. (That the 'error' event cannot kill the process is
 * survivingConnectionLoss's job, for pools made here; this listener covers any other pool.)
 * Every checkout goes through here.
 */
export async function checkOut(pool: pg.Pool): Promise<pg.PoolClient> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken ??= error;
  };
  client.on("error", onError);
  // The pool gives each checkout a fresh release(); this one wraps it.
  const release = client.release.bind(client);
  client.release = (destroy?: boolean | Error) => {
    client.off("error", onError);
    release(destroy ?? broken);
  };
  return client;
}

/** Runs `work` in a transaction (READ COMMITTED unless `options` say otherwise) on a client of `pool`. */
export async function pgTransaction<T>(
  pool: pg.Pool,
  work: (tx: PgTx, client: pg.PoolClient) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const client = await checkOut(pool);
  try {
    return await clientTransaction(client, (tx) => work(tx, client), options);
  } finally {
    client.release();
  }
}

/** Runs `work` in a transaction (READ COMMITTED unless `options` say otherwise) on a client the caller holds. */
export async function clientTransaction<T>(
  client: pg.PoolClient | pg.Client,
  work: (tx: PgTx) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  await client.query(beginStatement(options));
  try {
    const result = await work(new PgTx(client, { prepared: options.prepared }));
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

export function createPgPool(connectionString: string, options: { max?: number; statementTimeoutMs?: number } = {}): pg.Pool {
  return survivingConnectionLoss(
    new pg.Pool({
      connectionString,
      max: options.max ?? 10,
      connectionTimeoutMillis: 10_000,
      statement_timeout: options.statementTimeoutMs,
      // Dates and timestamps read as their own text (::text) in one shape whatever the
      // server's default: YYYY-MM-DD[ HH:MI:SS[.ffffff]]. The destinations' reads use it
      // instead of to_char, which cost PostgreSQL more (docs/destinations/klaviyo.md, task K6).
      options: "-c DateStyle=ISO,MDY",
      types,
    }),
  );
}

/**
 * Makes a pool's lost connections (a database restart, pg_terminate_backend) fail the
 * queries they carried instead of the process. node-pg emits 'error' on a client whose
 * connection dies, and pg-pool listens only while the client is idle, or ONCE during
 * pool.query: a second 'error' (the server's termination notice, then the socket's end)
 * or one while a transaction holds the client has no listener, and an unheard 'error'
 * kills the process. Every client gets a listener for its whole life; the failure itself
 * reaches the caller through its query, and an idle client's through the pool's 'error'.
 */
export function survivingConnectionLoss(pool: pg.Pool, label = "database"): pg.Pool {
  pool.on("connect", (client) => {
    client.on("error", () => {});
  });
  pool.on("error", (error) => console.error(`tenure: ${label} connection error: ${error.message}`));
  return pool;
}

let pool: pg.Pool | undefined;

/** The process-wide pg pool for workers (DATABASE_URL). */
export function pgPool(): pg.Pool {
  pool ??= createPgPool(env().DATABASE_URL, { max: 20 });
  return pool;
}

export async function closePgPool(): Promise<void> {
  const current = pool;
  pool = undefined;
  await current?.end();
}
