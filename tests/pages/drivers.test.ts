import { describe, expect, it } from "vitest";
import { MONTH_NAMES } from "~/analytics/drivers";
import { parseListParams } from "~/pages/customer-list";
import { listCustomers } from "~/pages/customer-list.server";
import { loadDriversPage } from "~/pages/drivers.server";
import { refitShop } from "~/refit/refit.server";
import { ACQUISITION_CUSTOMERS, ingestAcquisitionStore } from "../support/acquisition-store";
import { testPool, uniqueShop } from "../support/db";
import { deliver } from "../support/ingested-shops";
import { type Json } from "../support/webhook-fixtures";
import { orderPayload } from "../support/webhook-payloads";

// The acquisition drivers page reads the refit's row, and each of its values opens the
// customers it describes: the customer table's first-order filter (acquiredBy/acquiredValue)
// gives exactly the customers the refit counted in that row, on the hand-computed store.

const NOW = new Date("2026-06-30T15:00:00Z");

async function idsOf(shop: string, params: Record<string, string>): Promise<number[]> {
  const { query, problems } = parseListParams(new URLSearchParams({ sort: "orders", ...params }), "USD");
  expect(problems).toEqual([]);
  const page = await listCustomers(testPool(), shop, query);
  return page.rows.map((row) => Number(row.id)).sort();
}

describe("acquisition drivers page and the customers behind each value", () => {
  it("says nothing is ready before the first refit, then reads the refit's row", async () => {
    const shop = uniqueShop("drivers-page");
    await ingestAcquisitionStore(shop);
    const before = await loadDriversPage(testPool(), shop);
    expect(before).toMatchObject({ state: "none", drivers: null });
    expect(before.fit).not.toBeNull();

    await refitShop(testPool(), shop, { trigger: "manual", now: NOW });
    const page = await loadDriversPage(testPool(), shop);
    expect(page.state).toBe("ready");
    expect(page.drivers!.tables.map((t) => t.key)).toEqual(["firstProduct", "discountCode", "channel", "marketingSource", "firstOrderMonth"]);

    // Each row's customers, by the link the page makes for it, are the customers it counted.
    const expected: [string, string, number[]][] = [
      ["firstProduct", "Sock", [9101, 9102, 9105]],
      ["firstProduct", "Hat", [9103, 9104]],
      ["discountCode", "WELCOME", [9101, 9103]],
      ["discountCode", "", [9102, 9104, 9105]],
      ["channel", "web", [...ACQUISITION_CUSTOMERS]],
      ["marketingSource", "google / cpc", [9101, 9103]],
      ["marketingSource", "instagram.com (referral)", [9102]],
      ["marketingSource", "", [9105]],
      ["firstOrderMonth", "1", [9101, 9102, 9105]],
      ["firstOrderMonth", "6", [9104]],
    ];
    for (const [acquiredBy, acquiredValue, ids] of expected) {
      expect(await idsOf(shop, { acquiredBy, acquiredValue }), `${acquiredBy}=${acquiredValue}`).toEqual(ids);
      const table = page.drivers!.tables.find((t) => t.key === acquiredBy)!;
      const row = table.rows.find((r) => (acquiredBy === "firstOrderMonth" ? r.label === ["January", "June"][acquiredValue === "1" ? 0 : 1] : r.filterValue === acquiredValue))!;
      expect(row.customers, `${acquiredBy}=${acquiredValue}`).toBe(ids.length);
    }
    // Another shop's customers never come with a filter.
    expect(await idsOf(uniqueShop("drivers-other"), { acquiredBy: "firstProduct", acquiredValue: "Sock" })).toEqual([]);
  });

  it("links to as many customers as each row counts when Settings leave orders and customers out", async () => {
    const shop = uniqueShop("drivers-excluded");
    await ingestAcquisitionStore(shop);
    // Earlier orders Settings leave out, each first by date with values the counted first order does not have.
    let id = 7_200_000;
    const earlier = async (customerId: number, date: string, spec: { product: string; code: string | null; orderTags?: string; channel?: string; test?: boolean }) => {
      const at = new Date(`${date}T12:00:00Z`);
      const payload = orderPayload({ id: id++, customerId, totalCents: 3_000, processedAt: at, createdAt: at, updatedAt: at, test: spec.test });
      (payload.line_items as Json[])[0].title = spec.product;
      payload.discount_codes = spec.code ? [{ code: spec.code, amount: "0.00", type: "fixed_amount" }] : [];
      payload.landing_site = "/?utm_source=partner";
      payload.referring_site = null;
      if (spec.orderTags !== undefined) payload.tags = spec.orderTags;
      if (spec.channel !== undefined) payload.source_name = spec.channel;
      await deliver(shop, "orders/create", payload);
    };
    await earlier(9102, "2025-12-20", { product: "Hat", code: "B2B", orderTags: "wholesale, first-order" }); // an excluded order tag
    await earlier(9104, "2026-06-01", { product: "Sock", code: "POS10", channel: "pos" }); // an excluded channel
    await earlier(9103, "2026-01-25", { product: "Sock", code: null, test: true }); // a test order
    await earlier(9106, "2026-01-20", { product: "Sock", code: null });
    // A customer with an excluded tag (tags come from customers/update and the tag topics; set here as stored): none of their orders count.
    await testPool().query(`UPDATE "Customer" SET tags = '{Staff,newsletter}' WHERE shop = $1 AND id = 9106`, [shop]);
    await testPool().query(
      `INSERT INTO "ShopSettings" (shop, "excludedOrderTags", "excludedSourceNames", "excludedCustomerTags", "updatedAt")
       VALUES ($1, '{wholesale}', '{pos}', '{staff}', now())
       ON CONFLICT (shop) DO UPDATE SET "excludedOrderTags" = EXCLUDED."excludedOrderTags", "excludedSourceNames" = EXCLUDED."excludedSourceNames",
         "excludedCustomerTags" = EXCLUDED."excludedCustomerTags"`,
      [shop],
    );
    await refitShop(testPool(), shop, { trigger: "manual", now: NOW });
    const page = await loadDriversPage(testPool(), shop);
    expect(page.drivers!.customers).toBe(5);

    // Every row a value links from: the page's count and the table's count (and customers) agree.
    let compared = 0;
    for (const table of page.drivers!.tables) {
      for (const row of table.rows) {
        if (row.filterValue === null) continue;
        const acquiredValue = table.key === "firstOrderMonth" ? String(MONTH_NAMES.indexOf(row.label) + 1) : row.filterValue;
        const { query } = parseListParams(new URLSearchParams({ acquiredBy: table.key, acquiredValue }), "USD");
        const listed = await listCustomers(testPool(), shop, query);
        expect(listed.total, `${table.key}=${row.label}`).toBe(row.customers);
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(10);
    expect(await idsOf(shop, { acquiredBy: "firstProduct", acquiredValue: "Sock" })).toEqual([9101, 9102, 9105]);
    expect(await idsOf(shop, { acquiredBy: "discountCode", acquiredValue: "" })).toEqual([9102, 9104, 9105]);
    expect(await idsOf(shop, { acquiredBy: "channel", acquiredValue: "web" })).toEqual([...ACQUISITION_CUSTOMERS]);
  });

  it("filters by the expected next order, a day range inclusive, leaving out customers without one", async () => {
    const shop = uniqueShop("next-order");
    await ingestAcquisitionStore(shop);
    await refitShop(testPool(), shop, { trigger: "manual", now: NOW });
    await testPool().query(
      `UPDATE "CustomerMetrics" SET "expectedNextOrderDay" = CASE "customerId" WHEN 9101 THEN DATE '2026-07-01' WHEN 9103 THEN DATE '2026-07-10' ELSE NULL END WHERE shop = $1`,
      [shop],
    );
    expect(await idsOf(shop, { nextOrderFrom: "2026-07-01", nextOrderTo: "2026-07-09" })).toEqual([9101]);
    expect(await idsOf(shop, { nextOrderFrom: "2026-07-02" })).toEqual([9103]);
    expect(await idsOf(shop, { nextOrderTo: "2026-07-10" })).toEqual([9101, 9103]);
  });

  it("drops a malformed filter with a problem the page shows, keeping the rest", () => {
    const parse = (params: Record<string, string>) => parseListParams(new URLSearchParams(params), "USD");
    expect(parse({ acquiredBy: "colour", acquiredValue: "red" }).problems).toEqual(['There is no first-order filter "colour"; that filter was left out.']);
    expect(parse({ acquiredBy: "firstOrderMonth", acquiredValue: "13" }).query.acquired).toBeUndefined();
    expect(parse({ nextOrderFrom: "2026-02-30", q: "sam" })).toMatchObject({
      query: { search: "sam" },
      problems: ['Expected next order from must be a date such as 2026-07-01 (got "2026-02-30"); that filter was left out.'],
    });
    // No value means none (customers whose first order had no code).
    expect(parse({ acquiredBy: "discountCode" }).query.acquired).toEqual({ dimension: "discountCode", value: "" });
  });
});
