import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ABANDONED_CHECKOUT_SQL } from "~/data/checkouts.server";
import { processDelivery } from "~/ingest/deliveries.server";
import { importAbandonedCheckouts } from "~/integrations/abandoned-checkouts.server";
import { type BackfillDeps, advanceBackfill, startBackfill } from "~/integrations/bulk-orders.server";
import { AdminGraphql } from "~/integrations/shopify-admin.server";
import { FakeGraphqlErrors } from "../../demo/fakes/shopify-rules";
import { insertDelivery, testDb, uniqueShop } from "../support/db";
import { FakeShopify } from "../support/fake-shopify";
import { graphqlOrderFromWebhook } from "../support/graphql-shapes";
import { orderPayload } from "../support/webhook-payloads";
import { fixture } from "../support/webhook-fixtures";

// Past abandoned checkouts (issue 17, cart abandoners): the backfill reads the last 30 days of
// Admin GraphQL `abandonedCheckouts` (the fake at the HTTP boundary, real node shape) into the
// webhooks' checkout write path, so "Cart abandoners (last 30 days)" is filled at install
// rather than only by checkouts that arrive afterwards.

const db = () => testDb();
let fake: FakeShopify;
const DAY = 86_400_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY).toISOString();

beforeAll(async () => {
  fake = await new FakeShopify().start();
});
afterAll(() => fake.close());

function deps(): BackfillDeps {
  return { db: db(), admin: new AdminGraphql({ db: db(), backoffMs: 10 }), enqueue: async () => {}, pollEveryMs: 50, batchSize: 2, parseOnThread: false, requestRefit: async () => {} };
}

/** An AbandonedCheckout node as Admin GraphQL 2026-10 returns it. */
function checkoutNode(id: number, customerId: number | null, createdAt: string, extra: Record<string, unknown> = {}) {
  return {
    id: `gid://shopify/AbandonedCheckout/${id}`,
    abandonedCheckoutUrl: `https://example.myshopify.com/59876543210/checkouts/ac/c${id}/recover?key=k${id}`,
    createdAt,
    updatedAt: createdAt,
    completedAt: null,
    customer: customerId === null ? null : { id: `gid://shopify/Customer/${customerId}` },
    totalPriceSet: { shopMoney: { amount: "36.00", currencyCode: "USD" } },
    subtotalPriceSet: { shopMoney: { amount: "36.00", currencyCode: "USD" } },
    lineItems: { nodes: [{ id: `gid://shopify/AbandonedCheckoutLineItem/${id}1` }, { id: `gid://shopify/AbandonedCheckoutLineItem/${id}2` }] },
    ...extra,
  };
}

async function abandonedCustomers(shop: string): Promise<bigint[]> {
  const rows = await db().$queryRawUnsafe<{ customerId: bigint }[]>(
    `SELECT DISTINCT c."customerId" FROM "Checkout" AS c WHERE c.shop = $1 AND ${ABANDONED_CHECKOUT_SQL} ORDER BY 1`, shop);
  return rows.map((row) => row.customerId);
}

async function runImport(shop: string) {
  const d = deps();
  const run = await startBackfill(d, shop);
  await advanceBackfill(d, run.id);
  const outcome = await advanceBackfill(d, run.id);
  return { outcome, run: await db().backfillRun.findUniqueOrThrow({ where: { id: run.id } }) };
}

describe("the backfill and past abandoned checkouts", () => {
  it("imports the last 30 days of abandoned checkouts through the checkout write path", async () => {
    const shop = uniqueShop("bulk-checkouts");
    await db().shop.create({ data: { domain: shop, installedAt: new Date() } });
    // Customer 8_100_001 ordered after starting a checkout; 8_100_002 did not; 8_100_003 was redacted.
    fake.orders = [graphqlOrderFromWebhook(orderPayload({ id: 14_001, customerId: 8_100_001, createdAt: new Date(daysAgo(2)), updatedAt: new Date(daysAgo(2)), totalCents: 3600 }))];
    await db().tombstone.create({ data: { shop, resource: "customer", id: 8_100_003n } });
    fake.abandonedCheckouts = [
      checkoutNode(51_001, 8_100_001, daysAgo(3)),
      checkoutNode(51_002, 8_100_002, daysAgo(5)),
      checkoutNode(51_003, 8_100_003, daysAgo(6)),
      checkoutNode(51_004, null, daysAgo(4)), // a guest: no email in GraphQL, left out
      checkoutNode(51_005, 8_100_004, daysAgo(7), { completedAt: daysAgo(6) }), // recovered
      checkoutNode(51_006, 8_100_005, daysAgo(45)), // before the window: not asked for
    ];
    await fake.installSession(db(), shop);
    const { outcome, run } = await runImport(shop);
    expect(outcome).toEqual({ state: "completed", ordersProcessed: 1 });
    expect(run.error).toBeNull();

    const rows = await db().checkout.findMany({ where: { shop }, orderBy: { id: "asc" } });
    expect(rows.map((r) => r.id)).toEqual([51_001n, 51_002n, 51_005n]);
    expect(rows[1]).toMatchObject({
      customerId: 8_100_002n, currency: "USD", totalPriceMinor: 3600n, subtotalPriceMinor: 3600n, lineItemCount: 2, completedAt: null,
      abandonedCheckoutUrl: "https://example.myshopify.com/59876543210/checkouts/ac/c51002/recover?key=k51002", token: null, email: null,
    });
    expect(await abandonedCustomers(shop)).toEqual([8_100_002n]);

    // The query asked for the segment's window, by creation date.
    const request = fake.graphqlRequests("TenureAbandonedCheckouts").at(-1)!;
    expect(request.query).toContain("abandonedCheckouts(first: $first, after: $after, query: $query)");
    const since = Date.parse(/created_at:>='([^']+)'/.exec(String(request.variables.query))![1]);
    expect(Math.abs(since - (Date.now() - 30 * DAY))).toBeLessThan(60_000);

    // Idempotent: reading them again writes nothing.
    const again = await importAbandonedCheckouts({ admin: new AdminGraphql({ db: db(), backoffMs: 10 }) }, shop);
    expect(again).toMatchObject({ seen: 5, written: 0, guests: 1, skipped: [], customerIds: [] });
  });

  it("keeps what the webhook stored that GraphQL does not carry (token, cart token, email), whichever comes first", async () => {
    const webhook = fixture("checkouts-create");
    const node = checkoutNode(Number(webhook.id), Number((webhook.customer as { id: number }).id), String(webhook.created_at), {
      // A later state whose webhook was lost (or not yet delivered): a line removed.
      updatedAt: new Date(Date.parse(String(webhook.updated_at)) + 60_000).toISOString(),
      abandonedCheckoutUrl: webhook.abandoned_checkout_url,
      lineItems: { nodes: [{ id: "gid://shopify/AbandonedCheckoutLineItem/1" }] },
    });
    const rows = [];
    for (const webhookFirst of [true, false]) {
      const shop = uniqueShop("bulk-checkouts-merge");
      fake.abandonedCheckouts = [node];
      await fake.installSession(db(), shop);
      const admin = new AdminGraphql({ db: db(), backoffMs: 10 });
      const deliver = async () => processDelivery(db(), await insertDelivery(db(), { shop, topic: "checkouts/create", payload: webhook }));
      if (webhookFirst) await deliver();
      await importAbandonedCheckouts({ admin, now: () => new Date("2025-04-20T00:00:00Z") }, shop);
      if (!webhookFirst) await deliver();
      const { shop: _, ...row } = await db().checkout.findFirstOrThrow({ where: { shop } });
      rows.push(row);
    }
    expect(rows[0]).toMatchObject({ token: webhook.token, cartToken: webhook.cart_token, email: webhook.email, totalPriceMinor: 3600n, lineItemCount: 1 });
    expect(rows[1]).toEqual(rows[0]);
  });

  it("completes the import with the reason when Shopify refuses the checkouts, and skips a malformed one by name", async () => {
    const shop = uniqueShop("bulk-checkouts-refused");
    fake.orders = [];
    fake.abandonedCheckouts = [];
    await fake.installSession(db(), shop);
    fake.answerFirst = (query) => {
      if (query.includes("abandonedCheckouts(")) throw new FakeGraphqlErrors([{ message: "Access denied for abandonedCheckouts field.", extensions: { code: "ACCESS_DENIED" } }]);
      return undefined;
    };
    try {
      const { outcome, run } = await runImport(shop);
      expect(outcome).toEqual({ state: "completed", ordersProcessed: 0 });
      expect(run.error).toMatch(/abandoned checkouts of the last 30 days not imported: .*Access denied/);
    } finally {
      fake.answerFirst = null;
    }

    const bad = uniqueShop("bulk-checkouts-bad");
    await fake.installSession(db(), bad);
    fake.abandonedCheckouts = [
      checkoutNode(52_001, 8_200_001, daysAgo(1), { totalPriceSet: { shopMoney: { amount: "-3.00", currencyCode: "USD" } } }),
      checkoutNode(52_002, 8_200_002, daysAgo(1), { createdAt: daysAgo(1).replace("T", " ").replace("Z", "") }),
      checkoutNode(52_003, 8_200_003, daysAgo(1)),
    ];
    const report = await importAbandonedCheckouts({ admin: new AdminGraphql({ db: db(), backoffMs: 10 }) }, bad);
    expect(report.skipped).toHaveLength(2);
    expect(report.skipped[0]).toMatch(/AbandonedCheckout\/52001: .*negative/);
    expect(report.skipped[1]).toMatch(/AbandonedCheckout\/52002: .*createdAt/);
    expect(await db().checkout.findMany({ where: { shop: bad }, select: { id: true } })).toEqual([{ id: 52_003n }]);
  });
});
