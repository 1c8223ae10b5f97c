import { type PrismaClient } from "@prisma/client";
import { DelayedError, type Job, type Queue, UnrecoverableError } from "bullmq";
import type pg from "pg";
import { installedShops, shopsToReconcile } from "~/data/shop.server";
import { recordMetafieldDefinitionsCheck } from "~/data/shop-metafield-definitions.server";
import { destinationsWithWork, ensureShopifyDestination, pruneDestinationRuns } from "~/data/destinations.server";
import { flowDestinationsWithPendingEvents, isFlowDestination, lockFlowLifecycle, pruneRefusedFlowEvents, syncFlowDestination } from "~/data/flow-triggers.server";
import { pgPool, pgTransaction } from "~/db/pg.server";
import { refreshPlannerStatistics } from "~/db/planner-statistics.server";
import { DestinationRetryableError } from "~/destinations/adapter";
import { type AdminGraphqlClient, MetafieldDefinitionsError, ensureTenureMetafieldDefinitions } from "~/destinations/shopify/definitions.server";
import { requestShopifySegmentsUpdate, updatePublishedShopifySegments } from "~/destinations/shopify/segments.server";
import { DestinationBusyError, type SyncDeps, runDestinationPass, runErasurePass } from "~/destinations/sync.server";
import { type FlowDeps, runFlowDueToReorderOfShops, runFlowPass } from "~/destinations/flow/fire.server";
import { type DeliveryOutcome, type IngestDeps, processDelivery } from "~/ingest/deliveries.server";
import { type SweepOptions, type SweepReport, sweepPendingDeliveries } from "~/ingest/sweeper.server";
import { type BackfillDeps, advanceBackfill, startBackfill } from "~/integrations/bulk-orders.server";
import { type ReconcileDeps, reconcileShop } from "~/integrations/reconcile.server";
import { ShopifyAdminError } from "~/integrations/shopify-admin.server";
import { ShopBatches } from "~/lib/shop-batches";
import { type Logger, consoleLogger, errorMessage, silentLogger } from "~/lib/log.server";
import { type CustomerMetricsJobResult, recomputeAndAskForRefit } from "~/metrics/recompute.server";
import { PAYLOADS, type Payload, QUEUE, type QueueName } from "~/queues/contract";
import { enqueueDestination, enqueueReconcileShops } from "~/queues/enqueue.server";
import { type RefitDebounce } from "~/refit/debounce";
import { requestNightlyRefits } from "~/refit/nightly.server";
import { type RefitReport, refitShop } from "~/refit/refit.server";

// The processor registry: one processor per queue, each a few lines that hand a parsed
// payload to the room that does the work (ADR 0011). Every job passes the one parse step
// first: a payload off the queue contract fails its job once, without retries (retrying
// the same bytes cannot help), and stays visible in the failed set.

/** Parses a job's data against its queue's payload schema; UnrecoverableError when it does not fit. */
export function parsePayload<Q extends QueueName>(queue: Q, data: unknown): Payload<Q> {
  const parsed = PAYLOADS[queue].safeParse(data);
  if (!parsed.success) throw new UnrecoverableError(`invalid ${queue} job data: ${parsed.error.message}`);
  return parsed.data as Payload<Q>;
}

/** The BullMQ processor for `queue`: parse, then hand over. */
export function parsedProcessor<Q extends QueueName, R>(
  queue: Q,
  work: (data: Payload<Q>, job: Job, token?: string) => Promise<R>,
): (job: Job, token?: string) => Promise<R> {
  return async (job: Job, token?: string) => work(parsePayload(queue, job.data), job, token);
}

/** A Shopify refusal that retrying cannot cure (no session, 401, a refused query) fails the job for good. */
function unrecoverableIfShopifyRefused(error: unknown): never {
  if (error instanceof ShopifyAdminError && !error.retriable) throw new UnrecoverableError(error.message);
  throw error;
}

/** ingest: one stored delivery through the one write path (app/ingest/deliveries.server.ts). */
export function ingestProcessor(db: PrismaClient, deps: IngestDeps = {}) {
  return parsedProcessor(QUEUE.ingest, async (data): Promise<DeliveryOutcome> => {
    const outcome = await processDelivery(db, BigInt(data.deliveryId), deps);
    // A payload of the wrong shape fails its job once, without retries, and stays visible.
    if (outcome.status === "failed") throw new UnrecoverableError(outcome.error);
    return outcome;
  });
}

export type MaintenanceReport = SweepReport & {
  /** Live-path tables analyzed this round; null when the analysis failed (logged, retried next round). */
  analyzed: string[] | null;
};

/**
 * maintenance: the sweeper (app/ingest/sweeper.server.ts), then the live path's planner
 * statistics (app/db/planner-statistics.server.ts), on the sweeper's schedule.
 */
export function maintenanceProcessor(db: PrismaClient, pool: pg.Pool, ingestQueue: Queue, sweep: SweepOptions, logger: Logger = silentLogger) {
  return parsedProcessor(QUEUE.maintenance, async (data): Promise<MaintenanceReport> => {
    switch (data.task) {
      case "sweep-deliveries": {
        const report = await sweepPendingDeliveries(db, ingestQueue, sweep);
        const analyzed = await refreshPlannerStatistics(pool).catch((error: unknown) => {
          logger.error("could not refresh the live path's planner statistics", { error: errorMessage(error) });
          return null;
        });
        return { ...report, analyzed };
      }
    }
  });
}

export interface MetafieldDefinitionsDeps {
  admin: AdminGraphqlClient;
  /** A pool: the Flow destination's check takes a transaction of its own. */
  pool: pg.Pool;
  logger: Logger;
}

/**
 * Tenure's customer metafield definitions made sure of on one shop (issue 15,
 * app/destinations/shopify/definitions.server.ts), the outcome logged and recorded
 * (ShopMetafieldDefinitions: the namespace segment queries name, and why definitions are
 * missing). Never throws: a refusal or an unreachable Shopify must not fail anything else,
 * and the next install or worker start tries again.
 */
export async function makeSureOfMetafieldDefinitions({ admin, pool, logger }: MetafieldDefinitionsDeps, shop: string): Promise<{ complete: boolean }> {
  let check: { namespace: string | null; complete: boolean; problem: string | null };
  try {
    const outcome = await ensureTenureMetafieldDefinitions(admin, shop);
    check = { namespace: outcome.namespace, complete: true, problem: null };
    if (outcome.created.length + outcome.updated.length > 0) {
      logger.info("Tenure's customer metafield definitions made sure of", { shop, namespace: outcome.namespace, created: outcome.created, updated: outcome.updated });
    }
  } catch (error) {
    const refused = error instanceof MetafieldDefinitionsError;
    check = { namespace: refused ? error.outcome.namespace : null, complete: false, problem: errorMessage(error) };
    logger.error(
      refused
        ? "Shopify refused some of Tenure's customer metafield definitions: their values cannot be written nor filtered on in segments until this is fixed (tried again on the next install or worker start)"
        : "could not make sure of Tenure's customer metafield definitions (tried again on the next install or worker start)",
      { shop, error: check.problem },
    );
  }
  await recordMetafieldDefinitionsCheck(pool, { shop, ...check }).catch((error: unknown) => {
    logger.error("could not record the metafield definitions check", { shop, error: errorMessage(error) });
  });
  // Published Shopify segments follow the namespace just recorded and the current query
  // builder (a deploy may change it): updated by a job, retried with backoff.
  await requestShopifySegmentsUpdate(pool, shop).catch((error: unknown) => {
    logger.error("could not ask for the update of the shop's published Shopify segments (tried again on the next install or worker start)", { shop, error: errorMessage(error) });
  });
  // The metafield write-back's destination (created with a full pass wanted, which the sweep
  // or the import's refit runs; a paused one resumes): beside the definitions it writes under.
  await ensureShopifyDestination(pool, shop).catch((error: unknown) => {
    logger.error("could not make sure of the Shopify write-back destination (tried again on the next install or worker start)", { shop, error: errorMessage(error) });
  });
  // The Flow triggers' destination, which an uninstall deleted while Flow's lifecycle rows stay:
  // a reinstalled shop with enabled workflows gets it back (a new silent baseline, run by the sweep).
  // After the shop's lifecycle lock, as a callback takes it: one disabling the last trigger
  // meanwhile is seen (else a destination with nothing enabled would come back).
  await pgTransaction(pool, async (_tx, client) => {
    await lockFlowLifecycle(client, shop);
    await syncFlowDestination(client, shop);
  }).catch((error: unknown) => {
    logger.error("could not make sure of the Flow triggers' destination (tried again on the next install or worker start)", { shop, error: errorMessage(error) });
  });
  return { complete: check.complete };
}

export interface MetafieldDefinitionsPass {
  /** Settles when every installed shop was checked, or after stop() with the shop in hand; never rejects. */
  done: Promise<{ shops: number; complete: number }>;
  /** No shop is started after this. */
  stop(): void;
}

/**
 * On a worker start: every installed shop's definitions made sure of, one shop at a time in
 * the background (a deploy that changes a definition reaches every shop; a shop whose install
 * check failed gets another).
 */
export function makeSureOfMetafieldDefinitionsOfInstalledShops(deps: MetafieldDefinitionsDeps): MetafieldDefinitionsPass {
  let stopped = false;
  const done = (async () => {
    const tally = { shops: 0, complete: 0 };
    let shops: string[];
    try {
      shops = await installedShops(deps.pool);
    } catch (error) {
      deps.logger.error("could not list the installed shops to make sure of their metafield definitions", { error: errorMessage(error) });
      return tally;
    }
    for (const shop of shops) {
      if (stopped) break;
      const { complete } = await makeSureOfMetafieldDefinitions(deps, shop);
      tally.shops += 1;
      if (complete) tally.complete += 1;
    }
    deps.logger.info("metafield definitions checked on worker start", { ...tally, installed: shops.length });
    return tally;
  })();
  return { done, stop: () => void (stopped = true) };
}

export type BackfillOutcome = Awaited<ReturnType<typeof advanceBackfill>> | { state: "started"; runId: string; status: string };

/**
 * backfill: `start` begins a shop's bulk import (idempotent per shop), `advance` polls its
 * bulk operation or downloads its result, resuming from the last committed line
 * (app/integrations/bulk-orders.server.ts). `start` runs after every install, so it also
 * makes sure of the shop's metafield definitions, in the background: the job neither waits
 * for them nor fails with them.
 */
export function backfillProcessor(deps: BackfillDeps, options: { metafieldDefinitions?: boolean } = {}) {
  return parsedProcessor(QUEUE.backfill, async (data, job): Promise<BackfillOutcome> => {
    try {
      if (data.task === "start") {
        if (options.metafieldDefinitions !== false) {
          const logger = deps.log ?? consoleLogger;
          Promise.resolve()
            .then(() => makeSureOfMetafieldDefinitions({ admin: deps.admin, pool: deps.pool ?? pgPool(), logger }, data.shop))
            .catch((error: unknown) => logger.error("could not make sure of Tenure's customer metafield definitions", { shop: data.shop, error: errorMessage(error) }));
        }
        const run = await startBackfill(deps, data.shop, { force: data.force });
        return { state: "started", runId: run.id.toString(), status: run.status };
      }
      return await advanceBackfill(deps, BigInt(data.runId), { retry: job.attemptsMade > 0 });
    } catch (error) {
      return unrecoverableIfShopifyRefused(error);
    }
  });
}

/**
 * reconcile: `sweep-all` (on a schedule) fans out one `shop` job per installed shop; `shop`
 * pages through that shop's recently updated orders (app/integrations/reconcile.server.ts).
 */
export function reconcileProcessor(deps: ReconcileDeps) {
  return parsedProcessor(QUEUE.reconcile, async (data, job) => {
    if (data.task === "sweep-all") {
      const shops = await shopsToReconcile(deps.db);
      await enqueueReconcileShops(shops);
      return { shops: shops.length };
    }
    try {
      // A retry may follow a sweep whose rows committed but whose metrics hand-off failed.
      const report = await reconcileShop(deps, data.shop, { resendSeen: job.attemptsMade > 0 });
      return { ...report, since: report.since.toISOString(), customerIds: report.customerIds.length };
    } catch (error) {
      return unrecoverableIfShopifyRefused(error);
    }
  });
}

export interface CustomerMetricsProcessorDeps {
  pool: pg.Pool;
  logger?: Logger;
  /** Debounce numbers (tests shorten them). */
  debounce?: RefitDebounce;
  /** The clock (tests). */
  now?: () => Date;
}

/** Customers of one shop recomputed together at most (one write statement). */
const MAX_METRICS_BATCH = 200;

/**
 * customer-metrics: one customer's row recomputed (app/metrics/recompute.server.ts). Jobs of
 * one shop that arrive while a recompute of that shop runs are recomputed together when it
 * ends, in one transaction and one write statement.
 */
export function customerMetricsProcessor({ pool, logger = silentLogger, debounce, now }: CustomerMetricsProcessorDeps) {
  const batches = new ShopBatches((shop, ids) => recomputeAndAskForRefit(pool, shop, ids, { now: now?.(), debounce, logger }), MAX_METRICS_BATCH);
  return parsedProcessor(QUEUE.customerMetrics, async (data): Promise<CustomerMetricsJobResult> => batches.submit(data.shop, data.customerId));
}

export interface ShopRefitProcessorDeps {
  /** The refit's own pool: its batch writes never hold the hot path's connections. */
  pool: pg.Pool;
  logger?: Logger;
}

export type ShopRefitResult = RefitReport | { shops: number };

/** shop-refit: `nightly-all` asks for one refit per installed shop; `shop` refits that shop (app/refit/refit.server.ts). */
export function shopRefitProcessor({ pool, logger = silentLogger }: ShopRefitProcessorDeps) {
  return parsedProcessor(QUEUE.shopRefit, async (data): Promise<ShopRefitResult> => {
    if (data.task === "nightly-all") {
      const shops = await requestNightlyRefits(pool);
      logger.info("nightly refits enqueued", { shops });
      return { shops };
    }
    const report = await refitShop(pool, data.shop, { trigger: data.trigger });
    logger.info("shop refit done", { ...report });
    return report;
  });
}

/** Outbox rows older than this are swept into a pass (younger ones have their job's delay to run). */
const DESTINATION_SWEEP_AFTER_SECONDS = 60;
/** Runs (and their failures) shown on the Destinations page for this long; each destination's latest stays. */
const DESTINATION_RUNS_KEPT_DAYS = 30;
/** How long a pass waits when another pass of its destination runs. */
const DESTINATION_BUSY_DELAY_MS = 15_000;

/**
 * destinations: `changes` / `full` run a sync pass, `erase` requests the deletions of
 * redacted customers (app/destinations/sync.server.ts); `sweep-all` asks for a pass of every
 * destination with changes or erasures waiting, or a full pass wanted. A pass that finds its
 * destination busy, or that the tool asks to come back later, waits and runs again, without
 * using an attempt.
 */
export function destinationsProcessor(deps: SyncDeps) {
  return parsedProcessor(QUEUE.destinations, async (data, job, token?: string) => {
    if (data.task === "sweep-all") {
      const waiting = await destinationsWithWork(deps.pool, DESTINATION_SWEEP_AFTER_SECONDS);
      for (const d of waiting) {
        if (d.changes) await enqueueDestination({ task: "changes", destinationId: d.id }, { delayMs: 0 });
        if (d.erasures) await enqueueDestination({ task: "erase", destinationId: d.id });
        if (d.full !== null) await enqueueDestination({ task: "full", destinationId: d.id, reason: d.full });
      }
      // Flow trigger events a failed pass left waiting (they are not outbox rows).
      const flowEvents = await flowDestinationsWithPendingEvents(deps.pool, DESTINATION_SWEEP_AFTER_SECONDS);
      for (const id of flowEvents) await enqueueDestination({ task: "changes", destinationId: id }, { delayMs: 0 });
      await pruneRefusedFlowEvents(deps.pool, DESTINATION_RUNS_KEPT_DAYS);
      const prunedRuns = await pruneDestinationRuns(deps.pool, DESTINATION_RUNS_KEPT_DAYS);
      return { destinations: waiting.length + flowEvents.length, prunedRuns };
    }
    const flowDeps: FlowDeps = { pool: deps.pool, admin: deps.shopifyAdmin, logger: deps.logger };
    try {
      // Shopify Flow's due-to-reorder run of each shop whose local day has not had it yet.
      if (data.task === "flow-due-all") return await runFlowDueToReorderOfShops(flowDeps);
      // The shop's published Shopify segments brought up to date (app/destinations/shopify/segments.server.ts).
      if (data.task === "shopify-segments") {
        if (!deps.shopifyAdmin) throw new UnrecoverableError("this worker has no Shopify Admin API client (started without Shopify work): published segments are updated by `npm run worker`");
        return await updatePublishedShopifySegments({ db: deps.pool, admin: deps.shopifyAdmin }, data.shop).catch(unrecoverableIfShopifyRefused);
      }
      // The shop's Flow triggers ride the same outbox and jobs; their pass is their own (app/destinations/flow).
      if (await isFlowDestination(deps.pool, data.destinationId)) {
        return await runFlowPass(flowDeps, data.destinationId, data.task, data.task === "full" ? data.reason : null);
      }
      if (data.task === "erase") return await runErasurePass(deps, data.destinationId);
      return await runDestinationPass(deps, data.destinationId, data.task, data.task === "full" ? data.reason : null);
    } catch (error) {
      // The tool said when to come back (429 Retry-After): the job waits that long without
      // using an attempt, as when another pass holds the destination.
      const waitMs =
        error instanceof DestinationBusyError
          ? DESTINATION_BUSY_DELAY_MS
          : error instanceof DestinationRetryableError && error.retryAfterMs !== null && error.retryAfterMs > 0
            ? error.retryAfterMs
            : null;
      if (waitMs === null) throw error;
      await job.moveToDelayed(Date.now() + waitMs, token);
      throw new DelayedError();
    }
  });
}
