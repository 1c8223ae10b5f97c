import { customerName, isoOfDate } from "~/display/format";
import { segmentName } from "~/display/segment-names";
import { MONTH_NAMES } from "~/analytics/drivers";
import { readBehaviourCustomers, readDriverRowCustomers, readTableCustomers } from "~/data/aggregates.server";
import { countCustomerTableRows, type MetricsListRow, readCustomerTableRows, type ResolvedSearch, resolveSearch } from "~/data/customer-metrics-reads.server";
import { loadMetricsSettings } from "~/data/settings.server";
import { setFilterKeys } from "~/data/customer-table";
import { type Queryable } from "~/db/pg.server";
import {
  type CustomerListQuery,
  type CustomerListRow,
  type CustomerPage,
  COUNT_CAP,
  DEFAULT_PAGE_SIZE,
  encodeCursor,
  MAX_PAGE_SIZE,
  type SortKey,
} from "./customer-list";
import { type PageMoneyBasis } from "./money-basis";

// The customer table's loader (all customers, or one segment's): one keyset page of
// CustomerMetrics rows the workers wrote, read by app/data/customer-metrics-reads.server.ts,
// with the cursors of the pages before and after it. Never aggregates over the shop's orders.

function sortValueOf(row: MetricsListRow, sort: SortKey): string | number | null {
  switch (sort) {
    case "netSpent":
      return row.netSpentMinor.toString();
    case "predictedClv":
      return row.predictedClvMinor === null ? null : row.predictedClvMinor.toString();
    case "chance90d":
      return row.chanceOfOrder90d;
    case "lastOrder":
      return isoOfDate(row.lastOrderDay);
    case "orders":
      return row.orders;
    case "grossProfit":
      return row.grossProfitMinor.toString();
  }
}

function cursorOf(row: MetricsListRow, query: CustomerListQuery, position: number | null): string {
  return encodeCursor({ sort: query.sort, direction: query.direction, value: sortValueOf(row, query.sort), id: row.customerId.toString(), position });
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
    grossProfitMinor: Number(row.grossProfitMinor),
    predictedClvMinor: row.predictedClvMinor === null ? null : Number(row.predictedClvMinor),
    chanceOfOrder90d: row.chanceOfOrder90d,
    lastOrderIso: isoOfDate(row.lastOrderDay),
    expectedNextOrderIso: isoOfDate(row.expectedNextOrderDay),
  };
}

export interface ListOptions {
  /**
   * Customers in the view without its other filters, from the refit's segment counts (a
   * segment page's segment): shown as the total when the view is larger than the count's cap.
   */
  scopeTotal?: number | null;
  /** The refit's day that counted `scopeTotal`. */
  scopeTotalAsOfIso?: string | null;
}

/**
 * The customers in the view: counted up to COUNT_CAP (a bounded read, since page loads must
 * not grow with shop size), else the refit's count when the view is a whole segment (the
 * scope total) or the whole table (its stored row count), else null ("more than 10,000").
 */
async function totalOf(
  db: Queryable,
  shop: string,
  query: CustomerListQuery,
  scope: "segment" | "behaviour" | null,
  options: ListOptions,
  search: ResolvedSearch,
): Promise<{ total: number | null; asOfIso?: string }> {
  // A view the refit counted (one behaviour, or one value of an acquisition dimension, alone) and
  // found far above the cap: its live count would read a large part of the shop only to stop at
  // the cap (the pages bench's behaviour and first-order-month views), so the refit's count stands.
  const stored = await storedViewCount(db, shop, query, scope);
  if (stored !== null && stored.customers > STORED_COUNT_MARGIN * COUNT_CAP) return { total: stored.customers, asOfIso: stored.asOfIso };
  const counted = await countCustomerTableRows(db, shop, query, COUNT_CAP, search);
  if (counted !== null) return { total: counted };
  // Any filter besides the view's own scope: neither stored count covers it.
  if (setFilterKeys(query).some((key) => key !== scope)) return { total: null };
  if (scope !== null) {
    return options.scopeTotal != null && options.scopeTotal > COUNT_CAP
      ? { total: options.scopeTotal, asOfIso: options.scopeTotalAsOfIso ?? undefined }
      : { total: null };
  }
  const whole = await readTableCustomers(db, shop);
  return whole !== null && whole.customers > COUNT_CAP ? { total: whole.customers, asOfIso: whole.asOfIso } : { total: null };
}

/**
 * A refit's count above this many times COUNT_CAP stands for the view: live changes since the
 * refit (a day's orders) cannot bring it under the cap.
 */
const STORED_COUNT_MARGIN = 2;

/** The refit's count of the view when the view is one it counts: a behaviour alone (not a segment page's own scope, counted there), or one acquisition value alone. */
async function storedViewCount(db: Queryable, shop: string, query: CustomerListQuery, scope: "segment" | "behaviour" | null) {
  const others = setFilterKeys(query).some((key) => key !== "behaviour" && key !== "acquired");
  if (others || scope !== null) return null;
  if (query.behaviour && !query.acquired) return readBehaviourCustomers(db, shop, query.behaviour);
  const acquired = query.acquired;
  if (!acquired || query.behaviour) return null;
  if (acquired.dimension === "firstOrderMonth") {
    const label = MONTH_NAMES[Number(acquired.value) - 1];
    return label ? readDriverRowCustomers(db, shop, acquired.dimension, { label }) : null;
  }
  return readDriverRowCustomers(db, shop, acquired.dimension, { filterValue: acquired.value });
}

/**
 * One page of the customer table, sorted, filtered and paged in PostgreSQL, with its place
 * in the table ("51–65 of 65"): cursors carry their row's position, so no page counts the
 * rows before it. `scope`: the filter that makes the view a segment's (a segment page).
 */
export async function listCustomers(
  db: Queryable,
  shop: string,
  query: CustomerListQuery,
  labels: Readonly<Record<string, string>> = {},
  options: ListOptions & { scope?: "segment" | "behaviour" | null } = {},
): Promise<CustomerPage> {
  const pageSize = Math.min(Math.max(1, query.pageSize ?? DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE);
  if (query.after && query.before) throw new RangeError("a page is read after a cursor or before one, not both");
  if (query.chanceMin != null && query.chanceMax != null && query.chanceMin > query.chanceMax) {
    return { rows: [], next: null, previous: null, firstPosition: null, total: 0 };
  }
  for (const cursor of [query.after, query.before]) {
    if (cursor && (cursor.sort !== query.sort || cursor.direction !== query.direction)) {
      throw new RangeError("the cursor belongs to another sort order");
    }
  }
  const search = await resolveSearch(db, shop, query.search);
  // Counted while the page is read (its own pool connection).
  const total = totalOf(db, shop, query, options.scope ?? null, options, search);
  total.catch(() => undefined); // thrown where awaited, not reported as unhandled if the page's read fails first
  if (query.before) {
    // Previous page: read backwards from the cursor, one extra row to know whether there is a page before.
    const read = await readCustomerTableRows(db, shop, query, "backward", query.before, pageSize + 1, search);
    const hasPrevious = read.length > pageSize;
    const rows = read.slice(0, pageSize).reverse();
    const cursorAt = query.before.position;
    // No page before: this is the first page, whatever the link said.
    const first = !hasPrevious ? 0 : cursorAt != null ? Math.max(0, cursorAt - rows.length) : null;
    return {
      rows: rows.map((row) => toListRow(row, labels)),
      next: rows.length > 0 ? cursorOf(rows[rows.length - 1], query, first === null ? null : first + rows.length - 1) : null,
      previous: hasPrevious && rows.length > 0 ? cursorOf(rows[0], query, first) : null,
      firstPosition: first,
      ...(await totalFields(total, first, rows.length, true)),
    };
  }
  const read = await readCustomerTableRows(db, shop, query, "forward", query.after ?? null, pageSize + 1, search);
  const hasNext = read.length > pageSize;
  const rows = read.slice(0, pageSize);
  const first = !query.after ? 0 : query.after.position != null ? query.after.position + 1 : null;
  return {
    rows: rows.map((row) => toListRow(row, labels)),
    next: hasNext ? cursorOf(rows[rows.length - 1], query, first === null ? null : first + rows.length - 1) : null,
    previous: query.after && rows.length > 0 ? cursorOf(rows[0], query, first) : null,
    firstPosition: first,
    ...(await totalFields(total, first, rows.length, hasNext)),
  };
}

/** The page's total (and the refit's day, when it is the refit's count), agreeing with the rows shown. */
async function totalFields(pending: ReturnType<typeof totalOf>, first: number | null, shown: number, hasNext: boolean): Promise<Pick<CustomerPage, "total" | "totalAsOfIso">> {
  const { total, asOfIso } = await pending;
  return { total: consistentTotal(total, first, shown, hasNext), ...(asOfIso !== undefined ? { totalAsOfIso: asOfIso } : {}) };
}

/** A total that agrees with what the page shows (a precomputed count can lag live changes by a few rows). */
function consistentTotal(total: number | null, first: number | null, shown: number, hasNext: boolean): number | null {
  if (total === null || first === null) return total;
  const seen = first + shown;
  if (!hasNext) return seen;
  return Math.max(total, seen + 1);
}

/** Currency, segment labels, horizon and margin for the table's page (one primary-key read). */
export async function customerTableContext(db: Queryable, shop: string) {
  const settings = await loadMetricsSettings(db, shop);
  return {
    currency: settings.currency,
    labels: settings.segmentLabels,
    horizonDays: settings.horizonDays,
    grossMargin: settings.grossMargin,
    costs: settings.costs ?? null,
  };
}

/**
 * The query with its money filter in stored units: amounts are stored as revenue, so a
 * minimum typed in profit is divided by the margin (rounded up: "at least" stays at least).
 */
export function queryInStoredMoney(query: CustomerListQuery, basis: PageMoneyBasis): CustomerListQuery {
  if (query.minPredictedClvMinor == null || basis.factor === 1) return query;
  return { ...query, minPredictedClvMinor: Math.ceil(query.minPredictedClvMinor / basis.factor) };
}
