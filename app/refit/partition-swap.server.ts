import { randomBytes } from "node:crypto";
import pg from "pg";
import { METRICS_TABLE, shopTablePrefix } from "~/data/customer-metrics-tables.server";
import { type Queryable, checkOut } from "~/db/pg.server";

// CustomerMetrics is partitioned by shop (migration 20261125000000, ADR 0008). Small shops
// share the default partition; a large shop's refit writes a fresh table without indexes,
// builds them in bulk and swaps the table in as the shop's partition. This module owns the
// tables' life: names, creation, index builds, the swap, and clean-up after a failed refit.

const { escapeIdentifier } = pg;
export { METRICS_TABLE, dropAbandonedTables } from "~/data/customer-metrics-tables.server";
export const SHARED_PARTITION = "CustomerMetrics_shared";

/** A new table for the shop's rows, unique to this refit (a fit version can repeat after a redaction). */
export function rebuildTableName(shop: string): string {
  return `${shopTablePrefix(shop)}${randomBytes(6).toString("hex")}`;
}

/** The shop's own partition, or null while its rows live in the shared one. */
export async function shopPartition(db: Queryable, shop: string): Promise<string | null> {
  const result = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
     WHERE i.inhparent = $1::regclass AND pg_get_expr(c.relpartbound, c.oid) = format('FOR VALUES IN (%L)', $2::text)`,
    [escapeIdentifier(METRICS_TABLE), shop],
  );
  return result.rows[0]?.name ?? null;
}

/** An empty table with CustomerMetrics' columns and defaults, and no index yet. */
export async function createRebuildTable(db: Queryable, table: string): Promise<void> {
  await db.query(`CREATE TABLE ${escapeIdentifier(table)} (LIKE ${escapeIdentifier(METRICS_TABLE)} INCLUDING DEFAULTS)`);
}

/**
 * The statements that give `table` its indexes: CustomerMetrics' primary key (declared on
 * the parent, so the partition's must be a constraint too), then the shared partition's
 * sort indexes without their leading shop column (one value in a shop's own partition).
 * Read from the catalog, so a migration that adds an index needs no change here.
 */
export async function indexStatements(db: Queryable, table: string): Promise<string[]> {
  const result = await db.query<{ definition: string; primary: boolean }>(
    `SELECT pg_get_indexdef(x.indexrelid) AS definition, x.indisprimary AS primary
     FROM pg_index AS x
     WHERE x.indrelid = $1::regclass AND x.indisprimary OR x.indrelid = $2::regclass AND NOT x.indisprimary
     ORDER BY x.indisprimary DESC, x.indexrelid`,
    [escapeIdentifier(METRICS_TABLE), escapeIdentifier(SHARED_PARTITION)],
  );
  return result.rows.map(({ definition, primary }) => {
    const columns = /\((.*)\)$/.exec(definition)?.[1];
    const method = /\bUSING (\w+) \(/.exec(definition)?.[1];
    if (!columns || !method) throw new Error(`cannot read the index definition "${definition}"`);
    if (primary) return `ALTER TABLE ${escapeIdentifier(table)} ADD PRIMARY KEY (${columns})`;
    const unique = /^CREATE UNIQUE/.test(definition);
    // A unique index keeps shop: without it, uniqueness would not mean the same.
    const own = unique ? columns : columns.replace(/^shop, /, "");
    return `CREATE ${unique ? "UNIQUE " : ""}INDEX ON ${escapeIdentifier(table)} USING ${method} (${own})`;
  });
}

/**
 * Builds the indexes on `connections` connections at once (each build is one sort), then
 * refreshes the planner's statistics.
 */
export async function buildIndexes(pool: pg.Pool, table: string, connections = 2): Promise<void> {
  await (await prepareIndexBuild(pool, table, connections)).run();
}

/**
 * buildIndexes in two steps: the connections checked out and the statements listed first,
 * then the builds. The refit runs Node's aggregates beside the builds: with the connections
 * in hand before that, a build never waits for a connection while Node's long synchronous
 * steps hold the event loop (on a loaded machine, past the pool's connection timeout; ADR 0024).
 */
export async function prepareIndexBuild(pool: pg.Pool, table: string, connections = 2): Promise<{ run: () => Promise<void> }> {
  const clients: pg.PoolClient[] = [];
  try {
    for (let i = 0; i < Math.max(1, connections); i++) clients.push(await checkOut(pool));
    const queue = await indexStatements(clients[0], table);
    return {
      run: async () => {
        try {
          const worker = async (client: pg.PoolClient) => {
            for (let statement = queue.shift(); statement !== undefined; statement = queue.shift()) await client.query(statement);
          };
          // Settled, not all: a client goes back only once its own statement is done.
          const failed = (await Promise.allSettled(clients.map(worker))).find((r) => r.status === "rejected");
          if (failed) throw failed.reason;
          await clients[0].query(`ANALYZE ${escapeIdentifier(table)}`);
        } finally {
          for (const client of clients) client.release();
        }
      },
    };
  } catch (error) {
    for (const client of clients) client.release();
    throw error;
  }
}

export class SwapLockTimeout extends Error {
  override name = "SwapLockTimeout";
}

export interface SwapOptions {
  /** How long to wait for the lock on CustomerMetrics before trying again (default 5 s). */
  lockTimeoutMs?: number;
  /** Tries before giving up (default 5). */
  attempts?: number;
}

/**
 * Makes `table` the shop's partition. In one transaction that holds CustomerMetrics
 * exclusively (readers and writers of every shop wait, for the few statements below):
 * `beforeSwap` brings the table up to date with what was written meanwhile, the shop's
 * rows leave (its old partition is detached, or its rows are deleted from the shared
 * one) and the table is attached. Readers see the old rows or the new, never neither.
 * The old partition is dropped after the commit.
 */
export async function swapInPartition(
  pool: pg.Pool,
  shop: string,
  table: string,
  beforeSwap: (client: pg.PoolClient) => Promise<void>,
  options: SwapOptions = {},
): Promise<{ replaced: string | null }> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    const client = await checkOut(pool);
    let replaced: string | null = null;
    try {
      await client.query("BEGIN");
      await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(options.lockTimeoutMs ?? 5_000))}`);
      await client.query(`LOCK TABLE ${escapeIdentifier(METRICS_TABLE)} IN ACCESS EXCLUSIVE MODE`);
      await beforeSwap(client);
      replaced = await shopPartition(client, shop);
      if (replaced) {
        await client.query(`ALTER TABLE ${escapeIdentifier(METRICS_TABLE)} DETACH PARTITION ${escapeIdentifier(replaced)}`);
      } else {
        await client.query(`DELETE FROM ${escapeIdentifier(SHARED_PARTITION)} WHERE shop = $1`, [shop]);
      }
      await client.query(`ALTER TABLE ${escapeIdentifier(METRICS_TABLE)} ATTACH PARTITION ${escapeIdentifier(table)} FOR VALUES IN (${pg.escapeLiteral(shop)})`);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      client.release();
      // 55P03: lock_not_available (lock_timeout): someone held CustomerMetrics; try again.
      if ((error as { code?: string }).code === "55P03") {
        if (attempt < attempts) continue;
        throw new SwapLockTimeout(`could not lock ${METRICS_TABLE} to swap in ${shop}'s rows after ${attempts} tries`);
      }
      throw error;
    }
    try {
      if (replaced) await client.query(`DROP TABLE IF EXISTS ${escapeIdentifier(replaced)}`);
    } finally {
      client.release();
    }
    return { replaced };
  }
}
