// Gamma-Gamma's homogeneous limit (issue 16): q, γ -> ∞ with q/γ = ν fixed. The mixing
// distribution of ν, Gamma(q, γ) with mean q/γ and coefficient of variation 1/√q, collapses to
// a point: every customer's transactions are Gamma(p, ν) with the same ν, and a customer's mean
// of x of them is Gamma(px, xν). Its likelihood
//   Σ w [px log(xν) + (px-1) log m - xνm - log Γ(px)]
// is maximised over ν in closed form, ν = p X / S (X = Σ w x, S = Σ w x m: every customer's
// expected spend is the transaction-weighted mean spend S/X), leaving a strictly concave
// function of p, solved by bisection on its derivative. Derivations: docs/analytics/clv.md
// ("Every customer the same mean spend"); ADR 0020.
import { digamma, lgamma } from "./special";

export interface HomogeneousSpendFit {
  p: number;
  /** Every customer's ν: transactions Gamma(p, ν), expected spend p/ν. */
  nu: number;
  /** The limit's maximum total log-likelihood (the density of the mean, as the Gamma-Gamma's). */
  logLikelihood: number;
  /**
   * d logL / d(1/q) at the limit, ν's mixing put back with variance ν²/q around the same mean
   * (p, ν at the limit's maximum): ½ Σ w [x²(p - νm)² - px]. Negative: the likelihood falls as
   * the customers' ν spread out, so the limit is a local maximum of the Gamma-Gamma's closure.
   */
  score: number;
}

/** The homogeneous-spend model's maximum on (x, m) rows, or null when every m is the same (p -> ∞: no spend variance at all). */
export function fitHomogeneousSpend(rows: readonly { x: number; m: number; weight: number }[]): HomogeneousSpendFit | null {
  let X = 0;
  let S = 0;
  let linear = 0; // Σ w x (log m + log x)
  let logMeans = 0; // Σ w log m
  const weightByX = new Map<number, number>();
  for (const { x, m, weight } of rows) {
    X += weight * x;
    S += weight * x * m;
    linear += weight * x * (Math.log(m) + Math.log(x));
    logMeans += weight * Math.log(m);
    weightByX.set(x, (weightByX.get(x) ?? 0) + weight);
  }
  const xs = [...weightByX.keys()];
  const ws = xs.map((x) => weightByX.get(x)!);
  const logMeanSpend = Math.log(S / X);
  // Profile log-likelihood in p (ν = p X/S) and its derivative, which falls from +∞ to
  // X (Σ w x log m / X - log(S/X)) + o(1) <= 0 (Jensen; 0 only when every m is the same).
  const derivative = (p: number) => {
    let d = linear + X * (Math.log(p) - logMeanSpend);
    for (let k = 0; k < xs.length; k++) d -= ws[k] * xs[k] * digamma(p * xs[k]);
    return d;
  };
  const profile = (p: number) => {
    let value = p * linear - logMeans + p * X * (Math.log(p) - logMeanSpend) - p * X;
    for (let k = 0; k < xs.length; k++) value -= ws[k] * lgamma(p * xs[k]);
    return value;
  };
  let lo = 1;
  let hi = 1;
  while (derivative(lo) <= 0) if ((lo /= 4) < 1e-12) return null;
  while (derivative(hi) > 0) if ((hi *= 4) > 1e12) return null;
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = Math.sqrt(lo * hi);
    if (derivative(mid) > 0) lo = mid;
    else hi = mid;
  }
  const p = Math.sqrt(lo * hi);
  const nu = (p * X) / S;
  let score = 0;
  for (const { x, m, weight } of rows) score += weight * (x * x * (p - nu * m) ** 2 - p * x);
  return { p, nu, logLikelihood: profile(p), score: score / 2 };
}

/** One row's log-likelihood at the limit: the density of the mean of x Gamma(p, ν) values. */
export function homogeneousSpendLogLikelihoodRow(p: number, nu: number, x: number, m: number): number {
  const px = p * x;
  return px * Math.log(x * nu) + (px - 1) * Math.log(m) - x * nu * m - lgamma(px);
}

/** The verdict in words, e.g. "expected order value the same for every customer (5703.68; p = 3.425)". */
export function homogeneousSpendVerdict(p: number, nu: number): string {
  return `expected order value the same for every customer (${(p / nu).toPrecision(6)}; p = ${p.toPrecision(4)})`;
}
