import { mapGraphqlOrder } from "~/ingest/graphql-mappers";
import { type OrderBundle, PayloadValidationError } from "~/ingest/mappers";

// A bulk operation's JSONL result -> batches of OrderBundles, with the line offsets a
// download commits. Shopify writes each order's line, then its line items' lines, each
// child carrying its parent's id in `__parentId`. No database, no Shopify client: the
// download runs this on its own thread or on a worker thread (bulk-jsonl-thread.ts).

export interface ImportBatch {
  bundles: OrderBundle[];
  /** Lines before this one (0-based) are complete once the batch commits: the resume point. */
  upToLine: number;
  /** Orders of the batch's lines that failed validation and were left out. */
  skipped: { line: number; message: string }[];
}

/** A line that makes the rest of the file unreadable: not JSON, or a child of another order. */
export class BulkResultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BulkResultError";
  }
}

const YIELD_EVERY_MS = 5;

/**
 * The lines of a JSONL body, a network chunk's worth at a time (a line per await would
 * cost more than parsing it). Each chunk is decoded up to its last newline: a newline byte
 * never occurs inside a multi-byte UTF-8 character, so no character is split, and Buffer's
 * decoder is several times cheaper than a streaming TextDecoder (ADR 0009). A line split
 * across chunks is joined; a final line without a newline counts; CRLF is accepted.
 */
export async function* linesOf(body: AsyncIterable<Uint8Array>): AsyncGenerator<string[], void, undefined> {
  let pending: Buffer[] = []; // bytes after the last newline seen
  const split = (text: string) => {
    const lines = text.split("\n");
    return text.includes("\r") ? lines.map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line)) : lines;
  };
  let turnAt = performance.now();
  for await (const piece of body) {
    const bytes = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    const end = bytes.lastIndexOf(0x0a);
    if (end < 0) {
      pending.push(bytes);
      continue;
    }
    const chunk = pending.length > 0 ? Buffer.concat([...pending, bytes]) : bytes;
    const cut = chunk.length - (bytes.length - end);
    pending = end + 1 < bytes.length ? [Buffer.from(bytes.subarray(end + 1))] : [];
    yield split(chunk.toString("utf8", 0, cut));
    // Let I/O callbacks run every few milliseconds: a local or fast download keeps the
    // body's buffer full, and without a turn the parser holds the event loop while the
    // batch in flight waits to hear PostgreSQL's replies (the two then take turns instead
    // of overlapping). A turn per chunk cost more than the parsing it interleaved.
    if (performance.now() - turnAt > YIELD_EVERY_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      turnAt = performance.now();
    }
  }
  // A last line without a newline; a file that ends in one has no line after it.
  const last = Buffer.concat(pending);
  if (last.length > 0) yield split(last.toString("utf8"));
}

/**
 * The orders of a JSONL body from line `fromLine` (0-based; a committed batch's upToLine, so
 * an order's first line), `batchSize` orders per batch, cut only where an order starts. The
 * last batch ends at the end of the file and may be empty. An order that fails validation is
 * left out and reported with its line number; a line that is not JSON, or a child line whose
 * order is not the current one, throws BulkResultError.
 */
export async function* orderBatchesOf(
  body: AsyncIterable<Uint8Array>,
  { fromLine, batchSize }: { fromLine: number; batchSize: number },
): AsyncGenerator<ImportBatch, void, undefined> {
  let batch: ImportBatch = { bundles: [], upToLine: 0, skipped: [] };
  // Customers already sent in this download, at which updated_at: the export repeats a
  // customer's profile on each of their orders, and writing it again would change nothing
  // (newer wins), so later copies go as a bare customer id (a placeholder that never
  // replaces a row). A resumed download starts afresh, which is only slower.
  const profilesSent = new Map<bigint, number>();
  let current: { raw: Record<string, unknown>; lines: unknown[]; line: number } | null = null;
  const finishCurrent = () => {
    if (!current) return;
    try {
      const bundle = mapGraphqlOrder(current.raw, current.lines);
      const profile = bundle.customer;
      if (profile && profilesSent.get(profile.id) === profile.shopifyUpdatedAt.getTime()) bundle.customer = null;
      else if (profile) profilesSent.set(profile.id, profile.shopifyUpdatedAt.getTime());
      batch.bundles.push(bundle);
    } catch (error) {
      if (!(error instanceof PayloadValidationError)) throw error;
      batch.skipped.push({ line: current.line + 1, message: error.message });
    }
    current = null;
  };

  let index = -1;
  for await (const chunk of linesOf(body)) {
    for (const text of chunk) {
      index += 1;
      if (index < fromLine) continue; // committed by an earlier attempt
      if (text.trim() === "") continue;
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw new BulkResultError(`bulk result line ${index + 1} is not JSON`);
      }
      const parentId = record.__parentId;
      if (typeof parentId === "string") {
        // Children follow their parent: a child of another order means a broken file.
        if (!current || String(current.raw.id) !== parentId) throw new BulkResultError(`bulk result line ${index + 1}: parent ${parentId} is not the current order`);
        current.lines.push(record);
        continue;
      }
      finishCurrent();
      // A new order starts here: everything before this line is complete.
      if (batch.bundles.length >= batchSize) {
        batch.upToLine = index;
        yield batch;
        batch = { bundles: [], upToLine: 0, skipped: [] };
      }
      current = { raw: record, lines: [], line: index };
    }
  }
  finishCurrent();
  batch.upToLine = Math.max(index + 1, fromLine);
  yield batch;
}
