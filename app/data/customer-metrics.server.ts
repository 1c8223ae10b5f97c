import pg from "pg";
import { type CustomerMetricsValues } from "~/analytics/customer-metrics";
import { dayIndexInZone, dayToIso } from "~/analytics/dates";
import { arrayLiteral, pgQuery, type Queryable } from "~/db/pg.server";

// CustomerMetrics rows and the segment transitions they imply, written set-based: one
// statement per batch, whether the batch is one customer (live worker) or ten thousand
// (shop refit). A transition row is written when a customer who already had a row gets a
// different RFM segment; first scorings are not transitions (daily counts show arrivals).

const { escapeIdentifier } = pg;

export type MetricsSource = "live" | "refit";

export interface MetricsWriteOptions {
  /** ShopFit.version the rows were scored with; null when the shop has no predictions. */
  modelVersion: number | null;
  asOfDay: number;
  source: MetricsSource;
  /** Also the transitions' time. Default now. */
  computedAt?: Date;
  /** Send the write as a named statement (pgQuery): the live path's, thousands per connection. */
  prepared?: boolean;
  /**
   * Leave a row alone that was computed after this write's computedAt: the refit's rows come
   * from its snapshot, and a live recompute that wrote since read newer orders.
   */
  keepNewer?: boolean;
}

const isoOrNull = (day: number | null) => (day === null ? null : dayToIso(day));

/** The batch as statement parameters $2..$24 (one array literal per column, built in one pass each). */
function metricsColumns(rows: readonly CustomerMetricsValues[]): unknown[] {
  return ([
    rows.map((r) => r.customerId),
    rows.map((r) => r.orders),
    rows.map((r) => r.netSpent),
    rows.map((r) => r.aov),
    rows.map((r) => r.discountedOrders),
    rows.map((r) => isoOrNull(r.firstOrderDay)),
    rows.map((r) => isoOrNull(r.lastOrderDay)),
    rows.map((r) => r.recencyDays),
    rows.map((r) => r.scores?.r ?? null),
    rows.map((r) => r.scores?.f ?? null),
    rows.map((r) => r.scores?.m ?? null),
    rows.map((r) => r.segment),
    rows.map((r) => r.behaviours.join(",")),
    rows.map((r) => r.pAlive),
    rows.map((r) => r.expectedPurchases90d),
    rows.map((r) => r.expectedPurchases365d),
    rows.map((r) => r.expectedOrderValue),
    rows.map((r) => r.predictedClv),
    rows.map((r) => isoOrNull(r.expectedNextOrderDay)),
    rows.map((r) => r.chanceOfOrder90d),
    rows.map((r) => r.chanceOfOrder365d),
    rows.map((r) => r.grossProfit),
    rows.map((r) => r.uncostedSales),
  ] as unknown[][]).map((column) => arrayLiteral(column) ?? column);
}

/** $1 shop, $2..$24 the columns, $25 model version, $26 as-of day, $27 computed at. */
function metricsParams(shop: string, rows: readonly CustomerMetricsValues[], options: MetricsWriteOptions): unknown[] {
  return [shop, ...metricsColumns(rows), options.modelVersion, options.asOfDay, (options.computedAt ?? new Date()).toISOString()];
}

const INPUT_SQL = `SELECT * FROM unnest($2::bigint[], $3::int[], $4::bigint[], $5::bigint[], $6::int[], $7::date[], $8::date[], $9::int[],
                            $10::int[], $11::int[], $12::int[], $13::text[], $14::text[], $15::float8[], $16::float8[], $17::float8[],
                            $18::bigint[], $19::bigint[], $20::date[], $21::float8[], $22::float8[], $23::bigint[], $24::bigint[])
         AS t(customer_id, orders, net, aov, discounted, first_day, last_day, recency, r, f, m, segment, behaviours,
              p_alive, e90, e365, eov, clv, next_day, chance90, chance365, gross_profit, uncosted)`;

const INSERT_ROWS_SQL = `(shop, "customerId", orders, "netSpentMinor", "aovMinor", "discountedOrders",
         "firstOrderDay", "lastOrderDay", "recencyDays", "rScore", "fScore", "mScore", segment, behaviours, "pAlive",
         "expectedPurchases90d", "expectedPurchases365d", "expectedOrderValueMinor", "predictedClvMinor", "expectedNextOrderDay",
         "chanceOfOrder90d", "chanceOfOrder365d", "modelVersion", "asOfDay", "computedAt", "grossProfitMinor", "uncostedSalesMinor")
       SELECT $1, customer_id, orders, net, aov, discounted, first_day, last_day, recency, r, f, m, segment,
              CASE WHEN behaviours = '' THEN '{}'::text[] ELSE string_to_array(behaviours, ',') END,
              p_alive, e90, e365, eov, clv, next_day, chance90, chance365, $25::int, $26::int, $27::timestamp, gross_profit, uncosted
       FROM input`;

const REPLACE_SQL = `ON CONFLICT (shop, "customerId") DO UPDATE SET
         orders = EXCLUDED.orders, "netSpentMinor" = EXCLUDED."netSpentMinor", "aovMinor" = EXCLUDED."aovMinor",
         "discountedOrders" = EXCLUDED."discountedOrders", "firstOrderDay" = EXCLUDED."firstOrderDay",
         "lastOrderDay" = EXCLUDED."lastOrderDay", "recencyDays" = EXCLUDED."recencyDays", "rScore" = EXCLUDED."rScore",
         "fScore" = EXCLUDED."fScore", "mScore" = EXCLUDED."mScore", segment = EXCLUDED.segment, behaviours = EXCLUDED.behaviours,
         "pAlive" = EXCLUDED."pAlive", "expectedPurchases90d" = EXCLUDED."expectedPurchases90d",
         "expectedPurchases365d" = EXCLUDED."expectedPurchases365d", "expectedOrderValueMinor" = EXCLUDED."expectedOrderValueMinor",
         "predictedClvMinor" = EXCLUDED."predictedClvMinor", "expectedNextOrderDay" = EXCLUDED."expectedNextOrderDay",
         "chanceOfOrder90d" = EXCLUDED."chanceOfOrder90d", "chanceOfOrder365d" = EXCLUDED."chanceOfOrder365d",
         "modelVersion" = EXCLUDED."modelVersion", "asOfDay" = EXCLUDED."asOfDay", "computedAt" = EXCLUDED."computedAt",
         "grossProfitMinor" = EXCLUDED."grossProfitMinor", "uncostedSalesMinor" = EXCLUDED."uncostedSalesMinor"`;

/**
 * Serialises the live recomputes of these customers until the caller's transaction ends: a
 * transaction-level advisory lock per (shop, customer), taken in id order before the read.
 * Each recompute then reads the orders committed before the previous one wrote, so two
 * recomputes of one customer (a retried job beside a new one, two worker processes) never
 * commit an older state after a newer one. Advisory: ingest's writes to the same customers
 * never wait for it, and distinct customers whose keys collide only wait a moment.
 */
export async function lockCustomersForRecompute(db: Queryable, shop: string, customerIds: readonly string[]): Promise<void> {
  const sorted = [...customerIds].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
  await db.query(
    pgQuery(
      `SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || id, 0)) FROM unnest($2::text[]) WITH ORDINALITY AS t(id, n) ORDER BY n`,
      [shop, sorted],
      true,
    ),
  );
}

/** Writes (inserts or replaces) the rows; returns how many rows and transitions were written. */
export async function writeCustomerMetrics(
  db: Queryable,
  shop: string,
  rows: readonly CustomerMetricsValues[],
  options: MetricsWriteOptions,
): Promise<{ written: number; transitions: number }> {
  if (rows.length === 0) return { written: 0, transitions: 0 };
  const result = await db.query<{ written: string; transitions: string }>(
    pgQuery(
      `WITH input AS (${INPUT_SQL}),
       previous AS (
         SELECT cm."customerId", cm.segment FROM "CustomerMetrics" AS cm
         WHERE cm.shop = $1 AND cm."customerId" = ANY($2::bigint[])
       ),
       written AS (
         INSERT INTO "CustomerMetrics" AS cm ${INSERT_ROWS_SQL}
         ${REPLACE_SQL}${options.keepNewer ? ` WHERE cm."computedAt" <= EXCLUDED."computedAt"` : ""}
         RETURNING cm."customerId", cm.segment
       ),
       moved AS (
         INSERT INTO "SegmentTransition" (shop, "customerId", "fromSegment", "toSegment", at, source)
         SELECT $1, w."customerId", p.segment, w.segment, $27::timestamp, $28
         FROM written AS w JOIN previous AS p ON p."customerId" = w."customerId"
         WHERE p.segment IS DISTINCT FROM w.segment
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM written) AS written, (SELECT count(*) FROM moved) AS transitions`,
      [...metricsParams(shop, rows, options), options.source],
      options.prepared ?? false,
    ),
  );
  const row = result.rows[0];
  return { written: Number(row?.written ?? 0), transitions: Number(row?.transitions ?? 0) };
}

/**
 * Writes the rows into `table`, a table shaped like CustomerMetrics that is not (yet) the
 * shop's partition: plain inserts while it has no index, `replace` once it has its primary
 * key. No transitions (writeTransitionsFrom records them against the shop's current rows).
 */
export async function writeCustomerMetricsInto(
  db: Queryable,
  table: string,
  shop: string,
  rows: readonly CustomerMetricsValues[],
  options: MetricsWriteOptions & { replace: boolean },
): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await db.query(
    `WITH input AS (${INPUT_SQL})
     INSERT INTO ${escapeIdentifier(table)} AS cm ${INSERT_ROWS_SQL}
     ${options.replace ? REPLACE_SQL : ""}`,
    metricsParams(shop, rows, options),
  );
  return result.rowCount ?? 0;
}

/**
 * Transitions from the shop's current rows (its partition, or the shared one) to the rows
 * of `table` (all of them, or of `customerIds`): written before `table` replaces them.
 * `reportMissing`: also returns the customers who have a current row but none in `table`,
 * found in the same pass over the current rows.
 */
export async function writeTransitionsFrom(
  db: Queryable,
  table: string,
  shop: string,
  at: Date,
  source: MetricsSource,
  options: { customerIds?: readonly string[]; reportMissing?: boolean } = {},
): Promise<string[]> {
  const byCustomer = options.customerIds ? ` AND o."customerId" = ANY($4::bigint[])` : "";
  const result = await db.query<{ id: string }>(
    `WITH pairs AS (
       SELECT o."customerId" AS id, o.segment AS from_segment, n."customerId" AS new_id, n.segment AS to_segment
       FROM "CustomerMetrics" AS o LEFT JOIN ${escapeIdentifier(table)} AS n ON n."customerId" = o."customerId"
       WHERE o.shop = $1${byCustomer}
     ),
     moved AS (
       INSERT INTO "SegmentTransition" (shop, "customerId", "fromSegment", "toSegment", at, source)
       SELECT $1, id, from_segment, to_segment, $2::timestamp, $3 FROM pairs
       WHERE new_id IS NOT NULL AND from_segment IS DISTINCT FROM to_segment
     )
     SELECT id::text AS id FROM pairs WHERE new_id IS NULL AND $${options.customerIds ? 5 : 4}::boolean`,
    [shop, at.toISOString(), source, ...(options.customerIds ? [options.customerIds] : []), options.reportMissing === true],
  );
  return result.rows.map((row) => row.id);
}

/** Today's day index in the shop's time zone. */
export function todayInZone(timeZone: string, now = new Date()): number {
  try {
    return dayIndexInZone(now, timeZone);
  } catch {
    return dayIndexInZone(now, "UTC");
  }
}

// ------------------------------------------------------------------ the refit's reads and clean-up

/**
 * Customers whose row was changed by a transaction the read's snapshot does not see (in
 * flight when the orders were read, or later): the ingest path updates a customer's
 * summary in the transaction that changes their orders, so these are the customers whose
 * orders may be newer than ours. xmin is a 32-bit transaction id; the snapshot's xmax gives
 * its epoch (xmin is never more than 2^31 transactions behind it). Rows older than the
 * snapshot's xmin (nearly all; frozen ones too) are visible to it: a cheap age() test drops
 * them before the exact check, which matters because the scan also runs under the swap's
 * lock (ADR 0008).
 */
export async function changedOutside(
  db: Queryable,
  shop: string,
  snapshot: string,
  table: "Customer" | "CustomerMetrics" = "Customer",
): Promise<Set<string>> {
  const id = table === "Customer" ? "id" : `"customerId"`;
  const result = await db.query<{ id: string }>(
    `WITH s AS (SELECT $2::pg_snapshot AS snap, pg_snapshot_xmax($2::pg_snapshot)::text::bigint AS xmax,
                       age((pg_snapshot_xmin($2::pg_snapshot)::text::bigint % 4294967296)::text::xid) AS xmin_age)
     SELECT c.${id}::text AS id
     FROM "${table}" AS c, s, LATERAL (SELECT ((s.xmax >> 32) << 32) + c.xmin::text::bigint AS guess) AS x
     WHERE c.shop = $1
       AND age(c.xmin) <= s.xmin_age
       AND NOT pg_visible_in_snapshot((CASE WHEN x.guess > s.xmax THEN x.guess - 4294967296 ELSE x.guess END)::text::xid8, s.snap)`,
    [shop, snapshot],
  );
  return new Set(result.rows.map((row) => row.id));
}

/** Up to `limit` customers whose row was computed before `at` (the rows a refit did not write), in id order. */
export async function metricsComputedBefore(db: Queryable, shop: string, at: Date, limit: number): Promise<string[]> {
  const left = await db.query<{ id: string }>(
    `SELECT "customerId"::text AS id FROM "CustomerMetrics" WHERE shop = $1 AND "computedAt" < $2::timestamp ORDER BY "customerId" LIMIT $3`,
    [shop, at.toISOString(), limit],
  );
  return left.rows.map((row) => row.id);
}

/** Removes the metrics rows of these customers (they no longer exist); returns how many went. */
export async function deleteCustomerMetrics(db: Queryable, shop: string, customerIds: readonly string[]): Promise<number> {
  return (await db.query(`DELETE FROM "CustomerMetrics" WHERE shop = $1 AND "customerId" = ANY($2::bigint[])`, [shop, customerIds])).rowCount ?? 0;
}

/** Removes the metrics rows and transitions of the shop's redacted customers (those with a tombstone). */
export async function deleteMetricsOfRedactedCustomers(db: Queryable, shop: string): Promise<void> {
  for (const table of ["CustomerMetrics", "SegmentTransition"]) {
    await db.query(
      `DELETE FROM "${table}" AS m USING "Tombstone" AS t
       WHERE m.shop = $1 AND t.shop = $1 AND t.resource = 'customer' AND m."customerId" = t.id`,
      [shop],
    );
  }
}

/** Removes every metrics row and transition of the shop (a redacted shop). */
export async function deleteShopMetrics(db: Queryable, shop: string): Promise<void> {
  for (const table of ["CustomerMetrics", "SegmentTransition"]) await db.query(`DELETE FROM "${table}" WHERE shop = $1`, [shop]);
}
