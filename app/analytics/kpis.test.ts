import { describe, expect, it } from "vitest";
import { periodTotals } from "./kpis";
import { TransactionTable } from "./summary";

const AS_OF = 20_000;

function orders() {
  const table = new TransactionTable();
  table.add("a", AS_OF - 5, 100);
  table.add("a", AS_OF - 40, 50);
  table.add("b", AS_OF - 70, 30);
  table.add("c", AS_OF + 2, 999); // after as-of: not in any period
  return table;
}

describe("periodTotals", () => {
  it("splits the last period from the one before", () => {
    expect(periodTotals(orders(), AS_OF, 30)).toEqual({ orders: 1, revenue: 100, previousOrders: 1, previousRevenue: 50 });
  });
});
