import { processDelivery } from "~/ingest/deliveries.server";
import { testDb, uniqueShop, insertDelivery, snapshot } from "../support/db";
import { fixture } from "../support/webhook-fixtures";
import { at, customerPayload, hours, orderPayload, refundPayload } from "../support/webhook-payloads";

// Ingest through the real processor (processDelivery) on real PostgreSQL: ordering,
// staleness, idempotency, refunds, summaries, tombstones and concurrency.

const db = () => testDb();

async function deliver(shop: string, topic: string, payload: unknown, extra: { receivedAt?: Date } = {}) {
  const id = await insertDelivery(db(), { shop, topic, payload, ...extra });
  const outcome = await processDelivery(db(), id);
  return { id, outcome };
}

async function customer(shop: string, id: bigint) {
  return db().customer.findUniqueOrThrow({ where: { shop_id: { shop, id } } });
}

describe("ingest: orders, customers and refunds", () => {
  it("stores orders/create: order, customer profile, summary, and marks the delivery", async () => {
    const shop = uniqueShop();
    const { id, outcome } = await deliver(shop, "orders/create", fixture("orders-create"));
    expect(outcome).toEqual({ status: "processed", topic: "orders/create", customerId: "7390571233329", scrubbed: false });

    const order = await db().order.findUniqueOrThrow({ where: { shop_id: { shop, id: 6123456789012n } } });
    expect(order).toMatchObject({ customerId: 7390571233329n, currentTotalMinor: 16963n, netMinor: 16963n, currency: "USD" });
    expect(await customer(shop, 7390571233329n)).toMatchObject({
      email: "maya.okafor@example.com",
      ordersCount: 1,
      netSpentMinor: 16963n,
      firstOrderAt: at("2025-03-14T14:21:05Z"),
      lastOrderAt: at("2025-03-14T14:21:05Z"),
    });
    const delivery = await db().webhookDelivery.findUniqueOrThrow({ where: { id } });
    expect(delivery).toMatchObject({ status: "PROCESSED", customerId: 7390571233329n, attempts: 1, error: null });
    expect(delivery.processedAt).toBeInstanceOf(Date);
  });

  it("accepts the library's topic spelling (ORDERS_CREATE) too", async () => {
    const shop = uniqueShop();
    const { outcome } = await deliver(shop, "ORDERS_CREATE", fixture("orders-create"));
    expect(outcome.status).toBe("processed");
    expect(await db().order.count({ where: { shop } })).toBe(1);
  });

  it("processes the same delivery twice into one result", async () => {
    const shop = uniqueShop();
    const { id } = await deliver(shop, "orders/create", fixture("orders-create"));
    const first = await snapshot(db(), shop);
    const firstCustomer = await customer(shop, 7390571233329n);
    expect(await processDelivery(db(), id)).toEqual({ status: "skipped", reason: "already-processed" });
    expect(await snapshot(db(), shop)).toEqual(first);
    expect((await customer(shop, 7390571233329n)).summaryAt).toEqual(firstCustomer.summaryAt);
    expect((await db().webhookDelivery.findUniqueOrThrow({ where: { id } })).attempts).toBe(1);
  });

  it("ends in the newer state when orders/updated arrives before orders/create", async () => {
    const shop = uniqueShop();
    await deliver(shop, "orders/updated", fixture("orders-updated-refunded"));
    await deliver(shop, "orders/create", fixture("orders-create"));
    const order = await db().order.findUniqueOrThrow({ where: { shop_id: { shop, id: 6123456789012n } } });
    expect(order).toMatchObject({
      shopifyUpdatedAt: at("2025-03-20T19:02:45Z"),
      currentTotalMinor: 15199n,
      netMinor: 15199n,
      financialStatus: "partially_refunded",
    });
    expect(await customer(shop, 7390571233329n)).toMatchObject({ ordersCount: 1, netSpentMinor: 15199n });
  });

  it("lets a stale retry hours later change nothing", async () => {
    const shop = uniqueShop();
    await deliver(shop, "orders/create", fixture("orders-create"));
    await deliver(shop, "orders/updated", fixture("orders-updated-refunded"));
    await deliver(shop, "customers/update", fixture("customers-update"));
    const before = await snapshot(db(), shop);
    const summaryAt = (await customer(shop, 7390571233329n)).summaryAt;

    // Shopify retries the first deliveries (new webhook ids) hours later.
    const later = new Date(Date.now() + hours(5));
    for (const [topic, name] of [["orders/create", "orders-create"], ["customers/create", "customers-create"], ["orders/updated", "orders-updated-refunded"]]) {
      const { outcome } = await deliver(shop, topic, fixture(name), { receivedAt: later });
      expect(outcome.status).toBe("processed");
    }
    expect(await snapshot(db(), shop)).toEqual(before);
    expect((await customer(shop, 7390571233329n)).summaryAt).toEqual(summaryAt);
    expect(before.customers[0]).toMatchObject({ lastName: "Okafor-Reyes", tags: ["newsletter", "repeat", "vip"] });
  });

  it("gives the same net whether the refund comes before or after the order update", async () => {
    const sequences: [string, string][][] = [
      [["orders/create", "orders-create"], ["refunds/create", "refunds-create"], ["orders/updated", "orders-updated-refunded"]],
      [["orders/create", "orders-create"], ["orders/updated", "orders-updated-refunded"], ["refunds/create", "refunds-create"]],
      [["refunds/create", "refunds-create"], ["orders/create", "orders-create"], ["orders/updated", "orders-updated-refunded"]],
      [["orders/updated", "orders-updated-refunded"], ["refunds/create", "refunds-create"], ["orders/create", "orders-create"]],
      [["orders/create", "orders-create"], ["refunds/create", "refunds-create"]], // update not yet arrived
    ];
    const results = [];
    for (const sequence of sequences) {
      const shop = uniqueShop();
      for (const [topic, name] of sequence) await deliver(shop, topic, fixture(name));
      const order = await db().order.findUniqueOrThrow({ where: { shop_id: { shop, id: 6123456789012n } } });
      results.push({ net: order.netMinor, spent: (await customer(shop, 7390571233329n)).netSpentMinor });
    }
    expect(results).toEqual(sequences.map(() => ({ net: 15199n, spent: 15199n })));
  });

  it("never counts test orders, counts cancelled ones at their current total, keeps guests", async () => {
    const shop = uniqueShop();
    await deliver(shop, "orders/create", fixture("orders-create-test"));
    await deliver(shop, "orders/create", fixture("orders-create-guest"));
    const test = await db().order.findUniqueOrThrow({ where: { shop_id: { shop, id: 6123456789777n } } });
    expect(test).toMatchObject({ test: true, currentTotalMinor: 16963n, netMinor: 0n });
    expect(await customer(shop, 7390571233329n)).toMatchObject({ ordersCount: 0, netSpentMinor: 0n, firstOrderAt: null });
    const guest = await db().order.findUniqueOrThrow({ where: { shop_id: { shop, id: 6123456789555n } } });
    expect(guest).toMatchObject({ customerId: null, netMinor: 14045n });

    await deliver(shop, "orders/create", fixture("orders-create"));
    await deliver(shop, "orders/cancelled", fixture("orders-cancelled"));
    expect(await customer(shop, 7390571233329n)).toMatchObject({ ordersCount: 1, netSpentMinor: 0n });
    expect(await db().customer.count({ where: { shop } })).toBe(1);
  });

  it("creates a placeholder customer for an order that arrives first, replaced by the profile", async () => {
    const shop = uniqueShop();
    const payload = orderPayload({ id: 501, customerId: 77, updatedAt: at("2025-02-01T00:00:00Z"), totalCents: 2500 });
    (payload.customer as Record<string, unknown>).updated_at = null; // no profile on this channel
    await deliver(shop, "orders/create", payload);
    expect(await customer(shop, 77n)).toMatchObject({ email: null, ordersCount: 1, netSpentMinor: 2500n });
    await deliver(shop, "customers/create", customerPayload(77, at("2024-06-01T00:00:00Z")));
    expect(await customer(shop, 77n)).toMatchObject({ email: "customer-77@example.com", ordersCount: 1, netSpentMinor: 2500n });
  });

  it("recomputes both customers when an order moves from one to another", async () => {
    const shop = uniqueShop();
    await deliver(shop, "orders/create", orderPayload({ id: 601, customerId: 1, updatedAt: at("2025-02-01T00:00:00Z"), totalCents: 4000 }));
    await deliver(shop, "orders/create", orderPayload({ id: 602, customerId: 1, updatedAt: at("2025-02-01T00:00:00Z"), totalCents: 1000 }));
    await deliver(shop, "orders/updated", orderPayload({ id: 601, customerId: 2, updatedAt: at("2025-02-02T00:00:00Z"), totalCents: 4000 }));
    expect(await customer(shop, 1n)).toMatchObject({ ordersCount: 1, netSpentMinor: 1000n });
    expect(await customer(shop, 2n)).toMatchObject({ ordersCount: 1, netSpentMinor: 4000n });
  });

  it("does not bring back a deleted order, and keeps a deleted customer's late order unattributed", async () => {
    const shop = uniqueShop();
    await deliver(shop, "orders/create", fixture("orders-create"));
    await deliver(shop, "refunds/create", fixture("refunds-create"));
    await deliver(shop, "orders/delete", fixture("orders-delete"));
    expect(await db().order.count({ where: { shop } })).toBe(0);
    expect(await db().refund.count({ where: { shop } })).toBe(0);
    expect(await customer(shop, 7390571233329n)).toMatchObject({ ordersCount: 0, netSpentMinor: 0n });
    const late = await deliver(shop, "orders/updated", fixture("orders-updated-refunded"));
    expect(await db().order.count({ where: { shop } })).toBe(0);
    expect(await db().refund.count({ where: { shop } })).toBe(0);
    // The late delivery concerned a deleted order: its payload is not kept.
    expect(await db().webhookDelivery.findUniqueOrThrow({ where: { id: late.id } })).toMatchObject({ status: "PROCESSED", payload: null });

    await deliver(shop, "customers/delete", fixture("customers-delete"));
    expect(await db().customer.count({ where: { shop } })).toBe(0);
    await deliver(shop, "customers/update", fixture("customers-update"));
    expect(await db().customer.count({ where: { shop } })).toBe(0);
    await deliver(shop, "orders/create", orderPayload({ id: 700, customerId: 7390571233329, updatedAt: at("2025-04-01T00:00:00Z"), totalCents: 900 }));
    expect(await db().order.findUniqueOrThrow({ where: { shop_id: { shop, id: 700n } } })).toMatchObject({ customerId: null, netMinor: 900n });
    expect(await db().customer.count({ where: { shop } })).toBe(0);
  });

  it("loses no summary update when one customer's deliveries are processed concurrently", async () => {
    const shop = uniqueShop();
    const ids: bigint[] = [];
    for (let n = 0; n < 24; n += 1) {
      const payload = orderPayload({ id: 9000 + n, customerId: 42, updatedAt: at("2025-05-01T00:00:00Z"), totalCents: 100 * (n + 1) });
      ids.push(await insertDelivery(db(), { shop, topic: "orders/create", payload }));
      ids.push(await insertDelivery(db(), {
        shop,
        topic: "refunds/create",
        payload: refundPayload({ id: 80_000 + n, orderId: 9000 + n, createdAt: at("2025-05-02T00:00:00Z"), amountCents: 50 }),
      }));
    }
    const outcomes = await Promise.all(ids.map((id) => processDelivery(db(), id)));
    expect(outcomes.every((outcome) => outcome.status === "processed")).toBe(true);
    // Σ 100·n for n = 1..24, less 24 refunds of 50.
    expect(await customer(shop, 42n)).toMatchObject({ ordersCount: 24, netSpentMinor: 30_000n - 1_200n });
  });
});
