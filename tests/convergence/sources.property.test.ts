import { Queue } from "bullmq";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pgPool, pgTransaction } from "~/db/pg.server";
import { mapGraphqlOrder } from "~/ingest/graphql-mappers";
import { type OrderBundle, PayloadValidationError } from "~/ingest/mappers";
import { finishImport, writeImportBatch } from "~/integrations/bulk-orders.server";
import { reconcileShop } from "~/integrations/reconcile.server";
import { AdminGraphql } from "~/integrations/shopify-admin.server";
import { processDelivery } from "~/ingest/deliveries.server";
import { QUEUE } from "~/queues/contract";
import { closeProducerQueues, createWorkerConnection, queuePrefix } from "~/queues/connections.server";
import { FakeShopify } from "../support/fake-shopify";
import { type GraphqlOrderWithLines, graphqlOrderFromWebhook } from "../support/graphql-shapes";
import { testDb, uniqueShop, insertDelivery, withoutSourceProvenance, snapshot } from "../support/db";
import { type Json } from "../support/webhook-fixtures";
import { BASE, type Delivery, deliveriesOf, scenario } from "../support/shop-histories";

// Issue point 8c. The three sources of orders - the bulk backfill (in batches, then its
// summary pass), webhooks (the ingest processor) and reconciliation (Admin GraphQL pages,
// Shopify faked at HTTP) - applied to one shop in any interleaving leave the same Order,
// Refund, Customer (summary columns included) and Tombstone rows as a clean replay of the
// webhooks in event order. The backfill and the sweep each read the store as it stood at
// some moment of its history, as Shopify would have shown it then.

const db = () => testDb();
const DAY = 86_400_000;
let fake: FakeShopify;

beforeAll(async () => {
  process.env.TENURE_QUEUE_PREFIX = `tenure-test-convergence-${process.pid}-${Date.now()}`;
  fake = await new FakeShopify().start();
});
afterAll(async () => {
  await fake.close();
  const connection = createWorkerConnection(process.env.REDIS_URL);
  await new Queue(QUEUE.customerMetrics, { connection, prefix: queuePrefix() }).obliterate({ force: true }).catch(() => {});
  connection.disconnect();
  await closeProducerQueues();
});

/**
 * The store as Shopify shows it at `time` (minutes from BASE): each order's latest version
 * by then, with every refund created by then, unless deleted by then.
 */
function storeAt(deliveries: Delivery[], time: number): GraphqlOrderWithLines[] {
  const versions = new Map<unknown, Json>();
  const refunds = new Map<unknown, Json[]>();
  for (const delivery of [...deliveries].sort((a, b) => a.time - b.time)) {
    if (delivery.time > time) break;
    const { payload } = delivery;
    if (delivery.topic.startsWith("orders/") && delivery.topic !== "orders/delete") versions.set(payload.id, payload);
    if (delivery.topic === "orders/delete") versions.delete(payload.id);
    if (delivery.topic === "refunds/create") refunds.set(payload.order_id, [...(refunds.get(payload.order_id) ?? []), payload]);
  }
  return [...versions.values()].map((version) => graphqlOrderFromWebhook({ ...version, refunds: refunds.get(version.id) ?? [] }));
}

/** The backfill's mapping: an order the mapper refuses (no customer profile to show) is skipped, as the download skips it. */
function bundlesOf(orders: GraphqlOrderWithLines[]): OrderBundle[] {
  return orders.flatMap(({ order, lineItems }) => {
    try {
      return [mapGraphqlOrder(order, lineItems)];
    } catch (error) {
      if (error instanceof PayloadValidationError) return [];
      throw error;
    }
  });
}

type Step =
  | { kind: "webhook"; delivery: Delivery }
  | { kind: "backfill-batch"; bundles: OrderBundle[] }
  | { kind: "backfill-finish" }
  | { kind: "reconcile"; orders: GraphqlOrderWithLines[] };

async function apply(shop: string, step: Step): Promise<void> {
  switch (step.kind) {
    case "webhook": {
      const id = await insertDelivery(db(), { shop, topic: step.delivery.topic, payload: step.delivery.payload });
      expect((await processDelivery(db(), id)).status).toBe("processed");
      return;
    }
    case "backfill-batch":
      return pgTransaction(pgPool(), (tx) => writeImportBatch(tx, shop, step.bundles));
    case "backfill-finish":
      return pgTransaction(pgPool(), (tx) => finishImport(tx, shop));
    case "reconcile": {
      fake.orders = step.orders;
      const report = await reconcileShop({ db: db(), admin: new AdminGraphql({ db: db(), backoffMs: 10 }), pageSize: 2 }, shop);
      expect(report.skipped.length).toBeLessThanOrEqual(step.orders.length);
      return;
    }
  }
}

/** A shop the sweep reads from the beginning of the history (installed the day before). */
async function installedShop(label: string): Promise<string> {
  const shop = uniqueShop(label);
  await db().shop.create({ data: { domain: shop, installedAt: new Date(BASE - DAY) } });
  await fake.installSession(db(), shop);
  return shop;
}

describe("backfill, webhooks and reconciliation in any interleaving", () => {
  it("leave the same rows as one clean ordered replay of the webhooks", async () => {
    const cases = scenario.chain((s) => {
      const deliveries = deliveriesOf(s);
      const last = Math.max(...deliveries.map((d) => d.time));
      const indices = deliveries.map((_d, index) => index);
      return fc.record({
        s: fc.constant(s),
        webhookOrder: fc.shuffledSubarray(indices, { minLength: indices.length, maxLength: indices.length }),
        backfillAt: fc.integer({ min: 0, max: last + 1 }),
        reconcileAt: fc.integer({ min: 0, max: last + 1 }),
        batchSize: fc.integer({ min: 1, max: 3 }),
        // Where the backfill's steps and the sweep fall among the webhooks (kept in their own order).
        // Often first: a backfill that lands before the webhooks is the case that leaves most to its summary pass.
        positions: fc.array(fc.oneof(fc.constant(0), fc.nat({ max: indices.length })), { minLength: 12, maxLength: 12 }),
        reconcilePosition: fc.oneof(fc.constant(0), fc.nat({ max: indices.length })),
      });
    });

    await fc.assert(
      fc.asyncProperty(cases, async ({ s, webhookOrder, backfillAt, reconcileAt, batchSize, positions, reconcilePosition }) => {
        const deliveries = deliveriesOf(s);
        const clean = [...deliveries].sort((a, b) => a.time - b.time);

        const backfill = bundlesOf(storeAt(deliveries, backfillAt));
        const backfillSteps: Step[] = [];
        for (let start = 0; start < backfill.length; start += batchSize) {
          backfillSteps.push({ kind: "backfill-batch", bundles: backfill.slice(start, start + batchSize) });
        }
        backfillSteps.push({ kind: "backfill-finish" });
        // The backfill's steps keep their order; each lands after some number of webhooks.
        const at = backfillSteps.map((_step, index) => positions[index % positions.length]).sort((a, b) => a - b);
        const mixed: Step[] = [];
        webhookOrder.forEach((source, index) => {
          backfillSteps.forEach((step, k) => at[k] === index && mixed.push(step));
          if (reconcilePosition === index) mixed.push({ kind: "reconcile", orders: storeAt(deliveries, reconcileAt) });
          mixed.push({ kind: "webhook", delivery: deliveries[source] });
        });
        backfillSteps.forEach((step, k) => at[k] >= webhookOrder.length && mixed.push(step));
        if (reconcilePosition >= webhookOrder.length) mixed.push({ kind: "reconcile", orders: storeAt(deliveries, reconcileAt) });

        const [cleanShop, mixedShop] = [await installedShop("clean"), await installedShop("mixed")];
        for (const delivery of clean) await apply(cleanShop, { kind: "webhook", delivery });
        for (const step of mixed) await apply(mixedShop, step);

        const expected = withoutSourceProvenance(await snapshot(db(), cleanShop));
        expect(withoutSourceProvenance(await snapshot(db(), mixedShop))).toEqual(expected);
      }),
      { numRuns: 40 },
    );
  }, 300_000);

  it("leave the same rows when the three run at the same time (the shop's import lock orders a batch against deliveries)", async () => {
    const cases = scenario.chain((s) => {
      const deliveries = deliveriesOf(s);
      const last = Math.max(...deliveries.map((d) => d.time));
      const indices = deliveries.map((_d, index) => index);
      return fc.record({
        s: fc.constant(s),
        webhookOrder: fc.shuffledSubarray(indices, { minLength: indices.length, maxLength: indices.length }),
        backfillAt: fc.integer({ min: 0, max: last + 1 }),
        reconcileAt: fc.integer({ min: 0, max: last + 1 }),
      });
    });
    await fc.assert(
      fc.asyncProperty(cases, async ({ s, webhookOrder, backfillAt, reconcileAt }) => {
        const deliveries = deliveriesOf(s);
        const [cleanShop, mixedShop] = [await installedShop("clean"), await installedShop("concurrent")];
        for (const delivery of [...deliveries].sort((a, b) => a.time - b.time)) await apply(cleanShop, { kind: "webhook", delivery });

        const backfill = bundlesOf(storeAt(deliveries, backfillAt));
        // Deliveries two at a time (as a worker with concurrency runs them), the backfill a batch
        // at a time, and a sweep: all at once.
        const lanes = [webhookOrder.filter((_x, i) => i % 2 === 0), webhookOrder.filter((_x, i) => i % 2 === 1)];
        await Promise.all([
          ...lanes.map(async (lane) => {
            for (const source of lane) await apply(mixedShop, { kind: "webhook", delivery: deliveries[source] });
          }),
          (async () => {
            for (const bundle of backfill) await apply(mixedShop, { kind: "backfill-batch", bundles: [bundle] });
            await apply(mixedShop, { kind: "backfill-finish" });
          })(),
          apply(mixedShop, { kind: "reconcile", orders: storeAt(deliveries, reconcileAt) }),
        ]);
        expect(withoutSourceProvenance(await snapshot(db(), mixedShop))).toEqual(withoutSourceProvenance(await snapshot(db(), cleanShop)));
      }),
      { numRuns: 25 },
    );
  }, 300_000);
});
