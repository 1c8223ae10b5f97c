import { dayIndex } from "~/analytics/dates";
import { summarize, type Transaction } from "~/analytics/summary";
import { BacktestDataError, backtest } from "./backtest";
import { countModel } from "./count-model";
import { gammaGammaExpectedValue } from "./gamma-gamma";
import { cdnowCustomers, cdnowTransactions } from "./fixtures.testing";

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

  it("conditional expectations by calibration purchases 0..7+: the summary file's groups, the published parameters' predictions", () => {
    // docs/CLV-REFERENCE.md gives no per-group figures (FHL 2005 draws them in a figure), so
    // the table is checked against what the reference does give: the published summary file
    // (1,411 customers with x = 0 = 2,357 - 946), the published BG/NBD optimum, and the
    // totals 1653.42 predicted and 1,882 actual.
    const published = countModel("bgnbd", { r: 0.242593, alpha: 4.413532, a: 0.792886, b: 2.425752 });
    const customers = cdnowCustomers();
    const table = result.conditionalExpectations;
    expect(table.map((row) => row.frequency)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(table.map((row) => row.customers)).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((x) => customers.filter((c) => Math.min(c.frequency, 7) === x).length));
    expect(table[0].customers).toBe(2357 - 946);
    for (const row of table) {
      const group = customers.filter((c) => Math.min(c.frequency, 7) === row.frequency);
      const predicted = group.reduce((sum, c) => sum + published.conditionalExpectedPurchases(39, c.frequency, c.recency, c.T), 0) / group.length;
      expect(Math.abs(row.predicted! - predicted) / predicted).toBeLessThan(1e-3);
    }
    const sum = (key: "actual" | "predicted") => table.reduce((total, row) => total + row.customers * row[key]!, 0);
    expect(sum("actual")).toBe(1882);
    expect(Math.abs(sum("predicted") - 1653.42)).toBeLessThan(0.1);
    // Actual means counted independently: each customer's distinct holdout purchase days.
    const holdoutDays = new Map<string, Set<number>>();
    for (const t of transactions) {
      if (t.day <= CALIBRATION_END || t.day > HOLDOUT_END) continue;
      if (!holdoutDays.has(t.customerId)) holdoutDays.set(t.customerId, new Set());
      holdoutDays.get(t.customerId)!.add(t.day);
    }
    const actualSums = new Array<number>(8).fill(0);
    for (const s of summarize(transactions, { asOfDay: CALIBRATION_END, unit: "week" })) actualSums[Math.min(s.frequency, 7)] += holdoutDays.get(s.customerId)?.size ?? 0;
    expect(table.map((row) => row.actual)).toEqual(actualSums.map((total, x) => total / table[x].customers));
  });

  it("the spend model's holdout error on the repeat buyers who bought again", () => {
    expect(result.spendNote).toBeNull();
    // Fitted on the calibration period = the published Gamma-Gamma sample (946 customers, x > 0).
    expect(result.spend!.params.p).toBeCloseTo(6.25, 1);
    expect(result.spend!.params.q).toBeCloseTo(3.74, 1);
    expect(result.spend!.params.gamma).toBeCloseTo(15.44, 1);
    expect(result.spend!.customers).toBeGreaterThan(0);
    expect(result.spend!.customers).toBeLessThan(946);
    expect(result.spend!.bias).toBeCloseTo(result.spend!.meanPredicted - result.spend!.meanActual, 9);
    expect(result.spend!.meanAbsoluteError).toBeGreaterThanOrEqual(Math.abs(result.spend!.bias));
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

describe("backtest: holdout diagnostics on a hand-checkable shop", () => {
  // 60 customers, all first buying on day 0; calibration days 0..120, holdout 121..240.
  //   30 one-order customers (x = 0), 3 of them buy once in the holdout;
  //   15 with x = 1 (days 0, 60), 10 holdout purchases between them (5 customers buy twice);
  //   10 with x = 2 (days 0, 40, 80), each buys once in the holdout;
  //    5 with x = 8 (every 10 days up to 80), each buys 3 times in the holdout.
  // Repeat purchases are worth 8..140 (customers' own scales times a spread, so that the
  // spend model has a maximum inside its parameter space),
  // holdout purchases 50 (a refund on another day is not a purchase and does not count).
  const day0 = dayIndex("2024-01-01");
  const calibrationEndDay = day0 + 120;
  const holdoutEndDay = day0 + 240;
  const transactions: { customerId: string; day: number; amount: number }[] = [];
  const buy = (id: string, day: number, amount: number) => transactions.push({ customerId: id, day: day0 + day, amount });
  const repeatValue = (customerNumber: number, k: number) => (1 + (customerNumber % 7)) * (8 + ((customerNumber * 37 + k * 53) % 13));
  const meanRepeatValue = (customerNumber: number, x: number) => Array.from({ length: x }, (_, k) => repeatValue(customerNumber, k)).reduce((a, b) => a + b, 0) / x;
  let n = 0;
  const customer = (repeatDays: number[], holdoutDays: number[]) => {
    const id = `c${String(++n).padStart(2, "0")}`;
    buy(id, 0, 10);
    repeatDays.forEach((d, k) => buy(id, d, repeatValue(n, k)));
    for (const d of holdoutDays) buy(id, d, 50);
    return id;
  };
  for (let i = 0; i < 30; i++) customer([], i < 3 ? [150] : []);
  for (let i = 0; i < 15; i++) customer([60], i < 5 ? [130, 200] : []);
  for (let i = 0; i < 10; i++) customer([40, 80], [170]);
  for (let i = 0; i < 5; i++) customer([10, 20, 30, 40, 50, 60, 70, 80], [130, 160, 190]);
  buy("c04", 160, -5); // a refund alone on a day: not a holdout purchase

  const perCustomer = new Map<number, [number, number, number | null, number]>();
  const result = backtest(transactions, {
    calibrationEndDay,
    holdoutEndDay,
    unit: "week",
    onCustomer: (index, predicted, actual, predictedSpend, actualSpend) => perCustomer.set(index, [predicted, actual, predictedSpend, actualSpend]),
  });
  // This shop's calibration fit sits at the homogeneous drop-out limit: predictions are the limit's.
  const model = countModel("bgnbd", result.params, result.homogeneousDropOut);
  const holdout = 120 / 7;
  const predictedFor = (x: number, lastDay: number) => model.conditionalExpectedPurchases(holdout, x, lastDay / 7, 120 / 7);

  it("groups customers by calibration purchases 0..6 and 7+, with mean actual and predicted holdout purchases", () => {
    expect(result.conditionalExpectations).toHaveLength(8);
    expect(result.homogeneousDropOut?.parameter).toBe("p");
    expect(result.conditionalExpectations.map((row) => row.customers)).toEqual([30, 15, 10, 0, 0, 0, 0, 5]);
    expect(result.conditionalExpectations.map((row) => row.actual)).toEqual([3 / 30, 10 / 15, 1, null, null, null, null, 3]);
    const [x0, x1, x2, , , , , x7] = result.conditionalExpectations;
    expect(x0).toMatchObject({ frequency: 0, orMore: false });
    expect(x7).toMatchObject({ frequency: 7, orMore: true });
    expect(x0.predicted).toBeCloseTo(predictedFor(0, 0), 12);
    expect(x1.predicted).toBeCloseTo(predictedFor(1, 60), 12);
    expect(x2.predicted).toBeCloseTo(predictedFor(2, 80), 12);
    expect(x7.predicted).toBeCloseTo(predictedFor(8, 80), 12);
    expect(result.conditionalExpectations[3].predicted).toBeNull();
    // The groups add up to the totals.
    const total = (key: "actual" | "predicted") => result.conditionalExpectations.reduce((sum, row) => sum + row.customers * (row[key] ?? 0), 0);
    expect(total("actual")).toBe(result.totalActual);
    expect(result.totalActual).toBe(3 + 10 + 10 + 15);
    expect(total("predicted")).toBeCloseTo(result.totalPredicted, 9);
  });

  it("compares the spend model's expected order value with the repeat buyers' holdout order values", () => {
    expect(result.spendNote).toBeNull();
    const spend = result.spend!;
    // Repeat buyers who bought in the holdout: 5 of x = 1, 10 of x = 2, 5 of x = 8; every holdout order is worth 50.
    expect(spend.customers).toBe(20);
    const buyers = [
      ...Array.from({ length: 5 }, (_, i) => [1, 31 + i]),
      ...Array.from({ length: 10 }, (_, i) => [2, 46 + i]),
      ...Array.from({ length: 5 }, (_, i) => [8, 56 + i]),
    ];
    const predicted = buyers.map(([x, customerNumber]) => gammaGammaExpectedValue(spend.params, x, meanRepeatValue(customerNumber, x))!);
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    expect(spend.meanActual).toBe(50);
    expect(spend.meanPredicted).toBeCloseTo(mean(predicted), 9);
    expect(spend.bias).toBeCloseTo(mean(predicted) - 50, 9);
    expect(spend.meanAbsoluteError).toBeCloseTo(mean(predicted.map((p) => Math.abs(p - 50))), 9);
  });

  it("hands each calibration customer's holdout figures to onCustomer", () => {
    expect(perCustomer.size).toBe(60);
    // Table customer indices follow first appearance in the input.
    const ids = [...new Set(transactions.map((t) => t.customerId))];
    const byId = (id: string) => perCustomer.get(ids.indexOf(id))!;
    // c04: x = 0, no holdout purchase (the refund day is not one), predicted spend = E[Y] x the population mean order value.
    const [predicted1, actual1, spend1, actualSpend1] = byId("c04");
    expect(predicted1).toBeCloseTo(predictedFor(0, 0), 12);
    expect(actual1).toBe(0);
    expect(actualSpend1).toBe(0);
    expect(spend1).toBeCloseTo(predicted1 * gammaGammaExpectedValue(result.spend!.params, 0, 0)!, 9);
    // c31: x = 1, two holdout orders of 50.
    const [predicted31, actual31, spend31, actualSpend31] = byId("c31");
    expect(actual31).toBe(2);
    expect(actualSpend31).toBe(100);
    expect(spend31).toBeCloseTo(predicted31 * gammaGammaExpectedValue(result.spend!.params, 1, repeatValue(31, 0))!, 9);
    let predictedSum = 0;
    for (const [predicted] of perCustomer.values()) predictedSum += predicted;
    expect(predictedSum).toBeCloseTo(result.totalPredicted, 9);
  });
});

describe("backtest: a calibration period too thin for the main fit is refused, not reported", () => {
  const day0 = dayIndex("2024-01-01");
  const shop = (customers: number, repeaters: number, firstDay = 0) =>
    Array.from({ length: customers }, (_, i) => [
      { customerId: `c${i}`, day: day0 + firstDay + (i % 5), amount: 10 },
      ...(i < repeaters ? [{ customerId: `c${i}`, day: day0 + 100, amount: 10 }] : []),
      // Everyone buys in the holdout: a thin calibration must not hide behind a busy holdout.
      { customerId: `c${i}`, day: day0 + 150, amount: 10 },
    ]).flat();
  const run = (transactions: Transaction[], calibrationEnd = 120) => () => backtest(transactions, { calibrationEndDay: day0 + calibrationEnd, holdoutEndDay: day0 + 200, unit: "week" });
  const refusal = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return error as BacktestDataError;
    }
    throw new Error("not refused");
  };

  it("9 customers, none repeating: too few customers", () => {
    const error = refusal(run(shop(9, 0)));
    expect(error).toBeInstanceOf(BacktestDataError);
    expect(error.code).toBe("too-few-customers");
    expect(error.message).toBe("the calibration period up to 2024-04-30 has 9 customers with an order; a backtest needs at least 50");
  });

  it("a calibration end before every order: 0 customers", () => {
    expect(refusal(run(shop(60, 20, 130), 120)).code).toBe("too-few-customers");
  });

  it("60 customers, 9 repeating: too few repeat buyers", () => {
    const error = refusal(run(shop(60, 9)));
    expect(error.code).toBe("too-few-repeat-buyers");
    expect(error.message).toMatch(/has 9 customers who ordered more than once; a backtest needs at least 10$/);
  });

  it("60 customers, no repeat purchase at all: too few repeat buyers", () => {
    expect(refusal(run(shop(60, 0))).code).toBe("too-few-repeat-buyers");
  });

  it("less than 90 days of calibration history", () => {
    const error = refusal(run(shop(60, 20, 31)));
    expect(error.code).toBe("history-too-short");
    expect(error.message).toMatch(/holds 89 days of order history; a backtest needs at least 90$/);
  });

  it("enough of each: a backtest", () => {
    expect(run(shop(50, 10))().customers).toBe(50);
  });
});
