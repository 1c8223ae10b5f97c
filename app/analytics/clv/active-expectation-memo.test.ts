// The BG/NBD family remembers its expectation while active per (x, T, t) and parameter set
// (bgnbd.ts, activeExpectation). Whatever order the questions come in, and whichever of
// the two models asks, each answer must be the one computed afresh.
import { bgnbdConditionalExpectedPurchases, bgnbdPAlive, modifiedBgnbdConditionalExpectedPurchases, modifiedBgnbdPAlive } from "./bgnbd";
import { expectedWhileActive } from "./mixtures";

const CDNOW = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
const OTHER = { r: 0.5, alpha: 3, a: 1.2, b: 4 };

function direct(params: typeof CDNOW, modified: boolean, t: number, x: number, tx: number, T: number): number {
  const extra = modified ? 1 : 0;
  const pAlive = modified ? modifiedBgnbdPAlive(params, x, tx, T) : bgnbdPAlive(params, x, tx, T);
  return pAlive * expectedWhileActive(params.r + x, params.alpha + T, params.a, params.b + x + extra, t);
}

describe("expectation while active, remembered", () => {
  it("answers as computed afresh, with the two models and two parameter sets interleaved", () => {
    const questions: [number, number, number, number][] = [];
    for (let x = 0; x <= 4; x++) {
      for (const T of [10, 38.5714285714, 39, 52.142857142857146]) {
        for (const t of [1, 12.857142857142858, 52.142857142857146]) questions.push([t, x, x === 0 ? 0 : T / 2, T]);
      }
    }
    // Twice over, so the second pass reads what the first remembered; x and x + 1 with the
    // modified model's extra survival must never share an entry.
    for (let pass = 0; pass < 2; pass++) {
      for (const params of [CDNOW, OTHER, CDNOW]) {
        for (const [t, x, tx, T] of questions) {
          expect(bgnbdConditionalExpectedPurchases(params, t, x, tx, T)).toBe(direct(params, false, t, x, tx, T));
          expect(modifiedBgnbdConditionalExpectedPurchases(params, t, x, tx, T)).toBe(direct(params, true, t, x, tx, T));
          expect(bgnbdConditionalExpectedPurchases(params, t, x + 1, tx, T)).toBe(direct(params, false, t, x + 1, tx, T));
        }
      }
    }
  });
});
