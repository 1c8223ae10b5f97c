// customers.csv: one row per customer. csv-stringify writes the header and quotes any
// text field that needs it; rows are assembled here because csv-stringify's per-record
// stream costs several times as much per row (ADR 0004), while numbers and dates never
// need quoting.
import { stringify } from "csv-stringify/sync";
import { writeFileAtomically } from "./io";

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

const COMMA = 0x2c;
const NEWLINE = 0x0a;
const DOT = 0x2e;
const MINUS = 0x2d;
const ZERO = 0x30;
/** Fraction digits per column (log10 of its scale). */
const WIDTHS = SCALES.map((scale) => (scale === 0 ? 0 : Math.round(Math.log10(scale))));
const utf8 = new TextEncoder();

/**
 * customers.csv rows encoded straight into UTF-8 bytes, the same text customerLine gives:
 * numbers are written digit by digit, so a row makes no string per field and the chunks
 * need no conversion on the way to the file (or to the main thread, which takes them over
 * without a copy). A million rows went through strings at about 5 us a row (issue 16).
 */
export class CustomerCsvEncoder {
  private bytes = new Uint8Array(1 << 21);
  private length = 0;

  get byteLength(): number {
    return this.length;
  }

  append(row: CustomerRow): void {
    // Numbers and the date take at most 24 bytes each; text up to 3 bytes a UTF-16 unit, plus quotes.
    this.reserve(16 * 26 + 3 * (row[0].length + row[10].length) + 64);
    this.text(row[0]);
    for (let i = 1; i < row.length; i++) {
      this.bytes[this.length++] = COMMA;
      const value = row[i];
      if (value === null) continue;
      if (typeof value === "number") this.number(value, SCALES[i], WIDTHS[i]);
      else this.text(value);
    }
    this.bytes[this.length++] = NEWLINE;
  }

  /** The bytes appended so far, handed over (the encoder starts a fresh buffer). */
  take(): Uint8Array {
    const out = this.bytes.subarray(0, this.length);
    this.bytes = new Uint8Array(this.bytes.length);
    this.length = 0;
    return out;
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + extra));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  /** A text field, quoted as csvField quotes it. */
  private text(value: string): void {
    if (NEEDS_QUOTING.test(value)) value = csvField(value);
    const bytes = this.bytes;
    const start = this.length;
    let at = start;
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) {
        // Rare: let the encoder do all of it (the room was reserved for 3 bytes a unit).
        this.reserve(3 * value.length + 2);
        this.length = start + utf8.encodeInto(value, this.bytes.subarray(start)).written;
        return;
      }
      bytes[at++] = code;
    }
    this.length = at;
  }

  private ascii(text: string): void {
    for (let i = 0; i < text.length; i++) this.bytes[this.length++] = text.charCodeAt(i);
  }

  /** formatNumber(value, scale), digit by digit. */
  private number(value: number, scale: number, width: number): void {
    if (!Number.isFinite(value)) return;
    if (scale === 0 || Number.isInteger(value)) {
      if (Number.isSafeInteger(value)) this.integer(value);
      else this.ascii(formatNumber(value, scale));
      return;
    }
    const scaled = Math.round(Math.abs(value) * scale);
    if (!Number.isSafeInteger(scaled)) {
      this.ascii(formatNumber(value, scale));
      return;
    }
    if (scaled === 0) {
      this.bytes[this.length++] = ZERO;
      return;
    }
    const whole = Math.floor(scaled / scale);
    // Below the scale (at most 10^6): a small integer.
    let fraction = (scaled - whole * scale) | 0;
    if (value < 0) this.bytes[this.length++] = MINUS;
    this.digits(whole);
    if (fraction === 0) return;
    while (fraction % 10 === 0) {
      fraction = (fraction / 10) | 0;
      width--;
    }
    this.bytes[this.length++] = DOT;
    // Leading zeros of the fraction: width digits in all.
    for (let zeros = width - digitCount(fraction); zeros > 0; zeros--) this.bytes[this.length++] = ZERO;
    this.digits(fraction);
  }

  /** A safe integer (-0 written as 0). */
  private integer(value: number): void {
    if (value < 0) {
      this.bytes[this.length++] = MINUS;
      value = -value;
    }
    this.digits(value);
  }

  /** The decimal digits of a non-negative safe integer. */
  private digits(value: number): void {
    if (value <= SMALL_MAX) {
      this.smallDigits(value | 0);
      return;
    }
    let count = 1;
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) count++;
    const bytes = this.bytes;
    let at = this.length + count;
    this.length = at;
    do {
      const next = Math.floor(value / 10);
      bytes[--at] = ZERO + (value - next * 10);
      value = next;
    } while (value > 0);
  }

  /**
   * digits() of an integer below 2^31, two at a time from a table in 32-bit integer
   * arithmetic: the double divisions were about a quarter of a scoring thread (issue 16).
   */
  private smallDigits(value: number): void {
    const bytes = this.bytes;
    let at = this.length + digitCount(value);
    this.length = at;
    while (value >= 100) {
      const next = (value / 100) | 0;
      const pair = (value - next * 100) << 1;
      bytes[--at] = DIGIT_PAIRS[pair + 1];
      bytes[--at] = DIGIT_PAIRS[pair];
      value = next;
    }
    if (value >= 10) {
      bytes[--at] = DIGIT_PAIRS[(value << 1) + 1];
      bytes[--at] = DIGIT_PAIRS[value << 1];
    } else bytes[--at] = ZERO + value;
  }
}

/** Largest integer smallDigits takes. */
const SMALL_MAX = 0x7fffffff;

/** "00" "01" ... "99" as bytes. */
const DIGIT_PAIRS = Uint8Array.from({ length: 200 }, (_, i) => ZERO + (i & 1 ? (i >> 1) % 10 : Math.floor((i >> 1) / 10)));

/** Decimal digits of an integer in 0 .. 2^31 - 1. */
function digitCount(value: number): number {
  if (value < 100_000) return value < 10 ? 1 : value < 100 ? 2 : value < 1000 ? 3 : value < 10_000 ? 4 : 5;
  return value < 1_000_000 ? 6 : value < 10_000_000 ? 7 : value < 100_000_000 ? 8 : value < 1_000_000_000 ? 9 : 10;
}

/** customer rows -> UTF-8 chunks of ROWS_PER_WRITE lines (rows are encoded one at a time). */
export function* customerChunks(rows: Iterable<CustomerRow>): Generator<Uint8Array> {
  const encoder = new CustomerCsvEncoder();
  let inBatch = 0;
  for (const row of rows) {
    encoder.append(row);
    if (++inBatch === ROWS_PER_WRITE) {
      yield encoder.take();
      inBatch = 0;
    }
  }
  if (encoder.byteLength > 0) yield encoder.take();
}

/**
 * Writes the header, then the chunks as they come, through writeFileAtomically: a failed run
 * never leaves a truncated customers.csv behind.
 */
export async function writeCustomersCsvChunks(path: string, chunks: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>): Promise<void> {
  await writeFileAtomically(path, withHeader(chunks));
}

async function* withHeader(chunks: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>): AsyncIterable<string | Uint8Array> {
  yield stringify([[...CUSTOMER_COLUMNS]]);
  yield* chunks;
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
