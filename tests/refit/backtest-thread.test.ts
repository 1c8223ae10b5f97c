import { describe, expect, it } from "vitest";
import { seededRandom } from "~/analytics/random";
import { TransactionTable } from "~/analytics/summary";
import { backtestAggregate } from "~/refit/backtest-aggregate";
import { BACKTEST_THREAD_MIN_ORDERS, startShopBacktest } from "~/refit/backtest-in-thread.server";

// The refit's backtest aggregate on a thread of its own (backtest-in-thread.server.ts) is
// the row the main thread computes, value for value.

const AS_OF = 20_000;

/** Customers who order at a rate until they drop out, over two years; a few refunds. */
function shopTable(customers: number): TransactionTable {
  const random = seededRandom(7);
  const table = new TransactionTable();
  for (let i = 0; i < customers; i++) {
    const id = String(50_000 + i);
    const first = AS_OF - Math.floor(random() * 730);
    const end = first + Math.floor(random() * (AS_OF - first + 1));
    const rate = 0.005 + random() * 0.03;
    table.add(id, first, 1_000 + Math.floor(random() * 9_000));
    for (let day = first + 1; day <= end; day++) {
      if (random() < rate) table.add(id, day, 1_000 + Math.floor(random() * 9_000));
    }
    if (random() < 0.03) table.add(id, end, -500);
  }
  return table;
}

describe("startShopBacktest", () => {
  it("gives on a thread exactly the row the main thread computes", async () => {
    const table = shopTable(3_000);
    const inputs = { asOfDay: AS_OF, reportCustomers: 3_000, chosen: "paretonbd" as const, reason: null };
    const here = backtestAggregate(table, inputs);
    expect(here.result).not.toBeNull();
    const pending = startShopBacktest(table, inputs, { minOrders: 1 });
    const threaded = await pending.result;
    expect(pending.fallback()).toBeNull();
    expect(pending.ranOn()).toBe("thread");
    expect(threaded).toEqual(here);
  }, 120_000);

  it("passes a refusal through as the same note (no model)", async () => {
    const table = shopTable(200);
    const inputs = { asOfDay: AS_OF, reportCustomers: 200, chosen: null, reason: "fewer than 50 customers" };
    const pending = startShopBacktest(table, inputs, { minOrders: 1 });
    expect(await pending.result).toEqual(backtestAggregate(table, inputs));
    expect(pending.ranOn()).toBe("thread");
  }, 60_000);

  it("stays on this thread below the order threshold", async () => {
    const table = shopTable(200);
    expect(table.length).toBeLessThan(BACKTEST_THREAD_MIN_ORDERS);
    const inputs = { asOfDay: AS_OF, reportCustomers: 200, chosen: "paretonbd" as const, reason: null };
    const pending = startShopBacktest(table, inputs);
    expect(await pending.result).toEqual(backtestAggregate(table, inputs));
    expect(pending.ranOn()).toBe("here");
  });

  it("rejects once stopped (a failed refit ends the thread)", async () => {
    const pending = startShopBacktest(shopTable(3_000), { asOfDay: AS_OF, reportCustomers: 3_000, chosen: "paretonbd", reason: null }, { minOrders: 1 });
    await pending.stop();
    await expect(pending.result).rejects.toThrow(/backtest thread/);
  }, 60_000);
});
