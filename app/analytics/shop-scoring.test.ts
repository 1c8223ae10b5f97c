import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { seededRandom } from "./clv/rows";
import { fitShopModel } from "./clv/shop-model";
import { type CustomerOrderFact, SHOP_MODEL_UNIT, customerFactsFromOrders, customerMetrics } from "./customer-metrics";
import { TransactionTable } from "./summary";
import {
  CustomerFactsColumns,
  DimensionValues,
  PredictionColumns,
  SegmentTally,
  backtestWindow,
  customersTable,
  customersTablesByCode,
  periodTotals,
  predictAll,
} from "./shop-scoring";

const AS_OF = 20_000;

function randomOrders(random: () => number, count: number): CustomerOrderFact[] {
  const orders: CustomerOrderFact[] = [];
  const first = AS_OF - Math.floor(random() * 500);
  for (let k = 0; k < count; k++) {
    // Some same-day orders, some after as-of (ignored by the facts), some worth 0.
    const day = k === 0 ? first : first + Math.floor(random() * (AS_OF - first + 20));
    orders.push({ day, net: random() < 0.1 ? 0 : Math.floor(random() * 20_000), discounted: random() < 0.3 });
  }
  return orders;
}

function shop(customers: number, seed = 7) {
  const random = seededRandom(seed);
  return Array.from({ length: customers }, (_, i) => {
    const count = random() < 0.05 ? 0 : 1 + Math.floor(-Math.log(random()) * 2);
    return { id: String(1000 + i), orders: randomOrders(random, count) };
  });
}

describe("CustomerFactsColumns", () => {
  it("gives back exactly what customerFactsFromOrders gives, at the as-of day and later", () => {
    const customers = shop(2_000);
    const columns = new CustomerFactsColumns();
    for (const c of customers) columns.add(customerFactsFromOrders(c.id, c.orders, AS_OF));
    expect(columns.length).toBe(customers.length);
    customers.forEach((c, i) => {
      expect(columns.factsAt(i, AS_OF)).toEqual(customerFactsFromOrders(c.id, c.orders, AS_OF));
      // A later as-of day (nightly aging) moves only T, as long as no newer order exists.
      const later = c.orders.every((o) => o.day <= AS_OF) ? AS_OF + 3 : AS_OF;
      expect(columns.factsAt(i, later)).toEqual(customerFactsFromOrders(c.id, c.orders.filter((o) => o.day <= AS_OF), later));
    });
  });
});

describe("predictAll", () => {
  it("gives every customer the model's own prediction, and none without orders or without a model", () => {
    const customers = shop(1_500, 11);
    const columns = new CustomerFactsColumns();
    for (const c of customers) columns.add(customerFactsFromOrders(c.id, c.orders, AS_OF));
    const summaries = customers.map((_, i) => columns.factsAt(i, AS_OF).summary).filter((s) => s !== null);
    const fit = fitShopModel(summaries, { unit: SHOP_MODEL_UNIT });
    if (!fit.ok) throw new Error(fit.reason);
    const predictions = predictAll(columns, fit.model, AS_OF);
    let oneTime = 0;
    customers.forEach((_, i) => {
      const facts = columns.factsAt(i, AS_OF);
      if (facts.summary?.frequency === 0) oneTime++;
      expect(predictions.get(i)).toEqual(facts.summary ? fit.model.score(facts.summary) : null);
    });
    expect(oneTime).toBeGreaterThan(100); // the shared one-time-buyer path was exercised
    expect(predictAll(columns, null, AS_OF).get(0)).toBeNull();
  });

  it("keeps null parts of a prediction null", () => {
    const columns = new PredictionColumns(2);
    const p = { pAlive: 0.5, expectedPurchases90d: 1, expectedPurchases365d: 2, expectedOrderValue: null, predictedClv: null, expectedNextOrderDay: null };
    columns.set(0, p);
    expect(columns.get(0)).toEqual(p);
    expect(columns.predictedClvOf(0)).toBeNull();
    expect(columns.get(1)).toBeNull();
  });
});

describe("SegmentTally", () => {
  it("counts each customer with orders once per RFM segment; shares and revenue add up", () => {
    const customers = shop(500, 3);
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
});

describe("table helpers", () => {
  const table = new TransactionTable();
  table.add("a", AS_OF - 5, 100);
  table.add("a", AS_OF - 40, 50);
  table.add("b", AS_OF - 70, 30);
  table.add("c", AS_OF + 2, 999); // after as-of: not in any period

  it("periodTotals splits the last period from the one before", () => {
    expect(periodTotals(table, AS_OF, 30)).toEqual({ orders: 1, revenue: 100, previousOrders: 1, previousRevenue: 50 });
  });

  it("customersTable keeps the chosen customers' rows only", () => {
    const subset = customersTable(table, (customer) => table.customerIds[customer] !== "b");
    expect([...subset].map((t) => t.customerId)).toEqual(["a", "a", "c"]);
  });

  it("customersTablesByCode gives each group the table customersTable gives it", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ customer: fc.integer({ min: 0, max: 30 }), day: fc.integer({ min: AS_OF - 400, max: AS_OF }), amount: fc.integer({ min: 0, max: 500 }) }), { maxLength: 200 }),
        fc.array(fc.integer({ min: -1, max: 4 }), { minLength: 31, maxLength: 31 }),
        (orders, groupOf) => {
          const source = new TransactionTable();
          for (const o of [...orders].sort((a, b) => a.customer - b.customer)) source.add(`c${o.customer}`, o.day, o.amount);
          const codeOf = Array.from({ length: source.customerCount }, (_, customer) => groupOf[Number(source.customerIds[customer].slice(1))]);
          const codes = [0, 2, 3];
          const byCode = customersTablesByCode(source, codeOf, codes);
          expect([...byCode.keys()]).toEqual(codes);
          for (const code of codes) {
            expect([...byCode.get(code)!]).toEqual([...customersTable(source, (customer) => codeOf[customer] === code)]);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it("DimensionValues ranks values by customers and skips none", () => {
    const values = new DimensionValues();
    for (const v of ["web", "pos", null, "web", "", "social", "pos", "web"]) values.push(v);
    expect(values.top(2).map((v) => [v.value, v.customers])).toEqual([["web", 3], ["pos", 2]]);
    expect(values.valueOf(2)).toBeNull();
  });
});

describe("backtestWindow", () => {
  it("holds out a third of the history, at most 180 days, and refuses short histories", () => {
    expect(backtestWindow(AS_OF - 299, AS_OF)).toEqual({ holdoutDays: 100, calibrationEndDay: AS_OF - 100 });
    expect(backtestWindow(AS_OF - 2_000, AS_OF)).toEqual({ holdoutDays: 180, calibrationEndDay: AS_OF - 180 });
    expect(backtestWindow(AS_OF - 60, AS_OF)).toHaveProperty("note");
    expect(backtestWindow(null, AS_OF)).toEqual({ note: "no orders yet" });
  });
});
