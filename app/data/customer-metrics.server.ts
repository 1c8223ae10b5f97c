import pg from "pg";
import { type CustomerMetricsValues, type ScoringContext } from "~/analytics/customer-metrics";
import { type BehaviourThresholds } from "~/analytics/behaviour";
import { type ShopModelJson, restoreShopModel } from "~/analytics/clv/shop-model";
import { dayIndexInZone, dayToIso } from "~/analytics/dates";
import { type RfmCutPoints } from "~/analytics/rfm";
import { DEFAULT_SEGMENT_RULES, type SegmentRule } from "~/analytics/segments";
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
}

const isoOrNull = (day: number | null) => (day === null ? null : dayToIso(day));

/** The batch as statement parameters $2..$20 (one array literal per column, built in one pass each). */
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
  ] as unknown[][]).map((column) => arrayLiteral(column) ?? column);
}

/** $1 shop, $2..$20 the columns, $21 model version, $22 as-of day, $23 computed at. */
function metricsParams(shop: string, rows: readonly CustomerMetricsValues[], options: MetricsWriteOptions): unknown[] {
  return [shop, ...metricsColumns(rows), options.modelVersion, options.asOfDay, (options.computedAt ?? new Date()).toISOString()];
}

const INPUT_SQL = `SELECT * FROM unnest($2::bigint[], $3::int[], $4::bigint[], $5::bigint[], $6::int[], $7::date[], $8::date[], $9::int[],
                            $10::int[], $11::int[], $12::int[], $13::text[], $14::text[], $15::float8[], $16::float8[], $17::float8[],
                            $18::bigint[], $19::bigint[], $20::date[])
         AS t(customer_id, orders, net, aov, discounted, first_day, last_day, recency, r, f, m, segment, behaviours,
              p_alive, e90, e365, eov, clv, next_day)`;

const INSERT_ROWS_SQL = `(shop, "customerId", orders, "netSpentMinor", "aovMinor", "discountedOrders",
         "firstOrderDay", "lastOrderDay", "recencyDays", "rScore", "fScore", "mScore", segment, behaviours, "pAlive",
         "expectedPurchases90d", "expectedPurchases365d", "expectedOrderValueMinor", "predictedClvMinor", "expectedNextOrderDay",
         "modelVersion", "asOfDay", "computedAt")
       SELECT $1, customer_id, orders, net, aov, discounted, first_day, last_day, recency, r, f, m, segment,
              CASE WHEN behaviours = '' THEN '{}'::text[] ELSE string_to_array(behaviours, ',') END,
              p_alive, e90, e365, eov, clv, next_day, $21::int, $22::int, $23::timestamp
       FROM input`;

const REPLACE_SQL = `ON CONFLICT (shop, "customerId") DO UPDATE SET
         orders = EXCLUDED.orders, "netSpentMinor" = EXCLUDED."netSpentMinor", "aovMinor" = EXCLUDED."aovMinor",
         "discountedOrders" = EXCLUDED."discountedOrders", "firstOrderDay" = EXCLUDED."firstOrderDay",
         "lastOrderDay" = EXCLUDED."lastOrderDay", "recencyDays" = EXCLUDED."recencyDays", "rScore" = EXCLUDED."rScore",
         "fScore" = EXCLUDED."fScore", "mScore" = EXCLUDED."mScore", segment = EXCLUDED.segment, behaviours = EXCLUDED.behaviours,
         "pAlive" = EXCLUDED."pAlive", "expectedPurchases90d" = EXCLUDED."expectedPurchases90d",
         "expectedPurchases365d" = EXCLUDED."expectedPurchases365d", "expectedOrderValueMinor" = EXCLUDED."expectedOrderValueMinor",
         "predictedClvMinor" = EXCLUDED."predictedClvMinor", "expectedNextOrderDay" = EXCLUDED."expectedNextOrderDay",
         "modelVersion" = EXCLUDED."modelVersion", "asOfDay" = EXCLUDED."asOfDay", "computedAt" = EXCLUDED."computedAt"`;

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
         ${REPLACE_SQL}
         RETURNING cm."customerId", cm.segment
       ),
       moved AS (
         INSERT INTO "SegmentTransition" (shop, "customerId", "fromSegment", "toSegment", at, source)
         SELECT $1, w."customerId", p.segment, w.segment, $23::timestamp, $24
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

/** A stored fit, as read back for scoring. */
export interface StoredFit {
  version: number;
  status: string;
  model: ShopModelJson | null;
  rfmCuts: RfmCutPoints | null;
  behaviourThresholds: BehaviourThresholds | null;
  segmentRules: SegmentRule[];
  asOfDay: number;
}

export async function loadStoredFit(db: Queryable, shop: string): Promise<StoredFit | null> {
  const result = await db.query<StoredFit>(
    `SELECT version, status, model, "rfmCuts", "behaviourThresholds", "segmentRules", "asOfDay" FROM "ShopFit" WHERE shop = $1`,
    [shop],
  );
  return result.rows[0] ?? null;
}

/** The shop's time zone (UTC when the shop row is missing). */
export async function shopTimeZone(db: Queryable, shop: string): Promise<string> {
  const result = await db.query<{ timezone: string }>(`SELECT timezone FROM "Shop" WHERE domain = $1`, [shop]);
  return result.rows[0]?.timezone ?? "UTC";
}

/** Today's day index in the shop's time zone. */
export function todayInZone(timeZone: string, now = new Date()): number {
  try {
    return dayIndexInZone(now, timeZone);
  } catch {
    return dayIndexInZone(now, "UTC");
  }
}

/**
 * The context a live recompute scores with: the stored fit (model, cut points,
 * thresholds, rules) as of `asOfDay`. A shop never fitted scores without predictions,
 * RFM scores or behaviours until its first refit.
 */
export function scoringContextOf(fit: StoredFit | null, asOfDay: number): ScoringContext {
  if (!fit) return { asOfDay, model: null, cuts: null, rules: DEFAULT_SEGMENT_RULES, thresholds: null };
  return {
    asOfDay,
    model: fit.model ? restoreShopModel(fit.model) : null,
    cuts: fit.rfmCuts,
    rules: fit.segmentRules.length > 0 ? fit.segmentRules : DEFAULT_SEGMENT_RULES,
    thresholds: fit.behaviourThresholds,
  };
}
