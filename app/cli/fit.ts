// `tenure fit <summary.csv>`: fits BG/NBD, modified BG/NBD, Pareto/NBD and (with spend
// values) Gamma-Gamma to a customer summary file and prints one JSON object.
//
// Built for millions of rows: the file is read in 1 MiB chunks and each line scanned in
// place (no string per field); numbers are converted exactly as Number() would. Customers
// go straight into the (x, t_x, T) compressor, so the fits cost what the distinct rows
// cost. Lines with quotes take a slower path through csv-parse.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { parseArgs } from "node:util";
import { type Worker } from "node:worker_threads";
import { parse as parseCsvLine } from "csv-parse/sync";
import { fitBgNbd, fitModifiedBgNbd } from "~/analytics/clv/bgnbd";
import { type FitOptions, type FitResult } from "~/analytics/clv/estimation";
import { fitGammaGamma, type SpendRow } from "~/analytics/clv/gamma-gamma";
import { fitParetoNbd, type ParetoNbdParams } from "~/analytics/clv/pareto-nbd";
import { type PreparedRows, RowCompressor, rowProblem, TripleCounter } from "~/analytics/clv/rows";
import { startTypeScriptWorker } from "~/lib/ts-worker";
import { CliError, type CliIo, counted, USAGE_EXIT_CODE } from "./io";

export const FIT_USAGE = `Usage: tenure fit <summary.csv> [--strict]

Fits BG/NBD, modified BG/NBD, Pareto/NBD and, when spend values are given, Gamma-Gamma by
maximum likelihood, and prints one JSON object:
  {"n", "bgnbd": {r, alpha, a, b, logLikelihood}, "modifiedBgnbd": {...},
   "paretoNbd": {r, alpha, s, beta, logLikelihood}, "gammaGamma": {p, q, gamma, logLikelihood}}

The file is a CSV with a header naming the columns (others are ignored):
  frequency,recency,T[,monetary_value]     or     x,t_x,T[,zbar]
frequency = repeat purchases, recency = first to last purchase, T = first purchase to the
end of the data, all in one time unit; monetary_value = mean value of the repeat purchases.
Gamma-Gamma is fitted on the rows with frequency > 0 and a positive monetary value.

Options:
  --strict   stop at the first bad row (default: report bad rows with their line
             number on stderr, skip them and count them)
  --help     this text

Each count model is fitted from every start until the two best runs agree, on the distinct
rows in a canonical order, so neither the row order nor the time unit changes the maximum.
A count model whose maximum is the plain NBD (no drop-out: a -> 0, s -> 0) is marked
"boundary": "drop-out not identifiable: behaves like plain NBD", with "nestedLogLikelihood";
one whose likelihood stopped rising toward one drop-out for every customer (a, b -> inf with
a/(a+b) = p fixed; s, beta -> inf) is marked "boundary": "drop-out the same for every customer
(p = ...)", with the limit's "nestedLogLikelihood".

Exit codes: 0 all models converged; 3 printed, but a model did not converge (marked
"converged": false with a message); 4 printed, but not enough data (no repeat purchase at
all: every count model marked "code": "not-enough-data"); 1 unreadable input; 2 wrong usage.
`;

/** Exit code when the JSON was printed but at least one fit did not converge. */
export const NOT_CONVERGED_EXIT_CODE = 3;
/** Exit code when the JSON was printed but the data cannot support a count model (no repeat purchase). */
export const NOT_ENOUGH_DATA_EXIT_CODE = 4;

/** Bad rows printed in full; after that they are only counted. */
const MAX_REPORTED_ERRORS = 20;

interface Columns {
  frequency: number;
  recency: number;
  T: number;
  /** -1 when the file has no spend column. */
  monetary: number;
}

const COLUMN_NAMES: readonly { frequency: string; recency: string; T: string; monetary: string }[] = [
  { frequency: "frequency", recency: "recency", T: "T", monetary: "monetary_value" },
  { frequency: "x", recency: "t_x", T: "T", monetary: "zbar" },
];

function unquote(field: string): string {
  const trimmed = field.trim();
  return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1).replace(/""/g, '"').trim() : trimmed;
}

/** Column positions from the header line, or a CliError naming what is missing. */
export function columnsFromHeader(header: string): Columns {
  const names = (parseCsvLine(header, { relax_column_count: true }) as string[][])[0]?.map(unquote) ?? [];
  for (const naming of COLUMN_NAMES) {
    const frequency = names.indexOf(naming.frequency);
    const recency = names.indexOf(naming.recency);
    const T = names.indexOf(naming.T);
    if (frequency >= 0 && recency >= 0 && T >= 0) return { frequency, recency, T, monetary: names.indexOf(naming.monetary) };
  }
  throw new CliError(`the header must name the columns frequency,recency,T (or x,t_x,T); found: ${names.join(",") || "(empty line)"}`);
}

const BYTE = { newline: 10, cr: 13, comma: 44, quote: 34, space: 32, tab: 9, minus: 45, plus: 43, dot: 46, zero: 48, nine: 57 } as const;
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, i) => 10 ** i); // exact up to 1e22

/**
 * The number in bytes [start, end), as Number() would read it; NaN for an empty or
 * non-numeric field. Plain decimals with up to 15 significant digits are converted as
 * integer / 10^k, which is correctly rounded (both exact doubles, one rounding), so the
 * result is bit-identical to Number(); anything else goes through Number().
 */
export function parseNumber(buffer: Buffer, start: number, end: number): number {
  while (start < end && (buffer[start] === BYTE.space || buffer[start] === BYTE.tab)) start++;
  while (end > start && (buffer[end - 1] === BYTE.space || buffer[end - 1] === BYTE.tab)) end--;
  if (start === end) return Number.NaN;
  let i = start;
  let negative = false;
  if (buffer[i] === BYTE.minus || buffer[i] === BYTE.plus) {
    negative = buffer[i] === BYTE.minus;
    i++;
  }
  let mantissa = 0;
  let digits = 0;
  let decimals = 0;
  let seenDot = false;
  let seenDigit = false;
  for (; i < end; i++) {
    const c = buffer[i];
    if (c >= BYTE.zero && c <= BYTE.nine) {
      seenDigit = true;
      if (mantissa !== 0 || c !== BYTE.zero) digits++;
      mantissa = mantissa * 10 + (c - BYTE.zero);
      if (seenDot) decimals++;
    } else if (c === BYTE.dot && !seenDot) {
      seenDot = true;
    } else {
      return slowNumber(buffer, start, end);
    }
  }
  if (!seenDigit) return Number.NaN;
  if (digits > 15 || decimals > 22) return slowNumber(buffer, start, end);
  const value = decimals === 0 ? mantissa : mantissa / POWERS_OF_TEN[decimals];
  return negative ? -value : value;
}

function isBlank(buffer: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buffer[i] !== BYTE.space && buffer[i] !== BYTE.tab) return false;
  return true;
}

function slowNumber(buffer: Buffer, start: number, end: number): number {
  const text = buffer.toString("latin1", start, end).trim();
  // Number() accepts "", "0x1F", "Infinity": none of them is a summary value.
  if (text === "" || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return Number.NaN;
  return Number(text);
}

export interface FitInputReport {
  /** Rows used. */
  rows: number;
  /** Bad rows skipped (0 under --strict, which stops instead). */
  skipped: number;
  /** Rows with x > 0 left out of Gamma-Gamma for a spend value <= 0. */
  spendExcluded: number;
  hasSpend: boolean;
}

interface ParsedSummaries {
  compressor: RowCompressor;
  spend: TripleCounter;
  report: FitInputReport;
}

/**
 * Line handler for the summary CSV: the header fixes the column positions, then each line
 * is scanned in place. A class with plain fields rather than closures: this runs a million
 * times per file.
 */
class SummaryLineReader {
  columns: Columns | null = null;
  lineNumber = 0;
  private needed = 0;
  private x = Number.NaN;
  private tx = Number.NaN;
  private T = Number.NaN;
  private m = Number.NaN;

  constructor(
    readonly compressor: RowCompressor,
    readonly spend: TripleCounter,
    readonly report: FitInputReport,
    private readonly io: CliIo,
    private readonly strict: boolean,
  ) {}

  line(buffer: Buffer, start: number, end: number): void {
    this.lineNumber++;
    if (end > start && buffer[end - 1] === BYTE.cr) end--;
    const cols = this.columns;
    if (cols === null) return this.header(buffer.toString("utf8", start, end));
    if (end === start) return;
    this.x = this.tx = this.T = this.m = Number.NaN;
    let field = 0;
    let fieldStart = start;
    for (let i = start; i <= end; i++) {
      const c = i === end ? BYTE.comma : buffer[i];
      if (c === BYTE.quote) return this.quotedLine(buffer.toString("utf8", start, end));
      if (c === BYTE.comma) {
        if (field === cols.frequency) this.x = parseNumber(buffer, fieldStart, i);
        else if (field === cols.recency) this.tx = parseNumber(buffer, fieldStart, i);
        else if (field === cols.T) this.T = parseNumber(buffer, fieldStart, i);
        else if (field === cols.monetary) this.m = parseNumber(buffer, fieldStart, i);
        field++;
        fieldStart = i + 1;
      }
    }
    if (field < this.needed) {
      if (isBlank(buffer, start, end)) return;
      return this.bad(`${field} fields, expected at least ${this.needed}: no column ${field + 1}`);
    }
    this.accept();
  }

  private header(text: string): void {
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.trim() === "") return;
    const cols = columnsFromHeader(text);
    this.columns = cols;
    this.needed = Math.max(cols.frequency, cols.recency, cols.T, cols.monetary) + 1;
    this.report.hasSpend = cols.monetary >= 0;
  }

  private quotedLine(text: string): void {
    const cols = this.columns as Columns;
    let fields: string[];
    try {
      fields = (parseCsvLine(text, { relax_column_count: true }) as string[][])[0] ?? [];
    } catch (error) {
      return this.bad(`not a CSV line (${error instanceof Error ? error.message.split("\n")[0] : String(error)})`);
    }
    if (fields.length < this.needed) return this.bad(`${fields.length} fields, expected at least ${this.needed}: no column ${fields.length + 1}`);
    const read = (index: number) => {
      if (index < 0) return Number.NaN;
      const buffer = Buffer.from(fields[index].trim(), "latin1");
      return parseNumber(buffer, 0, buffer.length);
    };
    this.x = read(cols.frequency);
    this.tx = read(cols.recency);
    this.T = read(cols.T);
    this.m = read(cols.monetary);
    this.accept();
  }

  private accept(): void {
    const { x, tx, T, m } = this;
    if (Number.isNaN(x) || Number.isNaN(tx) || Number.isNaN(T)) {
      const cols = this.columns as Columns;
      const [column, name] = Number.isNaN(x) ? [cols.frequency, "frequency"] : Number.isNaN(tx) ? [cols.recency, "recency"] : [cols.T, "T"];
      return this.bad(`column ${column + 1} (${name}) is missing or not a number`);
    }
    const problem = rowProblem(x, tx, T);
    if (problem) return this.bad(problem);
    const hasSpend = (this.columns as Columns).monetary >= 0;
    if (hasSpend && (!Number.isFinite(m) || m < 0)) {
      const column = `column ${(this.columns as Columns).monetary + 1} (monetary value)`;
      return this.bad(Number.isNaN(m) ? `${column} is missing or not a number` : `${column} ${m} is negative`);
    }
    this.compressor.addChecked(x, tx, T);
    this.report.rows++;
    if (hasSpend && x > 0) {
      if (m > 0) this.spend.addTriple(x, m, 0, 1);
      else this.report.spendExcluded++;
    }
  }

  private bad(message: string): void {
    if (this.strict) throw new CliError(`line ${this.lineNumber}: ${message} (--strict: stopped)`);
    const report = this.report;
    report.skipped++;
    if (report.skipped <= MAX_REPORTED_ERRORS) this.io.stderr.write(`tenure fit: line ${this.lineNumber}: ${message}; skipped\n`);
    if (report.skipped === MAX_REPORTED_ERRORS + 1) this.io.stderr.write("tenure fit: further bad rows are counted, not printed\n");
  }
}

/** Streams a summary CSV into the row compressor (and the spend counter). */
export async function readSummaryCsv(path: string, io: CliIo, strict: boolean): Promise<ParsedSummaries> {
  const report: FitInputReport = { rows: 0, skipped: 0, spendExcluded: 0, hasSpend: false };
  const reader = new SummaryLineReader(new RowCompressor(), new TripleCounter(), report, io, strict);
  let carry: Buffer | null = null;
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const buffer: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
      carry = null;
      let start = 0;
      for (;;) {
        const newline = buffer.indexOf(BYTE.newline, start);
        if (newline === -1) break;
        reader.line(buffer, start, newline);
        start = newline + 1;
      }
      if (start < buffer.length) carry = Buffer.from(buffer.subarray(start));
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(code === "ENOENT" ? `no such file: ${path}` : `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (carry && carry.length > 0) reader.line(carry, 0, carry.length);
  if (reader.columns === null) throw new CliError(`${path} is empty: expected a header line`);
  return { compressor: reader.compressor, spend: reader.spend, report };
}

type ModelJson = Record<string, number | boolean | string>;

function modelJson<P extends object>(fit: FitResult<P>): ModelJson {
  if (fit.notEnoughData) return { converged: false, code: "not-enough-data", message: fit.message };
  const json: ModelJson = { ...(fit.params as Record<string, number>), logLikelihood: fit.logLikelihood };
  if (!fit.converged) {
    json.converged = false;
    json.message = fit.message;
  }
  if (fit.boundary) {
    json.boundary = fit.boundary.verdict;
    json.nestedLogLikelihood = fit.boundary.nestedLogLikelihood;
  }
  return json;
}

export interface FitOutput {
  n: number;
  bgnbd: ModelJson;
  modifiedBgnbd: ModelJson;
  paretoNbd: ModelJson;
  gammaGamma?: ModelJson | null;
}

export type FitThreadMessage = { kind: "done"; fit: FitResult<ParetoNbdParams> } | { kind: "error"; message: string };

/**
 * Summary files at least this large fit Pareto/NBD on a second thread (started before the file
 * is read, so its start-up overlaps the read): on 1,000,000 customers it is a third of the fits'
 * time. Smaller files would spend more on starting the thread than it saves.
 */
export const FIT_THREAD_MIN_BYTES = 4 << 20;

interface FitThread {
  /** Pareto/NBD on rows, on the thread, or on this thread when the thread failed. */
  fitParetoNbd(rows: PreparedRows, options: FitOptions): Promise<FitResult<ParetoNbdParams>>;
  /** Ends the thread; resolves once it has exited (its heap given back). */
  close(): Promise<void>;
}

/** Exported for tests. */
export function startFitThread(onFallback: (why: string) => void = () => {}): FitThread | null {
  let worker: Worker;
  try {
    worker = startTypeScriptWorker(new URL("./fit-thread.ts", import.meta.url));
  } catch {
    return null;
  }
  let failed = false;
  let pending: ((message: FitThreadMessage | null) => void) | null = null;
  const settle = (message: FitThreadMessage | null) => {
    const callback = pending;
    pending = null;
    callback?.(message);
  };
  worker.on("message", (message: FitThreadMessage) => settle(message));
  worker.on("error", () => {
    failed = true;
    settle(null);
  });
  worker.on("exit", () => {
    failed = true;
    settle(null);
  });
  return {
    fitParetoNbd: (rows, options) => {
      if (failed) return Promise.resolve(fitParetoNbd(rows, options));
      const answer = new Promise<FitThreadMessage | null>((resolve) => (pending = resolve));
      worker.postMessage({ x: rows.x, tx: rows.tx, T: rows.T, weight: rows.weight, options });
      // A thread that could not start or run gives way to this thread: same code, same fit.
      return answer.then((message) => {
        if (message?.kind === "done") return message.fit;
        onFallback(message ? message.message : "the thread stopped");
        return fitParetoNbd(rows, options);
      });
    },
    close: () => worker.terminate().then(() => undefined),
  };
}

/** `tenure fit`; resolves with the exit code. */
export async function runFit(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { strict: { type: "boolean" }, help: { type: "boolean", short: "h" } } });
  } catch (error) {
    io.stderr.write(`tenure fit: ${error instanceof Error ? error.message : String(error)}\n\n${FIT_USAGE}`);
    return USAGE_EXIT_CODE;
  }
  if (parsed.values.help) {
    io.stdout.write(FIT_USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    io.stderr.write(`tenure fit: expected one summary file, got ${parsed.positionals.length}\n\n${FIT_USAGE}`);
    return USAGE_EXIT_CODE;
  }
  const path = parsed.positionals[0];
  const size = await stat(path).then((file) => file.size, () => 0);
  const thread = size >= FIT_THREAD_MIN_BYTES ? startFitThread() : null;
  try {
    const { compressor, spend, report } = await readSummaryCsv(path, io, parsed.values.strict ?? false);
    if (report.skipped > 0) io.stderr.write(`tenure fit: skipped ${counted(report.skipped, "bad row")}\n`);
    if (report.rows === 0) throw new CliError(`${path} has no usable rows`);
    const rows = compressor.prepared();
    io.stderr.write(`tenure fit: ${counted(report.rows, "customer")}, ${counted(rows.count, "distinct (x, t_x, T) row")}\n`);
    const options = { standardErrors: false };
    const paretoOnThread = thread?.fitParetoNbd(rows, options);
    const bgnbd = modelJson(fitBgNbd(rows, options));
    const modifiedBgnbd = modelJson(fitModifiedBgNbd(rows, options));
    let gammaGamma: ModelJson | null | undefined;
    if (report.hasSpend) {
      if (report.spendExcluded > 0) {
        io.stderr.write(`tenure fit: ${counted(report.spendExcluded, "row")} with frequency > 0 and no positive monetary value left out of Gamma-Gamma\n`);
      }
      const spendRows: SpendRow[] = [];
      spend.forEach((x, m, _zero, weight) => spendRows.push({ x, m, weight }));
      if (spendRows.length === 0) {
        io.stderr.write("tenure fit: no row with frequency > 0 and a positive monetary value: no Gamma-Gamma fit\n");
        gammaGamma = null;
      } else {
        gammaGamma = modelJson(fitGammaGamma(spendRows, options));
      }
    }
    const paretoNbd = modelJson(paretoOnThread ? await paretoOnThread : fitParetoNbd(rows, options));
    const output: FitOutput = { n: report.rows, bgnbd, modifiedBgnbd, paretoNbd };
    if (gammaGamma !== undefined) output.gammaGamma = gammaGamma;
    const failed = (["bgnbd", "modifiedBgnbd", "paretoNbd", "gammaGamma"] as const).filter((key) => output[key] && output[key]!.converged === false);
    const thin = failed.filter((key) => output[key]!.code === "not-enough-data");
    if (thin.length > 0) io.stderr.write(`tenure fit: not enough data for ${thin.join(", ")}: ${output[thin[0]]!.message}\n`);
    for (const key of failed) if (!thin.includes(key)) io.stderr.write(`tenure fit: ${key} did not converge: ${output[key]!.message}\n`);
    io.stdout.write(`${JSON.stringify(output)}\n`);
    if (thin.length > 0) return NOT_ENOUGH_DATA_EXIT_CODE;
    return failed.length > 0 ? NOT_CONVERGED_EXIT_CODE : 0;
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr.write(`tenure fit: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  } finally {
    void thread?.close();
  }
}
