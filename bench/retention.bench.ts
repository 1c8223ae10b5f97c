// retentionSummary on a synthetic shop: 10 million orders, 1 million customers (the
// seeded generator of bench/synthetic-transactions.ts), rows in date order as an export
// would be. Three inputs:
//   table    the columnar TransactionTable the CLI builds (retentionSummaryFromTable),
//            no acquisition dimensions: the `tenure analyze` path; building it is not timed;
//   stream   OrderFact objects with channel, first product and discount code, streamed
//            through orderTableFrom as from a database cursor, grouped by customer (the
//            way the app should query) and in date order; the time includes building.
//
//   tsx bench/retention.bench.ts [--rows N] [--customers N] [--runs N]
// Targets, on CPU seconds (single-threaded work, so on an idle machine wall ~ CPU; this
// machine is shared, and wall time under load is shown beside it): the table path within
// 5 s (one step of the 30 s analyze budget); the grouped stream within 8 s. The date-order
// stream has no target: it shows why to group.
import { pathToFileURL } from "node:url";
import { dayIndex } from "../app/analytics/dates";
import { type OrderFact, orderTableFrom, retentionSummaryFromTable } from "../app/analytics/retention";
import { TransactionTable } from "../app/analytics/summary";
import { type BenchResult, round } from "./lib/report";
import { DEFAULT_SYNTHETIC, generateSyntheticTransactions } from "./synthetic-transactions";

interface Options {
  rows: number;
  customers: number;
  runs: number;
}

const TABLE_TARGET_SECONDS = 5;
const STREAM_TARGET_SECONDS = 8;

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { rows: DEFAULT_SYNTHETIC.rows, customers: DEFAULT_SYNTHETIC.customers, runs: 3 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    const value = Number(argv[i + 1]);
    if (!(key in options) || !Number.isInteger(value) || value < 1) throw new Error(`usage: --rows N --customers N --runs N (got ${argv[i]} ${argv[i + 1]})`);
    options[key as keyof Options] = value;
  }
  return options;
}

/** Row indices in date order (stable counting sort), as a shop export lists orders. */
function dateOrder(day: Int32Array): Int32Array {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const d of day) {
    if (d < min) min = d;
    if (d > max) max = d;
  }
  const start = new Int32Array(max - min + 2);
  for (const d of day) start[d - min + 1]++;
  for (let i = 1; i < start.length; i++) start[i] += start[i - 1];
  const order = new Int32Array(day.length);
  for (let row = 0; row < day.length; row++) order[start[day[row] - min]++] = row;
  return order;
}

function measure<T>(runs: number, work: () => T): { wall: number[]; cpu: number[]; last: T } {
  const wall: number[] = [];
  const cpu: number[] = [];
  let last: T | undefined;
  for (let run = 0; run < runs; run++) {
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    last = work();
    wall.push((performance.now() - started) / 1000);
    const used = process.cpuUsage(cpuBefore);
    cpu.push((used.user + used.system) / 1e6);
  }
  return { wall, cpu, last: last as T };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function run(argv: readonly string[] = []): Promise<BenchResult[]> {
  const options = parseArgs(argv);
  const synthetic = { ...DEFAULT_SYNTHETIC, rows: options.rows, customers: options.customers };
  const { customer, day, amountCents } = generateSyntheticTransactions(synthetic);
  const order = dateOrder(day);
  const asOfDay = dayIndex(synthetic.lastDay);
  const ids = Array.from({ length: options.customers }, (_, c) => `customer-${c}`);
  const notes = `${options.rows.toLocaleString("en-US")} orders, ${options.customers.toLocaleString("en-US")} customers, ${synthetic.firstDay}..${synthetic.lastDay}, date order; load average at start ${round(
    (await import("node:os")).loadavg()[0],
    2,
  )}`;

  const results: BenchResult[] = [];
  {
    const table = new TransactionTable(options.rows);
    for (const row of order) table.add(ids[customer[row]], day[row], amountCents[row]);
    const timed = measure(options.runs, () => retentionSummaryFromTable(table, { asOfDay, cac: 3000 }));
    const best = Math.min(...timed.wall);
    results.push({
      name: "table (tenure analyze path)",
      metrics: {
        "wall s, best": round(best, 2),
        "wall s, median": round(median(timed.wall), 2),
        "cpu s, median": round(median(timed.cpu), 2),
        "ns per order": Math.round((best * 1e9) / options.rows),
        "report KB": round(JSON.stringify(timed.last).length / 1024, 1),
        customers: timed.last.totals.customers,
      },
      target: `≤ ${TABLE_TARGET_SECONDS} s CPU`,
      pass: median(timed.cpu) <= TABLE_TARGET_SECONDS,
      notes,
    });
  }
  const channels = ["web", "pos", "instagram", "facebook", "tiktok", "google", "email", "draft"];
  const products = Array.from({ length: 500 }, (_, i) => `product-${i}`);
  const codes = Array.from({ length: 40 }, (_, i) => [`CODE${i}`]);
  const noCodes: string[] = [];
  const orderAt = (row: number): OrderFact => ({
    customerId: ids[customer[row]],
    day: day[row],
    net: amountCents[row],
    channel: channels[row % channels.length],
    discountCodes: row % 7 === 0 ? codes[row % codes.length] : noCodes,
    firstProduct: products[(row * 31) % products.length],
  });
  // Streams as a database cursor would: one short-lived object per row.
  function* stream(rows: ArrayLike<number>): Generator<OrderFact> {
    for (let i = 0; i < rows.length; i++) yield orderAt(rows[i]);
  }
  const byCustomer = Int32Array.from({ length: options.rows }, (_, i) => i); // the generator writes customer by customer
  for (const [name, rows, target] of [
    ["order stream grouped by customer, 3 acquisition dimensions", byCustomer, STREAM_TARGET_SECONDS],
    ["order stream in date order, 3 acquisition dimensions", order, null],
  ] as const) {
    const timed = measure(Math.min(options.runs, 2), () => {
      const { table, dimensions } = orderTableFrom(stream(rows), options.rows);
      return retentionSummaryFromTable(table, { asOfDay, cac: 3000, dimensions });
    });
    const best = Math.min(...timed.wall);
    results.push({
      name,
      metrics: {
        "wall s, best": round(best, 2),
        "cpu s, median": round(median(timed.cpu), 2),
        "ns per order": Math.round((best * 1e9) / options.rows),
        "report KB": round(JSON.stringify(timed.last).length / 1024, 1),
      },
      ...(target === null ? {} : { target: `≤ ${target} s CPU`, pass: median(timed.cpu) <= target }),
      notes:
        target === null
          ? "customer ids arrive in random order: one hash lookup per order dominates (cache misses on 1M ids)"
          : "ids looked up once per customer; includes creating the order objects",
    });
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await run(process.argv.slice(2));
  for (const result of results) console.log(JSON.stringify(result));
}
