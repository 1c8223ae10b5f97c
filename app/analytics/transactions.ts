// Pure parsing of transaction files, one line (or one CSV record) at a time. The file
// reading lives in app/cli/read-transactions.ts; everything here works on strings.
//
// Three formats, recognised by their first line:
//   csv      a header naming a customer, a date and an amount (aliases, any order,
//            extra columns ignored), comma, semicolon or tab separated (simple-csv.ts);
//            dates YYYY-MM-DD, YYYYMMDD or timestamps, amounts decimals, also with a
//            currency sign and thousands separators (negative = refund)
//   cdnow    whitespace separated, no header (or the master file's
//            `customer_id date number_of_cds dollar_value`): 4 columns
//            (id, YYYYMMDD, CDs, dollars) or 5 (master id, sample id, ...; the sample
//            id is the customer)
//   shopify  Shopify admin "Export orders" CSV (read by shopify-export.ts)
//
// The simple formats are scanned in place with charCodeAt (see
// docs/decisions/0004-fast-transaction-reader.md): on a 10M-row file the only string a
// row allocates is its customer id. Bad rows become RowError values, never throws.
import { parse as parseCsvSync } from "csv-parse/sync";
import { daysFromCivil, isValidCivilDate } from "./dates";
import {
  type CsvColumns,
  DEFAULT_CONVENTIONS,
  type ValueConventions,
  POWERS_OF_TEN,
  ZoneDays,
  amountProblem,
  digitsAt,
  isAmbiguousPlainDecimal,
  lineAmount,
  missingColumns,
  parseMoneyText,
  parseTimestampDay,
  recogniseCsvHeader,
  refusesAmbiguousAmounts,
} from "./simple-csv";
import { type ShopifyColumns, shopifyColumns } from "./shopify-export";
import { type OrderAttributes, type ParsedTransaction, type RowError, type TransactionSink, columnLabel } from "./transaction-rows";

export { type OrderAttributes, type ParsedTransaction, type RowError, type TransactionSink };
export { type ShopifyColumns, type ShopifyOrder, type ShopifyRowResult, type ShopifySkipReason, ShopifyOrderReader, shopifyColumns } from "./shopify-export";

export type TransactionFormat = "csv" | "cdnow" | "shopify";


export type SimpleLayout =
  | {
      format: "csv";
      customerColumn: number;
      dateColumn: number;
      /** The amount, or the unit price when quantityColumn >= 0 (amount = price x quantity). */
      amountColumn: number;
      quantityColumn: number;
      columnCount: number;
      /** Character code of the delimiter: comma, semicolon or tab. */
      delimiter: number;
      /** The header's column names (messages name the column). */
      names: readonly string[];
      decimalComma: boolean;
      /** A lone "," or "." before three digits is refused (refusesAmbiguousAmounts). */
      refuseAmbiguousAmounts: boolean;
      zone: ZoneDays;
    }
  | { format: "cdnow"; customerColumn: number; dateColumn: number; amountColumn: number; columnCount: 4 | 5; names: readonly string[] };

export type FormatDetection =
  | { format: "csv" | "cdnow"; layout: SimpleLayout; firstLineIsHeader: boolean }
  | { format: "shopify"; columns: ShopifyColumns; firstLineIsHeader: true };

export class TransactionFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TransactionFormatError";
  }
}

const CDNOW_MASTER_HEADER = ["customer_id", "date", "number_of_cds", "dollar_value"];

/**
 * Recognises a file's format from its first line (BOM and CR allowed). `conventions`
 * say how a simple CSV writes its values (decimal comma, time zone of timestamps).
 */
export function detectFormat(firstLine: string, conventions: ValueConventions = DEFAULT_CONVENTIONS): FormatDetection {
  const line = stripLineEnd(firstLine.replace(/^\uFEFF/, ""));
  if (line.trim() === "") throw new TransactionFormatError("line 1: the file is empty or starts with a blank line");
  if (line.includes("\r")) {
    throw new TransactionFormatError("line 1: the lines end with CR alone (old Mac line endings); save the file with LF or CRLF line endings");
  }

  if (line.includes(",")) {
    const shopify = shopifyColumns(splitCsvRecord(line).map((name) => name.trim()));
    if (shopify) return { format: "shopify", columns: shopify, firstLineIsHeader: true };
  }
  let csv: CsvColumns | null;
  try {
    csv = recogniseCsvHeader(line);
  } catch (error) {
    throw new TransactionFormatError((error as Error).message);
  }
  if (csv) return { format: "csv", layout: csvLayout(csv, conventions), firstLineIsHeader: true };

  const fields = line.trim().split(/\s+/);
  if (fields.map((f) => f.toLowerCase()).join(" ") === CDNOW_MASTER_HEADER.join(" ")) {
    return { format: "cdnow", layout: cdnowLayout(4), firstLineIsHeader: true };
  }
  if ((fields.length === 4 || fields.length === 5) && /^\d{8}$/.test(fields[fields.length - 3])) {
    return { format: "cdnow", layout: cdnowLayout(fields.length), firstLineIsHeader: false };
  }
  if (/[,;\t]/.test(line)) {
    throw new TransactionFormatError(
      `line 1: unrecognised CSV header "${truncate(line, 120)}": ${missingColumns(line)}; ` +
        `nor is it a Shopify orders export (Name, Email, Financial Status, Total, Refunded Amount, Created at, ...)`,
    );
  }
  throw new TransactionFormatError(
    `line 1: unrecognised first line "${truncate(line, 120)}": expected a header naming the customer, date and amount ` +
      `columns (customer_id,date,amount), a Shopify orders export header, or CDNOW-style whitespace columns ` +
      `(id [sample id] YYYYMMDD cds dollars)`,
  );
}

function csvLayout(columns: CsvColumns, conventions: ValueConventions): SimpleLayout {
  return {
    format: "csv",
    customerColumn: columns.customerColumn,
    dateColumn: columns.dateColumn,
    amountColumn: columns.amountColumn,
    quantityColumn: columns.quantityColumn,
    columnCount: columns.names.length,
    delimiter: columns.delimiter.charCodeAt(0),
    names: columns.names,
    decimalComma: conventions.decimalComma,
    refuseAmbiguousAmounts: refusesAmbiguousAmounts(columns.delimiter, conventions),
    zone: new ZoneDays(conventions.timeZone),
  };
}

function cdnowLayout(columnCount: 4 | 5): SimpleLayout {
  // With 5 columns the second is the sample's own customer id (1..2357).
  return columnCount === 5
    ? { format: "cdnow", customerColumn: 1, dateColumn: 2, amountColumn: 4, columnCount, names: ["master id", "customer id", "date", "cds", "dollars"] }
    : { format: "cdnow", customerColumn: 0, dateColumn: 1, amountColumn: 3, columnCount, names: ["customer id", "date", "cds", "dollars"] };
}

const QUOTE = 34;
const SPACE = 32;
const TAB = 9;
const CR = 13;
const MAX_COLUMNS = 64;

// Field boundaries of the line being parsed (reused: parsing allocates nothing else).
const fieldStarts = new Int32Array(MAX_COLUMNS);
const fieldEnds = new Int32Array(MAX_COLUMNS);

/**
 * Parses text[start, end) — one line without its "\n" — in a simple layout and hands
 * the row or its error to the sink. Blank lines are ignored.
 */
export function parseSimpleLine(
  layout: SimpleLayout,
  text: string,
  start: number,
  end: number,
  line: number,
  sink: TransactionSink,
): void {
  if (end > start && text.charCodeAt(end - 1) === CR) end--;
  let count: number;
  if (layout.format === "csv") {
    count = splitFields(text, start, end, layout.delimiter);
    if (count < 0) {
      parseQuotedCsvLine(layout, text.slice(start, end), line, sink);
      return;
    }
    if (count === 1 && isBlank(text, start, end)) return;
  } else {
    count = splitWhitespace(text, start, end);
    if (count === 0) return;
  }
  if (count !== layout.columnCount) {
    if (layout.format === "csv" && isEmptyRecord(text, start, end, layout.delimiter)) return;
    sink.error({ line, message: columnCountProblem(layout, count), raw: text.slice(start, end) });
    return;
  }
  const q = layout.format === "csv" ? layout.quantityColumn : -1;
  parseRow(
    layout,
    line,
    text,
    start,
    end,
    text,
    fieldStarts[layout.customerColumn],
    fieldEnds[layout.customerColumn],
    text,
    fieldStarts[layout.dateColumn],
    fieldEnds[layout.dateColumn],
    text,
    fieldStarts[layout.amountColumn],
    fieldEnds[layout.amountColumn],
    text,
    q < 0 ? 0 : fieldStarts[q],
    q < 0 ? 0 : fieldEnds[q],
    sink,
  );
}

/**
 * The row's values, each a range of a string (the line's, or a field's own on the
 * quoted path), parsed into the sink. Plain forms first; a CSV's dates with a time and
 * amounts with currency signs, separators or a decimal comma take the slower parsers.
 */
function parseRow(
  layout: SimpleLayout,
  line: number,
  rawText: string,
  rawStart: number,
  rawEnd: number,
  idText: string,
  idFrom: number,
  idTo: number,
  dateText: string,
  dateStart: number,
  dateEnd: number,
  amountText: string,
  amountStart: number,
  amountEnd: number,
  quantityText: string,
  quantityStart: number,
  quantityEnd: number,
  sink: TransactionSink,
): void {
  const idStart = trimStart(idText, idFrom, idTo);
  const idEnd = trimEnd(idText, idStart, idTo);
  if (idEnd === idStart) {
    if (layout.format === "csv" && isEmptyRecord(rawText, rawStart, rawEnd, layout.delimiter)) return;
    sink.error({ line, message: `${columnLabel(layout.customerColumn, layout.names[layout.customerColumn])}: the customer id is empty`, raw: rawText.slice(rawStart, rawEnd) });
    return;
  }
  let day = parseDayAt(dateText, dateStart, dateEnd);
  if (Number.isNaN(day) && layout.format === "csv") day = parseTimestampDay(dateText, dateStart, dateEnd, layout.zone);
  if (Number.isNaN(day)) {
    const raw = dateText.slice(dateStart, dateEnd);
    const expected = layout.format === "csv" ? "YYYY-MM-DD, YYYYMMDD or a timestamp such as 2024-01-15 10:30:00 or 2024-01-15T10:30:00+02:00" : "YYYYMMDD";
    sink.error({ line, message: `${columnLabel(layout.dateColumn, layout.names[layout.dateColumn])}: "${raw}" is not a date (expected ${expected})`, raw: rawText.slice(rawStart, rawEnd) });
    return;
  }
  let amount: number;
  if (layout.format === "csv") {
    amount = layout.decimalComma ? Number.NaN : parseDecimalAt(amountText, amountStart, amountEnd);
    if (layout.refuseAmbiguousAmounts && !Number.isNaN(amount) && isAmbiguousPlainDecimal(amountText, amountStart, amountEnd)) amount = Number.NaN;
    if (Number.isNaN(amount)) amount = parseMoneyText(amountText.slice(amountStart, amountEnd), layout.decimalComma, layout.refuseAmbiguousAmounts);
    if (Number.isNaN(amount)) {
      const problem = amountProblem(amountText.slice(amountStart, amountEnd), layout.decimalComma, layout.refuseAmbiguousAmounts);
      sink.error({ line, message: `${columnLabel(layout.amountColumn, layout.names[layout.amountColumn])}: ${problem}`, raw: rawText.slice(rawStart, rawEnd) });
      return;
    }
    if (layout.quantityColumn >= 0) {
      const quantityRaw = quantityText.slice(quantityStart, quantityEnd);
      const quantity = parseMoneyText(quantityRaw, layout.decimalComma, layout.refuseAmbiguousAmounts);
      if (Number.isNaN(quantity)) {
        sink.error({ line, message: `${columnLabel(layout.quantityColumn, layout.names[layout.quantityColumn])}: "${quantityRaw}" is not a quantity`, raw: rawText.slice(rawStart, rawEnd) });
        return;
      }
      amount = lineAmount(amount, amountText.slice(amountStart, amountEnd), quantity, quantityRaw);
    }
  } else {
    amount = parseDecimalAt(amountText, amountStart, amountEnd);
    if (Number.isNaN(amount)) {
      const raw = amountText.slice(amountStart, amountEnd);
      sink.error({ line, message: `${columnLabel(layout.amountColumn, layout.names[layout.amountColumn])}: "${raw}" is not an amount (expected a decimal number such as 12.50)`, raw: rawText.slice(rawStart, rawEnd) });
      return;
    }
  }
  sink.transaction(idText, idStart, idEnd, day, amount, line);
}

function columnCountProblem(layout: SimpleLayout, count: number): string {
  const expected = layout.columnCount;
  if (count > MAX_COLUMNS) return `expected ${expected} columns, found more than ${MAX_COLUMNS}`;
  const detail =
    count < expected
      ? count + 1 === expected
        ? `no ${columnLabel(count, layout.names[count])}`
        : `no ${columnLabel(count, layout.names[count])} to ${columnLabel(expected - 1, layout.names[expected - 1])}`
      : count === expected + 1
        ? `column ${expected + 1} is extra`
        : `columns ${expected + 1} to ${count} are extra`;
  return `expected ${expected} columns, found ${count}: ${detail}`;
}

/** One line -> a transaction, an error, or null for a blank line (convenience form). */
export function parseTransactionLine(layout: SimpleLayout, lineText: string, line: number): ParsedTransaction | RowError | null {
  let result: ParsedTransaction | RowError | null = null;
  parseSimpleLine(layout, lineText, 0, lineText.length, line, {
    transaction: (text, idStart, idEnd, day, amount) => {
      result = { customerId: text.slice(idStart, idEnd), day, amount, line };
    },
    error: (error) => {
      result = error;
    },
  });
  return result;
}

/** Field boundaries into fieldStarts/fieldEnds; -1 when the line has quotes (slow path). */
function splitFields(text: string, start: number, end: number, delimiter: number): number {
  let count = 0;
  let fieldStart = start;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code === delimiter) {
      if (count < MAX_COLUMNS) {
        fieldStarts[count] = fieldStart;
        fieldEnds[count] = i;
      }
      count++;
      fieldStart = i + 1;
    } else if (code === QUOTE) {
      return -1;
    }
  }
  if (count < MAX_COLUMNS) {
    fieldStarts[count] = fieldStart;
    fieldEnds[count] = end;
  }
  return count + 1;
}

function splitWhitespace(text: string, start: number, end: number): number {
  let count = 0;
  let i = start;
  while (i < end) {
    while (i < end && isSpace(text.charCodeAt(i))) i++;
    if (i >= end) break;
    const fieldStart = i;
    while (i < end && !isSpace(text.charCodeAt(i))) i++;
    if (count < MAX_COLUMNS) {
      fieldStarts[count] = fieldStart;
      fieldEnds[count] = i;
    }
    count++;
  }
  return count;
}

function isSpace(code: number): boolean {
  return code === SPACE || code === TAB || code === CR;
}

/** Only delimiters, blanks and quotes (Excel's trailing ";;" rows): a blank line, not a bad row. */
function isEmptyRecord(text: string, start: number, end: number, delimiter: number): boolean {
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code !== delimiter && code !== QUOTE && code !== CR && !isSpace(code)) return false;
  }
  return true;
}

function isBlank(text: string, start: number, end: number): boolean {
  return trimStart(text, start, end) === end;
}

function trimStart(text: string, start: number, end: number): number {
  while (start < end && isSpace(text.charCodeAt(start))) start++;
  return start;
}

function trimEnd(text: string, start: number, end: number): number {
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  return end;
}

/** Lines with quotes go through csv-parse: rare in these files, so speed does not matter. */
function parseQuotedCsvLine(layout: SimpleLayout & { format: "csv" }, lineText: string, line: number, sink: TransactionSink): void {
  let fields: string[];
  try {
    const records = parseCsvSync(lineText, { delimiter: String.fromCharCode(layout.delimiter), relax_column_count: true }) as string[][];
    if (records.length !== 1) throw new Error("a quoted field spans lines");
    fields = records[0];
  } catch (error) {
    sink.error({ line, message: `malformed CSV: ${(error as Error).message}`, raw: lineText });
    return;
  }
  if (fields.length !== layout.columnCount) {
    sink.error({ line, message: columnCountProblem(layout, fields.length), raw: lineText });
    return;
  }
  const id = fields[layout.customerColumn];
  const date = fields[layout.dateColumn];
  const amount = fields[layout.amountColumn];
  const quantity = layout.quantityColumn >= 0 ? fields[layout.quantityColumn] : "";
  parseRow(layout, line, lineText, 0, lineText.length, id, 0, id.length, date, 0, date.length, amount, 0, amount.length, quantity, 0, quantity.length, sink);
}

/** text[start, end) as "YYYY-MM-DD" or "YYYYMMDD" (spaces around allowed) -> day index, or NaN. */
export function parseDayAt(text: string, start: number, end: number): number {
  start = trimStart(text, start, end);
  end = trimEnd(text, start, end);
  const length = end - start;
  let year: number;
  let month: number;
  let day: number;
  if (length === 10) {
    if (text.charCodeAt(start + 4) !== 45 || text.charCodeAt(start + 7) !== 45) return Number.NaN;
    year = digitsAt(text, start, 4);
    month = digitsAt(text, start + 5, 2);
    day = digitsAt(text, start + 8, 2);
  } else if (length === 8) {
    year = digitsAt(text, start, 4);
    month = digitsAt(text, start + 4, 2);
    day = digitsAt(text, start + 6, 2);
  } else {
    return Number.NaN;
  }
  if (year < 0 || month < 0 || day < 0 || !isValidCivilDate(year, month, day)) return Number.NaN;
  return daysFromCivil(year, month, day);
}

/**
 * text[start, end) as a plain decimal ("12", "-3.5", "+0.99", ".5") -> number, or NaN.
 * Digits accumulate as an integer and are divided once by a power of ten: both are
 * exact below 2^53, so the result is the correctly rounded value, the same as Number().
 */
export function parseDecimalAt(text: string, start: number, end: number): number {
  start = trimStart(text, start, end);
  end = trimEnd(text, start, end);
  if (start === end) return Number.NaN;
  let i = start;
  let negative = false;
  const first = text.charCodeAt(i);
  if (first === 45 || first === 43) {
    negative = first === 45;
    i++;
  }
  let value = 0;
  let digits = 0;
  let decimals = 0;
  let seenPoint = false;
  for (; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code === 46 && !seenPoint) {
      seenPoint = true;
      continue;
    }
    const digit = code - 48;
    if (digit < 0 || digit > 9) return Number.NaN;
    value = value * 10 + digit;
    digits++;
    if (seenPoint) decimals++;
  }
  if (digits === 0) return Number.NaN;
  if (digits > 15) {
    // Too many digits for the exact integer route; let the engine round.
    const parsed = Number(text.slice(start, end));
    return Number.isFinite(parsed) ? parsed : Number.NaN;
  }
  const result = decimals === 0 ? value : value / POWERS_OF_TEN[decimals];
  return negative ? -result : result;
}

/** Fields of one CSV line (quotes honoured); used for headers. */
export function splitCsvRecord(lineText: string): string[] {
  if (!lineText.includes('"')) return lineText.split(",");
  const records = parseCsvSync(lineText, { relax_column_count: true, relax_quotes: true }) as string[][];
  return records[0] ?? [];
}

function stripLineEnd(line: string): string {
  return line.replace(/\r?\n?$/, "");
}

function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length)}…` : text;
}
