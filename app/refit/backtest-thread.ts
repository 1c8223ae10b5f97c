// Backtest thread of the shop refit: the backtest aggregate (a second fit of the count model,
// on the calibration period) from a copy of the order table's columns, posted back as the
// plain row the aggregates store. See startShopBacktest in backtest-in-thread.server.ts.
import { parentPort, workerData } from "node:worker_threads";
import { TransactionTable } from "~/analytics/summary";
import { type BacktestInputs, backtestAggregate } from "./backtest-aggregate";

export interface BacktestTask extends BacktestInputs {
  customerCount: number;
  customers: Int32Array;
  days: Int32Array;
  amounts: Float64Array;
}

const port = parentPort;
if (!port) throw new Error("backtest-thread.ts runs as a worker thread");
try {
  const task = workerData as BacktestTask;
  // The backtest reads customer indices, never ids: stand-in ids keep every index as it was.
  const table = new TransactionTable(task.customers.length);
  table.appendColumns(Array.from({ length: task.customerCount }, (_, i) => String(i)), task.customers, task.days, task.amounts);
  port.postMessage({ kind: "done", aggregate: backtestAggregate(table, task) });
} catch (error) {
  port.postMessage({ kind: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
}
