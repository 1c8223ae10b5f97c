// The forgiving side of the simple CSV format: which columns hold the customer, the date
// and the amount (header aliases), which delimiter separates them, and the slower parsers
// for dates with a time of day and amounts written for people ("£1,234.50", "1.234,50").
// The scanner in transactions.ts tries the plain forms first (YYYY-MM-DD, 12.50) and
// comes here only when they fail, so plain files read as fast as before.
import { tzOffset } from "@date-fns/tz";
import { parse as parseCsvSync } from "csv-parse/sync";
import { daysFromCivil, isValidCivilDate } from "./dates";

export type CsvDelimiter = "," | ";" | "\t";
const DELIMITERS: readonly CsvDelimiter[] = [",", ";", "\t"];

/** How the values of a simple file are written (the `tenure analyze` options). */
export interface ValueConventions {
  /** "1.234,50": comma decimal separator, "." and spaces group thousands. */
  decimalComma: boolean;
  /** IANA zone whose calendar day a timestamp with an offset falls on. */
  timeZone: string;
}

export const DEFAULT_CONVENTIONS: ValueConventions = { decimalComma: false, timeZone: "UTC" };

/** Where the customer, date and amount are in a CSV header (0-based columns). */
export interface CsvColumns {
  delimiter: CsvDelimiter;
  /** The header's names, trimmed, for messages. */
  names: string[];
  customerColumn: number;
  dateColumn: number;
  /** The amount column, or the unit price when the amount is price x quantity. */
  amountColumn: number;
  /** -1 unless the amount is price x quantity. */
  quantityColumn: number;
}

// Accepted header names per role, normalised (see normaliseHeaderName), in order of
// preference when a header has several: "Customer ID" wins over "Email".
export const HEADER_ALIASES = {
  customer: ["customerid", "customer", "customernumber", "clientid", "email", "customeremail", "emailaddress"],
  date: ["date", "orderdate", "createdat", "invoicedate", "purchasedate", "transactiondate", "processedat"],
  amount: ["amount", "total", "revenue", "ordertotal", "totalprice", "sales", "netsales"],
  price: ["price", "unitprice"],
  quantity: ["quantity", "qty"],
} as const;

/** "Customer ID", "customer_id", "customer-id" -> "customerid". */
export function normaliseHeaderName(name: string): string {
  return name.toLowerCase().replace(/[\s_\-.]/g, "");
}

/** Fields of one CSV line with `delimiter` (quotes honoured). */
export function splitDelimited(lineText: string, delimiter: CsvDelimiter): string[] {
  if (!lineText.includes('"')) return lineText.split(delimiter);
  const records = parseCsvSync(lineText, { delimiter, relax_column_count: true, relax_quotes: true }) as string[][];
  return records[0] ?? [];
}

/**
 * The columns of a simple CSV header, trying comma, semicolon and tab; null when no
 * delimiter gives a header with a customer, a date and an amount (or price and quantity).
 * Throws HeaderError when a role is named twice (two "Total" columns): which one to read
 * is a guess we do not make.
 */
export function recogniseCsvHeader(line: string): CsvColumns | null {
  for (const delimiter of DELIMITERS) {
    if (!line.includes(delimiter)) continue;
    const names = splitDelimited(line, delimiter).map((name) => name.trim());
    const columns = columnsOf(names, delimiter);
    if (columns) return columns;
  }
  return null;
}

export class HeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HeaderError";
  }
}

function columnsOf(names: string[], delimiter: CsvDelimiter): CsvColumns | null {
  const normalised = names.map(normaliseHeaderName);
  const find = (aliases: readonly string[]): number => {
    for (const alias of aliases) {
      const first = normalised.indexOf(alias);
      if (first < 0) continue;
      const second = normalised.indexOf(alias, first + 1);
      if (second >= 0) {
        throw new HeaderError(`line 1: columns ${first + 1} "${names[first]}" and ${second + 1} "${names[second]}" both name the same thing; rename one`);
      }
      return first;
    }
    return -1;
  };
  const customerColumn = find(HEADER_ALIASES.customer);
  const dateColumn = find(HEADER_ALIASES.date);
  let amountColumn = find(HEADER_ALIASES.amount);
  let quantityColumn = -1;
  if (amountColumn < 0) {
    const price = find(HEADER_ALIASES.price);
    const quantity = find(HEADER_ALIASES.quantity);
    if (price >= 0 && quantity >= 0) {
      amountColumn = price;
      quantityColumn = quantity;
    }
  }
  if (customerColumn < 0 || dateColumn < 0 || amountColumn < 0) return null;
  return { delimiter, names, customerColumn, dateColumn, amountColumn, quantityColumn };
}

/** What a CSV header lacks, for the refusal of an unrecognised one ("no date column (...)"). */
export function missingColumns(line: string): string {
  let best: string[] = [line];
  for (const delimiter of DELIMITERS) {
    const names = splitDelimited(line, delimiter).map((name) => name.trim());
    if (names.length > best.length) best = names;
  }
  const normalised = new Set(best.map(normaliseHeaderName));
  const has = (aliases: readonly string[]) => aliases.some((alias) => normalised.has(alias));
  const missing: string[] = [];
  if (!has(HEADER_ALIASES.customer)) missing.push("no customer column (customer_id, customer id, customer, email, ...)");
  if (!has(HEADER_ALIASES.date)) missing.push("no date column (date, order date, created_at, invoice date, ...)");
  if (!has(HEADER_ALIASES.amount) && !(has(HEADER_ALIASES.price) && has(HEADER_ALIASES.quantity))) {
    missing.push("no amount column (amount, total, revenue, ..., or price and quantity)");
  }
  return missing.join(", ");
}

// ---- Dates with a time of day --------------------------------------------------------

// "2024-01-15 10:30", "2024-01-15T10:30:00.123Z", "2024-01-15 10:30:00 +02:00", "... -0400".
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$/i;
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
// Zone offsets change on quarter hours at most; one lookup per quarter hour of data.
const OFFSET_BUCKET_MS = 15 * MINUTE_MS;

/** Calendar days of instants in one time zone, with the zone's offsets cached. */
export class ZoneDays {
  private readonly offsets = new Map<number, number>();
  private readonly utc: boolean;

  constructor(readonly timeZone: string) {
    this.utc = timeZone === "UTC" || timeZone === "Etc/UTC";
    if (!this.utc && Number.isNaN(tzOffset(timeZone, new Date(0)))) throw new RangeError(`unknown time zone "${timeZone}"`);
  }

  dayOf(instantMs: number): number {
    if (this.utc) return Math.floor(instantMs / DAY_MS);
    const bucket = Math.floor(instantMs / OFFSET_BUCKET_MS);
    let offset = this.offsets.get(bucket);
    if (offset === undefined) {
      offset = tzOffset(this.timeZone, new Date(bucket * OFFSET_BUCKET_MS));
      this.offsets.set(bucket, offset);
    }
    return Math.floor((instantMs + offset * MINUTE_MS) / DAY_MS);
  }
}

/**
 * text[start, end) as a timestamp -> day index, or NaN. With an offset (Z, +02:00, -0400)
 * the day is the instant's calendar day in `zone`; without one the written date is the day
 * (a wall-clock time already local to the shop).
 */
export function parseTimestampDay(text: string, start: number, end: number, zone: ZoneDays): number {
  const match = TIMESTAMP.exec(text.slice(start, end).trim());
  if (!match) return Number.NaN;
  const [, y, mo, d, h, mi, s, offset] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (!isValidCivilDate(year, month, day) || hour > 23 || minute > 59 || second > 59) return Number.NaN;
  const civilDay = daysFromCivil(year, month, day);
  if (offset === undefined) return civilDay;
  let offsetMinutes = 0;
  if (/^[+-]/.test(offset)) {
    const digits = offset.slice(1).replace(":", "");
    const offsetHours = Number(digits.slice(0, 2));
    const extraMinutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (offsetHours > 18 || extraMinutes > 59) return Number.NaN;
    offsetMinutes = (offset[0] === "-" ? -1 : 1) * (offsetHours * 60 + extraMinutes);
  }
  const localMs = civilDay * DAY_MS + ((hour * 60 + minute) * 60 + second) * 1000;
  return zone.dayOf(localMs - offsetMinutes * MINUTE_MS);
}

// ---- Amounts written for people ----------------------------------------------------

// A currency sign or an ISO code before or after the number: "£12.50", "12,50 €", "USD 12.50".
const CURRENCY_PREFIX = /^(?:\p{Sc}|[A-Z]{3}(?=[\s\d+\-(]))\s*/u;
const CURRENCY_SUFFIX = /\s*(?:\p{Sc}|(?<=[\d\s])[A-Z]{3})$/u;
// Thousands groups: 1-3 digits, then groups of exactly 3 after one separator kind.
const GROUPED_POINT = /^\d{1,3}(?:(,|[ \u00a0\u202f'])\d{3})(?:\1\d{3})*(?:\.\d+)?$/;
const GROUPED_COMMA = /^\d{1,3}(?:([. \u00a0\u202f])\d{3})(?:\1\d{3})*(?:,\d+)?$/;
const PLAIN_COMMA = /^\d*,\d+$|^\d+,?$/;

/**
 * An amount as people write it -> number, or NaN: a currency sign or code, a sign before
 * or after it or accounting parentheses ("(12.50)"), thousands separators in groups of
 * three. The decimal separator is "." unless `decimalComma`, then ",".
 */
export function parseMoneyText(raw: string, decimalComma: boolean): number {
  let text = raw.trim();
  let negative = false;
  if (text.startsWith("(") && text.endsWith(")")) {
    negative = true;
    text = text.slice(1, -1).trim();
  }
  const sign = () => {
    if (text.startsWith("-") || text.startsWith("+") || text.startsWith("\u2212")) {
      if (text[0] !== "+") negative = !negative;
      text = text.slice(1).trim();
    }
  };
  sign();
  text = text.replace(CURRENCY_PREFIX, "").replace(CURRENCY_SUFFIX, "");
  sign();
  if (text === "" || !/^\d/.test(text) && !/^[.,]\d/.test(text)) return Number.NaN;
  let plain: string;
  if (decimalComma) {
    if (PLAIN_COMMA.test(text)) plain = text.replace(",", ".");
    else if (GROUPED_COMMA.test(text)) plain = text.replace(/[. \u00a0\u202f]/g, "").replace(",", ".");
    else return Number.NaN;
  } else {
    if (/^\d*\.?\d+$|^\d+\.$/.test(text)) plain = text;
    else if (GROUPED_POINT.test(text)) plain = text.replace(/[, \u00a0\u202f']/g, "");
    else return Number.NaN;
  }
  const value = Number(plain.endsWith(".") ? plain.slice(0, -1) : plain);
  if (!Number.isFinite(value)) return Number.NaN;
  return negative ? -value : value;
}

/** Why `raw` is not an amount under these conventions (for the refusal's message). */
export function amountProblem(raw: string, decimalComma: boolean): string {
  const text = raw.trim();
  if (text === "") return "the amount is empty";
  const digits = text.replace(/^[^\d]*|[^\d]*$/g, "");
  if (!decimalComma && (/^\d+,\d{1,2}$/.test(digits) || /^\d{1,3}(\.\d{3})+,\d+$/.test(digits) || /^\d+,\d{4,}$/.test(digits))) {
    return `"${raw}" has a decimal comma: pass --decimal-comma (the file's amounts are then read as 1.234,50)`;
  }
  if (decimalComma && (/^\d+\.\d{1,2}$/.test(digits) || /^\d{1,3}(,\d{3})+\.\d+$/.test(digits))) {
    return `"${raw}" has a decimal point, but --decimal-comma reads "." as a thousands separator`;
  }
  return `"${raw}" is not an amount (expected a number such as 12.50, 1,234.50 or £12.50${decimalComma ? "; with --decimal-comma 1.234,50" : ""})`;
}

/**
 * price x quantity, rounded to the decimals the two carry together, so that 0.1 x 3 is
 * 0.3 and not 0.30000000000000004.
 */
export function lineAmount(price: number, priceText: string, quantity: number, quantityText: string): number {
  const decimals = Math.min(decimalsOf(priceText) + decimalsOf(quantityText), 10);
  const scale = 10 ** decimals;
  return Math.round(price * quantity * scale) / scale;
}

function decimalsOf(text: string): number {
  const match = /[.,](\d+)\D*$/.exec(text.trim());
  return match ? match[1].length : 0;
}
