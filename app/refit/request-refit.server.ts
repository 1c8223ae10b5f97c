import { QUEUE, type RefitTrigger, shopRefitDedupId } from "~/queues/contract";
import { producerQueue } from "~/queues/connections.server";
import { enqueueShopRefit } from "~/queues/enqueue.server";

// The one way to ask for a shop's refit, whatever the trigger: the live metrics debounce,
// a settings save, a finished import, the nightly fan-out, the demo, the CLI. Per shop at
// most one refit runs and one waits (the queue's deduplication, app/queues/enqueue.server.ts).

export interface RequestRefitOptions {
  /** Run the refit this long from now (default 0: now). */
  delayMs?: number;
  /**
   * Skip the request when this process asked for the shop's refit within this many ms, due
   * no later than this one (the debounce's requestEveryMs: a request is idempotent, the
   * memo spares Redis on a busy shop). Default: always ask.
   */
  unlessAskedWithinMs?: number;
}

/** The last memoised request per shop in this process: when it was made and when it asked the refit to run. */
const lastRequest = new Map<string, { at: number; dueAt: number }>();
const REMEMBERED_SHOPS = 1_000;

/**
 * Asks for the shop's refit `delayMs` from now. A refit already waiting for the shop absorbs
 * the request; when that one is delayed past when this one is due (a debounce wait, and a
 * settings save or the threshold wants it now), it is brought forward. Resolves false when
 * skipped (unlessAskedWithinMs); throws when Redis cannot take the request.
 */
export async function requestRefit(shop: string, trigger: RefitTrigger, options: RequestRefitOptions = {}): Promise<boolean> {
  const delayMs = options.delayMs ?? 0;
  const memo = options.unlessAskedWithinMs;
  if (memo !== undefined) {
    const at = Date.now();
    const last = lastRequest.get(shop);
    if (last && at - last.at < memo && last.dueAt <= at + delayMs) return false;
    lastRequest.delete(shop);
    lastRequest.set(shop, { at, dueAt: at + delayMs });
    if (lastRequest.size > REMEMBERED_SHOPS) lastRequest.delete(lastRequest.keys().next().value as string);
  }
  try {
    await enqueueShopRefit(shop, trigger, { delayMs });
    await bringForward(shop, delayMs);
    return true;
  } catch (error) {
    // Not asked after all: the next trigger must not be skipped for it.
    if (memo !== undefined) lastRequest.delete(shop);
    throw error;
  }
}

/** Brings the shop's waiting refit forward to `delayMs` from now when it is delayed past that. */
async function bringForward(shop: string, delayMs: number): Promise<void> {
  const refitQueue = producerQueue(QUEUE.shopRefit);
  const jobId = await refitQueue.getDeduplicationJobId(shopRefitDedupId(shop));
  const job = jobId ? await refitQueue.getJob(jobId) : undefined;
  if (!job || !(await job.isDelayed())) return;
  const dueAt = Date.now() + delayMs;
  if (job.timestamp + (job.delay ?? 0) <= dueAt) return;
  // Either may fail if the job started meanwhile: then it runs anyway.
  if (delayMs === 0) await job.promote().catch(() => {});
  else await job.changeDelay(delayMs).catch(() => {});
}
