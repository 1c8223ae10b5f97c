// Calibration/holdout backtest: fit on the transactions up to calibrationEndDay, predict
// each customer's repeat purchases in (calibrationEndDay, holdoutEndDay], compare with
// what happened, and track weekly repeat purchases (actual vs model) for a chart.
import { type CustomerSummary, groupByCustomer, summarizeGroup, type Transaction, TransactionTable } from "~/analytics/summary";
import { type TimeUnit, unitDays } from "~/analytics/units";
import { type CountModelName, type CountModelParams, countModel, fitCountModelByName } from "./count-model";
import { compressRows, TripleCounter } from "./rows";

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
 * Calls back with each purchase day of a customer's grouped rows (day order). A day is a
 * purchase day when one of its rows has amount >= 0, as in summary.ts.
 */
function forEachPurchaseDay(table: TransactionTable, order: Int32Array, from: number, to: number, callback: (day: number) => void): void {
  const days = table.days;
  const amounts = table.amounts;
  let position = from;
  while (position < to) {
    const day = days[order[position]];
    let purchase = false;
    while (position < to && days[order[position]] === day) {
      if (amounts[order[position]] >= 0) purchase = true;
      position++;
    }
    if (purchase) callback(day);
  }
}

export function backtest(tx: Iterable<Transaction> | TransactionTable, opts: BacktestOptions): BacktestResult {
  const { calibrationEndDay, holdoutEndDay, unit } = opts;
  if (!Number.isInteger(calibrationEndDay) || !Number.isInteger(holdoutEndDay)) throw new RangeError("calibration and holdout end days must be day indices");
  if (!(holdoutEndDay > calibrationEndDay)) throw new RangeError("the holdout must end after the calibration period");
  if (!(unit in unitDays)) throw new RangeError(`unknown time unit "${unit}"`);
  // Columnar throughout: a 10M-row table is never turned into objects.
  const table = tx instanceof TransactionTable ? tx : TransactionTable.from(tx);
  const calibrationGroups = groupByCustomer(table, calibrationEndDay);
  const summaries: CustomerSummary[] = [];
  const customerIndices: number[] = [];
  for (let customer = 0; customer < table.customerCount; customer++) {
    const summary = summarizeGroup(table, calibrationGroups, customer, { asOfDay: calibrationEndDay, unit });
    if (summary) {
      summaries.push(summary);
      customerIndices.push(customer);
    }
  }
  if (summaries.length === 0) throw new RangeError("no customer has a purchase in the calibration period");
  const modelName = opts.model ?? "bgnbd";
  const fit = fitCountModelByName(modelName, compressRows(summaries), { standardErrors: false });
  const model = countModel(modelName, fit.params);
  const days = unitDays[unit];
  const holdoutLength = (holdoutEndDay - calibrationEndDay) / days;

  let start = summaries[0].firstDay;
  for (const s of summaries) if (s.firstDay < start) start = s.firstDay;
  const weeks = Math.ceil((holdoutEndDay - start + 1) / 7);
  const actualByWeek = new Float64Array(weeks);
  const allGroups = groupByCustomer(table, holdoutEndDay);
  let totalPredicted = 0;
  let totalActual = 0;
  let absoluteError = 0;
  // Customers with the same history get the same prediction: compute it once.
  const histories = new TripleCounter();
  const predictions: number[] = [];
  summaries.forEach((s, i) => {
    const customer = customerIndices[i];
    let actual = 0;
    forEachPurchaseDay(table, allGroups.order, allGroups.start[customer], allGroups.start[customer + 1], (day) => {
      if (day > s.firstDay) actualByWeek[Math.floor((day - start) / 7)]++;
      if (day > calibrationEndDay) actual++;
    });
    const history = histories.addTriple(s.frequency, s.recency, s.T, 1);
    if (history === predictions.length) predictions.push(model.conditionalExpectedPurchases(holdoutLength, s.frequency, s.recency, s.T));
    const predicted = predictions[history];
    totalPredicted += predicted;
    totalActual += actual;
    absoluteError += Math.abs(predicted - actual);
  });

  // Weekly tracking from the first purchase in the data.
  const cohortSize = new Map<number, number>(); // first day -> customers
  for (const s of summaries) cohortSize.set(s.firstDay, (cohortSize.get(s.firstDay) ?? 0) + 1);
  // E[X(t)] depends only on the age endDay - firstDay: a few hundred distinct ages stand
  // behind (first days x weeks) terms, so each is computed once (a 2F1 series for BG/NBD).
  const expectedByAge = new Map<number, number>();
  const expectedAtAge = (age: number) => {
    let value = expectedByAge.get(age);
    if (value === undefined) {
      value = model.expectedPurchases(age / days);
      expectedByAge.set(age, value);
    }
    return value;
  };
  const cumulativeModel = (endDay: number) => {
    let sum = 0;
    for (const [firstDay, count] of cohortSize) {
      if (firstDay < endDay) sum += count * expectedAtAge(endDay - firstDay);
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
