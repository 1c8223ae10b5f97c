import { BacktestDataError, backtest } from "~/analytics/clv/backtest";
import { type CountModelName } from "~/analytics/clv/count-model";
import { SHOP_MODEL_UNIT } from "~/analytics/customer-metrics";
import { backtestWindow } from "~/analytics/backtest-window";
import { type TransactionTable } from "~/analytics/summary";
import { type BacktestAggregate } from "~/data/aggregates";

// The backtest aggregate (calibration/holdout backtest of the shop's chosen count model on
// its own orders). Pure, without server imports. On the main thread: on a thread of its own
// its heap broke the refit's 2 GB peak at 1M customers (ADR 0024).

export interface BacktestInputs {
  asOfDay: number;
  /** Customers of the retention report (RetentionReport.totals.customers). */
  reportCustomers: number;
  /** The count model the shop's fit chose; null without a model. */
  chosen: CountModelName | null;
  /** Why there is no model (FitOutcome.reason). */
  reason: string | null;
}

/** Calibration/holdout backtest of the chosen count model on the shop's own orders. */
export function backtestAggregate(table: TransactionTable, { asOfDay, reportCustomers, chosen, reason }: BacktestInputs): BacktestAggregate {
  const firstCohort = reportCustomers > 0 ? firstOrderDayOf(table, asOfDay) : null;
  const window = backtestWindow(firstCohort, asOfDay);
  if ("note" in window) return { holdoutDays: 0, result: null, note: window.note };
  if (!chosen) return { holdoutDays: window.holdoutDays, result: null, note: `no predictions: ${reason ?? "the model could not be fitted"}` };
  try {
    const result = backtest(table, { calibrationEndDay: window.calibrationEndDay, holdoutEndDay: asOfDay, unit: SHOP_MODEL_UNIT, model: chosen });
    // A fit that did not converge is reported, never shown as a forecast.
    if (!result.converged) {
      return { holdoutDays: window.holdoutDays, result: null, code: "did-not-converge", note: `the calibration fit did not converge (${result.convergenceMessage})` };
    }
    return { holdoutDays: window.holdoutDays, result, note: null, code: null };
  } catch (error) {
    // Too thin a calibration period: the same minimums as the main fit, said as such.
    if (error instanceof BacktestDataError) return { holdoutDays: window.holdoutDays, result: null, code: error.code, note: `not enough data: ${error.message}` };
    return { holdoutDays: window.holdoutDays, result: null, note: error instanceof Error ? error.message : String(error) };
  }
}

function firstOrderDayOf(table: TransactionTable, asOfDay: number): number | null {
  let first: number | null = null;
  for (const day of table.days) if (day <= asOfDay && (first === null || day < first)) first = day;
  return first;
}
