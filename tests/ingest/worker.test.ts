import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { silentLogger } from "~/lib/log.server";
import { ingestJobId, QUEUE } from "~/queues/contract";
import { closeProducerQueues } from "~/queues/connections.server";
import { enqueueIngest } from "~/queues/enqueue.server";
import { startWorkers, type StartWorkersOptions, type WorkersHandle } from "~/worker/workers.server";
import { testDb, uniqueShop, insertDelivery } from "../support/db";
import { fixture } from "../support/webhook-fixtures";
import { PrivateRedis } from "../support/private-redis";
import { waitFor } from "../support/wait-for";

// The BullMQ side, in process: real Redis, real PostgreSQL, the real processors.

const SHARED_REDIS = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const db = () => testDb();

let handle: WorkersHandle | undefined;
let inspector: { redis: Redis; queue: Queue } | undefined;
let privateRedis: PrivateRedis | undefined;
const sharedRedisUrl = process.env.REDIS_URL;

beforeEach(() => {
  // Fresh queues per test: nothing left over from another test or file can interfere.
  process.env.TENURE_QUEUE_PREFIX = `tenure-test-worker-${process.pid}-${Date.now()}`;
});

afterEach(async () => {
  await handle?.close();
  handle = undefined;
  await closeProducerQueues();
  if (inspector) {
    await inspector.queue.obliterate({ force: true }).catch(() => {});
    await new Queue(QUEUE.maintenance, { connection: inspector.redis, prefix: process.env.TENURE_QUEUE_PREFIX }).obliterate({ force: true }).catch(() => {});
    await inspector.queue.close();
    inspector.redis.disconnect();
    inspector = undefined;
  }
  await privateRedis?.stop();
  privateRedis = undefined;
  process.env.REDIS_URL = sharedRedisUrl;
});

async function start(options: StartWorkersOptions = {}) {
  handle = await startWorkers({ db: db(), redisUrl: SHARED_REDIS, concurrency: 2, sweep: false, logger: silentLogger, shutdownDeadlineMs: 5_000, ...options });
  return handle;
}

function inspect(url = SHARED_REDIS) {
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  redis.on("error", () => {});
  inspector = { redis, queue: new Queue(QUEUE.ingest, { connection: redis, prefix: process.env.TENURE_QUEUE_PREFIX }) };
  return inspector.queue;
}

const status = async (id: bigint) => (await db().webhookDelivery.findUniqueOrThrow({ where: { id } })).status;

describe("ingest worker", () => {
  it("processes a delivery enqueued by the producer and completes its job", async () => {
    await start();
    const queue = inspect();
    const shop = uniqueShop();
    const id = await insertDelivery(db(), { shop, topic: "orders/create", payload: fixture("orders-create") });
    expect(await enqueueIngest(id)).toBe(true);
    expect(await enqueueIngest(id)).toBe(true); // a second add of the same delivery is the same job

    await waitFor(async () => (await status(id)) === "PROCESSED", 10_000, "the delivery to be processed");
    await waitFor(async () => (await queue.getJobState(ingestJobId(String(id)))) === "completed", 10_000, "the job to complete");
    const job = await queue.getJob(ingestJobId(String(id)));
    expect(job?.returnvalue).toEqual({ status: "processed", topic: "orders/create", customerId: "7390571233329", scrubbed: false });
    expect(await queue.getJobCounts("completed", "failed", "waiting")).toEqual({ completed: 1, failed: 0, waiting: 0 });
    expect(await db().order.count({ where: { shop } })).toBe(1);
    expect(await handle!.close()).toEqual({ graceful: true });
  });

  it("fails a payload that is not of its topic's shape once, with no retry, visibly", async () => {
    await start();
    const queue = inspect();
    const id = await insertDelivery(db(), { shop: uniqueShop(), topic: "refunds/create", payload: { id: 1 } });
    await enqueueIngest(id);
    await waitFor(async () => (await queue.getJobState(ingestJobId(String(id)))) === "failed", 10_000, "the job to fail");
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // a retry would have started by now (backoff 1 s)
    const job = await queue.getJob(ingestJobId(String(id)));
    expect(await job?.getState()).toBe("failed");
    expect(job?.attemptsMade).toBe(1);
    expect(job?.failedReason).toMatch(/refunds\/create payload is invalid: order_id/);
    expect(await db().webhookDelivery.findUniqueOrThrow({ where: { id } })).toMatchObject({
      status: "FAILED",
      attempts: 1,
      error: expect.stringMatching(/order_id/),
    });
  });

  it("retries a transient database failure until it succeeds", async () => {
    await start();
    const queue = inspect();
    const shop = uniqueShop();
    const id = await insertDelivery(db(), { shop, topic: "orders/create", payload: fixture("orders-create") });
    // A real failure, not a stub: the table the upsert needs is briefly missing.
    await db().$executeRawUnsafe(`ALTER TABLE "Tombstone" RENAME TO "Tombstone_away"`);
    try {
      await enqueueIngest(id);
      await waitFor(async () => (await db().webhookDelivery.findUniqueOrThrow({ where: { id } })).attempts >= 1, 10_000, "a failed attempt");
      expect(await db().webhookDelivery.findUniqueOrThrow({ where: { id } })).toMatchObject({
        status: "PENDING",
        error: expect.stringMatching(/^will retry: /),
      });
    } finally {
      await db().$executeRawUnsafe(`ALTER TABLE "Tombstone_away" RENAME TO "Tombstone"`);
    }
    await waitFor(async () => (await status(id)) === "PROCESSED", 15_000, "the retry to succeed");
    // The row turns PROCESSED inside the attempt; BullMQ counts the attempt only when the job completes.
    await waitFor(async () => (await queue.getJobState(ingestJobId(String(id)))) === "completed", 10_000, "the job to complete");
    const job = await queue.getJob(ingestJobId(String(id)));
    expect(job?.attemptsMade).toBeGreaterThanOrEqual(2);
    expect(await db().webhookDelivery.findUniqueOrThrow({ where: { id } })).toMatchObject({ error: null });
    expect(await db().order.count({ where: { shop } })).toBe(1);
  });

  it("keeps a delivery whose enqueue failed (Redis down at intake); the sweeper recovers it when Redis is back", async () => {
    privateRedis = await PrivateRedis.start();
    process.env.REDIS_URL = privateRedis.url; // the producer (intake side) uses this Redis
    await start({ redisUrl: privateRedis.url, sweep: { everyMs: 300, olderThanSeconds: 1, batchSize: 100 } });

    await privateRedis.stop();
    const shop = uniqueShop();
    const id = await insertDelivery(db(), { shop, topic: "orders/create", payload: fixture("orders-create") }); // the row is stored...
    expect(await enqueueIngest(id)).toBe(false); // ...and its enqueue fails fast
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await status(id)).toBe("PENDING");

    await privateRedis.start(); // back, and empty: the schedule and any jobs are gone
    await waitFor(async () => (await status(id)) === "PROCESSED", 20_000, "the sweeper to recover the delivery");
    expect(await db().order.count({ where: { shop } })).toBe(1);
  }, 45_000);

  it("re-enqueues a PENDING delivery whose job ran out of retries", async () => {
    await start({ sweep: { everyMs: 300, olderThanSeconds: 1, batchSize: 100 } });
    const queue = inspect();
    const shop = uniqueShop();
    const id = await insertDelivery(db(), { shop, topic: "orders/create", payload: fixture("orders-create") });
    await db().$executeRawUnsafe(`ALTER TABLE "Tombstone" RENAME TO "Tombstone_away"`);
    try {
      // One attempt only: the job fails for good while the database is broken, and its id
      // would block a plain re-add.
      await queue.add("ingest", { deliveryId: String(id) }, { jobId: ingestJobId(String(id)), attempts: 1 });
      await waitFor(async () => (await queue.getJobState(ingestJobId(String(id)))) === "failed", 10_000, "the job to fail");
      expect(await status(id)).toBe("PENDING");
    } finally {
      await db().$executeRawUnsafe(`ALTER TABLE "Tombstone_away" RENAME TO "Tombstone"`);
    }
    await waitFor(async () => (await status(id)) === "PROCESSED", 20_000, "the sweeper to replace the failed job");
    expect(await db().order.count({ where: { shop } })).toBe(1);
  });
});
