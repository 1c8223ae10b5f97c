import { fitBgNbd } from "./bgnbd";
import { classify, type CountModelSpec, maximizeLikelihood } from "./estimation";
import { cdnowRows } from "./fixtures.testing";
import { hessianFromGradient, invertSpd, minimizeBfgs, type Objective, withNumericalGradient } from "./optimize";

const rosenbrock: Objective = ([x, y]) => ({
  value: (1 - x) ** 2 + 100 * (y - x * x) ** 2,
  gradient: [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)],
});

describe("BFGS", () => {
  it("finds the Rosenbrock minimum from the classic start", () => {
    const result = minimizeBfgs(rosenbrock, [-1.2, 1], { gradientTolerance: 1e-10 });
    expect(result.converged).toBe(true);
    expect(result.x[0]).toBeCloseTo(1, 6);
    expect(result.x[1]).toBeCloseTo(1, 6);
    expect(result.message).toMatch(/^converged/);
  });

  it("works with central-difference gradients", () => {
    const result = minimizeBfgs(withNumericalGradient((x) => rosenbrock(x).value), [-1.2, 1]);
    expect(result.converged).toBe(true);
    expect(result.x[0]).toBeCloseTo(1, 4);
  });

  it("says so when it runs out of iterations", () => {
    const result = minimizeBfgs(rosenbrock, [-1.2, 1], { maxIterations: 3 });
    expect(result.converged).toBe(false);
    expect(result.message).toMatch(/did not converge in 3 iterations/);
  });

  it("says so when the objective is not finite at the start", () => {
    const result = minimizeBfgs(() => ({ value: Number.NaN, gradient: [Number.NaN] }), [0]);
    expect(result.converged).toBe(false);
    expect(result.message).toMatch(/not finite at the starting point/);
  });

  it("backs off from regions where the objective is undefined", () => {
    // Defined only for x < 3, minimum at 2.
    const result = minimizeBfgs(([x]) => (x < 3 ? { value: (x - 2) ** 2, gradient: [2 * (x - 2)] } : { value: Infinity, gradient: [Infinity] }), [-10], {
      maxStep: 100,
    });
    expect(result.converged).toBe(true);
    expect(result.x[0]).toBeCloseTo(2, 8);
  });
});

describe("Hessian and standard errors", () => {
  it("differentiates gradients to the exact Hessian of a quadratic and inverts it", () => {
    const quadratic: Objective = ([x, y]) => ({ value: 2 * x * x + x * y + 3 * y * y, gradient: [4 * x + y, x + 6 * y] });
    const hessian = hessianFromGradient(quadratic, [0.3, -0.2]);
    expect(hessian[0][0]).toBeCloseTo(4, 8);
    expect(hessian[0][1]).toBeCloseTo(1, 8);
    expect(hessian[1][1]).toBeCloseTo(6, 8);
    const inverse = invertSpd(hessian)!;
    expect(inverse[0][0]).toBeCloseTo(6 / 23, 8);
    expect(inverse[0][1]).toBeCloseTo(-1 / 23, 8);
    expect(invertSpd([[1, 2], [2, 1]])).toBeNull();
  });

  it("give the textbook standard error of a Poisson rate, sqrt(λ/n)", () => {
    // n observations summing to S: log L(λ) = S log λ - n λ, so λ̂ = S/n and SE = sqrt(λ̂/n).
    const n = 400;
    const S = 1234;
    const fit = maximizeLikelihood<{ lambda: number }>({
      names: ["lambda"],
      logLikelihood: ([theta]) => {
        const lambda = Math.exp(theta);
        return { value: S * theta - n * lambda, gradient: [S - n * lambda] };
      },
      totalWeight: n,
      distinctRows: 1,
      starts: [[0]],
      options: {},
    });
    expect(fit.converged).toBe(true);
    expect(fit.params.lambda).toBeCloseTo(S / n, 8);
    expect(fit.standardErrors!.lambda).toBeCloseTo(Math.sqrt(S / n / n), 6);
  });
});

describe("model fits report non-convergence", () => {
  it("an iteration cap leaves the fit unconverged, with the reason", () => {
    const fit = fitBgNbd(cdnowRows(), { maxIterations: 2 });
    expect(fit.converged).toBe(false);
    expect(fit.message).toMatch(/did not converge in 2 iterations/);
    expect(fit.standardErrors).toBeNull();
  });

  it("a parameter running off to 1e10 is not an estimate", () => {
    // log L = -exp(-θ): increases forever as θ grows, the gradient fades away.
    const fit = maximizeLikelihood<{ k: number }>({
      names: ["k"],
      logLikelihood: ([theta]) => ({ value: -Math.exp(-theta), gradient: [Math.exp(-theta)] }),
      totalWeight: 1,
      distinctRows: 1,
      starts: [[0]],
      options: { gradientTolerance: 1e-12 },
    });
    expect(fit.converged).toBe(false);
    expect(fit.message).toMatch(/parameter k ran to .*no maximum inside the parameter space/);
  });

  // log L = -exp(-θ) again: from θ = 30, past the bound (23), the gradient is already below tolerance.
  const risingForever = ([theta]: number[]) => ({ value: -Math.exp(-theta), gradient: [Math.exp(-theta)] });

  it("a run that starts past the bound is not kept as converged in the ends the edge verdict reads", () => {
    const fit = maximizeLikelihood<{ k: number }>({ names: ["k"], logLikelihood: risingForever, totalWeight: 1, distinctRows: 1, starts: [[30]], options: {} });
    expect(fit.converged).toBe(false);
    expect(fit.ends).toHaveLength(1);
    expect(fit.ends[0]).toMatchObject({ converged: false, message: expect.stringMatching(/^parameter k ran to 1\.07e\+13: the likelihood has no maximum inside/) });
  });

  it("a run that runs off is named by its parameter, not a coordinate index", () => {
    const fit = maximizeLikelihood<{ k: number }>({ names: ["k"], logLikelihood: risingForever, totalWeight: 1, distinctRows: 1, starts: [[0]], options: { gradientTolerance: 1e-12 } });
    expect(fit.ends.map((end) => end.message)).toEqual([expect.stringMatching(/^parameter k ran to \d\.\d\de\+\d+: /)]);
    expect(fit.ends[0].message).not.toMatch(/coordinate/);
  });
});

describe("the no-drop-out edge verdict", () => {
  // Only what the verdict reads: the NBD's likelihood, each run's end, the customers.
  const spec = { homogeneousAt: () => null } as unknown as CountModelSpec;
  const nbd = { logLikelihood: -1000, params: { r: 1, alpha: 1 } };
  const fitWith = (ends: { theta: number[]; logLikelihood: number; converged: boolean; message: string }[]) =>
    ({ ends, nbd, theta: ends[0].theta, logLikelihood: ends[0].logLikelihood, converged: true, message: ends[0].message, standardErrors: null }) as unknown as Parameters<typeof classify>[1];
  const rows = { totalWeight: 100 } as Parameters<typeof classify>[2];

  it("a run stopped at the edge but better than the NBD by more than the tolerance is no edge verdict", () => {
    const verdict = classify(spec, fitWith([
      { theta: [0, 0, -8, 0], logLikelihood: -990, converged: true, message: "reached the plain-NBD edge (no drop-out)" },
      { theta: [0, 0, 0, 0], logLikelihood: -995, converged: true, message: "converged: interior" },
    ]), rows);
    expect(verdict.boundary).toBeNull();
  });

  it("a run stopped at the edge within the tolerance of the NBD is the edge verdict", () => {
    const verdict = classify(spec, fitWith([{ theta: [0, 0, -8, 0], logLikelihood: -1000 + 5e-5, converged: true, message: "reached the plain-NBD edge (no drop-out)" }]), rows);
    expect(verdict).toMatchObject({ converged: true, effectiveParameters: 2, boundary: { nestedModel: "nbd", nestedLogLikelihood: -1000 } });
  });
});
