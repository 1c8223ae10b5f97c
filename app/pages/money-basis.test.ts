import { describe, expect, it } from "vitest";
import { queryInStoredMoney } from "./customer-list.server";
import { inBasis, labelBasis, moneyBasisOf } from "./money-basis";

describe("one money basis per page (issue 13)", () => {
  it("is revenue unless the URL asks for profit and a margin below 100% is set", () => {
    expect(moneyBasisOf(new URLSearchParams(), 0.6)).toEqual({ basis: "revenue", factor: 1, toggle: true, grossMargin: 0.6 });
    expect(moneyBasisOf(new URLSearchParams("basis=profit"), 0.6)).toEqual({ basis: "profit", factor: 0.6, toggle: true, grossMargin: 0.6 });
    // No margin: nothing to toggle, every amount is revenue and labels need not say so.
    const noMargin = moneyBasisOf(new URLSearchParams("basis=profit"), 1);
    expect(noMargin).toMatchObject({ basis: "revenue", factor: 1, toggle: false });
    expect(labelBasis(noMargin)).toBeNull();
    expect(moneyBasisOf(new URLSearchParams("basis=nonsense"), 0.6).basis).toBe("revenue");
  });

  it("turns stored revenue into the page's unit, to whole minor units, keeping missing figures missing", () => {
    const profit = moneyBasisOf(new URLSearchParams("basis=profit"), 0.55);
    expect(inBasis(1001, profit)).toBe(551);
    expect(inBasis(null, profit)).toBeNull();
    expect(inBasis(1001, moneyBasisOf(new URLSearchParams(), 0.55))).toBe(1001);
  });

  it("reads a minimum typed in profit back into stored revenue, rounded up so \"at least\" holds", () => {
    const profit = moneyBasisOf(new URLSearchParams("basis=profit"), 0.6);
    expect(queryInStoredMoney({ sort: "netSpent", direction: "desc", minPredictedClvMinor: 1000 }, profit).minPredictedClvMinor).toBe(1667);
    const revenue = moneyBasisOf(new URLSearchParams(), 0.6);
    expect(queryInStoredMoney({ sort: "netSpent", direction: "desc", minPredictedClvMinor: 1000 }, revenue).minPredictedClvMinor).toBe(1000);
  });
});
