import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processDelivery } from "~/ingest/deliveries.server";
import { reconcileShop } from "~/integrations/reconcile.server";
import { AdminGraphql } from "~/integrations/shopify-admin.server";
import { insertDelivery, testDb, uniqueShop } from "../support/db";
import { FakeShopify } from "../support/fake-shopify";
import { at, orderPayload } from "../support/webhook-payloads";
import { fixture, type Json } from "../support/webhook-fixtures";

// Reconciliation repairs unit costs (issue 17): a lost inventory_items/update left an order
// with the old cost; the sweep reads the inventory items updated in its window (Admin GraphQL
// `inventoryItems`, the fake at the HTTP boundary with the real node shape) into the cost
// write path, which recosts the orders whose cost in force changed.

const db = () => testDb();
let fake: FakeShopify;
const COST_SCOPES = "read_orders,read_all_orders,read_customers,write_customers,read_products,read_inventory";
const ITEM = "gid://shopify/InventoryItem/45900000000512";
const VARIANT = "gid://shopify/ProductVariant/44123456789012";

beforeAll(async () => {
  fake = await new FakeShopify().start();
});
afterAll(() => fake.close());

async function deliver(shop: string, topic: string, payload: Json) {
  expect(await processDelivery(db(), await insertDelivery(db(), { shop, topic, payload }))).toMatchObject({ status: "processed" });
}

/** Sock orders (20.00 of goods, one line of the fixture's variant) of customer 7_900_001. */
const sockOrder = (id: number, placed: string) =>
  orderPayload({ id, customerId: 7_900_001, processedAt: at(placed), createdAt: at(placed), updatedAt: at(placed), totalCents: 2000 });

/** A shop whose 6.40 cost and two orders came by webhook; the cost's change to 7.00 on 2025-04-01 did not. */
async function shopWithLostCostChange(name: string, scopes: string): Promise<string> {
  const shop = uniqueShop(name);
  await db().shop.create({ data: { domain: shop, installedAt: at("2025-02-01T00:00:00Z"), reconciledAt: at("2025-03-20T00:00:00Z") } });
  await deliver(shop, "products/update", fixture("products-update"));
  await deliver(shop, "inventory_items/update", fixture("inventory-items-update"));
  await deliver(shop, "orders/create", sockOrder(13_001, "2025-03-10T10:00:00Z"));
  await deliver(shop, "orders/create", sockOrder(13_002, "2025-04-05T10:00:00Z"));
  await fake.installSession(db(), shop, scopes);
  return shop;
}

const cogs = async (shop: string) =>
  (await db().order.findMany({ where: { shop }, select: { costOfGoodsMinor: true }, orderBy: { id: "asc" } })).map((o) => o.costOfGoodsMinor);

describe("reconcileShop and unit costs", () => {
  it("writes a unit cost whose webhook was lost and recosts the orders it is in force for", async () => {
    const shop = await shopWithLostCostChange("reconcile-costs", COST_SCOPES);
    expect(await cogs(shop)).toEqual([640n, 640n]);
    fake.inventoryItems = [
      { id: ITEM, updatedAt: "2025-04-01T00:00:00Z", unitCost: { amount: "7.00", currencyCode: "USD" }, variant: { id: VARIANT } },
      // Not updated in the window: not returned by the query's filter.
      { id: "gid://shopify/InventoryItem/45900000000999", updatedAt: "2025-01-01T00:00:00Z", unitCost: { amount: "1.00", currencyCode: "USD" }, variant: { id: "gid://shopify/ProductVariant/44123456789999" } },
    ];
    const admin = new AdminGraphql({ db: db(), backoffMs: 10 });
    const report = await reconcileShop({ db: db(), admin, enqueueMetrics: async () => {} }, shop);
    expect(report).toMatchObject({ inventoryItemsSeen: 1, costsWritten: 1, skipped: [] });
    // The order before the change keeps its cost; the one after takes the new one.
    expect(await cogs(shop)).toEqual([640n, 700n]);
    expect(report.customerIds).toEqual([7_900_001n]);
    const request = fake.graphqlRequests("TenureReconcileCosts").at(-1)!;
    expect(request.query).toContain("inventoryItems(first: $first, after: $after, query: $query)");
    expect(request.query).toContain("unitCost { amount currencyCode } variant { id }");
    expect(request.variables.query).toBe(`updated_at:>'${new Date(Date.parse("2025-03-20T00:00:00Z") - 10 * 60_000).toISOString()}'`);

    // A second sweep reading the same item writes nothing (the history row is there).
    const again = await reconcileShop({ db: db(), admin, enqueueMetrics: async () => {}, now: () => at("2025-03-20T00:00:00Z") }, shop);
    expect(again).toMatchObject({ costsWritten: 0, customerIds: [] });
  });

  it("leaves costs alone for a shop without the cost scopes (the fields would fail the query)", async () => {
    const shop = await shopWithLostCostChange("reconcile-costs-scopes", "read_orders,read_all_orders,read_customers");
    fake.inventoryItems = [{ id: ITEM, updatedAt: "2025-04-01T00:00:00Z", unitCost: { amount: "7.00", currencyCode: "USD" }, variant: { id: VARIANT } }];
    const before = fake.graphqlRequests("TenureReconcileCosts").length;
    const report = await reconcileShop({ db: db(), admin: new AdminGraphql({ db: db(), backoffMs: 10 }), enqueueMetrics: async () => {} }, shop);
    expect(report.inventoryItemsSeen).toBe(0);
    expect(fake.graphqlRequests("TenureReconcileCosts").length).toBe(before);
    expect(await cogs(shop)).toEqual([640n, 640n]);
  });

  it("skips an item with a malformed or negative cost, naming it, and writes the others", async () => {
    const shop = await shopWithLostCostChange("reconcile-costs-bad", COST_SCOPES);
    fake.inventoryItems = [
      { id: "gid://shopify/InventoryItem/45900000000777", updatedAt: "2025-04-02T00:00:00Z", unitCost: { amount: "-1.00", currencyCode: "USD" }, variant: { id: "gid://shopify/ProductVariant/44123456789777" } },
      { id: "gid://shopify/InventoryItem/45900000000778", updatedAt: "2025-04-02 10:00", unitCost: null, variant: null },
      { id: ITEM, updatedAt: "2025-04-01T00:00:00Z", unitCost: { amount: "7.00", currencyCode: "USD" }, variant: { id: VARIANT } },
    ];
    const report = await reconcileShop({ db: db(), admin: new AdminGraphql({ db: db(), backoffMs: 10 }), enqueueMetrics: async () => {} }, shop);
    expect(report.skipped).toHaveLength(2);
    expect(report.skipped[0]).toMatch(/45900000000777: .*negative/);
    expect(report.skipped[1]).toMatch(/45900000000778: .*updatedAt/);
    expect(await cogs(shop)).toEqual([640n, 700n]);
  });
});
