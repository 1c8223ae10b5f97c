// Fitting thread of the shop refit: fits one count model (Pareto/NBD, the slow one) on the
// distinct (x, t_x, T) rows it is given while the refit's own thread fits the other
// candidate and the spend model (fitOnThread in fit.server.ts). The same code on the same
// rows, so the fit is the one the refit's thread would make (ADR 0020).
import { parentPort, workerData } from "node:worker_threads";
import { type CountModelName, fitCountModelByName } from "~/analytics/clv/count-model";
import { type FitOptions } from "~/analytics/clv/estimation";
import { prepareColumns } from "~/analytics/clv/rows";

/** Compact rows (typed arrays, copied to the thread), not objects: the thread's heap stays small. */
export interface FitTask {
  name: CountModelName;
  x: Float64Array;
  tx: Float64Array;
  T: Float64Array;
  weight: Float64Array;
  options: FitOptions;
}

const port = parentPort;
if (!port) throw new Error("fit-thread.ts runs as a worker thread");
try {
  const task = workerData as FitTask;
  const rows = { ...prepareColumns(task.x, task.tx, task.T, task.weight), distinct: true };
  port.postMessage({ kind: "done", fit: fitCountModelByName(task.name, rows, task.options) });
} catch (error) {
  port.postMessage({ kind: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
}
