import { describe, expect, it } from "vitest";
import { segmentMoneyToDate } from "./segment-profit";

// Two customers spent 100.00 in all; their products cost 70.00 of the 80.00 with a known
// cost, and the 20.00 without one fell back to a 50 % margin: gross profit 10.00 + 10.00.
const row = { customers: 2, netSpentMinor: 10_000, averageHistoricClvMinor: 5_000, grossProfitMinor: 2_000, uncostedSalesMinor: 2_000 };

describe("segmentMoneyToDate", () => {
  it("shows the segment's own gross profit from the tally on the profit basis, with the share that fell back", () => {
    // The shop-wide margin (40 %) would say 40.00 / 20.00 per customer.
    expect(segmentMoneyToDate(row, { basis: "profit", factor: 0.4 })).toEqual({ totalMinor: 2_000, averageMinor: 1_000, fellBackShare: 0.2 });
  });

  it("shows revenue on the revenue basis", () => {
    expect(segmentMoneyToDate(row, { basis: "revenue", factor: 1 })).toEqual({ totalMinor: 10_000, averageMinor: 5_000, fellBackShare: null });
  });

  it("falls back to revenue times the margin for an aggregate stored before the tally kept gross profit", () => {
    const old = { customers: 2, netSpentMinor: 10_000, averageHistoricClvMinor: 5_000 };
    expect(segmentMoneyToDate(old, { basis: "profit", factor: 0.4 })).toEqual({ totalMinor: 4_000, averageMinor: 2_000, fellBackShare: null });
  });

  it("has no average or share without customers or sales", () => {
    const empty = { customers: 0, netSpentMinor: 0, averageHistoricClvMinor: null, grossProfitMinor: 0, uncostedSalesMinor: 0 };
    expect(segmentMoneyToDate(empty, { basis: "profit", factor: 0.4 })).toEqual({ totalMinor: 0, averageMinor: null, fellBackShare: null });
  });
});
