// Predictions of the homogeneous drop-out limit (issue 16): every customer the same drop-out,
// purchase rates λ ~ Gamma(r, α) still varying. A fit reported at that limit (FitBoundary kind
// "homogeneous-dropout") stops at a finite point on the ridge a, b -> ∞ (or s, β -> ∞), whose
// predictions differ from the limit's by about x/b; these are the limit's own, in closed form
// (derivations: docs/analytics/clv.md, "One drop-out for every customer").
//
// BG/NBD family, drop-out probability p after each purchase (the modified model: also at the
// first): given λ, p the likelihood is (1-p)^{x+m} λ^x e^{-λT} + [x + m > 0] p (1-p)^{x+m-1}
// λ^x e^{-λ t_x} (m = 1 for the modified model), and λ's Gamma mixing integrates in closed form.
// Pareto/NBD, death rate μ: exponential lifetimes; the λ-mixed terms are one-dimensional
// integrals of smooth bounded integrands, done by quadrature.
import { type BgNbdParams, bgnbdPurchaseWithinIfAlive } from "./bgnbd";
import { type CountModel, type CountModelName } from "./count-model";
import { type FitBoundary } from "./estimation";
import { type ParetoNbdParams } from "./pareto-nbd";
import { integrateVector } from "./quadrature";
import { lgamma, log1pExp, logistic, logNegativeBinomialPmf, negativeBinomialTail } from "./special";
import { assertValidRow } from "./validate";

/** The limit's common drop-out: p (BG/NBD family, per purchase) or μ (Pareto/NBD, per time unit). */
export type HomogeneousDropOut = { parameter: "p"; value: number } | { parameter: "mu"; value: number };

/** The common drop-out of a fit reported at the homogeneous drop-out limit, or null. */
export function homogeneousDropOutOf(boundary: FitBoundary | null | undefined): HomogeneousDropOut | null {
  if (boundary?.kind !== "homogeneous-dropout") return null;
  const { p, mu } = boundary.nestedParams;
  if (p !== undefined) return { parameter: "p", value: p };
  if (mu !== undefined) return { parameter: "mu", value: mu };
  return null;
}

function checkDropOut(name: CountModelName, dropOut: HomogeneousDropOut): void {
  const wanted = name === "paretonbd" ? "mu" : "p";
  const { parameter, value } = dropOut;
  if (parameter !== wanted) throw new RangeError(`the ${name} homogeneous drop-out limit takes ${wanted}, not ${parameter}`);
  if (!(value > 0) || !Number.isFinite(value) || (parameter === "p" && !(value < 1))) {
    throw new RangeError(`homogeneous drop-out ${parameter} must be ${parameter === "p" ? "in (0, 1)" : "a positive number"} (got ${String(value)})`);
  }
}

function checkCount(n: number): void {
  if (!(n >= 0) || !Number.isInteger(n)) throw new RangeError(`n = ${n} must be a whole number >= 0`);
}

/** Smallest t with pAlive · activeWithin(t) >= probability by bisection on log t (activeWithin increasing), or null. */
function timeBySearch(pAlive: number, activeWithin: (t: number) => number, firstGuess: number, probability: number, step?: number): number | null {
  if (!(pAlive > probability)) return null;
  const target = probability / pAlive;
  if (!(activeWithin(Number.POSITIVE_INFINITY) > target)) return null;
  let hi = firstGuess;
  while (activeWithin(hi) < target) hi *= 2;
  let lo = hi / 2;
  while (lo > 1e-12 && activeWithin(lo) >= target) lo /= 2;
  const sameStep = (a: number, b: number) => step !== undefined && Math.ceil(a / step - 1e-9) === Math.ceil(b / step - 1e-9);
  for (let i = 0; i < 100 && hi - lo > 1e-10 * hi && !sameStep(lo, hi); i++) {
    const mid = Math.sqrt(lo * hi);
    if (activeWithin(mid) >= target) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** BG/NBD (modified: true for the modified BG/NBD) with one drop-out probability p for every customer. */
export function homogeneousBgNbdModel(name: "bgnbd" | "mbgnbd", params: BgNbdParams, dropOut: HomogeneousDropOut): CountModel {
  checkDropOut(name, dropOut);
  const p = dropOut.value;
  const { r, alpha } = params;
  const m = name === "mbgnbd" ? 1 : 0;
  const logP = Math.log(p);
  const logQ = Math.log1p(-p);
  // log of P(dropped right after the last purchase) / P(active at T), given the history.
  const dropOutLogOdds = (x: number, tx: number, T: number) =>
    x + m === 0 ? Number.NEGATIVE_INFINITY : logP - logQ + (r + x) * (Math.log(alpha + T) - Math.log(alpha + tx));
  const pAlive = (x: number, tx: number, T: number) => {
    assertValidRow(x, tx, T);
    return logistic(-dropOutLogOdds(x, tx, T));
  };
  // An active customer buys at rate λ and drops out at each purchase with probability p:
  // purchases in t are (1 - e^{-λpt})/p on average (FHL 2005's E[X(t) | λ, p]), λ | history ~ Gamma(r + x, α + T).
  const ifAlive = (t: number, x: number, T: number) => (t > 0 ? -Math.expm1(-(r + x) * Math.log1p((p * t) / (alpha + T))) / p : 0);
  return {
    name,
    params: { r, alpha, a: params.a, b: params.b },
    logLikelihoodRow: (x, tx, T) => {
      assertValidRow(x, tx, T);
      const D = dropOutLogOdds(x, tx, T);
      return lgamma(r + x) - lgamma(r) + r * Math.log(alpha) + (x + m) * logQ - (r + x) * Math.log(alpha + T) + (D === Number.NEGATIVE_INFINITY ? 0 : log1pExp(D));
    },
    pAlive,
    expectedPurchases: (t) => (1 - m * p) * ifAlive(t, 0, 0),
    conditionalExpectedPurchases: (t, x, tx, T) => pAlive(x, tx, T) * ifAlive(t, x, T),
    expectedPurchasesIfAlive: ifAlive,
    // Active with n purchases after n + m survived chances, or dropped at the last of them
    // (n + m >= 1) with at least n purchases by t.
    probabilityOfPurchases: (n, t) => {
      checkCount(n);
      const logZ = Math.log(t) - Math.log(alpha + t);
      const logOneMinusZ = -Math.log1p(t / alpha);
      const active = Math.exp((n + m) * logQ + logNegativeBinomialPmf(n, r, logZ, logOneMinusZ));
      if (n + m === 0) return active;
      return active + Math.exp(logP + (n + m - 1) * logQ) * negativeBinomialTail(n, r, t / (alpha + t));
    },
    probabilityOfPurchaseWithin: (t, x, tx, T) => pAlive(x, tx, T) * bgnbdPurchaseWithinIfAlive(params, t, x, T),
    probabilityOfPurchaseWithinIfAlive: (t, x, T) => bgnbdPurchaseWithinIfAlive(params, t, x, T),
    timeToPurchase: (x, tx, T, probability = 0.5) => {
      const alive = pAlive(x, tx, T);
      if (!(alive > probability)) return null;
      // alive (1 - ((α+T)/(α+T+t))^(r+x)) = probability, as in the finite model.
      return (alpha + T) * Math.expm1(-Math.log1p(-probability / alive) / (r + x));
    },
  };
}

/** Pareto/NBD with one death rate μ (per time unit) for every customer: exponential lifetimes. */
export function homogeneousParetoNbdModel(params: ParetoNbdParams, dropOut: HomogeneousDropOut): CountModel {
  checkDropOut("paretonbd", dropOut);
  const mu = dropOut.value;
  const { r, alpha } = params;
  /**
   * log of P(died in (t_x, T]) / P(alive at T) given the history:
   * μ ∫_{t_x}^T e^{-μτ} (α+τ)^{-(r+x)} dτ / (e^{-μT} (α+T)^{-(r+x)}) = μ ∫_0^{T-t_x} e^{μu} ((α+T)/(α+T-u))^{r+x} du,
   * whose integrand rises in u: scaled by its value at the top end.
   */
  const deathLogOdds = (x: number, tx: number, T: number) => {
    const span = T - tx;
    if (!(span > 0)) return Number.NEGATIVE_INFINITY;
    const k = r + x;
    const logTerm = (u: number) => mu * u + k * (Math.log(alpha + T) - Math.log(alpha + T - u));
    const top = logTerm(span);
    const [integral] = integrateVector((u) => [Math.exp(logTerm(u) - top)], 0, span, 1, [], { relativeTolerance: 1e-12 });
    return Math.log(mu) + top + Math.log(integral);
  };
  const last = { x: Number.NaN, tx: Number.NaN, T: Number.NaN, value: Number.NaN };
  const pAlive = (x: number, tx: number, T: number) => {
    if (last.x === x && last.tx === tx && last.T === T) return last.value;
    assertValidRow(x, tx, T);
    const value = logistic(-deathLogOdds(x, tx, T));
    Object.assign(last, { x, tx, T, value });
    return value;
  };
  // Alive now: λ/μ (1 - e^{-μt}) purchases on average in t, λ | history ~ Gamma(r + x, α + T).
  const ifAlive = (t: number, x: number, T: number) => (t > 0 ? (((r + x) / (alpha + T)) * -Math.expm1(-mu * t)) / mu : 0);
  /**
   * P(a purchase in (T, T+t] | alive at T) = ∫_0^t E[λ e^{-λu}] e^{-μu} du = ∫_{w(t)}^1 e^{-μ u(w)} dw with
   * w = ((α+T)/(α+T+u))^{r+x}, u(w) = (α+T)(w^{-1/(r+x)} - 1): a bounded integrand on [w(t), 1].
   */
  const withinIfAlive = (t: number, x: number, T: number) => {
    if (!(t > 0)) return 0;
    const k = r + x;
    const rate = alpha + T;
    const lower = t === Number.POSITIVE_INFINITY ? 0 : Math.exp(-k * Math.log1p(t / rate));
    const [value] = integrateVector((w) => [w > 0 ? Math.exp(-mu * rate * Math.expm1(-Math.log(w) / k)) : 0], lower, 1, 1, [], { relativeTolerance: 1e-12 });
    return Math.min(1, value);
  };
  return {
    name: "paretonbd",
    params: { r, alpha, s: params.s, beta: params.beta },
    logLikelihoodRow: (x, tx, T) => {
      assertValidRow(x, tx, T);
      const D = deathLogOdds(x, tx, T);
      const alive = lgamma(r + x) - lgamma(r) + r * Math.log(alpha) - mu * T - (r + x) * Math.log(alpha + T);
      return alive + (D === Number.NEGATIVE_INFINITY ? 0 : log1pExp(D));
    },
    pAlive,
    expectedPurchases: (t) => ifAlive(t, 0, 0),
    conditionalExpectedPurchases: (t, x, tx, T) => pAlive(x, tx, T) * ifAlive(t, x, T),
    expectedPurchasesIfAlive: ifAlive,
    // Alive at t with n purchases, or died at τ < t with n purchases by then.
    probabilityOfPurchases: (n, t) => {
      checkCount(n);
      if (!(t > 0)) return n === 0 ? 1 : 0;
      const logNb = (tau: number) => logNegativeBinomialPmf(n, r, Math.log(tau) - Math.log(alpha + tau), -Math.log1p(tau / alpha));
      const [died] = integrateVector((tau) => [tau > 0 ? Math.exp(logNb(tau) + Math.log(mu) - mu * tau) : n === 0 ? mu : 0], 0, t, 1, [], {
        relativeTolerance: 1e-12,
      });
      return Math.exp(logNb(t) - mu * t) + died;
    },
    probabilityOfPurchaseWithin: (t, x, tx, T) => pAlive(x, tx, T) * withinIfAlive(t, x, T),
    probabilityOfPurchaseWithinIfAlive: withinIfAlive,
    timeToPurchase: (x, tx, T, probability = 0.5, step) =>
      timeBySearch(pAlive(x, tx, T), (t) => withinIfAlive(t, x, T), (alpha + T) / (r + x), probability, step),
  };
}
