// customers.csv: one row per customer. csv-stringify writes the header and quotes any
// text field that needs it; rows are assembled here because csv-stringify's per-record
// stream costs several times as much per row (ADR 0004), while numbers and dates never
// need quoting.
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { rename, rm } from "node:fs/promises";
import { stringify } from "csv-stringify/sync";

export const CUSTOMER_COLUMNS = [
  "customer_id",
  "orders",
  "frequency",
  "recency",
  "T",
  "monetary_value",
  "total_spent",
  "r_score",
  "f_score",
  "m_score",
  "rfm_segment",
  "p_alive",
  "expected_purchases_90d",
  "expected_purchases_365d",
  "predicted_clv_365d",
  "expected_next_order_date",
] as const;

export type CustomerRow = [
  customerId: string,
  orders: number,
  frequency: number,
  recency: number,
  T: number,
  monetaryValue: number,
  totalSpent: number,
  rScore: number,
  fScore: number,
  mScore: number,
  rfmSegment: string,
  pAlive: number | null,
  expectedPurchases90d: number | null,
  expectedPurchases365d: number | null,
  predictedClv365d: number | null,
  expectedNextOrderDate: string | null,
];

/** Decimal places kept per column (float noise such as 59.059999999999995 goes away). */
const DECIMALS: Partial<Record<(typeof CUSTOMER_COLUMNS)[number], number>> = {
  recency: 4,
  T: 4,
  monetary_value: 4,
  total_spent: 4,
  p_alive: 6,
  expected_purchases_90d: 6,
  expected_purchases_365d: 6,
  predicted_clv_365d: 2,
};
const SCALES = CUSTOMER_COLUMNS.map((name) => {
  const decimals = DECIMALS[name];
  return decimals === undefined ? 0 : 10 ** decimals;
});

const NEEDS_QUOTING = /[",\r\n]|^\s|\s$/;

/** One CSV field: text quoted by csv-stringify when needed, numbers rounded, null empty. */
export function csvField(value: string | number | null, scale = 0): string {
  if (value === null) return "";
  if (typeof value === "number") return formatNumber(value, scale);
  return NEEDS_QUOTING.test(value) ? stringify([[value]], { eof: false }) : value;
}

/**
 * value rounded to 1/scale (scale a power of ten), without trailing zeros: 22.345000000000002
 * at 1e4 -> "22.345". Integer arithmetic: formatting a double costs more, on nine such
 * fields per customer (ADR 0004).
 */
export function formatNumber(value: number, scale: number): string {
  if (!Number.isFinite(value)) return "";
  if (scale === 0 || Number.isInteger(value)) return String(value === 0 ? 0 : value);
  const scaled = Math.round(Math.abs(value) * scale);
  if (!Number.isSafeInteger(scaled)) return String(Math.round(value * scale) / scale);
  if (scaled === 0) return "0";
  const whole = Math.floor(scaled / scale);
  let fraction = scaled - whole * scale;
  const sign = value < 0 ? "-" : "";
  if (fraction === 0) return `${sign}${whole}`;
  let width = Math.round(Math.log10(scale));
  while (fraction % 10 === 0) {
    fraction /= 10;
    width--;
  }
  return `${sign}${whole}.${String(fraction).padStart(width, "0")}`;
}

export function customerLine(row: CustomerRow): string {
  let line = csvField(row[0]);
  for (let i = 1; i < row.length; i++) line += "," + csvField(row[i], SCALES[i]);
  return line + "\n";
}

export const ROWS_PER_WRITE = 10_000;

/** customer rows -> text chunks of ROWS_PER_WRITE lines (rows are formatted one at a time). */
export function* customerChunks(rows: Iterable<CustomerRow>): Generator<string> {
  let batch = "";
  let inBatch = 0;
  for (const row of rows) {
    batch += customerLine(row);
    if (++inBatch === ROWS_PER_WRITE) {
      yield batch;
      batch = "";
      inBatch = 0;
    }
  }
  if (batch) yield batch;
}

/**
 * Writes the header, then the chunks as they come (with backpressure); resolves once
 * flushed. The text goes to `<path>.partial`, renamed to `path` only when complete, so a
 * failed run never leaves a truncated customers.csv behind.
 */
export async function writeCustomersCsvChunks(path: string, chunks: Iterable<string> | AsyncIterable<string>): Promise<void> {
  const partial = `${path}.partial`;
  const out = createWriteStream(partial);
  const failed = once(out, "error").then(([error]) => {
    throw error;
  });
  failed.catch(() => undefined); // raced below; never an unhandled rejection
  const write = async (text: string) => {
    if (!out.write(text)) await Promise.race([once(out, "drain"), failed]);
  };
  try {
    await write(stringify([[...CUSTOMER_COLUMNS]]));
    for await (const chunk of chunks) await write(chunk);
    out.end();
    await Promise.race([once(out, "finish"), failed]);
  } catch (error) {
    out.destroy();
    // The file is opened asynchronously: removed before the open lands, it would come back.
    if (!out.closed) await once(out, "close");
    await rm(partial, { force: true });
    throw error;
  }
  await rename(partial, path);
}

/**
 * Writes the header and rows to `path`; resolves with the row count once the file is
 * flushed. Each row is formatted before the next is requested, so a generator may reuse
 * one array for all rows.
 */
export async function writeCustomersCsv(path: string, rows: Iterable<CustomerRow>): Promise<number> {
  let written = 0;
  const counted = function* () {
    for (const row of rows) {
      written++;
      yield row;
    }
  };
  await writeCustomersCsvChunks(path, customerChunks(counted()));
  return written;
}
