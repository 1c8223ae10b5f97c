import { APP_SHOP_CANDIDATES, fitShopModel, fitShopModelAsync } from "~/analytics/clv/shop-model";
import { summariesOfSimulated } from "~/analytics/clv/fixtures.testing";
import { simulateParetoNbd } from "~/analytics/clv/simulate";
import { type CustomerSummary } from "~/analytics/summary";
import { paretoNbdOnThread } from "./fit.server";

function summaries(params: { r: number; alpha: number; s: number; beta: number }, seed: number): CustomerSummary[] {
  const customers = simulateParetoNbd(params, { customers: 3000, seed, age: (u) => 20 + Math.floor(u() * 60) });
  return summariesOfSimulated(customers, { id: (i) => String(i).padStart(5, "0"), daysPerUnit: 7 });
}

describe("the refit's Pareto/NBD on a thread of its own", () => {
  const options = { unit: "week" as const, candidates: APP_SHOP_CANDIDATES };
  it.each([
    ["with drop-out", { r: 0.55, alpha: 10, s: 0.6, beta: 12 }, 3],
    ["at the no-drop-out edge (the refit's slow case)", { r: 0.6, alpha: 6, s: 1e-3, beta: 1e3 }, 7],
  ])("gives the model fitShopModel gives, to the bit (%s)", async (_name, params, seed) => {
    const rows = summaries(params, seed);
    const here = fitShopModel(rows, options);
    let sent = 0;
    const fallbacks: string[] = [];
    const onThread = paretoNbdOnThread(0, (why) => fallbacks.push(why));
    const away = await fitShopModelAsync(rows, options, (name, prepared, fitOptions) => {
      const promise = onThread(name, prepared, fitOptions);
      if (promise) sent++;
      return promise;
    });
    expect(sent).toBe(1);
    // Fitted on the thread, not by the fallback on this thread (which gives the same bits).
    expect(fallbacks).toEqual([]);
    if (!here.ok || !away.ok) throw new Error("no model");
    expect(away.model.toJSON()).toEqual(here.model.toJSON());
  });

  it("leaves a small row set to this thread", () => {
    expect(paretoNbdOnThread()("paretonbd", { count: 100 } as never, {})).toBeNull();
    expect(paretoNbdOnThread(0)("mbgnbd", { count: 100_000 } as never, {})).toBeNull();
  });
});
