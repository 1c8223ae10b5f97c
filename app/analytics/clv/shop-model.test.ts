import { dayIndex } from "~/analytics/dates";
import { type CustomerSummary, summarize } from "~/analytics/summary";
import { bgnbdPAlive } from "./bgnbd";
import { cdnowTransactions, relativeError } from "./fixtures.testing";
import { discountedExpectedPurchases } from "./lifetime-value";
import { countModel } from "./count-model";
import { APP_SHOP_CANDIDATES, fitShopModel, MIN_CUSTOMERS, restoreShopModel, type ShopModelJson } from "./shop-model";
import { simulateBgNbd, simulateParetoNbd } from "./simulate";

const CALIBRATION_END = dayIndex("1997-09-30");
const HOLDOUT_END = CALIBRATION_END + 273;

function summary(id: number, frequency: number, recencyWeeks: number, ageWeeks: number, monetaryValue = 20): CustomerSummary {
  const firstDay = 10_000;
  return {
    customerId: String(id).padStart(5, "0"),
    orders: frequency + 1,
    frequency,
    recency: recencyWeeks,
    T: ageWeeks,
    monetaryValue: frequency > 0 ? monetaryValue : 0,
    totalSpent: (frequency + 1) * monetaryValue,
    firstDay,
    lastDay: firstDay + Math.round(recencyWeeks * 7),
  };
}

describe("the app's candidates (modified BG/NBD and Pareto/NBD)", () => {
  const atCalibration = summarize(cdnowTransactions(), { asOfDay: CALIBRATION_END, unit: "week" });
  const result = fitShopModel(atCalibration, { unit: "week", candidates: APP_SHOP_CANDIDATES });
  if (!result.ok) throw new Error(result.reason);
  const model = result.model;

  it("compares exactly the candidates given and picks the higher likelihood", () => {
    expect(Object.keys(model.candidates).sort()).toEqual(["mbgnbd", "paretonbd"]);
    const { mbgnbd, paretonbd } = model.candidates;
    expect(model.chosen).toBe(mbgnbd!.logLikelihood > paretonbd!.logLikelihood ? "mbgnbd" : "paretonbd");
    expect(model.choiceReason).toMatch(/higher log-likelihood/);
  });

  it("does not hold a long-lapsed one-order customer certainly alive (BG/NBD would: P(alive) = 1 at x = 0)", () => {
    const lapsed = atCalibration.find((s) => s.frequency === 0 && s.T > 30)!;
    const bgnbd = fitShopModel(atCalibration, { unit: "week" });
    if (!bgnbd.ok) throw new Error(bgnbd.reason);
    expect(bgnbd.model.score(lapsed).pAlive).toBe(1);
    expect(model.score(lapsed).pAlive).toBeLessThan(0.95);
    expect(model.score(lapsed).pAlive).toBeGreaterThan(0);
  });

  it("survives a round trip through JSON and refuses a bad candidate list", () => {
    const restored = restoreShopModel(JSON.parse(JSON.stringify(model.toJSON())) as ShopModelJson);
    const someone = atCalibration[7];
    expect(restored.score(someone)).toEqual(model.score(someone));
    expect(() => fitShopModel(atCalibration, { unit: "week", candidates: ["bgnbd"] })).toThrow(/two or more distinct/);
    expect(() => fitShopModel(atCalibration, { unit: "week", candidates: ["bgnbd", "bgnbd"] })).toThrow(/two or more distinct/);
  });
});

describe("fitShopModel on CDNOW", () => {
  const transactions = cdnowTransactions();
  const atCalibration = summarize(transactions, { asOfDay: CALIBRATION_END, unit: "week" });
  const result = fitShopModel(atCalibration, { unit: "week" });
  if (!result.ok) throw new Error(result.reason);
  const model = result.model;

  it("fits both count models and keeps BG/NBD by log-likelihood, saying why", () => {
    expect(model.chosen).toBe("bgnbd");
    expect(model.choiceReason).toMatch(/lower AIC \(log-likelihood -9,582\.43 vs -9,594\.98 for Pareto\/NBD; with equal parameter counts AIC/);
    expect(model.candidates.bgnbd?.converged).toBe(true);
    expect(model.candidates.paretonbd?.converged).toBe(true);
    expect(Math.abs(model.logLikelihood - -9582.43)).toBeLessThan(0.01);
  });

  it("fits Gamma-Gamma on the 946 repeat buyers", () => {
    expect(model.gammaGamma?.customers).toBe(946);
    // The summary's exact means differ from the fixture's 2-decimal zbar: close, not identical, to 6.25, 3.74, 15.44.
    expect(relativeError(model.gammaGamma!.params.p, 6.2488)).toBeLessThan(0.01);
    expect(relativeError(model.gammaGamma!.params.q, 3.7446)).toBeLessThan(0.01);
    expect(relativeError(model.gammaGamma!.params.gamma, 15.4477)).toBeLessThan(0.01);
    expect(model.gammaGammaNote).toBeNull();
  });

  it("states its assumptions", () => {
    expect(model.assumptions).toMatchObject({ unit: "week", horizonDays: 365, annualDiscountRate: 0.1, grossMargin: 1 });
    expect(model.assumptions.discounting).toMatch(/monthly/);
    expect(model.assumptions.nextOrder).toMatch(/50%/);
  });

  it("scores a customer consistently with the model functions", () => {
    const first = atCalibration[0]; // x = 2, t_x = 30.43, T = 38.86
    const prediction = model.score(first);
    expect(prediction.pAlive).toBeCloseTo(bgnbdPAlive(model.params as never, 2, first.recency, first.T), 12);
    expect(prediction.expectedPurchases90d).toBeLessThan(prediction.expectedPurchases365d);
    expect(prediction.expectedOrderValue).toBeCloseTo(24.65, 1);
    const purchases = discountedExpectedPurchases(countModel("bgnbd", model.params), 2, first.recency, first.T, {
      unitDays: 7,
      horizonDays: 365,
      annualDiscountRate: 0.1,
    });
    expect(prediction.predictedClv).toBeCloseTo(prediction.expectedOrderValue! * purchases, 10);
    expect(prediction.expectedNextOrderDay).toBeGreaterThan(CALIBRATION_END);
  });

  it("gives no next-order date to a customer who has probably lapsed", () => {
    const lapsed = atCalibration.find((s) => s.frequency >= 3 && s.T - s.recency > 30)!;
    const prediction = model.score(lapsed);
    expect(prediction.pAlive).toBeLessThan(0.5);
    expect(prediction.expectedNextOrderDay).toBeNull();
  });

  it("round-trips through JSON to the same scores", () => {
    const stored: ShopModelJson = JSON.parse(JSON.stringify(model.toJSON()));
    const restored = restoreShopModel(stored);
    for (const s of atCalibration.slice(0, 20)) expect(restored.score(s)).toEqual(model.score(s));
    expect(() => restoreShopModel({ ...stored, version: 2 as never })).toThrow(/version/);
    expect(() => restoreShopModel({ ...stored, params: { ...stored.params, r: -1 } })).toThrow(/positive/);
  });

  it("scores a fit stored with a gross margin (before issue 13) in revenue, as fits are now made", () => {
    const stored: ShopModelJson = JSON.parse(JSON.stringify(model.toJSON()));
    const old = restoreShopModel({ ...stored, assumptions: { ...stored.assumptions, grossMargin: 0.4 } });
    expect(old.assumptions.grossMargin).toBe(1);
    for (const s of atCalibration.slice(0, 20)) expect(old.score(s)).toEqual(model.score(s));
  });

  it("rejects an impossible summary when scoring", () => {
    expect(() => model.score({ ...atCalibration[0], recency: 100 })).toThrow(/smaller than recency/);
  });

  it("gives the same predictions when fitted in days", () => {
    const inDays = fitShopModel(summarize(transactions, { asOfDay: CALIBRATION_END, unit: "day" }), { unit: "day" });
    if (!inDays.ok) throw new Error(inDays.reason);
    const daySummary = summarize(transactions, { asOfDay: CALIBRATION_END, unit: "day" })[0];
    const a = model.score(atCalibration[0]);
    const b = inDays.model.score(daySummary);
    expect(b.pAlive).toBeCloseTo(a.pAlive, 5);
    expect(b.expectedPurchases365d).toBeCloseTo(a.expectedPurchases365d, 4);
    expect(b.predictedClv!).toBeCloseTo(a.predictedClv!, 3);
    expect(b.expectedNextOrderDay).toBe(a.expectedNextOrderDay);
  });

  it("chooses by holdout error when a holdout is given", () => {
    const atEnd = summarize(transactions, { asOfDay: HOLDOUT_END, unit: "week" });
    const calibrationOrders = new Map(atCalibration.map((s) => [s.customerId, s.frequency]));
    const holdoutPurchases = new Map(atEnd.filter((s) => calibrationOrders.has(s.customerId)).map((s) => [s.customerId, s.frequency - calibrationOrders.get(s.customerId)!]));
    const withHoldout = fitShopModel(atEnd, { unit: "week", holdout: { summariesAtCalibration: atCalibration, holdoutPurchases, holdoutDays: 273 } });
    if (!withHoldout.ok) throw new Error(withHoldout.reason);
    const { bgnbd, paretonbd } = withHoldout.model.toJSON().candidates;
    expect(bgnbd?.holdoutMeanAbsoluteError).toBeGreaterThan(0);
    expect(paretonbd?.holdoutMeanAbsoluteError).toBeGreaterThan(0);
    // 0.7545 against 0.7855: the difference, 0.031, is more than its paired standard error, so no tie.
    expect(withHoldout.model.chosen).toBe("paretonbd");
    expect(withHoldout.model.toJSON().choiceTie).toBe(false);
    expect(withHoldout.model.choiceReason).toMatch(/lower holdout error, by more than the paired standard error of the difference \(0\.\d{4}\).*2357 customers over 273 days/);
    // model.json shows what each candidate's holdout error came from: its calibration fit (the published CDNOW optimum).
    expect(bgnbd?.calibration).toMatchObject({ converged: true, boundary: null, effectiveParameters: 4 });
    expect(bgnbd!.calibration!.logLikelihood).toBeCloseTo(-9582.43, 2);
    expect(paretonbd!.calibration!.logLikelihood).toBeCloseTo(-9594.98, 2);
    expect((paretonbd!.calibration!.params as { r: number }).r).toBeCloseTo(0.5533, 4);
  });
});

describe("the holdout tie rule on CDNOW calibrated to 1997-06-29, held out to 1997-09-30", () => {
  // Both candidates are scored on the same customers, so the noise in the difference of their
  // mean errors is the paired standard error sd(|e_A| - |e_B|)/sqrt(n), not either error's own.
  it("a difference of several paired standard errors is no tie", () => {
    const transactions = cdnowTransactions();
    const calibrationEnd = dayIndex("1997-06-29");
    const holdoutEnd = CALIBRATION_END;
    const atCalibration = summarize(transactions, { asOfDay: calibrationEnd, unit: "week" });
    const atEnd = summarize(transactions, { asOfDay: holdoutEnd, unit: "week" });
    const calibrationOrders = new Map(atCalibration.map((s) => [s.customerId, s.frequency]));
    const holdoutPurchases = new Map(atEnd.filter((s) => calibrationOrders.has(s.customerId)).map((s) => [s.customerId, s.frequency - calibrationOrders.get(s.customerId)!]));
    const result = fitShopModel(atEnd, { unit: "week", holdout: { summariesAtCalibration: atCalibration, holdoutPurchases, holdoutDays: holdoutEnd - calibrationEnd } });
    if (!result.ok) throw new Error(result.reason);
    const { bgnbd, paretonbd } = result.model.toJSON().candidates;
    // 0.3937 against 0.4014: a difference of 0.0078, about 5 paired standard errors (0.0016); Pareto/NBD's own error's is 0.0159.
    expect(paretonbd!.holdoutMeanAbsoluteError!).toBeCloseTo(0.3937, 4);
    expect(bgnbd!.holdoutMeanAbsoluteError!).toBeCloseTo(0.4014, 4);
    expect(result.model.toJSON().choiceTie).toBe(false);
    expect(result.model.chosen).toBe("paretonbd");
    expect(result.model.choiceReason).toMatch(/^Pareto\/NBD: lower holdout error, by more than the paired standard error of the difference \(0\.0016\)/);
  });
});

describe("the tie rule", () => {
  // No drop-out at all (lifetimes of ~1e6 years): both candidates are the plain NBD at their edge.
  const noDropOut = simulateParetoNbd({ r: 0.6, alpha: 6, s: 1e-3, beta: 1e3 }, { customers: 2000, seed: 7, age: (u) => 20 + Math.floor(u() * 60) }).map((c, i) =>
    summary(i, c.frequency, c.recency, c.T),
  );

  it("candidates both at the no-drop-out edge tie on likelihood; the fixed order picks", () => {
    const result = fitShopModel(noDropOut, { unit: "week", candidates: APP_SHOP_CANDIDATES });
    if (!result.ok) throw new Error(result.reason);
    const json = result.model.toJSON();
    expect(json.candidates.mbgnbd).toMatchObject({ converged: true, boundary: "drop-out not identifiable: behaves like plain NBD", effectiveParameters: 2 });
    expect(json.candidates.paretonbd).toMatchObject({ converged: true, boundary: "drop-out not identifiable: behaves like plain NBD", effectiveParameters: 2 });
    expect(json.choiceTie).toBe(true);
    expect(json.chosen).toBe("mbgnbd");
    expect(json.choiceReason).toMatch(/^modified BG\/NBD: tied on AIC with Pareto\/NBD; a tie .* goes to fewer effective parameters/);
  });

  it("candidates both at the no-drop-out edge tie on holdout error; fewer effective parameters win", () => {
    const holdoutPurchases = new Map(noDropOut.map((s, i) => [s.customerId, i % 3]));
    const holdout = { summariesAtCalibration: noDropOut, holdoutPurchases, holdoutDays: 180 };
    const result = fitShopModel(noDropOut, { unit: "week", holdout });
    if (!result.ok) throw new Error(result.reason);
    const json = result.model.toJSON();
    expect(json.choiceTie).toBe(true);
    expect(json.candidates.bgnbd?.calibration?.effectiveParameters).toBe(2);
    expect(json.chosen).toBe("bgnbd");
    // Both are the plain NBD, so rounding alone separates their errors (by less than 1e-4, yet
    // consistently over customers: many paired standard errors): still a tie.
    expect(json.choiceReason).toMatch(/^BG\/NBD: a holdout tie with Pareto\/NBD \((BG|Pareto)\/NBD: both at the no-drop-out edge\)/);
  });
});

describe("fitShopModel refuses thin data, with a reason and a code", () => {
  // Hand-made patterns: n customers, the first `repeaters` of them with repeat purchases.
  const handMade = (n: number, repeaters: number, ageWeeks = 40) =>
    Array.from({ length: n }, (_, i) => (i < repeaters ? summary(i, 1 + (i % 4), 5 + (i % 30), ageWeeks) : summary(i, 0, 0, ageWeeks - (i % 10))));
  // A BG/NBD shop with a well-defined optimum.
  const simulated = (n: number) =>
    simulateBgNbd({ r: 0.3, alpha: 4, a: 0.8, b: 2.5 }, { customers: n, seed: 21, grid: 1 / 7, age: (u) => Math.ceil(20 * 7 + u() * 300) / 7 }).map((c, i) =>
      summary(i, c.frequency, c.recency, c.T),
    );

  it("too few customers", () => {
    const result = fitShopModel(handMade(MIN_CUSTOMERS - 1, 20), { unit: "week" });
    expect(result).toEqual({ ok: false, code: "too-few-customers", reason: expect.stringMatching(/49 customers.*at least 50/) });
  });

  it("too few repeat buyers", () => {
    const result = fitShopModel(handMade(200, 9), { unit: "week" });
    expect(result).toMatchObject({ ok: false, code: "too-few-repeat-buyers" });
    expect(!result.ok && result.reason).toMatch(/9 customers have ordered more than once/);
  });

  it("history too short", () => {
    const result = fitShopModel(
      handMade(200, 60, 10).map((s) => ({ ...s, recency: Math.min(s.recency, 5), T: Math.min(s.T, 10) })),
      { unit: "week" },
    );
    expect(result).toMatchObject({ ok: false, code: "history-too-short" });
    expect(!result.ok && result.reason).toMatch(/70 days of order history; predictions need at least 90/);
  });

  it("a fit that does not converge is reported, not used", () => {
    const result = fitShopModel(simulated(2000), { unit: "week", fitOptions: { maxIterations: 1 } });
    expect(result).toMatchObject({ ok: false, code: "did-not-converge" });
    expect(!result.ok && result.reason).toMatch(/no model converged: BG\/NBD: did not converge in 1 iterations/);
  });

  it("data whose likelihood peaks on the boundary are reported as not converged", () => {
    // Every customer the same purchase rate (r -> ∞): a limit no model here names.
    const alike = Array.from({ length: 300 }, (_, i) => (i < 200 ? summary(i, 4, 36 + (i % 4), 40) : summary(i, 1 + (i % 2), 8 + (i % 4), 40)));
    const result = fitShopModel(alike, { unit: "week" });
    expect(result).toMatchObject({ ok: false, code: "did-not-converge" });
    expect(!result.ok && result.reason).toMatch(/BG\/NBD: r ran to .*every customer the same purchase rate.*no maximum inside it/);
  });

  it("one drop-out for every customer (a, b -> ∞; s, β -> ∞) gets a model, named, with 3 effective parameters", () => {
    // Refused as unconverged before issue 16's nested homogeneous drop-out model.
    const result = fitShopModel(handMade(300, 120), { unit: "week", candidates: APP_SHOP_CANDIDATES });
    if (!result.ok) throw new Error(result.reason);
    const json = result.model.toJSON();
    expect(json.candidates.mbgnbd).toMatchObject({ converged: true, effectiveParameters: 3 });
    expect(json.candidates.mbgnbd?.boundary).toMatch(/^drop-out the same for every customer \(p = 0\.2\d+\)$/);
    expect(json.candidates.mbgnbd?.nestedLogLikelihood).toBeUndefined();
    expect(json.candidates.paretonbd?.boundary).toMatch(/^drop-out the same for every customer \(μ = 0\.\d+ per time unit\)$/);
  });

  it("a well-posed simulated shop gets a model, also with 200,000 customers", () => {
    expect(fitShopModel(simulated(2000), { unit: "week" }).ok).toBe(true);
    const large = fitShopModel(simulated(200_000), { unit: "week" });
    if (!large.ok) throw new Error(large.reason);
    expect(large.model.candidates.bgnbd?.converged).toBe(true);
  });

  it("no spend model when repeat purchases have no value: CLV and order value are null, not guessed", () => {
    const summaries = simulated(2000).map((s) => ({ ...s, monetaryValue: 0 }));
    const result = fitShopModel(summaries, { unit: "week" });
    if (!result.ok) throw new Error(result.reason);
    expect(result.model.gammaGamma).toBeNull();
    expect(result.model.gammaGammaNote).toMatch(/^0 customers with a repeat purchase of positive value/);
    const prediction = result.model.score(summaries[0]);
    expect(prediction.expectedOrderValue).toBeNull();
    expect(prediction.predictedClv).toBeNull();
    expect(prediction.pAlive).toBeGreaterThan(0);
  });

  it("rejects bad options", () => {
    expect(() => fitShopModel(handMade(100, 30), { unit: "week", grossMargin: -0.5 })).toThrow(/grossMargin/);
    expect(() => fitShopModel(handMade(100, 30), { unit: "fortnight" as never })).toThrow(/unit/);
  });
});
