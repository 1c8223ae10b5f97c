import {
  BackfillJob,
  CustomerMetricsJob,
  DESTINATION_CHANGES_DELAY_MS,
  DestinationJob,
  IngestJob,
  QUEUE,
  ReconcileJob,
  type RefitTrigger,
  ShopRefitJob,
  backfillStartJobId,
  customerMetricsDedupId,
  destinationDedupId,
  ingestJobId,
  reconcileDedupId,
  shopRefitDedupId,
  shopifySegmentsDedupId,
} from "./contract";
import { producerQueue, producerReady } from "./connections.server";

// The enqueue functions: every job enters its queue through one of these, its payload
// parsed against the contract first. Only ids travel; the rows stay in PostgreSQL.

/**
 * Enqueues a stored delivery for ingestion. Returns false (and never throws) when Redis
 * is unreachable: the row is already safe and the sweeper will enqueue it.
 */
export async function enqueueIngest(deliveryId: bigint | string): Promise<boolean> {
  const data = IngestJob.parse({ deliveryId: String(deliveryId) });
  try {
    const queue = producerQueue(QUEUE.ingest);
    // BullMQ would hold an add until Redis first answers, however long that takes: a web
    // process started while Redis is down must still answer its webhooks promptly.
    if (!(await producerReady(FIRST_CONNECT_WAIT_MS))) return false;
    await queue.add("ingest", data, { jobId: ingestJobId(data.deliveryId) });
    return true;
  } catch {
    return false;
  }
}

/** How long an enqueue waits for the producer's first connection before leaving the row to the sweeper. */
const FIRST_CONNECT_WAIT_MS = 1_000;

/** Puts a backfill job on its queue; throws when Redis cannot take it (callers decide whether that matters). */
export async function enqueueBackfill(job: BackfillJob, options: { jobId: string; delay?: number }): Promise<void> {
  const data = BackfillJob.parse(job);
  const queue = producerQueue(QUEUE.backfill);
  if (!(await producerReady(FIRST_CONNECT_WAIT_MS))) throw new Error("Redis is unavailable: backfill job not enqueued");
  await queue.add(data.task, data, options);
}

/** On demand (settings page, CLI) or from the install hook: start a shop's order import. */
export async function requestBackfill(shop: string, options: { force?: boolean } = {}): Promise<void> {
  await enqueueBackfill({ task: "start", shop, force: options.force ?? false }, { jobId: backfillStartJobId(shop, Date.now()) });
}

/**
 * One reconcile job per shop (the scheduled sweep's fan-out), each deduplicated while one
 * for that shop is queued or running, so a slow shop is never queued twice.
 */
export async function enqueueReconcileShops(shops: readonly string[]): Promise<void> {
  const jobs = shops.map((shop) => {
    const data = ReconcileJob.parse({ task: "shop", shop });
    return { name: "shop", data, opts: { deduplication: { id: reconcileDedupId(shop) } } };
  });
  if (jobs.length === 0) return;
  const queue = producerQueue(QUEUE.reconcile);
  if (!(await producerReady(FIRST_CONNECT_WAIT_MS))) throw new Error("Redis is unavailable: reconcile jobs not enqueued");
  // One add per job, as for metrics jobs below: deduplication is applied per add.
  for (const job of jobs) await queue.add(job.name, job.data, job.opts);
}

/**
 * Asks for fresh metrics rows for these customers. Per customer at most one job runs and
 * one waits (BullMQ deduplication, keepLastIfActive): a burst of changes to one customer
 * costs at most two recomputes, the last reading every change. Throws when Redis cannot
 * take the jobs (the ingest job then retries; the nightly refit also rescores everyone).
 */
export async function enqueueCustomerMetrics(shop: string, customerIds: Iterable<bigint | string>): Promise<void> {
  const jobs = [...new Set([...customerIds].map(String))].map((customerId) => {
    const data = CustomerMetricsJob.parse({ shop, customerId });
    return { name: "customer", data, opts: { deduplication: { id: customerMetricsDedupId(shop, data.customerId), keepLastIfActive: true } } };
  });
  if (jobs.length === 0) return;
  const queue = producerQueue(QUEUE.customerMetrics);
  if (!(await producerReady(FIRST_CONNECT_WAIT_MS))) throw new Error("Redis is unavailable: metrics jobs not enqueued");
  // One add per job: BullMQ's addBulk did not apply deduplication options before 5.x
  // releases fixed it, and a burst here is a handful of jobs.
  for (const job of jobs) await queue.add(job.name, job.data, job.opts);
}

/**
 * Puts a shop refit on its queue. Per shop at most one runs and one waits (a request made
 * while a refit runs, e.g. a settings change, gets a refit after it); `delayMs` lets a burst
 * of triggers collapse into one refit. Callers go through requestRefit (app/refit), which
 * applies the debounce.
 */
export async function enqueueShopRefit(shop: string, trigger: RefitTrigger, options: { delayMs?: number } = {}): Promise<void> {
  const data = ShopRefitJob.parse({ task: "shop", shop, trigger });
  const queue = producerQueue(QUEUE.shopRefit);
  if (!(await producerReady(FIRST_CONNECT_WAIT_MS))) throw new Error("Redis is unavailable: refit not enqueued");
  await queue.add("shop", data, { delay: options.delayMs ?? 0, deduplication: { id: shopRefitDedupId(shop), keepLastIfActive: true } });
}

/**
 * Puts a destination pass on its queue. Per destination and task at most one waits and one
 * runs (BullMQ deduplication, keepLastIfActive): changes that arrive while a pass waits join
 * it, and a change made while a pass runs gets the pass after it. `changes` waits
 * DESTINATION_CHANGES_DELAY_MS so a burst is sent together; `shopify-segments` is deduplicated
 * per shop the same way. Throws when Redis cannot take the job (callers on the live path log
 * it: the sweep finds the outbox rows).
 */
export async function enqueueDestination(job: DestinationJob, options: { delayMs?: number } = {}): Promise<void> {
  const data = DestinationJob.parse(job);
  const queue = producerQueue(QUEUE.destinations);
  if (!(await producerReady(FIRST_CONNECT_WAIT_MS))) throw new Error("Redis is unavailable: destination pass not enqueued");
  if (data.task === "sweep-all" || data.task === "flow-due-all") {
    await queue.add(data.task, data);
    return;
  }
  if (data.task === "shopify-segments") {
    await queue.add(data.task, data, { deduplication: { id: shopifySegmentsDedupId(data.shop), keepLastIfActive: true } });
    return;
  }
  const delay = options.delayMs ?? (data.task === "changes" ? DESTINATION_CHANGES_DELAY_MS : 0);
  await queue.add(data.task, data, { delay, deduplication: { id: destinationDedupId(data.destinationId, data.task), keepLastIfActive: true } });
}
