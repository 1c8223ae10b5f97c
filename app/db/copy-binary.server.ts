import { from as copyFrom } from "pg-copy-streams";
import { type ClientQueryable } from "./pg.server";

// COPY ... FROM STDIN (FORMAT binary) for the bulk writes whose text insert cost more CPU than
// the rows themselves: Node writing every value into array literals, PostgreSQL parsing and
// unnesting them (ADR 0024). Used by the refit's new partition (app/refit/copy-metrics.server.ts)
// and a destination pass's first member writes (app/data/destinations.server.ts).

/** PostgreSQL's epoch (2000-01-01) in days and milliseconds after 1970-01-01. */
const PG_EPOCH_DAYS = 10_957;
const PG_EPOCH_MS = 946_684_800_000;
const TEXT_OID = 25;
const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");
const TWO_32 = 2 ** 32;
const DECIMAL_INTEGER = /^-?\d{1,19}$/;

/**
 * COPY's binary format, written into one growing buffer: each value as PostgreSQL stores it
 * (an integer's bytes, a double's bits, days and microseconds since 2000), so nothing is
 * formatted as text by us or parsed by PostgreSQL. Values are what a text insert of the same
 * values stored: integers must be whole (the insert failed otherwise), -0 is written as 0
 * (String(-0) is "0").
 */
export class BinaryRows {
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

  /** A bigint given as its decimal text (customer and destination ids). */
  int8Text(value: string): void {
    // BigInt() would take "", " 12 " and "0x1f" (as 0, 12, 31), where the insert refused them.
    if (!DECIMAL_INTEGER.test(value)) throw new RangeError(`${JSON.stringify(value)} is not a bigint column's value`);
    const number = Number(value);
    // A BigInt only past 2^53: one per id cost a destination pass's COPY more than the rest (ADR 0022).
    if (!Number.isSafeInteger(number)) {
      this.room(12);
      this.at = this.buffer.writeInt32BE(8, this.at);
      this.at = this.buffer.writeBigInt64BE(BigInt(value), this.at);
      return;
    }
    this.int8(number);
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
    this.at = this.lengthAfter(this.at, this.utf8(value, this.at + 4));
  }

  /**
   * Writes the text at `at`, room made for its longest UTF-8 (3 bytes a UTF-16 unit), and
   * returns the bytes written: one pass over the text, where measuring it first was two.
   */
  private utf8(value: string, at: number): number {
    this.room(at - this.at + 3 * value.length);
    return this.buffer.write(value, at);
  }

  /** Puts the length of the `bytes` written after the length's 4 bytes at `at`; returns the end. */
  private lengthAfter(at: number, bytes: number): number {
    this.buffer.writeInt32BE(bytes, at);
    return at + 4 + bytes;
  }

  /** jsonb: its version (1), then the document's text. */
  jsonb(text: string | null): void {
    if (text === null || text === undefined) return this.null();
    const bytes = this.utf8(text, this.at + 5);
    this.buffer.writeUInt8(1, this.at + 4);
    this.at = this.lengthAfter(this.at, 1 + bytes);
  }

  /** text[]: one dimension from 1, no nulls; none is the empty array (the insert's '{}'). */
  textArray(values: readonly string[]): void {
    // The array's length goes before it, written once the elements are.
    const start = this.at;
    this.room(4);
    this.at += 4;
    this.int32(values.length === 0 ? 0 : 1);
    this.int32(0);
    this.int32(TEXT_OID);
    if (values.length > 0) {
      this.int32(values.length);
      this.int32(1);
      for (let k = 0; k < values.length; k += 1) this.text(values[k]!);
    }
    this.lengthAfter(start, this.at - start - 4);
  }

  /** The file header: signature, no flags, no extension. */
  header(): void {
    this.raw(SIGNATURE);
    this.int32(0);
    this.int32(0);
  }

  /** The file trailer, after the last row. */
  trailer(): void {
    this.int16(-1);
  }

  done(): Buffer {
    return this.buffer.subarray(0, this.at);
  }
}

/**
 * Runs `copySql` (COPY ... FROM STDIN (FORMAT binary)) on the client with `data` (a BinaryRows
 * body: signature, rows, trailer); returns the rows written.
 */
export async function copyBinary(client: ClientQueryable, copySql: string, data: Buffer): Promise<number> {
  const stream = client.query(copyFrom(copySql));
  await new Promise<void>((resolve, reject) => {
    stream.on("finish", resolve);
    stream.on("error", reject);
    stream.end(data);
  });
  return stream.rowCount;
}
