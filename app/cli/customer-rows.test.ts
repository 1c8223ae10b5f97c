import fc from "fast-check";
import { rfmCutPoints, rfmCutPointsOfColumns, rfmInputFromSummary } from "~/analytics/rfm";
import { type CustomerSummary } from "~/analytics/summary";
import { rfmColumnsOf, startScoringWorkers } from "./customer-rows";

const AS_OF = 20_000;

const summary = fc
  .record({ orders: fc.integer({ min: 1, max: 12 }), lastBack: fc.integer({ min: 0, max: 900 }), totalSpent: fc.oneof(fc.integer({ min: -50, max: 500 }), fc.double({ min: -100, max: 1e4, noNaN: true })) })
  .map(({ orders, lastBack, totalSpent }): CustomerSummary => ({
    customerId: "c",
    orders,
    frequency: orders - 1,
    recency: 0,
    T: 0,
    monetaryValue: 0,
    totalSpent,
    firstDay: AS_OF - lastBack - 10,
    lastDay: AS_OF - lastBack,
  }));

describe("RFM cut points from columns (what a scoring worker computes)", () => {
  it("are rfmCutPoints of the summaries' RFM inputs, ties and all", () => {
    fc.assert(
      fc.property(fc.array(summary, { minLength: 1, maxLength: 300 }), (summaries) => {
        const columns = rfmColumnsOf(summaries, AS_OF);
        expect(columns).not.toBeNull();
        // Compared as JSON, since model and summary files are written from it.
        expect(JSON.stringify(rfmCutPointsOfColumns(columns!))).toBe(JSON.stringify(rfmCutPoints(summaries.map((s) => rfmInputFromSummary(s, AS_OF)))));
      }),
    );
  });

  it("are left to rfmCutPoints (and its error) when a value is not finite", () => {
    const summaries = fc.sample(summary, 5).map((s, i) => (i === 3 ? { ...s, totalSpent: Number.POSITIVE_INFINITY } : s));
    expect(rfmColumnsOf(summaries, AS_OF)).toBeNull();
  });

  it("come back from a worker started before it had anything to do", async () => {
    const summaries = fc.sample(summary, 2_000);
    const [worker] = startScoringWorkers(1);
    try {
      const cuts = await worker.cuts(rfmColumnsOf(summaries, AS_OF)!);
      expect(cuts).toEqual(rfmCutPoints(summaries.map((s) => rfmInputFromSummary(s, AS_OF))));
    } finally {
      await worker.stop();
    }
  });
});
