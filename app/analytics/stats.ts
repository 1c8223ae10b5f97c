// Small descriptive statistics for the retention report.
//
// Quantile method: Hyndman & Fan type 7 (linear interpolation between order statistics,
// the default of R, NumPy and spreadsheets). For sorted x[0..n-1] and 0 <= p <= 1:
//     h = (n - 1) p,  Q(p) = x[floor(h)] + (h - floor(h)) (x[floor(h) + 1] - x[floor(h)]).
// So the median of an even count is the mean of the two middle values.
// No library in the project fits (simple-statistics and d3-array are not dependencies) and
// the retention pass needs a counting version for integer day gaps, so it is written here.

function checkProbability(p: number): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`quantile probability ${p} is not between 0 and 1`);
}

/** Type-7 quantile of values already sorted ascending; null when there are none. */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number | null {
  checkProbability(p);
  const n = sorted.length;
  if (n === 0) return null;
  const h = (n - 1) * p;
  const lower = Math.floor(h);
  const fraction = h - lower;
  const low = sorted[lower];
  if (fraction === 0 || lower + 1 >= n) return low;
  return low + fraction * (sorted[lower + 1] - low);
}

/** Numeric ascending copy (typed-array sort: no comparator, NaN rejected). */
export function sortedCopy(values: ArrayLike<number>): Float64Array {
  const copy = Float64Array.from(values);
  for (let i = 0; i < copy.length; i++) {
    if (Number.isNaN(copy[i])) throw new RangeError(`value at index ${i} is not a number`);
  }
  return copy.sort();
}

/** Type-7 quantile of unsorted values; null when there are none. */
export function quantile(values: ArrayLike<number>, p: number): number | null {
  return quantileSorted(sortedCopy(values), p);
}

export function median(values: ArrayLike<number>): number | null {
  return quantile(values, 0.5);
}

export function mean(values: ArrayLike<number>): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
}

/**
 * Type-7 quantile of integer values given as counts: counts[v] = how many times the value
 * `v + offset` occurs. Same result as expanding the counts and calling quantileSorted, in
 * O(counts.length) time and no allocation.
 */
export function quantileOfCounts(counts: ArrayLike<number>, p: number, offset = 0): number | null {
  checkProbability(p);
  let n = 0;
  for (let v = 0; v < counts.length; v++) n += counts[v];
  if (n === 0) return null;
  const h = (n - 1) * p;
  const lowerRank = Math.floor(h);
  const fraction = h - lowerRank;
  // Values at 0-based sorted positions lowerRank and lowerRank + 1.
  let seen = 0;
  let low = Number.NaN;
  for (let v = 0; v < counts.length; v++) {
    const count = counts[v];
    if (count === 0) continue;
    if (Number.isNaN(low)) {
      if (seen + count > lowerRank) {
        low = v + offset;
        if (fraction === 0 || seen + count > lowerRank + 1) return low;
      }
    } else {
      return low + fraction * (v + offset - low);
    }
    seen += count;
  }
  return low; // lowerRank is the last position
}

/** Mean of integer values given as counts (see quantileOfCounts). */
export function meanOfCounts(counts: ArrayLike<number>, offset = 0): number | null {
  let n = 0;
  let sum = 0;
  for (let v = 0; v < counts.length; v++) {
    n += counts[v];
    sum += counts[v] * (v + offset);
  }
  return n === 0 ? null : sum / n;
}

/**
 * Bucket i holds values in [edges[i], edges[i + 1]); the last bucket is [edges[last], +inf).
 * Values below edges[0] are not counted. Edges must increase strictly.
 */
export function histogram(values: ArrayLike<number>, edges: readonly number[]): number[] {
  checkEdges(edges);
  const counts = new Array<number>(edges.length).fill(0);
  for (let i = 0; i < values.length; i++) {
    const bucket = bucketOf(values[i], edges);
    if (bucket >= 0) counts[bucket]++;
  }
  return counts;
}

/** histogram() of integer values given as counts (see quantileOfCounts). */
export function histogramOfCounts(counts: ArrayLike<number>, edges: readonly number[], offset = 0): number[] {
  checkEdges(edges);
  const result = new Array<number>(edges.length).fill(0);
  for (let v = 0; v < counts.length; v++) {
    if (counts[v] === 0) continue;
    const bucket = bucketOf(v + offset, edges);
    if (bucket >= 0) result[bucket] += counts[v];
  }
  return result;
}

function checkEdges(edges: readonly number[]): void {
  if (edges.length === 0) throw new RangeError("histogram needs at least one bucket edge");
  for (let i = 0; i < edges.length; i++) {
    if (!Number.isFinite(edges[i])) throw new RangeError(`histogram edge ${edges[i]} is not a finite number`);
    if (i > 0 && !(edges[i] > edges[i - 1])) throw new RangeError("histogram edges must increase strictly");
  }
}

/** Index of the bucket holding value, -1 below the first edge. Edges are few: linear scan. */
function bucketOf(value: number, edges: readonly number[]): number {
  if (!(value >= edges[0])) return -1;
  let bucket = 0;
  while (bucket + 1 < edges.length && value >= edges[bucket + 1]) bucket++;
  return bucket;
}

/**
 * Wilson score interval of a proportion (successes of n) at z (1.96: 95 %): unlike the normal
 * approximation it stays inside 0..1 and is honest for small n and rates near 0 or 1, which
 * is why the acquisition drivers show it beside every repeat rate. null for n = 0.
 */
export function wilsonInterval(successes: number, n: number, z = 1.96): { low: number; high: number } | null {
  if (!(Number.isInteger(successes) && Number.isInteger(n) && successes >= 0 && successes <= n)) {
    throw new RangeError(`wilsonInterval needs whole numbers 0 <= successes (${successes}) <= n (${n})`);
  }
  if (n === 0) return null;
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** `value` rounded to `digits` decimals, -0 as 0; null for null or a value that is not finite. */
export function roundTo(value: number | null, digits: number): number | null {
  if (value === null || !Number.isFinite(value)) return null;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale + 0; // + 0 turns -0 into 0
}
