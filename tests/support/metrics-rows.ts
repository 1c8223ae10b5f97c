import type pg from "pg";
import { afterAll } from "vitest";
import { type CustomerMetricsValues } from "~/analytics/customer-metrics";
import { createPgPool } from "~/db/pg.server";
import { writeCustomerMetrics } from "~/data/customer-metrics.server";

// CustomerMetrics rows for the dashboard, segment and customer page tests, written the way
// the workers write them (writeCustomerMetrics). Each test uses its own shops (uniqueShop).

let pool: pg.Pool | undefined;

/** A pg pool on this worker's test database. */
export function testPool(): pg.Pool {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: is tests/support/setup-env.ts loaded?");
  pool ??= createPgPool(url, { max: 4 });
  return pool;
}

afterAll(async () => {
  await pool?.end();
  pool = undefined;
});

/** A metrics row with defaults for whatever the test does not care about. */
export function metricsRow(customerId: number | string, values: Partial<CustomerMetricsValues> = {}): CustomerMetricsValues {
  const orders = values.orders ?? 1;
  const netSpent = values.netSpent ?? 1000;
  return {
    customerId: String(customerId),
    orders,
    netSpent,
    aov: orders > 0 ? Math.round(netSpent / orders) : null,
    discountedOrders: 0,
    firstOrderDay: orders > 0 ? 20_000 : null,
    lastOrderDay: orders > 0 ? 20_100 : null,
    recencyDays: orders > 0 ? 10 : null,
    scores: orders > 0 ? { r: 3, f: 3, m: 3 } : null,
    segment: orders > 0 ? "need-attention" : null,
    behaviours: [],
    pAlive: null,
    expectedPurchases90d: null,
    expectedPurchases365d: null,
    expectedOrderValue: null,
    predictedClv: null,
    expectedNextOrderDay: null,
    ...values,
  };
}

export async function writeMetrics(shop: string, rows: CustomerMetricsValues[], asOfDay = 20_110, computedAt?: Date) {
  return writeCustomerMetrics(testPool(), shop, rows, { modelVersion: 1, asOfDay, source: "refit", computedAt });
}
