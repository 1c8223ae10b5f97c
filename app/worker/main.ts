import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { closePgPool, pgPool } from "~/db/pg.server";
import { db } from "~/db.server";
import { demoAdminClient } from "~/demo-mode.server";
import { env } from "~/env.server";
import { consoleLogger as logger, errorMessage } from "~/lib/log.server";
import { SCHEDULES } from "~/queues/contract";
import { resealDestinationKeys } from "~/destinations/reseal.server";
import { requestOverdueRefits } from "~/refit/nightly.server";
import { WORKER_NODE_FLAGS } from "./node-flags";
import { exitOnShutdown } from "./shutdown";
import { DEFAULT_METRICS_CONCURRENCY, DEFAULT_REFIT_CONCURRENCY, type WorkersHandle, startWorkers } from "./workers.server";

// `npm run worker`: the background worker process. SIGTERM/SIGINT stop it taking jobs,
// let in-flight ones finish and exit within SHUTDOWN_DEADLINE_MS, even with Redis gone.
//
// Shop refits run in a child process of their own (refit-main.ts): fitting a large
// shop's model takes seconds of CPU in one piece, which in this process would stall every
// shop's webhooks and live metrics meanwhile. The child is restarted if it dies.

const config = env();
// Signals may arrive while the workers are still starting (Redis not up yet).
const running: { handle?: WorkersHandle; refit?: ChildProcess } = {};
const REFIT_RESTART_DELAY_MS = 5_000;

const lifecycle = exitOnShutdown({
  name: "worker",
  deadlineMs: config.SHUTDOWN_DEADLINE_MS,
  logger,
  stop: async () => {
    const [result] = await Promise.all([running.handle ? running.handle.close() : { graceful: true }, stopRefitProcess()]);
    await db().$disconnect().catch(() => {});
    // Only after a graceful close: a job still running past the deadline keeps its connection until exit.
    if (result.graceful) await closePgPool().catch(() => {});
    return result;
  },
});

function startRefitProcess(): void {
  // This process's Node flags (tsx's loader), so the TypeScript entry runs as this one does, and the refit's own.
  const child = fork(fileURLToPath(new URL("./refit-main.ts", import.meta.url)), [], {
    env: process.env,
    execArgv: [...new Set([...process.execArgv, ...WORKER_NODE_FLAGS])],
  });
  running.refit = child;
  child.once("exit", (code, signal) => {
    if (running.refit === child) running.refit = undefined;
    if (lifecycle.stopping) return;
    logger.error("refit worker exited: restarting it", { code, signal, restartInMs: REFIT_RESTART_DELAY_MS });
    setTimeout(() => {
      if (!lifecycle.stopping) startRefitProcess();
    }, REFIT_RESTART_DELAY_MS).unref();
  });
}

async function stopRefitProcess(): Promise<void> {
  const child = running.refit;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  await exited;
}

// Shopify Admin API work (backfill, reconciliation) needs real shops' sessions: not in demo mode,
// where the destinations worker writes the demo shop's metafields to the demo's fake Shopify
// (SHOPIFY_ADMIN_API_URL) instead, so its write-back's outbox is sent.
// Refits: the queue and nightly schedule here, the worker in the child process.
running.handle = await startWorkers({
  logger,
  shopify: config.TENURE_DEMO_MODE ? undefined : {},
  shopifyAdmin: demoAdminClient() ?? undefined,
  metrics: { concurrency: DEFAULT_METRICS_CONCURRENCY },
  refit: { nightly: true, worker: false },
  destinations: { sweep: true },
});
if (lifecycle.stopping) await running.handle.close();
else {
  startRefitProcess();
  // Key rotation: destination keys still sealed under a retired key are sealed again now.
  resealDestinationKeys(pgPool())
    .then((report) => {
      if (report.resealed > 0) logger.info("destination keys re-sealed under TENURE_ENCRYPTION_KEY", { resealed: report.resealed });
      for (const u of report.unreadable) logger.error("a destination key cannot be opened with the configured keys", u);
    })
    .catch((error: unknown) => logger.error("could not re-seal destination keys", { error: errorMessage(error) }));
  // Refits due but never asked for (lost with Redis, or marked by a migration): now, not at night.
  requestOverdueRefits(pgPool())
    .then((shops) => shops.length > 0 && logger.info("asked for overdue refits", { shops: shops.length }))
    .catch((error: unknown) => logger.error("could not ask for overdue refits", { error: errorMessage(error) }));
}
logger.info("worker started", {
  concurrency: config.WORKER_CONCURRENCY,
  metricsConcurrency: DEFAULT_METRICS_CONCURRENCY,
  refitConcurrency: DEFAULT_REFIT_CONCURRENCY,
  refitProcess: running.refit?.pid,
  nightlyRefits: `${SCHEDULES.nightlyRefits.repeat.pattern} (UTC)`,
  sweepAfterSeconds: config.SWEEP_AFTER_SECONDS,
});
