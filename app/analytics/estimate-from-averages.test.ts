import { estimateFromAverages } from "./estimate-from-averages";

const AS_OF = 20_000;
const REVENUE = { horizonDays: 365, annualDiscountRate: 0, grossMargin: 1 };

describe("estimate from averages", () => {
  // Three customers: 4 orders, $400; customer-years since first orders: (365 + 365 + 0) / 365.25.
  const customers = [
    { orders: 2, netSpent: 20_000, firstOrderDay: AS_OF - 365 },
    { orders: 1, netSpent: 10_000, firstOrderDay: AS_OF - 365 },
    { orders: 1, netSpent: 10_000, firstOrderDay: AS_OF },
  ];

  it("is AOV × repeat orders per year × the horizon, with the shop's own averages", () => {
    const estimate = estimateFromAverages(customers, AS_OF, REVENUE)!;
    expect(estimate).toMatchObject({ customers: 3, orders: 4, revenue: 40_000, aov: 10_000, observedLifespanDays: 365 });
    // One repeat order over two customer-years (730 days).
    expect(estimate.repeatOrdersPerYear).toBeCloseTo(365.25 / 730, 12);
    expect(estimate.expectedOrderValue).toBe(10_000);
    expect(estimate.expectedPurchases90d).toBeCloseTo((0.5 * 90) / 365, 12);
    expect(estimate.expectedPurchases365d).toBeCloseTo(0.5, 12);
    // Undiscounted, the 12 months of the horizon cover the whole observed lifespan of 365 days: 0.5 orders of $100.
    expect(estimate.expectedSpend).toBeCloseTo(5_000, 6);
    // The textbook figure for a new customer: first order plus repeat orders over the observed lifespan.
    expect(estimate.newCustomerValue).toBeCloseTo(10_000 * 1.5, 6);
  });

  it("never extrapolates the repeat rate beyond the observed lifespan", () => {
    // A 60-day-old shop: a customer who ordered twice, one who ordered once 30 days ago.
    const young = [
      { orders: 2, netSpent: 8_000, firstOrderDay: AS_OF - 60 },
      { orders: 1, netSpent: 4_000, firstOrderDay: AS_OF - 30 },
    ];
    const estimate = estimateFromAverages(young, AS_OF, REVENUE)!;
    expect(estimate.observedLifespanDays).toBe(60);
    const rate = 365.25 / 90; // one repeat order over 90 customer-days
    expect(estimate.repeatOrdersPerYear).toBeCloseTo(rate, 12);
    expect(estimate.expectedPurchases90d).toBeCloseTo((rate * 60) / 365.25, 12);
    expect(estimate.expectedPurchases365d).toBeCloseTo(estimate.expectedPurchases90d, 12);
    expect(estimate.expectedSpend).toBeCloseTo(4_000 * ((rate * 60) / 365.25), 6);
  });

  it("discounts monthly and applies the margin as the model does", () => {
    const plain = estimateFromAverages(customers, AS_OF, REVENUE)!;
    const profit = estimateFromAverages(customers, AS_OF, { ...REVENUE, grossMargin: 0.4 })!;
    expect(profit.expectedSpend).toBeCloseTo(plain.expectedSpend * 0.4, 6);
    const discounted = estimateFromAverages(customers, AS_OF, { ...REVENUE, annualDiscountRate: 0.1 })!;
    // The orders spread evenly over the year, each month's discounted by (1.1)^(k/12).
    const monthly = Math.pow(1.1, 1 / 12);
    let expected = 0;
    for (let k = 1; k <= 12; k++) expected += 5_000 / 12 / Math.pow(monthly, k);
    expect(discounted.expectedSpend).toBeCloseTo(expected, 0);
    expect(discounted.expectedSpend).toBeLessThan(plain.expectedSpend);
  });

  it("a shop whose customers never came back expects no repeat orders", () => {
    const estimate = estimateFromAverages([{ orders: 1, netSpent: 5_000, firstOrderDay: AS_OF - 10 }], AS_OF, REVENUE)!;
    expect(estimate.repeatOrdersPerYear).toBe(0);
    expect(estimate.expectedSpend).toBe(0);
    expect(estimate.newCustomerValue).toBe(5_000);
  });

  it("a shop whose only customers ordered today has no time to measure a rate on", () => {
    const estimate = estimateFromAverages([{ orders: 2, netSpent: 5_000, firstOrderDay: AS_OF }], AS_OF, REVENUE)!;
    expect(estimate.repeatOrdersPerYear).toBe(0);
    expect(estimate.expectedSpend).toBe(0);
  });

  it("is null without customers who ordered", () => {
    expect(estimateFromAverages([], AS_OF, REVENUE)).toBeNull();
  });

  it("refuses bad input with a clear error", () => {
    expect(() => estimateFromAverages([{ orders: 0, netSpent: 0, firstOrderDay: AS_OF }], AS_OF, REVENUE)).toThrow(/orders 0 must be a whole number of at least 1/);
    expect(() => estimateFromAverages([{ orders: 1, netSpent: 1.5, firstOrderDay: AS_OF }], AS_OF, REVENUE)).toThrow(/net spent 1.5/);
    expect(() => estimateFromAverages([{ orders: 1, netSpent: 1, firstOrderDay: AS_OF + 1 }], AS_OF, REVENUE)).toThrow(/first order day/);
    expect(() => estimateFromAverages(customers, AS_OF, { ...REVENUE, grossMargin: 1.5 })).toThrow(/gross margin 1.5/);
    expect(() => estimateFromAverages(customers, AS_OF, { ...REVENUE, horizonDays: 0 })).toThrow(/horizon 0 days/);
    expect(() => estimateFromAverages(customers, AS_OF, { ...REVENUE, annualDiscountRate: -1 })).toThrow(/annual discount rate -1/);
  });
});
