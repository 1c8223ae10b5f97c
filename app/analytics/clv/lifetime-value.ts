// Predicted customer lifetime value and expected next-order date from a fitted count model
// (and, for value, a spend model). One convention each, stated here, in
// DISCOUNTING_CONVENTION / NEXT_ORDER_CONVENTION (stored with every model) and in
// docs/analytics/clv.md.
import { type CountModel } from "./count-model";
import { TripleCounter } from "./rows";

/** Days in the average Gregorian month; the discounting period. */
export const MONTH_DAYS = 365.25 / 12;

export const DISCOUNTING_CONVENTION =
  "monthly: the annual rate is converted to a monthly rate (1 + annual)^(1/12) - 1; the purchases expected in " +
  "month k (k = 1..H, H = horizon in days / (365.25/12), rounded, at least 1) are discounted by (1 + monthly)^k; " +
  "CLV = gross margin x expected order value x sum over k of (E[Y(k months)] - E[Y(k-1 months)]) / (1 + monthly)^k";

/** Cap on the expected next-order date: beyond it the date is reported as null. */
export const NEXT_ORDER_CAP_DAYS = 730;

export const NEXT_ORDER_CONVENTION =
  "the median wait: the first day by which the model gives at least a 50% chance of another order, given the " +
  "customer's history (P(alive) times the chance an active customer orders within that time); null when that chance " +
  `never reaches 50% (P(alive) at most 50%, or Pareto/NBD customers likely to lapse first) or only after ${NEXT_ORDER_CAP_DAYS} days`;

export interface ValueHorizon {
  /** Length of one model time unit in days (7 for weeks). */
  unitDays: number;
  horizonDays: number;
  /** Annual discount rate, e.g. 0.10. */
  annualDiscountRate: number;
}

export function monthlyDiscountRate(annualRate: number): number {
  if (!(annualRate > -1) || !Number.isFinite(annualRate)) throw new RangeError(`annual discount rate ${annualRate} must be a number above -1`);
  return Math.expm1(Math.log1p(annualRate) / 12);
}

/** Whole months in the horizon (at least 1). */
export function horizonMonths(horizonDays: number): number {
  if (!(horizonDays > 0) || !Number.isFinite(horizonDays)) throw new RangeError(`horizon ${horizonDays} days must be a positive number`);
  return Math.max(1, Math.round(horizonDays / MONTH_DAYS));
}

/**
 * Discounted expected purchases over the horizon: Σ_k (E[Y(k months)] - E[Y(k-1 months)])
 * / (1 + monthly)^k for a customer with history (x, t_x, T) in model units.
 */
export function discountedExpectedPurchases(model: CountModel, x: number, tx: number, T: number, horizon: ValueHorizon): number {
  const months = horizonMonths(horizon.horizonDays);
  const discount = 1 + monthlyDiscountRate(horizon.annualDiscountRate);
  const monthInUnits = MONTH_DAYS / horizon.unitDays;
  // P(alive) and its checks once; alive · E[Y | alive] is conditionalExpectedPurchases exactly.
  const alive = model.pAlive(x, tx, T);
  let previous = 0;
  let total = 0;
  let factor = 1;
  for (let k = 1; k <= months; k++) {
    const cumulative = alive * model.expectedPurchasesIfAlive(k * monthInUnits, x, T);
    factor /= discount;
    total += (cumulative - previous) * factor;
    previous = cumulative;
  }
  return total;
}

/**
 * E[Y(t) | alive at T, x, T] at every horizon one customer's prediction needs (`leading`
 * ones, then the CLV's month ends), kept per (x, T): it does not depend on t_x, and a
 * million customers share some 65,000 (x, T) pairs, so scoring one is P(alive) times
 * remembered values (one hash lookup instead of one per horizon, issue 16). Starts afresh
 * past `maxPairs`.
 */
export class HorizonExpectations {
  private readonly times: Float64Array;
  private readonly months: number;
  private readonly discount: number;
  private keys = new TripleCounter();
  private pairs = 0;
  /** Values per pair: leading horizons, then months 1..H; read after offsetOf (which may replace it). */
  values: Float64Array;

  constructor(
    private readonly model: CountModel,
    leading: readonly number[],
    horizon: ValueHorizon,
    private readonly maxPairs = 1 << 17,
  ) {
    this.months = horizonMonths(horizon.horizonDays);
    this.discount = 1 + monthlyDiscountRate(horizon.annualDiscountRate);
    const monthInUnits = MONTH_DAYS / horizon.unitDays;
    this.times = Float64Array.from([...leading, ...Array.from({ length: this.months }, (_, k) => (k + 1) * monthInUnits)]);
    // Grows as pairs come: a model restored to score one customer (a page, a webhook) stays small.
    this.values = new Float64Array(16 * this.times.length);
  }

  /** Where (x, T)'s values start in `values` (x, T valid, as P(alive) checks them). */
  offsetOf(x: number, T: number): number {
    const stride = this.times.length;
    let id = this.keys.addTriple(x, T, 0, 0);
    if (id < this.pairs) return id * stride;
    if (this.pairs === this.maxPairs) {
      this.keys = new TripleCounter();
      this.pairs = 0;
      id = this.keys.addTriple(x, T, 0, 0);
    }
    if ((id + 1) * stride > this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    const at = id * stride;
    for (let i = 0; i < stride; i++) this.values[at + i] = this.model.expectedPurchasesIfAlive(this.times[i], x, T);
    this.pairs++;
    return at;
  }

  /** discountedExpectedPurchases from the month values at `offset`, with its arithmetic exactly. */
  discounted(alive: number, offset: number): number {
    const first = offset + this.times.length - this.months;
    let previous = 0;
    let total = 0;
    let factor = 1;
    for (let k = 0; k < this.months; k++) {
      const cumulative = alive * this.values[first + k];
      factor /= this.discount;
      total += (cumulative - previous) * factor;
      previous = cumulative;
    }
    return total;
  }
}

/** CLV = gross margin x expected order value x discounted expected purchases. */
export function predictedLifetimeValue(
  model: CountModel,
  customer: { x: number; tx: number; T: number },
  expectedOrderValue: number,
  horizon: ValueHorizon & { grossMargin: number },
): number {
  if (!Number.isFinite(horizon.grossMargin) || horizon.grossMargin < 0) throw new RangeError(`gross margin ${horizon.grossMargin} must be >= 0`);
  return horizon.grossMargin * expectedOrderValue * discountedExpectedPurchases(model, customer.x, customer.tx, customer.T, horizon);
}

/**
 * Days from the as-of day to the expected next order (see NEXT_ORDER_CONVENTION), rounded
 * up to whole days, or null.
 */
export function daysToNextOrder(model: CountModel, x: number, tx: number, T: number, unitDays: number): number | null {
  // Only the day it rounds up to matters: a day's precision (bisection stops there).
  const t = model.timeToPurchase(x, tx, T, 0.5, 1 / unitDays);
  if (t === null) return null;
  const days = Math.max(1, Math.ceil(t * unitDays - 1e-9));
  return days > NEXT_ORDER_CAP_DAYS ? null : days;
}
