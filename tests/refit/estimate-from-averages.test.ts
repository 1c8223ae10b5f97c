import { describe, expect, it } from "vitest";
import { type AveragesEstimate, estimateFromAverages } from "~/analytics/estimate-from-averages";
import { loadMetricsSettings } from "~/data/settings.server";
import { recomputeCustomerMetrics } from "~/metrics/recompute.server";
import { refitShop } from "~/refit/refit.server";
import { uniqueShop } from "../support/db";
import { insertSyntheticShop } from "./synthetic-shop";
import { AS_OF, NOW, countedTotals, metricsRows, pool } from "./refit-fixtures";

// Small stores (issue 13): below the model's minimums the refit stores the estimate from
// averages and writes its figures on every customer who ordered; the live recompute gives the
// same; once the data allow a model, the model's figures take over.

async function storedFit(shop: string) {
  const { rows } = await pool.query<{ status: string; predictionSource: string | null; averagesEstimate: AveragesEstimate | null; model: unknown }>(
    `SELECT status, "predictionSource", "averagesEstimate", model FROM "ShopFit" WHERE shop = $1`,
    [shop],
  );
  return rows[0];
}

async function predictedColumns(shop: string) {
  const { rows } = await pool.query<{ id: string; clv: string | null; orderValue: string | null; e90: number | null; e365: number | null; pAlive: number | null }>(
    `SELECT "customerId"::text AS id, "predictedClvMinor"::text AS clv, "expectedOrderValueMinor"::text AS "orderValue",
            "expectedPurchases90d" AS e90, "expectedPurchases365d" AS e365, "pAlive"
     FROM "CustomerMetrics" WHERE shop = $1 AND orders > 0 ORDER BY "customerId"`,
    [shop],
  );
  return rows;
}

describe("estimate from averages for a shop below the model's minimums", () => {
  it("is stored with the fit, written on every customer who ordered, the same live, and gives way to the model when the data allow", async () => {
    const shop = uniqueShop("averages");
    await insertSyntheticShop(pool, { shop, customers: 30, asOfDay: AS_OF, seed: 5 });
    const thin = await refitShop(pool, shop, { trigger: "manual", now: NOW });
    expect(thin).toMatchObject({ status: "no-predictions", reasonCode: "too-few-customers" });

    const fit = await storedFit(shop);
    expect(fit).toMatchObject({ status: "no-predictions", predictionSource: "averages", model: null });
    const estimate = fit.averagesEstimate!;
    // Made of the shop's own counted orders, and as the pure function computes it from them.
    const totals = await countedTotals(shop);
    expect(estimate).toMatchObject({ customers: totals.customers, orders: totals.orders, revenue: totals.net, asOfDay: AS_OF });
    const settings = await loadMetricsSettings(pool, shop);
    const { rows: firsts } = await pool.query<{ orders: number; net: string; first: number }>(
      `SELECT count(*)::int AS orders, sum("netMinor")::text AS net,
              (min(("processedAt" AT TIME ZONE 'UTC')::date) - date '1970-01-01')::int AS first
       FROM "Order" WHERE shop = $1 AND NOT test GROUP BY "customerId"`,
      [shop],
    );
    const expected = estimateFromAverages(
      firsts.map((c) => ({ orders: c.orders, netSpent: Number(c.net), firstOrderDay: c.first })),
      AS_OF,
      settings,
    )!;
    expect(estimate.expectedSpend).toBeCloseTo(expected.expectedSpend, 6);
    expect(estimate.expectedSpend).toBeGreaterThan(0);

    const written = await predictedColumns(shop);
    expect(written).toHaveLength(30);
    for (const row of written) {
      expect(row).toMatchObject({
        clv: String(Math.round(estimate.expectedSpend)),
        orderValue: String(Math.round(estimate.expectedOrderValue)),
        pAlive: null, // the averages say nothing about one customer's chance of being active
      });
      expect(row.e90).toBeCloseTo(estimate.expectedPurchases90d, 9);
      expect(row.e365).toBeCloseTo(estimate.expectedPurchases365d, 9);
    }
    // No VIP: the estimate is the same for everyone, so it ranks no one.
    expect((await metricsRows(shop)).filter((row) => row.behaviours.includes("vip"))).toEqual([]);

    // The live recompute of a customer scores with the stored estimate: the same row.
    await recomputeCustomerMetrics(pool, shop, [written[0].id], { now: NOW });
    expect((await predictedColumns(shop))[0]).toEqual(written[0]);

    // Enough customers for the model: its figures replace the estimate's.
    await insertSyntheticShop(pool, { shop, customers: 1_500, asOfDay: AS_OF, seed: 3, firstCustomerId: 31 });
    const full = await refitShop(pool, shop, { trigger: "manual", now: NOW });
    expect(full.status).toBe("ready");
    expect(await storedFit(shop)).toMatchObject({ status: "ready", predictionSource: "model", averagesEstimate: null });
    const modelled = await predictedColumns(shop);
    expect(modelled.every((row) => row.pAlive !== null && row.clv !== null)).toBe(true);
    expect(new Set(modelled.map((row) => row.clv)).size).toBeGreaterThan(1);
  });
  it("leaves customers whose only orders were cancelled out of the estimate (its customers, orders and spend)", async () => {
    const shop = uniqueShop("averages-voided");
    await insertSyntheticShop(pool, { shop, customers: 30, asOfDay: AS_OF, seed: 5 });
    const { rows: picked } = await pool.query<{ id: string }>(
      `SELECT "customerId"::text AS id FROM "Order" WHERE shop = $1 GROUP BY "customerId" ORDER BY "customerId" LIMIT 2`,
      [shop],
    );
    const voidedIds = picked.map((row) => row.id);
    await pool.query(
      `UPDATE "Order" SET "cancelledAt" = "processedAt", "netMinor" = 0, "netSalesMinor" = 0 WHERE shop = $1 AND "customerId" = ANY($2::bigint[])`,
      [shop, voidedIds],
    );
    await refitShop(pool, shop, { trigger: "manual", now: NOW });
    const estimate = (await storedFit(shop)).averagesEstimate!;
    const { rows } = await pool.query<{ customers: number; orders: number }>(
      `SELECT count(DISTINCT "customerId")::int AS customers, count(*)::int AS orders
       FROM "Order" WHERE shop = $1 AND NOT test AND NOT ("customerId" = ANY($2::bigint[]))`,
      [shop, voidedIds],
    );
    // docs/analytics/clv.md: the estimate is over the customers with a counted order.
    expect(estimate).toMatchObject({ customers: 28, orders: rows[0].orders });
    expect(rows[0].customers).toBe(28);
  });
});
