import fc from "fast-check";
import { countModel } from "./count-model";
import {
  daysToNextOrder,
  discountedExpectedPurchases,
  HorizonExpectations,
  horizonMonths,
  MONTH_DAYS,
  monthlyDiscountRate,
  NEXT_ORDER_CAP_DAYS,
  predictedLifetimeValue,
} from "./lifetime-value";

const bg = countModel("bgnbd", { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 }); // weeks
const pareto = countModel("paretonbd", { r: 0.5533, alpha: 10.578, s: 0.6062, beta: 11.667 });
const week = { unitDays: 7, horizonDays: 365, annualDiscountRate: 0.1 };

describe("discounting convention", () => {
  it("converts an annual rate to the monthly rate that compounds back to it", () => {
    expect(monthlyDiscountRate(0.1)).toBeCloseTo(1.1 ** (1 / 12) - 1, 15);
    expect((1 + monthlyDiscountRate(0.1)) ** 12).toBeCloseTo(1.1, 14);
    expect(monthlyDiscountRate(0)).toBe(0);
    expect(() => monthlyDiscountRate(-1)).toThrow(/above -1/);
  });

  it("counts whole months in the horizon", () => {
    expect(horizonMonths(365)).toBe(12);
    expect(horizonMonths(730)).toBe(24);
    expect(horizonMonths(90)).toBe(3);
    expect(horizonMonths(3)).toBe(1);
    expect(() => horizonMonths(0)).toThrow(/positive/);
  });

  it("with no discount equals the purchases expected over the horizon", () => {
    for (const model of [bg, pareto]) {
      const undiscounted = discountedExpectedPurchases(model, 2, 30.43, 38.86, { ...week, annualDiscountRate: 0 });
      expect(undiscounted).toBeCloseTo(model.conditionalExpectedPurchases((12 * MONTH_DAYS) / 7, 2, 30.43, 38.86), 12);
    }
  });

  it("discounts each month's purchases: between the undiscounted total and the total discounted a full year", () => {
    const total = bg.conditionalExpectedPurchases((12 * MONTH_DAYS) / 7, 2, 30.43, 38.86);
    const discounted = discountedExpectedPurchases(bg, 2, 30.43, 38.86, week);
    expect(discounted).toBeLessThan(total);
    expect(discounted).toBeGreaterThan(total / 1.1);
    // Higher rates, lower value.
    expect(discountedExpectedPurchases(bg, 2, 30.43, 38.86, { ...week, annualDiscountRate: 0.3 })).toBeLessThan(discounted);
  });

  it("is the same in any time unit", () => {
    const days = countModel("bgnbd", { r: 0.243, alpha: 4.414 * 7, a: 0.793, b: 2.426 });
    const inWeeks = discountedExpectedPurchases(bg, 2, 30.43, 38.86, week);
    const inDays = discountedExpectedPurchases(days, 2, 30.43 * 7, 38.86 * 7, { ...week, unitDays: 1 });
    expect(inDays).toBeCloseTo(inWeeks, 10);
  });

  it("CLV is margin x order value x discounted purchases", () => {
    const purchases = discountedExpectedPurchases(bg, 2, 30.43, 38.86, week);
    expect(predictedLifetimeValue(bg, { x: 2, tx: 30.43, T: 38.86 }, 25, { ...week, grossMargin: 0.4 })).toBeCloseTo(0.4 * 25 * purchases, 12);
    expect(() => predictedLifetimeValue(bg, { x: 2, tx: 30.43, T: 38.86 }, 25, { ...week, grossMargin: -1 })).toThrow(/margin/);
  });
});

describe("expected next order", () => {
  it("is the first whole day by which another order is at least 50 % likely", () => {
    for (const model of [bg, pareto]) {
      const days = daysToNextOrder(model, 5, 36, 38, 7)!;
      expect(days).toBeGreaterThan(0);
      expect(model.probabilityOfPurchaseWithin(days / 7, 5, 36, 38)).toBeGreaterThanOrEqual(0.5);
      expect(model.probabilityOfPurchaseWithin((days - 1) / 7, 5, 36, 38)).toBeLessThan(0.5);
    }
  });

  it("stops bisecting at a day's precision and gives the day the full-precision root gives", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0.5, max: 150, noNaN: true }),
        fc.constantFrom(1, 7),
        (x, recencyShare, T, unitDays) => {
          const tx = x === 0 ? 0 : recencyShare * T;
          const precise = pareto.timeToPurchase(x, tx, T, 0.5);
          const days = daysToNextOrder(pareto, x, tx, T, unitDays);
          const preciseDays = precise === null ? null : Math.max(1, Math.ceil(precise * unitDays - 1e-9));
          expect(days).toBe(preciseDays === null || preciseDays > NEXT_ORDER_CAP_DAYS ? null : preciseDays);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("is null when the customer has probably lapsed or the wait passes the cap", () => {
    expect(bg.pAlive(3, 2, 38)).toBeLessThan(0.5);
    expect(daysToNextOrder(bg, 3, 2, 38, 7)).toBeNull();
    // A one-time buyer of 38 weeks ago at CDNOW rates: alive for BG/NBD, but the median wait is years away.
    expect(bg.pAlive(0, 0, 38)).toBe(1);
    expect(bg.timeToPurchase(0, 0, 38)! * 7).toBeGreaterThan(NEXT_ORDER_CAP_DAYS);
    expect(daysToNextOrder(bg, 0, 0, 38, 7)).toBeNull();
  });
});

describe("HorizonExpectations", () => {
  it("gives exactly the conditional expectations and discounted purchases, across its restarts", () => {
    for (const model of [bg, countModel("mbgnbd", { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 }), pareto]) {
      // maxPairs 3: most lookups below start it afresh or land on a new pair.
      const horizons = new HorizonExpectations(model, [90 / 7, 365 / 7], week, 3);
      for (let pass = 0; pass < 2; pass++) {
        for (const [x, tx, T] of [[0, 0, 30], [2, 10.5, 40], [2, 3, 40], [7, 30, 39.142857142857146], [0, 0, 30], [1, 1, 1]]) {
          const alive = model.pAlive(x, tx, T);
          const at = horizons.offsetOf(x, T);
          expect(alive * horizons.values[at]).toBe(model.conditionalExpectedPurchases(90 / 7, x, tx, T));
          expect(alive * horizons.values[at + 1]).toBe(model.conditionalExpectedPurchases(365 / 7, x, tx, T));
          expect(horizons.discounted(alive, at)).toBe(discountedExpectedPurchases(model, x, tx, T, week));
        }
      }
    }
  });

  it("keeps every pair's values as its table grows", () => {
    const horizons = new HorizonExpectations(bg, [90 / 7], week);
    const offsets = new Map<string, number>();
    for (let pass = 0; pass < 2; pass++) {
      for (let x = 0; x < 10; x++) {
        for (let T = 1; T <= 30; T++) {
          const at = horizons.offsetOf(x, T);
          if (pass === 1) expect(at).toBe(offsets.get(`${x},${T}`));
          offsets.set(`${x},${T}`, at);
          expect(horizons.values[at]).toBe(bg.expectedPurchasesIfAlive(90 / 7, x, T));
          const tx = x === 0 ? 0 : T / 2;
          expect(horizons.discounted(bg.pAlive(x, tx, T), at)).toBe(discountedExpectedPurchases(bg, x, tx, T, week));
        }
      }
    }
  });
});
