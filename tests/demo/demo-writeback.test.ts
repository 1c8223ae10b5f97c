import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { adminClientAt } from "~/demo-mode.server";
import { customerGid } from "~/destinations/shopify/writeback.server";
import { silentLogger } from "~/lib/log.server";
import { enqueueDestination } from "~/queues/enqueue.server";
import { makeSureOfMetafieldDefinitions } from "~/worker/registry.server";
import { type WorkersHandle, startWorkers } from "~/worker/workers.server";
import { type FakeShopifyAdmin, startFakeShopifyAdmin } from "../../demo/fakes/shopify";
import { installShop, testDb, testPool, uniqueShop } from "../support/db";
import { destinationOf, insertCustomers, outboxOf } from "../support/destinations";
import { metricsRow } from "../support/customer-metrics-rows";
import { dropQueues } from "../support/ingested-shops";
import { metafieldsOfTenure, scoreAndMark } from "../support/shopify-writeback";
import { waitFor } from "../support/wait-for";

// The demo's worker writes Tenure's metafields to the demo's fake Shopify (demo/fakes/shopify.ts):
// `npm run demo`'s worker (app/worker/main.ts) starts the workers with the demo's Admin client
// (demoAdminClient: adminClientAt on SHOPIFY_ADMIN_API_URL), and so does this test, on real
// PostgreSQL and Redis. A full pass takes the bulk path (a staged upload to the fake's own
// origin, bulkOperationRunMutation, polls, the result file); a live change goes through
// metafieldsSet; the write-back's outbox ends empty.

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const CUSTOMERS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

let fake: FakeShopifyAdmin;
let workers: WorkersHandle | undefined;
beforeAll(async () => {
  fake = await startFakeShopifyAdmin({ appId: "6262" });
});
beforeEach(() => {
  process.env.TENURE_QUEUE_PREFIX = `tenure-test-demo-writeback-${process.pid}-${Date.now()}`;
});
afterEach(async () => {
  await workers?.close();
  workers = undefined;
  await dropQueues();
});
afterAll(() => fake.close());

/** Tenure's metafields of a customer in the demo's fake (key -> value; Tenure's namespace only). */
function metafieldsInDemoShopify(customerId: number): Record<string, string> {
  const values: Record<string, string> = {};
  for (const metafield of fake.data.metafields.get(customerGid(String(customerId)))?.values() ?? []) {
    if (metafield.namespace === fake.appNamespace) values[metafield.key] = metafield.value;
  }
  return values;
}

describe("the demo's worker and the demo's fake Shopify", () => {
  it("writes the demo shop's metafields: a full pass in bulk, then a live change with metafieldsSet, and nothing left in the outbox", async () => {
    const shop = await installShop(uniqueShop("demo-wb"));
    const admin = adminClientAt(fake.url, shop);
    await insertCustomers(shop, CUSTOMERS.map((id) => ({ id })));
    await scoreAndMark(shop, CUSTOMERS.map((id) => metricsRow(id, { netSpent: 1_000 * id })), new Date("2026-12-01T10:00:00Z"));
    // As scripts/demo.ts does before starting the worker: definitions and the write-back's destination.
    expect(await makeSureOfMetafieldDefinitions({ admin, pool: testPool(), logger: silentLogger }, shop)).toEqual({ complete: true });
    const destination = await destinationOf(shop, "shopify");
    expect(destination?.status).toBe("active");
    const destinationId = destination!.id;

    workers = await startWorkers({
      db: testDb(),
      pool: testPool(),
      redisUrl: REDIS_URL,
      sweep: false,
      refit: false,
      metrics: false,
      logger: silentLogger,
      shutdownDeadlineMs: 5_000,
      shopifyAdmin: admin,
      // Twelve customers take the bulk path here (1,000 in production).
      shopifyWriteback: { bulkThreshold: 10, bulkPollIntervalMs: 50 },
    });
    await enqueueDestination({ task: "full", destinationId, reason: "initial" });
    // A pass is over once its run is recorded done (a full pass may run several bulk operations, and the outbox is no sign).
    const runs = async () =>
      (await testPool().query<{ done: number; running: number }>(
        `SELECT count(*) FILTER (WHERE status = 'done')::int AS done, count(*) FILTER (WHERE status = 'running')::int AS running FROM "DestinationRun" WHERE "destinationId" = $1`,
        [destinationId],
      )).rows[0]!;
    const passesDone = (after: number) => async () => {
      const { done, running } = await runs();
      return done > after && running === 0 && (await outboxOf(destinationId)).length === 0;
    };
    await waitFor(passesDone(0), 20_000, "the full pass done");
    for (const id of CUSTOMERS) expect(metafieldsInDemoShopify(id), `customer ${id}`).toEqual(await metafieldsOfTenure(shop, destinationId, id));
    // Each bulk operation's file went to the fake's own origin and ran there.
    const operations = fake.bulkMutations.operations;
    expect(operations.length).toBeGreaterThan(0);
    expect(operations.filter((operation) => operation.status !== "COMPLETED")).toEqual([]);
    expect(fake.bulkMutations.uploads.map((upload) => upload.status)).toEqual(operations.map(() => 201));
    expect(fake.requestsFor("metafieldsSet(")).toEqual([]);

    // A live change: the customer's outbox row is sent with metafieldsSet, only what differs.
    await scoreAndMark(shop, [metricsRow(3, { netSpent: 9_999 })], new Date("2026-12-02T11:30:00Z"));
    expect(await outboxOf(destinationId)).toEqual(["3"]);
    const setsBefore = fake.requestsFor("metafieldsSet(").length;
    const { done } = await runs();
    await enqueueDestination({ task: "changes", destinationId }, { delayMs: 0 });
    await waitFor(passesDone(done), 20_000, "the change sent");
    expect(metafieldsInDemoShopify(3)).toEqual(await metafieldsOfTenure(shop, destinationId, 3));
    expect(metafieldsInDemoShopify(3).historic_value).toBeDefined();
    const sent = fake.requestsFor("metafieldsSet(").slice(setsBefore).flatMap((request) => request.variables.metafields as { ownerId: string; key: string }[]);
    expect(sent.map((input) => [input.ownerId, input.key]).sort()).toEqual([
      [customerGid("3"), "historic_value"],
      [customerGid("3"), "last_scored"],
    ]);
    expect((await destinationOf(shop, "shopify"))?.status).toBe("active");
  });

  it("the demo's Admin client waits out THROTTLED for the bucket's refill time and sends the call again", async () => {
    const throttling = await startFakeShopifyAdmin({ bucket: { maximumAvailable: 20, restoreRate: 40, queryCost: 10 } });
    try {
      const admin = adminClientAt(throttling.url, "tenure-demo.myshopify.com");
      const list = () => admin.request<{ metafieldDefinitions: { nodes: unknown[] } }>("tenure-demo.myshopify.com", "query { metafieldDefinitions(first: 50, ownerType: CUSTOMER) { nodes { id } } }", { ownerType: "CUSTOMER" });
      const answers = await Promise.all([list(), list(), list(), list()]);
      expect(answers.map((answer) => answer.metafieldDefinitions.nodes)).toEqual([[], [], [], []]);
      expect(throttling.requests.some((request) => request.throttled)).toBe(true);
      expect(throttling.requests.filter((request) => !request.throttled)).toHaveLength(4);
    } finally {
      await throttling.close();
    }
  });
});
