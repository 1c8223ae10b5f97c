import { IngestJob, QUEUE, ingestJobId, producerQueue, producerReady } from "./queues.server";

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
