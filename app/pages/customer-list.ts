import { BEHAVIOURAL_SEGMENT_KEYS } from "~/analytics/behaviour";
import { MoneyFormatError, toMinorUnits } from "~/analytics/money";
import { segmentKindOf } from "~/display/segment-names";
import {
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
  type Cursor,
  type CustomerListFilters,
  type CustomerListQuery,
  SORT_KEYS,
  type SortDirection,
  type SortKey,
} from "~/data/customer-table";

/** The sorts as the page names them. */
const SORT_LABELS: Readonly<Record<SortKey, string>> = {
  netSpent: "Net spent",
  predictedClv: "Predicted CLV",
  pAlive: "P(alive)",
  lastOrder: "Last order",
  orders: "Orders",
};

export const DEFAULT_PAGE_SIZE = 50;
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
