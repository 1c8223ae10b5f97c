import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { type CustomerMetricsValues } from "~/analytics/customer-metrics";
import { type MetricsWriteOptions } from "~/data/customer-metrics.server";
import { checkOut } from "~/db/pg.server";

// The rescore's rows into the new partition's table (no index yet, nothing to replace) by
// `COPY ... FROM STDIN (FORMAT binary)`: the insert (writeCustomerMetricsInto) had Node write
// every value as text into 23 array literals and PostgreSQL parse and unnest them, which cost
// both sides more CPU than the rows themselves (ADR 0024). The values are the ones the
// insert stored (tests/refit/copy-metrics.test.ts).

const { escapeIdentifier } = pg;

const COLUMNS = [
  "shop", "customerId", "orders", "netSpentMinor", "aovMinor", "discountedOrders", "firstOrderDay", "lastOrderDay", "recencyDays",
  "rScore", "fScore", "mScore", "segment", "behaviours", "pAlive", "expectedPurchases90d", "expectedPurchases365d",
  "expectedOrderValueMinor", "predictedClvMinor", "expectedNextOrderDay", "chanceOfOrder90d", "chanceOfOrder365d",
  "modelVersion", "asOfDay", "computedAt", "grossProfitMinor", "uncostedSalesMinor",
].map((column) => escapeIdentifier(column)).join(", ");

/** PostgreSQL's epoch (2000-01-01) in days and milliseconds after 1970-01-01. */
const PG_EPOCH_DAYS = 10_957;
const PG_EPOCH_MS = 946_684_800_000;
const TEXT_OID = 25;
const FIELDS = 27;
const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");
const TWO_32 = 2 ** 32;
const DECIMAL_INTEGER = /^-?\d{1,19}$/;

/**
 * COPY's binary format, written into one growing buffer: each value as PostgreSQL stores it
 * (an integer's bytes, a double's bits, days and microseconds since 2000), so nothing is
 * formatted as text by us or parsed by PostgreSQL. Values are what the insert's text gave:
 * integers must be whole (the insert failed otherwise), -0 is written as 0 (String(-0) is "0").
 */
class BinaryRows {
  private buffer: Buffer;
  private at = 0;

  constructor(bytes: number) {
    this.buffer = Buffer.allocUnsafe(Math.max(64, bytes));
  }

  private room(bytes: number): void {
    if (this.at + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.at + bytes));
    this.buffer.copy(grown, 0, 0, this.at);
    this.buffer = grown;
  }

  raw(bytes: Buffer): void {
    this.room(bytes.length);
    bytes.copy(this.buffer, this.at);
    this.at += bytes.length;
  }

  int16(value: number): void {
    this.room(2);
    this.at = this.buffer.writeInt16BE(value, this.at);
  }

  int32(value: number): void {
    this.room(4);
    this.at = this.buffer.writeInt32BE(value, this.at);
  }

  null(): void {
    this.int32(-1);
  }

  int4(value: number | null): void {
    if (value === null || value === undefined) return this.null();
    if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) throw new RangeError(`${value} is not an integer column's value`);
    this.room(8);
    this.at = this.buffer.writeInt32BE(4, this.at);
    this.at = this.buffer.writeInt32BE(value, this.at);
  }

  int8(value: number | null): void {
    if (value === null || value === undefined) return this.null();
    if (!Number.isInteger(value) || Math.abs(value) >= 2 ** 63) throw new RangeError(`${value} is not a bigint column's value`);
    const high = Math.floor(value / TWO_32);
    this.room(12);
    this.at = this.buffer.writeInt32BE(8, this.at);
    this.at = this.buffer.writeInt32BE(high, this.at);
    this.at = this.buffer.writeUInt32BE(value - high * TWO_32, this.at);
  }

  /** A bigint given as its decimal text (customer ids). */
  int8Text(value: string): void {
    // BigInt() would take "", " 12 " and "0x1f" (as 0, 12, 31), where the insert refused them.
    if (!DECIMAL_INTEGER.test(value)) throw new RangeError(`${JSON.stringify(value)} is not a bigint column's value`);
    this.room(12);
    this.at = this.buffer.writeInt32BE(8, this.at);
    this.at = this.buffer.writeBigInt64BE(BigInt(value), this.at);
  }

  float8(value: number | null): void {
    if (value === null || value === undefined) return this.null();
    this.room(12);
    this.at = this.buffer.writeInt32BE(8, this.at);
    this.at = this.buffer.writeDoubleBE(value === 0 ? 0 : value, this.at);
  }

  date(day: number | null): void {
    this.int4(day === null ? null : day - PG_EPOCH_DAYS);
  }

  /** A timestamp without time zone holding the instant's UTC wall time (as the insert's ISO text). */
  timestamp(at: Date): void {
    this.room(12);
    this.at = this.buffer.writeInt32BE(8, this.at);
    this.at = this.buffer.writeBigInt64BE(BigInt(at.getTime() - PG_EPOCH_MS) * 1000n, this.at);
  }

  text(value: string | null): void {
    if (value === null || value === undefined) return this.null();
    const bytes = Buffer.byteLength(value);
    this.room(4 + bytes);
    this.at = this.buffer.writeInt32BE(bytes, this.at);
    this.at += this.buffer.write(value, this.at);
  }

  /** text[]: one dimension from 1, no nulls; none is the empty array (the insert's '{}'). */
  textArray(values: readonly string[]): void {
    const lengths = values.map((value) => Buffer.byteLength(value));
    const bytes = values.length === 0 ? 12 : 20 + lengths.reduce((sum, length) => sum + 4 + length, 0);
    this.int32(bytes);
    this.int32(values.length === 0 ? 0 : 1);
    this.int32(0);
    this.int32(TEXT_OID);
    if (values.length === 0) return;
    this.int32(values.length);
    this.int32(1);
    values.forEach((value, k) => {
      this.int32(lengths[k]);
      this.room(lengths[k]);
      this.at += this.buffer.write(value, this.at);
    });
  }

  done(): Buffer {
    return this.buffer.subarray(0, this.at);
  }
}

/** The insert's behaviours: string_to_array of the names joined by commas (none: the empty array). */
const behaviourNames = (names: readonly string[]) => {
  const joined = names.join(",");
  return joined === "" ? [] : joined.split(",");
};

/** The rows in COPY's binary format, columns as COLUMNS. */
export function metricsCopyData(shop: string, rows: readonly CustomerMetricsValues[], options: MetricsWriteOptions, computedAt: Date): Buffer {
  const out = new BinaryRows(19 + rows.length * 300);
  out.raw(SIGNATURE);
  out.int32(0);
  out.int32(0);
  for (const r of rows) {
    out.int16(FIELDS);
    out.text(shop);
    out.int8Text(r.customerId);
    out.int4(r.orders);
    out.int8(r.netSpent);
    out.int8(r.aov);
    out.int4(r.discountedOrders);
    out.date(r.firstOrderDay);
    out.date(r.lastOrderDay);
    out.int4(r.recencyDays);
    out.int4(r.scores?.r ?? null);
    out.int4(r.scores?.f ?? null);
    out.int4(r.scores?.m ?? null);
    out.text(r.segment);
    out.textArray(behaviourNames(r.behaviours));
    out.float8(r.pAlive);
    out.float8(r.expectedPurchases90d);
    out.float8(r.expectedPurchases365d);
    out.int8(r.expectedOrderValue);
    out.int8(r.predictedClv);
    out.date(r.expectedNextOrderDay);
    out.float8(r.chanceOfOrder90d);
    out.float8(r.chanceOfOrder365d);
    out.int4(options.modelVersion);
    out.int4(options.asOfDay);
    out.timestamp(computedAt);
    out.int8(r.grossProfit);
    out.int8(r.uncostedSales);
  }
  out.int16(-1);
  return out.done();
}

/** Inserts the rows into `table` (shaped like CustomerMetrics) by COPY, on a client of its own; returns the rows written. */
export async function copyMetricsInto(
  pool: pg.Pool,
  table: string,
  shop: string,
  rows: readonly CustomerMetricsValues[],
  options: MetricsWriteOptions,
): Promise<number> {
  if (rows.length === 0) return 0;
  const data = metricsCopyData(shop, rows, options, options.computedAt ?? new Date());
  const client = await checkOut(pool);
  let failure: Error | undefined;
  try {
    const stream = client.query(copyFrom(`COPY ${escapeIdentifier(table)} (${COLUMNS}) FROM STDIN (FORMAT binary)`));
    await new Promise<void>((resolve, reject) => {
      stream.on("finish", resolve);
      stream.on("error", reject);
      stream.end(data);
    });
    return stream.rowCount;
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.release(failure);
  }
}
