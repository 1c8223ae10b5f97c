import { createHash } from "node:crypto";
import pg from "pg";
import { type Queryable } from "~/db/pg.server";
import { type Tx } from "~/db/tx.server";

// The names of the tables a large shop's refit builds before swapping one in as the shop's
// CustomerMetrics partition (ADR 0008; their life is in app/refit/partition-swap.server.ts),
// and the clean-up of those a refit left behind. Here, below refit/, so that shop/redact
// (app/ingest/gdpr.server.ts) drops them too.

const { escapeIdentifier } = pg;
export const METRICS_TABLE = "CustomerMetrics";

/** The prefix of every table that holds (or is being built to hold) this shop's rows. */
export function shopTablePrefix(shop: string): string {
  return `${METRICS_TABLE}_${createHash("sha256").update(shop).digest("hex").slice(0, 16)}_`;
}

// The shop's tables that are not a partition: a refit's, not yet swapped in.
const ABANDONED_TABLES = `
  SELECT relname::text AS name FROM pg_class
  WHERE relkind = 'r' AND NOT relispartition AND starts_with(relname, $1) AND relnamespace = current_schema()::regnamespace`;

/**
 * Drops the shop's tables that are not its partition: what a refit that failed or was
 * killed before its swap left behind. Its retry starts again from a new table.
 */
export async function dropAbandonedTables(db: Queryable, shop: string): Promise<string[]> {
  const result = await db.query<{ name: string }>(ABANDONED_TABLES, [shopTablePrefix(shop)]);
  for (const { name } of result.rows) await db.query(`DROP TABLE IF EXISTS ${escapeIdentifier(name)}`);
  return result.rows.map((row) => row.name);
}

/** The same, inside a redaction's Prisma transaction. */
export async function dropAbandonedTablesIn(tx: Tx, shop: string): Promise<string[]> {
  const rows = await tx.$queryRawUnsafe<{ name: string }[]>(ABANDONED_TABLES, shopTablePrefix(shop));
  for (const { name } of rows) await tx.$executeRawUnsafe(`DROP TABLE IF EXISTS ${escapeIdentifier(name)}`);
  return rows.map((row) => row.name);
}
