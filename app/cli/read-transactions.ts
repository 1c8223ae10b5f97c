// Streams a transactions file into a sink: format recognised from the first line, rows
// parsed by the pure functions in app/analytics/transactions.ts, bad rows reported as
// RowError values with their line numbers (never thrown), memory bounded by one chunk.
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
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

/** Line-at-a-time scan of decoded chunks; a line split across chunks is carried over. */
async function* scanSimpleFile(
  path: string,
  layout: SimpleLayout,
  skipHeader: boolean,
  sink: TransactionSink,
  opts: ReadOptions,
): AsyncGenerator<void, PartialReport> {
  const progressEvery = opts.progressEvery ?? DEFAULT_PROGRESS_EVERY;
  let nextProgress = progressEvery;
  const decoder = new StringDecoder("utf8");
  let carry = "";
  let line = 0;
  const parseLine = (text: string, start: number, end: number) => {
    line++;
    if (line === 1) {
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
  const stream = createReadStream(path, { highWaterMark: opts.chunkBytes ?? DEFAULT_CHUNK_BYTES });
  for await (const chunk of stream) {
    consume(carry + decoder.write(chunk as Buffer));
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
