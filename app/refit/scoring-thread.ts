// Scoring thread of the shop refit: predicts one run of customers with the shop's model
// (restored from its JSON, as the live worker restores it) and posts the prediction
// columns back. See scoreCustomers in parallel-scoring.server.ts.
import { parentPort, workerData } from "node:worker_threads";
import { type ShopModelJson, restoreShopModel } from "~/analytics/clv/shop-model";
import { CustomerFactsColumns, type FactsSlice, predictAll } from "~/analytics/customer-columns";

export interface ScoreTask {
  facts: FactsSlice;
  model: ShopModelJson;
  asOfDay: number;
}

const port = parentPort;
if (!port) throw new Error("scoring-thread.ts runs as a worker thread");
try {
  const task = workerData as ScoreTask;
  const parts = predictAll(CustomerFactsColumns.fromSlice(task.facts), restoreShopModel(task.model), task.asOfDay).parts();
  port.postMessage({ kind: "done", parts }, Object.values(parts).map((column: ArrayBufferView) => column.buffer as ArrayBuffer));
} catch (error) {
  port.postMessage({ kind: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
}
