// BG/NBD (Fader, Hardie & Lee 2005) and modified BG/NBD (Batislam, Denizel & Filiztekin
// 2007). While active, a customer buys at Poisson rate λ ~ Gamma(r, α); after each
// purchase they drop out with probability p ~ Beta(a, b). The modified model also lets
// them drop out right after the first purchase (time 0), so a customer with no repeat
// purchase is not certainly alive. Times are in the caller's unit.
import { ageScale, fitCountModel, HOMOGENEOUS_SHAPE, type CountModelSpec, type FitOptions, type FitResult, type LogLikelihood } from "./estimation";
import { expectedWhileActive } from "./mixtures";
import { type PreparedRows, type RfRow, TripleCounter, sumsPerDistinctT } from "./rows";
import {
  digamma,
  lbeta,
  lgamma,
  log1pExp,
  logistic,
  logNegativeBinomialPmf,
  negativeBinomialTail,
} from "./special";
import { assertPositiveParameters, assertValidRow } from "./validate";

export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

const NAMES = ["r", "alpha", "a", "b"] as const;

const checkParams = (params: BgNbdParams) => assertPositiveParameters(params, NAMES);

/**
 * log of the drop-out odds D: the likelihood is e^{A3}(1 + e^D), where e^D weighs "dropped
 * out right after the last purchase" against "still active at T".
 */
function dropOutLogOdds(params: BgNbdParams, modified: boolean, x: number, tx: number, T: number): number {
  const { r, alpha, a, b } = params;
  if (!modified && x === 0) return Number.NEGATIVE_INFINITY;
  const shift = modified ? 0 : -1;
  return Math.log(a) - Math.log(b + x + shift) + (r + x) * (Math.log(alpha + T) - Math.log(alpha + tx));
}

function rowLogLikelihood(params: BgNbdParams, modified: boolean, x: number, tx: number, T: number): number {
  checkParams(params);
  assertValidRow(x, tx, T);
  const { r, alpha, a, b } = params;
  const shift = modified ? 1 : 0;
  const constant =
    lgamma(r + x) - lgamma(r) + r * Math.log(alpha) + lgamma(a + b) + lgamma(b + x + shift) - lgamma(b) - lgamma(a + b + x + shift);
  const D = dropOutLogOdds(params, modified, x, tx, T);
  return constant - (r + x) * Math.log(alpha + T) + (D === Number.NEGATIVE_INFINITY ? 0 : log1pExp(D));
}

/**
 * Total log-likelihood over prepared rows and its gradient in the log-parameters. The
 * gamma-function terms are summed per distinct x and log(α + t) per distinct time, so
 * the per-row work is one exp and one log1p.
 */
function logLikelihoodFunction(rows: PreparedRows, modified: boolean): LogLikelihood {
  const shift = modified ? 1 : 0;
  const times = rows.times;
  const logAlphaTime = new Float64Array(times.length);
  const inverseAlphaTime = new Float64Array(times.length);
  const logBx = new Float64Array(rows.xValues.length);
  const inverseBx = new Float64Array(rows.xValues.length);
  const { x: xs, weight, xOf, txOf, TOf, count } = rows;
  // The "active at T" factor (α + T)^-(r+x) reads a row only through x and T: summed once per
  // distinct T (customers and purchases there), so the row loop keeps only the drop-out term.
  const { customersAt, purchasesAt } = sumsPerDistinctT(rows);
  return (theta) => {
    const r = Math.exp(theta[0]);
    const alpha = Math.exp(theta[1]);
    const a = Math.exp(theta[2]);
    const b = Math.exp(theta[3]);
    for (let i = 0; i < times.length; i++) {
      logAlphaTime[i] = Math.log(alpha + times[i]);
      inverseAlphaTime[i] = 1 / (alpha + times[i]);
    }
    const logAlpha = Math.log(alpha);
    const logA = Math.log(a);
    const lgR = lgamma(r);
    const psiR = digamma(r);
    const lgAB = lgamma(a + b);
    const psiAB = digamma(a + b);
    const lgB = lgamma(b);
    const psiB = digamma(b);
    let value = 0;
    let dR = 0;
    let dAlpha = 0;
    let dA = 0;
    let dB = 0;
    for (let k = 0; k < rows.xValues.length; k++) {
      const x = rows.xValues[k];
      const w = rows.xWeights[k];
      const bx = b + x + shift;
      const abx = a + b + x + shift;
      value += w * (lgamma(r + x) - lgR + r * logAlpha + lgAB + lgamma(bx) - lgB - lgamma(abx));
      dR += w * (digamma(r + x) - psiR + logAlpha);
      dAlpha += (w * r) / alpha;
      const psiABX = digamma(abx);
      dA += w * (psiAB - psiABX);
      dB += w * (psiAB + digamma(bx) - psiB - psiABX);
      // b + x - 1 for BG/NBD (only used when x > 0), b + x for the modified model.
      logBx[k] = Math.log(bx - 1);
      inverseBx[k] = 1 / (bx - 1);
    }
    for (let t = 0; t < times.length; t++) {
      const customers = customersAt[t];
      if (customers === 0) continue;
      const rx = r * customers + purchasesAt[t];
      value -= rx * logAlphaTime[t];
      dR -= customers * logAlphaTime[t];
      dAlpha -= rx * inverseAlphaTime[t];
    }
    let dropWeight = 0;
    for (let i = 0; i < count; i++) {
      const x = xs[i];
      if (!modified && x === 0) continue;
      const w = weight[i];
      const rx = r + x;
      const tIndex = TOf[i];
      const logT = logAlphaTime[tIndex];
      const txIndex = txOf[i];
      const logTx = logAlphaTime[txIndex];
      const D = logA - logBx[xOf[i]] + rx * (logT - logTx);
      const e = Math.exp(-Math.abs(D));
      value += w * ((D > 0 ? D : 0) + Math.log1p(e));
      const inverse = 1 / (1 + e);
      const share = D >= 0 ? inverse : e * inverse;
      const ws = w * share;
      dR += ws * (logT - logTx);
      dAlpha += ws * rx * (inverseAlphaTime[tIndex] - inverseAlphaTime[txIndex]);
      dropWeight += ws;
      dB -= ws * inverseBx[xOf[i]];
    }
    dA += dropWeight / a;
    return { value, gradient: [r * dR, alpha * dAlpha, a * dA, b * dB] };
  };
}

/**
 * The homogeneous drop-out limit's total log-likelihood (a, b -> ∞ with a/(a+b) = p: one p
 * for every customer, λ ~ Gamma(r, α) still varying) and its gradient in (log r, log α,
 * log p/(1-p)). Per customer (m = 1 for the modified model, homogeneous-dropout.ts):
 *   log Γ(r+x)/Γ(r) + r log α + (x+m) log(1-p) - (r+x) log(α+T) + [x+m > 0] log(1 + e^D),
 *   D = log p/(1-p) + (r+x) (log(α+T) - log(α+t_x)).
 * The 4-parameter likelihood tends to this along the ridge, but there its gamma functions of
 * a + b lose the digits that tell ridge points apart (ADR 0020); this one keeps them.
 */
function homogeneousLogLikelihoodFunction(rows: PreparedRows, modified: boolean): LogLikelihood {
  const m = modified ? 1 : 0;
  const times = rows.times;
  const logAlphaTime = new Float64Array(times.length);
  const inverseAlphaTime = new Float64Array(times.length);
  const { x: xs, weight, txOf, TOf, count } = rows;
  const { customersAt, purchasesAt } = sumsPerDistinctT(rows);
  return (theta) => {
    const r = Math.exp(theta[0]);
    const alpha = Math.exp(theta[1]);
    const logOdds = theta[2];
    const p = logistic(logOdds);
    // log(1 - p) = -log(1 + odds), without forming 1 - p.
    const logQ = -log1pExp(logOdds);
    for (let i = 0; i < times.length; i++) {
      logAlphaTime[i] = Math.log(alpha + times[i]);
      inverseAlphaTime[i] = 1 / (alpha + times[i]);
    }
    const logAlpha = Math.log(alpha);
    const lgR = lgamma(r);
    const psiR = digamma(r);
    let value = 0;
    let dR = 0;
    let dAlpha = 0;
    let dU = 0;
    for (let k = 0; k < rows.xValues.length; k++) {
      const x = rows.xValues[k];
      const w = rows.xWeights[k];
      value += w * (lgamma(r + x) - lgR + r * logAlpha + (x + m) * logQ);
      dR += w * (digamma(r + x) - psiR + logAlpha);
      dAlpha += (w * r) / alpha;
      dU -= w * (x + m) * p;
    }
    for (let t = 0; t < times.length; t++) {
      const customers = customersAt[t];
      if (customers === 0) continue;
      const rx = r * customers + purchasesAt[t];
      value -= rx * logAlphaTime[t];
      dR -= customers * logAlphaTime[t];
      dAlpha -= rx * inverseAlphaTime[t];
    }
    for (let i = 0; i < count; i++) {
      const x = xs[i];
      if (x + m === 0) continue;
      const w = weight[i];
      const rx = r + x;
      const tIndex = TOf[i];
      const txIndex = txOf[i];
      const logT = logAlphaTime[tIndex];
      const logTx = logAlphaTime[txIndex];
      const D = logOdds + rx * (logT - logTx);
      const e = Math.exp(-Math.abs(D));
      value += w * ((D > 0 ? D : 0) + Math.log1p(e));
      const inverse = 1 / (1 + e);
      const ws = w * (D >= 0 ? inverse : e * inverse);
      dR += ws * (logT - logTx);
      dAlpha += ws * rx * (inverseAlphaTime[tIndex] - inverseAlphaTime[txIndex]);
      dU += ws;
    }
    return { value, gradient: [r * dR, alpha * dAlpha, dU] };
  };
}

function startingPoints(rows: PreparedRows): number[][] {
  const scale = ageScale(rows);
  return [
    [0.5, 0.5 * scale, 1, 2],
    [1, scale, 0.5, 0.5],
    [0.1, 0.1 * scale, 2, 5],
  ].map((start) => start.map(Math.log));
}

/** Near the no-drop-out edge: mean drop-out probabilities a/(a+b) of 1 % and less (the retail case's maximum: 0.0096). */
function edgeStarts(nbd: number[]): number[][] {
  return [
    [0.05, 5],
    [0.01, 1],
    [0.5, 50],
  ].map(([a, b]) => [nbd[0], nbd[1], Math.log(a), Math.log(b)]);
}

function spec(modified: boolean): CountModelSpec {
  return {
    names: NAMES,
    logLikelihood: (rows) => logLikelihoodFunction(rows, modified),
    starts: startingPoints,
    timeScaled: [1],
    // E[p] = a / (a + b).
    dropOutShare: (theta) => 1 / (1 + Math.exp(theta[3] - theta[2])),
    edgeStarts,
    homogeneousAt: ([logR, , logA, logB], limit = HOMOGENEOUS_SHAPE) => {
      if (Math.exp(logR) > limit) return `r ran to ${Math.exp(logR).toExponential(2)} (every customer the same purchase rate)`;
      if (Math.min(Math.exp(logA), Math.exp(logB)) > limit) {
        return `a, b ran to ${Math.exp(logA).toExponential(2)}, ${Math.exp(logB).toExponential(2)} (every customer the same drop-out probability)`;
      }
      return null;
    },
    homogeneousDropOut: ([logR, , logA, logB]) =>
      Math.exp(logR) <= HOMOGENEOUS_SHAPE && Math.min(Math.exp(logA), Math.exp(logB)) > HOMOGENEOUS_SHAPE
        ? { parameter: "p", value: 1 / (1 + Math.exp(logB - logA)), timeScaled: false }
        : null,
    homogeneousLogLikelihood: (rows) => homogeneousLogLikelihoodFunction(rows, modified),
  };
}

/** Likelihood, gradient and starting points of BG/NBD, for the estimator (and its tests). */
export const bgnbdSpec: CountModelSpec = spec(false);
/** Same for the modified BG/NBD. */
export const modifiedBgnbdSpec: CountModelSpec = spec(true);

// Bodies shared by the BG/NBD and modified BG/NBD functions below (`modified` picks the model).

function totalLogLikelihood(params: BgNbdParams, modified: boolean, rows: readonly RfRow[]): number {
  return rows.reduce((sum, row) => sum + row.weight * rowLogLikelihood(params, modified, row.x, row.tx, row.T), 0);
}

function pAliveOf(params: BgNbdParams, modified: boolean, x: number, tx: number, T: number): number {
  checkParams(params);
  assertValidRow(x, tx, T);
  return logistic(-dropOutLogOdds(params, modified, x, tx, T));
}

/**
 * P(X(t) = n): active after n (modified: n + 1) survived drop-out chances, or dropped out at
 * the n-th chance with at least n purchases by t. BG/NBD has no drop-out chance before the
 * first repeat purchase, so for n = 0 only the active term counts.
 */
function probabilityOfPurchases(params: BgNbdParams, modified: boolean, n: number, t: number): number {
  checkParams(params);
  if (!(n >= 0) || !Number.isInteger(n)) throw new RangeError(`n = ${n} must be a whole number >= 0`);
  const { r, alpha, a, b } = params;
  // b + n + shift and b + n - (1 - shift) add 0 exactly, so each model keeps its own arithmetic.
  const shift = modified ? 1 : 0;
  const z = t / (alpha + t);
  const logZ = Math.log(t) - Math.log(alpha + t);
  const logOneMinusZ = -Math.log1p(t / alpha);
  const active = Math.exp(lbeta(a, b + n + shift) - lbeta(a, b) + logNegativeBinomialPmf(n, r, logZ, logOneMinusZ));
  if (!modified && n === 0) return active;
  const dropped = Math.exp(lbeta(a + 1, b + n - (1 - shift)) - lbeta(a, b)) * negativeBinomialTail(n, r, z);
  return active + dropped;
}

/** pAlive · P(Exp(λ) <= t | x, T): the active customer's next purchase comes at rate λ. */
function purchaseWithin(params: BgNbdParams, alive: number, t: number, x: number, T: number): number {
  return alive * bgnbdPurchaseWithinIfAlive(params, t, x, T);
}

/** P(a purchase in (T, T + t] | alive at T, x, T), both BG/NBD and the modified: probabilityOfPurchaseWithin is P(alive) times this, exactly. */
export function bgnbdPurchaseWithinIfAlive(params: BgNbdParams, t: number, x: number, T: number): number {
  return -Math.expm1(-(params.r + x) * Math.log1p(t / (params.alpha + T)));
}

// ---------------------------------------------------------------------------------------
// BG/NBD

/** Maximum-likelihood BG/NBD fit on weighted (x, t_x, T) rows. */
export function fitBgNbd(rows: readonly RfRow[] | PreparedRows, options: FitOptions = {}): FitResult<BgNbdParams> {
  return fitCountModel<BgNbdParams>(bgnbdSpec, rows, options);
}

/** log-likelihood of one customer (a density in t_x when x > 0, so it can be positive). */
export function bgnbdLogLikelihoodRow(params: BgNbdParams, x: number, tx: number, T: number): number {
  return rowLogLikelihood(params, false, x, tx, T);
}

/** Total weighted log-likelihood of rows. */
export function bgnbdLogLikelihood(params: BgNbdParams, rows: readonly RfRow[]): number {
  return totalLogLikelihood(params, false, rows);
}

/** P(active at T | x, t_x, T). */
export function bgnbdPAlive(params: BgNbdParams, x: number, tx: number, T: number): number {
  return pAliveOf(params, false, x, tx, T);
}

/** E[X(t)]: expected repeat purchases in (0, t] of a customer who just made a first purchase. */
export function bgnbdExpectedPurchases(params: BgNbdParams, t: number): number {
  checkParams(params);
  const { r, alpha, a, b } = params;
  return expectedWhileActive(r, alpha, a, b, t);
}

/** E[Y(t) | x, t_x, T]: expected purchases in (T, T + t]. */
export function bgnbdConditionalExpectedPurchases(params: BgNbdParams, t: number, x: number, tx: number, T: number): number {
  const pAlive = bgnbdPAlive(params, x, tx, T);
  return pAlive * activeExpectation(params, t, x, T, 0);
}

/**
 * E[Y(t) | alive at T, x, T]: the conditional expectation without its P(alive) factor, for
 * callers asking several horizons of one customer (P(alive) once). x, T as validated by pAlive.
 */
export function bgnbdExpectedPurchasesIfAlive(params: BgNbdParams, t: number, x: number, T: number): number {
  return activeExpectation(params, t, x, T, 0);
}

// The expectation while active (a 2F1 series) depends on (x, T, t) only, not on t_x (in both
// BG/NBD and the modified BG/NBD): scoring a shop's customers meets the same (x, T, t) again
// and again (a dozen horizons per customer, customers of the same age), so values are kept
// per parameter set, up to a bound. The keys live in a typed-array hash table (TripleCounter):
// a string key per call cost more than the series it saved and, at a million customers, most
// of the scoring phase with its garbage (issue 16).
const ACTIVE_MEMO_LIMIT = 1 << 19;
const activeMemo = { r: Number.NaN, alpha: Number.NaN, a: Number.NaN, b: Number.NaN, keys: new TripleCounter(), values: [] as number[] };

/** expectedWhileActive(r + x, alpha + T, a, b + x + extraSurvivals, t), remembered. */
function activeExpectation(params: BgNbdParams, t: number, x: number, T: number, extraSurvivals: 0 | 1): number {
  const { r, alpha, a, b } = params;
  const memo = activeMemo;
  if (memo.r !== r || memo.alpha !== alpha || memo.a !== a || memo.b !== b || memo.values.length >= ACTIVE_MEMO_LIMIT) {
    memo.r = r;
    memo.alpha = alpha;
    memo.a = a;
    memo.b = b;
    memo.keys = new TripleCounter();
    memo.values = [];
  }
  // x is a whole number, so 2x + extraSurvivals is one exact key for both.
  const id = memo.keys.addTriple(2 * x + extraSurvivals, T, t, 0);
  if (id < memo.values.length) return memo.values[id];
  const value = expectedWhileActive(r + x, alpha + T, a, b + x + extraSurvivals, t);
  memo.values.push(value);
  return value;
}

/** P(X(t) = n): probability of exactly n repeat purchases in (0, t] (FHL 2005, eq. 8). */
export function bgnbdProbabilityOfPurchases(params: BgNbdParams, n: number, t: number): number {
  return probabilityOfPurchases(params, false, n, t);
}

/**
 * P(at least one purchase in (T, T + t] | x, t_x, T). An active customer's next purchase
 * comes at rate λ whatever happens after it, so this is P(alive) · P(Exp(λ) <= t | history).
 */
export function bgnbdProbabilityOfPurchaseWithin(params: BgNbdParams, t: number, x: number, tx: number, T: number): number {
  return purchaseWithin(params, bgnbdPAlive(params, x, tx, T), t, x, T);
}

/**
 * Smallest t with P(a purchase in (T, T+t]) >= probability, or null when it never gets
 * there (P(alive) <= probability). Closed form for the BG/NBD family.
 */
export function bgnbdTimeToPurchase(params: BgNbdParams, x: number, tx: number, T: number, probability = 0.5): number | null {
  return activeTimeToPurchase(bgnbdPAlive(params, x, tx, T), params.r + x, params.alpha + T, probability);
}

function activeTimeToPurchase(pAlive: number, shape: number, rate: number, probability: number): number | null {
  if (!(pAlive > probability)) return null;
  // pAlive (1 - (rate/(rate+t))^shape) = probability  =>  t = rate (q^{-1/shape} - 1).
  const logQ = Math.log1p(-probability / pAlive);
  return rate * Math.expm1(-logQ / shape);
}

// ---------------------------------------------------------------------------------------
// Modified BG/NBD

/** Maximum-likelihood modified BG/NBD fit on weighted (x, t_x, T) rows. */
export function fitModifiedBgNbd(rows: readonly RfRow[] | PreparedRows, options: FitOptions = {}): FitResult<BgNbdParams> {
  return fitCountModel<BgNbdParams>(modifiedBgnbdSpec, rows, options);
}

export function modifiedBgnbdLogLikelihoodRow(params: BgNbdParams, x: number, tx: number, T: number): number {
  return rowLogLikelihood(params, true, x, tx, T);
}

export function modifiedBgnbdLogLikelihood(params: BgNbdParams, rows: readonly RfRow[]): number {
  return totalLogLikelihood(params, true, rows);
}

export function modifiedBgnbdPAlive(params: BgNbdParams, x: number, tx: number, T: number): number {
  return pAliveOf(params, true, x, tx, T);
}

/** E[X(t)]: the customer may drop out right at the first purchase, with probability E[p]. */
export function modifiedBgnbdExpectedPurchases(params: BgNbdParams, t: number): number {
  checkParams(params);
  const { r, alpha, a, b } = params;
  // E[(1-p)/p (1 - e^{-λpt})] = b/(a+b) · H(r, α, a, b+1; t).
  return (b / (a + b)) * expectedWhileActive(r, alpha, a, b + 1, t);
}

export function modifiedBgnbdConditionalExpectedPurchases(params: BgNbdParams, t: number, x: number, tx: number, T: number): number {
  const pAlive = modifiedBgnbdPAlive(params, x, tx, T);
  // Active at T after x + 1 survived drop-out chances: p | history ~ Beta(a, b + x + 1).
  return pAlive * activeExpectation(params, t, x, T, 1);
}

/** The modified model's E[Y(t) | alive at T, x, T] (see bgnbdExpectedPurchasesIfAlive). */
export function modifiedBgnbdExpectedPurchasesIfAlive(params: BgNbdParams, t: number, x: number, T: number): number {
  return activeExpectation(params, t, x, T, 1);
}

/**
 * P(X(t) = n): active after n + 1 survived chances with n purchases, or dropped out at the
 * n-th chance (time 0 for n = 0) with at least n purchases made by t.
 */
export function modifiedBgnbdProbabilityOfPurchases(params: BgNbdParams, n: number, t: number): number {
  return probabilityOfPurchases(params, true, n, t);
}

export function modifiedBgnbdProbabilityOfPurchaseWithin(params: BgNbdParams, t: number, x: number, tx: number, T: number): number {
  return purchaseWithin(params, modifiedBgnbdPAlive(params, x, tx, T), t, x, T);
}

export function modifiedBgnbdTimeToPurchase(params: BgNbdParams, x: number, tx: number, T: number, probability = 0.5): number | null {
  return activeTimeToPurchase(modifiedBgnbdPAlive(params, x, tx, T), params.r + x, params.alpha + T, probability);
}
