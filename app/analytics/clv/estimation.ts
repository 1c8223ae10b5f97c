// The maximum-likelihood driver shared by the models: BFGS over log-parameters on the
// per-customer mean negative log-likelihood, standard errors from the observed
// information, and an honest convergence report.
import {
  hessianFromGradient,
  invertSpd,
  minimizeBfgs,
  type MinimizeResult,
  type Objective,
  standardErrorsFromLogHessian,
} from "./optimize";
import { NBD_NAMES, nbdLogLikelihood, nbdStarts } from "./nbd";
import { type CanonicalRows, canonicalRows, type PreparedRows, type RfRow, subsamplePrepared } from "./rows";

export interface FitOptions {
  /** Starting values of the natural parameters (model order); a data-based guess when absent. */
  start?: readonly number[];
  maxIterations?: number;
  /** On the gradient of the per-customer mean log-likelihood in log-parameters. */
  gradientTolerance?: number;
  /** Standard errors from a numerical Hessian (8 extra gradient evaluations for 4 parameters). Default true. */
  standardErrors?: boolean;
}

export interface FitResult<P> {
  params: P;
  /** Total log-likelihood at `params`, in the caller's time unit. */
  logLikelihood: number;
  converged: boolean;
  message: string;
  iterations: number;
  evaluations: number;
  /** Asymptotic standard errors of the natural parameters; null when not requested or not identified. */
  standardErrors: P | null;
  /** Number of customers (sum of the row weights). */
  customers: number;
  /** Number of distinct rows the likelihood was summed over. */
  distinctRows: number;
  /** Optimiser runs made (every start, plus those added until the two best agreed). */
  runs?: number;
  /**
   * Set when the maximum sits on a nested model's edge: where the drop-out part vanishes
   * (count models: a -> 0, s -> 0 or β -> ∞; the plain NBD) or where drop-out is the same for
   * every customer (a, b -> ∞ with a/(a+b) = p; s, β -> ∞ with s/β = μ).
   */
  boundary?: FitBoundary | null;
  /** Parameters the data identify: the model's, the nested NBD's 2, or 3 with one drop-out for all. */
  effectiveParameters?: number;
  /** True when the data cannot support the model at all (count models: no repeat purchase). */
  notEnoughData?: boolean;
}

export const NBD_EDGE_VERDICT = "drop-out not identifiable: behaves like plain NBD";

export interface FitBoundary {
  /**
   * "no-drop-out": the plain NBD; "homogeneous-dropout": one drop-out probability p (BG/NBD) or
   * rate μ (Pareto/NBD) for all; "homogeneous-spend" (Gamma-Gamma): one ν for all (q, γ -> ∞).
   */
  kind: "no-drop-out" | "homogeneous-dropout" | "homogeneous-spend";
  /** In words: NBD_EDGE_VERDICT, or "drop-out the same for every customer (p = …)". */
  verdict: string;
  nestedModel: "nbd" | "homogeneous-dropout" | "homogeneous-spend";
  /** The nested model's maximum log-likelihood (caller's unit). */
  nestedLogLikelihood: number;
  /** Its parameters: { r, alpha } for the NBD; { r, alpha, p } or { r, alpha, mu } (μ per caller's unit) for one drop-out; { p, nu } for one ν. */
  nestedParams: Record<string, number>;
}

/** Total log-likelihood and its gradient with respect to the log-parameters. */
export type LogLikelihood = (theta: number[]) => { value: number; gradient: number[] };

export interface MaximizeInput {
  names: readonly string[];
  logLikelihood: LogLikelihood;
  totalWeight: number;
  distinctRows: number;
  /** Starting log-parameters: every one is run. */
  starts: number[][];
  /** Inverse Hessian of the mean objective at the first start (from a subsample fit). */
  inverseHessian?: number[][];
  /** |log parameter| beyond this counts as running to the boundary (default MAX_LOG_PARAMETER). */
  maxLogParameter?: number;
  /**
   * Further starts, asked for (round 0, 1, ...) while the two best converged runs disagree;
   * none (the default) or an empty list ends the search.
   */
  moreStarts?: (best: number[] | null, round: number) => number[][];
  /** Ends a run early, as converged with the message, e.g. once it has reached a known boundary supremum. */
  stopAt?: (theta: number[], totalLogLikelihood: number) => string | null;
  /** Two runs agree when their total log-likelihoods differ by at most this (default RUNS_AGREE_WITHIN). */
  agreeWithin?: number;
  options: FitOptions;
}

/** A fit may stop once a Newton step would gain less than this much total log-likelihood. */
export const TOTAL_LOG_LIKELIHOOD_TOLERANCE = 1e-6;

/** Two runs "agree" when their total log-likelihoods differ by at most this. */
export const RUNS_AGREE_WITHIN = 1e-4;

/** |log parameter| beyond this counts as running to the boundary (1e-10 .. 1e10). */
export const MAX_LOG_PARAMETER = 23;

/** Rounds of extra starts at most (each a handful of runs). */
const MAX_EXTRA_ROUNDS = 3;

export function toParams<P>(names: readonly string[], values: readonly number[]): P {
  const params: Record<string, number> = {};
  names.forEach((name, i) => (params[name] = values[i]));
  return params as P;
}

export function meanObjective(logLikelihood: LogLikelihood, totalWeight: number): Objective {
  return (theta) => {
    const { value, gradient } = logLikelihood(theta);
    return { value: -value / totalWeight, gradient: gradient.map((g) => -g / totalWeight) };
  };
}

export type MaximizeResult<P> = FitResult<P> & {
  theta: number[];
  inverseHessian: number[][];
  /** Every run's end point and whether it converged (best first), for boundary checks. */
  ends: { theta: number[]; logLikelihood: number; converged: boolean; message: string }[];
};

/**
 * Runs BFGS from every start and keeps the highest likelihood among the converged runs;
 * while the two best disagree, asks moreStarts for more. A local optimiser's answer depends
 * on where it starts (from one start BG/NBD slides to a -> 0 while a better interior
 * maximum exists), so no single run is trusted.
 */
export function maximizeLikelihood<P>(input: MaximizeInput): MaximizeResult<P> {
  const { names, totalWeight, options } = input;
  const objective = meanObjective(input.logLikelihood, totalWeight);
  const maxLogParameter = input.maxLogParameter ?? MAX_LOG_PARAMETER;
  const stopAt = input.stopAt;
  const runOptions = {
    gradientTolerance: options.gradientTolerance ?? 1e-9,
    maxIterations: options.maxIterations ?? 500,
    bound: maxLogParameter,
    hardBound: maxLogParameter + 2,
    // The total log-likelihood within 1e-6 of its maximum, parameters within 1e-6 (log scale).
    decrementTolerance: TOTAL_LOG_LIKELIHOOD_TOLERANCE / totalWeight,
    looseStepTolerance: 1e-6,
    stopAt: stopAt ? (theta: number[], value: number) => stopAt(theta, -value * totalWeight) : undefined,
  };
  const runs: MinimizeResult[] = [];
  let iterations = 0;
  let evaluations = 0;
  const run = (start: number[], inverseHessian?: number[][]) => {
    const result = minimizeBfgs(objective, start, { ...runOptions, inverseHessian });
    iterations += result.iterations;
    evaluations += result.evaluations;
    if (Number.isFinite(result.value)) runs.push(result);
  };
  input.starts.forEach((start, i) => run(start, i === 0 ? input.inverseHessian : undefined));
  const byValue = (a: MinimizeResult, b: MinimizeResult) => a.value - b.value || (a.converged === b.converged ? 0 : a.converged ? -1 : 1);
  const converged = () => runs.filter((r) => r.converged).sort(byValue);
  const agree = () => {
    const best = converged();
    return best.length >= 2 && (best[1].value - best[0].value) * totalWeight <= (input.agreeWithin ?? RUNS_AGREE_WITHIN);
  };
  for (let round = 0; input.moreStarts && round < MAX_EXTRA_ROUNDS && !agree(); round++) {
    const more = input.moreStarts(converged()[0]?.x ?? null, round);
    if (more.length === 0) break;
    for (const start of more) run(start);
  }
  // A "converged" point with a parameter at the bound is the optimiser following the
  // likelihood toward a boundary it never reaches: no interior maximum, so no estimate.
  const pastBound = (run: MinimizeResult): MinimizeResult => {
    const boundary = run.x.findIndex((t) => Math.abs(t) > maxLogParameter);
    if (boundary < 0) return run;
    return {
      ...run,
      converged: false,
      message: `parameter ${names[boundary]} ran to ${Math.exp(run.x[boundary]).toExponential(2)}: the likelihood has no maximum inside the parameter space for these data`,
    };
  };
  // Every run past the bound is demoted (and named: the optimiser only knows "coordinate i")
  // before `ends` is built, so none is taken as an interior maximum.
  const ordered = [...converged(), ...runs.filter((r) => !r.converged).sort(byValue)].map(pastBound);
  const best: MinimizeResult = ordered[0] ?? pastBound(minimizeBfgs(objective, input.starts[0], { maxIterations: 1 }));
  const theta = best.x;
  const values = theta.map(Math.exp);
  let standardErrors: P | null = null;
  if (best.converged && (options.standardErrors ?? true)) {
    const total: Objective = (t) => {
      const { value, gradient } = input.logLikelihood(t);
      return { value: -value, gradient: gradient.map((g) => -g) };
    };
    const hessian = hessianFromGradient(total, theta);
    const gradient = best.gradient.map((g) => g * totalWeight);
    const errors = standardErrorsFromLogHessian(theta, hessian, gradient);
    standardErrors = errors ? toParams<P>(names, errors) : null;
  }
  return {
    params: toParams<P>(names, values),
    logLikelihood: -best.value * totalWeight,
    converged: best.converged,
    message: best.message,
    iterations,
    evaluations,
    standardErrors,
    customers: totalWeight,
    distinctRows: input.distinctRows,
    runs: runs.length,
    effectiveParameters: names.length,
    theta,
    inverseHessian: best.inverseHessian,
    ends: ordered.map((r) => ({ theta: r.x, logLikelihood: -r.value * totalWeight, converged: r.converged, message: r.message })),
  };
}

/**
 * Inverse of the mean objective's Hessian at theta (numerical, from gradients), or null.
 * Used to hand a subsample's curvature to the full-data fit.
 */
export function inverseMeanHessian(logLikelihood: LogLikelihood, totalWeight: number, theta: number[]): number[][] | null {
  const hessian = hessianFromGradient(meanObjective(logLikelihood, totalWeight), theta);
  return invertSpd(hessian);
}

/**
 * Count-model parameters beyond 1e-7 .. 1e7 mean the fit is following the likelihood to a
 * boundary: e.g. a, b -> ∞ together when every customer has the same drop-out probability,
 * s, β -> ∞ when lifetimes do not vary. No estimate there. The fits run on canonical rows
 * (times in units of the customers' mean age), so the limit means the same in days, weeks
 * or months.
 */
export const COUNT_MODEL_MAX_LOG_PARAMETER = Math.log(1e7);

/** Above this many distinct rows, a subsample fit supplies the start and curvature. */
export const WARM_START_ABOVE_ROWS = 40_000;
const WARM_START_SAMPLE_ROWS = 12_000;

/**
 * A model within this much total log-likelihood of the plain NBD has no identifiable
 * drop-out: 1e-4, or 1e-7 per customer on large data (where the optimiser's own tolerance,
 * and the last digits of a sum over a million rows, are of that size).
 */
export function nestedTolerance(customers: number): number {
  return Math.max(1e-4, 1e-7 * customers);
}

/**
 * Below this, with a likelihood within the stopping tolerance of the NBD's, a run has reached the
 * plain-NBD edge: further on it only slides along a flat ridge (and Pareto/NBD's integrals get
 * slow as β grows), so it stops there.
 */
const NEGLIGIBLE_DROP_OUT = 1e-3;
/** How far below the NBD's likelihood (per customer) a run with negligible drop-out may stop as at the edge. */
const EDGE_STOP_PER_CUSTOMER = 1e-6;
/**
 * The same on the large-data subsample, whose only use at the edge is the verdict (the likelihood
 * then comes from the full data's NBD): there the last 1e-5 per customer of the slide is most of
 * the time (Pareto/NBD's quadrature costs grow with β: 10 ms a pass at β = 5, 300 ms at β = 1000).
 */
const SUBSAMPLE_EDGE_STOP_PER_CUSTOMER = 1e-5;
const REACHED_EDGE = "reached the plain-NBD edge (no drop-out)";

export interface CountModelSpec {
  names: readonly string[];
  logLikelihood: (rows: PreparedRows) => LogLikelihood;
  /** Starting log-parameters for rows, best guess first. */
  starts: (rows: PreparedRows) => number[][];
  /** Indices of the parameters measured in time units (α, and β for Pareto/NBD). */
  timeScaled: readonly number[];
  /**
   * How much drop-out the parameters imply over the data (BG/NBD family: the mean drop-out
   * probability a/(a+b); Pareto/NBD: P(dead within the longest age)); 0 at the plain NBD.
   */
  dropOutShare: (theta: number[], rows: PreparedRows) => number;
  /** Starts near the plain-NBD edge, from the NBD's (log r, log α): where the retail case's maximum sat. */
  edgeStarts: (nbdTheta: number[]) => number[][];
  /**
   * Which mixing distribution has lost its spread at theta (shape parameters past
   * HOMOGENEOUS_SHAPE: every customer alike), or null. The likelihood then still rises toward
   * a limit outside the parameter space, and where a run stops on that ridge is rounding noise.
   */
  homogeneousAt: (theta: number[], limit?: number) => string | null;
  /**
   * When only the drop-out mixing has lost its spread at theta (past HOMOGENEOUS_SHAPE, the
   * purchase rates still varying): the limit's common drop-out, p = a/(a+b) or μ = s/β (per
   * canonical unit, timeScaled), else null. Its shape parameters are theta[2] and theta[3].
   */
  homogeneousDropOut?: (theta: number[]) => { parameter: "p" | "mu"; value: number; timeScaled: boolean } | null;
  /**
   * The homogeneous drop-out limit's own log-likelihood in (log r, log α, log p/(1-p)) (the
   * BG/NBD family): a run stopped on the ridge is then finished by fitting the limit itself.
   */
  homogeneousLogLikelihood?: (rows: PreparedRows) => LogLikelihood;
}

/** A Gamma or Beta shape past this: the distribution's coefficient of variation is below 3 %, a point mass for every purpose. */
export const HOMOGENEOUS_SHAPE = 1e3;
/** A run on the homogeneity ridge is stopped here: further on, only rounding decides where it ends. */
const HOMOGENEOUS_STOP = 1e5;

function notEnoughData<P>(spec: CountModelSpec, canonical: CanonicalRows): FitResult<P> {
  return {
    params: toParams<P>(spec.names, spec.names.map(() => Number.NaN)),
    logLikelihood: Number.NaN,
    converged: false,
    message: "not enough data: no customer made a repeat purchase, so purchase rates and drop-out cannot be estimated",
    iterations: 0,
    evaluations: 0,
    standardErrors: null,
    customers: canonical.rows.totalWeight,
    distinctRows: canonical.rows.count,
    runs: 0,
    boundary: null,
    effectiveParameters: 0,
    notEnoughData: true,
  };
}

/** Perturbed copies of the best point (deterministic), for the extra rounds. */
function perturbed(best: number[], round: number): number[][] {
  const shift = [1, 2, 3][round] ?? 3;
  return best.map((_, i) => best.map((t, j) => (j === i ? t + (i % 2 === 0 ? shift : -shift) : t)));
}

/**
 * NBD fits by row set and optimiser options: BG/NBD, the modified BG/NBD and Pareto/NBD fitted on
 * the same (canonical, cached) rows nest the same NBD, so it is fitted once, not per model.
 */
const nbdFits = new WeakMap<PreparedRows, Map<string, MaximizeResult<{ r: number; alpha: number }>>>();

/** The plain NBD, the edge every count model here nests. */
function fitNbd(rows: PreparedRows, options: FitOptions): MaximizeResult<{ r: number; alpha: number }> {
  const key = `${options.gradientTolerance ?? ""}|${options.maxIterations ?? ""}`;
  let fits = nbdFits.get(rows);
  if (!fits) nbdFits.set(rows, (fits = new Map()));
  let fit = fits.get(key);
  if (!fit) fits.set(key, (fit = fitNbdOnce(rows, options)));
  return fit;
}

function fitNbdOnce(rows: PreparedRows, options: FitOptions): MaximizeResult<{ r: number; alpha: number }> {
  return maximizeLikelihood<{ r: number; alpha: number }>({
    names: NBD_NAMES,
    logLikelihood: nbdLogLikelihood(rows),
    totalWeight: rows.totalWeight,
    distinctRows: rows.count,
    starts: nbdStarts(rows),
    maxLogParameter: COUNT_MODEL_MAX_LOG_PARAMETER,
    options: { ...options, standardErrors: false, start: undefined },
  });
}

/** The fit of one (possibly subsampled) canonical row set: every start, the NBD edge detected. */
function fitCanonical<P>(
  spec: CountModelSpec,
  rows: PreparedRows,
  options: FitOptions,
  first?: { starts: number[][]; inverseHessian?: number[][]; only?: boolean },
  edgeStopPerCustomer = EDGE_STOP_PER_CUSTOMER,
): MaximizeResult<P> & { nbd: MaximizeResult<{ r: number; alpha: number }> } {
  const nbd = fitNbd(rows, options);
  // Stopping (not the verdict) allows 1e-6 per customer: the rest of the slide toward the edge
  // gains less than that, and at a million customers it is the slow part (Pareto/NBD's
  // integrals near β -> ∞).
  const tolerance = Math.max(nestedTolerance(rows.totalWeight), edgeStopPerCustomer * rows.totalWeight);
  // A run already better than the NBD by more than the verdict's tolerance has found drop-out: it goes on.
  const atEdge = (theta: number[], logLikelihood: number) =>
    spec.dropOutShare(theta, rows) < NEGLIGIBLE_DROP_OUT &&
    logLikelihood >= nbd.logLikelihood - tolerance &&
    logLikelihood <= nbd.logLikelihood + nestedTolerance(rows.totalWeight);
  const logLikelihood = spec.logLikelihood(rows);
  const userStart = options.start !== undefined;
  const fit = maximizeLikelihood<P>({
    names: spec.names,
    logLikelihood,
    totalWeight: rows.totalWeight,
    distinctRows: rows.count,
    starts: first?.starts ?? spec.starts(rows),
    inverseHessian: first?.inverseHessian,
    maxLogParameter: COUNT_MODEL_MAX_LOG_PARAMETER,
    // Once a run is at the NBD edge, sliding further only moves a parameter toward 0 or ∞.
    stopAt: (theta, value) => (atEdge(theta, value) ? REACHED_EDGE : spec.homogeneousAt(theta, HOMOGENEOUS_STOP)),
    // Runs stopped at the edge agree to the tolerance that stopped them.
    agreeWithin: Math.max(RUNS_AGREE_WITHIN, tolerance),
    moreStarts:
      userStart || first?.only
        ? undefined
        : (best, round) => (round === 0 ? [...spec.edgeStarts(nbd.theta), ...(best ? perturbed(best, round) : [])] : best ? perturbed(best, round) : []),
    options,
  });
  return { ...fit, nbd };
}

/**
 * Fits a count model on weighted rows: on their canonical form (canonicalRows), from every
 * start until the two best runs agree, beside the plain NBD its drop-out part nests. Large
 * row sets run the starts on an unbiased subsample (heavy rows whole, the rest sampled and
 * re-weighted) and polish the winner on the full data, whose likelihood judges convergence.
 */
export function fitCountModel<P>(spec: CountModelSpec, input: readonly RfRow[] | PreparedRows, options: FitOptions = {}): FitResult<P> {
  const canonical = canonicalRows(input);
  if (!(canonical.repeatPurchases > 0)) return notEnoughData<P>(spec, canonical);
  const { rows, timeScale } = canonical;
  const toCanonical = (start: readonly number[]) => start.map((v, i) => Math.log(spec.timeScaled.includes(i) ? v / timeScale : v));
  let first: { starts: number[][]; inverseHessian?: number[][]; only?: boolean } | undefined = options.start
    ? { starts: [toCanonical(options.start)] }
    : undefined;
  if (!options.start && rows.count > WARM_START_ABOVE_ROWS) {
    const sample = subsamplePrepared(rows, WARM_START_SAMPLE_ROWS);
    const warm = fitCanonical<P>(spec, sample, { ...options, standardErrors: false }, undefined, SUBSAMPLE_EDGE_STOP_PER_CUSTOMER);
    const verdict = classify(spec, warm, sample);
    if (verdict.converged && verdict.boundary?.kind === "no-drop-out") {
      // The subsample's maximum is the plain NBD, so the full data's is too (to the
      // subsample's precision). The full NBD fit is cheap; the model's own passes at the edge
      // are not (Pareto/NBD's integrals near β -> ∞ cost a second each at a million customers).
      const nbd = fitNbd(rows, options);
      const theta = [nbd.theta[0], nbd.theta[1], ...verdict.theta.slice(2)];
      const atEdge = {
        ...verdict,
        theta,
        logLikelihood: nbd.logLikelihood,
        customers: rows.totalWeight,
        distinctRows: rows.count,
        boundary: edgeBoundary(nbd),
        nbd,
        message: edgeMessage(nbd),
      };
      return inCallerUnit(spec, atEdge, canonical);
    }
    if (warm.converged) {
      const inverseHessian = inverseMeanHessian(spec.logLikelihood(sample), sample.totalWeight, warm.theta) ?? warm.inverseHessian;
      first = { starts: [warm.theta], inverseHessian, only: true };
    }
  }
  let fit = classify(spec, fitCanonical<P>(spec, rows, options, first), rows);
  // The polish of the subsample's winner failed: back to every start on the full data. Judged
  // by the verdict, not the run: a polish that crossed the bound along the homogeneous
  // drop-out ridge ends at that limit's own fit (issue 16: the first refit's 3 s of fallback).
  if (first?.only && !fit.converged) fit = classify(spec, fitCanonical<P>(spec, rows, options), rows);
  return inCallerUnit(spec, fit, canonical);
}

function edgeBoundary(nbd: MaximizeResult<{ r: number; alpha: number }>): FitBoundary {
  return { kind: "no-drop-out", verdict: NBD_EDGE_VERDICT, nestedModel: "nbd", nestedLogLikelihood: nbd.logLikelihood, nestedParams: { ...nbd.params } };
}

/** The verdict in words, e.g. "drop-out the same for every customer (p = 0.0912)". */
export function homogeneousDropOutVerdict(parameter: string, value: number): string {
  return `drop-out the same for every customer (${parameter === "mu" ? "μ" : parameter} = ${value.toPrecision(4)}${parameter === "mu" ? " per time unit" : ""})`;
}

/**
 * A run stopped on the homogeneous drop-out ridge (a, b -> ∞ with a/(a+b) fixed; s, β -> ∞
 * with s/β fixed) is the nested one-drop-out model. The BG/NBD family fits that model itself
 * (homogeneousLimitFit). Pareto/NBD, whose limit needs a quadrature per row, takes it once the
 * likelihood has stopped rising there: ten times further along the ridge gains at most the
 * nested tolerance. The likelihood approaches its limit like 1/(s+β), so the limit's is the
 * stopped point's plus gain × 10/9.
 */
function homogeneousDropOutBoundary(
  spec: CountModelSpec,
  end: { theta: number[]; logLikelihood: number },
  rows: PreparedRows,
): { boundary: FitBoundary; theta: number[]; logLikelihood: number } | null {
  const dropOut = spec.homogeneousDropOut?.(end.theta);
  if (!dropOut) return null;
  if (spec.homogeneousLogLikelihood) return homogeneousLimitFit(spec.homogeneousLogLikelihood(rows), end, rows);
  const further = end.theta.map((t, i) => (i === 2 || i === 3 ? t + Math.LN10 : t));
  const gain = spec.logLikelihood(rows)(further).value - end.logLikelihood;
  if (!(Math.abs(gain) <= nestedTolerance(rows.totalWeight))) return null;
  return {
    boundary: {
      kind: "homogeneous-dropout",
      verdict: homogeneousDropOutVerdict(dropOut.parameter, dropOut.value),
      nestedModel: "homogeneous-dropout",
      nestedLogLikelihood: end.logLikelihood + (gain * 10) / 9,
      nestedParams: { r: Math.exp(end.theta[0]), alpha: Math.exp(end.theta[1]), [dropOut.parameter]: dropOut.value },
    },
    theta: end.theta,
    logLikelihood: end.logLikelihood,
  };
}

/**
 * The BG/NBD family's limit fitted as the 3-parameter model it is, from the stopped point's
 * (r, α, p). A run stops on the ridge once a, b pass HOMOGENEOUS_STOP, where the likelihood can
 * still be short of its limit by more than the nested tolerance (0.4 at a million customers,
 * a + b = 5.7e5) and r, α still off their best values; going further along the ridge, the
 * 4-parameter likelihood's gamma functions of a + b lose those digits. The limit's maximum is
 * the supremum along the ridge: its likelihood and (r, α, p) are the fit's (ADR 0020), a and b
 * the stopped point's a + b split by the fitted p, for the record.
 */
function homogeneousLimitFit(
  logLikelihood: LogLikelihood,
  end: { theta: number[]; logLikelihood: number },
  rows: PreparedRows,
): { boundary: FitBoundary; theta: number[]; logLikelihood: number } | null {
  const [logR, logAlpha, logA, logB] = end.theta;
  const limit = maximizeLikelihood<{ r: number; alpha: number; odds: number }>({
    names: ["r", "alpha", "odds"],
    logLikelihood,
    totalWeight: rows.totalWeight,
    distinctRows: rows.count,
    starts: [[logR, logAlpha, logA - logB]],
    maxLogParameter: COUNT_MODEL_MAX_LOG_PARAMETER,
    options: { standardErrors: false },
  });
  // It starts from the run's own (r, α, p), so it ends no lower than the limit along the run's
  // ray. (The 4-parameter value at the run's end is no check: past a + b ~ 1e7 its rounding,
  // 0.07 at a million customers, can put it above the limit it tends to.)
  if (!limit.converged) return null;
  if (Math.exp(limit.theta[0]) > HOMOGENEOUS_SHAPE) return null; // r -> ∞ too: not this limit
  const [r, alpha] = limit.theta.map(Math.exp);
  const p = 1 / (1 + Math.exp(-limit.theta[2]));
  const logScale = Math.max(logA, logB) + Math.log1p(Math.exp(-Math.abs(logA - logB))); // log(a + b)
  return {
    boundary: {
      kind: "homogeneous-dropout",
      verdict: homogeneousDropOutVerdict("p", p),
      nestedModel: "homogeneous-dropout",
      nestedLogLikelihood: limit.logLikelihood,
      nestedParams: { r, alpha, p },
    },
    theta: [limit.theta[0], limit.theta[1], logScale + Math.log(p), logScale - log1pOdds(limit.theta[2])],
    logLikelihood: limit.logLikelihood,
  };
}

/** log(1 + e^u): log(1/(1 - p)) for u = log p/(1-p). */
function log1pOdds(u: number): number {
  return u > 0 ? u + Math.log1p(Math.exp(-u)) : Math.log1p(Math.exp(u));
}

function edgeMessage(nbd: MaximizeResult<{ r: number; alpha: number }>): string {
  return `drop-out not identifiable: behaves like plain NBD (log-likelihood ${nbd.logLikelihood.toFixed(4)} in the fit's time scale)`;
}

/** The drop-out edge verdict: the best fit, or a run that ran off toward the NBD, is no better than the NBD. Exported for tests. */
export function classify<P>(spec: CountModelSpec, fit: MaximizeResult<P> & { nbd: MaximizeResult<{ r: number; alpha: number }> }, rows: PreparedRows) {
  const { nbd } = fit;
  const tolerance = nestedTolerance(rows.totalWeight);
  const offEdge = (end: { theta: number[]; converged: boolean }) => !end.converged || spec.homogeneousAt(end.theta) !== null;
  const edge = edgeBoundary(nbd);
  const message = edgeMessage(nbd);
  // The best run overall, converged or not: a run that ran off (or stopped on a ridge) with a
  // higher likelihood than every interior point says the supremum lies outside.
  const top = [...fit.ends].sort((a, b) => b.logLikelihood - a.logLikelihood)[0];
  const interior = fit.ends.find((end) => !offEdge(end) && end.message !== REACHED_EDGE);
  // Even a run stopped at the edge must be no better than the NBD: above it, it found drop-out.
  if (top && top.logLikelihood <= nbd.logLikelihood + tolerance) {
    // Nothing beats the plain NBD: its supremum is the model's, at the no-drop-out edge.
    const at = top;
    return { ...fit, theta: at.theta, logLikelihood: at.logLikelihood, converged: true, message, boundary: edge, effectiveParameters: 2, standardErrors: null };
  }
  if (top && offEdge(top) && (!interior || top.logLikelihood > interior.logLikelihood + tolerance)) {
    const ridge = spec.homogeneousAt(top.theta);
    // One drop-out for every customer is a model too (3 parameters): named, and predicting
    // with the limit's closed forms (fittedCountModel). A run that ran past the bound along the ridge (one BFGS step can cross it: the ridge is
    // flat) is as good a start for the limit's own fit as one stopped on it.
    const ranOffAlongRidge = spec.homogeneousLogLikelihood !== undefined && top.theta.some((t) => Math.abs(t) > COUNT_MODEL_MAX_LOG_PARAMETER);
    const homogeneous = ridge && (top.converged || ranOffAlongRidge) ? homogeneousDropOutBoundary(spec, top, rows) : null;
    if (homogeneous) {
      const { boundary, theta, logLikelihood } = homogeneous;
      return { ...fit, theta, logLikelihood, converged: true, message: boundary.verdict, boundary, effectiveParameters: 3, standardErrors: null };
    }
    const why = ridge
      ? `${ridge}: the likelihood rises toward that limit, outside the parameter space, with no maximum inside it for these data`
      : top.message;
    return { ...fit, theta: top.theta, logLikelihood: top.logLikelihood, converged: false, message: why, boundary: null, standardErrors: null };
  }
  if (!interior) return { ...fit, converged: false, boundary: null };
  return { ...fit, theta: interior.theta, logLikelihood: interior.logLikelihood, converged: true, message: fit.ends.includes(interior) ? interior.message : fit.message, boundary: null, standardErrors: interior.theta === fit.theta ? fit.standardErrors : null };
}

/** Parameters, standard errors and log-likelihoods back in the caller's time unit. */
function inCallerUnit<P>(
  spec: CountModelSpec,
  fit: MaximizeResult<P> & { boundary: FitBoundary | null; nbd: MaximizeResult<{ r: number; alpha: number }> },
  canonical: CanonicalRows,
): FitResult<P> {
  const { timeScale, repeatPurchases } = canonical;
  const shift = Math.log(timeScale) * repeatPurchases;
  const rescale = (values: P): P => {
    const out = { ...(values as Record<string, number>) };
    spec.timeScaled.forEach((i) => (out[spec.names[i]] *= timeScale));
    return out as P;
  };
  const boundary = fit.boundary ? boundaryInCallerUnit(fit.boundary, timeScale, shift) : null;
  return {
    params: rescale(toParams<P>(spec.names, fit.theta.map(Math.exp))),
    logLikelihood: fit.logLikelihood - shift,
    converged: fit.converged,
    message:
      boundary && fit.converged
        ? boundary.kind === "no-drop-out"
          ? `${NBD_EDGE_VERDICT} (log-likelihood ${boundary.nestedLogLikelihood.toFixed(4)})`
          : `${boundary.verdict} (log-likelihood ${boundary.nestedLogLikelihood.toFixed(4)})`
        : fit.message,
    iterations: fit.iterations + fit.nbd.iterations,
    evaluations: fit.evaluations + fit.nbd.evaluations,
    standardErrors: fit.standardErrors ? rescale(fit.standardErrors) : null,
    customers: fit.customers,
    distinctRows: fit.distinctRows,
    runs: fit.runs,
    boundary,
    effectiveParameters: fit.effectiveParameters,
    notEnoughData: false,
  };
}

/** α in the caller's unit, μ per the caller's unit, the likelihood shifted by the purchase densities' Jacobian. */
function boundaryInCallerUnit(boundary: FitBoundary, timeScale: number, shift: number): FitBoundary {
  const nestedParams = { ...boundary.nestedParams };
  if ("alpha" in nestedParams) nestedParams.alpha *= timeScale;
  if ("mu" in nestedParams) nestedParams.mu /= timeScale;
  const verdict = boundary.kind === "homogeneous-dropout" ? homogeneousDropOutVerdict("p" in nestedParams ? "p" : "mu", nestedParams.p ?? nestedParams.mu) : boundary.verdict;
  return { ...boundary, verdict, nestedLogLikelihood: boundary.nestedLogLikelihood - shift, nestedParams };
}

export function publicFit<P>(fit: FitResult<P> & { theta?: number[]; inverseHessian?: number[][] }): FitResult<P> {
  return {
    params: fit.params,
    logLikelihood: fit.logLikelihood,
    converged: fit.converged,
    message: fit.message,
    iterations: fit.iterations,
    evaluations: fit.evaluations,
    standardErrors: fit.standardErrors,
    customers: fit.customers,
    distinctRows: fit.distinctRows,
    runs: fit.runs,
    boundary: fit.boundary ?? null,
    effectiveParameters: fit.effectiveParameters,
  };
}

export { ageScale } from "./rows";
