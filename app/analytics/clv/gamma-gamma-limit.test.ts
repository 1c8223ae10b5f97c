// Issue 16: Gamma-Gamma at its homogeneous limit. When customers' mean spends vary no more than
// their own transactions do, the likelihood rises toward q, γ -> ∞ with q/γ = ν: every customer
// the same ν. The fit finds that nested model directly, names it, and predicts from it.
import { HOMOGENEOUS_SHAPE, maximizeLikelihood, nestedTolerance } from "./estimation";
import { compressSpendRows, fitGammaGamma, gammaGammaExpectedValue, gammaGammaLogLikelihood, gammaGammaLogLikelihoodFunction } from "./gamma-gamma";
import { fitHomogeneousSpend } from "./gamma-gamma-limit";
import { fitShopModel, restoreShopModel, type ShopModelJson } from "./shop-model";
import { simulateBgNbd } from "./simulate";
import { type CustomerSummary } from "../summary";
import { Random } from "../random";

/** Transactions Gamma(4, ν = 0.1) (mean 40) for everyone, in cents; seed 12 puts the limit at a local maximum (negative score). */
function homogeneousSpend(seed: number) {
  const random = new Random(seed);
  return Array.from({ length: 3000 }, () => {
    const x = 1 + Math.floor(random.next() * 8);
    let total = 0;
    for (let i = 0; i < x; i++) total += random.gamma(4, 1 / 0.1);
    return { frequency: x, monetaryValue: Math.round((total / x) * 100) / 100 };
  });
}

describe("Gamma-Gamma with one ν for every customer", () => {
  const rows = compressSpendRows(homogeneousSpend(12));
  const customers = rows.reduce((sum, row) => sum + row.weight, 0);
  const fit = fitGammaGamma(rows, { standardErrors: false });
  const limit = fitHomogeneousSpend(rows)!;

  /** The walk the fit used to make: BFGS from the same three starts, up the ridge to its end. */
  function walk() {
    const { logLikelihood, totalWeight } = gammaGammaLogLikelihoodFunction(rows);
    const meanM = rows.reduce((sum, row) => sum + row.weight * row.m, 0) / totalWeight;
    const starts = [
      [1, 2, meanM],
      [5, 3, 2 * meanM],
      [0.5, 1.5, 0.1 * meanM],
    ].map((start) => start.map(Math.log));
    return maximizeLikelihood<{ p: number; q: number; gamma: number }>({
      names: ["p", "q", "gamma"],
      logLikelihood,
      totalWeight,
      distinctRows: rows.length,
      starts,
      options: { standardErrors: false },
    });
  }

  it("is reported as the nested model, converged, with 2 effective parameters", () => {
    expect(limit.score).toBeLessThan(0);
    expect(fit.converged).toBe(true);
    expect(fit.boundary).toMatchObject({ kind: "homogeneous-spend", nestedModel: "homogeneous-spend" });
    expect(fit.boundary?.verdict).toMatch(/^expected order value the same for every customer \(39\.8\d+; p = 3\.876\)$/);
    expect(fit.effectiveParameters).toBe(2);
    expect(fit.standardErrors).toBeNull();
    expect(fit.params.nu).toBe(limit.nu);
    expect(fit.params.p).toBe(limit.p);
    expect(fit.logLikelihood).toBe(limit.logLikelihood);
    expect(fit.boundary?.nestedLogLikelihood).toBe(limit.logLikelihood);
    // The record's q and γ lie on the ridge: ν's coefficient of variation below 3 %, mean ν.
    expect(fit.params.q).toBeGreaterThan(HOMOGENEOUS_SHAPE);
    expect(fit.params.q / fit.params.gamma).toBeCloseTo(limit.nu, 12);
  });

  it("is the maximum: ν by its closed form, p where the profile's derivative vanishes", () => {
    const X = rows.reduce((sum, row) => sum + row.weight * row.x, 0);
    const S = rows.reduce((sum, row) => sum + row.weight * row.x * row.m, 0);
    expect(limit.p / limit.nu).toBeCloseTo(S / X, 9);
    const at = (p: number, nu: number) => gammaGammaLogLikelihood({ p, q: 1, gamma: 1, nu }, rows);
    expect(at(limit.p, limit.nu)).toBeCloseTo(limit.logLikelihood, 6);
    for (const [dp, dnu] of [[1e-3, 0], [-1e-3, 0], [0, 1e-3], [0, -1e-3], [1e-3, 1e-3]]) {
      expect(at(limit.p * (1 + dp), limit.nu * (1 + dnu))).toBeLessThan(limit.logLikelihood);
    }
  });

  it("reaches at least the likelihood the walk along the ridge reached, in far fewer passes", () => {
    const walked = walk();
    // The walk ends far out on the ridge; the limit is its supremum.
    expect(Math.exp(walked.theta[1])).toBeGreaterThan(1e5);
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(walked.logLikelihood - nestedTolerance(customers));
    // Row by row (no large partial sums), the walk's end is below the limit.
    expect(fit.logLikelihood).toBeGreaterThan(gammaGammaLogLikelihood(walked.params, rows));
    expect(fit.evaluations).toBeLessThan(walked.evaluations / 2);
    // Along the ridge, the Gamma-Gamma likelihood rises to the limit's from below.
    let previous = Number.NEGATIVE_INFINITY;
    for (const q of [1e2, 1e3, 1e4, 1e5, 1e6]) {
      const value = gammaGammaLogLikelihood({ p: limit.p, q, gamma: q / limit.nu }, rows);
      expect(value).toBeGreaterThan(previous);
      expect(value).toBeLessThan(limit.logLikelihood);
      previous = value;
    }
    expect(limit.logLikelihood - previous).toBeLessThan(1e-3);
  });

  it("keeps its digits far out on the ridge: the likelihood there is the limit's plus score/q", () => {
    // First order in 1/q (gamma-gamma-limit.ts); the second order is below 1e-9 at q = 1e7. Formed as
    // q log γ - log Γ(q) + ... the sum lost ~1e-3 here (0.3 at a million customers).
    const { logLikelihood } = gammaGammaLogLikelihoodFunction(rows);
    for (const q of [1e7, 1e8, 1e9]) {
      const value = logLikelihood([Math.log(limit.p), Math.log(q), Math.log(q / limit.nu)]).value;
      expect(Math.abs(value - (limit.logLikelihood + limit.score / q))).toBeLessThan(1e-7);
    }
  });

  it("predicts the limit's mean for every customer", () => {
    const mean = limit.p / limit.nu;
    for (const [x, m] of [[1, 5], [3, 40], [8, 400], [0, 0]]) expect(gammaGammaExpectedValue(fit.params, x, m)).toBe(mean);
    expect(gammaGammaLogLikelihood(fit.params, rows)).toBeCloseTo(fit.logLikelihood, 6);
  });

  it("leaves an interior maximum alone (its score is positive: customers' means spread more)", () => {
    const spread = compressSpendRows(homogeneousSpend(2));
    expect(fitHomogeneousSpend(spread)!.score).toBeGreaterThan(0);
    const interior = fitGammaGamma(spread, { standardErrors: false });
    expect(interior.converged).toBe(true);
    expect(interior.boundary ?? null).toBeNull();
    expect(interior.params.nu).toBeUndefined();
    expect(interior.logLikelihood).toBeGreaterThan(fitHomogeneousSpend(spread)!.logLikelihood);
  });
});

describe("a shop whose spend sits at the homogeneous limit", () => {
  // Repeat buyers' transactions Gamma(4, ν = 0.1) for everyone, as above, on a simulated history.
  const random = new Random(12);
  const customers = simulateBgNbd({ r: 0.6, alpha: 40, a: 0.8, b: 2.5 }, { customers: 3000, seed: 5, grid: 1, age: (u) => Math.floor(365 + u() * 365) });
  const summaries: CustomerSummary[] = customers.map((c, i) => {
    let total = 0;
    for (let k = 0; k < c.frequency; k++) total += random.gamma(4, 1 / 0.1);
    const monetaryValue = c.frequency > 0 ? Math.round((total / c.frequency) * 100) / 100 : 0;
    return { customerId: `c${i}`, orders: c.frequency + 1, frequency: c.frequency, recency: c.recency, T: c.T, monetaryValue, totalSpent: 40 + total, firstDay: 10_000, lastDay: 10_000 + c.recency };
  });
  const result = fitShopModel(summaries, { unit: "day", candidates: ["bgnbd", "mbgnbd"] });
  if (!result.ok) throw new Error(result.reason);
  const json = result.model.toJSON();

  it("stores the limit's ν and its verdict in model.json, and predicts its mean for every buyer", () => {
    const spend = json.gammaGamma!;
    expect(spend.boundary).toMatch(/^expected order value the same for every customer/);
    expect(spend.params.nu).toBeGreaterThan(0);
    const mean = spend.params.p / spend.params.nu!;
    expect(mean).toBeGreaterThan(36);
    expect(mean).toBeLessThan(44);
    for (const s of summaries.slice(0, 50)) expect(result.model.score(s).expectedOrderValue).toBe(mean);
  });

  it("scores the same once model.json is read back", () => {
    const restored = restoreShopModel(JSON.parse(JSON.stringify(json)) as ShopModelJson);
    expect(restored.toJSON().gammaGamma).toEqual(json.gammaGamma);
    for (const s of summaries.slice(0, 200)) expect(restored.score(s)).toEqual(result.model.score(s));
  });
});
