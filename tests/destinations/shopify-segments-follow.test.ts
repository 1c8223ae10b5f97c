import { type Job, Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadMetricsSettings } from "~/data/settings.server";
import { readShopifySegment } from "~/data/shopify-segments.server";
import { recordMetafieldDefinitionsCheck } from "~/data/shop-metafield-definitions.server";
import { ensureTenureMetafieldDefinitions } from "~/destinations/shopify/definitions.server";
import { publishShopifySegment, updatePublishedShopifySegments } from "~/destinations/shopify/segments.server";
import { AdminGraphql } from "~/integrations/shopify-admin.server";
import { silentLogger } from "~/lib/log.server";
import { loadPublishedSegments } from "~/pages/segments-publish.server";
import { submitSettings } from "~/pages/settings.server";
import { settingsFormInputOf } from "~/pages/settings-form";
import { closeProducerQueues } from "~/queues/connections.server";
import { QUEUE } from "~/queues/contract";
import { destinationsProcessor, makeSureOfMetafieldDefinitions } from "~/worker/registry.server";
import { installShop, testDb, testPool, uniqueShop } from "../support/db";
import { FakeShopify } from "../support/fake-shopify";
import { waitFor } from "../support/wait-for";

// Published Shopify segments follow the merchant's relabels and query changes on their own
// (issue 15, part 2): a Settings save, and the definitions check of every install and worker
// start, ask for a `shopify-segments` job on the destinations queue (real Redis, this file's
// prefix), which the destinations worker runs with its Admin client against the Shopify fake
// (segmentUpdate of what differs). Refusals are kept on the row for the Segments page.

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
let fake: FakeShopify;
let admin: AdminGraphql;
let redis: Redis;
let destinations: Queue;
let worker: Worker | null = null;

beforeAll(async () => {
  fake = await new FakeShopify({ appId: "6161" }).start();
  // One retry per call: a second 503 in a row reaches the job, whose own retry is tested below.
  admin = new AdminGraphql({ db: testDb(), backoffMs: 10, maxRetries: 1 });
});
afterAll(() => fake.close());

beforeEach(() => {
  process.env.TENURE_QUEUE_PREFIX = `tenure-test-segments-follow-${process.pid}-${Date.now()}`;
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  destinations = new Queue(QUEUE.destinations, { connection: redis, prefix: process.env.TENURE_QUEUE_PREFIX });
});
afterEach(async () => {
  await worker?.close();
  worker = null;
  await closeProducerQueues();
  await destinations.obliterate({ force: true }).catch(() => {});
  await destinations.close();
  redis.disconnect();
});

/** The destinations worker of `npm run worker`, with the Admin client, on this file's prefix. */
function startDestinationsWorker(): Worker {
  worker = new Worker(QUEUE.destinations, destinationsProcessor({ pool: testPool(), logger: silentLogger, shopifyAdmin: admin }), {
    connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }),
    prefix: process.env.TENURE_QUEUE_PREFIX,
  });
  return worker;
}

/** Resolves with the job's result once `worker` completed a job of `shop`. */
const completedFor = (w: Worker, shop: string) =>
  new Promise<unknown>((resolve) => {
    w.on("completed", (job: Job, result: unknown) => {
      if ((job.data as { shop?: string }).shop === shop) resolve(result);
    });
  });

const queuedJobs = async () => (await destinations.getJobs(["waiting", "delayed", "prioritized", "active"])).map((job) => job.data as unknown);
const segmentRequests = (shop: string) => fake.requests.filter((r) => r.shop === shop && /segment(Create|Update)\(/.test(r.query));
const updates = (shop: string) => fake.requests.filter((r) => r.shop === shop && r.query.includes("segmentUpdate("));

/** An installed shop with a session on the fake, its definitions made and recorded, and `keys` published. */
async function publishedShop(label: string, keys: string[]): Promise<string> {
  const shop = await installShop(uniqueShop(label));
  await fake.installSession(testDb(), shop, "read_orders,read_all_orders,read_customers,write_customers");
  const outcome = await ensureTenureMetafieldDefinitions(admin, shop);
  await recordMetafieldDefinitionsCheck(testPool(), { shop, namespace: outcome.namespace, complete: true, problem: null });
  for (const key of keys) await publishShopifySegment({ db: testPool(), admin }, shop, key);
  return shop;
}

/** The Settings page's save with these labels (everything else as stored). */
async function saveLabels(shop: string, labels: Record<string, string>) {
  const settings = await loadMetricsSettings(testPool(), shop);
  const input = { ...settingsFormInputOf(settings, settings.currency), segmentLabels: labels };
  const outcome = await submitSettings(testPool(), shop, input);
  expect(outcome).toMatchObject({ ok: true });
}

describe("published Shopify segments follow a relabel in Settings", () => {
  it("the save queues one job for the shop, and the worker renames the segment with one segmentUpdate of the name", async () => {
    const shop = await publishedShop("follow-rename", ["champions", "loyal"]);
    const before = await readShopifySegment(testPool(), shop, "champions");
    const requestsBefore = segmentRequests(shop).length;

    await saveLabels(shop, { champions: "Best customers" });

    // Without the automation nothing is queued and Shopify keeps the old name.
    expect(await queuedJobs()).toEqual([{ task: "shopify-segments", shop }]);
    const done = completedFor(startDestinationsWorker(), shop);
    expect(await done).toEqual({ updated: ["champions"], refused: [] });

    expect(segmentRequests(shop)).toHaveLength(requestsBefore + 1);
    expect(updates(shop).map((r) => r.variables)).toEqual([{ id: before!.shopifySegmentId, name: "Tenure: Best customers" }]);
    expect(fake.shopData(shop).segments.find((s) => s.id === before!.shopifySegmentId)).toMatchObject({ name: "Tenure: Best customers", query: before!.query });
    expect(await readShopifySegment(testPool(), shop, "champions")).toMatchObject({ name: "Tenure: Best customers", query: before!.query, lastError: null });
    expect((await loadPublishedSegments(testPool(), shop, { champions: "Best customers" })).champions).toMatchObject({ nameCurrent: true, lastError: null });
  });

  it("a save that changes no published name queues nothing, and an update finds nothing to send", async () => {
    const shop = await publishedShop("follow-same", ["at-risk"]);
    const requestsBefore = segmentRequests(shop).length;

    await saveLabels(shop, { hibernating: "Sleepers" });

    expect(await queuedJobs()).toEqual([]);
    expect(await updatePublishedShopifySegments({ db: testPool(), admin }, shop)).toEqual({ updated: [], refused: [] });
    expect(segmentRequests(shop)).toHaveLength(requestsBefore);
  });

  it("a name Shopify already has is refused: kept on the row in words, shown on the page, nothing else changed; relabelling back clears it", async () => {
    const shop = await publishedShop("follow-taken", ["champions"]);
    const before = await readShopifySegment(testPool(), shop, "champions");
    const now = new Date().toISOString();
    fake.shopData(shop).segments.push({ id: "gid://shopify/Segment/99", name: "Tenure: VIPs", query: "number_of_orders > 3", creationDate: now, lastEditDate: now });
    const shopifyBefore = structuredClone(fake.shopData(shop).segments);

    await saveLabels(shop, { champions: "VIPs" });
    const done = completedFor(startDestinationsWorker(), shop);
    expect(await done).toEqual({ updated: [], refused: ["champions"] });

    const row = await readShopifySegment(testPool(), shop, "champions");
    expect(row).toMatchObject({ shopifySegmentId: before!.shopifySegmentId, name: before!.name, query: before!.query, updatedAt: before!.updatedAt, lastErrorAt: expect.any(Date) });
    expect(row!.lastError).toMatch(/^Shopify already has a customer segment named "Tenure: VIPs"/);
    expect(fake.shopData(shop).segments).toEqual(shopifyBefore);
    const page = await loadPublishedSegments(testPool(), shop, { champions: "VIPs" });
    expect(page.champions).toMatchObject({ name: "Tenure: Champions", nameCurrent: false, lastError: row!.lastError });

    // Back to the name Shopify has: nothing to send, and the refusal no longer applies.
    const requestsBefore = segmentRequests(shop).length;
    await saveLabels(shop, {});
    await waitFor(async () => (await readShopifySegment(testPool(), shop, "champions"))?.lastError === null, 10_000, "the refusal cleared");
    expect(segmentRequests(shop)).toHaveLength(requestsBefore);
  });

  it("a segment deleted in Shopify admin is not made again behind the merchant's back: the row says so", async () => {
    const shop = await publishedShop("follow-deleted", ["loyal"]);
    fake.shopData(shop).segments.length = 0;

    await saveLabels(shop, { loyal: "Regulars" });
    expect(await updatePublishedShopifySegments({ db: testPool(), admin }, shop)).toEqual({ updated: [], refused: ["loyal"] });

    expect(fake.shopData(shop).segments).toEqual([]);
    expect(segmentRequests(shop).filter((r) => r.query.includes("segmentCreate("))).toHaveLength(1);
    expect((await readShopifySegment(testPool(), shop, "loyal"))?.lastError).toMatch(/"Tenure: Loyal" was deleted in Shopify admin, so Tenure did not make it again/);
  });
});

describe("published Shopify segments follow a query change", () => {
  it("the definitions check of a worker start brings a query on another namespace up to date", async () => {
    const shop = await publishedShop("follow-namespace", ["champions", "vip"]);
    // Published when the definitions resolved to another namespace (or by an older query builder).
    const old = { champions: "metafields.app--1.rfm_segment = 'champions'", vip: "metafields.app--1.behaviours CONTAINS 'vip'" };
    for (const [key, query] of Object.entries(old)) {
      await testPool().query(`UPDATE "ShopifySegment" SET query = $3 WHERE shop = $1 AND "segmentKey" = $2`, [shop, key, query]);
    }
    const done = completedFor(startDestinationsWorker(), shop);

    expect(await makeSureOfMetafieldDefinitions({ admin, pool: testPool(), logger: silentLogger }, shop)).toEqual({ complete: true });

    expect(await done).toEqual({ updated: ["champions", "vip"], refused: [] });
    const sent = updates(shop).map((r) => r.variables);
    expect(sent).toEqual([
      { id: expect.any(String), query: "metafields.app--6161.rfm_segment = 'champions'" },
      { id: expect.any(String), query: "metafields.app--6161.behaviours CONTAINS 'vip'" },
    ]);
    expect(await readShopifySegment(testPool(), shop, "vip")).toMatchObject({ query: "metafields.app--6161.behaviours CONTAINS 'vip'", lastError: null });
  });
});

describe("a transient Shopify failure", () => {
  it("fails the job's attempt (not for good) and BullMQ's retry renames the segment", async () => {
    const shop = await publishedShop("follow-503", ["loyal"]);
    await saveLabels(shop, { loyal: "Regulars" });
    // More 503s in a row than the Admin client retries: the job's attempt fails.
    fake.failNext = [503, 503];
    const w = startDestinationsWorker();
    const failedAttempts: number[] = [];
    w.on("failed", (job) => failedAttempts.push(job?.attemptsMade ?? -1));
    const done = completedFor(w, shop);

    expect(await done).toEqual({ updated: ["loyal"], refused: [] });
    expect(failedAttempts).toEqual([1]);
    expect(fake.shopData(shop).segments).toMatchObject([{ name: "Tenure: Regulars" }]);
    expect(await readShopifySegment(testPool(), shop, "loyal")).toMatchObject({ name: "Tenure: Regulars", lastError: null });
  });
});
