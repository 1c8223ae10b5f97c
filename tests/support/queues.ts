import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll } from "vitest";

// A look into the test file's own BullMQ prefix on the shared Redis.
// (dropQueues, which empties every queue of a prefix, is in ingested-shops.ts.)

/**
 * Gives this test file its own BullMQ prefix on the shared Redis and returns a reader for
 * the ingest queue. Everything under the prefix is removed after the file.
 */
export function isolatedIngestQueue(label: string): Queue {
  const prefix = `tenure-test-${label}-${process.pid}-${Date.now().toString(36)}`;
  process.env.TENURE_QUEUE_PREFIX = prefix;
  const connection = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { maxRetriesPerRequest: null });
  const queue = new Queue("ingest", { connection, prefix });
  afterAll(async () => {
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    connection.disconnect();
  });
  return queue;
}

/** The ids of the deliveries waiting in the ingest queue. */
export async function queuedDeliveryIds(queue: Queue): Promise<string[]> {
  const jobs = await queue.getJobs(["waiting", "delayed", "prioritized", "active"]);
  return jobs.map((job) => String((job.data as { deliveryId: string }).deliveryId)).sort();
}
