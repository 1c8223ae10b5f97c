import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker, type WorkerOptions } from "node:worker_threads";

/**
 * A worker thread running a TypeScript module. The thread registers tsx's loader itself
 * (whether a worker inherits the parent's --import loader differs between Node versions),
 * then imports `entry`. Path aliases come from the tsconfig tsx finds (TSX_TSCONFIG_PATH or
 * the cwd), as in the main thread. The processes that start threads run the sources under
 * tsx (the worker, the CLI from source); elsewhere the thread fails to start and callers
 * fall back to doing the work on their own thread.
 */
export function startTypeScriptWorker(entry: URL, options: Omit<WorkerOptions, "eval"> = {}): Worker {
  // Compiled (the `tenure` command's bundle, dist/cli): the entry was built beside this
  // code as plain JavaScript, which a worker runs without tsx.
  if (!import.meta.url.endsWith(".ts")) return new Worker(new URL(entry.href.replace(/\.ts$/, ".js")), options);
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm/api")).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { execArgv: [], ...options, eval: true });
}
