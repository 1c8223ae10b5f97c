import { cdnowSpendCustomers, expectRecovered, relativeError } from "./fixtures.testing";
import {
  compressSpendRows,
  fitGammaGamma,
  gammaGammaExpectedValue,
  gammaGammaLogLikelihood,
  gammaGammaLogLikelihoodRow,
  spendFrequencyCorrelation,
} from "./gamma-gamma";
import { Random } from "../random";

describe("Gamma-Gamma on CDNOW: docs/CLV-REFERENCE.md", () => {
  const customers = cdnowSpendCustomers();
  const rows = compressSpendRows(customers.map((c) => ({ frequency: c.x, monetaryValue: c.zbar })));
  const fit = fitGammaGamma(rows);

  it("uses the 946 customers with x > 0", () => {
    expect(rows.reduce((sum, row) => sum + row.weight, 0)).toBe(946);
    expect(fit.customers).toBe(946);
  });

  it("finds p, q, gamma within 2e-3 relative of 6.2488, 3.7446, 15.4477", () => {
    expect(fit.converged).toBe(true);
    expect(relativeError(fit.params.p, 6.2488)).toBeLessThan(2e-3);
    expect(relativeError(fit.params.q, 3.7446)).toBeLessThan(2e-3);
    expect(relativeError(fit.params.gamma, 15.4477)).toBeLessThan(2e-3);
  });

  it("reaches log-likelihood -4055.92 (density of the mean)", () => {
    expect(Math.abs(fit.logLikelihood - -4055.92)).toBeLessThan(0.01);
    expect(gammaGammaLogLikelihood(fit.params, rows)).toBeCloseTo(fit.logLikelihood, 8);
  });

  it("gives E[M | x, m] for customers 1..10 within 0.1", () => {
    const expected = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17];
    customers.slice(0, 10).forEach((c, i) => {
      expect(c.id).toBe(i + 1);
      expect(Math.abs(gammaGammaExpectedValue(fit.params, c.x, c.zbar)! - expected[i])).toBeLessThan(0.1);
    });
  });

  it("reports the frequency-spend correlation the model assumes away (0.11 on CDNOW)", () => {
    expect(spendFrequencyCorrelation(rows)).toBeCloseTo(0.1139, 3);
  });
});

describe("Gamma-Gamma behaviour", () => {
  const params = { p: 6.25, q: 3.74, gamma: 15.44 };

  it("shrinks a customer's mean toward the population mean, less so with more purchases", () => {
    const population = (params.p * params.gamma) / (params.q - 1);
    expect(gammaGammaExpectedValue(params, 0, 0)).toBeCloseTo(population, 12);
    const few = gammaGammaExpectedValue(params, 1, 100)!;
    const many = gammaGammaExpectedValue(params, 50, 100)!;
    expect(few).toBeGreaterThan(population);
    expect(few).toBeLessThan(100);
    expect(Math.abs(many - 100)).toBeLessThan(Math.abs(few - 100));
  });

  it("has no expected value when q <= 1 (infinite population mean)", () => {
    expect(gammaGammaExpectedValue({ ...params, q: 0.9 }, 3, 20)).toBeNull();
  });

  it("leaves out customers it cannot use and rejects bad rows given directly", () => {
    const rows = compressSpendRows([
      { frequency: 0, monetaryValue: 0 },
      { frequency: 2, monetaryValue: -5 },
      { frequency: 2, monetaryValue: 10 },
      { frequency: 2, monetaryValue: 10 },
    ]);
    expect(rows).toEqual([{ x: 2, m: 10, weight: 2 }]);
    expect(() => gammaGammaLogLikelihoodRow(params, 0, 10)).toThrow(/>= 1/);
    expect(() => fitGammaGamma([])).toThrow(/at least one/);
  });

  it("recovers simulated parameters within 4 standard errors", () => {
    const truth = { p: 4, q: 5, gamma: 40 };
    const random = new Random(5);
    const customers = Array.from({ length: 5000 }, () => {
      const nu = random.gamma(truth.q, 1 / truth.gamma);
      const x = 1 + Math.floor(random.next() * 8);
      let total = 0;
      for (let i = 0; i < x; i++) total += random.gamma(truth.p, 1 / nu);
      return { frequency: x, monetaryValue: total / x };
    });
    const fit = fitGammaGamma(compressSpendRows(customers));
    expectRecovered(fit, truth);
  });
});
