import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPgPool } from "../../app/db/pg.server";
import { processDelivery } from "../../app/ingest/deliveries.server";
import { recomputeCustomerMetrics } from "../../app/metrics/recompute.server";
import { insertDelivery, testDb, uniqueShop } from "../support/db";
import { orderPayload } from "../support/webhook-payloads";

// The live path's statements are prepared once per connection and run their generic plan
// from the first execution: PostgreSQL never plans them per delivery (ADR 0012). One
// connection, so pg_prepared_statements shows every statement the path ran.
let pool: pg.Pool;
beforeAll(() => {
  pool = createPgPool(process.env.DATABASE_URL!, { max: 1 });
});
afterAll(() => pool.end());

const preparedPlans = async () =>
  (await pool.query<{ statement: string; generic_plans: string; custom_plans: string }>(
    `SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements WHERE name LIKE 'tenure_%'`,
  )).rows;

describe("the live path's plans", () => {
  it("are generic from the first delivery and the first recompute on, never custom", async () => {
    const shop = uniqueShop("plans");
    await pool.query(`INSERT INTO "Shop" (domain, currency, timezone, "updatedAt") VALUES ($1, 'USD', 'UTC', now())`, [shop]);
    for (let i = 1; i <= 3; i += 1) {
      const id = await insertDelivery(testDb(), { shop, topic: "orders/create", payload: orderPayload({ id: 7_000 + i, customerId: 700 + i, updatedAt: new Date("2025-03-14T15:00:00Z"), totalCents: 2_500 }) });
      expect(await processDelivery(testDb(), id, { pool, enqueueMetrics: async () => {} })).toMatchObject({ status: "processed" });
    }
    await recomputeCustomerMetrics(pool, shop, ["701"]);
    await recomputeCustomerMetrics(pool, shop, ["702", "703"]);

    const plans = await preparedPlans();
    expect(plans.some((p) => p.statement.includes('"WebhookDelivery"'))).toBe(true);
    expect(plans.some((p) => p.statement.includes('"CustomerMetrics"'))).toBe(true);
    expect(plans.filter((p) => Number(p.custom_plans) > 0)).toEqual([]);
  });
});
