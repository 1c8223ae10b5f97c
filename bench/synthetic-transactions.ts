// Writes a seeded synthetic transactions file (`customer_id,date,amount`) with realistic
// repeat behaviour, for the analyze benchmark:
//   - customers arrive over the first 70 % of the span;
//   - each has a purchase rate (gamma, shape 0.6: most buy rarely, a few often) and a
//     lifetime (exponential, mean ~1 year) after which they stop buying;
//   - the repeat purchases are shared out over customers in proportion to
//     rate x active time, so the file has exactly `rows` rows and `customers` customers;
//   - order values are lognormal around a per-customer mean (gamma-gamma-like spend).
// Rows are written in date order, as a shop export would be.
//
//   tsx bench/synthetic-transactions.ts [--rows 10000000] [--customers 1000000] [--seed 42] [--out file]
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { dayIndex, dayToIso } from "../app/analytics/dates";

export interface SyntheticOptions {
  rows: number;
  customers: number;
  seed: number;
  firstDay: string;
  lastDay: string;
}

export const DEFAULT_SYNTHETIC: SyntheticOptions = {
  rows: 10_000_000,
  customers: 1_000_000,
  seed: 42,
  firstDay: "2021-01-01",
  lastDay: "2024-12-31",
};

/** mulberry32: small, fast, seeded; plenty for synthetic data. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Marsaglia-Tsang gamma(shape, 1), with the shape < 1 boost. */
function gamma(random: () => number, shape: number): number {
  if (shape < 1) return gamma(random, shape + 1) * Math.pow(random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  while (true) {
    let x: number;
    let v: number;
    do {
      x = normal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

export function syntheticFileName(opts: SyntheticOptions): string {
  return `transactions-${opts.rows}r-${opts.customers}c-seed${opts.seed}.csv`;
}

/** Generates the rows (columnar) — exported so tests can check the shape cheaply. */
export function generateSyntheticTransactions(opts: SyntheticOptions): { customer: Int32Array; day: Int32Array; amountCents: Int32Array } {
  if (opts.rows < opts.customers) throw new RangeError("rows must be at least customers (everyone buys once)");
  const random = seededRandom(opts.seed);
  const start = dayIndex(opts.firstDay);
  const end = dayIndex(opts.lastDay);
  const span = end - start;
  const customers = opts.customers;

  const firstDay = new Int32Array(customers);
  const activeDays = new Float64Array(customers);
  const weight = new Float64Array(customers);
  const meanSpend = new Float64Array(customers);
  for (let c = 0; c < customers; c++) {
    firstDay[c] = start + Math.floor(random() * span * 0.7);
    const lifetime = -Math.log(1 - random()) * 365;
    activeDays[c] = Math.min(lifetime, end - firstDay[c]);
    weight[c] = gamma(random, 0.6) * activeDays[c];
    meanSpend[c] = 15 + gamma(random, 3) * 18;
  }

  // Share out the repeat purchases by weight: cumulative weights + binary search.
  const repeats = new Int32Array(customers);
  const cumulative = new Float64Array(customers);
  let total = 0;
  for (let c = 0; c < customers; c++) cumulative[c] = total += weight[c];
  for (let i = 0; i < opts.rows - customers; i++) {
    const target = random() * total;
    let low = 0;
    let high = customers - 1;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (cumulative[mid] < target) low = mid + 1;
      else high = mid;
    }
    repeats[low]++;
  }

  const customer = new Int32Array(opts.rows);
  const day = new Int32Array(opts.rows);
  const amountCents = new Int32Array(opts.rows);
  let row = 0;
  for (let c = 0; c < customers; c++) {
    for (let k = 0; k <= repeats[c]; k++) {
      customer[row] = c;
      day[row] = k === 0 ? firstDay[c] : firstDay[c] + Math.floor(random() * (activeDays[c] + 1));
      amountCents[row] = Math.max(100, Math.round(meanSpend[c] * Math.exp(0.4 * normal(random) - 0.08) * 100));
      row++;
    }
  }
  return { customer, day, amountCents };
}

/** Writes the file in date order; returns its path. */
export async function writeSyntheticTransactions(path: string, opts: SyntheticOptions = DEFAULT_SYNTHETIC): Promise<string> {
  const { customer, day, amountCents } = generateSyntheticTransactions(opts);
  const start = dayIndex(opts.firstDay);
  const span = dayIndex(opts.lastDay) - start + 1;
  // Counting sort by day.
  const dayStart = new Int32Array(span + 1);
  for (let i = 0; i < day.length; i++) dayStart[day[i] - start + 1]++;
  for (let d = 1; d <= span; d++) dayStart[d] += dayStart[d - 1];
  const order = new Int32Array(day.length);
  for (let i = 0; i < day.length; i++) order[dayStart[day[i] - start]++] = i;

  const isoByDay = Array.from({ length: span }, (_, d) => dayToIso(start + d));
  const idWidth = String(opts.customers).length;
  await mkdir(dirname(path), { recursive: true });
  const out = createWriteStream(path);
  out.write("customer_id,date,amount\n");
  const batch: string[] = [];
  for (let i = 0; i < order.length; i++) {
    const row = order[i];
    const cents = amountCents[row];
    batch.push(`C${String(customer[row] + 1).padStart(idWidth, "0")},${isoByDay[day[row] - start]},${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}\n`);
    if (batch.length === 50_000 || i === order.length - 1) {
      if (!out.write(batch.join(""))) await once(out, "drain");
      batch.length = 0;
    }
  }
  out.end();
  await once(out, "finish");
  return path;
}

function parseArgs(argv: string[]): { opts: SyntheticOptions; out: string } {
  const opts = { ...DEFAULT_SYNTHETIC };
  let out: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case "--rows": opts.rows = Number(value); i++; break;
      case "--customers": opts.customers = Number(value); i++; break;
      case "--seed": opts.seed = Number(value); i++; break;
      case "--out": out = value; i++; break;
      default: throw new Error(`unknown option ${argv[i]}`);
    }
  }
  return { opts, out: out ?? resolve(".cache/bench", syntheticFileName(opts)) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { opts, out } = parseArgs(process.argv.slice(2));
  const started = performance.now();
  await writeSyntheticTransactions(out, opts);
  console.log(`wrote ${opts.rows} rows for ${opts.customers} customers to ${out} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
