// Pareto/NBD (Schmittlein, Morrison & Colombo 1987; Fader & Hardie's derivation notes).
// While alive a customer buys at Poisson rate λ ~ Gamma(r, α); the lifetime is exponential
// with rate μ ~ Gamma(s, β). Times are in the caller's unit.
//
// Likelihood of (x, t_x, T), with Φ from mixtures.ts:
//   L = Γ(r+x)/Γ(r) α^r β^s [ (α+T)^{-(r+x)} (β+T)^{-s} + s (Φ(t_x) - Φ(T)) ],
//   Φ(t) = ∫_t^∞ (α+τ)^{-(r+x)} (β+τ)^{-(s+1)} dτ,
// the first term for "alive at T", the integral for "died at τ in (t_x, T]". This is the
// 2F1 form of the notes (with the larger of α, β in the argument) written as one integral,
// so the difference of the two hypergeometric terms never cancels catastrophically.
import { ageScale, fitCountModel, HOMOGENEOUS_SHAPE, type CountModelSpec, type FitOptions, type FitResult, type LogLikelihood } from "./estimation";
import { emptyTailIntegral, logTailIntegral, type TailIntegral } from "./mixtures";
import { integrateVector } from "./quadrature";
import { DoubleIndex, type PreparedRows, type RfRow } from "./rows";
import { digamma, expm1OverX, lgamma, logAddExp, logNegativeBinomialPmf, logSubExp } from "./special";
import { assertPositiveParameters, assertValidRow } from "./validate";

export interface ParetoNbdParams {
  r: number;
  alpha: number;
  s: number;
  beta: number;
}

const NAMES = ["r", "alpha", "s", "beta"] as const;

const checkParams = (params: ParetoNbdParams) => assertPositiveParameters(params, NAMES);

interface RowTerms {
  /** log of the "alive at T" term, (α+T)^{-(r+x)} (β+T)^{-s}. */
  logAlive: number;
  /** log of s (Φ(t_x) - Φ(T)), the "died in (t_x, T]" term; -Infinity when t_x = T. */
  logDied: number;
  /** log Γ(r+x)/Γ(r) α^r β^s */
  logConstant: number;
}

function rowTerms(params: ParetoNbdParams, x: number, tx: number, T: number): RowTerms {
  const { r, alpha, s, beta } = params;
  const logAlive = -(r + x) * Math.log(alpha + T) - s * Math.log(beta + T);
  const atTx = logTailIntegral(alpha, r + x, beta, s + 1, tx).log;
  const atT = logTailIntegral(alpha, r + x, beta, s + 1, T).log;
  const logDied = Math.log(s) + logSubExp(atTx, Math.min(atT, atTx));
  const logConstant = lgamma(r + x) - lgamma(r) + r * Math.log(alpha) + s * Math.log(beta);
  return { logAlive, logDied, logConstant };
}

/**
 * Total log-likelihood over prepared rows and its gradient in the log-parameters. Φ and
 * its gradient are computed once per distinct (x, time) pair and shared by the rows.
 */
function logLikelihoodFunction(rows: PreparedRows): LogLikelihood {
  const { count, x: xs, weight, xOf, txOf, TOf, times, xValues } = rows;
  // Distinct (x, time) pairs used as (x, t_x) or (x, T).
  const pairIndex = new DoubleIndex();
  const txPair = new Int32Array(count);
  const TPair = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    txPair[i] = pairIndex.idOf(xOf[i] * times.length + txOf[i]);
    TPair[i] = pairIndex.idOf(xOf[i] * times.length + TOf[i]);
  }
  const pairKeys = pairIndex.values();
  const pairX = new Float64Array(pairKeys.length);
  const pairTime = new Float64Array(pairKeys.length);
  for (let k = 0; k < pairKeys.length; k++) {
    pairX[k] = xValues[Math.floor(pairKeys[k] / times.length)];
    pairTime[k] = times[pairKeys[k] % times.length];
  }
  const pairs = pairX.length;
  const logPhi = new Float64Array(pairs);
  const dPhiR = new Float64Array(pairs);
  const dPhiS = new Float64Array(pairs);
  const dPhiAlpha = new Float64Array(pairs);
  const dPhiBeta = new Float64Array(pairs);
  const logAlphaTime = new Float64Array(times.length);
  const logBetaTime = new Float64Array(times.length);
  const inverseAlphaTime = new Float64Array(times.length);
  const inverseBetaTime = new Float64Array(times.length);
  const tail: TailIntegral = emptyTailIntegral();

  return (theta) => {
    const r = Math.exp(theta[0]);
    const alpha = Math.exp(theta[1]);
    const s = Math.exp(theta[2]);
    const beta = Math.exp(theta[3]);
    for (let i = 0; i < times.length; i++) {
      logAlphaTime[i] = Math.log(alpha + times[i]);
      logBetaTime[i] = Math.log(beta + times[i]);
      inverseAlphaTime[i] = 1 / (alpha + times[i]);
      inverseBetaTime[i] = 1 / (beta + times[i]);
    }
    for (let k = 0; k < pairs; k++) {
      logTailIntegral(alpha, r + pairX[k], beta, s + 1, pairTime[k], tail);
      logPhi[k] = tail.log;
      // eA = r + x, eB = s + 1.
      dPhiR[k] = tail.dExponentA;
      dPhiS[k] = tail.dExponentB;
      dPhiAlpha[k] = tail.dA;
      dPhiBeta[k] = tail.dB;
    }
    const logR = lgamma(r);
    const psiR = digamma(r);
    const logAlpha = Math.log(alpha);
    const logBeta = Math.log(beta);
    const logS = Math.log(s);
    let value = 0;
    let dR = 0;
    let dAlpha = 0;
    let dS = 0;
    let dBeta = 0;
    let total = 0;
    for (let k = 0; k < xValues.length; k++) {
      const x = xValues[k];
      const w = rows.xWeights[k];
      value += w * (lgamma(r + x) - logR);
      dR += w * (digamma(r + x) - psiR);
      total += w;
    }
    value += total * (r * logAlpha + s * logBeta);
    dR += total * logAlpha;
    dAlpha += (total * r) / alpha;
    dS += total * logBeta;
    dBeta += (total * s) / beta;
    const inverseS = 1 / s;
    // Per row: two exponentials, one expm1, one log and one division (the row loop is most of a
    // full-data pass); the larger of the two terms is the scale, so its exponential is 1.
    for (let i = 0; i < count; i++) {
      const w = weight[i];
      const rx = r + xs[i];
      const ti = TOf[i];
      const logAlive = -rx * logAlphaTime[ti] - s * logBetaTime[ti];
      const p1 = txPair[i];
      const p2 = TPair[i];
      const q1 = logPhi[p1];
      const q2 = Math.min(logPhi[p2], q1);
      // W = e^P + s e^{Q1} (1 - e^{Q2-Q1}), each share relative to W.
      const logDiedScale = logS + q1;
      const ratio = Math.exp(q2 - q1);
      let scale: number;
      let alive: number;
      let died1: number;
      if (logAlive > logDiedScale) {
        scale = logAlive;
        alive = 1;
        died1 = Math.exp(logDiedScale - logAlive);
      } else {
        scale = logDiedScale;
        alive = Math.exp(logAlive - logDiedScale);
        died1 = 1;
      }
      const died = died1 * -Math.expm1(q2 - q1);
      const sum = alive + died;
      value += w * (scale + Math.log(sum));
      const perSum = w / sum;
      const shareAlive = alive * perSum;
      const share1 = died1 * perSum;
      const share2 = share1 * ratio;
      const shareDied = share1 - share2;
      // ∂P: r -> -log(α+T), α -> -(r+x)/(α+T), s -> -log(β+T), β -> -s/(β+T).
      dR += -shareAlive * logAlphaTime[ti] + share1 * dPhiR[p1] - share2 * dPhiR[p2];
      dAlpha += -shareAlive * rx * inverseAlphaTime[ti] + share1 * dPhiAlpha[p1] - share2 * dPhiAlpha[p2];
      dS += -shareAlive * logBetaTime[ti] + shareDied * inverseS + share1 * dPhiS[p1] - share2 * dPhiS[p2];
      dBeta += -shareAlive * s * inverseBetaTime[ti] + share1 * dPhiBeta[p1] - share2 * dPhiBeta[p2];
    }
    return { value, gradient: [r * dR, alpha * dAlpha, s * dS, beta * dBeta] };
  };
}

function startingPoints(rows: PreparedRows): number[][] {
  const scale = ageScale(rows);
  let maxT = 0;
  for (let i = 0; i < rows.count; i++) maxT = Math.max(maxT, rows.T[i]);
  return [
    [0.5, 0.5 * scale, 0.5, Math.max(maxT, 1)],
    [1, scale, 1, Math.max(maxT, 1)],
    [0.1, 0.1 * scale, 2, 10 * Math.max(maxT, 1)],
  ].map((start) => start.map(Math.log));
}

const longestAges = new WeakMap<PreparedRows, number>();

function longestAge(rows: PreparedRows): number {
  let longest = longestAges.get(rows);
  if (longest === undefined) {
    longest = 0;
    for (let i = 0; i < rows.count; i++) longest = Math.max(longest, rows.T[i]);
    longestAges.set(rows, longest);
  }
  return longest;
}

/** Likelihood, gradient and starting points of Pareto/NBD, for the estimator (and its tests). */
export const paretoNbdSpec: CountModelSpec = {
  names: NAMES,
  logLikelihood: logLikelihoodFunction,
  starts: startingPoints,
  timeScaled: [1, 3],
  // P(dead within the longest age) = 1 - (β/(β+T))^s: dimensionless, the same in any unit.
  dropOutShare: (theta, rows) => -Math.expm1(-Math.exp(theta[2]) * Math.log1p(longestAge(rows) / Math.exp(theta[3]))),
  // Near the no-drop-out edge: mean death rates s/β of 0.1, 0.05 and 0.1 per mean age (the canonical time unit).
  edgeStarts: (nbd) =>
    [
      [0.1, 1],
      [0.5, 10],
      [0.02, 0.2],
    ].map(([s, beta]) => [nbd[0], nbd[1], Math.log(s), Math.log(beta)]),
  homogeneousAt: ([logR, , logS], limit = HOMOGENEOUS_SHAPE) => {
    if (Math.exp(logR) > limit) return `r ran to ${Math.exp(logR).toExponential(2)} (every customer the same purchase rate)`;
    if (Math.exp(logS) > limit) return `s ran to ${Math.exp(logS).toExponential(2)} (every customer the same drop-out rate)`;
    return null;
  },
  homogeneousDropOut: ([logR, , logS, logBeta]) =>
    Math.exp(logR) <= HOMOGENEOUS_SHAPE && Math.exp(logS) > HOMOGENEOUS_SHAPE ? { parameter: "mu", value: Math.exp(logS - logBeta), timeScaled: true } : null,
};

/** Maximum-likelihood Pareto/NBD fit on weighted (x, t_x, T) rows. */
export function fitParetoNbd(rows: readonly RfRow[] | PreparedRows, options: FitOptions = {}): FitResult<ParetoNbdParams> {
  return fitCountModel<ParetoNbdParams>(paretoNbdSpec, rows, options);
}

/** log-likelihood of one customer. */
export function paretoNbdLogLikelihoodRow(params: ParetoNbdParams, x: number, tx: number, T: number): number {
  checkParams(params);
  assertValidRow(x, tx, T);
  const terms = rowTerms(params, x, tx, T);
  return terms.logConstant + logAddExp(terms.logAlive, terms.logDied);
}

export function paretoNbdLogLikelihood(params: ParetoNbdParams, rows: readonly RfRow[]): number {
  return rows.reduce((sum, row) => sum + row.weight * paretoNbdLogLikelihoodRow(params, row.x, row.tx, row.T), 0);
}

// Scoring one customer asks for P(alive) of the same history a few dozen times (every
// conditional expectation and each step of the next-order search need it), and each costs a
// hypergeometric series: the last answer is kept (same inputs, so the same number).
const lastPAlive = { r: Number.NaN, alpha: Number.NaN, s: Number.NaN, beta: Number.NaN, x: Number.NaN, tx: Number.NaN, T: Number.NaN, value: Number.NaN };

/** P(alive at T | x, t_x, T). */
export function paretoNbdPAlive(params: ParetoNbdParams, x: number, tx: number, T: number): number {
  const last = lastPAlive;
  if (last.x === x && last.tx === tx && last.T === T && last.r === params.r && last.alpha === params.alpha && last.s === params.s && last.beta === params.beta) {
    return last.value;
  }
  checkParams(params);
  assertValidRow(x, tx, T);
  const terms = rowTerms(params, x, tx, T);
  const value = Math.exp(terms.logAlive - logAddExp(terms.logAlive, terms.logDied));
  Object.assign(last, { r: params.r, alpha: params.alpha, s: params.s, beta: params.beta, x, tx, T, value });
  return value;
}

/**
 * Expected purchases in t by a customer alive now, with λ ~ Gamma(shape, rate) and
 * μ ~ Gamma(s, β'): shape/rate · β'/(s-1) · (1 - (β'/(β'+t))^{s-1}), continuous at s = 1.
 */
function expectedWhileAlive(shape: number, rate: number, s: number, betaNow: number, t: number): number {
  if (!(t > 0)) return 0;
  const logRatio = -Math.log1p(t / betaNow); // log(β'/(β'+t)) < 0
  return ((shape * betaNow) / rate) * -logRatio * expm1OverX((s - 1) * logRatio);
}

/** E[X(t)]: expected repeat purchases in (0, t] of a customer who just made a first purchase. */
export function paretoNbdExpectedPurchases(params: ParetoNbdParams, t: number): number {
  checkParams(params);
  return expectedWhileAlive(params.r, params.alpha, params.s, params.beta, t);
}

/** E[Y(t) | x, t_x, T]: expected purchases in (T, T + t]. */
export function paretoNbdConditionalExpectedPurchases(params: ParetoNbdParams, t: number, x: number, tx: number, T: number): number {
  const pAlive = paretoNbdPAlive(params, x, tx, T);
  return pAlive * expectedWhileAlive(params.r + x, params.alpha + T, params.s, params.beta + T, t);
}

/** E[Y(t) | alive at T, x, T]: the conditional expectation without its P(alive) factor. */
export function paretoNbdExpectedPurchasesIfAlive(params: ParetoNbdParams, t: number, x: number, T: number): number {
  return expectedWhileAlive(params.r + x, params.alpha + T, params.s, params.beta + T, t);
}

/**
 * P(X(t) = n) = NB(n; r, α, t) (β/(β+t))^s + ∫_0^t NB(n; r, α, τ) s β^s (β+τ)^{-(s+1)} dτ
 * (alive at t with n purchases, or died at τ < t with n purchases by then). The integral
 * is done by quadrature; it is not on any hot path.
 */
export function paretoNbdProbabilityOfPurchases(params: ParetoNbdParams, n: number, t: number): number {
  checkParams(params);
  if (!(n >= 0) || !Number.isInteger(n)) throw new RangeError(`n = ${n} must be a whole number >= 0`);
  if (!(t > 0)) return n === 0 ? 1 : 0;
  const { r, alpha, s, beta } = params;
  const logNb = (tau: number) => logNegativeBinomialPmf(n, r, Math.log(tau) - Math.log(alpha + tau), -Math.log1p(tau / alpha));
  const survived = Math.exp(logNb(t) - s * Math.log1p(t / beta));
  const logDeathDensity = (tau: number) => Math.log(s) - Math.log(beta) - (s + 1) * Math.log1p(tau / beta);
  if (n === 0) {
    // ∫_0^t (α/(α+τ))^r s β^s (β+τ)^{-(s+1)} dτ = s α^r β^s (Φ(0) - Φ(t)).
    const logConstant = Math.log(s) + r * Math.log(alpha) + s * Math.log(beta);
    const died = logSubExp(logTailIntegral(alpha, r, beta, s + 1, 0).log, logTailIntegral(alpha, r, beta, s + 1, t).log);
    return survived + Math.exp(logConstant + died);
  }
  // Integrand peaks where n/τ = (r+n)/(α+τ) + (s+1)/(β+τ); scale by its value there.
  const logIntegrand = (tau: number) => (tau > 0 ? logNb(tau) + logDeathDensity(tau) : Number.NEGATIVE_INFINITY);
  let lo = 0;
  let hi = t;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    const slope = n / mid - (r + n) / (alpha + mid) - (s + 1) / (beta + mid);
    if (slope > 0) lo = mid;
    else hi = mid;
  }
  const mode = (lo + hi) / 2;
  const peak = logIntegrand(mode);
  const [integral] = integrateVector((tau) => [Math.exp(logIntegrand(tau) - peak)], 0, t, 1, [mode / 2, mode, (mode + t) / 2], {
    relativeTolerance: 1e-12,
  });
  return survived + Math.exp(peak) * integral;
}

/**
 * P(at least one purchase in (T, T + t] | x, t_x, T) = P(alive) · E[∫_0^t λ e^{-(λ+μ)u} du]
 * = P(alive) · (r+x) α'^{r+x} β'^s ∫_0^t (α'+u)^{-(r+x+1)} (β'+u)^{-s} du, α' = α+T, β' = β+T.
 */
export function paretoNbdProbabilityOfPurchaseWithin(params: ParetoNbdParams, t: number, x: number, tx: number, T: number): number {
  const pAlive = paretoNbdPAlive(params, x, tx, T);
  return pAlive * activePurchaseProbability(params, x, T, t);
}

/** P(a purchase in (T, T + t] | alive at T, x, T): probabilityOfPurchaseWithin is pAlive times this, exactly. */
export function paretoNbdPurchaseWithinIfAlive(params: ParetoNbdParams, t: number, x: number, T: number): number {
  return activePurchaseProbability(params, x, T, t);
}

function activePurchaseProbability(params: ParetoNbdParams, x: number, T: number, t: number): number {
  if (!(t > 0)) return 0;
  return activePurchaseCurve(params, x, T)(t);
}

/**
 * activePurchaseProbability(params, x, T, ·) for t > 0, with the parts that do not depend on
 * t worked out once (the next-order bisection evaluates it some thirty times per customer).
 */
function activePurchaseCurve(params: ParetoNbdParams, x: number, T: number): (t: number) => number {
  const { r, alpha, s, beta } = params;
  const shape = r + x;
  const logConstant = Math.log(shape) + shape * Math.log(alpha + T) + s * Math.log(beta + T);
  const atZero = logTailIntegral(alpha + T, shape + 1, beta + T, s, 0).log;
  return (t) => {
    if (t === Number.POSITIVE_INFINITY) return Math.min(1, Math.exp(logConstant + atZero));
    const atT = logTailIntegral(alpha + T, shape + 1, beta + T, s, t).log;
    return Math.min(1, Math.exp(logConstant + logSubExp(atZero, Math.min(atT, atZero))));
  };
}

/**
 * Smallest t with P(a purchase in (T, T+t]) >= probability, or null when even t = ∞ falls
 * short (the customer is likely gone, or likely to die before buying again).
 */
/**
 * `step` (optional): the answer is only needed to this grid (a day, for the expected next
 * order day): bisection stops once both ends round up to the same multiple of `step`, so
 * rounding the result up gives the same multiple as the full-precision root would.
 */
export function paretoNbdTimeToPurchase(params: ParetoNbdParams, x: number, tx: number, T: number, probability = 0.5, step?: number): number | null {
  const pAlive = paretoNbdPAlive(params, x, tx, T);
  if (!(pAlive > probability)) return null;
  const target = probability / pAlive;
  const active = activePurchaseCurve(params, x, T); // every t below is > 0
  if (!(active(Number.POSITIVE_INFINITY) > target)) return null;
  // Bracket in t, then bisect on log t (monotone increasing in t).
  let hi = (params.alpha + T) / (params.r + x);
  while (active(hi) < target) hi *= 2;
  let lo = hi / 2;
  while (lo > 1e-12 && active(lo) >= target) lo /= 2;
  const sameStep = (a: number, b: number) => step !== undefined && Math.ceil(a / step - 1e-9) === Math.ceil(b / step - 1e-9);
  for (let i = 0; i < 100 && hi - lo > 1e-10 * hi && !sameStep(lo, hi); i++) {
    const mid = Math.sqrt(lo * hi);
    if (active(mid) >= target) hi = mid;
    else lo = mid;
  }
  return hi;
}
