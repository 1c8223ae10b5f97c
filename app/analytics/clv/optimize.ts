// Unconstrained minimisation for maximum likelihood: BFGS with a strong-Wolfe line search
// (Nocedal & Wright, algorithms 3.5/3.6 and 6.1). Models optimise over log-parameters so
// positivity needs no constraints. Convergence is reported as it happened: a run that hits
// the iteration limit or cannot make progress says so instead of returning its last point
// as if it were the optimum.

export interface ObjectiveValue {
  value: number;
  gradient: number[];
}

/** Objective with gradient; may return a non-finite value where undefined (the line search backs off). */
export type Objective = (x: number[]) => ObjectiveValue;

export interface MinimizeOptions {
  /** Converged when the largest gradient component is at most this. */
  gradientTolerance?: number;
  maxIterations?: number;
  /** Initial inverse Hessian (row-major n x n); a scaled identity when absent. */
  inverseHessian?: number[][];
  /** Largest step in any coordinate per iteration (log-parameters: e^5 per step at most). */
  maxStep?: number;
  /**
   * Also converged when the quasi-Newton step is below this in every coordinate while the
   * gradient is below looseGradientTolerance: the point is then known to this precision
   * even where rounding keeps the gradient from reaching gradientTolerance.
   */
  stepTolerance?: number;
  looseGradientTolerance?: number;
  /** Stop, unconverged, as soon as a coordinate leaves [-bound, bound] (a parameter running off). */
  bound?: number;
  /**
   * Also converged when the predicted gain of a Newton step, g'Hg/2, is at most this and
   * the step is at most looseStepTolerance in every coordinate (with an informed H): the
   * value is then known to this precision and the point to that one.
   */
  decrementTolerance?: number;
  looseStepTolerance?: number;
  /**
   * The line search never evaluates beyond [-hardBound, hardBound] (treated as undefined, so it
   * backs off): far past `bound` the likelihoods lose every digit to cancellation and could
   * return a huge, false value.
   */
  hardBound?: number;
  /** Called after each accepted step; a message ends the run there, reported converged with it. */
  stopAt?: (x: number[], value: number) => string | null;
}

export interface MinimizeResult {
  x: number[];
  value: number;
  gradient: number[];
  converged: boolean;
  message: string;
  iterations: number;
  evaluations: number;
  /** The final BFGS approximation of the inverse Hessian. */
  inverseHessian: number[][];
}

const C1 = 1e-4;
const C2 = 0.9;
/**
 * Near the optimum, decreases fall below the rounding error of the objective and the
 * sufficient-decrease test fails at random. Hager & Zhang's approximate Wolfe conditions
 * then judge the step by its slope alone, allowing the value to rise by this much (relative).
 */
const VALUE_NOISE = 1e-12;

function approximateWolfe(value: number, slope: number, f0: number, d0: number): boolean {
  return value <= f0 + VALUE_NOISE * Math.abs(f0) && slope >= C2 * d0 && slope <= (2 * C1 - 1) * d0;
}

function dot(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function maxAbs(a: number[]): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

function matVec(m: number[][], v: number[]): number[] {
  return m.map((row) => dot(row, v));
}

function identity(n: number, scale = 1): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? scale : 0)));
}

function isUsable(v: ObjectiveValue): boolean {
  return Number.isFinite(v.value) && v.gradient.every(Number.isFinite);
}

interface LineSearchResult {
  step: number;
  point: ObjectiveValue;
  ok: boolean;
}

/** Strong-Wolfe line search along `direction` from x (value f0, slope d0 < 0). */
function lineSearch(
  objective: Objective,
  x: number[],
  f0: number,
  d0: number,
  direction: number[],
  initialStep: number,
  counter: { evaluations: number },
  hardBound: number,
): LineSearchResult {
  const at = (step: number) => {
    counter.evaluations++;
    const trial = x.map((xi, i) => xi + step * direction[i]);
    if (trial.some((t) => Math.abs(t) > hardBound)) return { point: { value: Number.NaN, gradient: [] }, slope: Number.NaN };
    const point = objective(trial);
    return { point, slope: dot(point.gradient, direction) };
  };
  let previousStep = 0;
  let previousValue = f0;
  let previousSlope = d0;
  let step = initialStep;
  for (let i = 0; i < 60; i++) {
    const { point, slope } = at(step);
    if (!isUsable(point)) {
      // Outside where the likelihood is computable (overflowing parameters): back off.
      step = previousStep + (step - previousStep) / 4;
      if (step - previousStep < 1e-14) break;
      continue;
    }
    if (approximateWolfe(point.value, slope, f0, d0)) return { step, point, ok: true };
    if (point.value > f0 + C1 * step * d0 || (i > 0 && point.value >= previousValue)) {
      return zoom(at, f0, d0, previousStep, previousValue, previousSlope, step, point.value, slope);
    }
    if (Math.abs(slope) <= -C2 * d0) return { step, point, ok: true };
    if (slope >= 0) return zoom(at, f0, d0, step, point.value, slope, previousStep, previousValue, previousSlope);
    previousStep = step;
    previousValue = point.value;
    previousSlope = slope;
    step *= 2;
  }
  return { step: 0, point: { value: f0, gradient: [] }, ok: false };
}

function cubicMinimizer(a: number, fa: number, da: number, b: number, fb: number, db: number): number {
  const d1 = da + db - (3 * (fa - fb)) / (a - b);
  const radicand = d1 * d1 - da * db;
  if (radicand < 0) return (a + b) / 2;
  const d2 = Math.sign(b - a) * Math.sqrt(radicand);
  const t = b - (b - a) * ((db + d2 - d1) / (db - da + 2 * d2));
  return Number.isFinite(t) ? t : (a + b) / 2;
}

function zoom(
  at: (step: number) => { point: ObjectiveValue; slope: number },
  f0: number,
  d0: number,
  lo: number,
  fLo: number,
  dLo: number,
  hi: number,
  fHi: number,
  dHi: number,
): LineSearchResult {
  let best: { step: number; point: ObjectiveValue } | null = null;
  for (let i = 0; i < 40; i++) {
    let step = cubicMinimizer(lo, fLo, dLo, hi, fHi, dHi);
    const left = Math.min(lo, hi);
    const right = Math.max(lo, hi);
    const margin = 0.1 * (right - left);
    if (!(step > left + margin && step < right - margin)) step = (lo + hi) / 2;
    const { point, slope } = at(step);
    if (!isUsable(point)) {
      hi = step;
      fHi = Number.POSITIVE_INFINITY;
      dHi = 0;
      continue;
    }
    if (point.value <= f0 && (!best || point.value < best.point.value)) best = { step, point };
    if (approximateWolfe(point.value, slope, f0, d0)) return { step, point, ok: true };
    if (point.value > f0 + C1 * step * d0 || point.value >= fLo) {
      hi = step;
      fHi = point.value;
      dHi = slope;
    } else {
      if (Math.abs(slope) <= -C2 * d0) return { step, point, ok: true };
      if (slope * (hi - lo) >= 0) {
        hi = lo;
        fHi = fLo;
        dHi = dLo;
      }
      lo = step;
      fLo = point.value;
      dLo = slope;
    }
    if (Math.abs(hi - lo) < 1e-16 * Math.max(1, Math.abs(lo))) break;
  }
  // No Wolfe point, but a decrease is still a usable (if imperfect) step.
  if (best && best.point.value < f0) return { ...best, ok: true };
  return { step: 0, point: { value: f0, gradient: [] }, ok: false };
}

/** Minimise a smooth function with BFGS. */
export function minimizeBfgs(objective: Objective, start: number[], options: MinimizeOptions = {}): MinimizeResult {
  const n = start.length;
  const gradientTolerance = options.gradientTolerance ?? 1e-8;
  const maxIterations = options.maxIterations ?? 500;
  const maxStep = options.maxStep ?? 5;
  const stepTolerance = options.stepTolerance ?? 1e-8;
  const looseGradientTolerance = options.looseGradientTolerance ?? 1e-6;
  let updates = 0;
  const counter = { evaluations: 1 };
  let x = start.slice();
  let current = objective(x);
  if (!isUsable(current)) {
    return {
      x,
      value: current.value,
      gradient: current.gradient,
      converged: false,
      message: "the objective is not finite at the starting point",
      iterations: 0,
      evaluations: 1,
      inverseHessian: identity(n),
    };
  }
  let H = options.inverseHessian ? options.inverseHessian.map((row) => row.slice()) : null;
  // A supplied inverse Hessian counts as already informed.
  if (H) updates = n;
  let stalls = 0;
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    const gradientNorm = maxAbs(current.gradient);
    if (gradientNorm <= gradientTolerance) {
      return finish(true, `converged: largest gradient component ${gradientNorm.toExponential(2)}`, iteration);
    }
    const inverse = H ?? identity(n, 1 / Math.max(1, gradientNorm));
    let direction = matVec(inverse, current.gradient).map((v) => -v);
    let slope = dot(direction, current.gradient);
    if (!(slope < 0)) {
      // The approximation lost positive definiteness: restart from steepest descent.
      H = null;
      direction = current.gradient.map((v) => -v / Math.max(1, gradientNorm));
      slope = dot(direction, current.gradient);
    }
    const longest = maxAbs(direction);
    if (H !== null && updates >= n && longest <= stepTolerance && gradientNorm <= looseGradientTolerance) {
      return finish(true, `converged: Newton step ${longest.toExponential(2)}, largest gradient component ${gradientNorm.toExponential(2)}`, iteration);
    }
    if (
      H !== null &&
      updates >= n &&
      options.decrementTolerance !== undefined &&
      -slope / 2 <= options.decrementTolerance &&
      longest <= (options.looseStepTolerance ?? 1e-6) &&
      gradientNorm <= looseGradientTolerance
    ) {
      return finish(true, `converged: predicted gain ${(-slope / 2).toExponential(2)}, Newton step ${longest.toExponential(2)}`, iteration);
    }
    const initialStep = longest > maxStep ? maxStep / longest : 1;
    const search = lineSearch(objective, x, current.value, slope, direction, initialStep, counter, options.hardBound ?? Number.POSITIVE_INFINITY);
    if (!search.ok) {
      if (gradientNorm <= looseGradientTolerance && H !== null && longest <= 1e3 * stepTolerance) {
        return finish(true, `converged: no decrease beyond rounding, Newton step ${longest.toExponential(2)}, largest gradient component ${gradientNorm.toExponential(2)}`, iteration);
      }
      if (H === null) {
        return finish(false, `line search failed: no decrease along steepest descent (largest gradient component ${gradientNorm.toExponential(2)})`, iteration);
      }
      H = null; // try once more from steepest descent
      continue;
    }
    const s = direction.map((d) => search.step * d);
    const y = search.point.gradient.map((g, i) => g - current.gradient[i]);
    const previousValue = current.value;
    x = x.map((xi, i) => xi + s[i]);
    current = search.point;
    const outside = options.bound === undefined ? -1 : x.findIndex((xi) => Math.abs(xi) > (options.bound as number));
    if (outside >= 0) {
      return finish(false, `coordinate ${outside} ran off to ${x[outside].toExponential(2)}`, iteration + 1);
    }
    const stop = options.stopAt?.(x, current.value) ?? null;
    if (stop !== null) return finish(true, stop, iteration + 1);
    const sy = dot(s, y);
    if (sy > 1e-300) {
      if (H === null) H = identity(n, sy / dot(y, y));
      H = bfgsUpdate(H, s, y, sy);
      updates++;
    }
    // Rounding can leave a tiny gradient above tolerance with no further decrease possible.
    if (Math.abs(previousValue - current.value) <= 1e-15 * Math.max(1, Math.abs(current.value))) stalls++;
    else stalls = 0;
    if (stalls >= 3) {
      const norm = maxAbs(current.gradient);
      const ok = norm <= gradientTolerance * 1e3;
      return finish(ok, `${ok ? "converged" : "stopped"}: no further decrease, largest gradient component ${norm.toExponential(2)}`, iteration + 1);
    }
  }
  return finish(false, `did not converge in ${maxIterations} iterations (largest gradient component ${maxAbs(current.gradient).toExponential(2)})`, maxIterations);

  function finish(converged: boolean, message: string, iterations: number): MinimizeResult {
    return {
      x,
      value: current.value,
      gradient: current.gradient,
      converged,
      message,
      iterations,
      evaluations: counter.evaluations,
      inverseHessian: H ?? identity(n),
    };
  }
}

function bfgsUpdate(H: number[][], s: number[], y: number[], sy: number): number[][] {
  const n = s.length;
  const rho = 1 / sy;
  const Hy = matVec(H, y);
  const yHy = dot(y, Hy);
  const next = identity(n, 0);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      next[i][j] = H[i][j] - rho * (Hy[i] * s[j] + s[i] * Hy[j]) + (rho * rho * yHy + rho) * s[i] * s[j];
    }
  }
  return next;
}

/** Central-difference gradient of a scalar function (for models without analytic gradients). */
export function numericalGradient(f: (x: number[]) => number, x: number[], step = 1e-6): number[] {
  return x.map((_, i) => {
    const h = step * Math.max(1, Math.abs(x[i]));
    const up = x.slice();
    const down = x.slice();
    up[i] += h;
    down[i] -= h;
    return (f(up) - f(down)) / (2 * h);
  });
}

/** Wraps a scalar function as an Objective with central-difference gradients. */
export function withNumericalGradient(f: (x: number[]) => number, step = 1e-6): Objective {
  return (x) => {
    const value = f(x);
    return { value, gradient: Number.isFinite(value) ? numericalGradient(f, x, step) : x.map(() => Number.NaN) };
  };
}

/** Symmetric Hessian by central differences of the gradient. */
export function hessianFromGradient(objective: Objective, x: number[], step = 1e-4): number[][] {
  const n = x.length;
  const columns: number[][] = [];
  for (let j = 0; j < n; j++) {
    const h = step * Math.max(1, Math.abs(x[j]));
    const up = x.slice();
    const down = x.slice();
    up[j] += h;
    down[j] -= h;
    const gUp = objective(up).gradient;
    const gDown = objective(down).gradient;
    columns.push(gUp.map((g, i) => (g - gDown[i]) / (2 * h)));
  }
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (columns[j][i] + columns[i][j]) / 2));
}

/** Inverse of a symmetric positive definite matrix by Cholesky; null when not positive definite. */
export function invertSpd(matrix: number[][]): number[][] | null {
  const n = matrix.length;
  const L = identity(n, 0);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = matrix[i][j];
      for (let k = 0; k < j; k++) sum -= L[i][k] * L[j][k];
      if (i === j) {
        if (!(sum > 0)) return null;
        L[i][i] = Math.sqrt(sum);
      } else {
        L[i][j] = sum / L[j][j];
      }
    }
  }
  // Invert L, then form L^-T L^-1.
  const Linv = identity(n, 0);
  for (let i = 0; i < n; i++) {
    Linv[i][i] = 1 / L[i][i];
    for (let j = 0; j < i; j++) {
      let sum = 0;
      for (let k = j; k < i; k++) sum -= L[i][k] * Linv[k][j];
      Linv[i][j] = sum / L[i][i];
    }
  }
  const inverse = identity(n, 0);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let k = Math.max(i, j); k < n; k++) sum += Linv[k][i] * Linv[k][j];
      inverse[i][j] = sum;
    }
  }
  return inverse;
}

/**
 * Standard errors of the natural parameters p = e^θ from the Hessian of the TOTAL negative
 * log-likelihood in θ and its gradient there (the observed information in p is
 * D^-1 (H_θ - diag(g_θ)) D^-1 with D = diag(p)). Null when the information is not
 * positive definite (a flat or saddle direction: the parameters are not identified).
 */
export function standardErrorsFromLogHessian(theta: number[], hessianTheta: number[][], gradientTheta: number[]): number[] | null {
  const p = theta.map(Math.exp);
  const info = hessianTheta.map((row, i) => row.map((h, j) => (h - (i === j ? gradientTheta[i] : 0)) / (p[i] * p[j])));
  const covariance = invertSpd(info);
  if (!covariance) return null;
  const errors = covariance.map((row, i) => Math.sqrt(row[i]));
  return errors.every(Number.isFinite) ? errors : null;
}
