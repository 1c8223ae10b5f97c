import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { env } from "~/env.server";
import { consoleLogger as logger } from "~/lib/log.server";
import { WORKER_NODE_FLAGS } from "./node-flags";

// `npm run worker`: keeps the worker process (main.ts) running. Any process can die (a
// crash, the OOM killer, a bug in a dependency); the supervisor starts it again after a
// pause that doubles with each quick death (1 s up to 30 s) and resets once it has run
// for a minute. Deliveries wait in PostgreSQL meanwhile, and the sweeper hands them out
// again. SIGTERM/SIGINT go to the worker, which drains; the supervisor exits with it.

const FIRST_RESTART_DELAY_MS = 1_000;
const MAX_RESTART_DELAY_MS = 30_000;
/** A worker that ran this long is healthy again: the next restart waits the first delay. */
const HEALTHY_AFTER_MS = 60_000;

let child: ChildProcess | undefined;
let stopping = false;
let restartDelayMs = FIRST_RESTART_DELAY_MS;

function start(): void {
  const startedAt = Date.now();
  // This process's flags (tsx's loader among them) and the worker's own.
  const worker = fork(fileURLToPath(new URL("./main.ts", import.meta.url)), [], {
    env: process.env,
    execArgv: [...new Set([...process.execArgv, ...WORKER_NODE_FLAGS])],
  });
  child = worker;
  logger.info("worker process started", { pid: worker.pid });
  worker.once("exit", (code, signal) => {
    child = undefined;
    if (stopping) {
      logger.info("supervisor stopped", { code, signal });
      process.exit(code ?? 0);
    }
    if (Date.now() - startedAt >= HEALTHY_AFTER_MS) restartDelayMs = FIRST_RESTART_DELAY_MS;
    logger.error("worker process exited: restarting it", { code, signal, restartInMs: restartDelayMs });
    setTimeout(() => {
      if (!stopping) start();
    }, restartDelayMs);
    restartDelayMs = Math.min(restartDelayMs * 2, MAX_RESTART_DELAY_MS);
  });
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    if (child) child.kill(signal);
    else process.exit(0);
  });
}

// A bad environment is a mistake to fix, not a crash to retry: stop here, naming it.
env();
start();
