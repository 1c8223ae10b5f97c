// The download's parsing thread: fetches a bulk result and posts its order batches
// (bulk-jsonl.ts) to the download (openBulkResult in bulk-result.server.ts), at most
// `ahead` batches before the download has taken them. Messages: one "response" (the HTTP
// status), then "batch"es, then "end" or "error".
import { type ReadableStream as NodeReadableStream } from "node:stream/web";
import { parentPort, workerData } from "node:worker_threads";
import { type BundleColumns, encodeBundles, transferablesOf } from "~/ingest/bundle-columns";
import { type ImportBatch, orderBatchesOf } from "./bulk-jsonl";

export interface ParseTask {
  url: string;
  fromLine: number;
  batchSize: number;
  /** Batches posted before the download asks for more. */
  ahead: number;
}

export type ThreadMessage =
  | { kind: "response"; status: number }
  | { kind: "batch"; columns: BundleColumns; upToLine: number; skipped: ImportBatch["skipped"] }
  | { kind: "end" }
  | { kind: "error"; message: string; name: string };

const port = parentPort;
if (!port) throw new Error("bulk-jsonl-thread.ts runs as a worker thread");
const task = workerData as ParseTask;
const post = (message: ThreadMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

let credit = task.ahead;
let wake: (() => void) | null = null;
port.on("message", (message: "more") => {
  if (message !== "more") return;
  credit += 1;
  wake?.();
});

try {
  const response = await fetch(task.url);
  post({ kind: "response", status: response.status });
  if (response.ok && response.body) {
    for await (const batch of orderBatchesOf(response.body as NodeReadableStream<Uint8Array>, task)) {
      while (credit === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
      credit -= 1;
      // As columns: a fraction of the cost of cloning the bundles (bundle-columns.ts).
      const columns = encodeBundles(batch.bundles);
      post({ kind: "batch", columns, upToLine: batch.upToLine, skipped: batch.skipped }, transferablesOf(columns));
    }
    post({ kind: "end" });
  }
} catch (error) {
  post({ kind: "error", message: error instanceof Error ? error.message : String(error), name: error instanceof Error ? error.name : "Error" });
}
port.close();
