import { type PrismaClient } from "@prisma/client";
import { Queue, Worker } from "bullmq";
import { type Redis } from "ioredis";
import type pg from "pg";
import { createPgPool, pgPool } from "~/db/pg.server";
import { db as defaultDb } from "~/db.server";
import { env } from "~/env.server";
import { type Logger, consoleLogger, errorMessage } from "~/lib/log.server";
import { AdminGraphql } from "~/integrations/shopify-admin.server";
import { type AdminGraphqlClient } from "~/destinations/shopify/definitions.server";
import { type ShopifyWritebackOptions } from "~/destinations/shopify/writeback.server";
import { type RefitDebounce } from "~/refit/debounce";
import {
  backfillProcessor,
  customerMetricsProcessor,
  destinationsProcessor,
  ingestProcessor,
  maintenanceProcessor,
  type MetafieldDefinitionsPass,
  makeSureOfMetafieldDefinitionsOfInstalledShops,
  reconcileProcessor,
  shopRefitProcessor,
} from "./registry.server";
import { enqueueBackfill } from "~/queues/enqueue.server";
import { QUEUE, SCHEDULES } from "~/queues/contract";
import { createWorkerConnection, queueOptions, queuePrefix } from "~/queues/connections.server";

// Starts the background workers of one process: the ingest worker, the maintenance worker
// and the sweeper's schedule, the customer-metrics worker, the shop-refit worker and its
// nightly schedule. Used by `npm run worker` (main.ts), the demo, the benchmarks and
// the tests.
//
// Fairness between shops: every kind of work has its own queue, its own worker and its own
// Redis connection, so a huge shop's refit or backfill occupies only its own worker's slots
// while webhooks and live metrics keep flowing; the refit also writes through a pg pool of
// its own, so its batch writes never hold the connections the hot path needs.

/**
 * Live metrics jobs active at once per process. Generous on purpose: jobs of a shop whose
 * recompute is running wait in memory for the next batch (no database connection held),
 * and the batch can only hold as many customers as there are active jobs, so too few let
 * a busy shop fall behind (ADR 0010 has the freshness benchmark's figures).
 */
export const DEFAULT_METRICS_CONCURRENCY = 64;
/** Destination passes at once per process (each waits mostly on its email tool). */
export const DEFAULT_DESTINATIONS_CONCURRENCY = 4;
/** Refits in parallel per process: one, so a refit never takes more than one core's share. */
export const DEFAULT_REFIT_CONCURRENCY = 1;
/** Connections of the refit's own pool. */
const REFIT_POOL_MAX = 4;

export interface StartWorkersOptions {
  db?: PrismaClient;
  redisUrl?: string;
  /** Ingest jobs run in parallel per process (default WORKER_CONCURRENCY). */
  concurrency?: number;
  /** BullMQ job lock; a job whose worker died is retried once this lapses. Default 30 s. */
  lockDurationMs?: number;
  /** How often this worker looks for jobs whose worker died. Default 30 s. */
  stalledIntervalMs?: number;
  /** How often the sweeper runs, which deliveries it takes, how many per run. false: no sweeper. */
  sweep?: { everyMs?: number; olderThanSeconds?: number; batchSize?: number } | false;
  /** close() gives up waiting for in-flight jobs and Redis after this long (default SHUTDOWN_DEADLINE_MS). */
  shutdownDeadlineMs?: number;
  logger?: Logger;
  /**
   * Shopify Admin API work: the backfill and reconcile workers and the reconcile schedule.
   * Off unless given (tests and the demo have no Shopify sessions); `npm run worker` turns it on.
   */
  shopify?: { backfillConcurrency?: number; reconcileEveryMs?: number; pollEveryMs?: number };
  /**
   * The destinations worker's Admin API client when started without `shopify`: the demo's
   * (its fake Shopify, app/demo-mode.server.ts), so the demo shop's metafield write-back and
   * published segments are sent. Ignored with `shopify`, which brings the real one.
   */
  shopifyAdmin?: AdminGraphqlClient;
  /** The metafield write-back's options (tests: a small bulk threshold). */
  shopifyWriteback?: ShopifyWritebackOptions;
  /** The hot path's pg pool (live metrics). Default: the process-wide pgPool(). */
  pool?: pg.Pool;
  /** The refit's own pg pool. Default: one of REFIT_POOL_MAX connections to the same database, closed by close(). */
  refitPool?: pg.Pool;
  /** The live customer-metrics worker. false: not in this process. */
  metrics?: { concurrency?: number; debounce?: RefitDebounce } | false;
  /**
   * The shop-refit worker. false: no refit work here at all. `worker: false`: the queue and
   * schedule only, the worker runs in another process (startRefitWorker; `npm run worker`
   * does this, so a refit's seconds of model fitting never stall this process's event
   * loop). `nightly`: also register the nightly refit schedule (off unless asked:
   * `npm run worker` asks; tests would leave it in Redis).
   */
  refit?: { concurrency?: number; worker?: boolean; nightly?: boolean; nightlyPattern?: string } | false;
  /**
   * The destinations worker (email tools: app/destinations). false: not in this process.
   * `sweep`: also register the sweep of destinations with changes or erasures waiting (off
   * unless asked: `npm run worker` asks; a test's sweep would pick up other tests' rows).
   */
  destinations?: { concurrency?: number; sweep?: boolean; sweepEveryMs?: number } | false;
}

export interface WorkersHandle {
  ingestWorker: Worker;
  maintenanceWorker: Worker;
  /** Present when started with `shopify`. */
  backfillWorker?: Worker;
  reconcileWorker?: Worker;
  /** Present unless started with metrics: false. */
  metricsWorker?: Worker;
  /** Present unless started with refit: false. */
  refitWorker?: Worker;
  /** Present unless started with destinations: false. */
  destinationsWorker?: Worker;
  /** Stops taking jobs, lets in-flight ones finish, and resolves within the shutdown deadline, Redis or not. */
  close(): Promise<{ graceful: boolean }>;
}

export async function startWorkers(options: StartWorkersOptions = {}): Promise<WorkersHandle> {
  const prisma = options.db ?? defaultDb();
  const logger = options.logger ?? consoleLogger;
  const redisUrl = options.redisUrl ?? env().REDIS_URL;
  const deadlineMs = options.shutdownDeadlineMs ?? env().SHUTDOWN_DEADLINE_MS;
  const sweep = options.sweep === false ? false : {
    everyMs: options.sweep?.everyMs ?? SCHEDULES.sweepDeliveries.repeat.every,
    olderThanSeconds: options.sweep?.olderThanSeconds ?? env().SWEEP_AFTER_SECONDS,
    batchSize: options.sweep?.batchSize ?? 500,
  };

  const connections: Redis[] = [];
  const connection = (): Redis => {
    const redis = createWorkerConnection(redisUrl);
    // Reported by the workers' error handlers; without a listener ioredis prints its own.
    redis.on("error", () => {});
    connections.push(redis);
    return redis;
  };

  const pool = options.pool ?? pgPool();

  const ingestQueue = new Queue(QUEUE.ingest, queueOptions(QUEUE.ingest, connection()));
  const maintenanceConnection = connection();
  const maintenanceQueue = new Queue(QUEUE.maintenance, queueOptions(QUEUE.maintenance, maintenanceConnection));
  for (const queue of [ingestQueue, maintenanceQueue]) queue.on("error", () => {});

  const workerOptions = {
    prefix: queuePrefix(),
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
  };
  const ingestWorker = new Worker(QUEUE.ingest, ingestProcessor(prisma, { pool }), {
    ...workerOptions,
    connection: connection(),
    concurrency: options.concurrency ?? env().WORKER_CONCURRENCY,
  });
  const maintenanceWorker = new Worker(
    QUEUE.maintenance,
    sweep
      ? maintenanceProcessor(prisma, pool, ingestQueue, sweep, logger)
      : async () => ({ skipped: "sweeper disabled" }),
    { ...workerOptions, connection: connection(), concurrency: 1 },
  );

  const shopifyWork = options.shopify;
  let backfillWorker: Worker | undefined;
  let reconcileWorker: Worker | undefined;
  let reconcileQueue: Queue | undefined;
  let definitionsPass: MetafieldDefinitionsPass | undefined;
  // The Admin API client of this process, shared by the Shopify work and the metafield write-back.
  const realAdmin = shopifyWork ? new AdminGraphql({ db: prisma }) : undefined;
  const shopifyAdmin: AdminGraphqlClient | undefined = realAdmin ?? options.shopifyAdmin;
  if (shopifyWork && realAdmin) {
    const admin = realAdmin;
    // Every installed shop's metafield definitions, one shop at a time in the background (issue 15).
    definitionsPass = makeSureOfMetafieldDefinitionsOfInstalledShops({ admin, pool, logger });
    backfillWorker = new Worker(
      QUEUE.backfill,
      backfillProcessor({ db: prisma, admin, enqueue: enqueueBackfill, pollEveryMs: shopifyWork.pollEveryMs }),
      // Long downloads: a generous lock, renewed by BullMQ while the job runs.
      { ...workerOptions, connection: connection(), concurrency: shopifyWork.backfillConcurrency ?? 1, lockDuration: 120_000 },
    );
    reconcileQueue = new Queue(QUEUE.reconcile, queueOptions(QUEUE.reconcile, connection()));
    reconcileQueue.on("error", () => {});
    reconcileWorker = new Worker(QUEUE.reconcile, reconcileProcessor({ db: prisma, admin }), {
      ...workerOptions,
      connection: connection(),
      concurrency: 2,
    });
  }

  // The refit queue, for its nightly schedule (refits themselves are requested through
  // requestRefit, app/refit/request-refit.server.ts).
  const refitConnection = connection();
  const refitQueue = new Queue(QUEUE.shopRefit, queueOptions(QUEUE.shopRefit, refitConnection));
  refitQueue.on("error", () => {});

  let metricsWorker: Worker | undefined;
  if (options.metrics !== false) {
    metricsWorker = new Worker(
      QUEUE.customerMetrics,
      customerMetricsProcessor({ pool, logger, debounce: options.metrics?.debounce }),
      { ...workerOptions, connection: connection(), concurrency: options.metrics?.concurrency ?? DEFAULT_METRICS_CONCURRENCY },
    );
  }
  let refit: RefitWorkerHandle | undefined;
  if (options.refit !== false && options.refit?.worker !== false) {
    refit = await startRefitWorker({
      redisUrl,
      pool: options.refitPool,
      databaseUrl: options.pool?.options.connectionString,
      concurrency: options.refit?.concurrency,
      lockDurationMs: options.lockDurationMs,
      stalledIntervalMs: options.stalledIntervalMs,
      shutdownDeadlineMs: deadlineMs,
      logger,
    });
  }
  const refitWorker = refit?.worker;

  // Destinations: passes wait on the email tools' rate limits, not on this process, so a
  // few run at once (one per destination at a time: the engine's lock).
  let destinationsWorker: Worker | undefined;
  let destinationsQueue: Queue | undefined;
  let destinationsConnection: Redis | undefined;
  if (options.destinations !== false) {
    destinationsWorker = new Worker(QUEUE.destinations, destinationsProcessor({ pool, logger, shopifyAdmin, shopifyWriteback: options.shopifyWriteback }), {
      ...workerOptions,
      connection: connection(),
      concurrency: options.destinations?.concurrency ?? DEFAULT_DESTINATIONS_CONCURRENCY,
      // A large initial sync runs for minutes against rate limits: a generous lock, renewed while it runs.
      lockDuration: Math.max(options.lockDurationMs ?? 30_000, 120_000),
    });
    if (options.destinations?.sweep) {
      destinationsConnection = connection();
      destinationsQueue = new Queue(QUEUE.destinations, queueOptions(QUEUE.destinations, destinationsConnection));
      destinationsQueue.on("error", () => {});
    }
  }

  const named: [string, Worker][] = [["ingest", ingestWorker], ["maintenance", maintenanceWorker]];
  if (backfillWorker) named.push(["backfill", backfillWorker]);
  if (reconcileWorker) named.push(["reconcile", reconcileWorker]);
  if (metricsWorker) named.push(["customer-metrics", metricsWorker]);
  if (destinationsWorker) named.push(["destinations", destinationsWorker]);
  const lastError = { message: "" };
  for (const [name, worker] of named) logWorkerEvents(name, worker, logger, lastError);

  await Promise.all(named.map(([, worker]) => worker.waitUntilReady()));
  if (reconcileQueue && shopifyWork) {
    const { id, repeat, data } = SCHEDULES.reconcileAll;
    await reconcileQueue.upsertJobScheduler(id, { every: shopifyWork.reconcileEveryMs ?? repeat.every }, { name: id, data });
  }
  const refitOptions = options.refit || {};
  if (refitOptions.nightly) {
    const { id, repeat, data } = SCHEDULES.nightlyRefits;
    const schedule = () =>
      refitQueue.upsertJobScheduler(id, { pattern: refitOptions.nightlyPattern ?? repeat.pattern, tz: repeat.tz }, { name: id, data });
    await schedule();
    // As the sweeper's: a Redis that restarts empty forgets the schedule.
    refitConnection.on("ready", () => {
      schedule().catch((error: unknown) => logger.error("could not register the nightly refits", { error: errorMessage(error) }));
    });
  }
  if (destinationsQueue && destinationsConnection && options.destinations) {
    const { id, repeat, data } = SCHEDULES.sweepDestinations;
    const queue = destinationsQueue;
    const every = options.destinations.sweepEveryMs ?? repeat.every;
    const due = SCHEDULES.flowDueToReorder;
    // Beside the sweep: Shopify Flow's due-to-reorder run per shop and local day (app/destinations/flow).
    const schedule = () =>
      Promise.all([
        queue.upsertJobScheduler(id, { every }, { name: id, data }),
        queue.upsertJobScheduler(due.id, { every: due.repeat.every }, { name: due.id, data: due.data }),
      ]);
    await schedule();
    // As the sweeper's: a Redis that restarts empty forgets the schedule.
    destinationsConnection.on("ready", () => {
      schedule().catch((error: unknown) => logger.error("could not register the destinations sweep", { error: errorMessage(error) }));
    });
  }
  if (sweep) {
    const { id, data } = SCHEDULES.sweepDeliveries;
    const schedule = () => maintenanceQueue.upsertJobScheduler(id, { every: sweep.everyMs }, { name: id, data });
    await schedule();
    // A Redis that restarts empty forgets the schedule (and queued jobs): register it again
    // on every reconnect, and the sweeper re-enqueues whatever the lost jobs carried.
    maintenanceConnection.on("ready", () => {
      schedule().catch((error: unknown) => logger.error("could not register the sweeper", { error: errorMessage(error) }));
    });
  }

  let closing: Promise<{ graceful: boolean }> | undefined;
  const close = () => {
    closing ??= (async () => {
      const graceful = await drainWithin(deadlineMs, async () => {
        definitionsPass?.stop();
        await Promise.allSettled([...named.map(([, worker]) => worker.close()), refit?.close(), definitionsPass?.done]);
        await Promise.allSettled([ingestQueue.close(), maintenanceQueue.close(), reconcileQueue?.close(), refitQueue.close(), destinationsQueue?.close()]);
      });
      if (!graceful) logger.error("shutdown deadline reached: closing Redis connections without waiting", { deadlineMs });
      // With Redis unreachable, BullMQ's close waits on reconnects forever: cut them.
      for (const redis of connections) redis.disconnect();
      return { graceful };
    })();
    return closing;
  };

  return { ingestWorker, maintenanceWorker, backfillWorker, reconcileWorker, metricsWorker, refitWorker, destinationsWorker, close };
}

export interface StartRefitWorkerOptions {
  redisUrl?: string;
  /** The refit's pg pool; default one of REFIT_POOL_MAX connections on `databaseUrl`, closed by close(). */
  pool?: pg.Pool;
  /** Default DATABASE_URL. */
  databaseUrl?: string;
  concurrency?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  shutdownDeadlineMs?: number;
  logger?: Logger;
}

export interface RefitWorkerHandle {
  worker: Worker;
  close(): Promise<{ graceful: boolean }>;
}

/**
 * The shop-refit worker with its own Redis connections and its own pg pool: in the main
 * worker process (startWorkers), or alone in the refit process `npm run worker` starts
 * (refit-main.ts).
 */
export async function startRefitWorker(options: StartRefitWorkerOptions = {}): Promise<RefitWorkerHandle> {
  const logger = options.logger ?? consoleLogger;
  const redisUrl = options.redisUrl ?? env().REDIS_URL;
  const deadlineMs = options.shutdownDeadlineMs ?? env().SHUTDOWN_DEADLINE_MS;
  const connection = createWorkerConnection(redisUrl);
  connection.on("error", () => {});
  const ownedPool = options.pool ? undefined : createPgPool(options.databaseUrl ?? env().DATABASE_URL, { max: REFIT_POOL_MAX });
  const pool = options.pool ?? ownedPool!;
  const worker = new Worker(QUEUE.shopRefit, shopRefitProcessor({ pool, logger }), {
    prefix: queuePrefix(),
    connection,
    concurrency: options.concurrency ?? DEFAULT_REFIT_CONCURRENCY,
    // A large shop's refit runs for a minute or more: a generous lock, renewed by BullMQ while it runs.
    lockDuration: Math.max(options.lockDurationMs ?? 30_000, 120_000),
    stalledInterval: options.stalledIntervalMs ?? 30_000,
  });
  logWorkerEvents("shop-refit", worker, logger, { message: "" });
  await worker.waitUntilReady();

  let closing: Promise<{ graceful: boolean }> | undefined;
  const close = () => {
    closing ??= (async () => {
      const graceful = await drainWithin(deadlineMs, () => worker.close());
      connection.disconnect();
      // Only once no refit runs: one still running past the deadline keeps its connections until exit.
      if (graceful) await ownedPool?.end().catch(() => {});
      return { graceful };
    })();
    return closing;
  };
  return { worker, close };
}

/**
 * Logs a worker's errors and failed jobs. Redis being away repeats the same error on every
 * reconnect attempt: `lastError` (shared by the workers of one process) logs it once.
 */
function logWorkerEvents(name: string, worker: Worker, logger: Logger, lastError: { message: string }): void {
  worker.on("error", (error) => {
    if (error.message !== lastError.message) logger.error(`${name} worker error`, { error: error.message });
    lastError.message = error.message;
  });
  worker.on("ready", () => {
    lastError.message = "";
  });
  worker.on("failed", (job, error) => {
    logger.error(`${name} job failed`, { jobId: job?.id, attempts: job?.attemptsMade, error: errorMessage(error) });
  });
}

/** Runs `drain`, giving up at the deadline: whether it finished in time (a failing drain counts as finished). */
async function drainWithin(deadlineMs: number, drain: () => Promise<void>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), deadlineMs);
  });
  const drained = drain().then(
    () => true as const,
    () => true as const,
  );
  const graceful = await Promise.race([drained, deadline]);
  clearTimeout(timer);
  return graceful;
}
