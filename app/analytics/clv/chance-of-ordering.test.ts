import { dayIndex } from "~/analytics/dates";
import { summarize } from "~/analytics/summary";
import { countModel } from "./count-model";
import { cdnowTransactions } from "./fixtures.testing";
import { APP_SHOP_CANDIDATES, fitShopModel, restoreShopModel } from "./shop-model";

// The chance of ordering (issue 13): P(at least one order in the next 90 days / 365 days |
// history), from the chosen count model in its own time unit (weeks), for each candidate.

const asOfDay = dayIndex("1997-09-30");
const summaries = summarize(cdnowTransactions(), { asOfDay, unit: "week" });

describe("chance of ordering in the next 90 days and 12 months", () => {
  for (const name of [...APP_SHOP_CANDIDATES, "bgnbd"] as const) {
    it(`is the ${name} model's P(X(t) > 0 | history) with t in weeks, below P(alive), the 12-month one above the 90-day one`, () => {
      const others = ([...APP_SHOP_CANDIDATES, "bgnbd"] as const).filter((candidate) => candidate !== name);
      const result = fitShopModel(summaries, { unit: "week", candidates: [name, ...others] });
      if (!result.ok) throw new Error(result.reason);
      // Score with the named model's own fit, whichever the shop would choose.
      const fitted = result.model.candidates[name]!;
      const model = countModel(name, fitted.params);
      const shop = restoreShopModel({ ...result.model.toJSON(), chosen: name, params: fitted.params });
      // Every customer, exactly: score remembers the chance given alive per (x, T), which many
      // customers share (same x, other T and the reverse), and multiplies by P(alive).
      for (const s of summaries) {
        const p = shop.score(s);
        expect(p.chanceOfOrder90d).toBe(model.probabilityOfPurchaseWithin(90 / 7, s.frequency, s.recency, s.T));
        expect(p.chanceOfOrder365d).toBe(model.probabilityOfPurchaseWithin(365 / 7, s.frequency, s.recency, s.T));
        expect(p.chanceOfOrder90d).toBeGreaterThan(0);
        expect(p.chanceOfOrder90d).toBeLessThanOrEqual(p.chanceOfOrder365d);
        expect(p.chanceOfOrder365d).toBeLessThanOrEqual(p.pAlive);
      }
    });
  }
});

