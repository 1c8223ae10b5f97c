// Gamma-Gamma spend model (Fader & Hardie, "The Gamma-Gamma Model of Monetary Value",
// note 025, 2013). Each transaction value is Gamma(p, ν); ν ~ Gamma(q, γ) across
// customers. Fitted on customers with x > 0 repeat purchases and mean repeat value m,
// with the likelihood of the MEAN m (not of the individual values):
//   f(m | p, q, γ, x) = Γ(px+q) / (Γ(px) Γ(q)) · γ^q m^{px-1} x^{px} / (γ + m x)^{px+q}.
// The model assumes spend is independent of purchase frequency; spendFrequencyCorrelation
// lets callers check that on their data.
import { maximizeLikelihood, publicFit, type FitOptions, type FitResult, type LogLikelihood } from "./estimation";
import { TripleCounter } from "./rows";
import { digamma, lgamma } from "./special";
import { assertPositiveParameters } from "./validate";

export interface GammaGammaParams {
  p: number;
  q: number;
  gamma: number;
}

/** A customer (or `weight` customers) with x > 0 repeat purchases of mean value m > 0. */
export interface SpendRow {
  x: number;
  m: number;
  weight: number;
}

const NAMES = ["p", "q", "gamma"] as const;

const checkParams = (params: GammaGammaParams) => assertPositiveParameters(params, NAMES);

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

function logLikelihoodFunction(rows: readonly SpendRow[]): { logLikelihood: LogLikelihood; totalWeight: number } {
  const count = rows.length;
  const xs = new Float64Array(count);
  const ms = new Float64Array(count);
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
    xs[i] = row.x;
    ms[i] = row.m;
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
  const logLikelihood: LogLikelihood = (theta) => {
    const p = Math.exp(theta[0]);
    const q = Math.exp(theta[1]);
    const gamma = Math.exp(theta[2]);
    const logGamma = Math.log(gamma);
    let value = totalWeight * (q * logGamma - lgamma(q)) + p * linearInP - logMeanSum;
    let dP = linearInP;
    let dQ = totalWeight * (logGamma - digamma(q));
    let dGamma = (totalWeight * q) / gamma;
    for (let k = 0; k < xValues.length; k++) {
      const x = xValues[k];
      const w = xWeights[k];
      const px = p * x;
      value += w * (lgamma(px + q) - lgamma(px));
      const psi = digamma(px + q);
      dP += w * x * (psi - digamma(px));
      dQ += w * psi;
    }
    for (let i = 0; i < count; i++) {
      const x = xs[i];
      const w = weights[i];
      const base = gamma + ms[i] * x;
      const logBase = Math.log(base);
      const shape = p * x + q;
      value -= w * shape * logBase;
      dP -= w * x * logBase;
      dQ -= w * logBase;
      dGamma -= (w * shape) / base;
    }
    return { value, gradient: [p * dP, q * dQ, gamma * dGamma] };
  };
  return { logLikelihood, totalWeight };
}

/** Maximum-likelihood Gamma-Gamma fit on (x, m) rows with x >= 1 and m > 0. */
export function fitGammaGamma(rows: readonly SpendRow[], options: FitOptions = {}): FitResult<GammaGammaParams> {
  if (rows.length === 0) throw new RangeError("the spend model needs at least one customer with a repeat purchase");
  const { logLikelihood, totalWeight } = logLikelihoodFunction(rows);
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
  const fit = maximizeLikelihood<GammaGammaParams>({
    names: NAMES,
    logLikelihood,
    totalWeight,
    distinctRows: rows.length,
    starts,
    options,
  });
  return publicFit(fit);
}

export function gammaGammaLogLikelihoodRow(params: GammaGammaParams, x: number, m: number): number {
  checkParams(params);
  const problem = spendRowProblem(x, m);
  if (problem) throw new RangeError(problem);
  const { p, q, gamma } = params;
  const px = p * x;
  return (
    lgamma(px + q) - lgamma(px) - lgamma(q) + q * Math.log(gamma) + (px - 1) * Math.log(m) + px * Math.log(x) - (px + q) * Math.log(gamma + m * x)
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
  const { p, q, gamma } = params;
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
