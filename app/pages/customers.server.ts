import { BEHAVIOURAL_SEGMENT_KEYS } from "~/analytics/behaviour";
import { type ShopModelAssumptions, type ShopModelJson, restoreShopModel } from "~/analytics/clv/shop-model";
import { customerFactsFromOrders, type CustomerOrderFact } from "~/analytics/customer-metrics";
import { dayToIso } from "~/analytics/dates";
import { MoneyFormatError, toMinorUnits } from "~/analytics/money";
import { customerName } from "~/display/format";
import { segmentKindOf, segmentName } from "~/display/segment-names";
import { COUNTED_ORDERS_SQL, countedOrdersParams, loadMetricsSettings } from "~/data/settings.server";
import { type Queryable } from "~/db/pg.server";

// The customer table (all customers, or one segment's) and one customer's page. Reads
// CustomerMetrics rows the workers wrote; never aggregates over the shop's orders.
//
// The table pages by keyset (cursor), never by OFFSET: a page is "the next N rows after
// this (sort value, customer id)", so page 20,000 of a million customers costs what page 1
// costs, and rows inserted meanwhile do not shift what "next" means. Every query starts
// with `shop = $1` and its sort column has a (shop, column) index; ties are broken by the
// customer id so the order is total and no row is skipped or repeated across pages.
// Nullable sort columns (no prediction yet, no order) put their nulls last in both
// directions: the non-null rows come from the column's index, the null rows after them
// from a second query ordered by customer id.

export const SORT_KEYS = ["netSpent", "predictedClv", "pAlive", "lastOrder", "orders"] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export type SortDirection = "asc" | "desc";

interface SortColumn {
  sql: string;
  /** SQL type the cursor value is cast to. */
  cast: "bigint" | "float8" | "date" | "int";
  nullable: boolean;
  label: string;
  /** CustomerMetrics has an index on (shop, segment, column, customerId). */
  segmentIndex: boolean;
}

/**
 * Segments up to this size are sorted whole (a top-N sort: ~100 ms at this size) when the
 * sort has no (shop, segment, column) index; larger ones walk the shop-wide index, where the
 * segment's customers are common enough to come soon. Three more segment indexes would
 * avoid the choice but cost the refit ~27 s per million customers (bench/refit.bench.ts).
 */
const SORT_WHOLE_SEGMENT_MAX = 100_000;

export const SORT_COLUMNS: Readonly<Record<SortKey, SortColumn>> = {
  netSpent: { sql: `cm."netSpentMinor"`, cast: "bigint", nullable: false, label: "Net spent", segmentIndex: true },
  predictedClv: { sql: `cm."predictedClvMinor"`, cast: "bigint", nullable: true, label: "Predicted CLV", segmentIndex: true },
  pAlive: { sql: `cm."pAlive"`, cast: "float8", nullable: true, label: "P(alive)", segmentIndex: false },
  lastOrder: { sql: `cm."lastOrderDay"`, cast: "date", nullable: true, label: "Last order", segmentIndex: false },
  orders: { sql: `cm.orders`, cast: "int", nullable: false, label: "Orders", segmentIndex: false },
};

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 250;

/** Where a page starts: the sort value and customer id of the row just before (after) or just after (before) it. */
export interface Cursor {
  sort: SortKey;
  direction: SortDirection;
  /** bigint and date values as text (exact), floats and ints as numbers; null: the row had no value. */
  value: string | number | null;
  id: string;
}

export interface CustomerListFilters {
  /** RFM segment key. */
  segment?: string | null;
  /** Behavioural segment key. */
  behaviour?: string | null;
  minPredictedClvMinor?: number | null;
  /** 0..1, inclusive. */
  pAliveMin?: number | null;
  pAliveMax?: number | null;
}

export interface CustomerListQuery extends CustomerListFilters {
  sort: SortKey;
  direction: SortDirection;
  /** Rows after this cursor (next page) ... */
  after?: Cursor | null;
  /** ... or before it (previous page). At most one of the two. */
  before?: Cursor | null;
  pageSize?: number;
}

export interface CustomerListRow {
  id: string;
  name: string;
  email: string | null;
  segment: string | null;
  segmentName: string;
  behaviours: string[];
  orders: number;
  netSpentMinor: number;
  predictedClvMinor: number | null;
  pAlive: number | null;
  lastOrderIso: string | null;
  expectedNextOrderIso: string | null;
}

export interface CustomerPage {
  rows: CustomerListRow[];
  /** Cursor of the next page (encoded for a URL), null on the last page. */
  next: string | null;
  /** Cursor of the previous page, null on the first page. */
  previous: string | null;
}

// ---------------------------------------------------------------- cursors and URL parameters

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.sort, cursor.direction, cursor.value, cursor.id]), "utf8").toString("base64url");
}

/** The cursor in a URL, or null when it is not one of ours (garbled, edited by hand). */
export function decodeCursor(text: string): Cursor | null {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
    if (!Array.isArray(parsed) || parsed.length !== 4) return null;
    const [sort, direction, value, id] = parsed as unknown[];
    if (!(SORT_KEYS as readonly unknown[]).includes(sort)) return null;
    if (direction !== "asc" && direction !== "desc") return null;
    if (typeof id !== "string" || !/^\d{1,19}$/.test(id)) return null;
    const column = SORT_COLUMNS[sort as SortKey];
    if (value === null) return column.nullable ? { sort: sort as SortKey, direction, value, id } : null;
    const ok =
      column.cast === "bigint"
        ? typeof value === "string" && /^-?\d{1,19}$/.test(value)
        : column.cast === "date"
          ? typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value)
          : column.cast === "int"
            ? Number.isInteger(value)
            : typeof value === "number" && Number.isFinite(value);
    return ok ? { sort: sort as SortKey, direction, value: value as string | number, id } : null;
  } catch {
    return null;
  }
}

export interface ParsedListParams {
  query: CustomerListQuery;
  /** What was wrong with the URL, in words the page shows; the rest of the query still applies. */
  problems: string[];
}

/**
 * The table's state from URL search parameters (so a page is linkable):
 * sort, dir, after|before (cursor), segment, behaviour, minClv (major units of the shop
 * currency, e.g. "25.50"), pAliveMin and pAliveMax (percent, 0-100).
 * Anything invalid is dropped with a problem the page shows, never a server error.
 */
export function parseListParams(params: URLSearchParams, currency: string, defaults: { sort?: SortKey } = {}): ParsedListParams {
  const problems: string[] = [];
  const sortParam = params.get("sort");
  let sort: SortKey = defaults.sort ?? "netSpent";
  if (sortParam) {
    if ((SORT_KEYS as readonly string[]).includes(sortParam)) sort = sortParam as SortKey;
    else problems.push(`Unknown sort "${sortParam}": sorted by ${SORT_COLUMNS[sort].label.toLowerCase()} instead.`);
  }
  const dirParam = params.get("dir");
  let direction: SortDirection = "desc";
  if (dirParam === "asc" || dirParam === "desc") direction = dirParam;
  else if (dirParam) problems.push(`Unknown direction "${dirParam}": use asc or desc.`);

  const query: CustomerListQuery = { sort, direction };
  for (const name of ["after", "before"] as const) {
    const text = params.get(name);
    if (!text) continue;
    const cursor = decodeCursor(text);
    if (!cursor || cursor.sort !== sort || cursor.direction !== direction) {
      problems.push("That page link is out of date, so the table starts again from the first page.");
    } else if (query.after || query.before) {
      problems.push("A page link can go forward or back, not both: showing the first page.");
      query.after = query.before = null;
      break;
    } else {
      query[name] = cursor;
    }
  }

  const segment = params.get("segment");
  if (segment) {
    if (segmentKindOf(segment) === "rfm") query.segment = segment;
    else problems.push(`There is no RFM segment "${segment}"; the segment filter was left out.`);
  }
  const behaviour = params.get("behaviour");
  if (behaviour) {
    if ((BEHAVIOURAL_SEGMENT_KEYS as readonly string[]).includes(behaviour)) query.behaviour = behaviour;
    else problems.push(`There is no behavioural segment "${behaviour}"; that filter was left out.`);
  }
  const minClv = params.get("minClv")?.trim();
  if (minClv) {
    try {
      query.minPredictedClvMinor = toMinorUnits(minClv, currency);
    } catch (error) {
      const why = error instanceof MoneyFormatError ? error.message : String(error);
      problems.push(`Minimum predicted CLV: ${why}. Enter an amount such as 25 or 25.50.`);
    }
  }
  for (const [name, key] of [
    ["pAliveMin", "pAliveMin"],
    ["pAliveMax", "pAliveMax"],
  ] as const) {
    const text = params.get(name)?.trim();
    if (!text) continue;
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0 || value > 100) {
      problems.push(`P(alive) ${name === "pAliveMin" ? "from" : "to"} must be a percentage from 0 to 100 (got "${text}").`);
    } else {
      query[key] = value / 100;
    }
  }
  if (query.pAliveMin != null && query.pAliveMax != null && query.pAliveMin > query.pAliveMax) {
    problems.push("P(alive) from is above P(alive) to, so no customer can match: swap them.");
  }
  const pageSize = Number(params.get("pageSize") ?? DEFAULT_PAGE_SIZE);
  query.pageSize = Number.isInteger(pageSize) && pageSize >= 1 && pageSize <= MAX_PAGE_SIZE ? pageSize : DEFAULT_PAGE_SIZE;
  return { query, problems };
}

// ---------------------------------------------------------------- the table

interface MetricsListRow {
  customerId: bigint;
  orders: number;
  netSpentMinor: bigint;
  predictedClvMinor: bigint | null;
  pAlive: number | null;
  lastOrderDay: Date | null;
  expectedNextOrderDay: Date | null;
  segment: string | null;
  behaviours: string[];
  firstName: string | null;
  lastName: string | null;
  email: string | null;
}

const LIST_COLUMNS = `cm."customerId", cm.orders, cm."netSpentMinor", cm."predictedClvMinor", cm."pAlive", cm."lastOrderDay",
  cm."expectedNextOrderDay", cm.segment, cm.behaviours, c."firstName", c."lastName", c.email`;

const isoOfDate = (date: Date | null) => (date ? date.toISOString().slice(0, 10) : null);

function sortValueOf(row: MetricsListRow, sort: SortKey): string | number | null {
  switch (sort) {
    case "netSpent":
      return row.netSpentMinor.toString();
    case "predictedClv":
      return row.predictedClvMinor === null ? null : row.predictedClvMinor.toString();
    case "pAlive":
      return row.pAlive;
    case "lastOrder":
      return isoOfDate(row.lastOrderDay);
    case "orders":
      return row.orders;
  }
}

/** SQL conditions for the filters, appended to `params`. */
function filterSql(filters: CustomerListFilters, params: unknown[]): string {
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
  if (filters.pAliveMin != null) {
    params.push(filters.pAliveMin);
    parts.push(`cm."pAlive" >= $${params.length}::float8`);
  }
  if (filters.pAliveMax != null) {
    params.push(filters.pAliveMax);
    parts.push(`cm."pAlive" <= $${params.length}::float8`);
  }
  return parts.map((part) => ` AND ${part}`).join("");
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
): Promise<MetricsListRow[]> {
  const column = SORT_COLUMNS[query.sort];
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
  const filters = filterSql(query, params);
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
 * index (~10 ms), rather than read from the refit's segments row, which live changes outdate.
 */
async function shouldSortWholeSegment(db: Queryable, shop: string, query: CustomerListQuery): Promise<boolean> {
  if (!query.segment || SORT_COLUMNS[query.sort].segmentIndex) return false;
  const result = await db.query<{ customers: number }>(
    `SELECT count(*)::int AS customers FROM (
       SELECT 1 FROM "CustomerMetrics" WHERE shop = $1 AND segment = $2 LIMIT ${SORT_WHOLE_SEGMENT_MAX + 1}
     ) AS members`,
    [shop, query.segment],
  );
  return result.rows[0].customers <= SORT_WHOLE_SEGMENT_MAX;
}

/** Up to `limit` rows in `scan` order past `from` (null: from the start of that scan), crossing from one region to the next. */
async function readOrdered(
  db: Queryable,
  shop: string,
  query: CustomerListQuery,
  scan: "forward" | "backward",
  from: Cursor | null,
  limit: number,
): Promise<MetricsListRow[]> {
  const sortWholeSegment = await shouldSortWholeSegment(db, shop, query);
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
    rows.push(...(await readRegion(db, shop, query, region, scan, startsHere ? from : null, limit - rows.length, sortWholeSegment)));
    if (rows.length >= limit) break;
  }
  return rows;
}

function cursorOf(row: MetricsListRow, query: CustomerListQuery): string {
  return encodeCursor({ sort: query.sort, direction: query.direction, value: sortValueOf(row, query.sort), id: row.customerId.toString() });
}

function toListRow(row: MetricsListRow, labels: Readonly<Record<string, string>>): CustomerListRow {
  const id = row.customerId.toString();
  return {
    id,
    name: customerName({ id, firstName: row.firstName, lastName: row.lastName, email: row.email }),
    email: row.email,
    segment: row.segment,
    segmentName: segmentName(row.segment, labels),
    behaviours: row.behaviours ?? [],
    orders: row.orders,
    netSpentMinor: Number(row.netSpentMinor),
    predictedClvMinor: row.predictedClvMinor === null ? null : Number(row.predictedClvMinor),
    pAlive: row.pAlive,
    lastOrderIso: isoOfDate(row.lastOrderDay),
    expectedNextOrderIso: isoOfDate(row.expectedNextOrderDay),
  };
}

/** One page of the customer table, sorted, filtered and paged in PostgreSQL. */
export async function listCustomers(
  db: Queryable,
  shop: string,
  query: CustomerListQuery,
  labels: Readonly<Record<string, string>> = {},
): Promise<CustomerPage> {
  const pageSize = Math.min(Math.max(1, query.pageSize ?? DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE);
  if (query.after && query.before) throw new RangeError("a page is read after a cursor or before one, not both");
  if (query.pAliveMin != null && query.pAliveMax != null && query.pAliveMin > query.pAliveMax) return { rows: [], next: null, previous: null };
  for (const cursor of [query.after, query.before]) {
    if (cursor && (cursor.sort !== query.sort || cursor.direction !== query.direction)) {
      throw new RangeError("the cursor belongs to another sort order");
    }
  }
  if (query.before) {
    // Previous page: read backwards from the cursor, one extra row to know whether there is a page before.
    const read = await readOrdered(db, shop, query, "backward", query.before, pageSize + 1);
    const hasPrevious = read.length > pageSize;
    const rows = read.slice(0, pageSize).reverse();
    return {
      rows: rows.map((row) => toListRow(row, labels)),
      next: rows.length > 0 ? cursorOf(rows[rows.length - 1], query) : null,
      previous: hasPrevious && rows.length > 0 ? cursorOf(rows[0], query) : null,
    };
  }
  const read = await readOrdered(db, shop, query, "forward", query.after ?? null, pageSize + 1);
  const hasNext = read.length > pageSize;
  const rows = read.slice(0, pageSize);
  return {
    rows: rows.map((row) => toListRow(row, labels)),
    next: hasNext ? cursorOf(rows[rows.length - 1], query) : null,
    previous: query.after && rows.length > 0 ? cursorOf(rows[0], query) : null,
  };
}

/** Currency and segment labels for the table's page (one primary-key read). */
export async function customerTableContext(db: Queryable, shop: string) {
  const settings = await loadMetricsSettings(db, shop);
  return { currency: settings.currency, labels: settings.segmentLabels };
}

// ---------------------------------------------------------------- one customer

export const TIMELINE_ORDER_LIMIT = 100;
export const TRANSITION_LIMIT = 50;
/** Points of the P(alive) curve at most (weekly, or sparser for long histories). */
export const P_ALIVE_POINTS = 104;

export interface TimelineOrder {
  id: string;
  name: string | null;
  processedAtIso: string;
  netMinor: number;
  currentTotalMinor: number;
  test: boolean;
  cancelled: boolean;
  financialStatus: string | null;
  sourceName: string | null;
  discountCodes: string[];
  lineItemCount: number;
  firstProductTitle: string | null;
}

export interface CustomerDetail {
  id: string;
  name: string;
  email: string | null;
  currency: string;
  tags: string[];
  shopifyOrdersCount: number;
  metrics: {
    orders: number;
    netSpentMinor: number;
    aovMinor: number | null;
    discountedOrders: number;
    firstOrderIso: string | null;
    lastOrderIso: string | null;
    recencyDays: number | null;
    scores: { r: number; f: number; m: number } | null;
    segment: string | null;
    segmentName: string;
    behaviours: { key: string; name: string }[];
    pAlive: number | null;
    expectedPurchases90d: number | null;
    expectedPurchases365d: number | null;
    expectedOrderValueMinor: number | null;
    predictedClvMinor: number | null;
    expectedNextOrderIso: string | null;
    asOfIso: string;
    computedAtIso: string;
  } | null;
  orders: TimelineOrder[];
  /** Orders stored for the customer (the timeline shows the latest TIMELINE_ORDER_LIMIT). */
  storedOrders: number;
  transitions: { fromName: string; toName: string; from: string | null; to: string | null; atIso: string; source: string }[];
  /** P(alive) by day from the stored model; empty without a model or orders. */
  pAliveHistory: { dayIso: string; pAlive: number }[];
  prediction: {
    /** "ready" | "no-predictions" | "failed" | "none" (not fitted yet). */
    status: string;
    reason: string | null;
    modelName: string | null;
    assumptions: ShopModelAssumptions | null;
    fitAsOfIso: string | null;
  };
}

const CUSTOMER_ID = /^\d{1,19}$/;

/**
 * Everything the customer page shows, or null when the shop has no such customer (the
 * route answers 404): an id of another shop is simply not found under this shop.
 */
export async function loadCustomer(db: Queryable, shop: string, idText: string): Promise<CustomerDetail | null> {
  if (!CUSTOMER_ID.test(idText) || BigInt(idText) > 9223372036854775807n) return null;
  const id = idText;
  const [customerResult, metricsResult] = await Promise.all([
    db.query<{ firstName: string | null; lastName: string | null; email: string | null; tags: string[]; ordersCount: number }>(
      `SELECT "firstName", "lastName", email, tags, "ordersCount" FROM "Customer" WHERE shop = $1 AND id = $2::bigint`,
      [shop, id],
    ),
    db.query<{
      orders: number;
      netSpentMinor: bigint;
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
      expectedPurchases90d: number | null;
      expectedPurchases365d: number | null;
      expectedOrderValueMinor: bigint | null;
      predictedClvMinor: bigint | null;
      expectedNextOrderDay: Date | null;
      asOfDay: number;
      computedAt: Date;
    }>(`SELECT * FROM "CustomerMetrics" WHERE shop = $1 AND "customerId" = $2::bigint`, [shop, id]),
  ]);
  const customer = customerResult.rows[0];
  const m = metricsResult.rows[0];
  if (!customer && !m) return null;

  const settings = await loadMetricsSettings(db, shop);
  const [ordersResult, storedResult, transitionsResult, fitResult, countedResult] = await Promise.all([
    db.query<{
      id: bigint;
      name: string | null;
      processedAt: Date;
      netMinor: bigint;
      currentTotalMinor: bigint;
      test: boolean;
      cancelledAt: Date | null;
      financialStatus: string | null;
      sourceName: string | null;
      discountCodes: string[];
      lineItemCount: number;
      firstProductTitle: string | null;
    }>(
      `SELECT id, name, "processedAt", "netMinor", "currentTotalMinor", test, "cancelledAt", "financialStatus", "sourceName",
              "discountCodes", "lineItemCount", "firstProductTitle"
       FROM "Order" WHERE shop = $1 AND "customerId" = $2::bigint
       ORDER BY "processedAt" DESC, id DESC LIMIT ${TIMELINE_ORDER_LIMIT}`,
      [shop, id],
    ),
    db.query<{ n: string }>(`SELECT count(*) AS n FROM "Order" WHERE shop = $1 AND "customerId" = $2::bigint`, [shop, id]),
    db.query<{ fromSegment: string | null; toSegment: string | null; at: Date; source: string }>(
      `SELECT "fromSegment", "toSegment", at, source FROM "SegmentTransition"
       WHERE shop = $1 AND "customerId" = $2::bigint ORDER BY at DESC, id DESC LIMIT ${TRANSITION_LIMIT}`,
      [shop, id],
    ),
    db.query<{ status: string; reason: string | null; model: ShopModelJson | null; asOfDay: number }>(
      `SELECT status, reason, model, "asOfDay" FROM "ShopFit" WHERE shop = $1`,
      [shop],
    ),
    // The customer's counted orders through the one definition both workers use.
    db.query<{ day: number; net: bigint; discounted: boolean }>(
      `${COUNTED_ORDERS_SQL} AND o."customerId" = $5::bigint ORDER BY o."processedAt"`,
      [...countedOrdersParams(shop, settings), id],
    ),
  ]);
  const fit = fitResult.rows[0] ?? null;
  const labels = settings.segmentLabels;
  const counted: CustomerOrderFact[] = countedResult.rows.map((row) => ({ day: Number(row.day), net: Number(row.net), discounted: row.discounted }));
  const modelJson = fit?.status === "ready" ? fit.model : null;

  return {
    id,
    name: customerName({ id, firstName: customer?.firstName, lastName: customer?.lastName, email: customer?.email }),
    email: customer?.email ?? null,
    currency: settings.currency,
    tags: customer?.tags ?? [],
    shopifyOrdersCount: customer?.ordersCount ?? 0,
    metrics: m
      ? {
          orders: m.orders,
          netSpentMinor: Number(m.netSpentMinor),
          aovMinor: m.aovMinor === null ? null : Number(m.aovMinor),
          discountedOrders: m.discountedOrders,
          firstOrderIso: isoOfDate(m.firstOrderDay),
          lastOrderIso: isoOfDate(m.lastOrderDay),
          recencyDays: m.recencyDays,
          scores: m.rScore !== null && m.fScore !== null && m.mScore !== null ? { r: m.rScore, f: m.fScore, m: m.mScore } : null,
          segment: m.segment,
          segmentName: segmentName(m.segment, labels),
          behaviours: (m.behaviours ?? []).map((key) => ({ key, name: segmentName(key) })),
          pAlive: m.pAlive,
          expectedPurchases90d: m.expectedPurchases90d,
          expectedPurchases365d: m.expectedPurchases365d,
          expectedOrderValueMinor: m.expectedOrderValueMinor === null ? null : Number(m.expectedOrderValueMinor),
          predictedClvMinor: m.predictedClvMinor === null ? null : Number(m.predictedClvMinor),
          expectedNextOrderIso: isoOfDate(m.expectedNextOrderDay),
          asOfIso: dayToIso(m.asOfDay),
          computedAtIso: m.computedAt.toISOString(),
        }
      : null,
    orders: ordersResult.rows.map((o) => ({
      id: o.id.toString(),
      name: o.name,
      processedAtIso: o.processedAt.toISOString(),
      netMinor: Number(o.netMinor),
      currentTotalMinor: Number(o.currentTotalMinor),
      test: o.test,
      cancelled: o.cancelledAt !== null,
      financialStatus: o.financialStatus,
      sourceName: o.sourceName,
      discountCodes: o.discountCodes ?? [],
      lineItemCount: o.lineItemCount,
      firstProductTitle: o.firstProductTitle,
    })),
    storedOrders: Number(storedResult.rows[0]?.n ?? 0),
    transitions: transitionsResult.rows.map((t) => ({
      from: t.fromSegment,
      to: t.toSegment,
      fromName: t.fromSegment === null ? "First scored" : segmentName(t.fromSegment, labels),
      toName: t.toSegment === null ? "No longer scored" : segmentName(t.toSegment, labels),
      atIso: t.at.toISOString(),
      source: t.source,
    })),
    pAliveHistory: modelJson && fit ? pAliveHistory(id, counted, modelJson, fit.asOfDay) : [],
    prediction: {
      status: fit?.status ?? "none",
      reason: fit?.reason ?? null,
      modelName: modelJson?.chosen ?? null,
      assumptions: modelJson?.assumptions ?? null,
      fitAsOfIso: fit ? dayToIso(fit.asOfDay) : null,
    },
  };
}

/**
 * P(alive) on past days as the shop's current model sees the customer's history up to
 * each day: from the first order to the fit's as-of day, at most P_ALIVE_POINTS points.
 * One customer's orders, pure analytics: cheap.
 */
export function pAliveHistory(
  customerId: string,
  orders: readonly CustomerOrderFact[],
  modelJson: ShopModelJson,
  asOfDay: number,
): { dayIso: string; pAlive: number }[] {
  if (orders.length === 0) return [];
  const model = restoreShopModel(modelJson);
  const firstDay = Math.min(...orders.map((o) => o.day));
  if (firstDay > asOfDay) return [];
  const span = asOfDay - firstDay;
  const step = Math.max(7, Math.ceil(span / (P_ALIVE_POINTS - 1)));
  const days: number[] = [];
  for (let day = firstDay; day < asOfDay; day += step) days.push(day);
  days.push(asOfDay);
  const points: { dayIso: string; pAlive: number }[] = [];
  for (const day of days) {
    const facts = customerFactsFromOrders(customerId, orders, day, modelJson.assumptions.unit);
    if (!facts.summary) continue;
    points.push({ dayIso: dayToIso(day), pAlive: model.score(facts.summary).pAlive });
  }
  return points;
}

/** The filter values as typed in the URL, to fill the filter form again. */
export function activeFilters(params: URLSearchParams) {
  const text = (name: string) => params.get(name)?.trim() || null;
  return {
    segment: text("segment"),
    behaviour: text("behaviour"),
    minClv: text("minClv"),
    pAliveMin: text("pAliveMin"),
    pAliveMax: text("pAliveMax"),
  };
}
