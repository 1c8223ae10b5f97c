import { processDelivery } from "~/ingest/deliveries.server";
import { mapOrderPayload } from "~/ingest/mappers";
import { upsertOrdersBatch } from "~/ingest/upsert-batch.server";
import { pgPool, pgTransaction } from "~/db/pg.server";
import { insertDelivery, snapshot, testDb, uniqueShop } from "../support/db";
import { fixture } from "../support/webhook-fixtures";
import { orderPayload } from "../support/webhook-payloads";

// Issue 12, finding 6: "a JPY order in a USD shop adds yen to cents, and XXX is accepted as
// a currency". Every amount Tenure adds is in the shop's currency ("Shop".currency): an
// order placed in another currency is taken through its shop-money figures, and one
// without figures in the shop's currency fails whole, with the reason.

const db = () => testDb();

async function usdShop(): Promise<string> {
  const shop = uniqueShop("currency");
  await db().shop.create({ data: { domain: shop, currency: "USD" } });
  return shop;
}

async function deliver(shop: string, topic: string, payload: unknown) {
  const id = await insertDelivery(db(), { shop, topic, payload });
  const outcome = await processDelivery(db(), id);
  return { outcome, delivery: await db().webhookDelivery.findUniqueOrThrow({ where: { id } }) };
}

/** The orders-create fixture placed in yen; its shop-money figures in `currency`. */
function yenOrder(currency: "USD" | "JPY", amount: string): Record<string, unknown> {
  const set = { shop_money: { amount, currency_code: currency }, presentment_money: { amount: "25000", currency_code: "JPY" } };
  return { ...fixture("orders-create"), currency: "JPY", presentment_currency: "JPY", total_price_set: set, current_total_price_set: set };
}

describe("amounts in the shop's currency", () => {
  it("stores a JPY order in a USD shop at its shop-money figures, in USD", async () => {
    const shop = await usdShop();
    const { outcome } = await deliver(shop, "orders/create", yenOrder("USD", "169.63"));
    expect(outcome.status).toBe("processed");
    const order = await db().order.findUniqueOrThrow({ where: { shop_id: { shop, id: 6123456789012n } } });
    expect(order).toMatchObject({ currency: "USD", currentTotalMinor: 16963n, netMinor: 16963n });
  });

  it("fails a JPY order whose only figures are in yen, with the reason, and writes nothing of it", async () => {
    const shop = await usdShop();
    const { outcome, delivery } = await deliver(shop, "orders/create", yenOrder("JPY", "25000"));
    expect(outcome.status).toBe("failed");
    expect(delivery.status).toBe("FAILED");
    expect(delivery.error).toContain("order 6123456789012 has no amounts in the shop's currency USD: its shop_money figures are in JPY");
    expect(await snapshot(db(), shop)).toEqual({ orders: [], customers: [], refunds: [], tombstones: [] });
  });

  it("fails a refund in another currency, and leaves the order's net alone", async () => {
    const shop = await usdShop();
    await deliver(shop, "orders/create", fixture("orders-create"));
    // Every shop-money figure of the refund in euros.
    const refund = JSON.parse(JSON.stringify({ ...fixture("refunds-create"), order_id: 6123456789012 }), (key, value) =>
      key === "shop_money" ? { ...value, currency_code: "EUR" } : value,
    ) as unknown;
    const before = await snapshot(db(), shop);
    const { delivery } = await deliver(shop, "refunds/create", refund);
    expect(delivery.status).toBe("FAILED");
    expect(delivery.error).toMatch(/refund \d+ has no amounts in the shop's currency USD: its shop_money figures are in EUR/);
    expect(await snapshot(db(), shop)).toEqual(before);
  });

  it("refuses XXX as an order's currency", async () => {
    const shop = await usdShop();
    const { delivery } = await deliver(shop, "orders/create", { ...fixture("orders-create"), currency: "XXX" });
    expect(delivery.status).toBe("FAILED");
    expect(delivery.error).toContain("currency: must be an ISO 4217 currency of money");
    expect((await snapshot(db(), shop)).orders).toEqual([]);
  });

  it("leaves an order without figures in the shop's currency out of a batch (backfill, reconciliation), and applies the rest", async () => {
    const shop = await usdShop();
    const usd = mapOrderPayload(orderPayload({ id: 701, customerId: 71, updatedAt: new Date("2025-04-01T00:00:00Z"), totalCents: 1_250 }));
    const yen = mapOrderPayload({ ...yenOrder("JPY", "25000"), id: 702, admin_graphql_api_id: "gid://shopify/Order/702" });
    const result = await pgTransaction(pgPool(), (tx) => upsertOrdersBatch(tx, shop, [usd, yen]));
    expect(result.refused).toEqual(["order 702 has no amounts in the shop's currency USD: its shop_money figures are in JPY"]);
    const orders = (await snapshot(db(), shop)).orders;
    expect(orders.map((order) => [order.id, order.currency, order.currentTotalMinor])).toEqual([[701n, "USD", 1_250n]]);
  });
});
