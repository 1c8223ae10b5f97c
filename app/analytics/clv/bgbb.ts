// BG/BB (Fader, Hardie & Shang 2010): discrete-time buying with n transaction
// opportunities (e.g. yearly donations). While alive a customer transacts in each period
// with probability p ~ Beta(α, β) and dies at the start of each period with probability
// θ ~ Beta(γ, δ). A row is (x transactions, last in period t_x, out of n periods).
import { maximizeLikelihood, publicFit, type FitOptions, type FitResult } from "./estimation";
import { withNumericalGradient } from "./optimize";
import { digamma, lbeta, lchoose, lgamma, logSumExp } from "./special";
import { assertPositiveParameters } from "./validate";

export interface BgBbParams {
  alpha: number;
  beta: number;
  gamma: number;
  delta: number;
}

export interface BgBbRow {
  /** Transactions in the n periods. */
  x: number;
  /** Period of the last transaction (0 when none). */
  tx: number;
  /** Number of transaction opportunities. */
  n: number;
  weight: number;
}

const NAMES = ["alpha", "beta", "gamma", "delta"] as const;

const checkParams = (params: BgBbParams) => assertPositiveParameters(params, NAMES);

/** Why (x, t_x, n) is not a BG/BB pattern, or null. */
export function bgbbRowProblem(x: number, tx: number, n: number): string | null {
  if (![x, tx, n].every((v) => Number.isInteger(v) && v >= 0)) return "frequency, recency and periods must be whole numbers >= 0";
  if (tx > n) return `recency ${tx} is after the last period ${n}`;
  if (x > tx) return `frequency ${x} is more than the recency ${tx} allows`;
  if (x === 0 && tx !== 0) return "recency must be 0 when frequency is 0";
  return null;
}

function checkRow(x: number, tx: number, n: number): void {
  const problem = bgbbRowProblem(x, tx, n);
  if (problem) throw new RangeError(problem);
}

/** log of each term of the likelihood: alive through n, or died after period t_x + i. */
function likelihoodTerms(params: BgBbParams, x: number, tx: number, n: number): { alive: number; terms: number[] } {
  const { alpha, beta, gamma, delta } = params;
  const lbAB = lbeta(alpha, beta);
  const lbGD = lbeta(gamma, delta);
  const alive = lbeta(alpha + x, beta + n - x) - lbAB + lbeta(gamma, delta + n) - lbGD;
  const terms = [alive];
  for (let i = 0; i < n - tx; i++) {
    terms.push(lbeta(alpha + x, beta + tx - x + i) - lbAB + lbeta(gamma + 1, delta + tx + i) - lbGD);
  }
  return { alive, terms };
}

export function bgbbLogLikelihoodRow(params: BgBbParams, x: number, tx: number, n: number): number {
  checkParams(params);
  checkRow(x, tx, n);
  return logSumExp(likelihoodTerms(params, x, tx, n).terms);
}

export function bgbbLogLikelihood(params: BgBbParams, rows: readonly BgBbRow[]): number {
  return rows.reduce((sum, row) => sum + row.weight * bgbbLogLikelihoodRow(params, row.x, row.tx, row.n), 0);
}

/** Maximum-likelihood BG/BB fit (numerical gradients: the row sets are small). */
export function fitBgBb(rows: readonly BgBbRow[], options: FitOptions = {}): FitResult<BgBbParams> {
  if (rows.length === 0) throw new RangeError("BG/BB needs at least one row");
  let totalWeight = 0;
  rows.forEach((row, i) => {
    const problem = bgbbRowProblem(row.x, row.tx, row.n);
    if (problem) throw new RangeError(`row ${i + 1}: ${problem}`);
    if (!(row.weight > 0)) throw new RangeError(`row ${i + 1}: weight ${row.weight} must be positive`);
    totalWeight += row.weight;
  });
  const logLikelihoodAt = (theta: number[]) => {
    const [alpha, beta, gamma, delta] = theta.map(Math.exp);
    return bgbbLogLikelihood({ alpha, beta, gamma, delta }, rows);
  };
  const numeric = withNumericalGradient(logLikelihoodAt, 1e-6);
  const starts = options.start
    ? [options.start.map(Math.log)]
    : [
        [1, 1, 1, 1],
        [0.5, 0.5, 0.5, 2],
        [2, 1, 0.5, 5],
      ].map((start) => start.map(Math.log));
  const fit = maximizeLikelihood<BgBbParams>({
    names: NAMES,
    logLikelihood: numeric,
    totalWeight,
    distinctRows: rows.length,
    starts,
    options: { ...options, gradientTolerance: options.gradientTolerance ?? 1e-7 },
  });
  return publicFit(fit);
}

/** P(alive in period n + 1 | x, t_x, n). */
export function bgbbPAlive(params: BgBbParams, x: number, tx: number, n: number): number {
  checkParams(params);
  checkRow(x, tx, n);
  const { alpha, beta, gamma, delta } = params;
  const { terms } = likelihoodTerms(params, x, tx, n);
  const aliveNext = lbeta(alpha + x, beta + n - x) - lbeta(alpha, beta) + lbeta(gamma, delta + n + 1) - lbeta(gamma, delta);
  return Math.exp(aliveNext - logSumExp(terms));
}

/**
 * δ/(γ-1) · (e^{u(k1)} - e^{u(k2)}) with u(k) = log[Γ(γ+δ)Γ(1+δ+k) / (Γ(1+δ)Γ(γ+δ+k))],
 * the expected number of periods alive between k1 and k2 in units of p; continuous at γ = 1.
 */
function survivalSum(gamma: number, delta: number, k1: number, k2: number): number {
  if (Math.abs(gamma - 1) < 1e-7) return delta * (digamma(1 + delta + k2) - digamma(1 + delta + k1));
  const u = (k: number) => lgamma(gamma + delta) - lgamma(1 + delta) + lgamma(1 + delta + k) - lgamma(gamma + delta + k);
  return (delta / (gamma - 1)) * (Math.exp(u(k1)) - Math.exp(u(k2)));
}

/** E[X(n)]: expected transactions in the first n periods. */
export function bgbbExpectedPurchases(params: BgBbParams, n: number): number {
  checkParams(params);
  const { alpha, beta, gamma, delta } = params;
  return (alpha / (alpha + beta)) * survivalSum(gamma, delta, 0, n);
}

/** E[X(n, n + nStar) | x, t_x, n]: expected transactions in the next nStar periods. */
export function bgbbConditionalExpectedPurchases(params: BgBbParams, nStar: number, x: number, tx: number, n: number): number {
  checkParams(params);
  checkRow(x, tx, n);
  const { alpha, beta, gamma, delta } = params;
  const logL = logSumExp(likelihoodTerms(params, x, tx, n).terms);
  const logLead = lbeta(alpha + x + 1, beta + n - x) - lbeta(alpha, beta);
  const fromN = survivalSum(gamma, delta, n, n + nStar);
  return Math.exp(logLead - logL) * fromN;
}

/** P(X(n) = x): probability of exactly x transactions in the first n periods. */
export function bgbbProbabilityOfPurchases(params: BgBbParams, x: number, n: number): number {
  checkParams(params);
  if (!Number.isInteger(x) || !Number.isInteger(n) || x < 0 || n < 0) throw new RangeError("x and n must be whole numbers >= 0");
  if (x > n) return 0;
  const { alpha, beta, gamma, delta } = params;
  const lbAB = lbeta(alpha, beta);
  const lbGD = lbeta(gamma, delta);
  const terms = [lchoose(n, x) + lbeta(alpha + x, beta + n - x) - lbAB + lbeta(gamma, delta + n) - lbGD];
  for (let i = x; i < n; i++) {
    terms.push(lchoose(i, x) + lbeta(alpha + x, beta + i - x) - lbAB + lbeta(gamma + 1, delta + i) - lbGD);
  }
  return Math.exp(logSumExp(terms));
}
