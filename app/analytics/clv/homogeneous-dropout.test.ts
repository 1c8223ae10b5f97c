// Issue 16: a shop whose customers all share one drop-out probability gets a model. BG/NBD's
// likelihood then rises toward a, b -> ∞ with a/(a+b) = p: the nested 3-parameter model, named
// as such (like the plain-NBD edge), with the finite stopped point's predictions.
import fc from "fast-check";
import { bgnbdConditionalExpectedPurchases, bgnbdPAlive, fitBgNbd, fitModifiedBgNbd } from "./bgnbd";
import { compressRows } from "./rows";
import { simulateBgNbd } from "./simulate";

/** p = 0.1 for everyone (Beta(1e6, 9e6) has a coefficient of variation of 0.1 %). */
const homogeneous = simulateBgNbd({ r: 0.6, alpha: 40, a: 1e6, b: 9e6 }, { customers: 2000, seed: 2, grid: 1, age: (u) => Math.floor(365 + u() * 365) });

const options = { standardErrors: false };
const UNIT_DAYS = { day: 1, week: 7, month: 365.25 / 12 } as const;

describe("one drop-out probability for every customer", () => {
  const rows = compressRows(homogeneous);
  const reference = fitBgNbd(rows, options);

  it("gets a model named as the homogeneous drop-out limit, with 3 effective parameters", () => {
    expect(reference.converged).toBe(true);
    expect(reference.boundary).toMatchObject({ kind: "homogeneous-dropout", nestedModel: "homogeneous-dropout" });
    expect(reference.boundary?.verdict).toMatch(/^drop-out the same for every customer \(p = 0\.10\d\d\)$/);
    expect(reference.boundary?.nestedParams.p).toBeCloseTo(0.1, 1);
    expect(reference.effectiveParameters).toBe(3);
    expect(reference.message).toMatch(/^drop-out the same for every customer \(p = 0\.10\d\d\) \(log-likelihood -40830\.98/);
    // The limit's likelihood is the stopped point's to within the nested tolerance.
    expect(Math.abs(reference.boundary!.nestedLogLikelihood - reference.logLikelihood)).toBeLessThan(1e-4);
    const modified = fitModifiedBgNbd(rows, options);
    expect(modified.boundary?.kind).toBe("homogeneous-dropout");
    expect(modified.converged).toBe(true);
  });

  it("the same likelihood in every row order and unit", () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(homogeneous, { minLength: homogeneous.length }), fc.constantFrom("day", "week", "month" as const), (shuffled, unit) => {
        const inUnit = compressRows(shuffled.map((c) => ({ ...c, recency: c.recency / UNIT_DAYS[unit], T: c.T / UNIT_DAYS[unit] })));
        const fit = fitBgNbd(inUnit, options);
        const purchases = inUnit.reduce((sum, row) => sum + row.weight * row.x, 0);
        expect(fit.converged).toBe(true);
        expect(fit.boundary?.kind).toBe("homogeneous-dropout");
        expect(Math.abs(fit.logLikelihood - purchases * Math.log(UNIT_DAYS[unit]) - reference.logLikelihood)).toBeLessThan(1e-4);
        expect(fit.boundary!.nestedParams.p).toBeCloseTo(reference.boundary!.nestedParams.p, 4);
        expect(fit.params.alpha * UNIT_DAYS[unit]).toBeCloseTo(reference.params.alpha, 2);
      }),
      { numRuns: 4, seed: 16 },
    );
  });

  it("predicts as the limit does, to 1e-4 relative (not 1e-6: the stopped point's a, b are finite)", () => {
    const { r, alpha, a, b } = reference.params;
    const p = a / (a + b);
    // Closed form at the limit: P(alive) = 1 / (1 + p/(1-p) ((α+T)/(α+t_x))^(r+x)) for x > 0.
    const limitPAlive = (x: number, tx: number, T: number) => (x === 0 ? 1 : 1 / (1 + (p / (1 - p)) * ((alpha + T) / (alpha + tx)) ** (r + x)));
    // Expected purchases: extrapolated from ten times further along the ridge (the error falls
    // like 1/(a+b)); much further, the hypergeometric function loses digits.
    const further = { r, alpha, a: a * 10, b: b * 10 };
    let worstPAlive = 0;
    let worstPurchases = 0;
    for (const row of rows) {
      const pAlive = bgnbdPAlive(reference.params, row.x, row.tx, row.T);
      worstPAlive = Math.max(worstPAlive, Math.abs(pAlive / limitPAlive(row.x, row.tx, row.T) - 1));
      const purchases = bgnbdConditionalExpectedPurchases(reference.params, 90, row.x, row.tx, row.T);
      const next = bgnbdConditionalExpectedPurchases(further, 90, row.x, row.tx, row.T);
      worstPurchases = Math.max(worstPurchases, Math.abs(purchases / (next + (next - purchases) / 9) - 1));
    }
    // Measured: 2.4e-5 for P(alive); the error is about x/b (b = 1.6e6 here, x up to 40).
    expect(worstPAlive).toBeLessThan(1e-4);
    expect(worstPurchases).toBeLessThan(1e-4);
  });
});
