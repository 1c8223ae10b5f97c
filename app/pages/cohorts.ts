import { type ShopCosts } from "~/data/aggregates";
import type { CohortRow } from "~/analytics/retention";
import type { RetentionDimension } from "~/data/aggregates";
import type { FitState } from "./fit-state";
import { inBasis } from "./money-basis";

// The cohorts page's data as the route and its components see it (no server code); the
// loader is cohorts.server.ts.

export interface CohortFilter {
  dimension: RetentionDimension;
  value: string;
}

/** A cohort as the page shows it: ltvToCacAtDays and paybackMonth recomputed from the current CAC and margin. */
export type CohortView = Omit<CohortRow, "orders">;

export interface CohortsPageData {
  shop: string;
  currency: string;
  /** "none": no refit has written cohorts yet (just installed). */
  state: "none" | "ready";
  /** Why there are no cohorts yet (import running, first refit, failure); read only in state "none". */
  fit: FitState | null;
  computedAtIso: string | null;
  asOfIso: string | null;
  /** Values offered per dimension (whole-shop row). */
  filters: Record<RetentionDimension, { value: string; customers: number }[]>;
  /** The filter shown; null: the whole shop. */
  filter: CohortFilter | null;
  /** A filter was asked for that the last refit has no row for (value gone, or a typo in the URL). */
  filterUnavailable: CohortFilter | null;
  smallCohortSize: number;
  horizonsDays: number[];
  lastCompleteMonth: string | null;
  olderCohortsNotListed: number;
  /** averageSpentToDate: net revenue per customer over every customer shown, however recent (minor units), the figure LTV at 365 days is read against. */
  totals: {
    customers: number;
    repeatPurchaseRate: number | null;
    averageSpentToDate: number | null;
    /** The same from each order's own gross profit (refits since issue 17); absent on older rows. */
    averageProfitToDate?: number | null;
  } | null;
  cohorts: CohortView[];
  /** All cohorts pooled. */
  ltv: {
    atDays: { days: number; value: number | null; customers: number; ltvToCac: number | null }[];
    byMonth: (number | null)[];
    byMonthCustomers: number[];
    paybackMonth: number | null;
    /** atDays' values and byMonth from each order's own gross profit (refits since issue 17); absent on older rows. */
    profitAtDays?: (number | null)[];
    profitByMonth?: (number | null)[];
  } | null;
  /** From settings, in minor units; null: no CAC set (the page asks for one). */
  cacMinor: number | null;
  grossMargin: number;
  /** Product costs as of the last refit (issue 17): the money basis takes its profit margin from them. */
  costs?: ShopCosts | null;
}

/**
 * The page's amounts in its money basis (issue 13, app/pages/money-basis.ts). On the profit
 * basis (factor below 1) LTV and spent to date are each order's own gross profit where the
 * refit stored it (issue 17), else the stored revenue scaled by `factor` (the margin; rows
 * from before issue 17). Payback and LTV:CAC are unchanged: they already compare gross
 * profit with CAC.
 */
export function cohortsInBasis<T extends CohortsPageData>(page: T, factor: number): T {
  if (factor === 1) return page;
  const scale = (value: number | null) => inBasis(value, { factor });
  const profitOr = (revenue: (number | null)[], profit: (number | null)[] | undefined) => profit ?? revenue.map(scale);
  const totals = page.totals;
  return {
    ...page,
    totals: totals && {
      ...totals,
      averageSpentToDate: totals.averageProfitToDate !== undefined ? totals.averageProfitToDate : scale(totals.averageSpentToDate),
    },
    cohorts: page.cohorts.map((row) => ({
      ...row,
      ltvByMonth: profitOr(row.ltvByMonth, row.profitLtvByMonth),
      ltvAtDays: profitOr(row.ltvAtDays, row.profitLtvAtDays),
    })),
    ltv: page.ltv && {
      ...page.ltv,
      atDays: page.ltv.atDays.map((point, h) => ({ ...point, value: page.ltv!.profitAtDays ? (page.ltv!.profitAtDays[h] ?? null) : scale(point.value) })),
      byMonth: profitOr(page.ltv.byMonth, page.ltv.profitByMonth),
    },
  };
}
