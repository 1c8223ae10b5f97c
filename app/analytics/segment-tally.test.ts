import { describe, expect, it } from "vitest";
import { customerFactsFromOrders, customerMetrics } from "./customer-metrics";
import { AS_OF, randomShop } from "./customer-orders.testing";
import { SegmentTally } from "./segment-tally";

describe("SegmentTally", () => {
  it("counts each customer with orders once per RFM segment; shares and revenue add up", () => {
    const customers = randomShop(500, 3);
    const tally = new SegmentTally();
    const ctx = {
      asOfDay: AS_OF,
      model: null,
      cuts: null,
      rules: [],
      thresholds: { bigSpenderMinNetSpent: 10_000, highAovMin: null, vipMinPredictedClv: null, discountShopperShare: 0.5, atRiskPAlive: 0.3, oneAndDoneDays: 180 },
    };
    let withOrders = 0;
    let spent = 0;
    for (const c of customers) {
      const row = customerMetrics(customerFactsFromOrders(c.id, c.orders, AS_OF), ctx);
      if (row.orders > 0) {
        withOrders++;
        spent += row.netSpent;
      }
      tally.add({ ...row, segment: row.orders > 0 ? (row.netSpent > 5_000 ? "champions" : "lost") : null });
    }
    const rows = tally.rows({ champions: "Best" }, () => null);
    const rfm = rows.filter((r) => r.kind === "rfm");
    expect(tally.customers).toBe(withOrders);
    expect(rfm.reduce((sum, r) => sum + r.customers, 0)).toBe(withOrders);
    expect(rfm.reduce((sum, r) => sum + r.netSpentMinor, 0)).toBe(spent);
    expect(rfm.find((r) => r.key === "champions")?.name).toBe("Best");
    expect(rfm.find((r) => r.key === "lost")?.name).toBe("Lost");
    const firstTime = rows.find((r) => r.key === "first-time-buyer")!;
    const repeat = rows.find((r) => r.key === "repeat-buyer")!;
    expect(firstTime.customers + repeat.customers).toBe(withOrders);
    expect(tally.counts().filter((c) => c.kind === "rfm").reduce((sum, c) => sum + c.customers, 0)).toBe(withOrders);
  });

  it("keeps each segment's gross profit and its sales without a known cost, taken back with a replaced row", () => {
    const c = randomShop(50, 7).find((x) => x.orders.length > 0)!;
    const base = customerMetrics(customerFactsFromOrders(c.id, c.orders, AS_OF), {
      asOfDay: AS_OF,
      model: null,
      cuts: null,
      rules: [],
      thresholds: { bigSpenderMinNetSpent: 10_000, highAovMin: null, vipMinPredictedClv: null, discountShopperShare: 0.5, atRiskPAlive: 0.3, oneAndDoneDays: 180 },
    });
    const tally = new SegmentTally();
    const stale = { ...base, segment: "lost", grossProfit: 1_000, uncostedSales: 500 };
    tally.add(stale);
    tally.remove(stale);
    tally.add({ ...base, segment: "champions", grossProfit: 3_000, uncostedSales: 700 });
    const rows = tally.rows({}, () => null);
    expect(rows.find((r) => r.key === "champions")).toMatchObject({ grossProfitMinor: 3_000, uncostedSalesMinor: 700 });
    expect(rows.find((r) => r.key === "lost")).toMatchObject({ grossProfitMinor: 0, uncostedSalesMinor: 0 });
  });
});
