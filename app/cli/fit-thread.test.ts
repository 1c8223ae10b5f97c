import { dayIndex } from "~/analytics/dates";
import { cdnowRows, cdnowTransactions } from "~/analytics/clv/fixtures.testing";
import { fitParetoNbd } from "~/analytics/clv/pareto-nbd";
import { prepareRows } from "~/analytics/clv/rows";
import { APP_SHOP_CANDIDATES, type CountModelFitter, fitShopModel, fitShopModelAsync } from "~/analytics/clv/shop-model";
import { simulateParetoNbd } from "~/analytics/clv/simulate";
import { type CustomerSummary, summarize } from "~/analytics/summary";
import { startFitThread } from "./fit";

describe("tenure fit's fitting thread", () => {
  it("fits Pareto/NBD on the thread to the same bits as on the main thread (CDNOW)", async () => {
    const rows = prepareRows(cdnowRows());
    const fellBack: string[] = [];
    const thread = startFitThread((why) => fellBack.push(why));
    expect(thread).not.toBeNull();
    try {
      const onThread = await thread!.fitParetoNbd(rows, { standardErrors: false });
      const here = fitParetoNbd(rows, { standardErrors: false });
      expect(onThread).toEqual(here);
      expect(onThread.logLikelihood).toBeCloseTo(-9594.9739, 3);
      // A second task on the same thread.
      const again = await thread!.fitParetoNbd(rows, { standardErrors: false });
      expect(again).toEqual(here);
      expect(fellBack).toEqual([]);
    } finally {
      await thread!.close();
    }
  });
});

describe("the shop model with Pareto/NBD on the thread (tenure analyze)", () => {
  let thread: ReturnType<typeof startFitThread>;
  const sent: string[] = [];
  const fallbacks: string[] = [];
  const elsewhere: CountModelFitter = (name, rows, options) => {
    if (name !== "paretonbd") return null;
    sent.push(name);
    return thread!.fitParetoNbd(rows, options);
  };
  beforeAll(() => {
    thread = startFitThread((why) => fallbacks.push(why));
    expect(thread).not.toBeNull();
  });
  afterAll(async () => thread?.close());
  beforeEach(() => {
    sent.length = 0;
  });
  // Fitted on the thread, not by the fallback on this thread (which gives the same bits).
  afterEach(() => expect(fallbacks).toEqual([]));

  it("is fitShopModel's model to the bit, with a holdout (CDNOW: every candidate, calibration fit, holdout error, choice)", async () => {
    const transactions = cdnowTransactions();
    const calibrationEnd = dayIndex("1997-06-29");
    const holdoutEnd = dayIndex("1997-09-30");
    const atCalibration = summarize(transactions, { asOfDay: calibrationEnd, unit: "week" });
    const atEnd = summarize(transactions, { asOfDay: holdoutEnd, unit: "week" });
    const calibrationOrders = new Map(atCalibration.map((s) => [s.customerId, s.frequency]));
    const holdoutPurchases = new Map(atEnd.filter((s) => calibrationOrders.has(s.customerId)).map((s) => [s.customerId, s.frequency - calibrationOrders.get(s.customerId)!]));
    const options = { unit: "week" as const, holdout: { summariesAtCalibration: atCalibration, holdoutPurchases, holdoutDays: holdoutEnd - calibrationEnd } };
    const here = fitShopModel(atEnd, options);
    const away = await fitShopModelAsync(atEnd, options, elsewhere);
    // The whole-history fit and the calibration fit both went to the thread.
    expect(sent).toEqual(["paretonbd", "paretonbd"]);
    if (!here.ok || !away.ok) throw new Error("no model");
    expect(away.model.toJSON()).toEqual(here.model.toJSON());
    expect(away.model.chosen).toBe("paretonbd");
    expect(away.model.toJSON().candidates.paretonbd!.calibration!.converged).toBe(true);
  });

  it("is fitShopModel's model at the no-drop-out edge, the app's candidates, and the same refusal on thin data", async () => {
    const summaries: CustomerSummary[] = simulateParetoNbd({ r: 0.6, alpha: 6, s: 1e-3, beta: 1e3 }, { customers: 2000, seed: 7, age: (u) => 20 + Math.floor(u() * 60) }).map(
      (c, i) => ({
        customerId: String(i).padStart(5, "0"),
        orders: c.frequency + 1,
        frequency: c.frequency,
        recency: c.recency,
        T: c.T,
        monetaryValue: c.frequency > 0 ? 20 : 0,
        totalSpent: (c.frequency + 1) * 20,
        firstDay: 10_000,
        lastDay: 10_000 + Math.round(c.recency * 7),
      }),
    );
    const options = { unit: "week" as const, candidates: APP_SHOP_CANDIDATES };
    const here = fitShopModel(summaries, options);
    const away = await fitShopModelAsync(summaries, options, elsewhere);
    if (!here.ok || !away.ok) throw new Error("no model");
    expect(away.model.toJSON()).toEqual(here.model.toJSON());
    expect(away.model.toJSON().choiceTie).toBe(true);
    expect(await fitShopModelAsync(summaries.slice(0, 10), options, elsewhere)).toEqual(fitShopModel(summaries.slice(0, 10), options));
  });
});
