// Customers reduced to their distinct (x, t_x, T) patterns with counts as weights. Every
// likelihood here is a sum over customers of a function of (x, t_x, T) alone, so fitting
// on the distinct patterns gives the same optimum at a cost that grows with the number of
// patterns, not customers (CDNOW: 2,357 customers, 1,016 patterns).
import { seededRandom } from "../random";

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

/** Dense ids for distinct doubles (open addressing on the bit pattern). */
export class DoubleIndex {
  private capacity = 1 << 10;
  private slots = new Int32Array(this.capacity).fill(-1);
  private keys = new Float64Array(256);
  private used = 0;

  /** The id of value, assigned on first sight (0, 1, 2, ...). */
  idOf(value: number): number {
    const key = value + 0;
    const mask = this.capacity - 1;
    let slot = (mix(0x9747b28c, key) >>> 0) & mask;
    for (;;) {
      const index = this.slots[slot];
      if (index === -1) break;
      if (this.keys[index] === key) return index;
      slot = (slot + 1) & mask;
    }
    if (this.used === this.keys.length) {
      const keys = new Float64Array(this.keys.length * 2);
      keys.set(this.keys);
      this.keys = keys;
    }
    const index = this.used++;
    this.keys[index] = key;
    this.slots[slot] = index;
    if (this.used * 2 > this.capacity) this.rehash();
    return index;
  }

  get size(): number {
    return this.used;
  }

  /** Distinct values by id. */
  values(): Float64Array {
    return this.keys.slice(0, this.used);
  }

  private rehash(): void {
    this.capacity *= 2;
    const mask = this.capacity - 1;
    this.slots = new Int32Array(this.capacity).fill(-1);
    for (let index = 0; index < this.used; index++) {
      let slot = (mix(0x9747b28c, this.keys[index]) >>> 0) & mask;
      while (this.slots[slot] !== -1) slot = (slot + 1) & mask;
      this.slots[slot] = index;
    }
  }
}

/**
 * Sums weights per distinct triple of numbers in an open-addressing hash table of typed
 * arrays: no object per customer, so a million customers compress in tens of ms. Each
 * entry's (first, second, third, weight) sit side by side, one cache line per probe.
 */
export class TripleCounter {
  private capacity = 1 << 12;
  private used = 0;
  private slots = new Int32Array(this.capacity).fill(-1);
  private entries = new Float64Array(4 * 1024);
  private total = 0;

  /** Adds `weight` to the triple (no validation: callers check their values); returns its dense id. */
  addTriple(first: number, second: number, third: number, weight: number): number {
    this.total += weight;
    const mask = this.capacity - 1;
    const entries = this.entries;
    let slot = (mix(mix(mix(0x2545f491, first), second), third) >>> 0) & mask;
    for (;;) {
      const index = this.slots[slot];
      if (index === -1) break;
      const at = 4 * index;
      if (entries[at] === first && entries[at + 1] === second && entries[at + 2] === third) {
        entries[at + 3] += weight;
        return index;
      }
      slot = (slot + 1) & mask;
    }
    if (4 * this.used === this.entries.length) this.growEntries();
    const index = this.used++;
    const at = 4 * index;
    this.entries[at] = first + 0;
    this.entries[at + 1] = second + 0;
    this.entries[at + 2] = third + 0;
    this.entries[at + 3] = weight;
    this.slots[slot] = index;
    if (this.used * 2 > this.capacity) this.rehash();
    return index;
  }

  get distinctCount(): number {
    return this.used;
  }

  get totalWeight(): number {
    return this.total;
  }

  /** Columns (first, second, third, weight) of the distinct triples, in order of first appearance. */
  columns(): [Float64Array, Float64Array, Float64Array, Float64Array] {
    const n = this.used;
    const columns: [Float64Array, Float64Array, Float64Array, Float64Array] = [
      new Float64Array(n),
      new Float64Array(n),
      new Float64Array(n),
      new Float64Array(n),
    ];
    for (let i = 0; i < n; i++) {
      columns[0][i] = this.entries[4 * i];
      columns[1][i] = this.entries[4 * i + 1];
      columns[2][i] = this.entries[4 * i + 2];
      columns[3][i] = this.entries[4 * i + 3];
    }
    return columns;
  }

  /** Calls back once per distinct triple, in order of first appearance. */
  forEach(callback: (first: number, second: number, third: number, weight: number) => void): void {
    for (let i = 0; i < this.used; i++) callback(this.entries[4 * i], this.entries[4 * i + 1], this.entries[4 * i + 2], this.entries[4 * i + 3]);
  }

  private growEntries(): void {
    const next = new Float64Array(this.entries.length * 2);
    next.set(this.entries);
    this.entries = next;
  }

  private rehash(): void {
    this.capacity *= 2;
    const mask = this.capacity - 1;
    this.slots = new Int32Array(this.capacity).fill(-1);
    for (let index = 0; index < this.used; index++) {
      const at = 4 * index;
      let slot = (mix(mix(mix(0x2545f491, this.entries[at]), this.entries[at + 1]), this.entries[at + 2]) >>> 0) & mask;
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

  /** add() for a pattern the caller has already checked with rowProblem (hot loops). */
  addChecked(x: number, tx: number, T: number, weight = 1): void {
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

  /** The patterns laid out for fitting (fresh columns: later adds do not change them). */
  prepared(): PreparedRows {
    const [x, tx, T, weight] = this.counter.columns();
    return { ...prepareColumns(x, tx, T, weight), distinct: true };
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
  /** Cache for the warm-start subsample (see subsamplePrepared). */
  sample?: PreparedRows;
  /** Cache for the canonical form the fits run on (see canonicalRows). */
  canonical?: CanonicalRows;
  /** True when no two rows share (x, t_x, T) (RowCompressor's and canonicalRows' output). */
  distinct?: boolean;
}

export function isPreparedRows(rows: readonly RfRow[] | PreparedRows): rows is PreparedRows {
  return !Array.isArray(rows) && (rows as PreparedRows).xOf instanceof Int32Array;
}

export function prepareRows(rows: readonly RfRow[] | PreparedRows): PreparedRows {
  if (isPreparedRows(rows)) return rows;
  const count = rows.length;
  const x = new Float64Array(count);
  const tx = new Float64Array(count);
  const T = new Float64Array(count);
  const weight = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const row = rows[i];
    x[i] = row.x;
    tx[i] = row.tx;
    T[i] = row.T;
    weight[i] = row.weight;
  }
  return prepareColumns(x, tx, T, weight);
}

/** PreparedRows over the given columns (validated; the arrays are kept, not copied). */
export function prepareColumns(x: Float64Array, tx: Float64Array, T: Float64Array, weight: Float64Array): PreparedRows {
  const count = x.length;
  const xOf = new Int32Array(count);
  const txOf = new Int32Array(count);
  const TOf = new Int32Array(count);
  const xIndex = new DoubleIndex();
  const timeIndex = new DoubleIndex();
  const xWeightList: number[] = [];
  let totalWeight = 0;
  for (let i = 0; i < count; i++) {
    const problem = rowProblem(x[i], tx[i], T[i]);
    if (problem) throw new InvalidRowError(`row ${i + 1}: ${problem}`);
    const w = weight[i];
    if (!(w > 0) || !Number.isFinite(w)) throw new InvalidRowError(`row ${i + 1}: weight ${w} must be a positive number`);
    totalWeight += w;
    const xi = xIndex.idOf(x[i]);
    if (xi === xWeightList.length) xWeightList.push(0);
    xWeightList[xi] += w;
    xOf[i] = xi;
    txOf[i] = timeIndex.idOf(tx[i]);
    TOf[i] = timeIndex.idOf(T[i]);
  }
  return {
    count,
    totalWeight,
    x,
    tx,
    T,
    weight,
    xValues: xIndex.values(),
    xWeights: Float64Array.from(xWeightList),
    xOf,
    times: timeIndex.values(),
    txOf,
    TOf,
  };
}

// seededRandom (mulberry32) lives with Random in ../random; re-exported for this folder's callers.
export { seededRandom } from "../random";

/**
 * A smaller row set whose weighted log-likelihood estimates the full one without bias:
 * heavy rows are kept whole, the rest sampled with probability q and weighted 1/q. Its
 * optimum lies close to the full optimum, so the full fit can start there. Cached on rows.
 */
export function subsamplePrepared(rows: PreparedRows, target: number, seed = 1): PreparedRows {
  if (rows.count <= target) return rows;
  if (rows.sample && rows.sample.count <= target * 1.2) return rows.sample;
  const sortedWeights = rows.weight.slice().sort(); // typed-array sort: numeric, ascending
  const heavyCut = sortedWeights[Math.max(0, rows.count - 1 - Math.floor(target / 4))];
  let heavy = 0;
  for (let i = 0; i < rows.count; i++) if (rows.weight[i] > heavyCut) heavy++;
  const q = Math.min(1, (target - heavy) / Math.max(1, rows.count - heavy));
  const random = seededRandom(seed);
  const x: number[] = [];
  const tx: number[] = [];
  const T: number[] = [];
  const weight: number[] = [];
  for (let i = 0; i < rows.count; i++) {
    const w = rows.weight[i];
    const keep = w > heavyCut || random() < q;
    if (!keep) continue;
    x.push(rows.x[i]);
    tx.push(rows.tx[i]);
    T.push(rows.T[i]);
    weight.push(w > heavyCut ? w : w / q);
  }
  const sample = prepareColumns(Float64Array.from(x), Float64Array.from(tx), Float64Array.from(T), Float64Array.from(weight));
  rows.sample = sample;
  return sample;
}

/**
 * Customers and purchases summed per distinct T (indexed like `rows.times`). Likelihood terms
 * that read a row only through x and T are then evaluated once per distinct T, not per row.
 */
export function sumsPerDistinctT(rows: PreparedRows): { customersAt: Float64Array; purchasesAt: Float64Array } {
  const { count, x, weight, TOf, times } = rows;
  const customersAt = new Float64Array(times.length);
  const purchasesAt = new Float64Array(times.length);
  for (let i = 0; i < count; i++) {
    customersAt[TOf[i]] += weight[i];
    purchasesAt[TOf[i]] += weight[i] * x[i];
  }
  return { customersAt, purchasesAt };
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

/**
 * The rows every fit runs on, whatever order and unit they came in: duplicates merged, sorted
 * by (x, t_x, T), and times divided by `timeScale`, the customers' mean age T. Sums then run
 * in one order (so the result cannot depend on the input's row order) and the optimiser sees
 * the same numbers in days, weeks or months (α, β are multiples of timeScale; a model's
 * log-likelihood in the caller's unit is the canonical one minus log(timeScale)·Σx).
 */
export interface CanonicalRows {
  rows: PreparedRows;
  timeScale: number;
  /** Σ weight·x: the total repeat purchases. */
  repeatPurchases: number;
}

/** For each id of a DoubleIndex's values, its rank among them in ascending order. */
function rankOfIds(values: Float64Array): Int32Array {
  const order = new Float64Array(values).sort();
  const rank = new Int32Array(values.length);
  for (let id = 0; id < values.length; id++) {
    let lo = 0;
    let hi = order.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (order[mid] < values[id]) lo = mid + 1;
      else hi = mid;
    }
    rank[id] = lo;
  }
  return rank;
}

/** Stable counting sort of `order` by key[order[k]] (keys are 0 .. buckets - 1). */
function countingSortBy(order: Uint32Array<ArrayBuffer>, key: Int32Array, buckets: number): Uint32Array<ArrayBuffer> {
  const start = new Int32Array(buckets + 1);
  for (let k = 0; k < order.length; k++) start[key[order[k]] + 1]++;
  for (let b = 0; b < buckets; b++) start[b + 1] += start[b];
  const sorted = new Uint32Array(order.length);
  for (let k = 0; k < order.length; k++) sorted[start[key[order[k]]]++] = order[k];
  return sorted;
}

export function canonicalRows(input: readonly RfRow[] | PreparedRows): CanonicalRows {
  let prepared = prepareRows(input);
  if (prepared.canonical) return prepared.canonical;
  const source = prepared;
  if (!prepared.distinct) {
    const counter = new TripleCounter();
    for (let i = 0; i < prepared.count; i++) counter.addTriple(prepared.x[i], prepared.tx[i], prepared.T[i], prepared.weight[i]);
    prepared = prepareColumns(...counter.columns());
  }
  const { x, tx, T, weight, xOf, txOf, TOf } = prepared;
  const n = prepared.count;
  // The prepared rows already number their distinct x and time values: ranking those few values
  // and three stable counting sorts (T, then t_x, then x) order the rows by (x, t_x, T) in
  // O(rows + values), where sorting the rows themselves cost 0.3 s at 330,000 rows.
  const xRankOfId = rankOfIds(prepared.xValues);
  const timeRankOfId = rankOfIds(prepared.times);
  const xRank = new Int32Array(n);
  const txRank = new Int32Array(n);
  const TRank = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    xRank[i] = xRankOfId[xOf[i]];
    txRank[i] = timeRankOfId[txOf[i]];
    TRank[i] = timeRankOfId[TOf[i]];
  }
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const K = prepared.times.length;
  order = countingSortBy(countingSortBy(countingSortBy(order, TRank, K), txRank, K), xRank, prepared.xValues.length);
  const xs = new Float64Array(prepared.xValues).sort();
  const times = new Float64Array(prepared.times).sort();
  // Summed in the canonical order, so the scale's last bit cannot depend on the input's order.
  let age = 0;
  for (let k = 0; k < n; k++) age += weight[order[k]] * T[order[k]];
  const meanAge = age / prepared.totalWeight;
  const timeScale = meanAge > 0 && Number.isFinite(meanAge) ? meanAge : 1;
  // Built from the ranks directly: the rows were validated when first prepared.
  const rows: PreparedRows = {
    count: n,
    totalWeight: prepared.totalWeight,
    x: new Float64Array(n),
    tx: new Float64Array(n),
    T: new Float64Array(n),
    weight: new Float64Array(n),
    xValues: xs,
    xWeights: new Float64Array(xs.length),
    xOf: new Int32Array(n),
    times: times.map((t) => t / timeScale),
    txOf: new Int32Array(n),
    TOf: new Int32Array(n),
    distinct: true,
  };
  let repeatPurchases = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k];
    rows.x[k] = x[i];
    rows.tx[k] = tx[i] / timeScale;
    rows.T[k] = T[i] / timeScale;
    rows.weight[k] = weight[i];
    rows.xOf[k] = xRank[i];
    rows.txOf[k] = txRank[i];
    rows.TOf[k] = TRank[i];
    rows.xWeights[xRank[i]] += weight[i];
    repeatPurchases += weight[i] * x[i];
  }
  const canonical = { rows, timeScale, repeatPurchases };
  source.canonical = canonical;
  return canonical;
}
