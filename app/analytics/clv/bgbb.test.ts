import {
  bgbbConditionalExpectedPurchases,
  bgbbExpectedPurchases,
  bgbbLogLikelihood,
  bgbbPAlive,
  bgbbProbabilityOfPurchases,
  fitBgBb,
} from "./bgbb";
import { distributionMoments, donationRows, expectCloseTo } from "./fixtures.testing";

describe("BG/BB on the donations data: docs/CLV-REFERENCE.md", () => {
  const rows = donationRows();
  const fit = fitBgBb(rows);

  it("reads 11,104 donors in 22 patterns with 6 opportunities", () => {
    expect(rows).toHaveLength(22);
    expect(rows.reduce((sum, row) => sum + row.weight, 0)).toBe(11104);
    expect(rows.every((row) => row.n === 6)).toBe(true);
  });

  it("finds alpha, beta, gamma, delta = 1.204, 0.750, 0.657, 2.783 and log-likelihood -33225.58", () => {
    expect(fit.converged).toBe(true);
    expectCloseTo(fit.params, { alpha: 1.204, beta: 0.75, gamma: 0.657, delta: 2.783 });
    expect(Math.abs(fit.logLikelihood - -33225.58)).toBeLessThan(0.01);
    expect(bgbbLogLikelihood(fit.params, rows)).toBeCloseTo(fit.logLikelihood, 8);
  });

  it("P(X(n) = x) is a distribution with mean E[X(n)], matching the fitted pattern counts", () => {
    const { total, mean } = distributionMoments((x) => bgbbProbabilityOfPurchases(fit.params, x, 6), 7);
    expect(total).toBeCloseTo(1, 12);
    expect(mean).toBeCloseTo(bgbbExpectedPurchases(fit.params, 6), 12);
    // The model's share of zero-donation donors is close to the observed 3464 / 11104.
    expect(bgbbProbabilityOfPurchases(fit.params, 0, 6)).toBeCloseTo(3464 / 11104, 2);
  });

  it("a donor with no history expects what a new donor expects", () => {
    expect(bgbbConditionalExpectedPurchases(fit.params, 6, 0, 0, 0)).toBeCloseTo(bgbbExpectedPurchases(fit.params, 6), 12);
  });

  it("recent, frequent donors are more likely alive and expect more", () => {
    expect(bgbbPAlive(fit.params, 6, 6, 6)).toBeGreaterThan(bgbbPAlive(fit.params, 1, 1, 6));
    expect(bgbbConditionalExpectedPurchases(fit.params, 5, 6, 6, 6)).toBeGreaterThan(bgbbConditionalExpectedPurchases(fit.params, 5, 1, 1, 6));
  });

  it("is continuous at gamma = 1", () => {
    const near = bgbbConditionalExpectedPurchases({ ...fit.params, gamma: 1 + 1e-6 }, 5, 2, 4, 6);
    const at = bgbbConditionalExpectedPurchases({ ...fit.params, gamma: 1 }, 5, 2, 4, 6);
    expect(Math.abs(near - at)).toBeLessThan(1e-5);
  });

  it("rejects impossible patterns", () => {
    expect(() => fitBgBb([{ x: 3, tx: 2, n: 6, weight: 1 }])).toThrow(/more than the recency/);
    expect(() => bgbbPAlive(fit.params, 1, 7, 6)).toThrow(/after the last period/);
  });
});
