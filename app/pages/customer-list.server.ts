import { customerName, isoOfDate } from "~/display/format";
import { segmentName } from "~/display/segment-names";
import { type MetricsListRow, readCustomerTableRows } from "~/data/customer-metrics-reads.server";
import { loadMetricsSettings } from "~/data/settings.server";
import { type Queryable } from "~/db/pg.server";
import {
  type CustomerListQuery,
  type CustomerListRow,
  type CustomerPage,
  DEFAULT_PAGE_SIZE,
  encodeCursor,
  MAX_PAGE_SIZE,
  type SortKey,
} from "./customer-list";

// The customer table's loader (all customers, or one segment's): one keyset page of
// CustomerMetrics rows the workers wrote, read by app/data/customer-metrics-reads.server.ts,
// with the cursors of the pages before and after it. Never aggregates over the shop's orders.

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
    const read = await readCustomerTableRows(db, shop, query, "backward", query.before, pageSize + 1);
    const hasPrevious = read.length > pageSize;
    const rows = read.slice(0, pageSize).reverse();
    return {
      rows: rows.map((row) => toListRow(row, labels)),
      next: rows.length > 0 ? cursorOf(rows[rows.length - 1], query) : null,
      previous: hasPrevious && rows.length > 0 ? cursorOf(rows[0], query) : null,
    };
  }
  const read = await readCustomerTableRows(db, shop, query, "forward", query.after ?? null, pageSize + 1);
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
