// Calibration/holdout backtest: fit on the transactions up to calibrationEndDay, predict
// each customer's repeat purchases in (calibrationEndDay, holdoutEndDay], compare with
// what happened, and track weekly repeat purchases (actual vs model) for a chart. The
// calibration data must pass the main fit's minimums (shop-model.ts), and the holdout is
// also read the way the literature reads it: mean holdout purchases by calibration
// purchases (Fader, Hardie & Lee 2005, the conditional expectations) and the spend
// model's error on the repeat buyers' holdout order values.
import { dayToIso } from "~/analytics/dates";
import { Random } from "~/analytics/random";
import { type CustomerSummary, groupByCustomer, summarizeGroup, type Transaction, TransactionTable } from "~/analytics/summary";
import { type TimeUnit, unitDays } from "~/analytics/units";
import { type CountModelName, type CountModelParams, fitCountModelByName, fittedCountModel } from "./count-model";
import { type HomogeneousDropOut, homogeneousDropOutOf } from "./homogeneous-dropout";
import { compressSpendRows, fitGammaGamma, type GammaGammaParams, gammaGammaExpectedValue } from "./gamma-gamma";
import { compressRows, TripleCounter } from "./rows";
import { MIN_CUSTOMERS, MIN_HISTORY_DAYS, MIN_REPEAT_BUYERS, type ShopModelFailureCode } from "./shop-model";

export interface BacktestOptions {
  /** Last day of the calibration period (inclusive). */
  calibrationEndDay: number;
  /** Last day of the holdout period (inclusive). */
  holdoutEndDay: number;
  unit: TimeUnit;
  /** Count model to test (default BG/NBD). */
  model?: CountModelName;
  /**
   * Called once per calibration customer (table customer index) with their holdout figures;
   * predictedSpend is null without a spend model. For per-customer output (the CLI's
   * customers.csv), so the result itself stays small.
   */
  onCustomer?: (customerIndex: number, predictedPurchases: number, actualPurchases: number, predictedSpend: number | null, actualSpend: number) => void;
}

/** Why the calibration data are too thin for a backtest: the main fit's codes. */
export type BacktestRefusalCode = Exclude<ShopModelFailureCode, "did-not-converge">;

/** The calibration period leaves too little data for a fit worth testing (the main fit's minimums). */
export class BacktestDataError extends RangeError {
  constructor(
    readonly code: BacktestRefusalCode,
    message: string,
  ) {
    super(message);
    this.name = "BacktestDataError";
  }
}

/** Groups of the conditional-expectation table: 0, 1, ..., 6 and 7 or more calibration repeat purchases. */
export const CONDITIONAL_EXPECTATION_GROUPS = 8;

/** One row of the conditional-expectation table (FHL 2005, figure 4). */
export interface ConditionalExpectationRow {
  /** Repeat purchases (x) in the calibration period; the last row counts this many or more. */
  frequency: number;
  orMore: boolean;
  customers: number;
  /** Mean holdout purchase days per customer of the group; null for an empty group. */
  actual: number | null;
  /** Mean E[Y(holdout) | x, t_x, T] per customer of the group; null for an empty group. */
  predicted: number | null;
}

/**
 * The spend model (Gamma-Gamma, fitted on the calibration period) against the holdout:
 * over calibration repeat buyers (x > 0, m > 0) who bought in the holdout, E[M | x, m]
 * against their actual average holdout order value (value of the holdout purchase days /
 * their number, counted as monetary_value counts them).
 */
export interface SpendHoldoutError {
  params: GammaGammaParams;
  customers: number;
  /** Mean |E[M | x, m] - actual average holdout order value|, money per order. */
  meanAbsoluteError: number;
  /** Mean (E[M | x, m] - actual): positive when the model expects bigger orders than came. */
  bias: number;
  meanPredicted: number;
  meanActual: number;
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
  /** Set when the calibration fit is at the homogeneous drop-out limit: its predictions use r, α and this p or μ (countModel's third argument). */
  homogeneousDropOut?: HomogeneousDropOut;
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
  /** Mean actual vs predicted holdout purchases by calibration purchases 0, 1, ..., 7+. */
  conditionalExpectations: ConditionalExpectationRow[];
  /** Null (with spendNote) when the calibration period has no usable spend model. */
  spend: SpendHoldoutError | null;
  spendNote: string | null;
}

/**
 * Calls back with each purchase day of a customer's grouped rows (day order) and its value
 * (the sum of the day's rows). A day is a purchase day when one of its rows has amount >= 0,
 * as in summary.ts.
 */
function forEachPurchaseDay(table: TransactionTable, order: Int32Array, from: number, to: number, callback: (day: number, value: number) => void): void {
  const days = table.days;
  const amounts = table.amounts;
  let position = from;
  while (position < to) {
    const day = days[order[position]];
    let purchase = false;
    let value = 0;
    while (position < to && days[order[position]] === day) {
      const amount = amounts[order[position]];
      if (amount >= 0) purchase = true;
      value += amount;
      position++;
    }
    if (purchase) callback(day, value);
  }
}

/** The main fit's minimums (shop-model.ts), applied to the calibration period; throws BacktestDataError. */
function checkCalibrationData(summaries: readonly CustomerSummary[], calibrationEndDay: number): void {
  const period = `the calibration period up to ${dayToIso(calibrationEndDay)}`;
  if (summaries.length < MIN_CUSTOMERS) {
    throw new BacktestDataError("too-few-customers", `${period} has ${summaries.length} customer${summaries.length === 1 ? "" : "s"} with an order; a backtest needs at least ${MIN_CUSTOMERS}`);
  }
  let repeatBuyers = 0;
  let firstDay = calibrationEndDay;
  for (const s of summaries) {
    if (s.frequency > 0) repeatBuyers++;
    if (s.firstDay < firstDay) firstDay = s.firstDay;
  }
  if (repeatBuyers < MIN_REPEAT_BUYERS) {
    throw new BacktestDataError(
      "too-few-repeat-buyers",
      `${period} has ${repeatBuyers} customer${repeatBuyers === 1 ? "" : "s"} who ordered more than once; a backtest needs at least ${MIN_REPEAT_BUYERS}`,
    );
  }
  const historyDays = calibrationEndDay - firstDay;
  if (historyDays < MIN_HISTORY_DAYS) {
    throw new BacktestDataError("history-too-short", `${period} holds ${historyDays} day${historyDays === 1 ? "" : "s"} of order history; a backtest needs at least ${MIN_HISTORY_DAYS}`);
  }
}

/**
 * Above this many calibration repeat buyers, the spend model of the backtest is fitted on a
 * seeded random sample of this many: three parameters need far fewer, and the fit's cost
 * grows with the distinct (x, m) rows, nearly one per buyer (0.5 s for 70,000 rows). The
 * error is still measured on every repeat buyer.
 */
export const BACKTEST_SPEND_FIT_MAX_CUSTOMERS = 50_000;

/** Gamma-Gamma on the calibration summaries, with the main fit's conditions (enough repeat buyers, converged, q > 1). */
function fitCalibrationSpend(summaries: readonly CustomerSummary[]): { params: GammaGammaParams | null; note: string | null } {
  let buyers = summaries.filter((s) => s.frequency > 0 && s.monetaryValue > 0);
  if (buyers.length > BACKTEST_SPEND_FIT_MAX_CUSTOMERS) {
    // Seeded and from a canonical order (the model sees only x and m), so the same data in
    // any row order give the same backtest; a partial Fisher-Yates shuffle.
    const random = new Random("backtest-spend");
    buyers = buyers.slice().sort((p, q) => p.frequency - q.frequency || p.monetaryValue - q.monetaryValue);
    for (let i = 0; i < BACKTEST_SPEND_FIT_MAX_CUSTOMERS; i++) {
      const j = random.int(i, buyers.length - 1);
      [buyers[i], buyers[j]] = [buyers[j], buyers[i]];
    }
    buyers.length = BACKTEST_SPEND_FIT_MAX_CUSTOMERS;
  }
  const rows = compressSpendRows(buyers);
  const customers = rows.reduce((sum, row) => sum + row.weight, 0);
  if (customers < MIN_REPEAT_BUYERS) {
    return { params: null, note: `${customers} calibration customers with a repeat purchase of positive value; the spend model needs ${MIN_REPEAT_BUYERS}` };
  }
  const fit = fitGammaGamma(rows, { standardErrors: false });
  if (!fit.converged) return { params: null, note: `the calibration spend model did not converge (${fit.message})` };
  if (!(fit.params.q > 1)) return { params: null, note: `the calibration spend model's q <= 1 implies an infinite mean order value` };
  return { params: fit.params, note: null };
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
  checkCalibrationData(summaries, calibrationEndDay);
  const modelName = opts.model ?? "bgnbd";
  const fit = fitCountModelByName(modelName, compressRows(summaries), { standardErrors: false });
  const model = fittedCountModel(modelName, fit);
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
  const groups = CONDITIONAL_EXPECTATION_GROUPS;
  const groupCustomers = new Float64Array(groups);
  const groupActual = new Float64Array(groups);
  const groupPredicted = new Float64Array(groups);
  const spendFit = fitCalibrationSpend(summaries);
  const spendParams = spendFit.params;
  const spendError = { customers: 0, absolute: 0, signed: 0, predicted: 0, actual: 0 };
  const onCustomer = opts.onCustomer;
  let actual = 0;
  let actualSpend = 0;
  summaries.forEach((s, i) => {
    const customer = customerIndices[i];
    actual = 0;
    actualSpend = 0;
    forEachPurchaseDay(table, allGroups.order, allGroups.start[customer], allGroups.start[customer + 1], (day, value) => {
      if (day > s.firstDay) actualByWeek[Math.floor((day - start) / 7)]++;
      if (day > calibrationEndDay) {
        actual++;
        actualSpend += value;
      }
    });
    const history = histories.addTriple(s.frequency, s.recency, s.T, 1);
    if (history === predictions.length) predictions.push(model.conditionalExpectedPurchases(holdoutLength, s.frequency, s.recency, s.T));
    const predicted = predictions[history];
    totalPredicted += predicted;
    totalActual += actual;
    absoluteError += Math.abs(predicted - actual);
    const group = Math.min(s.frequency, groups - 1);
    groupCustomers[group]++;
    groupActual[group] += actual;
    groupPredicted[group] += predicted;
    const orderValue = spendParams ? gammaGammaExpectedValue(spendParams, s.frequency, s.monetaryValue) : null;
    if (orderValue !== null && s.frequency > 0 && s.monetaryValue > 0 && actual > 0) {
      const difference = orderValue - actualSpend / actual;
      spendError.customers++;
      spendError.absolute += Math.abs(difference);
      spendError.signed += difference;
      spendError.predicted += orderValue;
      spendError.actual += actualSpend / actual;
    }
    onCustomer?.(customer, predicted, actual, orderValue === null ? null : predicted * orderValue, actualSpend);
  });
  const conditionalExpectations: ConditionalExpectationRow[] = Array.from({ length: groups }, (_, group) => {
    const customers = groupCustomers[group];
    return {
      frequency: group,
      orMore: group === groups - 1,
      customers,
      actual: customers > 0 ? groupActual[group] / customers : null,
      predicted: customers > 0 ? groupPredicted[group] / customers : null,
    };
  });
  const n = spendError.customers;
  const spend: SpendHoldoutError | null =
    spendParams && n > 0
      ? {
          params: spendParams,
          customers: n,
          meanAbsoluteError: spendError.absolute / n,
          bias: spendError.signed / n,
          meanPredicted: spendError.predicted / n,
          meanActual: spendError.actual / n,
        }
      : null;
  const spendNote = spendParams ? (n > 0 ? null : "no calibration repeat buyer ordered in the holdout") : spendFit.note;

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
    ...(homogeneousDropOutOf(fit.boundary) ? { homogeneousDropOut: homogeneousDropOutOf(fit.boundary)! } : {}),
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
    conditionalExpectations,
    spend,
    spendNote,
  };
}
