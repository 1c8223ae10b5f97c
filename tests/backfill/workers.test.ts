import { Queue } from "bullmq";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { afterShopInstalled } from "~/shopify.server";
import { silentLogger } from "~/lib/log.server";
import { QUEUE } from "~/queues/contract";
import { closeProducerQueues, createWorkerConnection, queuePrefix } from "~/queues/connections.server";
import { type WorkersHandle, startWorkers } from "~/worker/workers.server";
import { testDb, uniqueShop, snapshot } from "../support/db";
import { orderPayload } from "../support/webhook-payloads";
import { waitFor } from "../support/wait-for";
import { FakeShopify } from "../support/fake-shopify";
import { graphqlOrderFromWebhook } from "../support/graphql-shapes";

// The worker process's Shopify side, wired as `npm run worker` wires it: install hook ->
// backfill queue -> bulk operation polled to completion; reconcile schedule -> per-shop sweep.

const db = () => testDb();
let fake: FakeShopify;
let handle: WorkersHandle | undefined;

beforeAll(async () => {
  fake = await new FakeShopify().start();
});
afterAll(() => fake.close());
afterEach(async () => {
  await handle?.close();
  handle = undefined;
  await closeProducerQueues();
  const connection = createWorkerConnection(process.env.REDIS_URL);
  for (const name of [QUEUE.backfill, QUEUE.reconcile, QUEUE.ingest, QUEUE.maintenance]) {
    await new Queue(name, { connection, prefix: queuePrefix() }).obliterate({ force: true }).catch(() => {});
  }
  connection.disconnect();
});

describe("startWorkers with Shopify work", () => {
  it("imports a newly installed shop's orders and reconciles it on schedule", async () => {
    process.env.TENURE_QUEUE_PREFIX = `tenure-test-shopify-workers-${process.pid}-${Date.now()}`;
    const shop = uniqueShop();
    const payloads = [1, 2, 3, 4].map((i) =>
      orderPayload({ id: 60 + i, customerId: 900 + (i % 2), updatedAt: new Date(Date.UTC(2025, 0, i)), totalCents: 1_000 * i }),
    );
    fake.orders = payloads.map(graphqlOrderFromWebhook);
    await db().shop.create({ data: { domain: shop } });
    await fake.installSession(db(), shop);
    handle = await startWorkers({
      db: db(),
      redisUrl: process.env.REDIS_URL,
      sweep: false,
      logger: silentLogger,
      shutdownDeadlineMs: 5_000,
      shopify: { pollEveryMs: 100, reconcileEveryMs: 300 },
    });

    await afterShopInstalled(shop);
    const run = await waitFor(async () => {
      const row = await db().backfillRun.findFirst({ where: { shop } });
      return row?.status === "COMPLETED" ? row : null;
    }, 15_000, "the backfill to complete");
    expect(run).toMatchObject({ ordersProcessed: 4, expectedCount: 4 });
    expect((await snapshot(db(), shop)).orders.map((o) => o.id)).toEqual([61n, 62n, 63n, 64n]);

    // The schedule keeps sweeping: one starts after the import finished.
    const finishedAt = run.finishedAt?.getTime() ?? Infinity;
    await waitFor(async () => {
      const { reconciledAt } = await db().shop.findUniqueOrThrow({ where: { domain: shop } });
      return reconciledAt !== null && reconciledAt.getTime() > finishedAt;
    }, 15_000, "a sweep after the import");
    expect(fake.graphqlRequests("TenureReconcile").length).toBeGreaterThanOrEqual(1);
    // Running the install hook again (a renewed token) starts no second import.
    await afterShopInstalled(shop);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await db().backfillRun.count({ where: { shop } })).toBe(1);
  });
});
