// Fitting thread of `tenure fit`: fits Pareto/NBD on the distinct (x, t_x, T) rows it is sent
// while the main thread fits BG/NBD, the modified BG/NBD and Gamma-Gamma (see fitParetoNbdOnThread
// in fit.ts). The same code on the same rows: the fit is the one the main thread would make.
import { parentPort } from "node:worker_threads";
import { type FitOptions } from "~/analytics/clv/estimation";
import { fitParetoNbd } from "~/analytics/clv/pareto-nbd";
import { prepareColumns } from "~/analytics/clv/rows";
import { type FitThreadMessage } from "./fit";

const port = parentPort;
if (!port) throw new Error("fit-thread.ts runs as a worker thread");

port.on("message", (task: { x: Float64Array; tx: Float64Array; T: Float64Array; weight: Float64Array; options: FitOptions }) => {
  try {
    const rows = { ...prepareColumns(task.x, task.tx, task.T, task.weight), distinct: true };
    port.postMessage({ kind: "done", fit: fitParetoNbd(rows, task.options) } satisfies FitThreadMessage);
  } catch (error) {
    port.postMessage({ kind: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies FitThreadMessage);
  }
});
