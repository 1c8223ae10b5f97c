import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BackfillDeps, BULK_ORDERS_QUERY, advanceBackfill, bulkOrdersQuery, startBackfill } from "~/integrations/bulk-orders.server";
import { AdminGraphql } from "~/integrations/shopify-admin.server";
import { processDelivery } from "~/ingest/deliveries.server";
import { insertDelivery, testDb, uniqueShop } from "../support/db";
import { FakeShopify } from "../support/fake-shopify";
import { graphqlOrderWithInventoryItems } from "../support/graphql-shapes";
import { at, orderPayload } from "../support/webhook-payloads";
import { fixture, type Json } from "../support/webhook-fixtures";

// The bulk import carries unit costs (issue 17, part 1): each line item's variant and its
// inventory item's unitCost and updatedAt come in the same JSONL as the orders (field
// nesting under lineItems, no extra connection), so an imported shop has its cost of goods
// without a product webhook. Fake Admin API at the HTTP boundary, real PostgreSQL; both the
// parsing thread (bundle columns) and the in-process parse.

const db = () => testDb();
let fake: FakeShopify;
const SOCK_VARIANT = "44123456789012";
/** The scopes of a shop that granted product costs (shopify.app.toml). */
const COST_SCOPES = "read_orders,read_all_orders,read_customers,write_customers,read_products,read_inventory";

beforeAll(async () => {
  fake = await new FakeShopify().start();
});
afterAll(() => fake.close());

function deps(parseOnThread: boolean): BackfillDeps {
  return { db: db(), admin: new AdminGraphql({ db: db(), backoffMs: 10 }), enqueue: async () => {}, pollEveryMs: 50, batchSize: 2, parseOnThread };
}

/** Sock orders: 20.00 each, the whole total goods (orderPayload), customer 7_800_001. */
const orders = (ids: number[], processedAt: string[]): Json[] =>
  ids.map((id, i) => orderPayload({ id, customerId: 7_800_001, processedAt: at(processedAt[i]), createdAt: at(processedAt[i]), updatedAt: at(processedAt[i]), totalCents: 2000 }));

describe("the bulk import and product costs", () => {
  it("asks for each line's quantities and its variant's inventory item with unit cost, inside lineItems", () => {
    expect(BULK_ORDERS_QUERY).toMatch(/lineItems \{ edges \{ node \{[^]*quantity refundableQuantity variant \{ id inventoryItem \{ id updatedAt unitCost \{ amount currencyCode \} \} \}/);
    // Bulk queries allow connections nested two levels deep: orders > lineItems stays the only nesting.
    expect(BULK_ORDERS_QUERY.match(/edges/g)).toHaveLength(2);
    // Without read_products and read_inventory those fields would fail the whole query: not asked.
    expect(bulkOrdersQuery(false)).not.toMatch(/variant|unitCost/);
  });

  it("imports a shop that has not granted the cost scopes yet without costs, keeping the lines stored from webhooks", async () => {
    const shop = uniqueShop("bulk-costs-scopes");
    const [payload] = orders([12_201], ["2025-03-05T10:00:00Z"]);
    await processDelivery(db(), await insertDelivery(db(), { shop, topic: "products/update", payload: fixture("products-update") }));
    await processDelivery(db(), await insertDelivery(db(), { shop, topic: "inventory_items/update", payload: fixture("inventory-items-update") }));
    await processDelivery(db(), await insertDelivery(db(), { shop, topic: "orders/create", payload }));
    fake.orders = [graphqlOrderWithInventoryItems({ ...payload, updated_at: "2025-03-06T10:00:00Z" }, {})];
    await fake.installSession(db(), shop);
    const operationsBefore = fake.operations.length;
    const d = deps(false);
    const run = await startBackfill(d, shop);
    expect(fake.operations[operationsBefore].query).not.toMatch(/variant/);
    await advanceBackfill(d, run.id);
    expect(await advanceBackfill(d, run.id)).toEqual({ state: "completed", ordersProcessed: 1 });
    expect(await db().order.findFirstOrThrow({ where: { shop }, select: { shopifyUpdatedAt: true, costOfGoodsMinor: true } })).toEqual({ shopifyUpdatedAt: at("2025-03-06T10:00:00Z"), costOfGoodsMinor: 640n });
  });

  it.each([true, false])("stores the imported costs and each order's cost of goods (parse on a thread: %s)", async (parseOnThread) => {
    const shop = uniqueShop("bulk-costs");
    const payloads = orders([12_001, 12_002, 12_003], ["2025-02-01T10:00:00Z", "2025-03-05T10:00:00Z", "2025-04-05T10:00:00Z"]);
    fake.orders = payloads.map((p) => graphqlOrderWithInventoryItems(p, { [SOCK_VARIANT]: { id: 45900000000512, updatedAt: "2025-03-01T13:05:00Z", unitCost: "6.40" } }));
    await fake.installSession(db(), shop, COST_SCOPES);
    const d = deps(parseOnThread);
    const run = await startBackfill(d, shop);
    await advanceBackfill(d, run.id);
    expect(await advanceBackfill(d, run.id)).toEqual({ state: "completed", ordersProcessed: 3 });

    expect(await db().productVariant.findMany({ where: { shop }, select: { id: true, inventoryItemId: true } })).toEqual([{ id: BigInt(SOCK_VARIANT), inventoryItemId: 45900000000512n }]);
    expect(await db().inventoryItemCost.findMany({ where: { shop }, select: { validFrom: true, costMinor: true } })).toEqual([{ validFrom: at("2025-03-01T13:05:00Z"), costMinor: 640n }]);
    // The imported cost is the earliest known: the order before it takes it too.
    const costs = await db().order.findMany({ where: { shop }, select: { id: true, costOfGoodsMinor: true, costedNetSalesMinor: true }, orderBy: { id: "asc" } });
    expect(costs).toEqual([
      { id: 12_001n, costOfGoodsMinor: 640n, costedNetSalesMinor: 2000n },
      { id: 12_002n, costOfGoodsMinor: 640n, costedNetSalesMinor: 2000n },
      { id: 12_003n, costOfGoodsMinor: 640n, costedNetSalesMinor: 2000n },
    ]);

    // A cost change after the import reaches the orders placed since, through the webhook.
    const change = insertDelivery(db(), { shop, topic: "inventory_items/update", payload: { ...fixture("inventory-items-update"), cost: "7.00", updated_at: "2025-04-01T00:00:00Z" } });
    expect(await processDelivery(db(), await change)).toMatchObject({ status: "processed" });
    expect((await db().order.findMany({ where: { shop }, select: { costOfGoodsMinor: true }, orderBy: { id: "asc" } })).map((o) => o.costOfGoodsMinor)).toEqual([640n, 640n, 700n]);
  });

  it("recosts an order stored from a webhook before any cost when the import brings its variant and cost (review finding 3)", async () => {
    const shop = uniqueShop("bulk-costs-earlier");
    const [webhookOrder, importedOrder] = orders([12_301, 12_302], ["2025-03-05T10:00:00Z", "2025-03-06T10:00:00Z"]);
    expect(await processDelivery(db(), await insertDelivery(db(), { shop, topic: "orders/create", payload: webhookOrder }))).toMatchObject({ status: "processed" });
    // The import sees only the newer order (e.g. the older one fell in an earlier window).
    fake.orders = [graphqlOrderWithInventoryItems(importedOrder, { [SOCK_VARIANT]: { id: 45900000000512, updatedAt: "2025-03-01T13:05:00Z", unitCost: "6.40" } })];
    await fake.installSession(db(), shop, COST_SCOPES);
    const d = deps(false);
    const run = await startBackfill(d, shop);
    await advanceBackfill(d, run.id);
    expect(await advanceBackfill(d, run.id)).toEqual({ state: "completed", ordersProcessed: 1 });
    const costs = await db().order.findMany({ where: { shop }, select: { id: true, costOfGoodsMinor: true }, orderBy: { id: "asc" } });
    expect(costs).toEqual([
      { id: 12_301n, costOfGoodsMinor: 640n },
      { id: 12_302n, costOfGoodsMinor: 640n },
    ]);
  });

  it("imports a unit cost in another currency than the shop's as unknown, without ending a known cost (review finding 9)", async () => {
    const shop = uniqueShop("bulk-costs-currency");
    const [payload] = orders([12_101], ["2025-03-05T10:00:00Z"]);
    const order = graphqlOrderWithInventoryItems(payload, { [SOCK_VARIANT]: { id: 45900000000512, updatedAt: "2025-03-01T13:05:00Z", unitCost: "6.40" } });
    ((order.lineItems[0].variant as Json).inventoryItem as Json).unitCost = { amount: "6.40", currencyCode: "EUR" };
    fake.orders = [order];
    await fake.installSession(db(), shop, COST_SCOPES);
    const d = deps(false);
    const run = await startBackfill(d, shop);
    await advanceBackfill(d, run.id);
    expect(await advanceBackfill(d, run.id)).toEqual({ state: "completed", ordersProcessed: 1 });
    // No history row: the variant is mapped, its sales fall back to the margin.
    expect(await db().inventoryItemCost.count({ where: { shop } })).toBe(0);
    expect(await db().productVariant.count({ where: { shop } })).toBe(1);
    expect(await db().order.findFirstOrThrow({ where: { shop }, select: { costOfGoodsMinor: true, costedNetSalesMinor: true } })).toEqual({ costOfGoodsMinor: 0n, costedNetSalesMinor: 0n });

    // A cost known from the webhook is not ended by a later item version without a usable cost.
    const known = uniqueShop("bulk-costs-currency-known");
    await processDelivery(db(), await insertDelivery(db(), { shop: known, topic: "inventory_items/update", payload: fixture("inventory-items-update") }));
    const [later] = orders([12_102], ["2025-04-05T10:00:00Z"]);
    const laterOrder = graphqlOrderWithInventoryItems(later, { [SOCK_VARIANT]: { id: 45900000000512, updatedAt: "2025-04-01T00:00:00Z", unitCost: "6.40" } });
    ((laterOrder.lineItems[0].variant as Json).inventoryItem as Json).unitCost = null;
    fake.orders = [laterOrder];
    await fake.installSession(db(), known, COST_SCOPES);
    const run2 = await startBackfill(d, known);
    await advanceBackfill(d, run2.id);
    expect(await advanceBackfill(d, run2.id)).toEqual({ state: "completed", ordersProcessed: 1 });
    expect(await db().inventoryItemCost.findMany({ where: { shop: known }, select: { costMinor: true } })).toEqual([{ costMinor: 640n }]);
    expect(await db().order.findFirstOrThrow({ where: { shop: known }, select: { costOfGoodsMinor: true } })).toEqual({ costOfGoodsMinor: 640n });
  });
});
