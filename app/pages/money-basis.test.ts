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

  it("takes the margin from product costs, and shows profit by default where costs cover at least 80% of net sales (issue 17)", () => {
    const covered = { grossProfitMinor: 4_200, uncostedSalesMinor: 1_000, coverage: 0.9, profitMargin: 0.42 };
    // Costs known for 90% of sales: profit unless the URL says revenue; the Settings margin (100%) is not used.
    expect(moneyBasisOf(new URLSearchParams(), 1, covered)).toEqual({ basis: "profit", factor: 0.42, toggle: true, grossMargin: 0.42, marginSource: "costs", costCoverage: 0.9 });
    expect(moneyBasisOf(new URLSearchParams("basis=revenue"), 1, covered)).toMatchObject({ basis: "revenue", factor: 1, toggle: true });
    // Costs for half the sales: revenue by default, profit (at the shop's own margin) one click away.
    const half = { ...covered, coverage: 0.5 };
    expect(moneyBasisOf(new URLSearchParams(), 0.6, half)).toMatchObject({ basis: "revenue", factor: 1, grossMargin: 0.42 });
    expect(moneyBasisOf(new URLSearchParams("basis=profit"), 0.6, half)).toMatchObject({ basis: "profit", factor: 0.42 });
    // No cost known at all: the Settings margin, as before.
    expect(moneyBasisOf(new URLSearchParams("basis=profit"), 0.6, { ...covered, coverage: 0, profitMargin: 0.5 })).toEqual({ basis: "profit", factor: 0.6, toggle: true, grossMargin: 0.6 });
    expect(moneyBasisOf(new URLSearchParams(), 0.6, null).basis).toBe("revenue");
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
