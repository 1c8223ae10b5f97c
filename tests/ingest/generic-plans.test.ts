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

describe("an order delivery's statements", () => {
  // Each statement is a round trip and a Bind/Execute in PostgreSQL: the live path's cost grows
  // with their number (bench/freshness). An orders/create with lines and a checkout, on a
  // connection of its own, counted by executions of its prepared statements.
  it("an orders/create with lines and a checkout runs 12 statements in its transaction, its recompute 5", async () => {
    const own = createPgPool(process.env.DATABASE_URL!, { max: 1 });
    try {
      const shop = uniqueShop("statements");
      await own.query(`INSERT INTO "Shop" (domain, currency, timezone, "updatedAt") VALUES ($1, 'USD', 'UTC', now())`, [shop]);
      const payload = orderPayload({ id: 7_100, customerId: 710, updatedAt: new Date("2025-03-14T15:00:00Z"), totalCents: 2_500 }) as Record<string, unknown>;
      expect((payload.line_items as unknown[]).length).toBeGreaterThan(0);
      expect(payload.checkout_token ?? payload.checkout_id).toBeTruthy();
      const id = await insertDelivery(testDb(), { shop, topic: "orders/create", payload });
      expect(await processDelivery(testDb(), id, { pool: own, enqueueMetrics: async () => {} })).toMatchObject({ status: "processed" });
      const executed = await own.query<{ n: string }>(
        `SELECT sum(generic_plans + custom_plans)::text AS n FROM pg_prepared_statements WHERE name LIKE 'tenure_%'`,
      );
      // The delivery's lock and mark, the order's and customers' locks (2), the stored order, tombstones,
      // customer and order (one), its lines and cost (one), the summary, the checkout (one); and the
      // shop's currency and hosts, cached a minute per process after this first delivery. Was 17: the
      // customer and the order, the lines' version check, delete, insert and recost, and the checkout's
      // insert and probes, apart.
      expect(Number(executed.rows[0].n)).toBe(12);

      // The customer's recompute: its lock, the read (orders and latest abandoned checkout), the
      // write, the destinations' outbox and the change count. Was 6: the checkouts read apart.
      await recomputeCustomerMetrics(own, shop, ["710"]);
      const recomputed = await own.query<{ n: string }>(
        `SELECT sum(generic_plans + custom_plans)::text AS n FROM pg_prepared_statements WHERE name LIKE 'tenure_%'`,
      );
      expect(Number(recomputed.rows[0].n) - Number(executed.rows[0].n)).toBe(5);
    } finally {
      await own.end();
    }
  });
});

