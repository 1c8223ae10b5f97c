import pg from "pg";
import { type Queryable } from "./pg.server";

// Planner statistics of the tables the live path reads by key. Its statements are prepared
// once per connection (ADR 0010), and PostgreSQL keeps a statement's generic plan until the
// table's statistics change. A plan made while a table was empty or never analyzed (a fresh
// or freshly migrated database, the first shop's first minutes) can scan a whole shop per
// key lookup, and autovacuum may take minutes to analyze a new database. So the worker's
// maintenance job analyzes a live-path table as soon as it has changed by as many rows as it
// held when last analyzed; ANALYZE also makes every connection replan (ADR 0012).

/** The tables whose rows the ingest and live metrics statements look up by key (Shop and ShopRedaction: the delivery's admission). */
export const LIVE_PATH_TABLES = ["WebhookDelivery", "Order", "Customer", "Refund", "Tombstone", "ShopFit", "Shop", "ShopRedaction"] as const;

/** Changes below which a table is left to autovacuum: a bad plan on so few rows costs little. */
export const MIN_CHANGES_TO_ANALYZE = 1_000;

export interface RefreshOptions {
  tables?: readonly string[];
  minChanges?: number;
}

/**
 * Analyzes the tables that were never analyzed or have changed by at least as many rows as
 * they held when last analyzed (and by at least `minChanges`). Returns the tables analyzed.
 * Autovacuum's own threshold is a tenth of the table, so on a settled database this finds
 * nothing to do.
 */
export async function refreshPlannerStatistics(db: Queryable, options: RefreshOptions = {}): Promise<string[]> {
  const tables = options.tables ?? LIVE_PATH_TABLES;
  const stale = await db.query<{ table: string }>(
    `SELECT s.relname AS table
     FROM pg_stat_user_tables AS s JOIN pg_class AS c ON c.oid = s.relid
     WHERE s.schemaname = current_schema() AND s.relname = ANY($1::text[])
       AND s.n_mod_since_analyze > 0 AND s.n_mod_since_analyze >= GREATEST($2::float8, c.reltuples)
     ORDER BY s.relname`,
    [tables, options.minChanges ?? MIN_CHANGES_TO_ANALYZE],
  );
  const names = stale.rows.map((row) => row.table);
  if (names.length > 0) await db.query(`ANALYZE ${names.map((name) => pg.escapeIdentifier(name)).join(", ")}`);
  return names;
}
