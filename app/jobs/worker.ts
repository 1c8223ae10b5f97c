import { closePgPool } from "~/db/pg.server";
import { db } from "~/db.server";
import { env } from "~/env.server";
import { consoleLogger as logger } from "./log.server";
import { DEFAULT_METRICS_CONCURRENCY, DEFAULT_REFIT_CONCURRENCY, NIGHTLY_REFIT_PATTERN, type WorkersHandle, startWorkers } from "./workers.server";

// `npm run worker`: the background worker process. SIGTERM/SIGINT stop it taking jobs,
// let in-flight ones finish and exit within SHUTDOWN_DEADLINE_MS, even with Redis gone.

const config = env();
// Signals may arrive while the workers are still starting (Redis not up yet).
const running: { handle?: WorkersHandle } = {};
let stopping = false;

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info("worker stopping", { signal, deadlineMs: config.SHUTDOWN_DEADLINE_MS });
  // Last resort, should close() itself ever hang past its own deadline.
  setTimeout(() => {
    logger.error("worker did not stop in time: exiting");
    process.exit(1);
  }, config.SHUTDOWN_DEADLINE_MS + 2_000).unref();
  const result = running.handle ? await running.handle.close() : { graceful: true };
  await db().$disconnect().catch(() => {});
  // Only after a graceful close: a job still running past the deadline keeps its connection until exit.
  if (result.graceful) await closePgPool().catch(() => {});
  logger.info("worker stopped", result);
  process.exit(0);
}

for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => void shutdown(signal));

// Shopify Admin API work (backfill, reconciliation) needs real shops' sessions: not in demo mode.
running.handle = await startWorkers({ logger, shopify: config.TENURE_DEMO_MODE ? undefined : {}, refit: { nightly: true } });
if (stopping) await running.handle.close();
logger.info("worker started", {
  concurrency: config.WORKER_CONCURRENCY,
  metricsConcurrency: DEFAULT_METRICS_CONCURRENCY,
  refitConcurrency: DEFAULT_REFIT_CONCURRENCY,
  nightlyRefits: `${NIGHTLY_REFIT_PATTERN} (UTC)`,
  sweepAfterSeconds: config.SWEEP_AFTER_SECONDS,
});
