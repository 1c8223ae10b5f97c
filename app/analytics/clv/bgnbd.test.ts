import {
  type BgNbdParams,
  bgnbdConditionalExpectedPurchases,
  bgnbdExpectedPurchases,
  bgnbdLogLikelihood,
  bgnbdLogLikelihoodRow,
  bgnbdPAlive,
  bgnbdProbabilityOfPurchases,
  bgnbdProbabilityOfPurchaseWithin,
  bgnbdSpec,
  bgnbdTimeToPurchase,
  fitBgNbd,
  fitModifiedBgNbd,
  modifiedBgnbdConditionalExpectedPurchases,
  modifiedBgnbdExpectedPurchases,
  modifiedBgnbdPAlive,
  modifiedBgnbdProbabilityOfPurchases,
  modifiedBgnbdSpec,
} from "./bgnbd";
import {
  calendarHorizonGap,
  cdnowCustomers,
  cdnowRows,
  distributionMoments,
  expectCloseTo,
  expectRecovered,
  fitInWeeksAndDays,
  gradientMismatch,
  relativeError,
} from "./fixtures.testing";
import { compressRows, prepareRows } from "./rows";
import { simulateBgNbd } from "./simulate";

const PAPER: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
const PRECISE_OPTIMUM: BgNbdParams = { r: 0.242593, alpha: 4.413532, a: 0.792886, b: 2.425752 };

describe("BG/NBD on CDNOW (weeks): docs/CLV-REFERENCE.md", () => {
  const customers = cdnowCustomers();
  const rows = cdnowRows();
  const fit = fitBgNbd(rows);

  it("compresses 2,357 customers to 1,016 distinct rows", () => {
    expect(customers).toHaveLength(2357);
    expect(rows).toHaveLength(1016);
    expect(fit.customers).toBe(2357);
    expect(fit.distinctRows).toBe(1016);
  });

  it("finds r, alpha, a, b within 1e-3 relative of the published optimum", () => {
    expect(fit.converged).toBe(true);
    for (const key of ["r", "alpha", "a", "b"] as const) {
      expect(relativeError(fit.params[key], PRECISE_OPTIMUM[key])).toBeLessThan(1e-3);
    }
  });

  it("reaches log-likelihood -9582.43 (within 0.01)", () => {
    expect(Math.abs(fit.logLikelihood - -9582.43)).toBeLessThan(0.01);
    expect(bgnbdLogLikelihood(fit.params, rows)).toBeCloseTo(fit.logLikelihood, 8);
  });

  it("reports standard errors from the observed information", () => {
    expect(fit.standardErrors).not.toBeNull();
    const se = fit.standardErrors!;
    // lifetimes 0.11.3 reports 0.0126, 0.3782, 0.1857, 0.7053 for these data.
    expect(se.r).toBeCloseTo(0.0126, 3);
    expect(se.alpha).toBeCloseTo(0.378, 2);
    expect(se.a).toBeCloseTo(0.186, 2);
    expect(se.b).toBeCloseTo(0.705, 2);
  });

  it("gives the published per-customer log-likelihoods at r=0.25, alpha=4, a=0.8, b=2.5, T=40", () => {
    const params = { r: 0.25, alpha: 4, a: 0.8, b: 2.5 };
    expect(Math.abs(bgnbdLogLikelihoodRow(params, 0, 0, 40) - -0.59947382)).toBeLessThan(1e-6);
    // Published to 4 decimals (Hardie's note 027, pymc-marketing's test): within its rounding interval.
    expect(Math.abs(bgnbdLogLikelihoodRow(params, 200, 38, 40) - 100.7957)).toBeLessThan(5e-5);
  });

  it("gives E[X(t)] at t = 0.1429, 1, 3, 31.8571, 32, 78 within 1e-3", () => {
    const expected = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576];
    [0.1429, 1, 3, 31.8571, 32, 78].forEach((t, i) => {
      expect(Math.abs(bgnbdExpectedPurchases(fit.params, t) - expected[i])).toBeLessThan(1e-3);
    });
  });

  it("gives E[Y(39) | x=2, t_x=30.43, T=38.86] = 1.2259 and P(alive) = 0.7266", () => {
    expect(Math.abs(bgnbdConditionalExpectedPurchases(fit.params, 39, 2, 30.43, 38.86) - 1.2259)).toBeLessThan(1e-3);
    expect(Math.abs(bgnbdPAlive(fit.params, 2, 30.43, 38.86) - 0.7266)).toBeLessThan(1e-3);
  });

  it("sums E[Y(39)] over the 2,357 customers to 1653.42 (actual holdout: 1882)", () => {
    const total = customers.reduce((sum, c) => sum + bgnbdConditionalExpectedPurchases(fit.params, 39, c.frequency, c.recency, c.T), 0);
    expect(Math.abs(total - 1653.42)).toBeLessThan(0.1);
  });

  it("gives P(X(39) = 0) = 0.5737864 at the paper's parameters", () => {
    expect(Math.abs(bgnbdProbabilityOfPurchases(PAPER, 0, 39) - 0.5737864)).toBeLessThan(1e-6);
  });

  it("fits the same optimum on the uncompressed customers", () => {
    const uncompressed = customers.map((c) => ({ x: c.frequency, tx: c.recency, T: c.T, weight: 1 }));
    const direct = fitBgNbd(uncompressed, { standardErrors: false });
    expect(direct.logLikelihood).toBeCloseTo(fit.logLikelihood, 6);
    for (const key of ["r", "alpha", "a", "b"] as const) expect(relativeError(direct.params[key], fit.params[key])).toBeLessThan(1e-5);
  });

  it("has an analytic gradient that matches central differences", () => {
    const prepared = prepareRows(rows);
    for (const spec of [bgnbdSpec, modifiedBgnbdSpec]) {
      const logLikelihood = spec.logLikelihood(prepared);
      for (const theta of [[0, 1, -0.2, 0.9], [-1.4, 1.5, 0.3, -0.5], [1, 3, -2, 2]]) {
        expect(gradientMismatch(logLikelihood, theta)).toBeLessThan(1e-5);
      }
    }
  });
});

describe("BG/NBD probabilities and timing", () => {
  const params = PRECISE_OPTIMUM;

  it("P(X(t) = n) sums to 1 and its mean is E[X(t)]", () => {
    for (const t of [1, 39, 78]) {
      const { total, mean } = distributionMoments((n) => bgnbdProbabilityOfPurchases(params, n, t), 1000);
      expect(total).toBeCloseTo(1, 9);
      expect(mean).toBeCloseTo(bgnbdExpectedPurchases(params, t), 6);
    }
  });

  it("P(a purchase within t) rises to P(alive) and the median wait hits 1/2 exactly", () => {
    const pAlive = bgnbdPAlive(params, 5, 30, 38);
    expect(bgnbdProbabilityOfPurchaseWithin(params, 1e9, 5, 30, 38)).toBeCloseTo(pAlive, 6);
    const wait = bgnbdTimeToPurchase(params, 5, 30, 38)!;
    expect(wait).toBeGreaterThan(0);
    expect(bgnbdProbabilityOfPurchaseWithin(params, wait, 5, 30, 38)).toBeCloseTo(0.5, 10);
    // A customer who has likely dropped out has no median wait.
    expect(bgnbdPAlive(params, 5, 2, 38)).toBeLessThan(0.5);
    expect(bgnbdTimeToPurchase(params, 5, 2, 38)).toBeNull();
  });

  it("treats x = 0 customers as alive", () => {
    expect(bgnbdPAlive(params, 0, 0, 38)).toBe(1);
  });

  it("rejects impossible histories and parameters", () => {
    expect(() => bgnbdPAlive(params, 2, 40, 38)).toThrow(/smaller than recency/);
    expect(() => bgnbdPAlive(params, 0, 3, 38)).toThrow(/must be 0/);
    expect(() => bgnbdPAlive({ ...params, a: -1 }, 1, 1, 2)).toThrow(/positive/);
  });
});

describe("modified BG/NBD on CDNOW: docs/CLV-REFERENCE.md", () => {
  const rows = cdnowRows();
  const fit = fitModifiedBgNbd(rows);

  it("finds r, alpha, a, b = 0.525, 6.183, 0.891, 1.614 (3 dp) and log-likelihood -9582.13", () => {
    expect(fit.converged).toBe(true);
    expectCloseTo(fit.params, { r: 0.525, alpha: 6.183, a: 0.891, b: 1.614 });
    expect(Math.abs(fit.logLikelihood - -9582.13)).toBeLessThan(0.01);
  });

  it("does not treat x = 0 customers as certainly alive: b/(a+b) at T = 0, then falling with T", () => {
    const { a, b } = fit.params;
    expect(modifiedBgnbdPAlive(fit.params, 0, 0, 0)).toBeCloseTo(b / (a + b), 12);
    const ages = [0, 1, 10, 38, 100];
    const alive = ages.map((T) => modifiedBgnbdPAlive(fit.params, 0, 0, T));
    for (let i = 1; i < alive.length; i++) expect(alive[i]).toBeLessThan(alive[i - 1]);
  });

  it("P(X(t) = n) sums to 1 with mean E[X(t)]", () => {
    const { total, mean } = distributionMoments((n) => modifiedBgnbdProbabilityOfPurchases(fit.params, n, 39), 400);
    expect(total).toBeCloseTo(1, 9);
    expect(mean).toBeCloseTo(modifiedBgnbdExpectedPurchases(fit.params, 39), 6);
  });

  it("predicts holdout purchases in the same range as BG/NBD", () => {
    const customers = cdnowCustomers();
    const total = customers.reduce((sum, c) => sum + modifiedBgnbdConditionalExpectedPurchases(fit.params, 39, c.frequency, c.recency, c.T), 0);
    expect(total).toBeGreaterThan(1500);
    expect(total).toBeLessThan(1900);
  });
});

describe("BG/NBD time unit", () => {
  const { weeks, inWeeks, inDays } = fitInWeeksAndDays(fitBgNbd);

  it("rescales alpha by 7 and leaves r, a, b alone", () => {
    expect(relativeError(inDays.params.alpha, 7 * inWeeks.params.alpha)).toBeLessThan(1e-5);
    for (const key of ["r", "a", "b"] as const) expect(relativeError(inDays.params[key], inWeeks.params[key])).toBeLessThan(1e-5);
  });

  it("keeps calendar-horizon predictions", () => {
    const gap = calendarHorizonGap(
      (t, x, tx, T) => bgnbdConditionalExpectedPurchases(inWeeks.params, t, x, tx, T),
      (t, x, tx, T) => bgnbdConditionalExpectedPurchases(inDays.params, t, x, tx, T),
    );
    expect(gap).toBeLessThan(1e-5);
    expect(bgnbdExpectedPurchases(inDays.params, 7 * 52)).toBeCloseTo(bgnbdExpectedPurchases(inWeeks.params, 52), 5);
  });

  it("reports the log-likelihood in the unit used: a density of x purchase times shifts by x log 7", () => {
    const repeatPurchases = weeks.reduce((sum, c) => sum + c.frequency, 0);
    expect(inDays.logLikelihood).toBeCloseTo(inWeeks.logLikelihood - repeatPurchases * Math.log(7), 5);
  });
});

describe("BG/NBD parameter recovery", () => {
  it("recovers known parameters from 20,000 simulated customers within 4 standard errors", () => {
    const truth: BgNbdParams = { r: 0.4, alpha: 5, a: 0.9, b: 3 };
    const customers = simulateBgNbd(truth, { customers: 20_000, seed: 42, age: (u) => 20 + 60 * u() });
    const fit = fitBgNbd(compressRows(customers));
    expectRecovered(fit, truth);
    for (const key of ["r", "alpha", "a", "b"] as const) expect(relativeError(fit.params[key], truth[key])).toBeLessThan(0.25);
  });

  it("recovers them from day-grid data too (same-day purchases merged)", () => {
    const truth: BgNbdParams = { r: 0.3, alpha: 4, a: 0.8, b: 2.5 };
    const customers = simulateBgNbd(truth, { customers: 20_000, seed: 9, grid: 1 / 7, age: (u) => Math.ceil(u() * 365) / 7 });
    const fit = fitBgNbd(compressRows(customers));
    expect(fit.converged).toBe(true);
    // Merging same-day purchases biases rates slightly down; allow for it on r/alpha.
    expect(relativeError(fit.params.r / fit.params.alpha, truth.r / truth.alpha)).toBeLessThan(0.1);
    expect(relativeError(fit.params.a / (fit.params.a + fit.params.b), truth.a / (truth.a + truth.b))).toBeLessThan(0.15);
  });
});
