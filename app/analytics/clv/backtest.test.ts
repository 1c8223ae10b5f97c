import { dayIndex } from "~/analytics/dates";
import { summarize } from "~/analytics/summary";
import { backtest } from "./backtest";
import { countModel } from "./count-model";
import { cdnowTransactions } from "./fixtures.testing";

const CALIBRATION_END = dayIndex("1997-09-30");
const HOLDOUT_END = CALIBRATION_END + 39 * 7;

describe("backtest on CDNOW (weeks, 39 + 39 weeks): docs/CLV-REFERENCE.md", () => {
  const transactions = cdnowTransactions();
  const result = backtest(transactions, { calibrationEndDay: CALIBRATION_END, holdoutEndDay: HOLDOUT_END, unit: "week" });

  it("predicts 1653.42 holdout repeat purchases against 1882 actual", () => {
    expect(result.modelName).toBe("bgnbd");
    expect(result.converged).toBe(true);
    expect(result.customers).toBe(2357);
    expect(result.holdoutLength).toBe(39);
    expect(Math.abs(result.totalPredicted - 1653.42)).toBeLessThan(0.1);
    expect(result.totalActual).toBe(1882);
    expect(result.totalError).toBeCloseTo(result.totalPredicted - 1882, 10);
  });

  it("reports the per-customer mean absolute error of the conditional expectations", () => {
    // Independent count of each customer's holdout purchase days.
    const holdoutDays = new Map<string, Set<number>>();
    for (const t of transactions) {
      if (t.day <= CALIBRATION_END || t.day > HOLDOUT_END) continue;
      if (!holdoutDays.has(t.customerId)) holdoutDays.set(t.customerId, new Set());
      holdoutDays.get(t.customerId)!.add(t.day);
    }
    const model = countModel("bgnbd", result.params);
    const summaries = summarize(transactions, { asOfDay: CALIBRATION_END, unit: "week" });
    const mae =
      summaries.reduce(
        (sum, s) => sum + Math.abs(model.conditionalExpectedPurchases(39, s.frequency, s.recency, s.T) - (holdoutDays.get(s.customerId)?.size ?? 0)),
        0,
      ) / summaries.length;
    expect(result.meanAbsoluteError).toBeCloseTo(mae, 10);
  });

  it("tracks 78 weeks of repeat purchases, calibration then holdout", () => {
    expect(result.weekly).toHaveLength(78);
    expect(result.weekly[0]).toMatchObject({ week: 1, startDay: dayIndex("1997-01-01"), holdout: false });
    expect(result.weekly[38]).toMatchObject({ week: 39, endDay: CALIBRATION_END, holdout: false, cumulativeActual: 2457 });
    expect(result.weekly[39].holdout).toBe(true);
    expect(result.weekly[77]).toMatchObject({ endDay: HOLDOUT_END, cumulativeActual: 2457 + 1882 });
    let actual = 0;
    let predicted = 0;
    for (const row of result.weekly) {
      actual += row.actual;
      predicted += row.predicted;
      expect(row.cumulativeActual).toBe(actual);
      expect(row.cumulativePredicted).toBeCloseTo(predicted, 8);
      expect(row.predicted).toBeGreaterThanOrEqual(0);
    }
  });

  it("the model's cumulative curve at the end of calibration is Σ E[X(T)] over customers", () => {
    const model = countModel("bgnbd", result.params);
    const summaries = summarize(transactions, { asOfDay: CALIBRATION_END, unit: "week" });
    const expected = summaries.reduce((sum, s) => sum + model.expectedPurchases(s.T), 0);
    expect(result.weekly[38].cumulativePredicted).toBeCloseTo(expected, 6);
    // FHL 2005: the model tracks the 2,457 calibration repeat purchases closely.
    expect(Math.abs(expected - 2457) / 2457).toBeLessThan(0.03);
  });

  it("can test Pareto/NBD too", () => {
    const pareto = backtest(transactions, { calibrationEndDay: CALIBRATION_END, holdoutEndDay: HOLDOUT_END, unit: "week", model: "paretonbd" });
    expect(pareto.modelName).toBe("paretonbd");
    expect(pareto.totalActual).toBe(1882);
    expect(Math.abs(pareto.logLikelihood - -9594.98)).toBeLessThan(0.05);
  });

  it("rejects a holdout that ends before it starts", () => {
    expect(() => backtest(transactions, { calibrationEndDay: CALIBRATION_END, holdoutEndDay: CALIBRATION_END, unit: "week" })).toThrow(/holdout must end after/);
  });
});
