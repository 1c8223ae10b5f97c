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
  /**
   * "1.234" is 1.234 and "1,234" is 1234 in a semicolon- or tab-delimited file too, where
   * without either option a lone "," or "." before three digits is refused as ambiguous.
   */
  decimalPoint?: boolean;
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
// preference when a header has several: "Customer ID" wins over "Email", and both over a
// bare "Customer", which in many exports is the customer's name.
export const HEADER_ALIASES = {
  customer: ["customerid", "customernumber", "clientid", "email", "customeremail", "emailaddress", "customer"],
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
 * text[start, end) as a timestamp -> day index, or NaN: `YYYY-MM-DD[T ]HH:MM[:SS[.fff]]`,
 * then optionally spaces and an offset (`Z`, `UTC`, `GMT`, `+02:00`, `+0200`, `-04`).
 * With an offset the day is the instant's calendar day in `zone`; without one the written
 * date is the day (a wall-clock time already local to the shop). Scanned by hand, as
 * the plain dates are: a file of timestamps has one on every row.
 */
export function parseTimestampDay(text: string, start: number, end: number, zone: ZoneDays): number {
  while (start < end && text.charCodeAt(start) === SPACE) start++;
  while (end > start && text.charCodeAt(end - 1) === SPACE) end--;
  if (end - start < 16) return Number.NaN;
  if (text.charCodeAt(start + 4) !== DASH || text.charCodeAt(start + 7) !== DASH || text.charCodeAt(start + 13) !== COLON) return Number.NaN;
  const between = text.charCodeAt(start + 10);
  if (between !== UPPER_T && between !== SPACE && between !== LOWER_T) return Number.NaN;
  const year = digitsAt(text, start, 4);
  const month = digitsAt(text, start + 5, 2);
  const day = digitsAt(text, start + 8, 2);
  const hour = digitsAt(text, start + 11, 2);
  const minute = digitsAt(text, start + 14, 2);
  let second = 0;
  let i = start + 16;
  if (i < end && text.charCodeAt(i) === COLON) {
    second = digitsAt(text, i + 1, 2);
    i += 3;
    if (i < end && (text.charCodeAt(i) === DOT || text.charCodeAt(i) === COMMA)) {
      const fraction = ++i;
      while (i < end && isDigit(text.charCodeAt(i))) i++;
      if (i === fraction) return Number.NaN;
    }
  }
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return Number.NaN;
  if (!isValidCivilDate(year, month, day) || hour > 23 || minute > 59 || second > 59) return Number.NaN;
  while (i < end && text.charCodeAt(i) === SPACE) i++;
  const civilDay = daysFromCivil(year, month, day);
  if (i === end) return civilDay;
  const offsetMinutes = offsetAt(text, i, end);
  if (Number.isNaN(offsetMinutes)) return Number.NaN;
  const localMs = civilDay * DAY_MS + ((hour * 60 + minute) * 60 + second) * 1000;
  return zone.dayOf(localMs - offsetMinutes * MINUTE_MS);
}

/** text[i, end) as Z, UTC, GMT, +HH, +HHMM or +HH:MM -> minutes east of UTC, or NaN. */
function offsetAt(text: string, i: number, end: number): number {
  const length = end - i;
  const first = text.charCodeAt(i);
  if (length === 1 && (first === UPPER_Z || first === LOWER_Z)) return 0;
  if (length === 3) {
    const word = text.slice(i, end).toUpperCase();
    if (word === "UTC" || word === "GMT") return 0;
  }
  if (first !== PLUS && first !== DASH) return Number.NaN;
  const hours = digitsAt(text, i + 1, 2);
  let minutes = 0;
  if (length === 6 && text.charCodeAt(i + 3) === COLON) minutes = digitsAt(text, i + 4, 2);
  else if (length === 5) minutes = digitsAt(text, i + 3, 2);
  else if (length !== 3) return Number.NaN;
  if (hours < 0 || hours > 18 || minutes < 0 || minutes > 59) return Number.NaN;
  return (first === DASH ? -1 : 1) * (hours * 60 + minutes);
}

const SPACE = 32;
const DASH = 45;
const PLUS = 43;
const DOT = 46;
const COMMA = 44;
const COLON = 58;
const ZERO = 48;
const UPPER_T = 84;
const LOWER_T = 116;
const UPPER_Z = 90;
const LOWER_Z = 122;

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** Value of `count` decimal digits at text[start], or -1 if any is not a digit (or past the end). */
export function digitsAt(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (!(digit >= 0 && digit <= 9)) return -1;
    value = value * 10 + digit;
  }
  return value;
}

// ---- Amounts written for people ----------------------------------------------------

/**
 * An amount as people write it -> number, or NaN: a currency sign or ISO code before or
 * after the number ("£12.50", "12,50 €", "USD 12.50"), a sign before or after the
 * currency or accounting parentheses ("(12.50)"), thousands separators in groups of
 * three (one kind per number). The decimal separator is "." unless `decimalComma`,
 * then ","; the other of the two (and spaces, and "'" with a decimal point) group
 * thousands. Scanned by hand: a file written this way has one on every row.
 */
export function parseMoneyText(raw: string, decimalComma: boolean, refuseAmbiguous = false): number {
  return parseMoneyAt(raw, 0, raw.length, decimalComma, refuseAmbiguous);
}

/**
 * Whether a file's amounts must not have a lone "," or "." before exactly three digits
 * ("1,234", "1.234": thousands or a decimal?). A semicolon or tab file may come from
 * either convention; a comma-delimited one is written with a decimal point (a decimal
 * comma would need every amount quoted, which is why such exports use ";"), so there a
 * quoted "1,234" is 1234. --decimal-comma or --decimal-point settles it.
 */
export function refusesAmbiguousAmounts(delimiter: CsvDelimiter, conventions: ValueConventions): boolean {
  return delimiter !== "," && !conventions.decimalComma && !conventions.decimalPoint;
}

/**
 * text[start, end), already read as a plain decimal, is [sign] 1 to 3 digits (not
 * starting with 0), ".", three digits: 1.234 or 1234? (the fast path's share of
 * refusesAmbiguousAmounts).
 */
export function isAmbiguousPlainDecimal(text: string, start: number, end: number): boolean {
  start = skipBlanks(text, start, end);
  end = trimBlanks(text, start, end);
  const first = text.charCodeAt(start);
  if (first === DASH || first === PLUS) start++;
  const point = end - 4;
  return point - start >= 1 && point - start <= 3 && text.charCodeAt(point) === DOT && text.charCodeAt(start) !== ZERO;
}

/** 10^n exactly, for n up to 15 (an integer of up to 15 digits over one of them rounds correctly). */
export const POWERS_OF_TEN = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
const CURRENCY_SIGN = /\p{Sc}/u;

/** `refuseAmbiguous`: NaN for a lone "," or "." before three digits (refusesAmbiguousAmounts). */
export function parseMoneyAt(text: string, start: number, end: number, decimalComma: boolean, refuseAmbiguous = false): number {
  start = skipBlanks(text, start, end);
  end = trimBlanks(text, start, end);
  let negative = false;
  if (end - start >= 2 && text.charCodeAt(start) === OPEN && text.charCodeAt(end - 1) === CLOSE) {
    negative = true;
    start = skipBlanks(text, start + 1, end - 1);
    end = trimBlanks(text, start, end - 1);
  }
  // Before the number: a sign and a currency, in either order, at most one of each.
  let signed = false;
  let currency = false;
  for (let round = 0; round < 2 && start < end; round++) {
    const code = text.charCodeAt(start);
    if (!signed && (code === DASH || code === PLUS || code === MINUS_SIGN)) {
      signed = true;
      if (code !== PLUS) negative = !negative;
      start = skipBlanks(text, start + 1, end);
    } else if (!currency && isCurrencySign(text, start)) {
      currency = true;
      start = skipBlanks(text, start + 1, end);
    } else if (!currency && isCurrencyCode(text, start, end) && start + 3 < end && !isLetter(text.charCodeAt(start + 3))) {
      currency = true;
      start = skipBlanks(text, start + 3, end);
    } else break;
  }
  // After it: a currency, when none came before.
  if (!currency && end > start) {
    if (isCurrencySign(text, end - 1)) end = trimBlanks(text, start, end - 1);
    else if (end - start > 3 && isCurrencyCode(text, end - 3, end) && !isLetter(text.charCodeAt(end - 4))) end = trimBlanks(text, start, end - 3);
  }
  const decimalSeparator = decimalComma ? COMMA : DOT;
  let value = 0;
  let digitCount = 0;
  let decimals = 0;
  let inFraction = false;
  let groupSeparator = -1;
  let groupLength = 0;
  let firstDigit = -1;
  let separators = 0;
  let integerLength = -1; // digits before the first separator
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    const digit = code - 48;
    if (digit >= 0 && digit <= 9) {
      if (firstDigit < 0) firstDigit = digit;
      value = value * 10 + digit;
      digitCount++;
      if (inFraction) decimals++;
      else groupLength++;
    } else if (code === decimalSeparator && !inFraction) {
      if (groupSeparator >= 0 && groupLength !== 3) return Number.NaN;
      if (separators++ === 0) integerLength = groupLength;
      inFraction = true;
    } else if (!inFraction && isGroupSeparator(code, decimalComma)) {
      if (groupSeparator < 0 ? groupLength < 1 || groupLength > 3 : code !== groupSeparator || groupLength !== 3) return Number.NaN;
      // "0,125" is a decimal written the other way, never 125.
      if (groupSeparator < 0 && firstDigit === 0) return Number.NaN;
      if (separators++ === 0) integerLength = groupLength;
      groupSeparator = code;
      groupLength = 0;
    } else {
      return Number.NaN;
    }
  }
  if (digitCount === 0 || (groupSeparator >= 0 && !inFraction && groupLength !== 3)) return Number.NaN;
  if (refuseAmbiguous && separators === 1 && integerLength >= 1 && firstDigit !== 0) {
    if (inFraction ? decimals === 3 : groupSeparator === COMMA || groupSeparator === DOT) return Number.NaN;
  }
  if (digitCount > 15) {
    // Too many digits for the exact integer route: rebuild the plain number and let the engine round.
    let plain = "";
    for (let i = start; i < end; i++) {
      const code = text.charCodeAt(i);
      if (isDigit(code)) plain += text[i];
      else if (code === decimalSeparator) plain += ".";
    }
    const parsed = Number(plain);
    return Number.isFinite(parsed) ? (negative ? -parsed : parsed) : Number.NaN;
  }
  // value and 10^decimals are exact below 2^53: one division gives the correctly rounded value.
  const result = decimals === 0 ? value : value / POWERS_OF_TEN[decimals];
  return negative ? -result : result;
}

const OPEN = 40;
const CLOSE = 41;
const MINUS_SIGN = 0x2212;
const APOSTROPHE = 39;
const NO_BREAK_SPACE = 0xa0;
const NARROW_NO_BREAK_SPACE = 0x202f;

function isGroupSeparator(code: number, decimalComma: boolean): boolean {
  if (code === SPACE || code === NO_BREAK_SPACE || code === NARROW_NO_BREAK_SPACE) return true;
  return decimalComma ? code === DOT : code === COMMA || code === APOSTROPHE;
}

function isBlankCode(code: number): boolean {
  return code === SPACE || code === 9 || code === NO_BREAK_SPACE || code === NARROW_NO_BREAK_SPACE;
}

function skipBlanks(text: string, start: number, end: number): number {
  while (start < end && isBlankCode(text.charCodeAt(start))) start++;
  return start;
}

function trimBlanks(text: string, start: number, end: number): number {
  while (end > start && isBlankCode(text.charCodeAt(end - 1))) end--;
  return end;
}

function isLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

function isCurrencySign(text: string, at: number): boolean {
  const code = text.charCodeAt(at);
  // Digits, separators and signs are never currency; only other characters ask Unicode.
  return code > 127 ? CURRENCY_SIGN.test(text[at]) : code === 36;
}

/** Three capital letters at text[at] (an ISO 4217 code such as USD or EUR). */
function isCurrencyCode(text: string, at: number, end: number): boolean {
  if (at + 3 > end) return false;
  for (let i = at; i < at + 3; i++) {
    const code = text.charCodeAt(i);
    if (code < 65 || code > 90) return false;
  }
  return true;
}

/** Why `raw` is not an amount under these conventions (for the refusal's message). */
export function amountProblem(raw: string, decimalComma: boolean, refuseAmbiguous = false): string {
  const text = raw.trim();
  if (text === "") return "the amount is empty";
  const digits = text.replace(/^[^\d]*|[^\d]*$/g, "");
  if (refuseAmbiguous && /^[1-9]\d{0,2}[.,]\d{3}$/.test(digits)) {
    return `"${raw}" is ambiguous in a semicolon- or tab-delimited file (thousands or a decimal?): pass --decimal-comma if the file writes 1.234,50, or --decimal-point if it writes 1,234.50`;
  }
  if (/^0+[.,' \u00a0\u202f]\d{3}/.test(digits) && !(decimalComma ? /^0+,\d+$/ : /^0+\.\d+$/).test(digits)) {
    return decimalComma
      ? `"${raw}" starts with 0 before a thousands separator: it is a decimal written with a point, but --decimal-comma reads "." as a thousands separator`
      : `"${raw}" starts with 0 before a thousands separator: if it is a decimal, pass --decimal-comma (the file's amounts are then read as 1.234,50)`;
  }
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
