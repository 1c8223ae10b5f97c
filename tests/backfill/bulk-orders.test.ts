import { Queue, Worker } from "bullmq";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { processDelivery } from "~/ingest/deliveries.server";
import { backfillProcessor } from "~/worker/registry.server";
import { enqueueBackfill } from "~/queues/enqueue.server";
import { type BackfillJob, QUEUE } from "~/queues/contract";
import { closeProducerQueues, createWorkerConnection, queuePrefix } from "~/queues/connections.server";
import { mapOrderPayload } from "~/ingest/mappers";
import { upsertOrder } from "~/ingest/upsert.server";
import { testDb, uniqueShop, insertDelivery, comparableAcrossSources, snapshot } from "../support/db";
import { fixture } from "../support/webhook-fixtures";
import { consentPayload, orderPayload, refundPayload } from "../support/webhook-payloads";
import { PrivateRedis } from "../support/private-redis";
import { waitFor } from "../support/wait-for";
import { FakeShopify } from "../support/fake-shopify";
import { graphqlOrderFromWebhook } from "../support/graphql-shapes";
import { type BackfillDeps, NO_READ_ALL_ORDERS_NOTICE, advanceBackfill, startBackfill } from "../../app/integrations/bulk-orders.server";
import { AdminGraphql } from "../../app/integrations/shopify-admin.server";

// The backfill against a fake Admin API (HTTP boundary), real PostgreSQL and real Redis.

const db = () => testDb();
let fake: FakeShopify;

/** A small store: 5 customers, a guest, a test order, refunds; as webhook payloads. */
function storePayloads(count: number) {
  const base = Date.parse("2025-01-01T00:00:00Z");
  return Array.from({ length: count }, (_, i) => {
    const id = 10_000 + i;
    const updatedAt = new Date(base + i * 3_600_000);
    // A bulk export shows each customer as they are now, the same on every order: consent per customer.
    const k = i % 5;
    const payload = orderPayload({
      id,
      customerId: i % 9 === 4 ? null : 700 + k,
      updatedAt,
      createdAt: new Date(base + i * 3_000_000),
      totalCents: 1_500 + i * 10,
      test: i === 7,
      // Consent of every kind (issue 14), including none at all, as 2025-01+ webhook payloads.
      emailConsent: [
        consentPayload("subscribed", new Date(base - 86_400_000), "confirmed_opt_in"),
        consentPayload("unsubscribed", new Date(base + k * 60_000), "single_opt_in"),
        consentPayload("not_subscribed", null),
        "absent" as const,
      ][k % 4],
      smsConsent: k % 3 === 0 ? { ...consentPayload("subscribed", new Date(base), "single_opt_in"), consent_collected_from: "SHOPIFY" } : null,
    });
    if (i % 6 === 0) payload.refunds = [refundPayload({ id: 50_000 + i, orderId: id, createdAt: updatedAt, amountCents: 200 })];
    return payload;
  });
}

/** The same orders through the webhook path, into another shop: what the backfill must equal. */
async function webhookReference(payloads: Record<string, unknown>[]) {
  const shop = uniqueShop("reference");
  for (const payload of payloads) await upsertOrder(db(), shop, mapOrderPayload(payload));
  return comparableAcrossSources(await snapshot(db(), shop));
}

/** Line `line` (1-based) of the JSONL file the fake serves for an operation. */
function bulkLine(shopify: FakeShopify, operationId: string | null, line: number): string {
  return shopify.jsonlOf(operationId ?? "").split("\n")[line - 1];
}

/**
 * A 12-order import (batches of 5) whose JSONL line for order `gid` is rewritten by `edit`,
 * started and its operation polled to completion: the next advance downloads it.
 */
async function corruptedImport(parseOnThread: boolean, gid: string, edit: (line: string) => string) {
  const shop = uniqueShop();
  fake.orders = storePayloads(12).map(graphqlOrderFromWebhook);
  fake.editJsonl = (file) => file.split("\n").map((line) => (line.includes(`"${gid}"`) && !line.includes("__parentId") ? edit(line) : line)).join("\n");
  await fake.installSession(db(), shop);
  const deps = recordingDeps([], { batchSize: 5, parseOnThread });
  const run = await startBackfill(deps, shop);
  await advanceBackfill(deps, run.id);
  return { shop, deps, run };
}

function recordingDeps(jobs: BackfillJob[], over: Partial<BackfillDeps> = {}): BackfillDeps {
  return {
    db: db(),
    admin: new AdminGraphql({ db: db(), backoffMs: 10 }),
    enqueue: async (job) => {
      jobs.push(job);
    },
    pollEveryMs: 50,
    ...over,
  };
}

beforeAll(async () => {
  fake = await new FakeShopify().start();
});
afterAll(() => fake.close());

describe("backfill", () => {
  let worker: Worker | undefined;
  beforeEach(() => {
    process.env.TENURE_QUEUE_PREFIX = `tenure-test-backfill-${process.pid}-${Date.now()}`;
    fake.failNext = [];
  });
  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    const connection = createWorkerConnection(process.env.REDIS_URL);
    for (const name of [QUEUE.backfill, QUEUE.shopRefit]) {
      await new Queue(name, { connection, prefix: queuePrefix() }).obliterate({ force: true }).catch(() => {});
    }
    connection.disconnect();
    await closeProducerQueues();
  });

  function startWorker(options: { pollEveryMs: number }) {
    const deps: BackfillDeps = { db: db(), admin: new AdminGraphql({ db: db(), backoffMs: 10 }), enqueue: enqueueBackfill, batchSize: 4, ...options };
    worker = new Worker(QUEUE.backfill, backfillProcessor(deps), { connection: createWorkerConnection(process.env.REDIS_URL), prefix: queuePrefix() });
    return worker;
  }

  it("runs the whole lifecycle on the queue, finished by the bulk_operations/finish webhook", async () => {
    const shop = uniqueShop();
    const payloads = storePayloads(23);
    fake.orders = payloads.map(graphqlOrderFromWebhook);
    await fake.installSession(db(), shop);
    // Polls never see it finish: only the webhook can complete this run.
    const operationsBefore = fake.operations.length;
    startWorker({ pollEveryMs: 60_000 });
    await enqueueBackfill({ task: "start", shop, force: false }, { jobId: `start-${shop}` });
    const run = await waitFor(async () => db().backfillRun.findFirst({ where: { shop } }), 10_000);
    expect(run).toMatchObject({ status: "CREATED", expectedCount: 23, notice: null });
    const operation = fake.operations[operationsBefore];
    expect(operation.query).toContain("lineItems");
    expect(operation.query).toMatch(/defaultEmailAddress \{ emailAddress marketingState marketingOptInLevel marketingUpdatedAt \}/);
    expect(operation.query).toMatch(/defaultPhoneNumber \{ phoneNumber smsMarketingConsent \{ state optInLevel updatedAt collectedFrom \} \}/);
    expect(run?.bulkOperationId).toBe(operation.id);

    fake.complete(operation);
    const finish = { ...fixture("bulk-operations-finish"), admin_graphql_api_id: operation.id, status: "completed" };
    const deliveryId = await insertDelivery(db(), { shop, topic: "bulk_operations/finish", payload: finish });
    expect(await processDelivery(db(), deliveryId)).toMatchObject({ status: "processed" });

    const done = await waitFor(async () => {
      const row = await db().backfillRun.findFirstOrThrow({ where: { shop } });
      return row.status === "COMPLETED" ? row : null;
    }, 15_000);
    const lines = payloads.reduce((n, p) => n + 1 + (p.line_items as unknown[]).length, 0);
    expect(done).toMatchObject({ ordersProcessed: 23, linesProcessed: lines, expectedCount: 23, error: null });
    // Summaries (recomputed once, when the run completed) included.
    const imported = comparableAcrossSources(await snapshot(db(), shop));
    expect(imported).toEqual(await webhookReference(payloads));
    expect(new Set(imported.customers.map((c) => c.emailConsentState))).toEqual(new Set(["SUBSCRIBED", "UNSUBSCRIBED", "NOT_SUBSCRIBED", null]));
    expect(imported.customers.some((c) => c.smsConsentState === "SUBSCRIBED")).toBe(true);
    // The import hands over to one shop refit, not a metrics job per customer.
    const connection = createWorkerConnection(process.env.REDIS_URL);
    try {
      const refits = await new Queue(QUEUE.shopRefit, { connection, prefix: queuePrefix() }).getJobs(["waiting", "delayed", "prioritized"]);
      expect(refits.map((job) => job.data)).toEqual([{ task: "shop", shop, trigger: "backfill" }]);
      expect(await new Queue(QUEUE.customerMetrics, { connection, prefix: queuePrefix() }).count()).toBe(0);
    } finally {
      connection.disconnect();
    }
  });

  it("falls back to polling when the webhook never comes", async () => {
    const shop = uniqueShop();
    const payloads = storePayloads(6);
    fake.orders = payloads.map(graphqlOrderFromWebhook);
    await fake.installSession(db(), shop);
    startWorker({ pollEveryMs: 100 });
    await enqueueBackfill({ task: "start", shop, force: false }, { jobId: `start-${shop}` });
    const done = await waitFor(async () => {
      const row = await db().backfillRun.findFirst({ where: { shop } });
      return row?.status === "COMPLETED" ? row : null;
    }, 15_000);
    expect(done?.ordersProcessed).toBe(6);
    const polls = fake.graphqlRequests("TenureBackfillPoll").filter((r) => r.variables.id === done?.bulkOperationId);
    expect(polls.length).toBeGreaterThanOrEqual(2); // RUNNING, then COMPLETED
    expect(comparableAcrossSources(await snapshot(db(), shop))).toEqual(await webhookReference(payloads));
  });
});

describe("backfill steps", () => {
  it.each([false, true])("resumes a download cut mid-stream after its last committed batch, without writing anything twice (parsing thread: %s)", async (parseOnThread) => {
    const shop = uniqueShop();
    const payloads = storePayloads(30);
    fake.orders = payloads.map(graphqlOrderFromWebhook);
    await fake.installSession(db(), shop);
    const jobs: BackfillJob[] = [];
    const deps = recordingDeps(jobs, { batchSize: 5, parseOnThread });
    const run = await startBackfill(deps, shop);
    expect(jobs).toEqual([{ task: "advance", runId: run.id.toString() }]);
    expect(await advanceBackfill(deps, run.id)).toEqual({ state: "running" });

    fake.cutJsonlAfterBytes = 20_000; // somewhere in the middle of the file
    await expect(advanceBackfill(deps, run.id)).rejects.toThrow();
    const crashed = await db().backfillRun.findUniqueOrThrow({ where: { id: run.id } });
    expect(crashed.status).toBe("DOWNLOADING");
    expect(crashed.ordersProcessed).toBeGreaterThan(0);
    expect(crashed.ordersProcessed).toBeLessThan(30);
    expect(crashed.ordersProcessed % 5).toBe(0);
    expect(await db().order.count({ where: { shop } })).toBe(crashed.ordersProcessed);

    expect(await advanceBackfill(deps, run.id)).toEqual({ state: "completed", ordersProcessed: 30 });
    expect(comparableAcrossSources(await snapshot(db(), shop))).toEqual(await webhookReference(payloads));
    // Again: nothing to do.
    expect(await advanceBackfill(deps, run.id)).toEqual({ state: "completed", ordersProcessed: 30 });
  });

  it.each([false, true])("skips a malformed order, says which line on the run, and imports the rest (parsing thread: %s)", async (parseOnThread) => {
    // The fourth order's total is not money; every other line is fine.
    const { shop, deps, run } = await corruptedImport(parseOnThread, "gid://shopify/Order/10003", (line) => line.replace(/"amount":"[^"]*"/, '"amount":"12,50"'));
    try {
      expect(await advanceBackfill(deps, run.id)).toEqual({ state: "completed", ordersProcessed: 11 });
      const done = await db().backfillRun.findUniqueOrThrow({ where: { id: run.id } });
      expect(done.error).toMatch(/^1 malformed orders skipped: line \d+: graphql order payload is invalid: .*12,50/);
      const line = Number(/line (\d+)/.exec(done.error ?? "")?.[1]);
      expect(bulkLine(fake, run.bulkOperationId, line)).toContain('"gid://shopify/Order/10003"');
      expect(await db().order.count({ where: { shop } })).toBe(11);
      expect(await db().order.findFirst({ where: { shop, id: 10_003n } })).toBeNull();
    } finally {
      fake.editJsonl = null;
    }
  });

  it.each([false, true])("fails the attempt at a line that is not JSON, keeping the batches before it (parsing thread: %s)", async (parseOnThread) => {
    const { shop, deps, run } = await corruptedImport(parseOnThread, "gid://shopify/Order/10008", (line) => line.slice(0, 40));
    try {
      await expect(advanceBackfill(deps, run.id)).rejects.toThrow(/bulk result line \d+ is not JSON/);
      const stopped = await db().backfillRun.findUniqueOrThrow({ where: { id: run.id } });
      // The first batch (orders 10000-10004) committed; the broken order is in the second.
      expect(stopped).toMatchObject({ status: "DOWNLOADING", ordersProcessed: 5 });
      expect(await db().order.count({ where: { shop } })).toBe(5);
    } finally {
      fake.editJsonl = null;
    }
  });

  it("tells a shop without read_all_orders that only 60 days were imported", async () => {
    const shop = uniqueShop();
    fake.orders = storePayloads(2).map(graphqlOrderFromWebhook);
    await fake.installSession(db(), shop, "read_orders,read_customers");
    const run = await startBackfill(recordingDeps([]), shop);
    expect(run.notice).toBe(NO_READ_ALL_ORDERS_NOTICE);
  });

  it("starts once per shop: the install hook running again finds the run", async () => {
    const shop = uniqueShop();
    fake.orders = [];
    await fake.installSession(db(), shop);
    const deps = recordingDeps([]);
    const before = fake.operations.length;
    const [first, second] = await Promise.all([startBackfill(deps, shop), startBackfill(deps, shop)]);
    expect(second.id).toBe(first.id);
    expect(fake.operations.length - before).toBe(1);
    // An empty shop: COMPLETED with no file to read.
    expect(await advanceBackfill(deps, first.id)).toEqual({ state: "running" });
    const done = await advanceBackfill(deps, first.id);
    expect(done.state).toBe("completed");
    expect((await startBackfill(deps, shop)).id).toBe(first.id);
    expect((await startBackfill(deps, shop, { force: true })).id).not.toBe(first.id);
  });

  it("records Shopify's userErrors on a failed run", async () => {
    const shop = uniqueShop();
    await fake.installSession(db(), shop);
    fake.userErrorNext = { code: "OPERATION_IN_PROGRESS", message: "A bulk query operation for this app and shop is already in progress" };
    const run = await startBackfill(recordingDeps([]), shop);
    expect(run.status).toBe("FAILED");
    expect(run.error).toMatch(/OPERATION_IN_PROGRESS: A bulk query operation/);
  });

  it("completes the import when Redis refuses the refit; the job's retry (not a late poll) asks for it again", async () => {
    const shop = uniqueShop();
    fake.orders = storePayloads(4).map(graphqlOrderFromWebhook);
    await fake.installSession(db(), shop);
    const deps = recordingDeps([]);
    const run = await startBackfill(deps, shop);
    expect(await advanceBackfill(deps, run.id)).toEqual({ state: "running" });

    const redis = await PrivateRedis.start();
    const sharedRedis = process.env.REDIS_URL;
    process.env.REDIS_URL = redis.url;
    process.env.TENURE_QUEUE_PREFIX = `tenure-test-backfill-refit-${process.pid}-${Date.now()}`;
    const connection = createWorkerConnection(redis.url);
    connection.on("error", () => {});
    const refits = new Queue(QUEUE.shopRefit, { connection, prefix: queuePrefix() });
    refits.on("error", () => {});
    try {
      await closeProducerQueues();
      await redis.stop();
      await expect(advanceBackfill(deps, run.id)).rejects.toThrow(/Redis is unavailable/);
      // The rows, the summaries and the COMPLETED mark committed before the hand-off.
      expect(await db().backfillRun.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({ status: "COMPLETED", ordersProcessed: 4 });
      expect(comparableAcrossSources(await snapshot(db(), shop))).toEqual(await webhookReference(storePayloads(4)));

      await redis.start();
      await closeProducerQueues();
      expect(await advanceBackfill(deps, run.id)).toEqual({ state: "completed", ordersProcessed: 4 }); // a late poll
      expect(await refits.count()).toBe(0);
      expect(await advanceBackfill(deps, run.id, { retry: true })).toEqual({ state: "completed", ordersProcessed: 4 });
      expect((await refits.getJobs(["waiting"])).map((job) => job.data)).toEqual([{ task: "shop", shop, trigger: "backfill" }]);
    } finally {
      await refits.close().catch(() => {});
      connection.disconnect();
      await closeProducerQueues();
      process.env.REDIS_URL = sharedRedis;
      await redis.stop();
    }
  }, 30_000);
});
