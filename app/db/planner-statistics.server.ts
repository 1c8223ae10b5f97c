import pg from "pg";
import { type Queryable } from "./pg.server";

// Planner statistics of the tables the live path reads by key. Its statements are prepared
// once per connection (ADR 0010), and PostgreSQL keeps a statement's generic plan until the
// table's statistics change. A plan made while a table was empty or never analyzed (a fresh
// or freshly migrated database, the first shop's first minutes) can scan a whole shop per
// key lookup, and autovacuum may take minutes to analyze a new database. So the worker's
// maintenance job analyzes a live-path table as soon as it has changed by as many rows as it
// held when last analyzed; ANALYZE also makes every connection replan (ADR 0012).

/**
 * The tables whose rows the ingest and live metrics statements look up by key (Shop and
 * ShopRedaction: the delivery's admission; OrderLine to OrderCheckout: an order's cost and
 * checkout, issue 17; CustomerMetrics: the recompute's previous rows, by its partitions).
 */
export const LIVE_PATH_TABLES = [
  "WebhookDelivery",
  "Order",
  "Customer",
  "Refund",
  "Tombstone",
  "ShopFit",
  "Shop",
  "ShopRedaction",
  "OrderLine",
  "ProductVariant",
  "InventoryItemCost",
  "Checkout",
  "OrderCheckout",
  "CustomerMetrics",
] as const;

/** Changes below which a table is left to autovacuum: a bad plan on so few rows costs little. */
export const MIN_CHANGES_TO_ANALYZE = 1_000;

export interface RefreshOptions {
  tables?: readonly string[];
  minChanges?: number;
}

/**
 * Analyzes the tables that have rows changed since they were created but were never analyzed,
 * and those that have changed by at least as many rows as they held when last analyzed (and
 * by at least `minChanges`). A partition counts as its partitioned table (CustomerMetrics'
 * shop partitions) and is analyzed by its own name. Returns the tables analyzed. Autovacuum's
 * own threshold is a tenth of the table, so on a settled database this finds nothing to do.
 */
export async function refreshPlannerStatistics(db: Queryable, options: RefreshOptions = {}): Promise<string[]> {
  const tables = options.tables ?? LIVE_PATH_TABLES;
  const stale = await db.query<{ table: string }>(
    `SELECT s.relname AS table
     FROM pg_stat_user_tables AS s JOIN pg_class AS c ON c.oid = s.relid
     LEFT JOIN pg_inherits AS i ON i.inhrelid = s.relid LEFT JOIN pg_class AS parent ON parent.oid = i.inhparent
     WHERE s.schemaname = current_schema() AND COALESCE(parent.relname, s.relname) = ANY($1::text[])
       AND s.n_mod_since_analyze > 0
       -- Never analyzed (reltuples -1): plans made on the empty table stay until an ANALYZE, and
       -- one of a few rows costs nothing, so at once (a cached plan scanned a checkout per order).
       AND (c.reltuples < 0 OR s.n_mod_since_analyze >= GREATEST($2::float8, c.reltuples))
     ORDER BY s.relname`,
    [tables, options.minChanges ?? MIN_CHANGES_TO_ANALYZE],
  );
  const names = stale.rows.map((row) => row.table);
  if (names.length > 0) await db.query(`ANALYZE ${names.map((name) => pg.escapeIdentifier(name)).join(", ")}`);
  return names;
}
