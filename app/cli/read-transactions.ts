// Streams a transactions file into a sink: format recognised from the first line, rows
// parsed by the pure functions in app/analytics/transactions.ts, bad rows reported as
// RowError values with their line numbers (never thrown), memory bounded by one chunk.
import { isAscii } from "node:buffer";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import { type Worker } from "node:worker_threads";
import { type Options as CsvOptions, parse as parseCsv } from "csv-parse";
import {
  type FormatDetection,
  type ParsedTransaction,
  type RowError,
  type ShopifySkipReason,
  type SimpleLayout,
  type TransactionFormat,
  type TransactionSink,
  ShopifyOrderReader,
  detectFormat,
  parseSimpleLine,
} from "~/analytics/transactions";
import { type ValueConventions } from "~/analytics/simple-csv";
import { TableRowBatch, TransactionTable } from "~/analytics/summary";
import { startTypeScriptWorker } from "~/lib/ts-worker";

export interface ReadOptions {
  /** How a simple CSV writes its values: decimal comma, time zone of timestamps (default: ".", UTC). */
  conventions?: ValueConventions;
  /** Called every `progressEvery` lines with the number of lines read so far. */
  onProgress?: (lines: number) => void;
  progressEvery?: number;
  /** Bytes per read; larger chunks mean fewer string joins. */
  chunkBytes?: number;
}

export interface ReadReport {
  format: TransactionFormat;
  /** Physical lines read, header included. */
  lines: number;
  transactions: number;
  errors: number;
  /** Shopify export rows that are not orders or do not count (see ShopifyOrderReader). */
  skipped: Partial<Record<ShopifySkipReason, number>>;
}

const DEFAULT_CHUNK_BYTES = 1 << 20;
const DEFAULT_PROGRESS_EVERY = 1_000_000;

/** Reads the first line (up to 64 KiB) to recognise the format. */
export async function detectFileFormat(path: string, conventions?: ValueConventions): Promise<FormatDetection> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const head = buffer.subarray(0, bytesRead).toString("utf8");
    const newline = head.indexOf("\n");
    return detectFormat(newline >= 0 ? head.slice(0, newline) : head, conventions);
  } finally {
    await handle.close();
  }
}

/** Streams every row of `path` into `sink`; resolves with counts once the file is read. */
export async function readTransactionFile(path: string, sink: TransactionSink, opts: ReadOptions = {}): Promise<ReadReport> {
  const steps = scanTransactionFile(path, sink, opts);
  while (true) {
    const step = await steps.next();
    if (step.done) return step.value;
  }
}

/**
 * The same rows as an async iterable of objects, a chunk at a time (convenient; the
 * sink form allocates nothing per row and is what `tenure analyze` uses).
 */
export async function* transactionRecords(path: string, opts: ReadOptions = {}): AsyncGenerator<ParsedTransaction | RowError, ReadReport> {
  let batch: (ParsedTransaction | RowError)[] = [];
  const steps = scanTransactionFile(
    path,
    {
      transaction: (text, idStart, idEnd, day, amount, line) => {
        batch.push({ customerId: text.slice(idStart, idEnd), day, amount, line });
      },
      error: (error) => {
        batch.push(error);
      },
    },
    opts,
  );
  while (true) {
    const step = await steps.next();
    const ready = batch;
    batch = [];
    yield* ready;
    if (step.done) return step.value;
  }
}

/** Reads `path` into `sink`, pausing (yielding) after each chunk; returns the counts. */
export async function* scanTransactionFile(path: string, sink: TransactionSink, opts: ReadOptions = {}): AsyncGenerator<void, ReadReport> {
  const detection = await detectFileFormat(path, opts.conventions);
  const counting = countingSink(sink);
  const report =
    detection.format === "shopify"
      ? yield* scanShopifyExport(path, new ShopifyOrderReader(detection.columns), counting.sink, opts)
      : yield* scanSimpleFile(path, detection.layout, detection.firstLineIsHeader, counting.sink, opts);
  return { format: detection.format, ...report, transactions: counting.transactions(), errors: counting.errors() };
}

function countingSink(inner: TransactionSink) {
  let transactions = 0;
  let errors = 0;
  return {
    sink: {
      transaction(text: string, idStart: number, idEnd: number, day: number, amount: number, line: number) {
        transactions++;
        inner.transaction(text, idStart, idEnd, day, amount, line);
      },
      error(error: RowError) {
        errors++;
        inner.error(error);
      },
      orderAttributes: inner.orderAttributes?.bind(inner),
    } satisfies TransactionSink,
    transactions: () => transactions,
    errors: () => errors,
  };
}

type PartialReport = Omit<ReadReport, "format" | "transactions" | "errors">;

/** Bytes [start, end) of a file; `end` may be Infinity (to the end). */
export interface ByteRange {
  start: number;
  end: number;
}

export interface TableReadOptions extends ReadOptions {
  /**
   * Threads reading a CSV or CDNOW file, each a contiguous run of whole lines whose rows
   * are appended in file order (default 1). Shopify exports are read on one thread.
   */
  threads?: number;
  /** A part smaller than this is not worth a thread (default 8 MiB, about 300,000 rows). */
  minBytesPerThread?: number;
  /** Bad rows of the parts read by other threads passed to `onError`; the rest are only counted (default: all). */
  reportedErrors?: number;
}

/** What one part of a file read on its own yields: its rows as columns, ids by first sight. */
export interface PartRead {
  ids: string[];
  customers: Int32Array;
  days: Int32Array;
  amounts: Float64Array;
  /** Lines of the part; its errors' line numbers count from the part's first line. */
  lines: number;
  errorCount: number;
  errors: RowError[];
}

const DEFAULT_MIN_BYTES_PER_THREAD = 8 << 20;

/**
 * Reads `path` into `table`, on several threads when asked and the file is large: the
 * file is cut at line breaks, the first part read here while worker threads
 * (read-thread.ts) read the others into tables of their own, which are then appended in
 * file order with their line numbers shifted (the result is the one-thread table, id
 * order included). A worker that fails has its part read here instead.
 */
export async function readTransactionsIntoTable(
  path: string,
  table: TransactionTable,
  sink: Omit<TransactionSink, "transaction">,
  opts: TableReadOptions = {},
): Promise<ReadReport & { partsReadOnThreads: number }> {
  const intoTable: TransactionSink = {
    transaction: (text, idStart, idEnd, day, amount) => table.addRange(text, idStart, idEnd, day, amount),
    error: (error) => sink.error(error),
    orderAttributes: sink.orderAttributes?.bind(sink),
  };
  const threads = opts.threads ?? 1;
  const detection = threads > 1 ? await detectFileFormat(path, opts.conventions) : null;
  const parts = detection && detection.format !== "shopify" ? await lineAlignedParts(path, threads, opts.minBytesPerThread ?? DEFAULT_MIN_BYTES_PER_THREAD) : [];
  if (!detection || detection.format === "shopify" || parts.length < 2) return { ...(await readTransactionFile(path, intoTable, opts)), partsReadOnThreads: 0 };

  const reportedErrors = opts.reportedErrors ?? Number.POSITIVE_INFINITY;
  const others = parts.slice(1).map((range) => readPartOnThread(path, range, opts, reportedErrors));
  // Rows go into the table in batches (TableRowBatch: its id lookups overlap); no Shopify attributes here.
  const batch = new TableRowBatch(table);
  const counting = countingSink({ ...intoTable, transaction: (text, idStart, idEnd, day, amount) => batch.add(text, idStart, idEnd, day, amount) });
  const first = await drain(scanSimpleFile(path, detection.layout, detection.firstLineIsHeader, counting.sink, opts, parts[0]));
  batch.flush();
  let lines = first.lines;
  let errors = counting.errors();
  let partsReadOnThreads = 0;
  for (let k = 0; k < others.length; k++) {
    const onThread = await others[k];
    if (onThread) partsReadOnThreads++;
    const part = onThread ?? (await readPart(path, parts[k + 1], opts, reportedErrors));
    table.appendColumns(part.ids, part.customers, part.days, part.amounts);
    for (const error of part.errors) sink.error({ ...error, line: error.line + lines });
    lines += part.lines;
    errors += part.errorCount;
  }
  return { format: detection.format, lines, transactions: table.length, errors, skipped: {}, partsReadOnThreads };
}

/** Reads one line-aligned part of a CSV or CDNOW file into columns (here or in a worker). */
export async function readPart(path: string, range: ByteRange, opts: ReadOptions, reportedErrors: number): Promise<PartRead> {
  const detection = await detectFileFormat(path, opts.conventions);
  if (detection.format === "shopify") throw new Error("a Shopify export is read on one thread");
  const table = new TransactionTable(Math.min((range.end - range.start) / 24, 50_000_000));
  const batch = new TableRowBatch(table);
  const errors: RowError[] = [];
  const counting = countingSink({
    transaction: (text, idStart, idEnd, day, amount) => batch.add(text, idStart, idEnd, day, amount),
    error: (error) => {
      if (errors.length < reportedErrors) errors.push(error);
    },
  });
  const { onProgress: _ignored, ...rest } = opts;
  const report = await drain(scanSimpleFile(path, detection.layout, detection.firstLineIsHeader, counting.sink, rest, range));
  batch.flush();
  return {
    ids: table.customerIds as string[],
    customers: table.customers,
    days: table.days,
    amounts: table.amounts,
    lines: report.lines,
    errorCount: counting.errors(),
    errors,
  };
}

/** A part read by a worker thread; null when the thread could not do it. */
function readPartOnThread(path: string, range: ByteRange, opts: ReadOptions, reportedErrors: number): Promise<PartRead | null> {
  const task: ReadTask = { path, range, conventions: opts.conventions, chunkBytes: opts.chunkBytes, reportedErrors };
  return new Promise((resolve) => {
    let worker: Worker;
    try {
      worker = startTypeScriptWorker(new URL("./read-thread.ts", import.meta.url), { workerData: task });
    } catch {
      resolve(null);
      return;
    }
    let settled = false;
    const settle = (part: PartRead | null) => {
      if (settled) return;
      settled = true;
      resolve(part);
      void worker.terminate();
    };
    worker.on("message", (message: ReadThreadMessage) => settle(message.kind === "done" ? message.part : null));
    worker.on("error", () => settle(null));
    worker.on("exit", () => settle(null));
  });
}

export interface ReadTask {
  path: string;
  range: ByteRange;
  conventions?: ValueConventions;
  chunkBytes?: number;
  reportedErrors: number;
}

export type ReadThreadMessage = { kind: "done"; part: PartRead } | { kind: "error"; message: string };

/**
 * Up to `count` byte ranges covering the file, each starting after a "\n" (a byte that
 * is never inside a UTF-8 character), none smaller than `minBytes` but the last.
 */
export async function lineAlignedParts(path: string, count: number, minBytes: number): Promise<ByteRange[]> {
  const handle = await open(path, "r");
  try {
    const size = (await handle.stat()).size;
    const parts = Math.max(1, Math.min(count, Math.floor(size / Math.max(1, minBytes))));
    const buffer = Buffer.alloc(64 * 1024);
    const starts = [0];
    for (let k = 1; k < parts; k++) {
      let at = Math.max(Math.floor((size * k) / parts), starts[starts.length - 1]);
      let next = -1;
      while (next < 0 && at < size) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, at);
        if (bytesRead === 0) break;
        const newline = buffer.subarray(0, bytesRead).indexOf(10);
        if (newline >= 0) next = at + newline + 1;
        else at += bytesRead;
      }
      if (next > starts[starts.length - 1] && next < size) starts.push(next);
    }
    return starts.map((start, k) => ({ start, end: k + 1 < starts.length ? starts[k + 1] : size }));
  } finally {
    await handle.close();
  }
}

async function drain<T>(steps: AsyncGenerator<void, T>): Promise<T> {
  while (true) {
    const step = await steps.next();
    if (step.done) return step.value;
  }
}

/** Line-at-a-time scan of decoded chunks; a line split across chunks is carried over. */
async function* scanSimpleFile(
  path: string,
  layout: SimpleLayout,
  skipHeader: boolean,
  sink: TransactionSink,
  opts: ReadOptions,
  bytes: ByteRange = { start: 0, end: Number.POSITIVE_INFINITY },
): AsyncGenerator<void, PartialReport> {
  // A range that does not start the file starts at a line boundary: its line 1 is neither
  // the header nor preceded by a BOM, and its line numbers count from the range's start.
  const fileStart = bytes.start === 0;
  const progressEvery = opts.progressEvery ?? DEFAULT_PROGRESS_EVERY;
  let nextProgress = progressEvery;
  const decoder = new StringDecoder("utf8");
  let carry = "";
  let line = 0;
  const parseLine = (text: string, start: number, end: number) => {
    line++;
    if (line === 1 && fileStart) {
      if (!skipHeader) parseSimpleLine(layout, text, start + bomLength(text, start), end, line, sink);
    } else {
      parseSimpleLine(layout, text, start, end, line, sink);
    }
    if (line >= nextProgress) {
      opts.onProgress?.(line);
      nextProgress += progressEvery;
    }
  };
  const consume = (text: string) => {
    let start = 0;
    let newline = text.indexOf("\n");
    while (newline >= 0) {
      parseLine(text, start, newline);
      start = newline + 1;
      newline = text.indexOf("\n", start);
    }
    carry = text.slice(start);
  };
  const stream = createReadStream(path, {
    highWaterMark: opts.chunkBytes ?? DEFAULT_CHUNK_BYTES,
    start: bytes.start,
    // createReadStream's end is inclusive.
    ...(Number.isFinite(bytes.end) ? { end: bytes.end - 1 } : {}),
  });
  // ASCII chunks (most files) are copied as Latin-1, the same text without UTF-8 decoding
  // (about a tenth of a reading thread's time); from the first other chunk on, every
  // chunk goes through the decoder, which then holds any character split between chunks.
  let ascii = true;
  for await (const chunk of stream) {
    const bytes = chunk as Buffer;
    if (ascii && !isAscii(bytes)) ascii = false;
    consume(carry + (ascii ? bytes.toString("latin1") : decoder.write(bytes)));
    yield;
  }
  consume(carry + decoder.end());
  if (carry.length > 0) parseLine(carry, 0, carry.length);
  return { lines: line, skipped: {} };
}

function bomLength(text: string, at: number): number {
  return text.charCodeAt(at) === 0xfeff ? 1 : 0;
}

/** Counts line breaks the way a text editor numbers lines: \r\n, \n and a lone \r. */
function lineBreaks(raw: string, from = 0, to = raw.length): number {
  let count = 0;
  for (let i = from; i < to; i++) {
    const code = raw.charCodeAt(i);
    if (code === 10) count++;
    else if (code === 13 && raw.charCodeAt(i + 1) !== 10) count++;
  }
  return count;
}

interface ShopifyRecord {
  record: string[];
  line: number;
  raw: string;
}

const RECORDS_PER_STEP = 10_000;

/**
 * The export is quoted CSV (addresses and notes may hold commas, quotes and newlines),
 * so it goes through csv-parse. Line numbers are counted in csv-parse's on_record and
 * on_skip callbacks, which run in file order: a record starts 1 + the line breaks
 * before it (csv-parse's own info.lines miscounts CRLF inside quoted fields).
 */
async function* scanShopifyExport(
  path: string,
  reader: ShopifyOrderReader,
  sink: TransactionSink,
  opts: ReadOptions,
): AsyncGenerator<void, PartialReport> {
  const progressEvery = opts.progressEvery ?? DEFAULT_PROGRESS_EVERY;
  let nextProgress = progressEvery;
  const skipped: Partial<Record<ShopifySkipReason, number>> = {};
  let linesBefore = 0;
  let endsWithBreak = true;
  let records = 0;
  // With raw: true csv-parse hands on_record { record, raw } rather than the bare fields.
  const options: CsvOptions<ShopifyRecord, { record: string[]; raw: string }> = {
    bom: true,
    raw: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_record: ({ record, raw }): ShopifyRecord | null => {
      // Blank lines skipped before this record lead its raw text.
      let leading = 0;
      while (leading < raw.length && (raw.charCodeAt(leading) === 10 || raw.charCodeAt(leading) === 13)) leading++;
      const line = linesBefore + 1 + lineBreaks(raw, 0, leading);
      linesBefore += lineBreaks(raw);
      endsWithBreak = /[\r\n]$/.test(raw);
      records++;
      if (records === 1) return null; // the header
      return { record, line, raw: raw.slice(leading).replace(/\r?\n?$/, "") };
    },
    on_skip: (error, raw) => {
      sink.error({ line: linesBefore + 1, message: `malformed CSV: ${error?.message ?? "unreadable record"}`, raw: raw ?? "" });
      linesBefore += lineBreaks(raw ?? "");
      return undefined;
    },
  };
  // csv-parse's non-column overload pins on_record to string[]; ours returns ShopifyRecord.
  const parser = parseCsv(options as unknown as CsvOptions);
  createReadStream(path, { highWaterMark: opts.chunkBytes ?? DEFAULT_CHUNK_BYTES }).pipe(parser);
  let sinceStep = 0;
  for await (const item of parser as AsyncIterable<ShopifyRecord>) {
    const result = reader.accept(item.record, item.line, item.raw);
    if ("skipped" in result) skipped[result.skipped] = (skipped[result.skipped] ?? 0) + 1;
    else if ("message" in result) sink.error(result);
    else {
      sink.transaction(result.customerId, 0, result.customerId.length, result.day, result.amount, result.line);
      sink.orderAttributes?.(result.attributes);
    }
    if (item.line >= nextProgress) {
      opts.onProgress?.(item.line);
      nextProgress += progressEvery;
    }
    if (++sinceStep === RECORDS_PER_STEP) {
      sinceStep = 0;
      yield;
    }
  }
  return { lines: linesBefore + (endsWithBreak ? 0 : 1), skipped };
}
