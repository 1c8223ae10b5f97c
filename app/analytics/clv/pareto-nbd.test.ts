import {
  calendarHorizonGap,
  cdnowRows,
  distributionMoments,
  expectRecovered,
  fitInWeeksAndDays,
  gradientMismatch,
  relativeError,
} from "./fixtures.testing";
import {
  fitParetoNbd,
  type ParetoNbdParams,
  paretoNbdConditionalExpectedPurchases,
  paretoNbdExpectedPurchases,
  paretoNbdLogLikelihood,
  paretoNbdLogLikelihoodRow,
  paretoNbdPAlive,
  paretoNbdProbabilityOfPurchases,
  paretoNbdProbabilityOfPurchaseWithin,
  paretoNbdSpec,
  paretoNbdTimeToPurchase,
} from "./pareto-nbd";
import { compressRows, prepareRows } from "./rows";
import { simulateParetoNbd } from "./simulate";

const PUBLISHED: ParetoNbdParams = { r: 0.5533, alpha: 10.578, s: 0.6062, beta: 11.667 };
const AT: ParetoNbdParams = { r: 0.5534, alpha: 10.5802, s: 0.6061, beta: 11.6562 };

describe("Pareto/NBD on CDNOW (weeks): docs/CLV-REFERENCE.md", () => {
  const rows = cdnowRows();
  const fit = fitParetoNbd(rows);

  it("finds r, alpha, s within 1e-3 relative and beta within 0.2 %", () => {
    expect(fit.converged).toBe(true);
    expect(relativeError(fit.params.r, PUBLISHED.r)).toBeLessThan(1e-3);
    expect(relativeError(fit.params.alpha, PUBLISHED.alpha)).toBeLessThan(1e-3);
    expect(relativeError(fit.params.s, PUBLISHED.s)).toBeLessThan(1e-3);
    expect(relativeError(fit.params.beta, PUBLISHED.beta)).toBeLessThan(2e-3);
  });

  it("reaches log-likelihood -9594.98 (within 0.01)", () => {
    expect(Math.abs(fit.logLikelihood - -9594.98)).toBeLessThan(0.01);
    expect(paretoNbdLogLikelihood(fit.params, rows)).toBeCloseTo(fit.logLikelihood, 8);
  });

  it("gives P(alive | x=26, t_x=30.86, T=31) = 0.9979 and E[Y(52)] = 25.46 at the published parameters", () => {
    expect(Math.abs(paretoNbdPAlive(AT, 26, 30.86, 31) - 0.9979)).toBeLessThan(1e-3);
    expect(Math.abs(paretoNbdConditionalExpectedPurchases(AT, 52, 26, 30.86, 31) - 25.46)).toBeLessThan(0.01);
  });

  it("has an analytic gradient that matches central differences, for alpha above and below beta", () => {
    const logLikelihood = paretoNbdSpec.logLikelihood(prepareRows(rows));
    for (const theta of [
      [-0.59, 2.36, -0.5, 2.46],
      [0.5, 1, 0.2, 3],
      [-1, 3, 1, 0.5],
    ]) {
      expect(gradientMismatch(logLikelihood, theta)).toBeLessThan(1e-5);
    }
  });

  it("has a standard error for every parameter", () => {
    const se = fit.standardErrors!;
    for (const key of ["r", "alpha", "s", "beta"] as const) expect(se[key]).toBeGreaterThan(0);
    // beta is the weakly identified one: by far the widest relative interval.
    expect(se.beta / fit.params.beta).toBeGreaterThan(se.alpha / fit.params.alpha);
  });
});

describe("Pareto/NBD probabilities and timing", () => {
  const params = AT;

  it("P(X(t) = n) sums to 1 and its mean is E[X(t)]", () => {
    for (const t of [1, 39]) {
      const { total, mean } = distributionMoments((n) => paretoNbdProbabilityOfPurchases(params, n, t), 300);
      expect(total).toBeCloseTo(1, 8);
      expect(mean).toBeCloseTo(paretoNbdExpectedPurchases(params, t), 5);
    }
  });

  it("E[Y(t)] for a customer with no history equals E[X(t)]", () => {
    expect(paretoNbdConditionalExpectedPurchases(params, 52, 0, 0, 0)).toBeCloseTo(paretoNbdExpectedPurchases(params, 52), 12);
  });

  it("is continuous at s = 1", () => {
    const below = paretoNbdExpectedPurchases({ ...params, s: 1 - 1e-9 }, 52);
    const at = paretoNbdExpectedPurchases({ ...params, s: 1 }, 52);
    const above = paretoNbdExpectedPurchases({ ...params, s: 1 + 1e-9 }, 52);
    expect(Math.abs(below - at)).toBeLessThan(1e-7);
    expect(Math.abs(above - at)).toBeLessThan(1e-7);
  });

  it("the median wait gives P(a purchase within it) = 1/2", () => {
    const wait = paretoNbdTimeToPurchase(params, 26, 30.86, 31)!;
    expect(wait).toBeGreaterThan(0);
    expect(paretoNbdProbabilityOfPurchaseWithin(params, wait, 26, 30.86, 31)).toBeCloseTo(0.5, 8);
    // P(a purchase within t) agrees with 1 - P(no purchase) from P(X(t) = 0) for a new customer.
    expect(paretoNbdProbabilityOfPurchaseWithin(params, 10, 0, 0, 0)).toBeCloseTo(1 - paretoNbdProbabilityOfPurchases(params, 0, 10), 10);
  });

  it("has no median wait for a customer who has probably lapsed", () => {
    expect(paretoNbdPAlive(params, 1, 1, 38)).toBeLessThan(0.5);
    expect(paretoNbdTimeToPurchase(params, 1, 1, 38)).toBeNull();
  });
});

describe("Pareto/NBD time unit", () => {
  const { weeks, inWeeks, inDays } = fitInWeeksAndDays(fitParetoNbd);

  it("rescales alpha and beta by 7 and leaves r and s alone", () => {
    expect(relativeError(inDays.params.alpha, 7 * inWeeks.params.alpha)).toBeLessThan(1e-4);
    expect(relativeError(inDays.params.beta, 7 * inWeeks.params.beta)).toBeLessThan(1e-3);
    expect(relativeError(inDays.params.r, inWeeks.params.r)).toBeLessThan(1e-4);
    expect(relativeError(inDays.params.s, inWeeks.params.s)).toBeLessThan(1e-4);
    const repeatPurchases = weeks.reduce((sum, c) => sum + c.frequency, 0);
    expect(inDays.logLikelihood).toBeCloseTo(inWeeks.logLikelihood - repeatPurchases * Math.log(7), 4);
  });

  it("keeps calendar-horizon predictions", () => {
    const gap = calendarHorizonGap(
      (t, x, tx, T) => paretoNbdConditionalExpectedPurchases(inWeeks.params, t, x, tx, T),
      (t, x, tx, T) => paretoNbdConditionalExpectedPurchases(inDays.params, t, x, tx, T),
    );
    expect(gap).toBeLessThan(1e-4);
  });

  it("the row likelihood shifts by exactly x log 7 at scaled parameters", () => {
    const scaled = { ...AT, alpha: AT.alpha * 7, beta: AT.beta * 7 };
    expect(paretoNbdLogLikelihoodRow(scaled, 5, 20 * 7, 30 * 7)).toBeCloseTo(paretoNbdLogLikelihoodRow(AT, 5, 20, 30) - 5 * Math.log(7), 10);
  });
});

describe("Pareto/NBD parameter recovery", () => {
  it("recovers known parameters from 20,000 simulated customers within 4 standard errors", () => {
    const truth: ParetoNbdParams = { r: 0.6, alpha: 8, s: 0.8, beta: 12 };
    const customers = simulateParetoNbd(truth, { customers: 20_000, seed: 11, age: (u) => 30 + 70 * u() });
    const fit = fitParetoNbd(compressRows(customers));
    expectRecovered(fit, truth);
    expect(relativeError(fit.params.r / fit.params.alpha, truth.r / truth.alpha)).toBeLessThan(0.05);
  });
});
