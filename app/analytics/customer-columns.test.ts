import { describe, expect, it } from "vitest";
import { fitShopModel } from "./clv/shop-model";
import { SHOP_MODEL_UNIT, customerFactsFromOrders } from "./customer-metrics";
import { CustomerFactsColumns, PredictionColumns, predictAll } from "./customer-columns";
import { AS_OF, randomShop } from "./customer-orders.testing";

describe("CustomerFactsColumns", () => {
  it("gives back exactly what customerFactsFromOrders gives, at the as-of day and later", () => {
    const customers = randomShop(2_000);
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
    const customers = randomShop(1_500, 11);
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

  it("scores customers who share a purchase history once, and those differing in any part of it apart", () => {
    const fitted = (() => {
      const columns = new CustomerFactsColumns();
      for (const c of randomShop(1_500, 11)) columns.add(customerFactsFromOrders(c.id, c.orders, AS_OF));
      const summaries = Array.from({ length: columns.length }, (_, i) => columns.factsAt(i, AS_OF).summary).filter((s) => s !== null);
      const fit = fitShopModel(summaries, { unit: SHOP_MODEL_UNIT });
      if (!fit.ok) throw new Error(fit.reason);
      return fit.model;
    })();
    // Histories (purchase days as offsets from the first; first day before AS_OF), each given
    // to several customers with other spends: every pair of (x, recency, age) is shared by
    // some two histories while the third part differs, so a key missing any part mixes them.
    const histories: { ageDays: number; offsets: number[] }[] = [
      { ageDays: 200, offsets: [0, 50] },
      { ageDays: 200, offsets: [0, 80] }, // x and age shared, recency differs
      { ageDays: 300, offsets: [0, 50] }, // x and recency shared, age differs
      { ageDays: 200, offsets: [0, 20, 50] }, // recency and age shared, x differs
      { ageDays: 200, offsets: [0] },
      { ageDays: 201, offsets: [0] },
    ];
    const columns = new CustomerFactsColumns();
    histories.forEach((h, k) => {
      for (const spend of [1_000, 2_500, 9_999]) {
        const first = AS_OF - h.ageDays;
        columns.add(customerFactsFromOrders(`${k}-${spend}`, h.offsets.map((d) => ({ day: first + d, net: spend + d, discounted: false })), AS_OF));
      }
    });
    const predictions = predictAll(columns, fitted, AS_OF);
    const scored = new Set<string>();
    for (let i = 0; i < columns.length; i++) {
      const expected = fitted.score(columns.factsAt(i, AS_OF).summary!);
      expect(predictions.get(i)).toEqual(expected);
      scored.add(`${expected.pAlive} ${expected.chanceOfOrder90d} ${expected.expectedNextOrderDay}`);
    }
    // The histories do score differently (else this test could not see a wrong key).
    expect(scored.size).toBe(histories.length);
  });

  it("keeps null parts of a prediction null", () => {
    const columns = new PredictionColumns(2);
    const p = { pAlive: 0.5, chanceOfOrder90d: 0.3, chanceOfOrder365d: 0.6, expectedPurchases90d: 1, expectedPurchases365d: 2, expectedOrderValue: null, predictedClv: null, expectedNextOrderDay: null };
    columns.set(0, p);
    expect(columns.get(0)).toEqual(p);
    expect(columns.predictedClvOf(0)).toBeNull();
    expect(columns.get(1)).toBeNull();
  });
});
