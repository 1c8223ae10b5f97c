import { writeCustomerMetrics } from "~/data/customer-metrics.server";
import { testPool, uniqueShop } from "../support/db";
import { metricsRow } from "../support/customer-metrics-rows";

// writeCustomerMetrics's ordering guard. The refit writes rows scored from its snapshot,
// stamped with one time; a live recompute that wrote after that stamp read newer orders
// (the fault soak saw a refit batch put back 1 order over a live row's 4: issue 12).

const orders = async (shop: string) =>
  (await testPool().query<{ orders: number }>(`SELECT orders FROM "CustomerMetrics" WHERE shop = $1 AND "customerId" = 7`, [shop])).rows[0]?.orders;

describe("writeCustomerMetrics", () => {
  const refitAt = new Date("2026-12-06T15:00:00Z");
  const liveAt = new Date("2026-12-06T15:00:01Z");

  it("with keepNewer (the refit's writes) leaves a row computed after its stamp, and replaces an older one", async () => {
    const shop = uniqueShop("metrics-writes");
    await writeCustomerMetrics(testPool(), shop, [metricsRow(7, { orders: 4 })], { modelVersion: null, asOfDay: 20_000, source: "live", computedAt: liveAt });
    const kept = await writeCustomerMetrics(testPool(), shop, [metricsRow(7, { orders: 1 })], { modelVersion: null, asOfDay: 20_000, source: "refit", computedAt: refitAt, keepNewer: true });
    expect(kept.written).toBe(0);
    expect(await orders(shop)).toBe(4);

    const older = uniqueShop("metrics-writes");
    await writeCustomerMetrics(testPool(), older, [metricsRow(7, { orders: 1 })], { modelVersion: null, asOfDay: 20_000, source: "live", computedAt: new Date(refitAt.getTime() - 1_000) });
    await writeCustomerMetrics(testPool(), older, [metricsRow(7, { orders: 3 })], { modelVersion: null, asOfDay: 20_000, source: "refit", computedAt: refitAt, keepNewer: true });
    expect(await orders(older)).toBe(3);
  });

  it("without it (a live recompute, which takes turns per customer) replaces the row", async () => {
    const shop = uniqueShop("metrics-writes");
    await writeCustomerMetrics(testPool(), shop, [metricsRow(7, { orders: 4 })], { modelVersion: null, asOfDay: 20_000, source: "live", computedAt: liveAt });
    await writeCustomerMetrics(testPool(), shop, [metricsRow(7, { orders: 5 })], { modelVersion: null, asOfDay: 20_000, source: "live", computedAt: refitAt });
    expect(await orders(shop)).toBe(5);
  });
});
