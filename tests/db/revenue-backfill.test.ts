import { cp, mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { DEFAULT_MIGRATIONS_DIR, applyMigrations } from "../../app/db/migrations.server";
import { cloneTemplate, databaseUrl } from "../support/databases";
import { fixture } from "../support/webhook-fixtures";

// The revenue-parts migration (20261206140000) on rows stored before it: an order whose
// stored version's payload is kept gets its parts and net sales; an order without a payload,
// or whose kept payload is older than the stored row, stays unknown (null) and counts at
// total sales until imported again; refunds get their parts from refunds/create payloads.

const REVENUE_MIGRATION = "20261206140000_revenue_parts";
const runId = inject("testRunId");
const name = `tenure_test_${runId}_revenue_backfill_${process.env.VITEST_POOL_ID ?? "0"}`;
let client: pg.Client;

/** The project's migrations before the revenue one, in a folder of their own. */
async function migrationsBefore(migration: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "tenure-revenue-backfill-"));
  for (const entry of await readdir(DEFAULT_MIGRATIONS_DIR, { withFileTypes: true })) {
    if (entry.isDirectory() && entry.name < migration) await cp(path.join(DEFAULT_MIGRATIONS_DIR, entry.name), path.join(dir, entry.name), { recursive: true });
  }
  return dir;
}

beforeAll(async () => {
  await cloneTemplate(runId, name);
  const url = databaseUrl(name);
  client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`DROP SCHEMA public CASCADE; CREATE SCHEMA public;`);
  await applyMigrations(url, { dir: await migrationsBefore(REVENUE_MIGRATION) });
});

afterAll(async () => {
  await client?.end();
});

const SHOP = "backfill.myshopify.com";

async function insertOrder(id: bigint, updatedAt: string, currentTotalMinor: number, netMinor: number) {
  await client.query(
    `INSERT INTO "Order" (shop, id, "customerId", "processedAt", "shopifyCreatedAt", "shopifyUpdatedAt", currency, "currentTotalMinor", "netMinor",
                          "discountCodes", tags)
     VALUES ($1, $2, 1, $3::timestamptz AT TIME ZONE 'UTC', $3::timestamptz AT TIME ZONE 'UTC', $3::timestamptz AT TIME ZONE 'UTC', 'USD', $4, $5, '{}', '{}')`,
    [SHOP, id.toString(), updatedAt, currentTotalMinor, netMinor],
  );
}

async function insertDelivery(topic: string, payload: unknown, webhookId: string) {
  await client.query(`INSERT INTO "WebhookDelivery" (shop, "webhookId", topic, payload, status) VALUES ($1, $2, $3, $4, 'PROCESSED')`, [
    SHOP,
    webhookId,
    topic,
    JSON.stringify(payload),
  ]);
}

describe("the revenue-parts migration", () => {
  it("fills parts from the stored version's payload, and leaves the rest unknown", async () => {
    // A: stored at the refunded version, whose payload is kept (and the older create's too).
    const refunded = fixture("orders-updated-refunded");
    await insertOrder(6_123_456_789_012n, String(refunded.updated_at), 15_199, 15_199);
    await insertDelivery("orders/create", fixture("orders-create"), "w-a1");
    await insertDelivery("orders/updated", refunded, "w-a2");
    await client.query(`INSERT INTO "Refund" (shop, id, "orderId", "createdAt", "amountMinor") VALUES ($1, 1012345678901, 6123456789012, '2025-03-20T19:02:44Z', 1764)`, [SHOP]);
    // A later refund (after A's updated_at), known from its refunds/create payload: 116.10 of goods.
    await insertDelivery("refunds/create", fixture("refunds-create-shipping-discrepancy"), "w-a3");
    await client.query(`INSERT INTO "Refund" (shop, id, "orderId", "createdAt", "amountMinor") VALUES ($1, 1012345678977, 6123456789012, '2025-04-02T13:12:30Z', 12435)`, [SHOP]);

    // B: no payload kept (a bulk import). C: stored at a newer version than its kept payload.
    await insertOrder(7_000_000_000_001n, "2025-05-01T00:00:00Z", 5_000, 5_000);
    const stale = { ...fixture("orders-create"), id: 7_000_000_000_002, admin_graphql_api_id: "gid://shopify/Order/7000000000002" };
    await insertOrder(7_000_000_000_002n, "2025-06-01T00:00:00Z", 9_000, 9_000);
    await insertDelivery("orders/create", stale, "w-c1");

    // D: a taxes-included order (20 % VAT inside its prices), stored at its refunded version: line 1
    // 120.00 with 12.00 off and 18.00 VAT, line 2 2 x 60.00 with 20.00 VAT, one unit of line 2
    // returned (168.00 subtotal left). Without the VAT: gross 200.00, discounts 10.00, returns
    // 50.00, net sales 140.00 (the revenue test works the same order through the mappers).
    const usd = (amount: string) => ({ shop_money: { amount, currency_code: "USD" }, presentment_money: { amount, currency_code: "USD" } });
    const taxesIncluded = {
      ...fixture("orders-create"), id: 7_000_000_000_003, admin_graphql_api_id: "gid://shopify/Order/7000000000003",
      updated_at: "2025-03-20T10:00:01Z", taxes_included: true, refunds: [],
      total_line_items_price_set: usd("240.00"), current_subtotal_price_set: usd("168.00"), total_tax_set: usd("38.00"), total_shipping_price_set: usd("10.00"),
      // After the return: the returned unit's 10.00 VAT is no longer charged.
      current_total_tax_set: usd("28.00"), current_shipping_price_set: usd("10.00"), original_total_duties_set: null, current_total_duties_set: null,
      line_items: [
        { id: 1, quantity: 1, price_set: usd("120.00"), discount_allocations: [{ amount_set: usd("12.00") }], tax_lines: [{ price_set: usd("18.00"), rate: 0.2 }] },
        { id: 2, quantity: 2, price_set: usd("60.00"), discount_allocations: [], tax_lines: [{ price_set: usd("20.00"), rate: 0.2 }] },
      ],
    };
    await insertOrder(7_000_000_000_003n, "2025-03-20T10:00:01Z", 17_800, 17_800);
    await insertDelivery("orders/updated", taxesIncluded, "w-d1");

    await applyMigrations(databaseUrl(name));

    const orders = await client.query<Record<string, string | null>>(
      `SELECT id::text, "grossSalesMinor"::text AS gross, "discountsMinor"::text AS discounts, "returnsMinor"::text AS returns,
              "taxMinor"::text AS tax, "shippingMinor"::text AS shipping, "dutiesMinor"::text AS duties, "netSalesMinor"::text AS net_sales,
              "netMinor"::text AS total_sales
       FROM "Order" WHERE shop = $1 ORDER BY id`,
      [SHOP],
    );
    // A: 165.00 gross, 16.50 discounts, 16.20 returned (132.30 current subtotal); the later
    // refund's 116.10 of goods comes off too: net sales 132.30 - 116.10 = 16.20.
    expect(orders.rows[0]).toEqual({
      id: "6123456789012", gross: "16500", discounts: "1650", returns: "1620", tax: "1174", shipping: "795", duties: "0", net_sales: "1620", total_sales: "15199",
    });
    for (const row of orders.rows.slice(1, 3)) {
      expect(row).toMatchObject({ gross: null, returns: null, net_sales: null });
    }
    expect(orders.rows[3]).toEqual({
      id: "7000000000003", gross: "20000", discounts: "1000", returns: "5000", tax: "2800", shipping: "1000", duties: "0", net_sales: "14000", total_sales: "17800",
    });
    // Total sales = net sales + tax + shipping + duties (docs/analytics/revenue.md): at the stored
    // version, the parts add up to Shopify's current total (A 151.99, D 178.00).
    const identity = await client.query<{ id: string; parts: string; current_total: string }>(
      `SELECT id::text, ("grossSalesMinor" - "discountsMinor" - "returnsMinor" + "taxMinor" + "shippingMinor" + "dutiesMinor")::text AS parts,
              "currentTotalMinor"::text AS current_total
       FROM "Order" WHERE shop = $1 AND "grossSalesMinor" IS NOT NULL ORDER BY id`,
      [SHOP],
    );
    expect(identity.rows).toEqual([
      { id: "6123456789012", parts: "15199", current_total: "15199" },
      { id: "7000000000003", parts: "17800", current_total: "17800" },
    ]);

    const refunds = await client.query<Record<string, string | null>>(
      `SELECT id::text, "returnsMinor"::text AS returns, "taxMinor"::text AS tax, "shippingMinor"::text AS shipping FROM "Refund" WHERE shop = $1 ORDER BY id`,
      [SHOP],
    );
    expect(refunds.rows).toEqual([
      { id: "1012345678901", returns: "1620", tax: "144", shipping: "0" },
      { id: "1012345678977", returns: "11610", tax: "1030", shipping: "795" },
    ]);
    // The settings default to net sales.
    const defaults = await client.query(`SELECT column_default FROM information_schema.columns WHERE table_name = 'ShopSettings' AND column_name = 'revenueBasis'`);
    expect(defaults.rows[0].column_default).toMatch(/net_sales/);
  });
});
