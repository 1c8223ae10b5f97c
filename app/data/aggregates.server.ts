import { type SegmentCount } from "~/analytics/segment-tally";
import { dayToIso } from "~/analytics/dates";
import { type Queryable } from "~/db/pg.server";
import { AGGREGATE_KIND, type BacktestAggregate, type RetentionAggregate } from "./aggregates";

// The shop aggregates the pages read (ShopAggregate, shapes in ./aggregates.ts) and the
// daily segment counts (SegmentDailyCount) they compare with, as the refit writes them;
// and the segment history and movements it reads back to build them.

/** Replaces the shop's segment counts of `day` (a second refit in a day rewrites them). Run in one transaction. */
export async function replaceDailyCounts(db: Queryable, shop: string, day: number, counts: readonly SegmentCount[]): Promise<void> {
  await db.query(`DELETE FROM "SegmentDailyCount" WHERE shop = $1 AND day = $2::date`, [shop, dayToIso(day)]);
  await db.query(
    `INSERT INTO "SegmentDailyCount" (shop, day, kind, segment, customers, "netSpentMinor", "predictedClvMinor")
     SELECT $1, $2::date, kind, segment, customers, net, clv
     FROM unnest($3::text[], $4::text[], $5::int[], $6::bigint[], $7::bigint[]) AS t(kind, segment, customers, net, clv)`,
    [
      shop,
      dayToIso(day),
      counts.map((c) => c.kind),
      counts.map((c) => c.key),
      counts.map((c) => c.customers),
      counts.map((c) => c.netSpentMinor),
      counts.map((c) => (c.predictedClvMinor === null ? null : Math.round(c.predictedClvMinor))),
    ],
  );
}

/** The shop's daily segment counts on these days (day indexes). */
export async function dailyCountsOn(db: Queryable, shop: string, days: readonly number[]) {
  const history = await db.query<{ day: number; kind: string; segment: string; customers: number; clv: bigint | string | null }>(
    `SELECT day - DATE '1970-01-01' AS day, kind, segment, customers, "predictedClvMinor" AS clv FROM "SegmentDailyCount"
     WHERE shop = $1 AND day = ANY($2::date[])`,
    [shop, days.map(dayToIso)],
  );
  return history.rows;
}

/** Customers per (from, to) segment move since `since`, most first. */
export async function segmentMovesSince(db: Queryable, shop: string, since: Date) {
  const moved = await db.query<{ from: string | null; to: string | null; customers: number }>(
    `SELECT "fromSegment" AS from, "toSegment" AS to, count(*)::int AS customers FROM "SegmentTransition"
     WHERE shop = $1 AND at > $2::timestamp GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2`,
    [shop, since.toISOString()],
  );
  return moved.rows;
}

/**
 * Writes the shop's aggregates (kind -> data): rows of retention filter values no longer
 * among `keepFilterKinds` go, the rest are replaced. Run in one transaction.
 */
export async function replaceShopAggregates(
  db: Queryable,
  shop: string,
  stamp: { asOfDay: number; modelVersion: number | null; computedAt: Date },
  rows: readonly [kind: string, data: unknown][],
  keepFilterKinds: readonly string[],
): Promise<void> {
  await db.query(`DELETE FROM "ShopAggregate" WHERE shop = $1 AND kind LIKE 'retention:%' AND NOT (kind = ANY($2::text[]))`, [shop, keepFilterKinds]);
  await db.query(
    `INSERT INTO "ShopAggregate" (shop, kind, "asOfDay", "modelVersion", data, "computedAt")
     SELECT $1, kind, $2, $3, data, $4::timestamp FROM unnest($5::text[], $6::jsonb[]) AS t(kind, data)
     ON CONFLICT (shop, kind) DO UPDATE SET "asOfDay" = EXCLUDED."asOfDay", "modelVersion" = EXCLUDED."modelVersion",
       data = EXCLUDED.data, "computedAt" = EXCLUDED."computedAt"`,
    [shop, stamp.asOfDay, stamp.modelVersion, stamp.computedAt.toISOString(), rows.map(([kind]) => kind), rows.map(([, value]) => JSON.stringify(value))],
  );
}

/** Removes the shop's daily counts and aggregates (a redacted shop). */
export async function deleteShopAggregates(db: Queryable, shop: string): Promise<void> {
  for (const table of ["SegmentDailyCount", "ShopAggregate"]) await db.query(`DELETE FROM "${table}" WHERE shop = $1`, [shop]);
}

// ------------------------------------------------------------------ the pages' reads

/** The shop's aggregates of the given kinds (primary key reads), by kind. */
export async function loadAggregates(db: Queryable, shop: string, kinds: readonly string[]) {
  const result = await db.query<{ kind: string; data: unknown; computedAt: Date }>(
    `SELECT kind, data, "computedAt" FROM "ShopAggregate" WHERE shop = $1 AND kind = ANY($2::text[])`,
    [shop, kinds],
  );
  return new Map(result.rows.map((row) => [row.kind, row]));
}

/**
 * The customer table's rows as the last refit counted them, and the day of that refit; null
 * before the first refit or in a row written before the count was kept. One primary-key
 * read of two fields, however large the shop.
 */
export async function readTableCustomers(db: Queryable, shop: string): Promise<{ customers: number; asOfIso: string } | null> {
  const result = await db.query<{ customers: number | null; asOfIso: string | null }>(
    `SELECT (data->>'tableCustomers')::int AS customers, data->>'asOfIso' AS "asOfIso" FROM "ShopAggregate" WHERE shop = $1 AND kind = $2`,
    [shop, AGGREGATE_KIND.segments],
  );
  const row = result.rows[0];
  return row && row.customers !== null && row.asOfIso !== null ? { customers: row.customers, asOfIso: row.asOfIso } : null;
}

/**
 * Customers of one behavioural segment as the refit's segments row counted them (the customer
 * table's count of a view too large to count live), or null without that row.
 */
export async function readBehaviourCustomers(db: Queryable, shop: string, behaviour: string): Promise<{ customers: number; asOfIso: string } | null> {
  const result = await db.query<{ customers: number; asOfIso: string }>(
    `SELECT (r->>'customers')::int AS customers, s.data->>'asOfIso' AS "asOfIso"
     FROM "ShopAggregate" AS s, jsonb_array_elements(s.data->'rows') AS r
     WHERE s.shop = $1 AND s.kind = $2 AND r->>'kind' = 'behaviour' AND r->>'key' = $3`,
    [shop, AGGREGATE_KIND.segments, behaviour],
  );
  const row = result.rows[0];
  return row && row.customers !== null && row.asOfIso !== null ? row : null;
}

/**
 * Customers of one acquisition drivers row as the refit counted them: the row whose filter value
 * is `filterValue` ("" for none), or for the month of the first order the row named `label`.
 * Null without that row ("Other" has no filter value).
 */
export async function readDriverRowCustomers(
  db: Queryable,
  shop: string,
  dimension: string,
  match: { filterValue: string } | { label: string },
): Promise<{ customers: number; asOfIso: string } | null> {
  const byLabel = "label" in match;
  const result = await db.query<{ customers: number; asOfIso: string }>(
    `SELECT (r->>'customers')::int AS customers, s.data->>'asOfIso' AS "asOfIso"
     FROM "ShopAggregate" AS s, jsonb_array_elements(s.data->'tables') AS t, jsonb_array_elements(t->'rows') AS r
     WHERE s.shop = $1 AND s.kind = $2 AND t->>'key' = $3 AND r->>'${byLabel ? "label" : "filterValue"}' = $4 AND r->>'kind' <> 'other'`,
    [shop, AGGREGATE_KIND.drivers, dimension, byLabel ? match.label : match.filterValue],
  );
  const row = result.rows[0];
  return row && row.customers !== null && row.asOfIso !== null ? row : null;
}

/**
 * The cohorts page's retention rows: `wantedKind` in full, and of the whole-shop row only its
 * filter list and currency (it can be large).
 */
export async function readRetentionRows(db: Queryable, shop: string, wantedKind: string) {
  const result = await db.query<{ kind: string; computedAt: Date; data: Partial<RetentionAggregate> }>(
    `SELECT kind, "computedAt",
              CASE WHEN kind = $2 THEN data ELSE jsonb_build_object('filters', data->'filters', 'currency', data->'currency') END AS data
       FROM "ShopAggregate" WHERE shop = $1 AND kind IN ($2, $3)`,
    [shop, wantedKind, AGGREGATE_KIND.retention],
  );
  return result.rows;
}

/** The whole-shop retention row in full, or undefined before the first refit. */
export async function readWholeShopRetention(db: Queryable, shop: string) {
  const result = await db.query<{ kind: string; computedAt: Date; data: Partial<RetentionAggregate> }>(
    `SELECT kind, "computedAt", data FROM "ShopAggregate" WHERE shop = $1 AND kind = $2`,
    [shop, AGGREGATE_KIND.retention],
  );
  return result.rows[0];
}

/** The backtest aggregate, or undefined before the first refit. */
export async function readBacktestAggregate(db: Queryable, shop: string): Promise<BacktestAggregate | undefined> {
  const result = await db.query<{ data: BacktestAggregate }>(`SELECT data FROM "ShopAggregate" WHERE shop = $1 AND kind = $2`, [shop, AGGREGATE_KIND.backtest]);
  return result.rows[0]?.data;
}
