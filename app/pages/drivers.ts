import { type DriverDimension, type DriverRow, MONTH_NAMES } from "~/analytics/drivers";
import { type DriversAggregate, type ShopCosts } from "~/data/aggregates";
import { type FitState } from "./fit-state";

// The acquisition drivers page (issue 17) as the route and its components see it, no server
// code: the refit's drivers aggregate, read whole (one primary-key read), and the table sorts.

export interface DriversPageData {
  shop: string;
  state: "ready" | "none";
  /** Why there is nothing yet (the shop's fit and import), when state is "none". */
  fit: FitState | null;
  computedAtIso: string | null;
  drivers: DriversAggregate | null;
  /** Settings' gross margin: the page's money basis (money-basis.ts) turns revenue into profit with it. */
  grossMargin: number;
  /** The shop's product costs from the last refit (issue 17): the money basis's profit margin and default when known. */
  costs: ShopCosts | null;
}

/** The columns a driver table sorts by. */
export const DRIVER_SORTS = ["label", "customers", "repeat90", "repeat365", "repeatRate", "ltv90", "ltv365", "aov", "daysToSecond", "chance90"] as const;
export type DriverSort = (typeof DRIVER_SORTS)[number];

function sortValue(row: DriverRow, sort: DriverSort): number | string | null {
  switch (sort) {
    case "label":
      return row.label;
    case "customers":
      return row.customers;
    case "repeatRate":
      return row.repeatRate;
    case "repeat90":
      return row.repeatWithin?.[0]?.rate ?? null;
    case "repeat365":
      return row.repeatWithin?.[1]?.rate ?? null;
    case "ltv90":
      return row.ltv[0]?.value ?? null;
    case "ltv365":
      return row.ltv[1]?.value ?? null;
    case "aov":
      return row.aov;
    case "daysToSecond":
      return row.medianDaysToSecondOrder;
    case "chance90":
      return row.chanceOfOrder90d;
  }
}

const KIND_RANK: Readonly<Record<DriverRow["kind"], number>> = { value: 0, other: 1, none: 2 };

/**
 * The rows sorted by a column; rows without a value last whichever the direction, and
 * "Other" and the none row after the values (they are not one value each). Stable.
 */
export function sortDriverRows(rows: readonly DriverRow[], sort: DriverSort, direction: "ascending" | "descending"): DriverRow[] {
  const sign = direction === "ascending" ? 1 : -1;
  return rows
    .map((row, index) => ({ row, index }))
    .sort((a, b) => {
      const grouped = KIND_RANK[a.row.kind] - KIND_RANK[b.row.kind];
      if (grouped !== 0) return grouped;
      if (a.row.kind !== "value") return a.index - b.index;
      const x = sortValue(a.row, sort);
      const y = sortValue(b.row, sort);
      if (x === null || y === null) return x === y ? a.index - b.index : x === null ? 1 : -1;
      const order = typeof x === "string" || typeof y === "string" ? labelOrder(String(x), String(y)) : x - y;
      return order !== 0 ? sign * order : a.index - b.index;
    })
    .map(({ row }) => row);
}

/** Month names in calendar order (the seasonality table), other labels alphabetically. */
function labelOrder(a: string, b: string): number {
  const x = MONTH_NAMES.indexOf(a);
  const y = MONTH_NAMES.indexOf(b);
  return x >= 0 && y >= 0 ? x - y : a.localeCompare(b);
}

/** The customer table's filter value of a row ("" none); null: no single value (Other). */
export function driverFilterValue(dimension: DriverDimension, row: DriverRow): string | null {
  if (row.filterValue === null) return null;
  if (dimension !== "firstOrderMonth") return row.filterValue;
  const month = MONTH_NAMES.indexOf(row.filterValue);
  return month < 0 ? null : String(month + 1);
}
