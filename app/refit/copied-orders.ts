// The counted orders as COPY's text rows (tab-separated, `\N` for null, backslash escapes),
// read straight from the bytes: no row array, no string per field. The refit reads every
// order of the shop once; through pg's row parser (a string and a parsed value per field,
// eleven fields a row) that was most of its read's CPU and garbage (ADR 0024).

const TAB = 0x09;
const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const ZERO = 0x30;
/** Up to 15 digits a running sum stays exact; longer numbers go through Number(text). */
const EXACT_DIGITS = 15;

/** countedOrdersSql's columns, in order (read-orders.server.ts reads them by these positions). */
export const COPIED_ORDER_COLUMNS = 11;
export const Col = {
  CustomerId: 0,
  Day: 1,
  Net: 2,
  Discounted: 3,
  Channel: 4,
  FirstProduct: 5,
  FirstDiscountCode: 6,
  Voided: 7,
  CostedProfit: 8,
  UncostedNet: 9,
  MarketingSource: 10,
} as const;

const UNESCAPED: Record<string, string> = { b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v" };

/**
 * One row at a time, valid only inside the callback it is passed to (its fields point into
 * the chunk being read). Values read as pg with Tenure's type parsers read them, then as the
 * refit converted them: numbers as Number() of the value (null -> 0), booleans true, false or
 * null, text as the string or null.
 */
export class CopiedRow {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly starts = new Int32Array(COPIED_ORDER_COLUMNS);
  private readonly ends = new Int32Array(COPIED_ORDER_COLUMNS);
  /** The customer id of the previous row, as text. */
  private previousId = "";
  /** True when this row's customer differs from the previous row's. */
  newCustomer = false;

  /** Reads the fields of the line buffer[start, end) (no newline); false when it does not have COPIED_ORDER_COLUMNS fields. */
  load(buffer: Buffer, start: number, end: number): boolean {
    this.buffer = buffer;
    let field = 0;
    this.starts[0] = start;
    for (let at = start; at < end; at++) {
      if (buffer[at] !== TAB) continue;
      if (field === COPIED_ORDER_COLUMNS - 1) return false;
      this.ends[field++] = at;
      this.starts[field] = at + 1;
    }
    if (field !== COPIED_ORDER_COLUMNS - 1) return false;
    this.ends[field] = end;
    this.newCustomer = !this.sameText(Col.CustomerId, this.previousId);
    if (this.newCustomer) this.previousId = this.text(Col.CustomerId) ?? "";
    return true;
  }

  /** The row's customer id (as String() of pg's bigint: the digits PostgreSQL wrote). */
  get customerId(): string {
    return this.previousId;
  }

  isNull(col: number): boolean {
    const start = this.starts[col];
    return this.ends[col] - start === 2 && this.buffer[start] === BACKSLASH && this.buffer[start + 1] === 0x4e;
  }

  /** Number(value) of an integer column: 0 for null, as Number(null). */
  number(col: number): number {
    if (this.isNull(col)) return 0;
    const buffer = this.buffer;
    const end = this.ends[col];
    let at = this.starts[col];
    const negative = buffer[at] === MINUS;
    if (negative) at++;
    if (end - at === 0 || end - at > EXACT_DIGITS) return Number(buffer.toString("latin1", this.starts[col], end));
    let value = 0;
    for (; at < end; at++) {
      const digit = buffer[at] - ZERO;
      if (digit < 0 || digit > 9) return Number(buffer.toString("latin1", this.starts[col], end));
      value = value * 10 + digit;
    }
    return negative ? -value : value;
  }

  /** A boolean column: true, false, or null. */
  boolean(col: number): boolean | null {
    if (this.isNull(col)) return null;
    return this.buffer[this.starts[col]] === 0x74; // 't'
  }

  /** A text column's value (COPY's escapes undone), or null. */
  text(col: number): string | null {
    if (this.isNull(col)) return null;
    const start = this.starts[col];
    const end = this.ends[col];
    const raw = this.buffer.toString("utf8", start, end);
    let escaped = false;
    for (let at = start; at < end && !escaped; at++) escaped = this.buffer[at] === BACKSLASH;
    if (!escaped) return raw;
    // COPY TO writes \b \f \n \r \t \v for those characters and a backslash before a backslash
    // (or the delimiter); every other byte as it is.
    return raw.replace(/\\(.)/gs, (_: string, c: string) => UNESCAPED[c] ?? c);
  }

  private sameText(col: number, text: string): boolean {
    const start = this.starts[col];
    const length = this.ends[col] - start;
    if (length !== text.length) return false;
    for (let k = 0; k < length; k++) if (this.buffer[start + k] !== text.charCodeAt(k)) return false;
    return true;
  }
}

/**
 * Feeds COPY's output a chunk at a time (chunks may split a line anywhere) and calls
 * `onRow` for each complete line, in order. `end()` checks nothing was left unfinished.
 */
export class CopiedOrdersReader {
  private readonly row = new CopiedRow();
  private rest: Buffer | null = null;
  rows = 0;

  constructor(private readonly onRow: (row: CopiedRow) => void) {}

  push(chunk: Buffer): void {
    const buffer = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = null;
    let start = 0;
    for (;;) {
      const end = buffer.indexOf(NEWLINE, start);
      if (end < 0) break;
      if (!this.row.load(buffer, start, end)) {
        throw new Error(`COPY row ${this.rows + 1} does not have ${COPIED_ORDER_COLUMNS} fields: ${JSON.stringify(buffer.toString("utf8", start, Math.min(end, start + 200)))}`);
      }
      this.rows++;
      this.onRow(this.row);
      start = end + 1;
    }
    if (start < buffer.length) this.rest = Buffer.from(buffer.subarray(start));
  }

  end(): void {
    if (this.rest) throw new Error(`COPY ended inside a row (${this.rest.length} bytes without a newline)`);
  }
}
