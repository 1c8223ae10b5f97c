import { env } from "~/env.server";
import { consoleLogger as logger } from "~/lib/log.server";
import { exitOnShutdown } from "./shutdown";
import { DEFAULT_REFIT_CONCURRENCY, type RefitWorkerHandle, startRefitWorker } from "./workers.server";

// The refit process `npm run worker` starts beside itself (main.ts): shop refits fit
// models for seconds of CPU at a time, and here that CPU is not taken from the event loop
// that ingests webhooks and recomputes live metrics. SIGTERM/SIGINT, or the parent going
// away, stop it taking jobs and let a running refit finish within SHUTDOWN_DEADLINE_MS (a
// refit cut short is retried from the top by another worker: it writes nothing half-done).

const config = env();
const running: { handle?: RefitWorkerHandle } = {};
const lifecycle = exitOnShutdown({
  name: "refit worker",
  deadlineMs: config.SHUTDOWN_DEADLINE_MS,
  logger,
  stop: async () => (running.handle ? running.handle.close() : { graceful: true }),
});

// Started by main.ts with an IPC channel: it closes when the parent exits, however it exits.
process.on("disconnect", () => void lifecycle.shutdown("parent exited"));

running.handle = await startRefitWorker({ logger });
if (lifecycle.stopping) await running.handle.close();
logger.info("refit worker started", { concurrency: DEFAULT_REFIT_CONCURRENCY });
