import { BackfillJob, IngestJob, QUEUE, ReconcileJob, ingestJobId, producerQueue, producerReady } from "./queues.server";

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
  await enqueueBackfill({ task: "start", shop, force: options.force ?? false }, { jobId: `backfill-start-${shop}-${Date.now()}` });
}

/** Reconcile one shop now (deduplicated while one is queued or running). */
export async function enqueueReconcile(shop: string): Promise<void> {
  const data = ReconcileJob.parse({ task: "shop", shop });
  const queue = producerQueue(QUEUE.reconcile);
  if (!(await producerReady(FIRST_CONNECT_WAIT_MS))) throw new Error("Redis is unavailable: reconcile job not enqueued");
  await queue.add("shop", data, { deduplication: { id: `reconcile-${shop}` } });
}
