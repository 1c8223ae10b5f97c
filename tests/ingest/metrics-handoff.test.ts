import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { MetricsHandOffError, processDelivery } from "~/ingest/deliveries.server";
import { QUEUE } from "~/queues/contract";
import { closeProducerQueues } from "~/queues/connections.server";
import { testDb, uniqueShop, insertDelivery } from "../support/db";
import { at, customerPayload, orderPayload, refundPayload } from "../support/webhook-payloads";
import { PrivateRedis } from "../support/private-redis";

// After a delivery commits, every customer it changed gets a metrics recompute on the
// customer-metrics queue (real Redis, read back from the queue). Redis refusing fails the
// job; its retry, finding the delivery PROCESSED, still enqueues.

const db = () => testDb();
const sharedRedisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const opened: { queue: Queue; redis: Redis; shared: boolean }[] = [];
let privateRedis: PrivateRedis | undefined;
let step = 0;

afterEach(async () => {
  await closeProducerQueues();
  process.env.REDIS_URL = sharedRedisUrl;
  await privateRedis?.stop();
  privateRedis = undefined;
});
afterAll(async () => {
  for (const { queue, redis, shared } of opened) {
    // A private Redis is gone with its data; the shared one is cleaned.
    if (shared) await queue.obliterate({ force: true }).catch(() => {});
    if (shared) await queue.close();
    redis.disconnect();
  }
});

/** A fresh queue prefix, so each step's jobs are read on their own (deduplication would merge them otherwise). */
function freshQueues(redisUrl = sharedRedisUrl): Queue {
  step += 1;
  process.env.TENURE_QUEUE_PREFIX = `tenure-test-handoff-${process.pid}-${Date.now()}-${step}`;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  redis.on("error", () => {});
  const queue = new Queue(QUEUE.customerMetrics, { connection: redis, prefix: process.env.TENURE_QUEUE_PREFIX });
  queue.on("error", () => {}); // the Redis a test stops on purpose
  opened.push({ queue, redis, shared: redisUrl === sharedRedisUrl });
  return queue;
}

async function enqueuedCustomers(queue: Queue): Promise<string[]> {
  const jobs = await queue.getJobs(["waiting", "delayed", "prioritized"]);
  return jobs.map((job) => `${job.data.shop}:${job.data.customerId}`).sort();
}

/** Processes one delivery against fresh queues; returns who got a metrics job. */
async function deliver(shop: string, topic: string, payload: unknown): Promise<string[]> {
  const queue = freshQueues();
  const id = await insertDelivery(db(), { shop, topic, payload });
  expect(await processDelivery(db(), id)).toMatchObject({ status: "processed" });
  return enqueuedCustomers(queue);
}

describe("metrics hand-off after a delivery commits", () => {
  it("enqueues every customer the delivery changed: both ends of a moved order, a refund's, a profile's, a delete's", async () => {
    const shop = uniqueShop();
    const created = at("2025-04-01T10:00:00Z");
    expect(await deliver(shop, "orders/create", orderPayload({ id: 71, customerId: 501, updatedAt: created, totalCents: 4_000 })))
      .toEqual([`${shop}:501`]);
    // The order moves from customer 501 to 502: both summaries changed.
    expect(await deliver(shop, "orders/updated", orderPayload({ id: 71, customerId: 502, updatedAt: at("2025-04-02T10:00:00Z"), totalCents: 4_000 })))
      .toEqual([`${shop}:501`, `${shop}:502`]);
    expect(await deliver(shop, "refunds/create", refundPayload({ id: 9_71, orderId: 71, createdAt: at("2025-04-03T10:00:00Z"), amountCents: 1_000 })))
      .toEqual([`${shop}:502`]);
    expect(await deliver(shop, "customers/update", customerPayload(502, at("2025-04-04T10:00:00Z"), { email: "new@example.com" })))
      .toEqual([`${shop}:502`]);
    expect(await deliver(shop, "orders/delete", { id: 71 })).toEqual([`${shop}:502`]);
    // The rows the metrics worker will read are committed.
    expect(await db().customer.findUniqueOrThrow({ where: { shop_id: { shop, id: 502n } } })).toMatchObject({ ordersCount: 0, netSpentMinor: 0n });
  });

  it("enqueues nothing for a delivery that changed nothing (a stale update)", async () => {
    const shop = uniqueShop();
    await deliver(shop, "orders/create", orderPayload({ id: 72, customerId: 503, updatedAt: at("2025-04-02T10:00:00Z"), totalCents: 4_000 }));
    expect(await deliver(shop, "orders/updated", orderPayload({ id: 72, customerId: 503, updatedAt: at("2025-04-01T10:00:00Z"), totalCents: 9_000 })))
      .toEqual([]);
  });

  it("fails the job when Redis refuses after the commit; the retry finds the delivery PROCESSED and enqueues its customer", async () => {
    privateRedis = await PrivateRedis.start();
    const queue = freshQueues(privateRedis.url);
    process.env.REDIS_URL = privateRedis.url; // the producer side
    const shop = uniqueShop();
    const id = await insertDelivery(db(), { shop, topic: "orders/create", payload: orderPayload({ id: 73, customerId: 504, updatedAt: at("2025-04-01T10:00:00Z"), totalCents: 2_500 }) });

    await privateRedis.stop();
    await expect(processDelivery(db(), id)).rejects.toBeInstanceOf(MetricsHandOffError);
    // The rows and the PROCESSED mark committed: the retry must not write them again.
    expect(await db().webhookDelivery.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: "PROCESSED", customerId: 504n, attempts: 1 });
    expect(await db().order.count({ where: { shop } })).toBe(1);

    await privateRedis.start();
    await closeProducerQueues(); // a new connection, as the retrying worker's would be by then
    expect(await processDelivery(db(), id)).toEqual({ status: "skipped", reason: "already-processed" });
    expect(await enqueuedCustomers(queue)).toEqual([`${shop}:504`]);
    expect((await db().webhookDelivery.findUniqueOrThrow({ where: { id } })).attempts).toBe(1);
  }, 30_000);
});
