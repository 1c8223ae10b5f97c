import { type Job, Queue } from "bullmq";
import { Redis } from "ioredis";
import type pg from "pg";
import { silentLogger } from "~/lib/log.server";
import { MetricsHandOffError, processDelivery } from "~/ingest/deliveries.server";
import { refitShop } from "~/refit/refit.server";
import { type CustomerMetricsJobResult } from "~/metrics/recompute.server";
import { requestRefit } from "~/refit/request-refit.server";
import { enqueueIngest } from "~/queues/enqueue.server";
import { QUEUE, shopRefitDedupId } from "~/queues/contract";
import { closeProducerQueues } from "~/queues/connections.server";
import { type StartWorkersOptions, type WorkersHandle, startWorkers } from "~/worker/workers.server";
import { testDb, uniqueShop, insertDelivery, testPool } from "../support/db";
import { orderPayload } from "../support/webhook-payloads";
import { PrivateRedis } from "../support/private-redis";
import { waitFor } from "../support/wait-for";
import { REDIS_URL, createShop, daysBefore, dropQueues, metricsRow, order } from "../support/ingested-shops";

// The customer-metrics and shop-refit workers in process: real Redis, real PostgreSQL, the
// real ingest, metrics and refit processors.

let handle: WorkersHandle | undefined;
let privateRedis: PrivateRedis | undefined;
const held: pg.PoolClient[] = [];
const sharedRedisUrl = process.env.REDIS_URL;

beforeEach(() => {
  process.env.TENURE_QUEUE_PREFIX = `tenure-test-metrics-${process.pid}-${Date.now()}`;
});

afterEach(async () => {
  // Locks a test still holds are released first, or closing would wait on the jobs behind them.
  for (const client of held.splice(0)) {
    await client.query("ROLLBACK").catch(() => {});
    client.release();
  }
  await handle?.close();
  handle = undefined;
  await dropQueues(process.env.TENURE_QUEUE_PREFIX, privateRedis?.url ?? REDIS_URL);
  await privateRedis?.stop();
  privateRedis = undefined;
  process.env.REDIS_URL = sharedRedisUrl;
});

async function start(options: StartWorkersOptions = {}): Promise<WorkersHandle> {
  handle = await startWorkers({
    db: testDb(),
    pool: testPool(),
    redisUrl: REDIS_URL,
    concurrency: 2,
    sweep: false,
    logger: silentLogger,
    shutdownDeadlineMs: 5_000,
    metrics: { concurrency: 4 },
    ...options,
  });
  return handle;
}

/** Holds row locks in a transaction of its own until the test ends (or `release`). */
async function holdLock(sql: string, params: unknown[]): Promise<{ release: () => Promise<void> }> {
  const client = await testPool().connect();
  held.push(client);
  await client.query("BEGIN");
  const locked = await client.query(sql, params);
  expect(locked.rowCount).toBe(1);
  return {
    release: async () => {
      held.splice(held.indexOf(client), 1);
      await client.query("COMMIT");
      client.release();
    },
  };
}

const inspectors = new Map<Queue, Redis>();

/** A queue of the test's prefix, for looking at jobs (closeQueue when done). */
function queue(name: string, url = REDIS_URL): Queue {
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  redis.on("error", () => {});
  const q = new Queue(name, { connection: redis, prefix: process.env.TENURE_QUEUE_PREFIX });
  q.on("error", () => {});
  inspectors.set(q, redis);
  return q;
}

async function closeQueue(q: Queue): Promise<void> {
  await q.close();
  inspectors.get(q)?.disconnect();
  inspectors.delete(q);
}

const NOW = new Date();

describe("customer-metrics worker", () => {
  it("collapses 20 rapid changes to one customer into one running and one follow-up recompute, which reads the last change", async () => {
    const workers = await start();
    const shop = uniqueShop("metrics");
    await createShop(shop);
    await order(shop, 501, 1_000, daysBefore(NOW, 30));
    await waitFor(async () => (await metricsRow(shop, 501))?.orders === 1, 10_000, "the first metrics row");

    // Jobs of this shop running now (one that started before these listeners is not counted).
    const running = new Set<string>();
    let mostRunning = 0;
    let runs = 0;
    const mine = (job?: Job) => job?.data?.shop === shop;
    workers.metricsWorker!.on("active", (job) => {
      if (!mine(job)) return;
      running.add(job.id!);
      runs++;
      mostRunning = Math.max(mostRunning, running.size);
    });
    const finished = (job?: Job) => {
      if (job?.id) running.delete(job.id);
    };
    workers.metricsWorker!.on("completed", finished);
    workers.metricsWorker!.on("failed", finished);

    // The customer's metrics row is locked: the first recompute blocks at its write while the
    // other 19 changes arrive (each ingest hands the customer to the metrics queue).
    const lock = await holdLock(`SELECT 1 FROM "CustomerMetrics" WHERE shop = $1 AND "customerId" = 501 FOR UPDATE`, [shop]);
    for (let k = 1; k <= 20; k++) await order(shop, 501, 1_000 + k, daysBefore(NOW, 20 - k));
    await waitFor(async () => running.size === 1, 10_000, "a recompute to be running");
    const metrics = queue(QUEUE.customerMetrics);
    try {
      // Nothing else waits: the other changes are folded into one stored follow-up.
      expect(await metrics.getJobCounts("waiting", "delayed", "prioritized")).toEqual({ waiting: 0, delayed: 0, prioritized: 0 });
      await lock.release();
      await waitFor(async () => (await metricsRow(shop, 501))?.orders === 21, 10_000, "the row to read every change");
      await waitFor(async () => running.size === 0 && (await metrics.getActiveCount()) + (await metrics.getWaitingCount()) === 0, 10_000, "the queue to drain");
    } finally {
      await closeQueue(metrics);
    }
    expect(mostRunning).toBe(1);
    expect(runs).toBeGreaterThanOrEqual(1);
    expect(runs).toBeLessThanOrEqual(2);
    const row = await metricsRow(shop, 501);
    expect(row).toMatchObject({ orders: 21, netSpentMinor: BigInt(1_000 + 20 * 1_000 + (20 * 21) / 2) });
  });

  it("recomputes the customers of a shop that change while its recompute runs together, in one batch", async () => {
    // (A batch holds at most concurrency - 1 customers: the jobs waiting in it are active jobs.)
    const workers = await start({ metrics: { concurrency: 8 } });
    const shop = uniqueShop("metrics");
    await createShop(shop);
    await order(shop, 551, 1_000, daysBefore(NOW, 30));
    await waitFor(async () => (await metricsRow(shop, 551))?.orders === 1, 10_000, "the first metrics row");
    const results = new Map<string, CustomerMetricsJobResult>();
    const active = new Set<string>();
    workers.metricsWorker!.on("active", (job) => {
      if (job.data.shop === shop) active.add(job.data.customerId);
    });
    workers.metricsWorker!.on("completed", (job, result: CustomerMetricsJobResult) => {
      if (job.data.shop === shop) results.set(job.data.customerId, result);
    });

    // 551's recompute blocks at its write; five other customers order meanwhile.
    const lock = await holdLock(`SELECT 1 FROM "CustomerMetrics" WHERE shop = $1 AND "customerId" = 551 FOR UPDATE`, [shop]);
    await order(shop, 551, 2_000, daysBefore(NOW, 2));
    await waitFor(async () => (await testPool().query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%CustomerMetrics%'`)).rowCount! > 0, 10_000, "551's write to wait");
    for (let c = 552; c <= 556; c++) await order(shop, c, 3_000, daysBefore(NOW, 1));
    await waitFor(async () => active.size === 6, 10_000, "the five jobs to wait behind 551's recompute");
    await lock.release();
    await waitFor(async () => results.size === 6, 10_000, "every recompute");
    expect(results.get("551")).toMatchObject({ batch: 1, written: 1 });
    for (let c = 552; c <= 556; c++) expect(results.get(String(c))).toMatchObject({ batch: 5, written: 5 });
    for (let c = 552; c <= 556; c++) expect(await metricsRow(shop, c)).toMatchObject({ orders: 1, netSpentMinor: 3_000n });
  });

  it("fails a job with bad data once, without retries, and keeps it visible", async () => {
    await start();
    const metrics = queue(QUEUE.customerMetrics);
    try {
      const bad = await metrics.add("customer", { shop: "not a shop!", customerId: "12x" });
      const missing = await metrics.add("customer", { shop: uniqueShop() });
      for (const job of [bad, missing]) {
        await waitFor(async () => (await metrics.getJobState(job.id!)) === "failed", 10_000, "the bad job to fail");
        const failed = await metrics.getJob(job.id!);
        expect(failed?.attemptsMade).toBe(1);
        expect(failed?.failedReason).toMatch(/invalid customer-metrics job data/);
      }
    } finally {
      await closeQueue(metrics);
    }
  });

  it("keeps a change made while Redis was down, and recomputes it once Redis is back (empty)", async () => {
    privateRedis = await PrivateRedis.start();
    process.env.REDIS_URL = privateRedis.url;
    await closeProducerQueues();
    await start({ redisUrl: privateRedis.url });
    const shop = uniqueShop("metrics");
    await createShop(shop);
    await order(shop, 601, 1_000, daysBefore(NOW, 10));
    await waitFor(async () => (await metricsRow(shop, 601))?.orders === 1, 10_000, "the first metrics row");

    await privateRedis.stop();
    const id = await insertDelivery(testDb(), {
      shop,
      topic: "orders/create",
      payload: orderPayload({ id: 990_601, customerId: 601, totalCents: 2_000, updatedAt: daysBefore(NOW, 1), processedAt: daysBefore(NOW, 1) }),
    });
    // The order is stored; handing the customer to the metrics queue fails, so the ingest job would retry.
    await expect(processDelivery(testDb(), id, { pool: testPool() })).rejects.toBeInstanceOf(MetricsHandOffError);
    expect(await metricsRow(shop, 601)).toMatchObject({ orders: 1 });

    await privateRedis.start();
    // The ingest retry: the delivery is processed already and hands its stored customer over again.
    await waitFor(
      async () => (await processDelivery(testDb(), id, { pool: testPool() }).catch(() => null))?.status === "skipped",
      20_000,
      "the producer to reconnect",
    );
    await waitFor(async () => (await metricsRow(shop, 601))?.orders === 2, 20_000, "the metrics worker to recompute after the restart");
    expect(await metricsRow(shop, 601)).toMatchObject({ netSpentMinor: 3_000n });
  });
});

describe("fairness between shops", () => {
  it("keeps webhooks of other shops (and the refitting shop's own) flowing to fresh metrics rows while a shop's refit is in flight", async () => {
    await start({ concurrency: 2 });
    const big = uniqueShop("big");
    const small = uniqueShop("small");
    await createShop(big);
    await createShop(small);
    for (let c = 1; c <= 5; c++) await order(big, 700 + c, 1_000 * c, daysBefore(NOW, 10 * c));
    const first = await refitShop(testPool(), big, { trigger: "manual" });

    // The big shop's refit cannot finish while its fit row is locked: a refit in flight for as long as the test wants.
    const lock = await holdLock(`SELECT 1 FROM "ShopFit" WHERE shop = $1 FOR UPDATE`, [big]);
    const refits = queue(QUEUE.shopRefit);
    // (A first-fit request from the live worker may be waiting, delayed: requestRefit brings it forward.)
    expect(await requestRefit(big, "manual")).toBe(true);
    try {
      const refitJobId = await waitFor(async () => refits.getDeduplicationJobId(shopRefitDedupId(big)), 10_000, "the refit job");
      await waitFor(async () => (await refits.getJobState(refitJobId)) === "active", 10_000, "the refit to start");

      // Webhooks of the small shop and of the big shop itself, through the ingest worker.
      const sent = new Date();
      for (const [shop, customer] of [[small, 801], [big, 701]] as const) {
        const id = await insertDelivery(testDb(), {
          shop,
          topic: "orders/create",
          payload: orderPayload({ id: 880_000 + customer, customerId: customer, totalCents: 5_000, updatedAt: NOW, processedAt: NOW }),
        });
        expect(await enqueueIngest(id)).toBe(true);
      }
      await waitFor(async () => (await metricsRow(small, 801))?.orders === 1, 15_000, "the small shop's metrics row");
      await waitFor(async () => (await metricsRow(big, 701))?.orders === 2, 15_000, "the big shop's live row");
      expect((await metricsRow(small, 801))!.computedAt.getTime()).toBeGreaterThanOrEqual(sent.getTime() - 1_000);

      // Both rows are fresh while the refit is still running, and its new fit is not written yet.
      expect(await refits.getJobState(refitJobId)).toBe("active");
      const during = await testPool().query<{ version: number }>(`SELECT version FROM "ShopFit" WHERE shop = $1`, [big]);
      expect(during.rows[0].version).toBe(first.version);

      await lock.release();
      await waitFor(async () => (await refits.getJobState(refitJobId)) === "completed", 20_000, "the refit to finish");
      const after = await testPool().query<{ version: number }>(`SELECT version FROM "ShopFit" WHERE shop = $1`, [big]);
      expect(after.rows[0].version).toBe(first.version + 1);
    } finally {
      await closeQueue(refits);
    }
  });
});
