// Calibration/holdout backtest: fit on the transactions up to calibrationEndDay, predict
// each customer's repeat purchases in (calibrationEndDay, holdoutEndDay], compare with
// what happened, and track weekly repeat purchases (actual vs model) for a chart.
import { type CustomerSummary, summarize, type Transaction } from "../summary";
import { type TimeUnit, unitDays } from "../units";
import { type CountModelName, type CountModelParams, countModel, fitCountModelByName } from "./count-model";
import { compressRows } from "./rows";

export interface BacktestOptions {
  /** Last day of the calibration period (inclusive). */
  calibrationEndDay: number;
  /** Last day of the holdout period (inclusive). */
  holdoutEndDay: number;
  unit: TimeUnit;
  /** Count model to test (default BG/NBD). */
  model?: CountModelName;
}

export interface TrackingRow {
  /** 1-based week number counted from the first purchase in the data. */
  week: number;
  /** First and last day of the week (the last week may be shorter). */
  startDay: number;
  endDay: number;
  /** True when the week lies after the calibration period. */
  holdout: boolean;
  /** Repeat purchase days in the week, all calibration customers. */
  actual: number;
  /** Model: Σ over customers of E[X] increments in the week, from each first purchase (unconditional). */
  predicted: number;
  cumulativeActual: number;
  cumulativePredicted: number;
}

export interface BacktestResult {
  modelName: CountModelName;
  params: CountModelParams;
  logLikelihood: number;
  converged: boolean;
  convergenceMessage: string;
  unit: TimeUnit;
  calibrationEndDay: number;
  holdoutEndDay: number;
  /** Holdout length in model units. */
  holdoutLength: number;
  customers: number;
  /** Mean over customers of |E[Y(holdout) | history] - actual holdout purchases|. */
  meanAbsoluteError: number;
  /** Σ E[Y(holdout) | history] over customers. */
  totalPredicted: number;
  totalActual: number;
  /** totalPredicted - totalActual. */
  totalError: number;
  weekly: TrackingRow[];
}

/**
 * Purchase days per customer after their first purchase, over all days <= lastDay. A day
 * is a purchase day when one of its rows has amount >= 0 (as in summary.ts).
 */
function purchaseDays(tx: Iterable<Transaction>, lastDay: number): Map<string, number[]> {
  const days = new Map<string, Set<number>>();
  for (const t of tx) {
    if (t.day > lastDay || !(t.amount >= 0)) continue;
    let set = days.get(t.customerId);
    if (!set) days.set(t.customerId, (set = new Set()));
    set.add(t.day);
  }
  const out = new Map<string, number[]>();
  for (const [id, set] of days) out.set(id, [...set].sort((a, b) => a - b));
  return out;
}

export function backtest(tx: Iterable<Transaction>, opts: BacktestOptions): BacktestResult {
  const { calibrationEndDay, holdoutEndDay, unit } = opts;
  if (!Number.isInteger(calibrationEndDay) || !Number.isInteger(holdoutEndDay)) throw new RangeError("calibration and holdout end days must be day indices");
  if (!(holdoutEndDay > calibrationEndDay)) throw new RangeError("the holdout must end after the calibration period");
  const transactions = Array.isArray(tx) ? (tx as Transaction[]) : [...tx];
  const summaries: CustomerSummary[] = summarize(transactions, { asOfDay: calibrationEndDay, unit });
  if (summaries.length === 0) throw new RangeError("no customer has a purchase in the calibration period");
  const modelName = opts.model ?? "bgnbd";
  const fit = fitCountModelByName(modelName, compressRows(summaries), { standardErrors: false });
  const model = countModel(modelName, fit.params);
  const days = unitDays[unit];
  const holdoutLength = (holdoutEndDay - calibrationEndDay) / days;

  const allDays = purchaseDays(transactions, holdoutEndDay);
  let totalPredicted = 0;
  let totalActual = 0;
  let absoluteError = 0;
  for (const s of summaries) {
    const predicted = model.conditionalExpectedPurchases(holdoutLength, s.frequency, s.recency, s.T);
    const actual = (allDays.get(s.customerId) ?? []).filter((d) => d > calibrationEndDay).length;
    totalPredicted += predicted;
    totalActual += actual;
    absoluteError += Math.abs(predicted - actual);
  }

  // Weekly tracking from the first purchase in the data.
  let start = summaries[0].firstDay;
  for (const s of summaries) if (s.firstDay < start) start = s.firstDay;
  const weeks = Math.ceil((holdoutEndDay - start + 1) / 7);
  const actualByWeek = new Float64Array(weeks);
  const cohortSize = new Map<number, number>(); // first day -> customers
  for (const s of summaries) {
    cohortSize.set(s.firstDay, (cohortSize.get(s.firstDay) ?? 0) + 1);
    for (const d of allDays.get(s.customerId) ?? []) {
      if (d > s.firstDay) actualByWeek[Math.floor((d - start) / 7)]++;
    }
  }
  const cumulativeModel = (endDay: number) => {
    let sum = 0;
    for (const [firstDay, count] of cohortSize) {
      if (firstDay < endDay) sum += count * model.expectedPurchases((endDay - firstDay) / days);
    }
    return sum;
  };
  const weekly: TrackingRow[] = [];
  let cumulativeActual = 0;
  let previousModel = 0;
  for (let w = 0; w < weeks; w++) {
    const startDay = start + 7 * w;
    const endDay = Math.min(startDay + 6, holdoutEndDay);
    const cumulativePredicted = cumulativeModel(endDay);
    cumulativeActual += actualByWeek[w];
    weekly.push({
      week: w + 1,
      startDay,
      endDay,
      holdout: startDay > calibrationEndDay,
      actual: actualByWeek[w],
      predicted: cumulativePredicted - previousModel,
      cumulativeActual,
      cumulativePredicted,
    });
    previousModel = cumulativePredicted;
  }

  return {
    modelName,
    params: fit.params,
    logLikelihood: fit.logLikelihood,
    converged: fit.converged,
    convergenceMessage: fit.message,
    unit,
    calibrationEndDay,
    holdoutEndDay,
    holdoutLength,
    customers: summaries.length,
    meanAbsoluteError: absoluteError / summaries.length,
    totalPredicted,
    totalActual,
    totalError: totalPredicted - totalActual,
    weekly,
  };
}
