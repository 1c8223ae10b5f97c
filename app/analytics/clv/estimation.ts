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
import { prepareRows, type PreparedRows, type RfRow, subsamplePrepared } from "./rows";

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
}

/** Total log-likelihood and its gradient with respect to the log-parameters. */
export type LogLikelihood = (theta: number[]) => { value: number; gradient: number[] };

export interface MaximizeInput {
  names: readonly string[];
  logLikelihood: LogLikelihood;
  totalWeight: number;
  distinctRows: number;
  /** Starting log-parameters, tried in order until one converges. */
  starts: number[][];
  /** Inverse Hessian of the mean objective at the first start (from a subsample fit). */
  inverseHessian?: number[][];
  /** |log parameter| beyond this counts as running to the boundary (default MAX_LOG_PARAMETER). */
  maxLogParameter?: number;
  options: FitOptions;
}

/** A fit may stop once a Newton step would gain less than this much total log-likelihood. */
export const TOTAL_LOG_LIKELIHOOD_TOLERANCE = 1e-6;

/** |log parameter| beyond this counts as running to the boundary (1e-10 .. 1e10). */
export const MAX_LOG_PARAMETER = 23;

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

/** Runs BFGS from each start until one converges; returns the best run as a FitResult. */
export function maximizeLikelihood<P>(input: MaximizeInput): FitResult<P> & { theta: number[]; inverseHessian: number[][] } {
  const { names, totalWeight, options } = input;
  const objective = meanObjective(input.logLikelihood, totalWeight);
  const maxLogParameter = input.maxLogParameter ?? MAX_LOG_PARAMETER;
  let best: MinimizeResult | null = null;
  let iterations = 0;
  let evaluations = 0;
  for (let i = 0; i < input.starts.length; i++) {
    const run = minimizeBfgs(objective, input.starts[i], {
      gradientTolerance: options.gradientTolerance ?? 1e-9,
      maxIterations: options.maxIterations ?? 500,
      inverseHessian: i === 0 ? input.inverseHessian : undefined,
      bound: maxLogParameter,
      // The total log-likelihood within 1e-6 of its maximum, parameters within 1e-6 (log scale).
      decrementTolerance: TOTAL_LOG_LIKELIHOOD_TOLERANCE / totalWeight,
      looseStepTolerance: 1e-6,
    });
    iterations += run.iterations;
    evaluations += run.evaluations;
    const better = !best || (run.converged && !best.converged) || (run.converged === best.converged && run.value < best.value);
    if (Number.isFinite(run.value) && better) best = run;
    if (run.converged) break;
  }
  if (!best) {
    best = minimizeBfgs(objective, input.starts[0], { maxIterations: 1 });
  }
  // A "converged" point with a parameter at 1e-10 or 1e10 is the optimiser following the
  // likelihood toward a boundary it never reaches: no interior maximum, so no estimate.
  const boundary = best.x.findIndex((t) => Math.abs(t) > maxLogParameter);
  if (boundary >= 0) {
    best = {
      ...best,
      converged: false,
      message: `parameter ${names[boundary]} ran to ${Math.exp(best.x[boundary]).toExponential(2)}: the likelihood has no maximum inside the parameter space for these data`,
    };
  }
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
    theta,
    inverseHessian: best.inverseHessian,
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
 * Count-model parameters beyond 1e-7 .. 1e7 (in day, week or month units) mean the fit is
 * following the likelihood to a boundary: e.g. a, b -> ∞ together when every customer has
 * the same drop-out probability, s, β -> ∞ when lifetimes do not vary. No estimate there.
 */
export const COUNT_MODEL_MAX_LOG_PARAMETER = Math.log(1e7);

/** Above this many distinct rows, a subsample fit supplies the start and curvature. */
export const WARM_START_ABOVE_ROWS = 40_000;
const WARM_START_SAMPLE_ROWS = 12_000;

export interface CountModelSpec {
  names: readonly string[];
  logLikelihood: (rows: PreparedRows) => LogLikelihood;
  /** Starting log-parameters for rows, best guess first. */
  starts: (rows: PreparedRows) => number[][];
}

/**
 * Fits a count model on weighted rows. Large row sets are first fitted on an unbiased
 * subsample (heavy rows whole, the rest sampled and re-weighted); the full fit then starts
 * at that optimum with its curvature and needs only a few full passes. The result is the
 * full-data optimum either way: convergence is judged on the full likelihood.
 */
export function fitCountModel<P>(spec: CountModelSpec, rows: readonly RfRow[] | PreparedRows, options: FitOptions = {}): FitResult<P> {
  const prepared = prepareRows(rows);
  let starts = options.start ? [options.start.map(Math.log)] : spec.starts(prepared);
  let inverseHessian: number[][] | undefined;
  if (!options.start && prepared.count > WARM_START_ABOVE_ROWS) {
    const sample = subsamplePrepared(prepared, WARM_START_SAMPLE_ROWS);
    const sampleLikelihood = spec.logLikelihood(sample);
    const warm = maximizeLikelihood<P>({
      names: spec.names,
      logLikelihood: sampleLikelihood,
      totalWeight: sample.totalWeight,
      distinctRows: sample.count,
      starts: spec.starts(sample),
      maxLogParameter: COUNT_MODEL_MAX_LOG_PARAMETER,
      options: { ...options, standardErrors: false },
    });
    if (warm.converged) {
      starts = [warm.theta, ...starts];
      inverseHessian = inverseMeanHessian(sampleLikelihood, sample.totalWeight, warm.theta) ?? warm.inverseHessian;
    }
  }
  const fit = maximizeLikelihood<P>({
    names: spec.names,
    logLikelihood: spec.logLikelihood(prepared),
    totalWeight: prepared.totalWeight,
    distinctRows: prepared.count,
    starts,
    inverseHessian,
    maxLogParameter: COUNT_MODEL_MAX_LOG_PARAMETER,
    options,
  });
  return publicFit(fit);
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
  };
}

/** Mean purchase rate scale: total age over total repeat purchases (1 when nobody repeated). */
export function ageScale(rows: PreparedRows): number {
  let age = 0;
  let purchases = 0;
  for (let i = 0; i < rows.count; i++) {
    age += rows.weight[i] * rows.T[i];
    purchases += rows.weight[i] * rows.x[i];
  }
  if (!(purchases > 0) || !(age > 0)) return 1;
  return age / purchases;
}
