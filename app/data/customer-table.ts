// The customer table's query as CustomerMetrics is read for it, no server code: the sorts
// with their column's SQL type and nullability, the filters, and the keyset cursor. The
// reads are in customer-metrics-reads.server.ts; labels, URL parameters and rows as the
// page shows them in app/pages/customer-list.ts.

export const SORT_KEYS = ["netSpent", "predictedClv", "chance90d", "lastOrder", "orders", "grossProfit"] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export type SortDirection = "asc" | "desc";

interface SortColumn {
  /** SQL type the cursor value is cast to. */
  cast: "bigint" | "float8" | "date" | "int";
  /** Customers without a value (no prediction yet, no order) come after all the others. */
  nullable: boolean;
}

export const SORT_COLUMNS: Readonly<Record<SortKey, SortColumn>> = {
  netSpent: { cast: "bigint", nullable: false },
  predictedClv: { cast: "bigint", nullable: true },
  chance90d: { cast: "float8", nullable: true },
  lastOrder: { cast: "date", nullable: true },
  orders: { cast: "int", nullable: false },
  /** Gross profit to date (issue 17): never null (0 before any order), negative when costs exceed sales. */
  grossProfit: { cast: "bigint", nullable: false },
};

/** Where a page starts: the sort value and customer id of the row just before (after) or just after (before) it. */
export interface Cursor {
  sort: SortKey;
  direction: SortDirection;
  /** bigint and date values as text (exact), floats and ints as numbers; null: the row had no value. */
  value: string | number | null;
  id: string;
  /** The row's place in the table (0 first), when known: the pager's "51–65 of N". */
  position?: number | null;
}

export interface CustomerListFilters {
  /** RFM segment key. */
  segment?: string | null;
  /** Behavioural segment key. */
  behaviour?: string | null;
  minPredictedClvMinor?: number | null;
  /** Chance of ordering in the next 90 days, 0..1, inclusive. */
  chanceMin?: number | null;
  chanceMax?: number | null;
  /** Start of the customer's email, first name, last name or full name (any case). */
  search?: string | null;
  /** Expected next order on or after / on or before this day ("YYYY-MM-DD"); customers without one are out. */
  nextOrderFrom?: string | null;
  nextOrderTo?: string | null;
  /**
   * Customers whose first order had this value of an acquisition dimension (the acquisition
   * drivers page's links): "" for none (No code); firstOrderMonth's value is the month, 1..12.
   */
  acquired?: { dimension: AcquiredDimension; value: string } | null;
}

/**
 * Whether each filter is set, over every key of CustomerListFilters (the Record's type makes a
 * new filter name its test here), so that the totals' shortcuts (customer-list.server.ts),
 * which stand only for views without other filters, cannot miss one.
 */
const FILTER_IS_SET: Readonly<Record<keyof CustomerListFilters, (filters: CustomerListFilters) => boolean>> = {
  segment: (f) => Boolean(f.segment),
  behaviour: (f) => Boolean(f.behaviour),
  minPredictedClvMinor: (f) => f.minPredictedClvMinor != null,
  chanceMin: (f) => f.chanceMin != null,
  chanceMax: (f) => f.chanceMax != null,
  search: (f) => Boolean(f.search),
  nextOrderFrom: (f) => Boolean(f.nextOrderFrom),
  nextOrderTo: (f) => Boolean(f.nextOrderTo),
  acquired: (f) => Boolean(f.acquired),
};

/** The filters set in `filters`. */
export function setFilterKeys(filters: CustomerListFilters): (keyof CustomerListFilters)[] {
  return (Object.keys(FILTER_IS_SET) as (keyof CustomerListFilters)[]).filter((key) => FILTER_IS_SET[key](filters));
}

/** The acquisition drivers' dimensions (app/analytics/drivers.ts DRIVER_DIMENSIONS). */
export const ACQUIRED_DIMENSIONS = ["firstProduct", "discountCode", "channel", "marketingSource", "firstOrderMonth"] as const;
export type AcquiredDimension = (typeof ACQUIRED_DIMENSIONS)[number];

export interface CustomerListQuery extends CustomerListFilters {
  sort: SortKey;
  direction: SortDirection;
  /** Rows after this cursor (next page) ... */
  after?: Cursor | null;
  /** ... or before it (previous page). At most one of the two. */
  before?: Cursor | null;
  pageSize?: number;
}
