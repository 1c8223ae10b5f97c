import { describe, expect, it } from "vitest";
import { refitShop } from "~/refit/refit.server";
import { loadCohortsPage } from "~/pages/cohorts.server";
import { cohortsInBasis } from "~/pages/cohorts";
import { moneyBasisOf } from "~/pages/money-basis";
import { uniqueShop } from "../support/db";
import { NOW, pool } from "./refit-fixtures";

// Cohort LTV and payback on the profit basis from each order's own gross profit (issue 17),
// on a store computed by hand: two products of very different margins, one per cohort, so
// one shop-wide margin cannot give either cohort's profit.
//
//   Mug: net 100.00, unit cost 20.00 -> profit 80.00 (80 %)
//   Lamp: net 200.00, unit cost 150.00 -> profit 50.00 (25 %)
//   A 50.00 order without a cost -> 50.00 x the fallback margin 0.5 = 25.00
//
//   January cohort:  1 Mug Jan 10, Mug Feb 10; 2 Mug Jan 20
//   February cohort: 3 Lamp Feb 5, Lamp Mar 5; 4 Lamp Feb 15, uncosted Apr 15
//
// Profit per customer by month since the first order (minor units):
//   January:  month 0 (8000 + 8000) / 2 = 8000; month 1 + 8000 / 2 = 12000, then flat
//   February: month 0 (5000 + 5000) / 2 = 5000; month 1 7500; month 2 8750, then flat
// Pooled (months observed through June): 6500, 9750, 10375, 10375, 10375, then only
// January: 12000. With CAC 100.00 payback is month 2.
// Revenue x the shop's profit margin (41500 / 95000 = 43.7 %) would give January 6553 at
// month 1 and never pay back.

const orders: [customer: number, order: number, isoDay: string, net: number, cost: number, costedNet: number][] = [
  [1, 101, "2026-01-10", 10_000, 2_000, 10_000],
  [1, 102, "2026-02-10", 10_000, 2_000, 10_000],
  [2, 201, "2026-01-20", 10_000, 2_000, 10_000],
  [3, 301, "2026-02-05", 20_000, 15_000, 20_000],
  [3, 302, "2026-03-05", 20_000, 15_000, 20_000],
  [4, 401, "2026-02-15", 20_000, 15_000, 20_000],
  [4, 402, "2026-04-15", 5_000, 0, 0],
];

async function insertCostedStore(shop: string): Promise<void> {
  await pool.query(`INSERT INTO "Shop" (domain, currency, timezone, "updatedAt") VALUES ($1, 'USD', 'UTC', now())`, [shop]);
  await pool.query(`INSERT INTO "Customer" (shop, id, tags, "shopifyUpdatedAt") SELECT $1, id, '{}', now() FROM unnest($2::bigint[]) AS id`, [shop, [1, 2, 3, 4]]);
  for (const [customer, order, isoDay, net, cost, costedNet] of orders) {
    await pool.query(
      `INSERT INTO "Order" (shop, id, "customerId", "processedAt", "shopifyCreatedAt", "shopifyUpdatedAt", currency, "currentTotalMinor", "netMinor",
                            "netSalesMinor", "sourceName", "discountCodes", tags, "costOfGoodsMinor", "costedNetSalesMinor", "firstProductTitle")
       VALUES ($1, $2, $3, $4::timestamp, $4::timestamp, $4::timestamp, 'USD', $5, $5, $5, 'web', '{}', '{}', $6, $7, $8)`,
      [shop, order, customer, `${isoDay}T10:00:00Z`, net, cost, costedNet, customer <= 2 ? "Mug" : "Lamp"],
    );
  }
  await pool.query(`INSERT INTO "ShopSettings" (shop, "cacMinor", "updatedAt") VALUES ($1, 10000, now())`, [shop]);
}

describe("refit: cohort profit from each order's own gross profit (issue 17)", () => {
  it("stores per-cohort profit curves beside revenue, and the page's profit basis and payback read them", async () => {
    const shop = uniqueShop("cohort-profit");
    await insertCostedStore(shop);
    await refitShop(pool, shop, { trigger: "manual", now: NOW });

    const stored = await loadCohortsPage(pool, shop, null);
    const basis = moneyBasisOf(new URLSearchParams(), stored.grossMargin, stored.costs);
    // Costs cover 90,000 of 95,000 in sales: profit is the default basis.
    expect(basis.basis).toBe("profit");
    const page = cohortsInBasis(stored, basis.factor);

    const [january, february] = page.cohorts;
    expect(january.month).toBe("2026-01");
    expect(january.ltvByMonth.slice(0, 7)).toEqual([8_000, 12_000, 12_000, 12_000, 12_000, 12_000, null]);
    expect(january.ltvAtDays).toEqual([8_000, 12_000, 12_000, null, null]);
    expect(february.month).toBe("2026-02");
    expect(february.ltvByMonth.slice(0, 6)).toEqual([5_000, 7_500, 8_750, 8_750, 8_750, null]);
    expect(february.ltvAtDays).toEqual([7_500, 8_750, 8_750, null, null]);
    expect(page.ltv?.byMonth.slice(0, 7)).toEqual([6_500, 9_750, 10_375, 10_375, 10_375, 12_000, null]);
    // Spent to date per customer as profit: 41,500 / 4.
    expect(page.totals?.averageSpentToDate).toBe(10_375);

    // Payback on the profit curve: month 2 (10,375 >= 10,000); January alone at month 1 (12,000).
    expect(page.ltv?.paybackMonth).toBe(2);
    expect(january.paybackMonth).toBe(1);
    expect(february.paybackMonth).toBeNull();
    // LTV:CAC at 60 days: profit 12,000 / 10,000 for January.
    expect(january.ltvToCacAtDays[1]).toBe(1.2);

    // A filter's own row (first product Lamp: the February cohort) carries its profit curve too.
    const lamp = cohortsInBasis(await loadCohortsPage(pool, shop, { dimension: "firstProduct", value: "Lamp" }), basis.factor);
    expect(lamp.filter).toEqual({ dimension: "firstProduct", value: "Lamp" });
    expect(lamp.cohorts.filter((row) => row.size > 0).map((row) => row.month)).toEqual(["2026-02"]);
    expect(lamp.ltv?.byMonth.slice(0, 6)).toEqual([5_000, 7_500, 8_750, 8_750, 8_750, null]);

    // The revenue basis still shows revenue.
    const revenue = cohortsInBasis(stored, 1);
    expect(revenue.cohorts[0].ltvByMonth.slice(0, 2)).toEqual([10_000, 15_000]);
  });
});
