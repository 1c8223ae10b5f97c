import { describe, expect, it } from "vitest";
import { fitShopModel } from "./clv/shop-model";
import { CustomerFactsColumns, predictAll } from "./customer-columns";
import { SHOP_MODEL_UNIT, type ScoringContext, customerFactsFromOrders, customerMetrics } from "./customer-metrics";
import { AS_OF, randomShop } from "./customer-orders.testing";

// Customers whose only orders were cancelled or refunded in full get no prediction (issue 13:
// "customers whose only order was cancelled ($0) get a predicted value"), in the live
// recompute and in the refit alike (both score through customerMetrics).

function fittedContext(): ScoringContext {
  const customers = randomShop(1_500, 5);
  const summaries = customers.map((c) => customerFactsFromOrders(c.id, c.orders, AS_OF).summary).filter((s) => s !== null);
  const fit = fitShopModel(summaries, { unit: SHOP_MODEL_UNIT });
  if (!fit.ok) throw new Error(fit.reason);
  return { asOfDay: AS_OF, model: fit.model, cuts: null, rules: [], thresholds: null };
}

describe("customers with only cancelled or refunded orders", () => {
  const ctx = fittedContext();
  const cancelled = { day: AS_OF - 40, net: 0, discounted: false, voided: true };
  const kept = { day: AS_OF - 10, net: 4_500, discounted: false };

  it("get no predicted values and no chance of ordering, even when the refit passes a score", () => {
    const facts = customerFactsFromOrders("1", [cancelled], AS_OF);
    expect(facts.onlyVoidedOrders).toBe(true);
    const row = customerMetrics(facts, ctx);
    expect(row).toMatchObject({ orders: 1, pAlive: null, chanceOfOrder90d: null, chanceOfOrder365d: null, predictedClv: null, expectedOrderValue: null });
    // The refit scores everyone in bulk first; the score of such a customer is dropped.
    const score = ctx.model!.score(facts.summary!);
    expect(customerMetrics(facts, ctx, score).predictedClv).toBeNull();
    // Nor does the estimate from averages reach them.
    const averages = { expectedSpend: 1_000, expectedPurchases90d: 0.2, expectedPurchases365d: 0.8, expectedOrderValue: 1_250 } as unknown as ScoringContext["averages"];
    expect(customerMetrics(facts, { ...ctx, model: null, averages }).predictedClv).toBeNull();
  });

  it("are predicted as soon as one order stands", () => {
    const facts = customerFactsFromOrders("2", [cancelled, kept], AS_OF);
    expect(facts.onlyVoidedOrders).toBe(false);
    expect(customerMetrics(facts, ctx).chanceOfOrder90d).toBeGreaterThan(0);
  });

  it("keep the mark through the refit's columns", () => {
    const columns = new CustomerFactsColumns();
    columns.add(customerFactsFromOrders("1", [cancelled], AS_OF));
    columns.add(customerFactsFromOrders("2", [cancelled, kept], AS_OF));
    const back = CustomerFactsColumns.fromSlice(columns.slice(0, 2));
    expect([back.factsAt(0, AS_OF).onlyVoidedOrders, back.factsAt(1, AS_OF).onlyVoidedOrders]).toEqual([true, false]);
    expect(back.onlyVoidedOrders(0)).toBe(true);
    // The refit's bulk scoring leaves them unscored.
    const predictions = predictAll(back, ctx.model, AS_OF);
    expect([predictions.get(0), predictions.get(1)?.chanceOfOrder90d ?? null].map((p) => p === null)).toEqual([true, false]);
  });
});
