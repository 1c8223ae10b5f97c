import { type TransactionTable } from "~/analytics/summary";
import { type BacktestAggregate } from "~/data/aggregates";
import { startTypeScriptWorker } from "~/lib/ts-worker";
import { type BacktestInputs, backtestAggregate } from "./backtest-aggregate";
import { type BacktestTask } from "./backtest-thread";

// The backtest's calibration fit is about half of the aggregates' Node CPU at a million
// customers, and needs only the order table and the chosen model: it runs on a thread of
// its own beside the index builds and the other aggregates (which leave a core idle part of
// the time), instead of after them on the main thread (ADR 0024).

/** Below this many orders the thread costs more than it saves. */
export const BACKTEST_THREAD_MIN_ORDERS = 100_000;

export interface PendingBacktest {
  result: Promise<BacktestAggregate>;
  /** Ends the thread (the refit failed); result then rejects. */
  stop: () => Promise<void>;
  /** "thread" when a thread computed the row; "here" when this thread did (small table, or the thread failed: `fallback` says why). */
  ranOn: () => "thread" | "here" | "pending";
  fallback: () => string | null;
}

/**
 * Starts the backtest aggregate of `table` on a thread; the same row as backtestAggregate on
 * this thread (which it falls back to when the thread cannot start or fails).
 */
export function startShopBacktest(table: TransactionTable, inputs: BacktestInputs, { minOrders = BACKTEST_THREAD_MIN_ORDERS } = {}): PendingBacktest {
  const here = (fallback: string | null): PendingBacktest => ({
    result: Promise.resolve().then(() => backtestAggregate(table, inputs)),
    stop: async () => {},
    ranOn: () => "here",
    fallback: () => fallback,
  });
  if (table.length < minOrders) return here(null);
  let worker: ReturnType<typeof startTypeScriptWorker>;
  try {
    // Copies (the main thread keeps reading the table): 16 bytes an order.
    const task: BacktestTask = {
      ...inputs,
      customerCount: table.customerCount,
      customers: table.customers.slice(),
      days: table.days.slice(),
      amounts: table.amounts.slice(),
    };
    worker = startTypeScriptWorker(new URL("./backtest-thread.ts", import.meta.url), {
      workerData: task,
      transferList: [task.customers.buffer, task.days.buffer, task.amounts.buffer] as ArrayBuffer[],
    });
  } catch (error) {
    return here(error instanceof Error ? error.message : String(error));
  }
  let stopped = false;
  let ranOn: "thread" | "here" | "pending" = "pending";
  let fallback: string | null = null;
  const fromThread = new Promise<BacktestAggregate>((resolve, reject) => {
    worker.on("message", (message: { kind: "done"; aggregate: BacktestAggregate } | { kind: "error"; message: string }) => {
      if (message.kind === "done") {
        ranOn = "thread";
        resolve(message.aggregate);
      }
      else reject(new Error(`backtest thread: ${message.message}`));
    });
    worker.on("error", reject);
    worker.on("exit", (code) => reject(new Error(`backtest thread exited with code ${code}`)));
  }).finally(() => void worker.terminate());
  // A thread that cannot run (no TypeScript loader in this runtime, say): this thread, same row.
  const result = fromThread.catch((error: unknown) => {
    if (stopped) throw error;
    ranOn = "here";
    fallback = error instanceof Error ? error.message : String(error);
    return backtestAggregate(table, inputs);
  });
  result.catch(() => undefined); // awaited by the caller unless the refit failed first
  return {
    result,
    stop: async () => {
      stopped = true;
      await worker.terminate();
    },
    ranOn: () => ranOn,
    fallback: () => fallback,
  };
}
