import os from "node:os";
import { type ReadableStream as NodeReadableStream } from "node:stream/web";
import { decodeBundles } from "~/ingest/bundle-columns";
import { startTypeScriptWorker } from "~/lib/ts-worker";
import { BulkResultError, type ImportBatch, orderBatchesOf } from "./bulk-jsonl";
import { type ParseTask, type ThreadMessage } from "./bulk-jsonl-thread";

// A bulk result's download, as order batches: parsed on this thread, or on a worker thread
// for a big import. Decoding, JSON.parse, validation and mapping are most of an import's
// CPU in Node; on their own thread they overlap with this thread's writes instead of taking
// turns with them (bench/backfill). Both read the file with the same code (bulk-jsonl.ts).

/** From this many expected orders a download parses on a thread of its own. */
export const PARSE_ON_THREAD_MIN_ORDERS = 20_000;

export interface BulkResult {
  /** The HTTP status of the download; batches are empty unless it is 2xx. */
  status: number;
  batches: AsyncIterable<ImportBatch>;
  /** Stops the download and its thread (safe to call twice, and after the end). */
  close(): Promise<void>;
  /** Whether the lines are parsed on a worker thread. */
  onThread: boolean;
}

export interface OpenOptions {
  fromLine: number;
  batchSize: number;
  /** true / false, or "auto": on a thread from PARSE_ON_THREAD_MIN_ORDERS expected orders, given a second core. */
  onThread: boolean | "auto";
  expectedOrders: number | null;
  /** Told when a thread was wanted but could not start (the download then parses here). */
  onFallback?: (reason: string) => void;
}

export async function openBulkResult(url: string, options: OpenOptions): Promise<BulkResult> {
  const wanted =
    options.onThread === "auto"
      ? (options.expectedOrders ?? 0) >= PARSE_ON_THREAD_MIN_ORDERS && os.availableParallelism() > 1
      : options.onThread;
  if (wanted) {
    try {
      return await openOnThread(url, options);
    } catch (error) {
      if (!(error instanceof ThreadStartError)) throw error;
      options.onFallback?.(error.message);
    }
  }
  return openHere(url, options);
}

async function openHere(url: string, { fromLine, batchSize }: OpenOptions): Promise<BulkResult> {
  const response = await fetch(url);
  const body = response.ok ? response.body : null;
  const batches = body ? orderBatchesOf(body as NodeReadableStream<Uint8Array>, { fromLine, batchSize }) : null;
  return {
    status: response.status,
    batches: batches ?? noBatches(),
    onThread: false,
    close: async () => {
      // Returning the generator stops the body's reader (it cancels the download if it was
      // left early); a body never read is cancelled here.
      if (batches) await batches.return(undefined);
      else await response.body?.cancel().catch(() => {});
    },
  };
}

/** The thread failed before it answered: the caller parses on its own thread instead. */
class ThreadStartError extends Error {}

async function openOnThread(url: string, { fromLine, batchSize }: OpenOptions): Promise<BulkResult> {
  const task: ParseTask = { url, fromLine, batchSize, ahead: 2 };
  const worker = startTypeScriptWorker(new URL("./bulk-jsonl-thread.ts", import.meta.url), { workerData: task });
  const inbox: ThreadMessage[] = [];
  let waiting: (() => void) | null = null;
  let stopped = false;
  const deliver = (message: ThreadMessage) => {
    inbox.push(message);
    waiting?.();
  };
  worker.on("message", deliver);
  worker.on("error", (error) => deliver({ kind: "error", name: error.name, message: `the parsing thread failed: ${error.message}` }));
  worker.on("exit", (code) => {
    if (!stopped) deliver({ kind: "error", name: "Error", message: `the parsing thread exited (code ${code}) before the end of the file` });
  });
  const next = async (): Promise<ThreadMessage> => {
    while (inbox.length === 0) await new Promise<void>((resolve) => (waiting = resolve));
    waiting = null;
    return inbox.shift()!;
  };
  const close = async () => {
    stopped = true;
    await worker.terminate();
  };

  const first = await next();
  if (first.kind !== "response") {
    await close();
    // Could not load or fetch: a loader missing in this runtime falls back; a download
    // that failed fails here as it would on this thread.
    if (first.kind === "error" && first.message.startsWith("the parsing thread")) throw new ThreadStartError(first.message);
    throw asError(first);
  }
  async function* batches(): AsyncGenerator<ImportBatch, void, undefined> {
    for (;;) {
      const message = await next();
      if (message.kind === "batch") {
        worker.postMessage("more");
        yield { bundles: decodeBundles(message.columns), upToLine: message.upToLine, skipped: message.skipped };
      } else if (message.kind === "end") {
        return;
      } else {
        throw asError(message);
      }
    }
  }
  return { status: first.status, batches: first.status >= 200 && first.status < 300 ? batches() : noBatches(), onThread: true, close };
}

async function* noBatches(): AsyncGenerator<ImportBatch, void, undefined> {}

function asError(message: ThreadMessage): Error {
  if (message.kind !== "error") return new Error(`unexpected message from the parsing thread: ${message.kind}`);
  return message.name === "BulkResultError" ? new BulkResultError(message.message) : new Error(message.message);
}
