import { type Queryable } from "~/db/pg.server";
import { excludedBySettingsSql } from "./counted-orders.server";
import { type AcquiredDimension, type Cursor, type CustomerListFilters, type CustomerListQuery, SORT_COLUMNS, type SortKey } from "./customer-table";

// Reads of CustomerMetrics for the pages: the customer table's keyset pages (the query's
// shape in customer-table.ts) and one customer's row. The workers' reads and writes are in
// customer-metrics.server.ts.
//
// The table pages by keyset (cursor), never by OFFSET: a page is "the next N rows after
// this (sort value, customer id)", so page 20,000 of a million customers costs what page 1
// costs, and rows inserted meanwhile do not shift what "next" means. Every query starts
// with `shop = $1` and its sort column has a (shop, column) index; ties are broken by the
// customer id so the order is total and no row is skipped or repeated across pages.
// Nullable sort columns (no prediction yet, no order) put their nulls last in both
// directions: the non-null rows come from the column's index, the null rows after them
// from a second query ordered by customer id.

interface SortSql {
  sql: string;
  /** CustomerMetrics has an index on (shop, segment, column, customerId). */
  segmentIndex: boolean;
}

const SORT_SQL: Readonly<Record<SortKey, SortSql>> = {
  netSpent: { sql: `cm."netSpentMinor"`, segmentIndex: true },
  predictedClv: { sql: `cm."predictedClvMinor"`, segmentIndex: true },
  chance90d: { sql: `cm."chanceOfOrder90d"`, segmentIndex: false },
  lastOrder: { sql: `cm."lastOrderDay"`, segmentIndex: false },
  orders: { sql: `cm.orders`, segmentIndex: false },
  grossProfit: { sql: `cm."grossProfitMinor"`, segmentIndex: false },
};

/**
 * Segments up to this size are sorted whole (a top-N sort) when the sort has no (shop,
 * segment, column) index; larger ones walk the shop-wide index, where the segment's
 * customers are common enough to come soon. Three more segment indexes would avoid the
 * choice but slow every large refit (ADR 0008).
 */
const SORT_WHOLE_SEGMENT_MAX = 100_000;

/** A customer table row as read: CustomerMetrics with the Customer's name and email. */
export interface MetricsListRow {
  customerId: bigint;
  orders: number;
  netSpentMinor: bigint;
  /** Gross profit to date (issue 17): net sales − cost of goods, uncosted sales at the fallback margin. */
  grossProfitMinor: bigint;
  predictedClvMinor: bigint | null;
  chanceOfOrder90d: number | null;
  lastOrderDay: Date | null;
  expectedNextOrderDay: Date | null;
  segment: string | null;
  behaviours: string[];
  firstName: string | null;
  lastName: string | null;
  email: string | null;
}

const LIST_COLUMNS = `cm."customerId", cm.orders, cm."netSpentMinor", cm."grossProfitMinor", cm."predictedClvMinor", cm."chanceOfOrder90d", cm."lastOrderDay",
  cm."expectedNextOrderDay", cm.segment, cm.behaviours, c."firstName", c."lastName", c.email`;

/**
 * A search's matching customers, found once per read on Customer's prefix indexes
 * (migration 20261206150100_customer_search): their ids when there are at most
 * SEARCH_IDS_MAX, so the table reads and counts just those rows; else only the pattern,
 * tested on each row the sort index yields (with that many matches, a page's worth comes
 * within a few thousand rows). Reading every match of a common prefix ("jo": 37,000 of a
 * million customers) to sort or count them made a page slower than the pages target.
 */
export type ResolvedSearch = { ids: string[] } | { pattern: string } | null;

/** Above this many matches a search is tested row by row along the sort order, and the view's count reads "more than 10,000". */
const SEARCH_IDS_MAX = 10_000;

/** A search's matches (see ResolvedSearch): read once per page load and passed to both the rows' read and the count. */
export async function resolveSearch(db: Queryable, shop: string, search: string | null | undefined): Promise<ResolvedSearch> {
  const pattern = searchPattern(search);
  if (!pattern) return null;
  const result = await db.query<{ id: string }>(
    `SELECT s.id::text AS id FROM "Customer" AS s WHERE s.shop = $1 AND ${customerMatches("s", "$2")} LIMIT ${SEARCH_IDS_MAX + 1}`,
    [shop, pattern],
  );
  return result.rows.length > SEARCH_IDS_MAX ? { pattern } : { ids: result.rows.map((row) => row.id) };
}

/** The search test on a Customer row `alias`: each arm is one of the prefix indexes' expressions. */
const customerMatches = (alias: string, pattern: string) =>
  `(lower(${alias}.email) LIKE ${pattern} OR lower(${alias}."lastName") LIKE ${pattern}
    OR lower(coalesce(${alias}."firstName", '') || ' ' || coalesce(${alias}."lastName", '')) LIKE ${pattern})`;

/** SQL conditions for the filters, appended to `params`; a search's test reads Customer as `c` (also the export's, customer-export.server.ts). */
export function filterSql(filters: CustomerListFilters, search: ResolvedSearch, params: unknown[]): string {
  const parts: string[] = [];
  if (filters.segment) {
    params.push(filters.segment);
    parts.push(`cm.segment = $${params.length}`);
  }
  if (filters.behaviour) {
    params.push([filters.behaviour]);
    parts.push(`cm.behaviours @> $${params.length}::text[]`);
  }
  if (filters.minPredictedClvMinor != null) {
    params.push(String(filters.minPredictedClvMinor));
    parts.push(`cm."predictedClvMinor" >= $${params.length}::bigint`);
  }
  if (filters.chanceMin != null) {
    params.push(filters.chanceMin);
    parts.push(`cm."chanceOfOrder90d" >= $${params.length}::float8`);
  }
  if (filters.chanceMax != null) {
    params.push(filters.chanceMax);
    parts.push(`cm."chanceOfOrder90d" <= $${params.length}::float8`);
  }
  if (filters.nextOrderFrom) {
    params.push(filters.nextOrderFrom);
    parts.push(`cm."expectedNextOrderDay" >= $${params.length}::date`);
  }
  if (filters.nextOrderTo) {
    params.push(filters.nextOrderTo);
    parts.push(`cm."expectedNextOrderDay" <= $${params.length}::date`);
  }
  if (filters.acquired) parts.push(acquiredSql(filters.acquired, params));
  if (search && "ids" in search) {
    params.push(search.ids);
    parts.push(`cm."customerId" = ANY($${params.length}::bigint[])`);
  } else if (search) {
    params.push(search.pattern);
    parts.push(customerMatches("c", `$${params.length}`));
  }
  return parts.map((part) => ` AND ${part}`).join("");
}

/** The first order's value of each acquisition dimension, over the order `o` (as countedOrdersSql reads them). */
const FIRST_ORDER_VALUE: Readonly<Record<Exclude<AcquiredDimension, "firstOrderMonth">, string>> = {
  firstProduct: `o."firstProductTitle"`,
  discountCode: `(array_remove(o."discountCodes", ''))[1]`,
  channel: `o."sourceName"`,
  marketingSource: `o."marketingSource"`,
};

/** One of the shop's ShopSettings exclusions (an empty list without a settings row), read once per statement: shop is always $1. */
const shopExclusion = (column: "excludedOrderTags" | "excludedSourceNames" | "excludedCustomerTags") =>
  `COALESCE((SELECT ss."${column}" FROM "ShopSettings" AS ss WHERE ss.shop = $1), '{}')`;

/**
 * Customers whose first order had the value ("" for none): the customer's earliest counted
 * order, as the refit's drivers read it (countedOrdersSql: not a test order, none of
 * Settings' excluded order tags or channels, not a customer with an excluded tag, whose
 * orders never count), one index probe per customer ("Order" by shop and customer). The
 * month of the first order is the metrics row's own first-order day, counted alike.
 */
function acquiredSql(acquired: NonNullable<CustomerListFilters["acquired"]>, params: unknown[]): string {
  params.push(acquired.value);
  const value = `$${params.length}`;
  if (acquired.dimension === "firstOrderMonth") return `EXTRACT(MONTH FROM cm."firstOrderDay") = ${value}::int`;
  const excluded = excludedBySettingsSql(shopExclusion("excludedOrderTags"), shopExclusion("excludedSourceNames"), shopExclusion("excludedCustomerTags"));
  return `EXISTS (SELECT 1 FROM (SELECT ${FIRST_ORDER_VALUE[acquired.dimension]} AS v FROM "Order" AS o
      WHERE o.shop = cm.shop AND o."customerId" = cm."customerId" AND NOT o.test AND NOT ${excluded}
      ORDER BY o."processedAt", o.id LIMIT 1) AS first
    WHERE COALESCE(first.v, '') = ${value}::text)`;
}

/** A prefix LIKE pattern of the search text (its own % and _ taken literally), or null without one. */
export function searchPattern(search: string | null | undefined): string | null {
  const text = search?.trim().toLowerCase();
  if (!text) return null;
  return `${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

type Region = "values" | "nulls";

/**
 * One region of the total order, read in `scan` order ("forward": the table's order,
 * "backward": its reverse), starting strictly past `from` when given, at most `limit` rows.
 */
async function readRegion(
  db: Queryable,
  shop: string,
  query: CustomerListQuery,
  region: Region,
  scan: "forward" | "backward",
  from: Cursor | null,
  limit: number,
  sortWholeSegment: boolean,
  search: ResolvedSearch,
): Promise<MetricsListRow[]> {
  const column = { ...SORT_COLUMNS[query.sort], ...SORT_SQL[query.sort] };
  const params: unknown[] = [shop];
  const conditions: string[] = [];
  // The direction rows are read in: the table's direction, or its reverse for a previous page.
  const ascending = (query.direction === "asc") === (scan === "forward");
  const cmp = ascending ? ">" : "<";
  const order = ascending ? "ASC" : "DESC";
  if (region === "values") {
    if (column.nullable) conditions.push(`${column.sql} IS NOT NULL`);
    if (from && from.value !== null) {
      params.push(from.value, from.id);
      const v = `$${params.length - 1}::${column.cast}`;
      const id = `$${params.length}::bigint`;
      // A row comparison: an index on (shop, column, customerId) seeks straight to it, and one on
      // (shop, column) still bounds the scan by the column.
      conditions.push(`(${column.sql}, cm."customerId") ${cmp} (${v}, ${id})`);
    }
  } else {
    conditions.push(`${column.sql} IS NULL`);
    if (from && from.value === null) {
      params.push(from.id);
      conditions.push(`cm."customerId" ${cmp} $${params.length}::bigint`);
    }
  }
  const filters = filterSql(query, search, params);
  params.push(limit);
  // Sorting by an expression keeps the planner off the shop-wide index (see SORT_WHOLE_SEGMENT_MAX).
  const sortKey = sortWholeSegment ? `(${column.sql} + 0)` : column.sql;
  const orderBy = region === "values" ? `${sortKey} ${order}, cm."customerId" ${order}` : `cm."customerId" ${order}`;
  const result = await db.query<MetricsListRow>(
    `SELECT ${LIST_COLUMNS}
     FROM "CustomerMetrics" AS cm
     LEFT JOIN "Customer" AS c ON c.shop = cm.shop AND c.id = cm."customerId"
     WHERE cm.shop = $1 AND ${conditions.join(" AND ") || "TRUE"}${filters}
     ORDER BY ${orderBy}
     LIMIT $${params.length}`,
    params,
  );
  return result.rows;
}

/**
 * A segment filter on a sort without a segment index, and a segment small enough to sort
 * whole. Counted here, at most SORT_WHOLE_SEGMENT_MAX + 1 entries of the (shop, segment, ...)
 * index (cheap; ADR 0008), rather than read from the refit's segments row, which live
 * changes outdate.
 */
async function shouldSortWholeSegment(db: Queryable, shop: string, query: CustomerListQuery, search: ResolvedSearch): Promise<boolean> {
  // A search's few matches come from Customer's indexes: sorting them is cheaper than walking a sort index to find them.
  if (search && "ids" in search) return true;
  if (!query.segment || SORT_SQL[query.sort].segmentIndex) return false;
  const result = await db.query<{ customers: number }>(
    `SELECT count(*)::int AS customers FROM (
       SELECT 1 FROM "CustomerMetrics" WHERE shop = $1 AND segment = $2 LIMIT ${SORT_WHOLE_SEGMENT_MAX + 1}
     ) AS members`,
    [shop, query.segment],
  );
  return result.rows[0].customers <= SORT_WHOLE_SEGMENT_MAX;
}

/**
 * Up to `limit` rows of the filtered table in `scan` order past `from` (null: from the start
 * of that scan), crossing from one region (non-null sort values, nulls) to the next.
 */
export async function readCustomerTableRows(
  db: Queryable,
  shop: string,
  query: CustomerListQuery,
  scan: "forward" | "backward",
  from: Cursor | null,
  limit: number,
  search: ResolvedSearch,
): Promise<MetricsListRow[]> {
  const sortWholeSegment = await shouldSortWholeSegment(db, shop, query, search);
  const nullable = SORT_COLUMNS[query.sort].nullable;
  // Forward: values, then nulls. Backward: nulls, then values.
  const regions: Region[] = !nullable ? ["values"] : scan === "forward" ? ["values", "nulls"] : ["nulls", "values"];
  const fromRegion: Region | null = from === null ? null : from.value === null ? "nulls" : "values";
  const rows: MetricsListRow[] = [];
  let started = fromRegion === null;
  for (const region of regions) {
    if (!started && region !== fromRegion) continue;
    const startsHere = !started && region === fromRegion;
    started = true;
    rows.push(...(await readRegion(db, shop, query, region, scan, startsHere ? from : null, limit - rows.length, sortWholeSegment, search)));
    if (rows.length >= limit) break;
  }
  return rows;
}

/**
 * Customers in the filtered table, counted up to `cap` (null: more than that), so a filtered
 * view's count costs at most `cap` index entries however large the shop.
 */
export async function countCustomerTableRows(
  db: Queryable,
  shop: string,
  filters: CustomerListFilters,
  cap: number,
  search: ResolvedSearch,
): Promise<number | null> {
  const params: unknown[] = [shop];
  const conditions = filterSql(filters, search, params);
  // More than SEARCH_IDS_MAX customers match the search alone; only other filters can bring that under the cap.
  const otherFilters = filterSql({ ...filters, search: null }, null, []) !== "";
  if (search && "pattern" in search && cap <= SEARCH_IDS_MAX && !otherFilters) return null;
  params.push(cap + 1);
  const result = await db.query<{ customers: number }>(
    `SELECT count(*)::int AS customers FROM (
       SELECT 1 FROM "CustomerMetrics" AS cm
       ${search && "pattern" in search ? `JOIN "Customer" AS c ON c.shop = cm.shop AND c.id = cm."customerId"` : ""}
       WHERE cm.shop = $1${conditions} LIMIT $${params.length}
     ) AS matching`,
    params,
  );
  const customers = result.rows[0].customers;
  return customers > cap ? null : customers;
}

/**
 * Every row of the shop's customer table, uncounted by any cap: for the refit, which stores
 * it with the aggregates (pages read that, not this; it costs one index entry per customer).
 */
export async function countAllCustomerTableRows(db: Queryable, shop: string): Promise<number> {
  const result = await db.query<{ customers: number }>(`SELECT count(*)::int AS customers FROM "CustomerMetrics" WHERE shop = $1`, [shop]);
  return result.rows[0].customers;
}

/** One customer's CustomerMetrics row as stored. */
export interface CustomerMetricsRow {
  orders: number;
  netSpentMinor: bigint;
  /** Gross profit to date and the net sales in it without a known cost (issue 17). */
  grossProfitMinor: bigint;
  uncostedSalesMinor: bigint;
  aovMinor: bigint | null;
  discountedOrders: number;
  firstOrderDay: Date | null;
  lastOrderDay: Date | null;
  recencyDays: number | null;
  rScore: number | null;
  fScore: number | null;
  mScore: number | null;
  segment: string | null;
  behaviours: string[];
  pAlive: number | null;
  chanceOfOrder90d: number | null;
  chanceOfOrder365d: number | null;
  expectedPurchases90d: number | null;
  expectedPurchases365d: number | null;
  expectedOrderValueMinor: bigint | null;
  predictedClvMinor: bigint | null;
  expectedNextOrderDay: Date | null;
  asOfDay: number;
  computedAt: Date;
}

/** The customer's metrics row, or undefined (not scored yet, or no such customer). `id`: decimal text. */
export async function readCustomerMetricsRow(db: Queryable, shop: string, id: string): Promise<CustomerMetricsRow | undefined> {
  const result = await db.query<CustomerMetricsRow>(`SELECT * FROM "CustomerMetrics" WHERE shop = $1 AND "customerId" = $2::bigint`, [shop, id]);
  return result.rows[0];
}
