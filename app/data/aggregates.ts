// The shapes of ShopAggregate.data, per kind: written by the shop refit
// (app/refit/aggregates.server.ts), read by the pages. Money is integer minor units of
// the shop currency; shares are 0..1; days are day indices (analytics/dates.ts) unless
// named ...Iso. Plain types only (no server code), so routes and components import them.
import type { BacktestRefusalCode, BacktestResult } from "~/analytics/clv/backtest";
import type { DriversReport } from "~/analytics/drivers";
import type { RetentionReport } from "~/analytics/retention";
import type { SegmentRow } from "~/analytics/segment-tally";

export const AGGREGATE_KIND = {
  kpis: "kpis",
  segments: "segments",
  movements: "movements",
  /** Whole shop; per acquisition dimension value: retentionKind(dimension, value). */
  retention: "retention",
  backtest: "backtest",
  /** Acquisition drivers, reorder timing and seasonality (issue 17): DriversAggregate. */
  drivers: "drivers",
} as const;

/** Cohort views filtered by the customers' first order: channel, first product or discount code. */
export type RetentionDimension = "channel" | "firstProduct" | "discountCode";
export const RETENTION_DIMENSIONS: readonly RetentionDimension[] = ["channel", "firstProduct", "discountCode"];
export const retentionKind = (dimension: RetentionDimension, value: string) => `retention:${dimension}:${value}`;

/** A KPI now and at the start of the comparison period (null when not known then). */
export interface KpiValue {
  value: number | null;
  previous: number | null;
}

export interface KpisAggregate {
  currency: string;
  asOfIso: string;
  /** The comparison: the same KPI as of this many days earlier. */
  periodDays: number;
  customers: KpiValue;
  orders: KpiValue;
  netRevenueMinor: KpiValue;
  repeatPurchaseRate: KpiValue;
  aovMinor: KpiValue;
  ordersPerCustomer: KpiValue;
  medianDaysBetweenOrders: KpiValue;
  averageHistoricClvMinor: KpiValue;
  /** null when the shop has no predictions (see ShopFit.reason). */
  averagePredictedClvMinor: KpiValue;
  /** Orders and net revenue in the last `periodDays` days and the `periodDays` before. */
  periodOrders: KpiValue;
  periodNetRevenueMinor: KpiValue;
  /**
   * Customers whose every order was cancelled or refunded in full: left out of predictions
   * (issue 13). Absent in aggregates written before it was counted.
   */
  onlyVoidedCustomers?: number;
  /**
   * Average of spent to date + expected spend over the customers with a prediction (both
   * parts over the same customers); null without predictions. Absent in aggregates written
   * before issue 13's fix.
   */
  averageLifetimeValueMinor?: KpiValue;
  /** Product costs (issue 17): absent in aggregates written before. */
  costs?: ShopCosts;
}

/**
 * The shop's gross profit to date and how much of its net sales had a known unit cost
 * (docs/analytics/revenue.md, "Cost of goods"): what the pages' money basis reads.
 */
export interface ShopCosts {
  grossProfitMinor: number;
  /** Net sales to date without a known cost: their profit is the fallback margin's. */
  uncostedSalesMinor: number;
  /** Share of net sales to date with a known cost (0..1); null without sales. */
  coverage: number | null;
  /** Gross profit over net sales to date; null without sales. */
  profitMargin: number | null;
}

/** Defined beside the scoring that fills it. */
export type { SegmentRow };

export interface SegmentsAggregate {
  currency: string;
  asOfIso: string;
  /** Customers with at least one order (the shares' denominator). */
  customers: number;
  /**
   * Every row of the customer table when the refit wrote them (customers without a counted
   * order included): the unfiltered table's total on a shop too large to count live.
   * Absent in rows written before it was kept.
   */
  tableCustomers?: number;
  netSpentMinor: number;
  rows: SegmentRow[];
}

export interface SegmentMovement {
  from: string | null;
  to: string | null;
  customers: number;
}

/** Segment changes in the last `days` days, counted by from -> to (largest first). */
export interface MovementsAggregate {
  days: number;
  total: number;
  moves: SegmentMovement[];
}

export interface RetentionAggregate {
  currency: string;
  /** Amounts in the report are minor units. */
  report: RetentionReport;
  /** Filter values offered for each dimension (most customers first), each with its own retentionKind row. */
  filters: Record<RetentionDimension, { value: string; customers: number }[]>;
  /** Set on a filtered row. */
  filter?: { dimension: RetentionDimension; value: string };
}

export interface BacktestAggregate {
  /** Calibration ends holdoutDays before as-of; the model is refitted on the calibration data. */
  holdoutDays: number;
  result: BacktestResult | null;
  /** Why there is no backtest (too little history, did not converge). */
  note: string | null;
  /**
   * Set when the calibration period is too thin for the main fit's minimums (the note says
   * which), or when its fit did not converge; absent in rows written before issue 16.
   */
  code?: BacktestRefusalCode | "did-not-converge" | null;
}

/**
 * What brings customers back (issue 17): per value of each acquisition dimension (first
 * product, first code, channel, marketing source, month of the first order) and the reorder
 * timing. Amounts (LTV, AOV) are minor units of net revenue.
 */
export interface DriversAggregate extends DriversReport {
  currency: string;
}
