// Reading worker: reads one line-aligned part of a CSV or CDNOW file into columns and
// posts them, buffers transferred (see readTransactionsIntoTable in read-transactions.ts).
import { parentPort, workerData } from "node:worker_threads";
import { type ReadTask, type ReadThreadMessage, readPart } from "./read-transactions";

const port = parentPort;
if (!port) throw new Error("read-thread.ts runs as a worker thread");

const task = workerData as ReadTask;
readPart(task.path, task.range, { conventions: task.conventions, chunkBytes: task.chunkBytes }, task.reportedErrors).then(
  (part) => {
    const transfer = [part.customers.buffer, part.days.buffer, part.amounts.buffer] as ArrayBuffer[];
    port.postMessage({ kind: "done", part } satisfies ReadThreadMessage, transfer);
  },
  (error: unknown) => {
    port.postMessage({ kind: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies ReadThreadMessage);
  },
);
