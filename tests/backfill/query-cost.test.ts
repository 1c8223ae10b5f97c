import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ABANDONED_CHECKOUTS_PER_PAGE, importAbandonedCheckouts } from "~/integrations/abandoned-checkouts.server";
import { RECONCILE_LINES_PER_ORDER, RECONCILE_MORE_LINES_PER_PAGE, RECONCILE_ORDERS_PER_PAGE, reconcileShop } from "~/integrations/reconcile.server";
import { AdminGraphql, ShopifyAdminError } from "~/integrations/shopify-admin.server";
import { ABANDONED_CHECKOUT_LINE_IDS } from "~/ingest/graphql-mappers";
import { FakeGraphqlErrors, SINGLE_QUERY_MAX_COST, requestedQueryCost } from "../../demo/fakes/shopify-rules";
import { testDb, uniqueShop } from "../support/db";
import { FakeShopify } from "../support/fake-shopify";
import { type GraphqlOrderWithLines, graphqlOrderFromWebhook } from "../support/graphql-shapes";
import { orderPayload } from "../support/webhook-payloads";

// Shopify refuses a query whose requested cost exceeds 1,000 points (MAX_COST_EXCEEDED); the
// fake computes each query's cost from its text (demo/fakes/shopify-cost.ts) and refuses it the
// same way. Reconciliation and the abandoned checkouts' import size their pages under the limit;
// an order with more lines than a page reads has the rest read from its lineItems cursor.

const db = () => testDb();
let fake: FakeShopify;
const COST_SCOPES = "read_orders,read_all_orders,read_customers,write_customers,read_products,read_inventory";
const DAY = 86_400_000;

beforeAll(async () => {
  fake = await new FakeShopify().start();
});
afterAll(() => fake.close());

/** An order of customer `customerId` with `lines` line items (the fixture's line, copied with new ids). */
function orderWithLines(id: number, customerId: number, lines: number, updatedAt: Date): GraphqlOrderWithLines {
  const order = graphqlOrderFromWebhook(orderPayload({ id, customerId, createdAt: updatedAt, updatedAt, processedAt: updatedAt, totalCents: 2000 }));
  const line = order.lineItems[0];
  return { ...order, lineItems: Array.from({ length: lines }, (_, i) => ({ ...line, id: `gid://shopify/LineItem/${id}${String(i).padStart(4, "0")}` })) };
}

async function installedShop(name: string, scopes?: string): Promise<string> {
  const shop = uniqueShop(name);
  await db().shop.create({ data: { domain: shop, installedAt: new Date("2025-02-01T00:00:00Z") } });
  await fake.installSession(db(), shop, scopes);
  return shop;
}

/** Every request the fake answered for `shop` was priced under the single query limit. */
function expectAllUnderLimit(shop: string) {
  const requests = fake.requests.filter((r) => r.shop === shop);
  expect(requests.length).toBeGreaterThan(0);
  for (const request of requests) expect(requestedQueryCost(request.query, request.variables)).toBeLessThanOrEqual(SINGLE_QUERY_MAX_COST);
}

describe("reconciliation under Shopify's single query cost limit", () => {
  it("reads every line of an order with more lines than a page holds, from the order's lineItems cursor", async () => {
    const shop = await installedShop("cost-lines");
    const updated = new Date("2025-03-05T10:00:00Z");
    const many = RECONCILE_LINES_PER_ORDER + RECONCILE_MORE_LINES_PER_PAGE + 5; // two follow-up pages
    fake.orders = [
      orderWithLines(61_001, 9_100_001, 1, updated),
      orderWithLines(61_002, 9_100_001, many, updated),
      ...Array.from({ length: RECONCILE_ORDERS_PER_PAGE }, (_, i) => orderWithLines(61_010 + i, 9_100_002, RECONCILE_LINES_PER_ORDER, updated)),
    ];
    const report = await reconcileShop({ db: db(), admin: new AdminGraphql({ db: db(), backoffMs: 10 }), enqueueMetrics: async () => {} }, shop);
    expect(report).toMatchObject({ ordersSeen: 2 + RECONCILE_ORDERS_PER_PAGE, skipped: [], linePages: 2 });
    const lines = await db().orderLine.groupBy({ by: ["orderId"], where: { shop }, _count: { _all: true }, orderBy: { orderId: "asc" } });
    expect(lines.map((l) => [l.orderId, l._count._all])).toEqual([
      [61_001n, 1],
      [61_002n, many],
      ...Array.from({ length: RECONCILE_ORDERS_PER_PAGE }, (_, i) => [BigInt(61_010 + i), RECONCILE_LINES_PER_ORDER]),
    ]);
    // The follow-ups asked for the one order, after the cursor of the lines read so far.
    const followUps = fake.graphqlRequests("TenureReconcileOrderLines").filter((r) => r.shop === shop);
    expect(followUps.map((r) => r.variables.id)).toEqual(["gid://shopify/Order/61002", "gid://shopify/Order/61002"]);
    expectAllUnderLimit(shop);
  });

  it("skips, by name, an order deleted while its lines were read rather than writing it with lines missing", async () => {
    const shop = await installedShop("cost-gone");
    const updated = new Date("2025-03-05T10:00:00Z");
    fake.orders = [orderWithLines(62_001, 9_200_001, RECONCILE_LINES_PER_ORDER + 3, updated), orderWithLines(62_002, 9_200_002, 2, updated)];
    fake.answerFirst = (query) => (query.includes("TenureReconcileOrderLines") ? { order: null } : undefined);
    try {
      const report = await reconcileShop({ db: db(), admin: new AdminGraphql({ db: db(), backoffMs: 10 }), enqueueMetrics: async () => {} }, shop);
      expect(report.skipped).toEqual(["gid://shopify/Order/62001: gone while its line items were read"]);
      expect((await db().order.findMany({ where: { shop }, select: { id: true } })).map((o) => o.id)).toEqual([62_002n]);
    } finally {
      fake.answerFirst = null;
    }
  });

  it("refuses a page size whose query Shopify would refuse, saying why", async () => {
    const shop = await installedShop("cost-page");
    const admin = new AdminGraphql({ db: db(), backoffMs: 10 });
    for (const pageSize of [RECONCILE_ORDERS_PER_PAGE + 1, 0, 2.5]) {
      await expect(reconcileShop({ db: db(), admin, pageSize }, shop)).rejects.toThrow(new RegExp(`reconcile pageSize ${pageSize}: give 1 to ${RECONCILE_ORDERS_PER_PAGE} orders per page`));
    }
    // A larger page really is refused: the fake answers MAX_COST_EXCEEDED, as Shopify does
    // (2 + 100 orders × (1 + lineItems: 2 + 250 lines × (1 + product 1)) = 50,302).
    fake.orders = [];
    const query = fake.requests.length;
    await expect(
      admin.request(shop, `query { orders(first: 100) { edges { node { id lineItems(first: 250) { edges { node { id product { id } } } } } } } }`),
    ).rejects.toThrow(/Query cost is 50302, which exceeds the single query max cost limit \(1000\)/);
    expect(fake.requests.length).toBe(query + 1); // refused, not retried
  });

  it("keeps the orders' sweep and advances reconciledAt when Shopify refuses the cost pass", async () => {
    const shop = await installedShop("cost-refused", COST_SCOPES);
    const updated = new Date("2025-03-05T10:00:00Z");
    fake.orders = [orderWithLines(63_001, 9_300_001, 1, updated)];
    fake.answerFirst = (query) => {
      if (query.includes("inventoryItems(")) throw new FakeGraphqlErrors([{ message: "Access denied for inventoryItems field.", extensions: { code: "ACCESS_DENIED" } }]);
      return undefined;
    };
    const now = new Date("2025-03-06T00:00:00Z");
    const enqueued: bigint[][] = [];
    try {
      const report = await reconcileShop({ db: db(), admin: new AdminGraphql({ db: db(), backoffMs: 10 }), enqueueMetrics: async (_shop, ids) => void enqueued.push(ids), now: () => now }, shop);
      expect(report.ordersWritten).toBe(1);
      expect(report.costsNotReconciled).toMatch(/^unit costs not reconciled: .*Access denied for inventoryItems field/);
      expect(enqueued).toEqual([[9_300_001n]]);
    } finally {
      fake.answerFirst = null;
    }
    expect((await db().shop.findUniqueOrThrow({ where: { domain: shop } })).reconciledAt).toEqual(now);
  });

  it("still fails the sweep (reconciledAt kept) when Shopify refuses the orders themselves", async () => {
    const shop = await installedShop("cost-orders-refused");
    fake.answerFirst = (query) => {
      if (query.includes("orders(")) throw new FakeGraphqlErrors([{ message: "Access denied for orders field.", extensions: { code: "ACCESS_DENIED" } }]);
      return undefined;
    };
    try {
      await expect(reconcileShop({ db: db(), admin: new AdminGraphql({ db: db(), backoffMs: 10 }), enqueueMetrics: async () => {} }, shop)).rejects.toBeInstanceOf(ShopifyAdminError);
    } finally {
      fake.answerFirst = null;
    }
    expect((await db().shop.findUniqueOrThrow({ where: { domain: shop } })).reconciledAt).toBeNull();
  });
});

describe("past abandoned checkouts under Shopify's single query cost limit", () => {
  const node = (id: number, createdAt: string, lines: number) => ({
    id: `gid://shopify/AbandonedCheckout/${id}`,
    abandonedCheckoutUrl: null,
    createdAt,
    updatedAt: createdAt,
    completedAt: null,
    customer: { id: `gid://shopify/Customer/${id + 1_000}` },
    totalPriceSet: { shopMoney: { amount: "10.00", currencyCode: "USD" } },
    subtotalPriceSet: { shopMoney: { amount: "10.00", currencyCode: "USD" } },
    lineItems: { nodes: Array.from({ length: lines }, (_, i) => ({ id: `gid://shopify/AbandonedCheckoutLineItem/${id}${i}` })) },
  });

  it("pages the checkouts under the limit; a checkout's line count is capped at the line ids read", async () => {
    const shop = await installedShop("cost-checkouts");
    const createdAt = new Date(Date.now() - 2 * DAY).toISOString();
    fake.abandonedCheckouts = Array.from({ length: ABANDONED_CHECKOUTS_PER_PAGE + 3 }, (_, i) => node(71_000 + i, createdAt, 2));
    // The fake returns the nodes as stored: the query's own cap is what a real shop would send back.
    fake.abandonedCheckouts[0] = node(71_000, createdAt, ABANDONED_CHECKOUT_LINE_IDS);
    const report = await importAbandonedCheckouts({ admin: new AdminGraphql({ db: db(), backoffMs: 10 }) }, shop);
    expect(report).toMatchObject({ seen: ABANDONED_CHECKOUTS_PER_PAGE + 3, written: ABANDONED_CHECKOUTS_PER_PAGE + 3, skipped: [] });
    const pages = fake.graphqlRequests("TenureAbandonedCheckouts").filter((r) => r.shop === shop);
    expect(pages.map((r) => r.variables.first)).toEqual([ABANDONED_CHECKOUTS_PER_PAGE, ABANDONED_CHECKOUTS_PER_PAGE]);
    expect(pages[0].query).toContain(`lineItems(first: ${ABANDONED_CHECKOUT_LINE_IDS}) { nodes { id } }`);
    expect((await db().checkout.findUniqueOrThrow({ where: { shop_id: { shop, id: 71_000n } } })).lineItemCount).toBe(ABANDONED_CHECKOUT_LINE_IDS);
    expectAllUnderLimit(shop);
  });

  it("refuses a page size whose query Shopify would refuse, saying why", async () => {
    const shop = await installedShop("cost-checkouts-page");
    await expect(importAbandonedCheckouts({ admin: new AdminGraphql({ db: db(), backoffMs: 10 }), pageSize: 50 }, shop)).rejects.toThrow(
      `abandoned checkouts pageSize 50: give 1 to ${ABANDONED_CHECKOUTS_PER_PAGE}`,
    );
  });
});
