import { type CustomerMetricsValues } from "~/analytics/customer-metrics";
import { writeCustomerMetrics } from "~/data/customer-metrics.server";
import { testPool } from "./db";

// CustomerMetrics rows for the dashboard, segment and customer page tests, written the way
// the workers write them (writeCustomerMetrics). Each test uses its own shops (uniqueShop).

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
    grossProfit: 0,
    uncostedSales: 0,
    recencyDays: orders > 0 ? 10 : null,
    scores: orders > 0 ? { r: 3, f: 3, m: 3 } : null,
    segment: orders > 0 ? "need-attention" : null,
    behaviours: [],
    pAlive: null,
    chanceOfOrder90d: null,
    chanceOfOrder365d: null,
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
