import fc from "fast-check";
import {
  histogram,
  histogramOfCounts,
  mean,
  meanOfCounts,
  median,
  quantile,
  quantileOfCounts,
  quantileSorted,
} from "./stats";

describe("quantile (type 7)", () => {
  it("interpolates between order statistics", () => {
    // sorted [1, 2, 3, 4]: h = 3 * 0.5 = 1.5 -> 2 + 0.5 * (3 - 2)
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    // sorted [1, 7, 10]: h = 2 * 0.25 = 0.5 -> 1 + 0.5 * (7 - 1)
    expect(quantile([10, 1, 7], 0.25)).toBe(4);
    // h = 2 * 0.9 = 1.8 -> 7 + 0.8 * 3
    expect(quantile([10, 1, 7], 0.9)).toBeCloseTo(9.4, 12);
  });

  it("gives the extremes at 0 and 1 and the middle value as the median", () => {
    expect(quantile([5, 3, 9], 0)).toBe(3);
    expect(quantile([5, 3, 9], 1)).toBe(9);
    expect(median([5, 3, 9])).toBe(5);
    expect(median([4, 1])).toBe(2.5);
    expect(median([42])).toBe(42);
  });

  it("returns null for no values and rejects bad input", () => {
    expect(median([])).toBeNull();
    expect(mean([])).toBeNull();
    expect(() => quantile([1, 2], 1.5)).toThrow(/between 0 and 1/);
    expect(() => quantile([1, 2], Number.NaN)).toThrow(/between 0 and 1/);
    expect(() => median([1, Number.NaN])).toThrow(/index 1 is not a number/);
  });

  it("means", () => {
    expect(mean([1, 2, 6])).toBe(3);
  });
});

describe("counting versions", () => {
  it("read quantiles and means from counts", () => {
    // values 1, 1, 3
    const counts = [0, 2, 0, 1];
    expect(quantileOfCounts(counts, 0.5)).toBe(1); // h = 1 -> x[1] = 1
    expect(quantileOfCounts(counts, 0.75)).toBe(2); // h = 1.5 -> 1 + 0.5 * (3 - 1)
    expect(quantileOfCounts(counts, 1)).toBe(3);
    expect(quantileOfCounts(counts, 0)).toBe(1);
    expect(quantileOfCounts(counts, 0.75, 10)).toBe(12);
    expect(meanOfCounts(counts)).toBeCloseTo(5 / 3, 12);
    expect(quantileOfCounts([0, 0], 0.5)).toBeNull();
    expect(meanOfCounts([])).toBeNull();
  });

  it("agree with the expanded values", () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 5 }), { minLength: 1, maxLength: 12 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: -50, max: 50 }),
        (counts, p, offset) => {
          const expanded: number[] = [];
          counts.forEach((count, v) => {
            for (let i = 0; i < count; i++) expanded.push(v + offset);
          });
          const expected = quantileSorted(expanded, p);
          const actual = quantileOfCounts(counts, p, offset);
          if (expected === null) return actual === null;
          return actual !== null && Math.abs(actual - expected) < 1e-9;
        },
      ),
    );
  });
});

describe("histogram", () => {
  it("counts half-open buckets with an open last bucket", () => {
    const edges = [0, 1, 8, 31];
    // [0,1): 0 | [1,8): 1, 7 | [8,31): 8, 30 | [31,inf): 31, 400 ; -1 is below the first edge
    expect(histogram([0, 1, 7, 8, 30, 31, 400, -1], edges)).toEqual([1, 2, 2, 2]);
    // the same values as counts: value v occurs counts[v] times, offset -1
    const counts = new Array<number>(402).fill(0);
    for (const v of [0, 1, 7, 8, 30, 31, 400, -1]) counts[v + 1]++;
    expect(histogramOfCounts(counts, edges, -1)).toEqual([1, 2, 2, 2]);
  });

  it("rejects edges that do not increase", () => {
    expect(() => histogram([1], [0, 0])).toThrow(/increase strictly/);
    expect(() => histogram([1], [])).toThrow(/at least one/);
  });
});
