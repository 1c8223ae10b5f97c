// No NaN or Infinity anywhere in the valid domain: x up to 10,000 repeat purchases, T up
// to 20 years in days, a + b < 1, a = 1, s = 1, α far from β, tiny and huge scales.
import { bgbbConditionalExpectedPurchases, bgbbExpectedPurchases, bgbbLogLikelihoodRow, bgbbPAlive, bgbbProbabilityOfPurchases } from "./bgbb";
import { fitBgNbd, fitModifiedBgNbd } from "./bgnbd";
import { type CountModelName, type CountModelParams, countModel } from "./count-model";
import { gammaGammaExpectedValue, gammaGammaLogLikelihoodRow } from "./gamma-gamma";
import { fitParetoNbd } from "./pareto-nbd";
import { type RfRow } from "./rows";

const TWENTY_YEARS = 7300;

const BG_PARAMS: CountModelParams[] = [
  { r: 0.243, alpha: 30.9, a: 0.793, b: 2.426 }, // CDNOW in days
  { r: 0.3, alpha: 20, a: 0.3, b: 0.4 }, // a + b < 1
  { r: 0.3, alpha: 20, a: 1, b: 2 }, // a = 1
  { r: 5, alpha: 0.01, a: 0.05, b: 0.05 }, // tiny scale, a + b far below 1
  { r: 0.01, alpha: 1e4, a: 20, b: 0.5 },
];
const PARETO_PARAMS: CountModelParams[] = [
  { r: 0.5533, alpha: 74.05, s: 0.6062, beta: 81.67 }, // CDNOW in days
  { r: 0.5, alpha: 30, s: 1, beta: 50 }, // s = 1
  { r: 0.5, alpha: 1e4, s: 0.3, beta: 0.01 }, // α ≫ β
  { r: 0.5, alpha: 0.01, s: 3, beta: 1e4 }, // β ≫ α
  { r: 20, alpha: 5, s: 0.05, beta: 2 },
];
const HISTORIES: [number, number, number][] = [
  [0, 0, 0],
  [0, 0, TWENTY_YEARS],
  [1, 0.5, TWENTY_YEARS],
  [50, 7000, TWENTY_YEARS],
  [10_000, TWENTY_YEARS, TWENTY_YEARS],
  [10_000, 3650, TWENTY_YEARS],
  [10_000, 1, 2],
];
const HORIZONS = [0, 1, 90, 365, TWENTY_YEARS];

function finiteIn(value: number, lo: number, hi: number, what: string): void {
  if (!Number.isFinite(value) || value < lo - 1e-12 || value > hi + 1e-12) throw new Error(`${what} = ${value} is not in [${lo}, ${hi}]`);
}

describe.each([
  ["bgnbd", BG_PARAMS],
  ["mbgnbd", BG_PARAMS],
  ["paretonbd", PARETO_PARAMS],
] as [CountModelName, CountModelParams[]][])("%s at the extremes", (name, paramSets) => {
  it.each(paramSets.map((params) => [JSON.stringify(params), params]))("stays finite at %s", (_label, params) => {
    const model = countModel(name, params as CountModelParams);
    for (const t of HORIZONS) {
      finiteIn(model.expectedPurchases(t), 0, Infinity, `E[X(${t})]`);
      for (const n of [0, 1, 5]) finiteIn(model.probabilityOfPurchases(n, Math.max(t, 1)), 0, 1, `P(X(${t}) = ${n})`);
    }
    for (const [x, tx, T] of HISTORIES) {
      const what = `(x=${x}, t_x=${tx}, T=${T})`;
      finiteIn(model.logLikelihoodRow(x, tx, T), -Infinity, Infinity, `log-likelihood ${what}`);
      finiteIn(model.pAlive(x, tx, T), 0, 1, `P(alive) ${what}`);
      for (const t of HORIZONS) {
        finiteIn(model.conditionalExpectedPurchases(t, x, tx, T), 0, Infinity, `E[Y(${t})] ${what}`);
        finiteIn(model.probabilityOfPurchaseWithin(t, x, tx, T), 0, 1, `P(purchase within ${t}) ${what}`);
      }
      const wait = model.timeToPurchase(x, tx, T);
      if (wait !== null) finiteIn(wait, 0, Infinity, `median wait ${what}`);
    }
  });
});

describe("fits with extreme customers", () => {
  const rows: RfRow[] = [
    { x: 0, tx: 0, T: 10, weight: 300 },
    { x: 0, tx: 0, T: TWENTY_YEARS, weight: 40 },
    { x: 1, tx: 3, T: 100, weight: 50 },
    { x: 3, tx: 200, T: 900, weight: 30 },
    { x: 12, tx: 3000, T: 5000, weight: 10 },
    { x: 10_000, tx: TWENTY_YEARS, T: TWENTY_YEARS, weight: 1 },
    { x: 400, tx: 2000, T: TWENTY_YEARS, weight: 2 },
  ];

  it.each([
    ["BG/NBD", fitBgNbd],
    ["modified BG/NBD", fitModifiedBgNbd],
    ["Pareto/NBD", fitParetoNbd],
  ] as const)("%s converges to a finite optimum", (_name, fit) => {
    const result = fit(rows);
    expect(result.converged).toBe(true);
    expect(Number.isFinite(result.logLikelihood)).toBe(true);
    for (const value of Object.values(result.params)) expect(Number.isFinite(value) && value > 0).toBe(true);
  });
});

describe("spend and discrete models at the extremes", () => {
  it("Gamma-Gamma stays finite for x = 10,000 and extreme spend", () => {
    for (const params of [
      { p: 6.25, q: 3.74, gamma: 15.44 },
      { p: 0.01, q: 1.01, gamma: 1e-3 },
      { p: 500, q: 500, gamma: 1e6 },
    ]) {
      for (const [x, m] of [
        [1, 0.01],
        [10_000, 1e-6],
        [10_000, 1e7],
        [3, 35],
      ]) {
        finiteIn(gammaGammaLogLikelihoodRow(params, x, m), -Infinity, Infinity, "Gamma-Gamma log-likelihood");
        finiteIn(gammaGammaExpectedValue(params, x, m)!, 0, Infinity, "E[M]");
      }
    }
  });

  it("BG/BB stays finite with hundreds of opportunities", () => {
    const params = { alpha: 0.05, beta: 30, gamma: 0.01, delta: 0.02 };
    for (const [x, tx, n] of [
      [0, 0, 500],
      [500, 500, 500],
      [3, 400, 500],
    ]) {
      finiteIn(bgbbLogLikelihoodRow(params, x, tx, n), -Infinity, 0, "BG/BB log-likelihood");
      finiteIn(bgbbPAlive(params, x, tx, n), 0, 1, "BG/BB P(alive)");
      finiteIn(bgbbConditionalExpectedPurchases(params, 100, x, tx, n), 0, Infinity, "BG/BB conditional expectation");
    }
    finiteIn(bgbbExpectedPurchases(params, 500), 0, 500, "BG/BB E[X(n)]");
    finiteIn(bgbbProbabilityOfPurchases(params, 250, 500), 0, 1, "BG/BB P(X(n) = x)");
  });
});
