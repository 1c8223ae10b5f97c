import { describe, expect, it } from "vitest";
import { AS_OF, smallOrderTable } from "./customer-orders.testing";
import { periodTotals } from "./kpis";

describe("periodTotals", () => {
  it("splits the last period from the one before", () => {
    expect(periodTotals(smallOrderTable(), AS_OF, 30)).toEqual({ orders: 1, revenue: 100, previousOrders: 1, previousRevenue: 50 });
  });
});
