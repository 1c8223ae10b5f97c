// Gamma-Gamma spend model (Fader & Hardie, "The Gamma-Gamma Model of Monetary Value",
// note 025, 2013). Each transaction value is Gamma(p, ν); ν ~ Gamma(q, γ) across
// customers. Fitted on customers with x > 0 repeat purchases and mean repeat value m,
// with the likelihood of the MEAN m (not of the individual values):
//   f(m | p, q, γ, x) = Γ(px+q) / (Γ(px) Γ(q)) · γ^q m^{px-1} x^{px} / (γ + m x)^{px+q}.
// The model assumes spend is independent of purchase frequency; spendFrequencyCorrelation
// lets callers check that on their data.
import { HOMOGENEOUS_SHAPE, maximizeLikelihood, nestedTolerance, publicFit, type FitOptions, type FitResult, type LogLikelihood } from "./estimation";
import { fitHomogeneousSpend, type HomogeneousSpendFit, homogeneousSpendLogLikelihoodRow, homogeneousSpendVerdict } from "./gamma-gamma-limit";
import { TripleCounter } from "./rows";
import { digamma, lgamma } from "./special";
import { assertPositiveParameters } from "./validate";

export interface GammaGammaParams {
  p: number;
  q: number;
  gamma: number;
  /**
   * Set when the fit is at the homogeneous limit (q, γ -> ∞, q/γ = ν: every customer the same
   * ν; boundary kind "homogeneous-spend"): that ν. Predictions and the likelihood are then the
   * limit's (expected spend p/ν for everyone); q and γ are the stopped run's, for the record.
   */
  nu?: number;
}

/** A customer (or `weight` customers) with x > 0 repeat purchases of mean value m > 0. */
export interface SpendRow {
  x: number;
  m: number;
  weight: number;
}

const NAMES = ["p", "q", "gamma"] as const;

const checkParams = (params: GammaGammaParams) => assertPositiveParameters(params, params.nu === undefined ? NAMES : [...NAMES, "nu"]);

/** Why (x, m) cannot enter the spend model, or null. */
export function spendRowProblem(x: number, m: number): string | null {
  if (!Number.isFinite(x) || !Number.isInteger(x) || x < 1) return `frequency ${x} must be a whole number >= 1 for the spend model`;
  if (!Number.isFinite(m) || !(m > 0)) return `monetary value ${m} must be a positive number for the spend model`;
  return null;
}

/** Distinct (x, m) pairs with counts; rows with x = 0 or m <= 0 are left out (see spendRowProblem). */
export function compressSpendRows(rows: Iterable<{ frequency: number; monetaryValue: number }>): SpendRow[] {
  const counter = new TripleCounter();
  for (const row of rows) {
    if (spendRowProblem(row.frequency, row.monetaryValue)) continue;
    counter.addTriple(row.frequency, row.monetaryValue, 0, 1);
  }
  const out: SpendRow[] = [];
  counter.forEach((x, m, _unusedThird, weight) => out.push({ x, m, weight }));
  return out;
}

/**
 * log Γ(q+a) - log Γ(q) - a log q, without the cancellation of the two log Γ for large q: from
 * Stirling's series (4 terms, error below 1e-20 relative past q = 100) as (q+a-½) log1p(a/q) - a
 * plus the series' difference.
 */
export function logGammaRatioExcess(q: number, a: number): number {
  if (q < 100) return lgamma(q + a) - lgamma(q) - a * Math.log(q);
  const series = (z: number) => {
    const z2 = 1 / (z * z);
    return (1 / 12 - z2 * (1 / 360 - z2 * (1 / 1260 - z2 / 1680))) / z;
  };
  return (q + a - 0.5) * Math.log1p(a / q) - a + (series(q + a) - series(q));
}

/** The Gamma-Gamma log-likelihood in (log p, log q, log γ) and its gradient (exported for tests). */
export function gammaGammaLogLikelihoodFunction(rows: readonly SpendRow[]): { logLikelihood: LogLikelihood; totalWeight: number } {
  const count = rows.length;
  const mxs = new Float64Array(count); // m x: the customer's total repeat spend
  const wxs = new Float64Array(count); // w x
  const weights = new Float64Array(count);
  const xIndex = new Map<number, number>();
  const xValues: number[] = [];
  const xWeights: number[] = [];
  // Sufficient statistics for the terms linear in p: Σ w x (log m + log x) and Σ w log m.
  let linearInP = 0;
  let logMeanSum = 0;
  let totalWeight = 0;
  rows.forEach((row, i) => {
    const problem = spendRowProblem(row.x, row.m);
    if (problem) throw new RangeError(`spend row ${i + 1}: ${problem}`);
    if (!(row.weight > 0)) throw new RangeError(`spend row ${i + 1}: weight ${row.weight} must be positive`);
    mxs[i] = row.m * row.x;
    wxs[i] = row.weight * row.x;
    weights[i] = row.weight;
    let k = xIndex.get(row.x);
    if (k === undefined) {
      k = xValues.length;
      xIndex.set(row.x, k);
      xValues.push(row.x);
      xWeights.push(0);
    }
    xWeights[k] += row.weight;
    linearInP += row.weight * row.x * (Math.log(row.m) + Math.log(row.x));
    logMeanSum += row.weight * Math.log(row.m);
    totalWeight += row.weight;
  });
  let transactions = 0; // X = Σ w x
  xValues.forEach((x, k) => (transactions += xWeights[k] * x));
  // Written without q log γ and log Γ(q) apart (issue 16): far out on the q, γ -> ∞ ridge they are
  // ~q log γ per customer and cancel to O(x), and summed over a million customers the partial
  // sums' rounding (0.3 at q = 1e6) exceeded the differences between ridge points and the limit.
  // Per row: D(q, px) - log Γ(px) + px (log m + log x) - log m + px log(q/γ) - (px+q) log1p(mx/γ),
  // D(q, a) = log Γ(q+a) - log Γ(q) - a log q (logGammaRatioExcess).
  const logLikelihood: LogLikelihood = (theta) => {
    const p = Math.exp(theta[0]);
    const q = Math.exp(theta[1]);
    const gamma = Math.exp(theta[2]);
    const logNu = theta[1] - theta[2];
    const psiQ = digamma(q);
    let value = p * (linearInP + transactions * logNu) - logMeanSum;
    let dP = linearInP + transactions * logNu;
    let dQ = 0;
    for (let k = 0; k < xValues.length; k++) {
      const x = xValues[k];
      const w = xWeights[k];
      const px = p * x;
      value += w * (logGammaRatioExcess(q, px) - lgamma(px));
      const psi = digamma(px + q);
      dP += w * x * (psi - Math.log(q) - digamma(px));
      dQ += w * (psi - psiQ);
    }
    const inverseGamma = 1 / gamma;
    const logGamma = theta[2];
    // Σ w x L, Σ w L with L = log1p(m x/γ); Σ w m x/(γ + m x), Σ w x/(γ + m x) for γ ∂/∂γ = Σ w x (q m - p γ)/(γ + m x).
    let wxL = 0;
    let wL = 0;
    let wmxOverBase = 0;
    let wxOverBase = 0;
    for (let i = 0; i < count; i++) {
      const w = weights[i];
      const wx = wxs[i];
      const mx = mxs[i];
      const ratio = mx * inverseGamma;
      // log1p only where it is needed: it costs more than log, and far from the ridge m x/γ is not small.
      const L = ratio > 1 ? Math.log(gamma + mx) - logGamma : Math.log1p(ratio);
      wxL += wx * L;
      wL += w * L;
      const inverseBase = 1 / (gamma + mx);
      wmxOverBase += w * mx * inverseBase;
      wxOverBase += wx * inverseBase;
    }
    value -= p * wxL + q * wL;
    dP -= wxL;
    dQ -= wL;
    const dGamma = q * wmxOverBase - p * gamma * wxOverBase;
    return { value, gradient: [p * dP, q * dQ, dGamma] };
  };
  return { logLikelihood, totalWeight };
}

const REACHED_LIMIT = "reached the homogeneous limit (every customer the same expected spend)";

/**
 * Maximum-likelihood Gamma-Gamma fit on (x, m) rows with x >= 1 and m > 0. Where the spend data
 * show no more spread between customers than within them, the likelihood rises toward q, γ -> ∞
 * (q/γ fixed): the nested model with one ν for every customer (gamma-gamma-limit.ts), fitted
 * directly. A run heading there stops once ν's mixing is a point mass for every purpose (q past
 * HOMOGENEOUS_SHAPE) and the limit is a local maximum (its score is negative), instead of walking
 * the ridge (issue 16: 691 passes at the refit's 1M shop); the limit is reported unless an interior
 * maximum beats it by more than the nested tolerance (ADR 0020).
 */
export function fitGammaGamma(rows: readonly SpendRow[], options: FitOptions = {}): FitResult<GammaGammaParams> {
  if (rows.length === 0) throw new RangeError("the spend model needs at least one customer with a repeat purchase");
  const { logLikelihood, totalWeight } = gammaGammaLogLikelihoodFunction(rows);
  // Method-of-moments flavoured start: mean spend scale in γ.
  let meanM = 0;
  for (const row of rows) meanM += row.weight * row.m;
  meanM /= totalWeight;
  const starts = options.start
    ? [options.start.map(Math.log)]
    : [
        [1, 2, meanM],
        [5, 3, 2 * meanM],
        [0.5, 1.5, 0.1 * meanM],
      ].map((start) => start.map(Math.log));
  // The limit, when it is a local maximum (negative score); fitted only once a run heads there or
  // none converges, so that an interior fit costs what it did.
  let limitFit: HomogeneousSpendFit | null | undefined;
  const limitOf = () => {
    if (limitFit === undefined) {
      const found = fitHomogeneousSpend(rows);
      limitFit = found && found.score < 0 ? found : null;
    }
    return limitFit;
  };
  const tolerance = nestedTolerance(totalWeight);
  const fit = maximizeLikelihood<GammaGammaParams>({
    names: NAMES,
    logLikelihood,
    totalWeight,
    distinctRows: rows.length,
    starts,
    stopAt: (theta, value) => {
      if (!(Math.exp(theta[1]) > HOMOGENEOUS_SHAPE)) return null;
      const limit = limitOf();
      return limit && value <= limit.logLikelihood + tolerance ? REACHED_LIMIT : null;
    },
    options,
  });
  const towardLimit = fit.ends.length === 0 || fit.ends.some((end) => !end.converged || Math.exp(end.theta[1]) > HOMOGENEOUS_SHAPE);
  const limit = towardLimit ? limitOf() : null;
  if (!limit) return publicFit(fit);
  const interior = fit.ends.find((end) => end.converged && end.message !== REACHED_LIMIT && Math.exp(end.theta[1]) <= HOMOGENEOUS_SHAPE);
  if (interior && interior.logLikelihood >= limit.logLikelihood - tolerance) {
    if (interior.theta === fit.theta) return publicFit(fit);
    const [p, q, gamma] = interior.theta.map(Math.exp);
    return publicFit({ ...fit, params: { p, q, gamma }, logLikelihood: interior.logLikelihood, converged: true, message: interior.message, standardErrors: null });
  }
  // A run that ended above the limit by more than the tolerance, and not at an interior maximum:
  // the supremum is elsewhere, and the fit says so as it would have.
  if (fit.ends.some((end) => end.message !== REACHED_LIMIT && end.logLikelihood > limit.logLikelihood + tolerance)) return publicFit(fit);
  // For the record, the furthest point a run reached along the ridge, with q/γ the limit's ν.
  const q = Math.max(HOMOGENEOUS_SHAPE, ...fit.ends.map((end) => Math.exp(end.theta[1])));
  const verdict = homogeneousSpendVerdict(limit.p, limit.nu);
  return publicFit({
    ...fit,
    params: { p: limit.p, q, gamma: q / limit.nu, nu: limit.nu },
    logLikelihood: limit.logLikelihood,
    converged: true,
    message: `${verdict} (log-likelihood ${limit.logLikelihood.toFixed(4)})`,
    standardErrors: null,
    boundary: {
      kind: "homogeneous-spend",
      verdict,
      nestedModel: "homogeneous-spend",
      nestedLogLikelihood: limit.logLikelihood,
      nestedParams: { p: limit.p, nu: limit.nu },
    },
    effectiveParameters: 2,
  });
}

export function gammaGammaLogLikelihoodRow(params: GammaGammaParams, x: number, m: number): number {
  checkParams(params);
  const problem = spendRowProblem(x, m);
  if (problem) throw new RangeError(problem);
  const { p, q, gamma, nu } = params;
  if (nu !== undefined) return homogeneousSpendLogLikelihoodRow(p, nu, x, m);
  const px = p * x;
  // As in the fit's likelihood, q log γ and log Γ(q) are not formed apart (they cancel for large q).
  return (
    logGammaRatioExcess(q, px) -
    lgamma(px) +
    (px - 1) * Math.log(m) +
    px * (Math.log(x) + Math.log(q) - Math.log(gamma)) -
    (px + q) * Math.log1p((m * x) / gamma)
  );
}

export function gammaGammaLogLikelihood(params: GammaGammaParams, rows: readonly SpendRow[]): number {
  return rows.reduce((sum, row) => sum + row.weight * gammaGammaLogLikelihoodRow(params, row.x, row.m), 0);
}

/**
 * E[M | x, m]: expected value of a future transaction, a weighted mean of the population
 * mean pγ/(q-1) and the customer's own mean m. Null when q <= 1 (the population mean is
 * infinite, so the model cannot say). For x = 0 this is the population mean.
 */
export function gammaGammaExpectedValue(params: GammaGammaParams, x: number, m: number): number | null {
  checkParams(params);
  const { p, q, gamma, nu } = params;
  // At the homogeneous limit every customer's expected spend is the limit's mean, p/ν.
  if (nu !== undefined) return p / nu;
  if (!(q > 1)) return null;
  if (!(x > 0) || !(m > 0)) return (p * gamma) / (q - 1);
  return (p * (gamma + x * m)) / (p * x + q - 1);
}

/** Pearson correlation between x and m over customers with x > 0 (the model assumes about 0). */
export function spendFrequencyCorrelation(rows: readonly SpendRow[]): number | null {
  let n = 0;
  let sx = 0;
  let sm = 0;
  for (const row of rows) {
    n += row.weight;
    sx += row.weight * row.x;
    sm += row.weight * row.m;
  }
  if (n < 2) return null;
  const mx = sx / n;
  const mm = sm / n;
  let cxx = 0;
  let cmm = 0;
  let cxm = 0;
  for (const row of rows) {
    cxx += row.weight * (row.x - mx) ** 2;
    cmm += row.weight * (row.m - mm) ** 2;
    cxm += row.weight * (row.x - mx) * (row.m - mm);
  }
  if (!(cxx > 0) || !(cmm > 0)) return null;
  return cxm / Math.sqrt(cxx * cmm);
}
