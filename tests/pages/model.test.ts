import { backtest } from "~/analytics/clv/backtest";
import { CHOICE_TIE_RULE, fitShopModel } from "~/analytics/clv/shop-model";
import { simulateParetoNbd } from "~/analytics/clv/simulate";
import { estimateFromAverages } from "~/analytics/estimate-from-averages";
import { dayIndex, dayToIso } from "~/analytics/dates";
import { orderTableFrom } from "~/analytics/retention";
import { type CustomerSummary, summarizeTable } from "~/analytics/summary";
import { AGGREGATE_KIND, type BacktestAggregate } from "~/data/aggregates";
import { loadModelPage } from "~/pages/model.server";
import { uniqueShop } from "../support/db";
import { insertAggregate, insertShop, syntheticOrders, poolForTests } from "../support/precomputed-rows";

// The model page reads ShopFit and the backtest aggregate; rows built here with the same
// fitting and backtest functions the refit uses.

const pool = poolForTests();
const AS_OF = dayIndex("2026-10-31");
const HOLDOUT_DAYS = 91;

function fitted(customers: number) {
  const orders = syntheticOrders({ seed: 11, customers, asOfDay: AS_OF, spanDays: 720 });
  const { table } = orderTableFrom(orders);
  const summaries = summarizeTable(table, { asOfDay: AS_OF, unit: "week" });
  const result = fitShopModel(summaries, { unit: "week", grossMargin: 0.6 });
  // Computed when asked: a backtest refuses a shop below the main fit's minimums.
  const backtested = () => backtest(table, { calibrationEndDay: AS_OF - HOLDOUT_DAYS, holdoutEndDay: AS_OF, unit: "week" });
  return { result, backtested, summaries };
}

async function insertFit(
  shop: string,
  values: { status: string; reason?: string; reasonCode?: string; model?: unknown; averages?: unknown; customers?: number },
) {
  const source = values.model ? "model" : values.averages ? "averages" : null;
  await pool().query(
    `INSERT INTO "ShopFit" (shop, version, status, reason, "reasonCode", model, "averagesEstimate", "predictionSource", "segmentRules", "asOfDay", customers, orders, trigger, "finishedAt", "updatedAt")
     VALUES ($1, 1, $2, $3, $4, $5::jsonb, $8::jsonb, $9, '[]'::jsonb, $6, $7, 0, 'nightly', now(), now())`,
    [
      shop,
      values.status,
      values.reason ?? null,
      values.reasonCode ?? null,
      values.model === undefined ? null : JSON.stringify(values.model),
      AS_OF,
      values.customers ?? 0,
      values.averages === undefined ? null : JSON.stringify(values.averages),
      source,
    ],
  );
}

describe("model page data", () => {
  it("says there is no model yet for a shop that has never been refitted", async () => {
    const page = await loadModelPage(pool(), uniqueShop("new"));
    expect(page).toMatchObject({ status: "none", model: null, backtest: null, reason: null });
    expect(page.notReady).toEqual(expect.objectContaining({ status: null, backfill: null }));
  });

  it("returns the chosen model, why, its candidates and the backtest weeks marked calibration or holdout", async () => {
    const shop = uniqueShop("model");
    await insertShop(pool(), shop);
    const { result, backtested, summaries } = fitted(800);
    const test = backtested();
    if (!result.ok) throw new Error(`the synthetic store should fit: ${result.reason}`);
    const json = result.model.toJSON();
    await insertFit(shop, { status: "ready", model: json, customers: summaries.length });
    // The synthetic orders' values are drawn alike for everyone, so the spend model is its
    // homogeneous limit (one ν for every customer, ADR 0020); the page's money rounding is
    // checked on a spend comparison given here.
    expect(test.spend?.params.nu).toBeGreaterThan(0);
    const spend = { params: { p: 6, q: 4, gamma: 1500 }, customers: 120, meanAbsoluteError: 1234.4, bias: -56.6, meanPredicted: 4000.2, meanActual: 4056.8 };
    const aggregate: BacktestAggregate = { holdoutDays: HOLDOUT_DAYS, result: { ...test, spend, spendNote: null }, note: null };
    await insertAggregate(pool(), shop, AGGREGATE_KIND.backtest, AS_OF, aggregate);

    const page = await loadModelPage(pool(), shop);
    expect(page.status).toBe("ready");
    expect(page.model!.chosen).toBe(json.chosen);
    expect(page.model!.choiceReason).toBe(json.choiceReason);
    expect(Object.keys(page.model!.candidates).sort()).toEqual(["bgnbd", "paretonbd"]);
    expect(page.model!.assumptions.grossMargin).toBe(0.6);
    expect(page.asOfIso).toBe("2026-10-31");
    expect(page.customers).toBe(summaries.length);

    const weeks = page.backtest!.weeks;
    expect(weeks).toHaveLength(test.weekly.length);
    expect(page.backtest!.calibrationEndIso).toBe(dayToIso(AS_OF - HOLDOUT_DAYS));
    // Holdout weeks are exactly those starting after the calibration end, and come last.
    const firstHoldout = weeks.findIndex((week) => week.holdout);
    expect(firstHoldout).toBeGreaterThan(0);
    expect(weeks.slice(firstHoldout).every((week) => week.holdout && week.startIso > page.backtest!.calibrationEndIso!)).toBe(true);
    expect(weeks.slice(0, firstHoldout).every((week) => !week.holdout)).toBe(true);
    expect(weeks[weeks.length - 1].cumulativeActual).toBe(test.weekly[test.weekly.length - 1].cumulativeActual);
    expect(page.backtest!.totalActual).toBe(test.totalActual);

    // The conditional-expectation table and the spend error, as the refit stored them (rounded for the page).
    const groups = page.backtest!.groups;
    expect(groups.map((group) => [group.repeatOrders, group.orMore])).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((x) => [x, x === 7]));
    groups.forEach((group, i) => {
      const stored = test.conditionalExpectations[i];
      expect(group.customers).toBe(stored.customers);
      if (stored.actual === null) expect(group.actual).toBeNull();
      else expect(group.actual).toBeCloseTo(stored.actual, 4);
      if (stored.predicted === null) expect(group.predicted).toBeNull();
      else expect(group.predicted).toBeCloseTo(stored.predicted, 4);
    });
    expect(groups.reduce((sum, group) => sum + group.customers, 0)).toBe(test.customers);
    expect(page.backtest!.spend).toEqual({ customers: 120, meanAbsoluteErrorMinor: 1234, biasMinor: -57, meanPredictedMinor: 4000, meanActualMinor: 4057 });
    expect(page.backtest!.spendNote).toBeNull();
  });

  it("every candidate's parameters, likelihood, holdout error ± standard error and edge verdict, and the tie with its rule, from the stored fit", async () => {
    // No drop-out (lifetimes of ~1e6 years): every candidate is the plain NBD at its edge, so
    // their holdout errors tie and the rule picks the simplest (as in shop-model.test.ts).
    const noDropOut = simulateParetoNbd({ r: 0.6, alpha: 6, s: 1e-3, beta: 1e3 }, { customers: 800, seed: 7, age: (u) => 20 + Math.floor(u() * 60) }).map(
      (c, i): CustomerSummary => {
        const firstDay = AS_OF - Math.round(c.T * 7);
        const monetaryValue = c.frequency > 0 ? 20 : 0;
        return { customerId: String(i), orders: c.frequency + 1, frequency: c.frequency, recency: c.recency, T: c.T, monetaryValue, totalSpent: (c.frequency + 1) * 20, firstDay, lastDay: firstDay + Math.round(c.recency * 7) };
      },
    );
    const holdout = { summariesAtCalibration: noDropOut, holdoutPurchases: new Map(noDropOut.map((s, i) => [s.customerId, i % 3])), holdoutDays: 180 };
    const result = fitShopModel(noDropOut, { unit: "week", holdout });
    if (!result.ok) throw new Error(result.reason);
    const json = result.model.toJSON();
    expect(json.choiceTie).toBe(true);
    const shop = uniqueShop("tie");
    await insertShop(pool(), shop);
    await insertFit(shop, { status: "ready", model: json, customers: noDropOut.length });

    const { choice } = await loadModelPage(pool(), shop);
    expect(choice).toMatchObject({ tie: true, tieRule: CHOICE_TIE_RULE });
    // The chosen first, then the others as stored.
    expect(choice!.candidates.map((candidate) => [candidate.name, candidate.chosen])).toEqual([
      [json.chosen, true],
      ...Object.keys(json.candidates)
        .filter((name) => name !== json.chosen)
        .map((name) => [name, false]),
    ]);
    for (const candidate of choice!.candidates) {
      const stored = json.candidates[candidate.name as keyof typeof json.candidates]!;
      expect(candidate).toMatchObject({
        converged: true,
        params: stored.params,
        logLikelihood: stored.logLikelihood,
        edge: "drop-out not identifiable: behaves like plain NBD",
        nestedLogLikelihood: stored.nestedLogLikelihood,
        effectiveParameters: 2,
        holdoutError: stored.holdoutMeanAbsoluteError,
        holdoutStandardError: stored.holdoutStandardError,
      });
      expect(candidate.nestedLogLikelihood).toEqual(expect.any(Number));
      expect(candidate.holdoutStandardError).toBeGreaterThan(0);
      expect(candidate.calibration).toEqual({
        params: stored.calibration!.params,
        logLikelihood: stored.calibration!.logLikelihood,
        converged: true,
        edge: "drop-out not identifiable: behaves like plain NBD",
      });
    }
  });

  it("a fit stored before the tie rule: the candidates without verdicts, and no tie claimed either way", async () => {
    const shop = uniqueShop("old-fit");
    await insertShop(pool(), shop);
    const { result } = fitted(800);
    if (!result.ok) throw new Error(result.reason);
    const { choiceTie: _tie, ...json } = result.model.toJSON();
    const older = {
      ...json,
      candidates: Object.fromEntries(
        Object.entries(json.candidates).map(([name, fit]) => {
          const { boundary: _b, nestedLogLikelihood: _n, effectiveParameters: _e, ...rest } = fit!;
          return [name, rest];
        }),
      ),
    };
    await insertFit(shop, { status: "ready", model: older });
    const { choice } = await loadModelPage(pool(), shop);
    expect(choice!.tie).toBeNull();
    expect(choice!.tieRule).toBeNull();
    expect(choice!.candidates.every((candidate) => candidate.edge === null && candidate.effectiveParameters === null && candidate.calibration === null)).toBe(true);
  });

  it("a backtest stored before the conditional-expectation table: the weekly chart alone, no error", async () => {
    const shop = uniqueShop("old-backtest");
    await insertShop(pool(), shop);
    const { result, backtested } = fitted(800);
    const test = backtested();
    if (!result.ok) throw new Error(result.reason);
    await insertFit(shop, { status: "ready", model: result.model.toJSON() });
    const { conditionalExpectations: _table, spend: _spend, spendNote: _note, ...older } = test;
    await insertAggregate(pool(), shop, AGGREGATE_KIND.backtest, AS_OF, { holdoutDays: HOLDOUT_DAYS, result: older, note: null });
    const page = await loadModelPage(pool(), shop);
    expect(page.backtest).toMatchObject({ groups: [], spend: null, spendNote: null });
    // Stored as computed: the note of the spend model that did not fit reaches the page.
    await insertAggregate(pool(), shop, AGGREGATE_KIND.backtest, AS_OF, { holdoutDays: HOLDOUT_DAYS, result: test, note: null });
    expect((await loadModelPage(pool(), shop)).backtest!.spendNote).toBe(test.spendNote);
    expect(page.backtest!.weeks).toHaveLength(test.weekly.length);
  });

  it("explains in words when the shop has too little data to predict", async () => {
    const shop = uniqueShop("thin");
    const { result } = fitted(30);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    await insertFit(shop, { status: "no-predictions", reason: result.reason, reasonCode: result.code });
    await insertAggregate(pool(), shop, AGGREGATE_KIND.backtest, AS_OF, { holdoutDays: HOLDOUT_DAYS, result: null, note: "too little history" } satisfies BacktestAggregate);
    const page = await loadModelPage(pool(), shop);
    expect(page.status).toBe("no-predictions");
    expect(page.reasonCode).toBe("too-few-customers");
    expect(page.reason).toMatch(/customers with an order; predictions need at least 50/);
    expect(page.model).toBeNull();
    expect(page.backtest).toMatchObject({ note: "too little history", weeks: [] });
  });

  it("a shop below the minimums: the estimate from averages, and that it is what the predicted figures are", async () => {
    const shop = uniqueShop("averages");
    const averages = estimateFromAverages(
      [
        { orders: 3, netSpent: 30_000, firstOrderDay: AS_OF - 200 },
        { orders: 1, netSpent: 8_000, firstOrderDay: AS_OF - 20 },
      ],
      AS_OF,
      { horizonDays: 365, annualDiscountRate: 0.1, grossMargin: 1 },
    );
    await insertFit(shop, { status: "no-predictions", reason: "2 customers with an order; predictions need at least 50", reasonCode: "too-few-customers", averages });
    const page = await loadModelPage(pool(), shop);
    expect(page).toMatchObject({ status: "no-predictions", model: null, predictionSource: "averages", averages });
    // A fitted shop says its figures are the model's.
    const fittedShop = uniqueShop("modelled");
    const { result } = fitted(800);
    if (!result.ok) throw new Error(result.reason);
    await insertFit(fittedShop, { status: "ready", model: result.model.toJSON() });
    expect(await loadModelPage(pool(), fittedShop)).toMatchObject({ predictionSource: "model", averages: null });
  });

  it("reads only its own shop's fit", async () => {
    const shop = uniqueShop("mine");
    await insertFit(shop, { status: "no-predictions", reason: "30 customers with an order" });
    const other = await loadModelPage(pool(), uniqueShop("theirs"));
    expect(other.status).toBe("none");
    expect(JSON.stringify(other)).not.toContain("30 customers");
  });
});
