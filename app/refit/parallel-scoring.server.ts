import os from "node:os";
import { type ShopModel } from "~/analytics/clv/shop-model";
import { CustomerFactsColumns, PredictionColumns, type PredictionParts, predictAll } from "~/analytics/customer-columns";
import { type ScoreTask } from "./scoring-thread";
import { startTypeScriptWorker } from "~/lib/ts-worker";

// Every customer's prediction, on every core: scoring is most of a big refit's CPU (a few
// dozen model evaluations per customer), and the customers are independent. The customers
// are split into contiguous runs; this thread scores the first, worker threads the rest,
// each with the model restored from its JSON, exactly as the live worker restores it, so
// the numbers are the same as one thread's (tests/refit/parallel-scoring.test.ts).

/** Below this many customers one thread is quicker than starting workers. */
export const PARALLEL_SCORING_MIN_CUSTOMERS = 50_000;

export interface ParallelScoringResult {
  predictions: PredictionColumns;
  /** Threads that scored (1: this thread only). */
  threads: number;
  /** Why the work stayed on one thread after workers were tried (a worker failed to start). */
  fallback: string | null;
}

export async function scoreCustomers(
  facts: CustomerFactsColumns,
  model: ShopModel | null,
  asOfDay: number,
  { threads = Math.min(4, os.availableParallelism()), minCustomers = PARALLEL_SCORING_MIN_CUSTOMERS }: { threads?: number; minCustomers?: number } = {},
): Promise<ParallelScoringResult> {
  if (!model || threads <= 1 || facts.length < minCustomers) {
    return { predictions: predictAll(facts, model, asOfDay), threads: 1, fallback: null };
  }
  const size = Math.ceil(facts.length / threads);
  const runs = Array.from({ length: threads }, (_, k) => [k * size, Math.min(facts.length, (k + 1) * size)] as const).filter(([from, to]) => to > from);
  const json = model.toJSON();
  const workers: ReturnType<typeof startWorker>[] = [];
  try {
    for (const [from, to] of runs.slice(1)) workers.push(startWorker({ facts: facts.slice(from, to), model: json, asOfDay }));
    const [from, to] = runs[0];
    const own = predictAll(sliceColumns(facts, from, to), model, asOfDay).parts();
    const theirs = await Promise.all(workers.map((w) => w.result));
    return { predictions: PredictionColumns.concat([own, ...theirs]), threads: runs.length, fallback: null };
  } catch (error) {
    // A worker that cannot start (no TypeScript loader in this runtime, say): one thread, same numbers.
    await Promise.all(workers.map((w) => w.stop()));
    return { predictions: predictAll(facts, model, asOfDay), threads: 1, fallback: error instanceof Error ? error.message : String(error) };
  }
}

function sliceColumns(facts: CustomerFactsColumns, from: number, to: number): CustomerFactsColumns {
  if (from === 0 && to === facts.length) return facts;
  return CustomerFactsColumns.fromSlice(facts.slice(from, to));
}

function startWorker(task: ScoreTask): { result: Promise<PredictionParts>; stop: () => Promise<void> } {
  const worker = startTypeScriptWorker(new URL("./scoring-thread.ts", import.meta.url), { workerData: task });
  const result = new Promise<PredictionParts>((resolve, reject) => {
    worker.on("message", (message: { kind: "done"; parts: PredictionParts } | { kind: "error"; message: string }) => {
      if (message.kind === "done") resolve(message.parts);
      else reject(new Error(`scoring thread: ${message.message}`));
    });
    worker.on("error", reject);
    worker.on("exit", (code) => reject(new Error(`scoring thread exited with code ${code}`)));
  });
  const settled = result.finally(() => void worker.terminate());
  // Awaited by the caller unless it failed first (then this rejection is expected and ignored).
  settled.catch(() => undefined);
  return {
    result: settled,
    stop: async () => void (await worker.terminate()),
  };
}
