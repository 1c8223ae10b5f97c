import fc from "fast-check";
import {
  type BehaviourInput,
  behaviouralSegmentDefinitions,
  behaviouralSegments,
  behaviourThresholds,
  behaviouralSegmentsOf,
  isCartAbandoner,
  topShareThreshold,
  withCartAbandonment,
} from "./behaviour";

function customer(
  customerId: string,
  orders: number,
  netSpent: number,
  discountedOrders: number,
  daysSinceLastOrder: number,
  extra: Partial<BehaviourInput> = {},
): BehaviourInput {
  return { customerId, orders, netSpent, discountedOrders, daysSinceLastOrder, ...extra };
}

// 20 customers; c8..c20 are alike (1 order, 40 spent, no code, 10 days ago).
const shop: BehaviourInput[] = [
  customer("c1", 1, 50, 0, 10, { pAlive: 0.1, predictedClv: 100 }),
  customer("c2", 1, 60, 1, 200, { predictedClv: 100 }),
  customer("c3", 2, 300, 2, 30, { pAlive: 0.2, predictedClv: 100 }),
  customer("c4", 3, 900, 1, 5, { pAlive: 0.9, predictedClv: 4000 }),
  customer("c5", 5, 1000, 3, 50, { pAlive: 0.5, predictedClv: 5000 }),
  customer("c6", 1, 700, 0, 181, { predictedClv: 100 }),
  customer("c7", 2, 100, 1, 20, { predictedClv: 100 }),
  ...Array.from({ length: 13 }, (_, i) => customer(`c${i + 8}`, 1, 40, 0, 10, { predictedClv: 100 })),
];

describe("behavioural segments, hand-computed", () => {
  it("resolves the shop's thresholds", () => {
    // top 10% of 20 = 2 customers: spend 1000, 900 -> 900; AOV 700 (c6), 300 (c4) -> 300;
    // top 5% = 1 by predicted CLV: 5000; one-and-done after max(180, 2 x 40) = 180 days.
    expect(behaviourThresholds(shop, { medianDaysToSecondOrder: 40 })).toEqual({
      bigSpenderMinNetSpent: 900,
      highAovMin: 300,
      vipMinPredictedClv: 5000,
      discountShopperShare: 0.5,
      atRiskPAlive: 0.3,
      oneAndDoneDays: 180,
      // Issue 17's segments: no median gap given, so nobody is due to reorder; the default season.
      dueToReorderOverdueDays: null,
      holidaySeason: { start: "11-15", end: "12-31" },
    });
    expect(behaviourThresholds(shop, { medianDaysToSecondOrder: 100 }).oneAndDoneDays).toBe(200);
    expect(behaviourThresholds(shop).oneAndDoneDays).toBe(180);
  });

  it("assigns every customer the segments its rules give", () => {
    const segments = behaviouralSegments(shop, { medianDaysToSecondOrder: 40 });
    expect(segments.get("c1")).toEqual(["first-time-buyer", "full-price-buyer"]); // P(alive) low, but one order
    expect(segments.get("c2")).toEqual(["first-time-buyer", "discount-shopper", "one-and-done-lost"]); // 1 of 1 discounted; 200 > 180
    expect(segments.get("c3")).toEqual(["repeat-buyer", "discount-shopper", "at-risk-repeat-buyer"]);
    expect(segments.get("c4")).toEqual(["repeat-buyer", "big-spender", "high-aov"]); // 1 of 3 discounted: neither
    expect(segments.get("c5")).toEqual(["repeat-buyer", "big-spender", "discount-shopper", "vip"]); // 3 of 5 > half
    expect(segments.get("c6")).toEqual(["first-time-buyer", "high-aov", "full-price-buyer", "one-and-done-lost"]); // 181 > 180
    expect(segments.get("c7")).toEqual(["repeat-buyer"]); // exactly half discounted is not "more than half"
    expect(segments.get("c20")).toEqual(["first-time-buyer", "full-price-buyer"]);
    expect(segments.size).toBe(20);

    // With a longer median, the lost threshold is 200 days: 200 is not MORE than 200.
    const later = behaviouralSegments(shop, { medianDaysToSecondOrder: 100 });
    expect(later.get("c2")).not.toContain("one-and-done-lost");
    expect(later.get("c6")).not.toContain("one-and-done-lost");
  });

  it("takes AOV from the input when given", () => {
    const withAov = shop.map((c) => (c.customerId === "c7" ? { ...c, aov: 5000 } : c));
    expect(behaviouralSegments(withAov).get("c7")).toContain("high-aov");
  });

  it("puts nobody in VIP without predictions, and customers without orders nowhere", () => {
    const noPredictions = shop.map(({ predictedClv: _drop, ...rest }) => rest);
    expect(behaviourThresholds(noPredictions).vipMinPredictedClv).toBeNull();
    const withEmpty = [...shop, customer("c0", 0, 0, 0, 0)];
    expect(behaviouralSegments(withEmpty).get("c0")).toEqual([]);
    // the customer without orders does not change the 10% of 20
    expect(behaviourThresholds(withEmpty).bigSpenderMinNetSpent).toBe(900);
  });

  it("keeps ties together in a top share", () => {
    const tiedTop = [100, 100, 100, ...new Array<number>(17).fill(50)];
    expect(topShareThreshold(tiedTop, 0.1)).toBeNull(); // 3 tied at the top > 2 allowed
    const tiedBelow = [100, 90, 90, ...new Array<number>(17).fill(50)];
    expect(topShareThreshold(tiedBelow, 0.1)).toBe(100);
    expect(topShareThreshold([5, 4, 3], 0.1)).toBeNull(); // 10% of 3 customers is nobody
    expect(topShareThreshold([0, 0, -1, ...new Array<number>(17).fill(-5)], 0.1)).toBeNull(); // only positive values
    expect(topShareThreshold(new Array<number>(100).fill(0).map((_, i) => i + 1), 0.57)).toBe(44); // 57 values, no float slip
  });

  it("rejects bad input and options with clear errors", () => {
    expect(() => behaviouralSegments([customer("a", 1, 10, 2, 0)])).toThrow(/customers\[0\]\.discountedOrders/);
    expect(() => behaviouralSegments([customer("a", 1.5, 10, 0, 0)])).toThrow(/customers\[0\]\.orders/);
    expect(() => behaviouralSegments([customer("a", 1, 10, 0, 0, { pAlive: 2 })])).toThrow(/pAlive must be between 0 and 1/);
    expect(() => behaviouralSegments(shop, { bigSpenderShare: 0 })).toThrow(/bigSpenderShare 0 must be a share/);
    expect(() => behaviouralSegments(shop, { medianDaysToSecondOrder: -3 })).toThrow(/medianDaysToSecondOrder/);
  });

  it("describes the segments with the configured numbers", () => {
    expect(behaviouralSegmentDefinitions()["big-spender"].description).toBe(
      "The top 10% of customers by spent to date (orders after refunds).",
    );
    const custom = behaviouralSegmentDefinitions({ vipShare: 0.025, oneAndDoneFloorDays: 90 });
    expect(custom.vip.description).toBe("The top 2.5% of customers by expected spend over your horizon.");
    expect(custom["one-and-done-lost"].description).toMatch(/at least 90 days/);
  });
});

describe("behavioural segment properties", () => {
  const customersArb = fc
    .array(
      fc.record({
        orders: fc.integer({ min: 1, max: 4 }),
        netSpent: fc.integer({ min: 0, max: 8 }).map((v) => v * 25),
        days: fc.integer({ min: 0, max: 400 }),
      }),
      { minLength: 1, maxLength: 80 },
    )
    .map((rows) => rows.map((row, i) => customer(`c${i}`, row.orders, row.netSpent, 0, row.days)));

  it("gives equal spends the same big-spender status, keeps within 10% and ignores row order", () => {
    fc.assert(
      fc.property(
        customersArb.chain((rows) => fc.tuple(fc.constant(rows), fc.shuffledSubarray(rows, { minLength: rows.length, maxLength: rows.length }))),
        ([rows, shuffled]) => {
          const segments = behaviouralSegments(rows);
          const again = behaviouralSegments(shuffled);
          for (const row of rows) expect(again.get(row.customerId)).toEqual(segments.get(row.customerId));
          const big = rows.filter((row) => segments.get(row.customerId)?.includes("big-spender"));
          expect(big.length).toBeLessThanOrEqual(Math.floor(rows.length / 10));
          for (const a of rows) {
            for (const b of rows) {
              if (a.netSpent === b.netSpent) {
                expect(segments.get(a.customerId)?.includes("big-spender")).toBe(segments.get(b.customerId)?.includes("big-spender"));
              }
            }
          }
        },
      ),
    );
  });
});

describe("cart abandoners (issue 17)", () => {
  it("are in the last 30 days: day 0 and day 29 in, day 30 out, none without an abandoned checkout", () => {
    expect([0, 29, 30, null, undefined].map((days) => isCartAbandoner(days))).toEqual([true, true, false, false, false]);
  });

  it("is the one behaviour a customer without orders can have, and sits beside the others for buyers", () => {
    const thresholds = behaviourThresholds(shop);
    expect(behaviouralSegmentsOf(customer("n", 0, 0, 0, 0, { daysSinceAbandonedCheckout: 3 }), thresholds)).toEqual(["cart-abandoner"]);
    expect(behaviouralSegmentsOf(customer("n", 0, 0, 0, 0), thresholds)).toEqual([]);
    expect(behaviouralSegmentsOf(customer("b", 1, 40, 0, 10, { daysSinceAbandonedCheckout: 3 }), thresholds)).toContain("cart-abandoner");
  });

  it("withCartAbandonment adds or takes out the key once, leaving the others", () => {
    expect(withCartAbandonment(["repeat-buyer"], 2)).toEqual(["repeat-buyer", "cart-abandoner"]);
    expect(withCartAbandonment(["repeat-buyer", "cart-abandoner"], 2)).toEqual(["repeat-buyer", "cart-abandoner"]);
    expect(withCartAbandonment(["cart-abandoner", "vip"], 45)).toEqual(["vip"]);
    expect(withCartAbandonment([], null)).toEqual([]);
  });
});
