import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUEUE } from "~/queues/contract";
import { closeProducerQueues, createWorkerConnection, queuePrefix } from "~/queues/connections.server";
import { processDelivery } from "~/ingest/deliveries.server";
import { testDb, uniqueShop, insertDelivery, comparableAcrossSources, snapshot } from "../support/db";
import { consentPayload, orderPayload, refundPayload } from "../support/webhook-payloads";
import { type Json } from "../support/webhook-fixtures";
import { FakeShopify } from "../support/fake-shopify";
import { graphqlOrderFromWebhook } from "../support/graphql-shapes";
import { SWEEP_OVERLAP_MS, reconcileShop } from "../../app/integrations/reconcile.server";
import { AdminGraphql } from "../../app/integrations/shopify-admin.server";

const db = () => testDb();
let fake: FakeShopify;
beforeAll(async () => {
  fake = await new FakeShopify({ bucket: { maximumAvailable: 60, restoreRate: 200, queryCost: 20 } }).start();
});
afterAll(() => fake.close());

async function deliver(shop: string, topic: string, payload: Json) {
  const id = await insertDelivery(db(), { shop, topic, payload });
  expect(await processDelivery(db(), id)).toMatchObject({ status: "processed" });
}

describe("reconcileShop", () => {
  it("recovers an order update whose webhook never arrived: rows and summary converge to the webhook path's", async () => {
    const created = new Date("2025-03-01T10:00:00Z");
    const updated = new Date("2025-03-05T10:00:00Z");
    const creates = [
      orderPayload({ id: 31, customerId: 800, updatedAt: created, createdAt: created, totalCents: 5_000 }),
      orderPayload({ id: 32, customerId: 800, updatedAt: created, createdAt: created, totalCents: 2_000 }),
      orderPayload({ id: 33, customerId: 801, updatedAt: created, createdAt: created, totalCents: 9_900 }),
    ];
    // Order 31 is partly refunded and then cancelled; order 33 gets a new total.
    // ... and its customer unsubscribed from email meanwhile (issue 14): the lost webhook carried that too.
    const update31 = orderPayload({
      id: 31, customerId: 800, updatedAt: updated, createdAt: created, totalCents: 1_000, cancelledAt: updated,
      customerUpdatedAt: new Date("2025-03-04T12:00:00Z"), emailConsent: consentPayload("unsubscribed", new Date("2025-03-04T12:00:00Z"), "single_opt_in"),
    });
    update31.refunds = [refundPayload({ id: 931, orderId: 31, createdAt: new Date("2025-03-04T10:00:00Z"), amountCents: 4_000 })];
    const update33 = orderPayload({ id: 33, customerId: 801, updatedAt: updated, createdAt: created, totalCents: 8_800 });

    const [reference, lossy] = [uniqueShop("reference"), uniqueShop("lossy")];
    for (const shop of [reference, lossy]) {
      await db().shop.create({ data: { domain: shop, installedAt: new Date("2025-02-01T00:00:00Z") } });
      for (const payload of creates) await deliver(shop, "orders/create", payload);
    }
    await deliver(reference, "orders/updated", update31);
    await deliver(reference, "orders/updated", update33);
    await deliver(lossy, "orders/updated", update33); // update31's webhook is lost
    const expected = await snapshot(db(), reference);
    expect(await snapshot(db(), lossy)).not.toEqual(expected);

    fake.orders = [update31, creates[1], update33].map(graphqlOrderFromWebhook);
    await fake.installSession(db(), lossy);
    const admin = new AdminGraphql({ db: db(), backoffMs: 10 });
    const report = await reconcileShop({ db: db(), admin, pageSize: 1 }, lossy);
    expect(report.pages).toBe(3);
    expect(report.ordersSeen).toBe(3);
    expect(report.skipped).toEqual([]);
    expect(comparableAcrossSources(await snapshot(db(), lossy))).toEqual(comparableAcrossSources(expected));
    const customer = await db().customer.findUniqueOrThrow({ where: { shop_id: { shop: lossy, id: 800n } } });
    expect(customer.netSpentMinor).toBe(1_000n + 2_000n);
    expect(customer).toMatchObject({ emailConsentState: "UNSUBSCRIBED", emailConsentUpdatedAt: new Date("2025-03-04T12:00:00Z") });

    // The query asked for orders updated since the install (less the overlap), sorted by updated_at.
    const sweep = fake.graphqlRequests("TenureReconcile").filter((r) => r.variables.query !== undefined);
    const first = sweep[sweep.length - 3];
    expect(first.variables.query).toBe(`updated_at:>'${new Date(Date.parse("2025-02-01T00:00:00Z") - SWEEP_OVERLAP_MS).toISOString()}'`);
    expect(first.query).toContain("sortKey: UPDATED_AT");
    expect(first.query).toContain("defaultEmailAddress { emailAddress marketingState marketingOptInLevel marketingUpdatedAt }");
    // Paced by the bucket (60 points, 20 per page): never throttled.
    expect(sweep.slice(-3).every((r) => !r.throttled)).toBe(true);

    // The next sweep starts from this one: nothing older is read again.
    const shopRow = await db().shop.findUniqueOrThrow({ where: { domain: lossy } });
    expect(shopRow.reconciledAt).not.toBeNull();
    const again = await reconcileShop({ db: db(), admin }, lossy);
    expect(again.since.getTime()).toBe(shopRow.reconciledAt!.getTime() - SWEEP_OVERLAP_MS);
    expect(again.ordersSeen).toBe(0);
    expect(comparableAcrossSources(await snapshot(db(), lossy))).toEqual(comparableAcrossSources(expected));
  });

  it("enqueues metrics for the customers whose rows it changed; a retry (resendSeen) for every customer it saw", async () => {
    process.env.TENURE_QUEUE_PREFIX = `tenure-test-reconcile-${process.pid}-${Date.now()}`;
    const connection = createWorkerConnection(process.env.REDIS_URL);
    const queue = new Queue(QUEUE.customerMetrics, { connection, prefix: queuePrefix() });
    const enqueued = async () => (await queue.getJobs(["waiting"])).map((job) => job.data.customerId as string).sort();
    try {
      const created = new Date("2025-03-01T10:00:00Z");
      const shop = uniqueShop();
      await db().shop.create({ data: { domain: shop, installedAt: new Date("2025-02-01T00:00:00Z") } });
      const first = orderPayload({ id: 41, customerId: 810, updatedAt: created, createdAt: created, totalCents: 3_000 });
      const second = orderPayload({ id: 42, customerId: 811, updatedAt: created, createdAt: created, totalCents: 3_000 });
      await deliver(shop, "orders/create", first);
      await deliver(shop, "orders/create", second);
      await queue.obliterate({ force: true }); // the deliveries' own hand-offs
      // Order 41 moved to customer 812 (its webhook lost); order 42 unchanged.
      const moved = orderPayload({ id: 41, customerId: 812, updatedAt: new Date("2025-03-02T10:00:00Z"), createdAt: created, totalCents: 3_000 });
      fake.orders = [moved, second].map(graphqlOrderFromWebhook);
      await fake.installSession(db(), shop);
      const admin = new AdminGraphql({ db: db(), backoffMs: 10 });

      const report = await reconcileShop({ db: db(), admin }, shop);
      expect(report.customerIds.map(String).sort()).toEqual(["810", "812"]);
      expect(await enqueued()).toEqual(["810", "812"]);

      await queue.obliterate({ force: true });
      await db().shop.update({ where: { domain: shop }, data: { reconciledAt: null } }); // the retry reads the same window
      const retry = await reconcileShop({ db: db(), admin }, shop, { resendSeen: true });
      expect(retry.ordersWritten).toBe(0);
      expect(await enqueued()).toEqual(["811", "812"]);
    } finally {
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      connection.disconnect();
      await closeProducerQueues();
    }
  });
});
