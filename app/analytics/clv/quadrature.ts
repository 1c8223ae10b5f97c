// Adaptive Gauss-Kronrod (7/15) quadrature for vector-valued integrands. The series in
// mixtures.ts are the fast path; quadrature is the slow, sure path they fall back on
// where a series would need too many terms (arguments next to 1), and the yardstick the
// tests check the series against.

const KRONROD_NODES = [
  0.9914553711208126, 0.9491079123427585, 0.8648644233597691,
  0.7415311855993945, 0.5860872354676911, 0.4058451513773972,
  0.20778495500789848, 0,
];
const KRONROD_WEIGHTS = [
  0.022935322010529224, 0.06309209262997856, 0.10479001032225019,
  0.14065325971552592, 0.1690047266392679, 0.19035057806478542,
  0.20443294007529889, 0.20948214108472782,
];
// Gauss weights for the nodes KRONROD_NODES[1], [3], [5], [7].
const GAUSS_WEIGHTS = [0.1294849661688697, 0.27970539148927664, 0.3818300505051189, 0.4179591836734694];

export interface QuadratureOptions {
  /** Relative tolerance on the first component. */
  relativeTolerance?: number;
  /** Largest number of interval bisections. */
  maxIntervals?: number;
}

interface Interval {
  lo: number;
  hi: number;
  value: Float64Array;
  error: number;
}

/** f writes its components at y into `out` (no array per node: the tail quadrature runs millions of nodes per fit). */
export type VectorIntegrand = (y: number, out: Float64Array) => void;

function kronrod(f: VectorIntegrand, lo: number, hi: number, size: number, fy: Float64Array): Interval {
  const center = (lo + hi) / 2;
  const half = (hi - lo) / 2;
  const value = new Float64Array(size);
  let gauss = 0;
  for (let i = 0; i < 8; i++) {
    const node = KRONROD_NODES[i];
    const weight = KRONROD_WEIGHTS[i];
    // The same points in the same order as ever (center - half·node, then center + half·node).
    for (let side = node === 0 ? 1 : 0; side < 2; side++) {
      f(node === 0 ? center : side === 0 ? center - half * node : center + half * node, fy);
      for (let k = 0; k < size; k++) value[k] += weight * fy[k];
      if (i % 2 === 1) gauss += GAUSS_WEIGHTS[(i - 1) / 2] * fy[0];
    }
  }
  for (let k = 0; k < size; k++) value[k] *= half;
  return { lo, hi, value, error: Math.abs(value[0] - gauss * half) };
}

/**
 * ∫ f over [lo, hi] for a vector-valued f (all components sharing one shape), splitting
 * the interval with the largest error estimate until the total error is below tolerance.
 * `breakpoints` (inside the interval) start the subdivision where f changes fast.
 */
export function integrateVector(
  f: (y: number) => number[],
  lo: number,
  hi: number,
  size: number,
  breakpoints: number[] = [],
  options: QuadratureOptions = {},
): number[] {
  return Array.from(integrateInto((y, out) => out.set(f(y)), lo, hi, size, breakpoints, options));
}

/** integrateVector with an integrand that writes into a buffer. */
export function integrateInto(
  f: VectorIntegrand,
  lo: number,
  hi: number,
  size: number,
  breakpoints: number[] = [],
  options: QuadratureOptions = {},
): Float64Array {
  const tolerance = options.relativeTolerance ?? 1e-13;
  const maxIntervals = options.maxIntervals ?? 500;
  const fy = new Float64Array(size);
  const cuts = [lo, ...breakpoints.filter((b) => b > lo && b < hi).sort((a, b) => a - b), hi];
  const intervals: Interval[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) intervals.push(kronrod(f, cuts[i], cuts[i + 1], size, fy));
  for (let round = 0; round < maxIntervals; round++) {
    let total = 0;
    let error = 0;
    let worst = 0;
    for (let i = 0; i < intervals.length; i++) {
      total += intervals[i].value[0];
      error += intervals[i].error;
      if (intervals[i].error > intervals[worst].error) worst = i;
    }
    if (error <= tolerance * Math.abs(total) || error === 0) break;
    const { lo: a, hi: b } = intervals[worst];
    const middle = (a + b) / 2;
    if (!(middle > a && middle < b)) break;
    intervals.splice(worst, 1, kronrod(f, a, middle, size, fy), kronrod(f, middle, b, size, fy));
  }
  const result = new Float64Array(size);
  for (const interval of intervals) for (let k = 0; k < size; k++) result[k] += interval.value[k];
  return result;
}
