import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type CustomerMetricsValues } from "~/analytics/customer-metrics";
import { writeCustomerMetricsInto } from "~/data/customer-metrics.server";
import { createPgPool } from "~/db/pg.server";
import { copyMetricsInto } from "../../app/refit/copy-metrics.server";
import { createRebuildTable, rebuildTableName } from "../../app/refit/partition-swap.server";
import { metricsRow } from "../support/customer-metrics-rows";
import { uniqueShop } from "../support/db";

// The rescore's COPY writes the rows the insert wrote, value for value: the same table
// contents from both writers, for rows with nulls, awkward doubles, several behaviours and
// text that COPY must escape.

let pool: pg.Pool;
beforeAll(() => {
  pool = createPgPool(process.env.DATABASE_URL!, { max: 4 });
});
afterAll(async () => {
  await pool.end();
});

const base: CustomerMetricsValues = {
  customerId: "1",
  orders: 3,
  netSpent: 12_345,
  aov: 4_115,
  discountedOrders: 1,
  firstOrderDay: 19_000,
  lastOrderDay: 20_100,
  grossProfit: -250,
  uncostedSales: 1_000,
  recencyDays: 30,
  scores: { r: 5, f: 4, m: 3 },
  segment: "champions",
  behaviours: ["vip", "discount-shopper"],
  pAlive: 0.1 + 0.2,
  chanceOfOrder90d: 1e-300,
  chanceOfOrder365d: 0.9999999999999999,
  expectedPurchases90d: 1 / 3,
  expectedPurchases365d: 123456.78901234567,
  expectedOrderValue: 9_007_199_254_740_991,
  predictedClv: 77,
  expectedNextOrderDay: 20_200,
};

const rows: CustomerMetricsValues[] = [
  base,
  // No orders: every order-derived figure null (as the shared fixture makes it), the costs kept.
  metricsRow("9223372036854775807", { orders: 0, netSpent: 0, discountedOrders: 1, grossProfit: -250, uncostedSales: 1_000 }),
  { ...base, customerId: "4", segment: "Клиенты 🛒 à", behaviours: ["vip", "high-aov"], expectedNextOrderDay: 2_000_000 },
  { ...base, customerId: "3", chanceOfOrder365d: -0, expectedPurchases90d: Number.NaN, netSpent: -9_007_199_254_740_991, segment: 'tab\there "quoted" back\\slash\nline', behaviours: ["cart-abandoner"], pAlive: 5e-324, grossProfit: 0 },
];

it("writes the rows the insert writes", async () => {
  const shop = uniqueShop("copy-metrics");
  const inserted = rebuildTableName(shop);
  const copied = rebuildTableName(shop);
  await createRebuildTable(pool, inserted);
  await createRebuildTable(pool, copied);
  try {
    const options = { modelVersion: 7, asOfDay: 20_200, source: "refit" as const, computedAt: new Date("2026-07-01T03:00:00.123Z") };
    expect(await writeCustomerMetricsInto(pool, inserted, shop, rows, { ...options, replace: false })).toBe(4);
    expect(await copyMetricsInto(pool, copied, shop, rows, options)).toBe(4);
    const contents = async (table: string) =>
      (await pool.query<{ row: string }>(`SELECT t::text AS row FROM ${pg.escapeIdentifier(table)} AS t ORDER BY "customerId"`)).rows.map((r) => r.row);
    const expected = await contents(inserted);
    expect(expected).toHaveLength(4);
    expect(await contents(copied)).toEqual(expected);
  } finally {
    await pool.query(`DROP TABLE IF EXISTS ${pg.escapeIdentifier(inserted)}, ${pg.escapeIdentifier(copied)}`);
  }
});

it("refuses a customer id that is not a decimal integer, as the insert did, and writes nothing", async () => {
  const shop = uniqueShop("copy-metrics-bad");
  const table = rebuildTableName(shop);
  await createRebuildTable(pool, table);
  try {
    const options = { modelVersion: 7, asOfDay: 20_200, source: "refit" as const, computedAt: new Date("2026-07-01T03:00:00Z") };
    for (const customerId of ["", " 12 ", "0x1f", "12.5", "99999999999999999999"]) {
      await expect(copyMetricsInto(pool, table, shop, [base, { ...base, customerId }], options), customerId).rejects.toThrow(/bigint column's value|out of range/);
    }
    expect((await pool.query(`SELECT count(*)::int AS n FROM ${pg.escapeIdentifier(table)}`)).rows[0].n).toBe(0);
  } finally {
    await pool.query(`DROP TABLE IF EXISTS ${pg.escapeIdentifier(table)}`);
  }
});
