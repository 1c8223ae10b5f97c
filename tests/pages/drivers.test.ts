import { describe, expect, it } from "vitest";
import { parseListParams } from "~/pages/customer-list";
import { listCustomers } from "~/pages/customer-list.server";
import { loadDriversPage } from "~/pages/drivers.server";
import { refitShop } from "~/refit/refit.server";
import { ACQUISITION_CUSTOMERS, ingestAcquisitionStore } from "../support/acquisition-store";
import { testPool, uniqueShop } from "../support/db";

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
