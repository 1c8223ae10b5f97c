import { describe, expect, it } from "vitest";
import { seededRandom } from "~/analytics/clv/rows";
import { fitShopModel } from "~/analytics/clv/shop-model";
import { SHOP_MODEL_UNIT, customerFactsFromOrders } from "~/analytics/customer-metrics";
import { CustomerFactsColumns, predictAll } from "~/analytics/customer-columns";
import { PARALLEL_SCORING_MIN_CUSTOMERS, scoreCustomers } from "~/refit/parallel-scoring.server";

const AS_OF = 20_000;

function shopFacts(customers: number): CustomerFactsColumns {
  const random = seededRandom(42);
  const columns = new CustomerFactsColumns();
  for (let i = 0; i < customers; i++) {
    const first = AS_OF - Math.floor(random() * 700);
    const orders = Array.from({ length: 1 + Math.floor(-Math.log(random()) * 1.5) }, (_, k) => ({
      day: k === 0 ? first : first + Math.floor(random() * (AS_OF - first + 1)),
      net: 500 + Math.floor(random() * 10_000),
      discounted: random() < 0.2,
    }));
    columns.add(customerFactsFromOrders(String(10_000 + i), random() < 0.02 ? [] : orders, AS_OF));
  }
  return columns;
}

describe("scoreCustomers", () => {
  it("scores on several threads with exactly the one-thread numbers", async () => {
    const facts = shopFacts(3_000);
    const summaries = [];
    for (let i = 0; i < facts.length; i++) if (facts.hasOrders(i)) summaries.push(facts.factsAt(i, AS_OF).summary!);
    const fit = fitShopModel(summaries, { unit: SHOP_MODEL_UNIT });
    if (!fit.ok) throw new Error(fit.reason);
    const serial = predictAll(facts, fit.model, AS_OF);
    const parallel = await scoreCustomers(facts, fit.model, AS_OF, { threads: 3, minCustomers: 1_000 });
    expect(parallel.fallback).toBeNull();
    expect(parallel.threads).toBe(3);
    expect(parallel.predictions.length).toBe(facts.length);
    expect(parallel.predictions.parts()).toEqual(serial.parts());
  }, 120_000);

  it("stays on one thread for a small shop or without a model", async () => {
    const facts = shopFacts(3_000);
    const summaries = [];
    for (let i = 0; i < facts.length; i++) if (facts.hasOrders(i)) summaries.push(facts.factsAt(i, AS_OF).summary!);
    const fit = fitShopModel(summaries, { unit: SHOP_MODEL_UNIT });
    if (!fit.ok) throw new Error(fit.reason);
    expect(facts.length).toBeLessThan(PARALLEL_SCORING_MIN_CUSTOMERS);
    expect((await scoreCustomers(facts, fit.model, AS_OF, { threads: 4 })).threads).toBe(1);
    expect((await scoreCustomers(facts, null, AS_OF, { threads: 4, minCustomers: 1 })).threads).toBe(1);
  });
});
