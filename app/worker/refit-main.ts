import { env } from "~/env.server";
import { consoleLogger as logger } from "~/lib/log.server";
import { DEFAULT_REFIT_CONCURRENCY, type RefitWorkerHandle, startRefitWorker } from "./workers.server";

// The refit process `npm run worker` starts beside itself (worker.ts): shop refits fit
// models for seconds of CPU at a time, and here that CPU is not taken from the event loop
// that ingests webhooks and recomputes live metrics. SIGTERM/SIGINT, or the parent going
// away, stop it taking jobs and let a running refit finish within SHUTDOWN_DEADLINE_MS (a
// refit cut short is retried from the top by another worker: it writes nothing half-done).

const config = env();
const running: { handle?: RefitWorkerHandle } = {};
let stopping = false;

async function shutdown(reason: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info("refit worker stopping", { reason, deadlineMs: config.SHUTDOWN_DEADLINE_MS });
  setTimeout(() => {
    logger.error("refit worker did not stop in time: exiting");
    process.exit(1);
  }, config.SHUTDOWN_DEADLINE_MS + 2_000).unref();
  const result = running.handle ? await running.handle.close() : { graceful: true };
  logger.info("refit worker stopped", result);
  process.exit(0);
}

for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => void shutdown(signal));
// Started by worker.ts with an IPC channel: it closes when the parent exits, however it exits.
process.on("disconnect", () => void shutdown("parent exited"));

running.handle = await startRefitWorker({ logger });
if (stopping) await running.handle.close();
logger.info("refit worker started", { concurrency: DEFAULT_REFIT_CONCURRENCY });
