// `tenure analyze <transactions> --out <dir>`: summaries, RFM segments, the shop model's
// predictions per customer, retention metrics and (with --calibration-end) a backtest.
//
// Built for ten million rows: the file streams into a columnar TransactionTable, the
// count models are fitted on compressed (x, t_x, T) rows, customers with the same
// history are scored once, and customers.csv is written in batches.
import { mkdir, stat, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type BacktestOptions, type BacktestResult, BacktestDataError, backtest } from "~/analytics/clv/backtest";
import { type CountModelFitter, type ShopModelResult, fitShopModelAsync } from "~/analytics/clv/shop-model";
import { DateFormatError, dayIndex, dayToIso } from "~/analytics/dates";
import { type OrderDimension, groupedOrdersFromGroups, retentionSummaryFromTable } from "~/analytics/retention";
import { type RfmCutPoints, rfmCutPoints, rfmInputFromSummary } from "~/analytics/rfm";
import { type CustomerGroups, TransactionTable, groupByCustomer, summarizeTable } from "~/analytics/summary";
import { type OrderAttributes, type RowError, TransactionFormatError } from "~/analytics/transactions";
import { type TimeUnit, TIME_UNITS, isTimeUnit } from "~/analytics/units";
import { PARALLEL_MIN_CUSTOMERS, type ScoringInput, type ScoringWorker, rfmColumnsOf, startScoringWorkers, writeScoredCustomers } from "./customer-rows";
import { appendHoldoutColumns, emptyHoldoutColumns, holdoutCollector, holdoutColumnsInOrder } from "./holdout-columns";
import { CliError, type CliIo, USAGE_EXIT_CODE, count, counted } from "./io";
import { FIT_THREAD_MIN_BYTES, startFitThread } from "./fit";
import { type ReadReport, readTransactionsIntoTable } from "./read-transactions";

export interface AnalyzeOptions {
  input: string;
  outDir: string;
  /** YYYY-MM-DD; default: the last transaction's day. */
  asOf?: string;
  unit?: TimeUnit;
  /** YYYY-MM-DD; fit on data up to this day and test on the rest up to as-of. */
  calibrationEnd?: string;
  /** Fail on the first bad row instead of skipping bad rows. */
  strict?: boolean;
  /** CSV amounts are written 1.234,50 (default 1,234.50). */
  decimalComma?: boolean;
  /** CSV amounts are written 1,234.50 also in a semicolon or tab file (there "1,234" is otherwise refused as ambiguous). */
  decimalPoint?: boolean;
  /** IANA zone whose calendar day a CSV timestamp with an offset falls on (default UTC). */
  timeZone?: string;
  /** Share of revenue kept as margin (0..1], default 1. */
  grossMargin?: number;
  /** Default 0.10. */
  annualDiscountRate?: number;
  /** Customer acquisition cost (same money unit as the amounts): payback and LTV:CAC in summary.json. */
  cac?: number;
  /** Threads reading a large CSV or CDNOW file and scoring customers; default: every core (scoring: once there are 250,000 customers). */
  threads?: number;
  /** Smallest part of a CSV or CDNOW file worth a reading thread (default 8 MiB; tests lower it). */
  minBytesPerReadThread?: number;
  /** Bad rows printed in full before only counting them. */
  maxReportedErrors?: number;
  /** Lines between progress messages. */
  progressEvery?: number;
}

export interface AnalyzeResult {
  read: ReadReport;
  asOfDay: number;
  customers: number;
  model: ShopModelResult;
  files: { customers: string; summary: string; model: string };
}

export const ANALYZE_USAGE = `Usage: tenure analyze <transactions> --out <dir> [options]

Reads a transactions file and writes, into <dir>:
  customers.csv   one row per customer: orders, x, t_x, T, spend, RFM scores and segment,
                  P(alive), expected purchases (90 and 365 days), predicted 365-day CLV,
                  expected next order date (prediction columns empty when there is no model);
                  with --calibration-end also predicted and actual holdout purchases and spend
  summary.json    retention metrics, cohorts, RFM cut points and segment sizes
  model.json      the chosen model, its parameters, log-likelihood and assumptions, or why
                  there is none; with --calibration-end also the backtest, its table of
                  actual vs predicted holdout purchases by calibration purchases and the
                  spend model's holdout error

The file format is recognised from its first line:
  customer_id,date,amount        CSV with a header naming the customer, date and amount columns
                                 (aliases such as Customer ID, email, order date, created_at,
                                 total, revenue, or price and quantity), comma, semicolon or tab
                                 separated; dates YYYY-MM-DD, YYYYMMDD or timestamps such as
                                 2024-01-15 10:30:00 or 2024-01-15T10:30:00+02:00; amounts such as
                                 12.50, -3, "1,234.50" or £12.50 (negative amounts are refunds)
  CDNOW whitespace columns       id [sample-id] YYYYMMDD cds dollars
  Shopify orders export          Admin > Orders > Export (one row per line item)

Options:
  --out <dir>                 output directory (created if missing)          required
  --as-of <YYYY-MM-DD>        last day counted                               default: last transaction
  --unit <day|week|month>     time unit of the models                        default: week
  --calibration-end <date>    backtest: fit up to this day, compare with the rest up to --as-of
  --margin <0..1>             gross margin applied to predicted CLV          default: 1
  --discount-rate <rate>      annual discount rate for CLV                   default: 0.10
  --cac <amount>              acquisition cost per customer: adds payback and LTV:CAC to summary.json
  --decimal-comma             CSV amounts are written 1.234,50 (comma decimal separator)
  --decimal-point             CSV amounts are written 1,234.50, also in a semicolon or tab file
  --timezone <zone>           IANA zone (Europe/Paris) whose day a timestamp with an offset
                              falls on                                        default: UTC
  --strict                    fail on any bad row (default: report, skip and count them)
  --threads <n>               threads reading (files of 16 MB and more) and scoring (250,000
                              customers and more)                             default: all cores
  -h, --help                  this help
`;

const DEFAULT_MAX_REPORTED_ERRORS = 10;

/** Parses argv (after "analyze") and runs; returns the exit code. */
export async function runAnalyze(argv: string[], io: CliIo): Promise<number> {
  let options: AnalyzeOptions;
  try {
    const parsed = parseAnalyzeArgs(argv);
    if (parsed === "help") {
      io.stdout.write(ANALYZE_USAGE);
      return 0;
    }
    options = parsed;
  } catch (error) {
    io.stderr.write(`tenure analyze: ${(error as Error).message}\n\n${ANALYZE_USAGE}`);
    return USAGE_EXIT_CODE;
  }
  try {
    const result = await analyze(options, io);
    io.stderr.write(
      `tenure analyze: ${counted(result.customers, "customer")} -> ${result.files.customers}, ${result.files.summary}, ${result.files.model}\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr.write(`tenure analyze: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}

export function parseAnalyzeArgs(argv: string[]): AnalyzeOptions | "help" {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      out: { type: "string" },
      "as-of": { type: "string" },
      unit: { type: "string" },
      "calibration-end": { type: "string" },
      margin: { type: "string" },
      "discount-rate": { type: "string" },
      cac: { type: "string" },
      threads: { type: "string" },
      strict: { type: "boolean" },
      "decimal-comma": { type: "boolean" },
      "decimal-point": { type: "boolean" },
      timezone: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  if (positionals.length !== 1) throw new Error(positionals.length === 0 ? "missing the transactions file" : `one transactions file expected, got ${positionals.length}`);
  if (!values.out) throw new Error("missing --out <dir>");
  const unit = values.unit ?? "week";
  if (!isTimeUnit(unit)) throw new Error(`--unit must be one of ${TIME_UNITS.join(", ")} (got "${unit}")`);
  const number = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (text.trim() === "" || !Number.isFinite(value)) throw new Error(`--${name} must be a number (got "${text}")`);
    return value;
  };
  const grossMargin = number("margin", values.margin);
  if (grossMargin !== undefined && !(grossMargin > 0 && grossMargin <= 1)) throw new Error(`--margin must be in (0, 1] (got ${grossMargin})`);
  const annualDiscountRate = number("discount-rate", values["discount-rate"]);
  if (annualDiscountRate !== undefined && !(annualDiscountRate >= 0 && annualDiscountRate < 10)) {
    throw new Error(`--discount-rate must be an annual rate such as 0.10 (got ${annualDiscountRate})`);
  }
  const threads = number("threads", values.threads);
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= 64)) throw new Error(`--threads must be a whole number from 1 to 64 (got ${threads})`);
  const cac = number("cac", values.cac);
  if (cac !== undefined && !(cac >= 0)) throw new Error(`--cac must be 0 or more (got ${cac})`);
  if (values["decimal-comma"] && values["decimal-point"]) throw new Error("--decimal-comma and --decimal-point contradict each other: pass one");
  const timeZone = values.timezone;
  if (timeZone !== undefined && !isTimeZone(timeZone)) throw new Error(`--timezone must be an IANA time zone such as UTC or Europe/Paris (got "${timeZone}")`);
  return {
    input: positionals[0],
    outDir: values.out,
    asOf: values["as-of"],
    unit,
    calibrationEnd: values["calibration-end"],
    strict: values.strict ?? false,
    decimalComma: values["decimal-comma"] ?? false,
    decimalPoint: values["decimal-point"] ?? false,
    timeZone,
    grossMargin,
    annualDiscountRate,
    cac,
    threads,
  };
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function dayOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return dayIndex(text);
  } catch (error) {
    if (error instanceof DateFormatError) throw new CliError(`--${name}: ${error.message}`, USAGE_EXIT_CODE);
    throw error;
  }
}

/** Runs the analysis and writes the three files. Throws CliError on bad input. */
export async function analyze(options: AnalyzeOptions, io: CliIo): Promise<AnalyzeResult> {
  const started = performance.now();
  const unit = options.unit ?? "week";
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
  let large = false;
  const progress = (message: string) => {
    if (large) io.stderr.write(`tenure analyze: ${message} (${elapsed()})\n`);
  };
  const onProgress = (lines: number) => {
    large = true;
    io.stderr.write(`tenure analyze: read ${count(lines)} lines (${elapsed()})\n`);
  };
  const modelOptions = { unit, horizonDays: 365, annualDiscountRate: options.annualDiscountRate ?? 0.1, grossMargin: options.grossMargin ?? 1 };

  const scoringWorkers: ScoringWorkersSlot = { workers: [], cuts: null };
  try {
    return await analyzeWith(options, io, { unit, modelOptions, onProgress, progress }, scoringWorkers);
  } finally {
    // Stopped by the scoring when it ran; here when something failed before.
    void Promise.all(scoringWorkers.workers.map((worker) => worker.stop()));
  }
}

/** Scoring workers started early (once the file is read) and the RFM cut points one of them computes. */
interface ScoringWorkersSlot {
  workers: ScoringWorker[];
  cuts: Promise<RfmCutPoints | null> | null;
}

async function analyzeWith(options: AnalyzeOptions, io: CliIo, stage: Stage, scoringWorkers: ScoringWorkersSlot): Promise<AnalyzeResult> {
  const { unit, modelOptions, progress } = stage;
  // 1-4. Everything that needs the transactions themselves; the table is freed after it.
  const prepared = await fromTransactions(options, io, stage, scoringWorkers);
  const { model, asOfDay, read } = prepared;
  const customers = prepared.summaries.length;

  // 5. RFM and per-customer predictions. The scoring input takes the only references to
  // the summaries, so that scoring workers, once sent their columns, can free them.
  // The cut points come from a scoring worker when there is one (computed while the model
  // was fitted, ADR 0004); RFM inputs are made here only for scoring on this thread alone:
  // beside the table, a million of them raised the 10M run's peak RSS by some 50 MiB.
  const threads = scoringWorkers.workers.length > 0 ? scoringWorkers.workers.length + 1 : scoringThreads(options, customers);
  const rfmInputs = threads > 1 ? [] : prepared.summaries.map((s) => rfmInputFromSummary(s, asOfDay));
  const cuts = (await scoringWorkers.cuts) ?? rfmCutPoints(threads > 1 ? prepared.summaries.map((s) => rfmInputFromSummary(s, asOfDay)) : rfmInputs);
  const scoring: ScoringInput = { summaries: prepared.summaries, rfmInputs, cuts, model: model.ok ? model.model : null, asOfDay };
  prepared.summaries = [];
  await mkdir(options.outDir, { recursive: true });
  const files = {
    customers: join(options.outDir, "customers.csv"),
    summary: join(options.outDir, "summary.json"),
    model: join(options.outDir, "model.json"),
  };
  const started = scoringWorkers.workers;
  scoringWorkers.workers = [];
  const segmentCounts = await writeScoredCustomers(files.customers, scoring, threads, started);
  progress(`scored and wrote ${counted(customers, "customer")}`);
  if (prepared.holdoutColumns) await appendHoldoutColumns(files.customers, prepared.holdoutColumns);

  // 6. summary.json and model.json.
  const summaryJson = {
    generatedBy: "tenure analyze",
    input: { file: resolve(options.input), format: read.format, lines: read.lines, transactions: read.transactions, badRows: read.errors, skipped: read.skipped },
    asOf: dayToIso(asOfDay),
    firstTransaction: dayToIso(prepared.firstDay),
    lastTransaction: dayToIso(prepared.lastDay),
    unit,
    customers,
    rfm: { cutPoints: cuts, segments: Object.fromEntries([...segmentCounts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) },
    retention: prepared.retention,
  };
  await writeFile(files.summary, JSON.stringify(summaryJson, null, 2) + "\n");
  await writeFile(files.model, JSON.stringify(modelJson(model, modelOptions, unit, asOfDay, prepared.backtest), null, 2) + "\n");
  progress("done");
  return { read, asOfDay, customers, model, files };
}

/** Threads scoring `customers` customers: --threads, else every core once there are enough customers to pay for a worker. */
function scoringThreads(options: AnalyzeOptions, customers: number): number {
  return options.threads ?? (customers >= PARALLEL_MIN_CUSTOMERS ? Math.min(availableParallelism(), 8) : 1);
}

interface Stage {
  unit: TimeUnit;
  modelOptions: { unit: TimeUnit; horizonDays: number; annualDiscountRate: number; grossMargin: number };
  onProgress: (lines: number) => void;
  progress: (message: string) => void;
}

/**
 * Reads the file into a columnar table and derives from it all that needs the rows:
 * summaries, the model (and its holdout), the backtest and the retention report. The
 * table is local, so its memory is free again before customers are scored.
 */
async function fromTransactions(options: AnalyzeOptions, io: CliIo, stage: Stage, scoringWorkers: ScoringWorkersSlot) {
  const days = { asOfOption: dayOption("as-of", options.asOf), calibrationEndDay: dayOption("calibration-end", options.calibrationEnd) };

  // 1. Read.
  const size = await stat(options.input).then(
    (s) => s.size,
    (error: NodeJS.ErrnoException) => {
      throw new CliError(error.code === "ENOENT" ? `${options.input}: no such file` : `${options.input}: ${error.message}`);
    },
  );
  // Pareto/NBD is fitted on a second thread, started once the file is read (beside the read
  // threads its heap raised the 10M run's peak RSS over 1 GB), so that its start-up overlaps
  // the summaries; meanwhile this thread fits the other candidates and Gamma-Gamma (ADR 0020).
  const fitThread: FitThreadSlot = { thread: null, start: () => (fitThread.thread = size >= FIT_THREAD_MIN_BYTES ? startFitThread() : null) };
  try {
    // The model is fitted once fromTable has returned, so that the table, its grouping and
    // the retention report's arrays are garbage by then: fitted beside them (the fits'
    // rows, the thread's heap), the 10M run's peak RSS was 990-1,025 MiB, against 881 MiB.
    const { holdout, ...fromRows } = await fromTable(options, io, stage, { size, ...days }, fitThread, scoringWorkers);
    const model = await fitShopModelAsync(fromRows.summaries, { ...stage.modelOptions, holdout }, paretoNbdOn(fitThread));
    stage.progress(model.ok ? `fitted ${model.model.chosen}` : `no model: ${model.reason}`);
    await fitThread.thread?.close();
    fitThread.thread = null;
    return { ...fromRows, model };
  } finally {
    void fitThread.thread?.close();
  }
}

interface FitThreadSlot {
  thread: ReturnType<typeof startFitThread>;
  start: () => void;
}

async function fromTable(
  options: AnalyzeOptions,
  io: CliIo,
  stage: Stage,
  { size, asOfOption, calibrationEndDay }: { size: number; asOfOption: number | undefined; calibrationEndDay: number | undefined },
  fitThread: FitThreadSlot,
  scoringWorkers: ScoringWorkersSlot,
) {
  const { unit, modelOptions, progress } = stage;
  const maxReported = options.maxReportedErrors ?? DEFAULT_MAX_REPORTED_ERRORS;
  const table = new TransactionTable(Math.min(size / 24, 50_000_000));
  const reported: RowError[] = [];
  const attributes: OrderAttributes[] = []; // by table row; Shopify exports only
  let read: ReadReport;
  try {
    read = await readTransactionsIntoTable(
      options.input,
      table,
      {
        error: (error) => {
          if (reported.length < maxReported) reported.push(error);
        },
        orderAttributes: (orderAttributes) => {
          attributes[table.length - 1] = orderAttributes;
        },
      },
      {
        progressEvery: options.progressEvery ?? 1_000_000,
        onProgress: stage.onProgress,
        conventions: { decimalComma: options.decimalComma ?? false, decimalPoint: options.decimalPoint ?? false, timeZone: options.timeZone ?? "UTC" },
        // A large CSV or CDNOW file is read in parts on every core (ADR 0004).
        threads: options.threads ?? Math.min(availableParallelism(), 8),
        minBytesPerThread: options.minBytesPerReadThread,
        reportedErrors: maxReported,
      },
    );
  } catch (error) {
    if (error instanceof TransactionFormatError) throw new CliError(`${options.input}: ${error.message}`);
    throw error;
  }
  reportBadRows(io, options.input, read, reported, options.strict ?? false);
  if (options.strict && read.errors > 0) {
    throw new CliError(`${counted(read.errors, "bad row")} in ${options.input}; --strict stops here (nothing written)`);
  }
  if (table.length === 0) throw new CliError(`${options.input}: no transactions to analyze`);
  fitThread.start();
  progress(`read ${counted(read.transactions, "transaction")} of ${counted(table.customerCount, "customer")}`);

  // 2. Summaries.
  const { firstDay, lastDay } = dayRange(table);
  const asOfDay = asOfOption ?? lastDay;
  if (calibrationEndDay !== undefined && calibrationEndDay >= asOfDay) {
    throw new CliError(`--calibration-end ${dayToIso(calibrationEndDay)} must be before the as-of day ${dayToIso(asOfDay)}`, USAGE_EXIT_CODE);
  }
  if (calibrationEndDay !== undefined && calibrationEndDay < firstDay) {
    throw new CliError(
      `--calibration-end ${dayToIso(calibrationEndDay)} is before the first transaction (${dayToIso(firstDay)}): there is nothing to fit the backtest on`,
      USAGE_EXIT_CODE,
    );
  }
  if (calibrationEndDay !== undefined && calibrationEndDay >= lastDay) {
    throw new CliError(
      `--calibration-end ${dayToIso(calibrationEndDay)} is on or after the last transaction (${dayToIso(lastDay)}): there is nothing to test the backtest on`,
      USAGE_EXIT_CODE,
    );
  }
  // Rows grouped by customer once, for the summaries, the holdout and the retention report,
  // and gathered in that order once (the summaries and the report then read them in order).
  const groups = groupByCustomer(table, asOfDay);
  const gathered = groupedOrdersFromGroups(table, groups);
  const summaries = summarizeTable(table, { asOfDay, unit }, gathered);
  if (summaries.length === 0) throw new CliError(`no purchases on or before ${dayToIso(asOfDay)}`);
  progress(`summarised ${counted(summaries.length, "customer")}`);
  // Scoring workers start now, so that they are ready when the model is, and the first computes
  // the RFM cut points (three sorts of every customer's values) while this thread makes the
  // retention report and fits (ADR 0004, which also records where the 10M run's peak RSS falls).
  const threads = scoringThreads(options, summaries.length);
  if (threads > 1) scoringWorkers.workers = startScoringWorkers(threads - 1);
  const rfmColumns = scoringWorkers.workers.length > 0 ? rfmColumnsOf(summaries, asOfDay) : null;
  if (rfmColumns) scoringWorkers.cuts = scoringWorkers.workers[0].cuts(rfmColumns);

  // 3. The model's holdout data (when asked; the model is fitted by the caller), the backtest.
  const holdout = calibrationEndDay === undefined ? undefined : holdoutData(table, groups, calibrationEndDay, asOfDay, unit);
  const holdoutCollection = calibrationEndDay === undefined ? null : holdoutCollector(table.customerCount);
  const backtest = calibrationEndDay === undefined ? null : runBacktest(table, calibrationEndDay, asOfDay, unit, holdoutCollection?.onCustomer);
  // A refused or non-converged backtest predicted nothing usable: its columns stay empty.
  const usable = backtest !== null && !("error" in backtest) && backtest.converged;
  const holdoutColumns = !holdoutCollection ? null : usable ? holdoutColumnsInOrder(holdoutCollection.columns, table, summaries) : emptyHoldoutColumns(summaries.length);
  if (backtest) progress("backtested");

  // 4. Retention.
  const retention = retentionSummaryFromTable(table, {
    asOfDay,
    grossMargin: modelOptions.grossMargin,
    cac: options.cac ?? null,
    dimensions: attributes.length > 0 ? attributeDimensions(attributes) : [],
    groups: gathered,
  });
  progress("retention report");
  return { read, summaries, holdout, backtest, holdoutColumns, retention, asOfDay, firstDay, lastDay };
}

/** Pareto/NBD fits for the fit thread, when there is one (the other count models stay here). */
function paretoNbdOn(fitThread: FitThreadSlot): CountModelFitter {
  return (name, rows, fitOptions) => (name === "paretonbd" && fitThread.thread ? fitThread.thread.fitParetoNbd(rows, fitOptions) : null);
}


function reportBadRows(io: CliIo, input: string, read: ReadReport, reported: readonly RowError[], strict: boolean): void {
  for (const error of reported) {
    io.stderr.write(`${input}:${error.line}: ${error.message}\n    ${truncate(error.raw, 200)}\n`);
  }
  if (read.errors > reported.length) io.stderr.write(`... and ${counted(read.errors - reported.length, "more bad row")}\n`);
  if (read.errors > 0 && !strict) {
    io.stderr.write(`tenure analyze: skipped ${counted(read.errors, "bad row")} of ${counted(read.lines, "line")} (--strict fails instead)\n`);
  }
  const notCounted = [
    [read.skipped["test-order"] ?? 0, "test order (Bogus gateway)", "test orders (Bogus gateway)"],
    [read.skipped["no-email"] ?? 0, "order without a customer email", "orders without a customer email"],
  ] as const;
  const parts = notCounted.filter(([n]) => n > 0).map(([n, one, many]) => counted(n, one, many));
  if (parts.length > 0) io.stderr.write(`tenure analyze: not counted: ${parts.join(", ")}\n`);
}

function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length)}…` : text;
}

/** First and last day of the table, in one indexed pass (for-of over 10M days took ~10x as long). */
function dayRange(table: TransactionTable): { firstDay: number; lastDay: number } {
  const days = table.days;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < days.length; i++) {
    const day = days[i];
    if (day < min) min = day;
    if (day > max) max = day;
  }
  return { firstDay: min, lastDay: max };
}

/**
 * Summaries at the calibration end and the repeat purchase days each of those customers
 * made after it, up to as-of (customers who first bought later are not in the test).
 */
function holdoutData(table: TransactionTable, groups: CustomerGroups, calibrationEndDay: number, asOfDay: number, unit: TimeUnit) {
  const summariesAtCalibration = summarizeTable(table, { asOfDay: calibrationEndDay, unit });
  const { order, start } = groups;
  const days = table.days;
  const amounts = table.amounts;
  const holdoutPurchases = new Map<string, number>();
  for (const s of summariesAtCalibration) {
    const c = table.index.get(s.customerId) as number;
    let purchases = 0;
    let previous = Number.NaN;
    for (let i = start[c]; i < start[c + 1]; i++) {
      const day = days[order[i]];
      // A purchase day has at least one row that is not a refund (as in summarize).
      if (day > calibrationEndDay && day !== previous && amounts[order[i]] >= 0) {
        purchases++;
        previous = day;
      }
    }
    if (purchases > 0) holdoutPurchases.set(s.customerId, purchases);
  }
  return { summariesAtCalibration, holdoutPurchases, holdoutDays: asOfDay - calibrationEndDay };
}

/** Acquisition splits for retention from the export's order attributes (by table row). */
function attributeDimensions(attributes: readonly OrderAttributes[]): OrderDimension[] {
  return [
    { key: "channel", label: "Channel of the first order", valueAt: (row) => attributes[row]?.channel },
    { key: "firstProduct", label: "Product of the first order", valueAt: (row) => attributes[row]?.firstProduct },
    { key: "discountCode", label: "Discount code of the first order", valueAt: (row) => attributes[row]?.discountCode },
  ];
}

type BacktestOutcome = BacktestResult | { error: string; code: string | null };

/** BG/NBD fitted up to the calibration end, tested on what customers did after it. */
function runBacktest(
  table: TransactionTable,
  calibrationEndDay: number,
  holdoutEndDay: number,
  unit: TimeUnit,
  onCustomer: BacktestOptions["onCustomer"],
): BacktestOutcome {
  try {
    return backtest(table, { calibrationEndDay, holdoutEndDay, unit, onCustomer });
  } catch (error) {
    if (error instanceof BacktestDataError) return { error: error.message, code: error.code };
    if (error instanceof RangeError) return { error: error.message, code: null };
    throw error;
  }
}

function backtestJson(result: BacktestOutcome) {
  if ("error" in result) return { ok: false, ...(result.code ? { code: result.code } : {}), reason: result.error };
  const { weekly, calibrationEndDay, holdoutEndDay, ...rest } = result;
  if (!result.converged) {
    // Reported, never used: a non-converged fit's predictions mean nothing.
    return {
      ok: false,
      code: "did-not-converge",
      reason: `the calibration fit did not converge (${result.convergenceMessage})`,
      modelName: result.modelName,
      params: result.params,
      logLikelihood: result.logLikelihood,
      calibrationEnd: dayToIso(calibrationEndDay),
      holdoutEnd: dayToIso(holdoutEndDay),
    };
  }
  return {
    ok: true,
    ...rest,
    calibrationEnd: dayToIso(calibrationEndDay),
    holdoutEnd: dayToIso(holdoutEndDay),
    weekly: weekly.map(({ startDay, endDay, ...row }) => ({ ...row, start: dayToIso(startDay), end: dayToIso(endDay) })),
  };
}

function modelJson(
  model: ShopModelResult,
  options: { horizonDays: number; annualDiscountRate: number; grossMargin: number },
  unit: TimeUnit,
  asOfDay: number,
  backtestResult: BacktestOutcome | null,
) {
  const backtest = backtestResult === null ? {} : { backtest: backtestJson(backtestResult) };
  if (!model.ok) {
    return {
      ok: false,
      code: model.code,
      reason: model.reason,
      note: "not enough data for predictions: the prediction columns of customers.csv are empty",
      asOf: dayToIso(asOfDay),
      assumptions: { unit, ...options },
      ...backtest,
    };
  }
  return { ok: true, asOf: dayToIso(asOfDay), ...model.model.toJSON(), ...backtest };
}
