import { BEHAVIOURAL_SEGMENT_KEYS } from "~/analytics/behaviour";
import { MoneyFormatError, toMinorUnits } from "~/analytics/money";
import { segmentKindOf } from "~/display/segment-names";
import {
  ACQUIRED_DIMENSIONS,
  type AcquiredDimension,
  type Cursor,
  type CustomerListQuery,
  SORT_COLUMNS,
  SORT_KEYS,
  type SortDirection,
  type SortKey,
} from "~/data/customer-table";

// The customer table (all customers, or one segment's) as the loader, the routes and the
// components see it, no server code: its sorts, filters, rows and page cursors, and the
// table's state read from URL parameters. The loader is customer-list.server.ts; its SQL
// is in app/data/customer-metrics-reads.server.ts, its query's shape in app/data/customer-table.ts.

export {
  ACQUIRED_DIMENSIONS,
  type AcquiredDimension,
  type Cursor,
  type CustomerListFilters,
  type CustomerListQuery,
  SORT_KEYS,
  type SortDirection,
  type SortKey,
} from "~/data/customer-table";

/** The sorts as the page names them (problem messages; the column headers name their horizon and basis). */
const SORT_LABELS: Readonly<Record<SortKey, string>> = {
  netSpent: "Spent to date",
  predictedClv: "Expected spend",
  chance90d: "Chance of ordering, next 90 days",
  lastOrder: "Last order",
  orders: "Orders",
  grossProfit: "Gross profit to date",
};

export const DEFAULT_PAGE_SIZE = 50;
/** Longer than any email address Shopify accepts. */
export const SEARCH_MAX_LENGTH = 255;
export const MAX_PAGE_SIZE = 250;

export interface CustomerListRow {
  id: string;
  name: string;
  email: string | null;
  segment: string | null;
  segmentName: string;
  behaviours: string[];
  orders: number;
  netSpentMinor: number;
  /** Gross profit to date (issue 17): profit already, never scaled by the page's money basis. */
  grossProfitMinor: number;
  predictedClvMinor: number | null;
  /** Chance of at least one order in the next 90 days, 0..1. */
  chanceOfOrder90d: number | null;
  lastOrderIso: string | null;
  expectedNextOrderIso: string | null;
}

export interface CustomerPage {
  rows: CustomerListRow[];
  /** Cursor of the next page (encoded for a URL), null on the last page. */
  next: string | null;
  /** Cursor of the previous page, null on the first page. */
  previous: string | null;
  /** Place of the page's first row in the table (0 first); null when not known (a link from before positions). */
  firstPosition: number | null;
  /** Customers in the table; null when not known or above the count's cap (see totalText). */
  total: number | null;
  /**
   * The refit's day when `total` is its count (a view too large to count live: the whole
   * table, or a whole segment), which live changes since may have moved by a few customers.
   */
  totalAsOfIso?: string;
}

/**
 * Counted customers above this in a filtered view read "more than 10,000" (the count stays
 * cheap on a large shop); the whole table and a whole segment show the refit's exact count.
 */
export const COUNT_CAP = 10_000;

/**
 * The pager's text: "51–65 of 65", "1–50 of more than 10,000", or "50 customers on this
 * page" when the place is not known.
 */
export function pagerText(page: { rows: readonly unknown[] } & Pick<CustomerPage, "firstPosition" | "total">): string {
  const shown = page.rows.length;
  if (shown === 0) return "No customers";
  if (page.firstPosition === null) return `${shown.toLocaleString("en-US")} ${shown === 1 ? "customer" : "customers"} on this page`;
  const from = page.firstPosition + 1;
  const to = page.firstPosition + shown;
  const range = `${from.toLocaleString("en-US")}–${to.toLocaleString("en-US")}`;
  if (page.total === null) return `${range} of more than ${COUNT_CAP.toLocaleString("en-US")}`;
  return `${range} of ${page.total.toLocaleString("en-US")}`;
}

// ---------------------------------------------------------------- cursors and URL parameters

export function encodeCursor(cursor: Cursor): string {
  const fields = [cursor.sort, cursor.direction, cursor.value, cursor.id, ...(cursor.position != null ? [cursor.position] : [])];
  return Buffer.from(JSON.stringify(fields), "utf8").toString("base64url");
}

/** The cursor in a URL, or null when it is not one of ours (garbled, edited by hand). */
export function decodeCursor(text: string): Cursor | null {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
    // A fifth field, the row's place in the table, since issue 13; links without it still work.
    if (!Array.isArray(parsed) || parsed.length < 4 || parsed.length > 5) return null;
    const [sort, direction, value, id, place] = parsed as unknown[];
    if (place !== undefined && !(Number.isInteger(place) && (place as number) >= 0)) return null;
    const position = place === undefined ? {} : { position: place as number };
    if (!(SORT_KEYS as readonly unknown[]).includes(sort)) return null;
    if (direction !== "asc" && direction !== "desc") return null;
    if (typeof id !== "string" || !/^\d{1,19}$/.test(id)) return null;
    const column = SORT_COLUMNS[sort as SortKey];
    if (value === null) return column.nullable ? { sort: sort as SortKey, direction, value, id, ...position } : null;
    const ok =
      column.cast === "bigint"
        ? typeof value === "string" && /^-?\d{1,19}$/.test(value)
        : column.cast === "date"
          ? typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value)
          : column.cast === "int"
            ? Number.isInteger(value)
            : typeof value === "number" && Number.isFinite(value);
    return ok ? { sort: sort as SortKey, direction, value: value as string | number, id, ...position } : null;
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
 * sort, dir, after|before (cursor), segment, behaviour, minClv (expected spend, major units
 * of the shop currency, e.g. "25.50"), chanceMin and chanceMax (chance of ordering in the
 * next 90 days, percent, 0-100), q (start of a name or email).
 * Anything invalid is dropped with a problem the page shows, never a server error.
 */
export function parseListParams(params: URLSearchParams, currency: string, defaults: { sort?: SortKey } = {}): ParsedListParams {
  const problems: string[] = [];
  const sortParam = params.get("sort");
  let sort: SortKey = defaults.sort ?? "netSpent";
  if (sortParam) {
    if ((SORT_KEYS as readonly string[]).includes(sortParam)) sort = sortParam as SortKey;
    else problems.push(`Unknown sort "${sortParam}": sorted by ${SORT_LABELS[sort].toLowerCase()} instead.`);
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
      problems.push(`Minimum expected spend: ${why}. Enter an amount such as 25 or 25.50.`);
    }
  }
  for (const [name, key] of [
    ["chanceMin", "chanceMin"],
    ["chanceMax", "chanceMax"],
  ] as const) {
    const text = params.get(name)?.trim();
    if (!text) continue;
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0 || value > 100) {
      problems.push(`Chance of ordering ${name === "chanceMin" ? "from" : "to"} must be a percentage from 0 to 100 (got "${text}").`);
    } else {
      query[key] = value / 100;
    }
  }
  if (query.chanceMin != null && query.chanceMax != null && query.chanceMin > query.chanceMax) {
    problems.push("Chance of ordering from is above chance of ordering to, so no customer can match: swap them.");
  }
  for (const name of ["nextOrderFrom", "nextOrderTo"] as const) {
    const text = params.get(name)?.trim();
    if (!text) continue;
    if (/^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(Date.parse(`${text}T00:00:00Z`)) && new Date(`${text}T00:00:00Z`).toISOString().startsWith(text)) {
      query[name] = text;
    } else {
      problems.push(`Expected next order ${name === "nextOrderFrom" ? "from" : "to"} must be a date such as 2026-07-01 (got "${text}"); that filter was left out.`);
    }
  }
  if (query.nextOrderFrom && query.nextOrderTo && query.nextOrderFrom > query.nextOrderTo) {
    problems.push("Expected next order from is after expected next order to, so no customer can match: swap them.");
  }
  const acquiredBy = params.get("acquiredBy");
  const acquiredValue = params.get("acquiredValue");
  if (acquiredBy !== null) {
    const value = acquiredValue ?? "";
    if (!(ACQUIRED_DIMENSIONS as readonly string[]).includes(acquiredBy)) {
      problems.push(`There is no first-order filter "${acquiredBy}"; that filter was left out.`);
    } else if (acquiredBy === "firstOrderMonth" && !/^(?:[1-9]|1[0-2])$/.test(value)) {
      problems.push(`The month of the first order must be 1 to 12 (got "${value}"); that filter was left out.`);
    } else if (value.length > SEARCH_MAX_LENGTH) {
      problems.push(`A first-order value is at most ${SEARCH_MAX_LENGTH} characters; that filter was left out.`);
    } else {
      query.acquired = { dimension: acquiredBy as AcquiredDimension, value };
    }
  }
  const search = params.get("q")?.trim();
  if (search) {
    if (search.length > SEARCH_MAX_LENGTH) problems.push(`Search text is at most ${SEARCH_MAX_LENGTH} characters; the search was left out.`);
    else query.search = search;
  }
  const pageSize = Number(params.get("pageSize") ?? DEFAULT_PAGE_SIZE);
  query.pageSize = Number.isInteger(pageSize) && pageSize >= 1 && pageSize <= MAX_PAGE_SIZE ? pageSize : DEFAULT_PAGE_SIZE;
  return { query, problems };
}

/** The filter values as typed in the URL, to fill the filter form again. */
export function activeFilters(params: URLSearchParams) {
  const text = (name: string) => params.get(name)?.trim() || null;
  return {
    segment: text("segment"),
    behaviour: text("behaviour"),
    minClv: text("minClv"),
    chanceMin: text("chanceMin"),
    chanceMax: text("chanceMax"),
    q: text("q"),
    nextOrderFrom: text("nextOrderFrom"),
    nextOrderTo: text("nextOrderTo"),
    // "" is a value here (customers without one: No code).
    acquiredBy: text("acquiredBy"),
    acquiredValue: params.get("acquiredBy") ? (params.get("acquiredValue") ?? "") : null,
  };
}

/** The link to the customers whose first order had this value (the acquisition drivers page). */
export function acquiredCustomersUrl(dimension: AcquiredDimension, value: string): string {
  return `/app/customers?${new URLSearchParams({ acquiredBy: dimension, acquiredValue: value })}`;
}

const ACQUIRED_WORDS: Readonly<Record<AcquiredDimension, string>> = {
  firstProduct: "first product",
  discountCode: "first discount code",
  channel: "sales channel of the first order",
  marketingSource: "marketing source of the first order",
  firstOrderMonth: "month of the first order",
};
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/** "Customers whose first discount code was none", for the table's filter line. */
export function acquiredText(dimension: AcquiredDimension, value: string, name: (channel: string) => string = (v) => v): string {
  const shown = dimension === "firstOrderMonth" ? (MONTHS[Number(value) - 1] ?? value) : value === "" ? "none" : dimension === "channel" ? name(value) : `“${value}”`;
  return `Customers whose ${ACQUIRED_WORDS[dimension]} was ${shown}`;
}
