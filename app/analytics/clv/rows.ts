// Customers reduced to their distinct (x, t_x, T) patterns with counts as weights. Every
// likelihood here is a sum over customers of a function of (x, t_x, T) alone, so fitting
// on the distinct patterns gives the same optimum at a cost that grows with the number of
// patterns, not customers (CDNOW: 2,357 customers, 1,016 patterns).

export interface RfRow {
  /** Repeat purchases. */
  x: number;
  /** Recency t_x: first to last purchase, in the caller's unit. */
  tx: number;
  /** Age T: first purchase to the end of observation, same unit. */
  T: number;
  /** Number of customers with this pattern. */
  weight: number;
}

export interface RfInput {
  frequency: number;
  recency: number;
  T: number;
}

/** Thrown for a customer pattern no count model can use. */
export class InvalidRowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidRowError";
  }
}

/** Why (x, t_x, T) is not a valid pattern, or null when it is. */
export function rowProblem(x: number, tx: number, T: number): string | null {
  if (!Number.isFinite(x) || !Number.isFinite(tx) || !Number.isFinite(T)) return "frequency, recency and T must be finite numbers";
  if (x < 0 || !Number.isInteger(x)) return `frequency ${x} is not a whole number >= 0`;
  if (tx < 0) return `recency ${tx} is negative`;
  if (T < tx) return `T ${T} is smaller than recency ${tx}`;
  if (x === 0 && tx !== 0) return `recency ${tx} must be 0 when frequency is 0`;
  return null;
}

const scratch = new Float64Array(1);
const scratchWords = new Uint32Array(scratch.buffer);

function mix(hash: number, value: number): number {
  scratch[0] = value + 0; // -0 and 0 are one key
  hash = Math.imul(hash ^ scratchWords[0], 0x9e3779b1);
  hash = Math.imul(hash ^ (hash >>> 15) ^ scratchWords[1], 0x85ebca6b);
  return hash ^ (hash >>> 13);
}

/**
 * Sums weights per distinct triple of numbers in an open-addressing hash table of typed
 * arrays: no object per customer, so a million customers compress in tens of ms.
 */
export class TripleCounter {
  private capacity = 1 << 12;
  private used = 0;
  private slots = new Int32Array(this.capacity).fill(-1);
  private firsts = new Float64Array(1024);
  private seconds = new Float64Array(1024);
  private thirds = new Float64Array(1024);
  private weights = new Float64Array(1024);
  private total = 0;

  /** Adds `weight` to the triple (no validation: callers check their values). */
  addTriple(first: number, second: number, third: number, weight: number): void {
    this.total += weight;
    const mask = this.capacity - 1;
    let slot = (mix(mix(mix(0x2545f491, first), second), third) >>> 0) & mask;
    for (;;) {
      const index = this.slots[slot];
      if (index === -1) break;
      if (this.firsts[index] === first && this.seconds[index] === second && this.thirds[index] === third) {
        this.weights[index] += weight;
        return;
      }
      slot = (slot + 1) & mask;
    }
    if (this.used === this.firsts.length) this.growColumns();
    const index = this.used++;
    this.firsts[index] = first;
    this.seconds[index] = second;
    this.thirds[index] = third;
    this.weights[index] = weight;
    this.slots[slot] = index;
    if (this.used * 2 > this.capacity) this.rehash();
  }

  get distinctCount(): number {
    return this.used;
  }

  get totalWeight(): number {
    return this.total;
  }

  /** Calls back once per distinct triple, in order of first appearance. */
  forEach(callback: (first: number, second: number, third: number, weight: number) => void): void {
    for (let i = 0; i < this.used; i++) callback(this.firsts[i], this.seconds[i], this.thirds[i], this.weights[i]);
  }

  private growColumns(): void {
    const size = this.firsts.length * 2;
    const grow = (column: Float64Array) => {
      const next = new Float64Array(size);
      next.set(column);
      return next;
    };
    this.firsts = grow(this.firsts);
    this.seconds = grow(this.seconds);
    this.thirds = grow(this.thirds);
    this.weights = grow(this.weights);
  }

  private rehash(): void {
    this.capacity *= 2;
    const mask = this.capacity - 1;
    this.slots = new Int32Array(this.capacity).fill(-1);
    for (let index = 0; index < this.used; index++) {
      let slot = (mix(mix(mix(0x2545f491, this.firsts[index]), this.seconds[index]), this.thirds[index]) >>> 0) & mask;
      while (this.slots[slot] !== -1) slot = (slot + 1) & mask;
      this.slots[slot] = index;
    }
  }
}

/** Accumulates customers' (x, t_x, T) patterns, rejecting invalid ones. */
export class RowCompressor {
  private readonly counter = new TripleCounter();

  /** Adds `weight` customers with pattern (x, t_x, T); throws InvalidRowError on a bad pattern. */
  add(x: number, tx: number, T: number, weight = 1): void {
    const problem = rowProblem(x, tx, T);
    if (problem) throw new InvalidRowError(problem);
    if (!(weight > 0) || !Number.isFinite(weight)) throw new InvalidRowError(`weight ${weight} must be a positive number`);
    this.counter.addTriple(x, tx, T, weight);
  }

  get distinctCount(): number {
    return this.counter.distinctCount;
  }

  get customerCount(): number {
    return this.counter.totalWeight;
  }

  /** Patterns in order of first appearance. */
  rows(): RfRow[] {
    const rows: RfRow[] = [];
    this.counter.forEach((x, tx, T, weight) => rows.push({ x, tx, T, weight }));
    return rows;
  }
}

/**
 * Distinct (x, t_x, T) patterns of the customers, each weighted by how many customers
 * share it. Throws InvalidRowError naming the first bad customer.
 */
export function compressRows(rows: Iterable<RfInput>): RfRow[] {
  const compressor = new RowCompressor();
  let position = 0;
  for (const row of rows) {
    try {
      compressor.add(row.frequency, row.recency, row.T);
    } catch (error) {
      if (error instanceof InvalidRowError) throw new InvalidRowError(`customer #${position + 1}: ${error.message}`);
      throw error;
    }
    position++;
  }
  return compressor.rows();
}

/**
 * Rows laid out for the likelihood loops: columns, distinct x values (the gamma-function
 * terms depend on x alone) and distinct time values (log(α + t) is computed once per value).
 */
export interface PreparedRows {
  count: number;
  totalWeight: number;
  x: Float64Array;
  tx: Float64Array;
  T: Float64Array;
  weight: Float64Array;
  /** Distinct x values, their summed weights, and each row's index into them. */
  xValues: Float64Array;
  xWeights: Float64Array;
  xOf: Int32Array;
  /** Distinct values among all t_x and T, and each row's indices into them. */
  times: Float64Array;
  txOf: Int32Array;
  TOf: Int32Array;
}

export function prepareRows(rows: readonly RfRow[]): PreparedRows {
  const count = rows.length;
  const x = new Float64Array(count);
  const tx = new Float64Array(count);
  const T = new Float64Array(count);
  const weight = new Float64Array(count);
  const xOf = new Int32Array(count);
  const txOf = new Int32Array(count);
  const TOf = new Int32Array(count);
  const xIndex = new Map<number, number>();
  const timeIndex = new Map<number, number>();
  const xValues: number[] = [];
  const xWeights: number[] = [];
  const times: number[] = [];
  const timeOf = (value: number) => {
    let index = timeIndex.get(value);
    if (index === undefined) {
      index = times.length;
      timeIndex.set(value, index);
      times.push(value);
    }
    return index;
  };
  let totalWeight = 0;
  for (let i = 0; i < count; i++) {
    const row = rows[i];
    const problem = rowProblem(row.x, row.tx, row.T);
    if (problem) throw new InvalidRowError(`row ${i + 1}: ${problem}`);
    if (!(row.weight > 0)) throw new InvalidRowError(`row ${i + 1}: weight ${row.weight} must be positive`);
    x[i] = row.x;
    tx[i] = row.tx;
    T[i] = row.T;
    weight[i] = row.weight;
    totalWeight += row.weight;
    let xi = xIndex.get(row.x);
    if (xi === undefined) {
      xi = xValues.length;
      xIndex.set(row.x, xi);
      xValues.push(row.x);
      xWeights.push(0);
    }
    xOf[i] = xi;
    xWeights[xi] += row.weight;
    txOf[i] = timeOf(row.tx);
    TOf[i] = timeOf(row.T);
  }
  return {
    count,
    totalWeight,
    x,
    tx,
    T,
    weight,
    xValues: Float64Array.from(xValues),
    xWeights: Float64Array.from(xWeights),
    xOf,
    times: Float64Array.from(times),
    txOf,
    TOf,
  };
}

/** Deterministic PRNG (mulberry32) for subsampling and simulation. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A smaller row set whose weighted log-likelihood estimates the full one without bias:
 * heavy rows are kept whole, the rest sampled with probability q and weighted 1/q. Its
 * optimum lies close to the full optimum, so the full fit can start there.
 */
export function subsampleRows(rows: readonly RfRow[], target: number, seed = 1): RfRow[] {
  if (rows.length <= target) return rows.slice();
  const sorted = rows.map((row) => row.weight).sort((a, b) => b - a);
  const heavyCut = sorted[Math.min(sorted.length - 1, Math.floor(target / 4))];
  const random = seededRandom(seed);
  const heavy = rows.filter((row) => row.weight > heavyCut);
  const light = rows.length - heavy.length;
  const q = Math.min(1, (target - heavy.length) / Math.max(1, light));
  const sample: RfRow[] = heavy.slice();
  for (const row of rows) {
    if (row.weight > heavyCut) continue;
    if (random() < q) sample.push({ ...row, weight: row.weight / q });
  }
  return sample;
}
