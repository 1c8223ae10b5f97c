// Scoring worker: started before the model is fitted (its start-up overlaps the fits), it
// may first be asked for RFM cut points, then scores one slice of a shop's customers and
// posts customers.csv text in chunks, then its segment counts (see writeScoredCustomers and
// ScoringWorker in customer-rows.ts).
import { parentPort } from "node:worker_threads";
import { restoreShopModel } from "~/analytics/clv/shop-model";
import { rfmCutPointsOfColumns } from "~/analytics/rfm";
import { customerChunks } from "./customers-csv";
import { type WorkerMessage, type WorkerRequest, columnSource, customerRows, historyScorer } from "./customer-rows";

const port = parentPort;
if (!port) throw new Error("scoring-thread.ts runs as a worker thread");
const post = (message: WorkerMessage) => port.postMessage(message);
// A chunk's buffer moves to the main thread rather than being copied.
const postChunk = (bytes: Uint8Array) => port.postMessage({ kind: "chunk", bytes } satisfies WorkerMessage, [bytes.buffer as ArrayBuffer]);

port.on("message", (request: WorkerRequest) => {
  try {
    if (request.kind === "cuts") {
      post({ kind: "cuts", cuts: rfmCutPointsOfColumns(request.columns) });
      return;
    }
    const task = request.task;
    const scorer = task.model ? historyScorer(restoreShopModel(task.model), task.asOfDay) : null;
    const segmentCounts = new Map<string, number>();
    for (const bytes of customerChunks(customerRows(columnSource(task.columns, task.asOfDay), task.cuts, scorer, segmentCounts))) postChunk(bytes);
    post({ kind: "done", segments: [...segmentCounts] });
  } catch (error) {
    post({ kind: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
});
