// Writes a seeded synthetic transactions file (`customer_id,date,amount`) with realistic
// repeat behaviour, for the analyze benchmark. Customers follow the BG/NBD story in days
// (the model family the engine fits), with spend from the Gamma-Gamma story:
//   - first purchases spread evenly over three years; the file ends on the last day;
//   - each customer buys at a Poisson rate lambda ~ Gamma(0.15, 0.5) per day and, after each
//     repeat purchase, stops for good with probability p ~ Beta(1, 6): about 37 % never
//     come back, a few buy every week (heavy-tailed, as real shops are);
//   - order values are Gamma(6, nu) with nu ~ Gamma(4, 15) per customer (mean ~30);
//   - purchases falling on the same calendar day stay separate rows (several orders a day);
//   - the row count is then made exact: a surplus is thinned at random among repeat rows,
//     a shortfall filled with extra same-day orders, each well under 1 % of rows.
// Rows are written in date order, as a shop export would be.
//
//   tsx bench/synthetic-transactions.ts [--rows 10000000] [--customers 1000000] [--seed 42] [--out file]
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Random } from "../app/analytics/random";
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
  firstDay: "2022-01-01",
  lastDay: "2024-12-31",
};

/** Daily BG/NBD and Gamma-Gamma parameters of the story above (about 10 rows a customer). */
export const SYNTHETIC_STORY = { r: 0.15, alpha: 0.5, a: 1, b: 6, p: 6, q: 4, gamma: 15 };

export function syntheticFileName(opts: SyntheticOptions): string {
  return `transactions-${opts.rows}r-${opts.customers}c-seed${opts.seed}.csv`;
}

/** Growable Int32 column. */
class Column {
  values = new Int32Array(1 << 20);
  length = 0;
  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Int32Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }
}

/** Generates the rows (columnar): customer index, day index, amount in cents. */
export function generateSyntheticTransactions(opts: SyntheticOptions): { customer: Int32Array; day: Int32Array; amountCents: Int32Array } {
  if (opts.rows < opts.customers) throw new RangeError("rows must be at least customers (everyone buys once)");
  const random = new Random(opts.seed);
  const start = dayIndex(opts.firstDay);
  const end = dayIndex(opts.lastDay);
  const span = end - start + 1;
  const { r, alpha, a, b, p: shape, q, gamma } = SYNTHETIC_STORY;
  const customer = new Column();
  const day = new Column();
  const cents = new Column();
  const firstRow = new Int32Array(opts.customers + 1);
  const spendRate = new Float64Array(opts.customers);
  const order = (c: number, d: number) => {
    customer.push(c);
    day.push(d);
    cents.push(Math.max(50, Math.round((random.gamma(shape, 1 / spendRate[c]) * 100))));
  };
  for (let c = 0; c < opts.customers; c++) {
    firstRow[c] = customer.length;
    const first = start + Math.floor(random.next() * span);
    const lambda = random.gamma(r, 1 / alpha);
    const dropout = random.beta(a, b);
    spendRate[c] = random.gamma(q, 1 / gamma);
    order(c, first);
    let t = first + random.next(); // time of day of the first purchase
    for (;;) {
      t += random.exponential(lambda);
      if (t >= end + 1) break;
      order(c, Math.floor(t));
      if (random.next() < dropout) break;
    }
  }
  firstRow[opts.customers] = customer.length;

  // Exact row count: thin repeat rows, or add same-day orders.
  const generated = customer.length;
  const keep = new Uint8Array(generated).fill(1);
  let surplus = generated - opts.rows;
  while (surplus > 0) {
    const row = Math.floor(random.next() * generated);
    const isFirst = firstRow[customer.values[row]] === row;
    if (keep[row] && !isFirst) {
      keep[row] = 0;
      surplus--;
    }
  }
  for (let extra = opts.rows - generated; extra > 0; extra--) {
    const row = Math.floor(random.next() * generated);
    order(customer.values[row], day.values[row]);
  }
  const total = customer.length;
  const out = { customer: new Int32Array(opts.rows), day: new Int32Array(opts.rows), amountCents: new Int32Array(opts.rows) };
  let next = 0;
  for (let row = 0; row < total; row++) {
    if (row < generated && !keep[row]) continue;
    out.customer[next] = customer.values[row];
    out.day[next] = day.values[row];
    out.amountCents[next] = cents.values[row];
    next++;
  }
  return out;
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
