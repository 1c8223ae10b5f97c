import { describe, expect, it } from "vitest";
import { refitShop } from "~/refit/refit.server";
import { type KpisAggregate } from "~/data/aggregates";
import { uniqueShop } from "../support/db";
import { insertSyntheticShop } from "./synthetic-shop";
import { AS_OF, NOW, aggregate, metricsRows, pool } from "./refit-fixtures";

// The refit honours issue 13's rules as the live recompute does: customers whose only orders
// were cancelled or refunded in full get no prediction and are counted in the KPIs; orders
// of customers with an excluded tag do not count.

describe("refit: what counts (issue 13)", () => {
  it("leaves customers with only cancelled or refunded orders out of predictions, counts them, and honours customer-tag exclusions", async () => {
    const shop = uniqueShop("revenue-refit");
    await insertSyntheticShop(pool, { shop, customers: 1_500, asOfDay: AS_OF, seed: 7 });
    // Five one-order customers whose order was cancelled, one refunded in full.
    const voided = await pool.query<{ customerId: string }>(
      `SELECT "customerId"::text FROM "Order" WHERE shop = $1 GROUP BY "customerId" HAVING count(*) = 1 ORDER BY "customerId" LIMIT 6`,
      [shop],
    );
    const voidedIds = voided.rows.map((row) => row.customerId);
    await pool.query(
      `UPDATE "Order" SET "cancelledAt" = "processedAt", "netMinor" = 0, "netSalesMinor" = 0
       WHERE shop = $1 AND "customerId" = ANY($2::bigint[]) AND "customerId" <> $3::bigint`,
      [shop, voidedIds, voidedIds[5]],
    );
    await pool.query(`UPDATE "Order" SET "financialStatus" = 'refunded', "netMinor" = 0 WHERE shop = $1 AND "customerId" = $2::bigint`, [shop, voidedIds[5]]);
    // A wholesale account (tag in another case than the setting's), with several orders.
    const wholesale = await pool.query<{ customerId: string }>(
      `SELECT "customerId"::text FROM "Order" WHERE shop = $1 GROUP BY "customerId" HAVING count(*) > 2 ORDER BY "customerId" LIMIT 1`,
      [shop],
    );
    const wholesaleId = wholesale.rows[0].customerId;
    await pool.query(`UPDATE "Customer" SET tags = ARRAY['Wholesale'] WHERE shop = $1 AND id = $2::bigint`, [shop, wholesaleId]);
    await pool.query(`INSERT INTO "ShopSettings" (shop, "excludedCustomerTags", "updatedAt") VALUES ($1, ARRAY['wholesale'], now())`, [shop]);

    const report = await refitShop(pool, shop, { trigger: "manual", now: NOW });
    expect(report.status).toBe("ready");
    const rows = await metricsRows(shop);
    const byId = new Map(rows.map((row) => [String(row.customerId), row]));
    for (const id of voidedIds) {
      expect(byId.get(id)).toMatchObject({ orders: 1, pAlive: null, predictedClvMinor: null });
    }
    // Everyone else with an order has a prediction.
    expect(rows.filter((row) => row.orders > 0 && !voidedIds.includes(String(row.customerId))).every((row) => row.pAlive !== null)).toBe(true);
    // No counted order: no row on a first refit (an emptied one on later refits).
    expect(byId.get(wholesaleId)?.orders ?? 0).toBe(0);
    const kpis = await aggregate<KpisAggregate>(shop, "kpis");
    expect(kpis.onlyVoidedCustomers).toBe(6);
  });
});
