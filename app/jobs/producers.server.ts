import { IngestJob, QUEUE, ingestJobId, producerQueue } from "./queues.server";

/**
 * Enqueues a stored delivery for ingestion. Returns false (and never throws) when Redis
 * is unreachable: the row is already safe and the sweeper will enqueue it.
 */
export async function enqueueIngest(deliveryId: bigint | string): Promise<boolean> {
  const data = IngestJob.parse({ deliveryId: String(deliveryId) });
  try {
    await producerQueue(QUEUE.ingest).add("ingest", data, { jobId: ingestJobId(data.deliveryId) });
    return true;
  } catch {
    return false;
  }
}
