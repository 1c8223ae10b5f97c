import fc from "fast-check";
import { checkCutPoints, type RfmCutPoints, type RfmInput, rfmCutPoints, rfmInputFromSummary, scoreAll, scoreRfm, scoreValue } from "./rfm";

function rowsFrom(values: { r?: number[]; f?: number[]; m?: number[] }): RfmInput[] {
  const n = Math.max(values.r?.length ?? 0, values.f?.length ?? 0, values.m?.length ?? 0);
  return Array.from({ length: n }, (_, i) => ({
    customerId: `c${i}`,
    recencyDays: values.r?.[i] ?? 10,
    orders: values.f?.[i] ?? 1,
    netSpent: values.m?.[i] ?? 50,
  }));
}

describe("RFM scores, hand-computed", () => {
  it("scores five distinct spends one per fifth", () => {
    // mid-rank percentiles 0.1, 0.3, 0.5, 0.7, 0.9 -> 1..5
    const rows = rowsFrom({ m: [30, 10, 50, 20, 40] });
    expect(scoreAll(rows).map((s) => s.m)).toEqual([3, 1, 5, 2, 4]);
    expect(rfmCutPoints(rows).m.minForScore).toEqual([20, 30, 40, 50]);
  });

  it("gives the heavy tie of one-order customers F = 1, not their mid-rank score", () => {
    // 6 of 10 ordered once: mid-rank (0 + 3) / 10 = 0.3 would give 2; the worst value is pinned to 1.
    // F = 2: (6 + 1) / 10 = 0.7 -> 4.  F = 3: 8.5 / 10 -> 5.  F = 7: best value -> 5.
    const rows = rowsFrom({ f: [1, 2, 1, 7, 1, 3, 1, 2, 1, 1] });
    expect(scoreAll(rows).map((s) => s.f)).toEqual([1, 4, 1, 5, 1, 5, 1, 4, 1, 1]);
    const cuts = rfmCutPoints(rows);
    expect(cuts.f.minForScore).toEqual([2, 2, 2, 3]);
    // Values never seen score like the nearest fitted value that is not better.
    expect(scoreValue(5, cuts.f)).toBe(5);
    expect(scoreValue(40, cuts.f)).toBe(5);
    expect(scoreValue(0, cuts.f)).toBe(1);
    expect(scoreValue(1.5, cuts.f)).toBe(1);
  });

  it("inverts recency: fewer days since the last order scores higher", () => {
    // worst first: 400 days (pinned 1), 30 days: (1 + 0.5) / 5 = 0.3 -> 2,
    // 5 days twice: (2 + 1) / 5 = 0.6 -> 4, 0 days: best -> 5
    const rows = rowsFrom({ r: [5, 400, 0, 30, 5] });
    expect(scoreAll(rows).map((s) => s.r)).toEqual([4, 1, 5, 2, 4]);
    const cuts = rfmCutPoints(rows);
    expect(cuts.r).toEqual({ better: "lower", minForScore: [30, 5, 5, 0] });
    expect(scoreValue(10, cuts.r)).toBe(2); // between 5 and 30 days: the less good neighbour's score
    expect(scoreValue(3, cuts.r)).toBe(4);
    expect(scoreValue(500, cuts.r)).toBe(1);
    expect(scoreValue(0, cuts.r)).toBe(5);
  });

  it("puts a tie block by its middle position, with exact fifth boundaries", () => {
    // 10 values, the block of 5s starts at position 1 with 2 members: (1 + 1) / 10 = 0.2 -> exactly score 2
    // 6: (3 + 0.5) / 10 = 0.35 -> 2;  7: 0.45 -> 3;  8,8,8: (5 + 1.5) / 10 = 0.65 -> 4;  9: 0.85 -> 5
    const rows = rowsFrom({ m: [0, 5, 5, 6, 7, 8, 8, 8, 9, 12] });
    expect(scoreAll(rows).map((s) => s.m)).toEqual([1, 2, 2, 2, 3, 4, 4, 4, 5, 5]);
  });

  it("handles an empty shop, one customer and all-equal values", () => {
    const empty = rfmCutPoints([]);
    expect(empty.customers).toBe(0);
    expect(empty.f.minForScore).toEqual([null, null, null, null]);
    expect(scoreRfm({ customerId: "x", recencyDays: 3, orders: 2, netSpent: 9 }, empty)).toEqual({ r: 1, f: 1, m: 1 });

    const one = rowsFrom({ f: [4] });
    expect(scoreAll(one)).toEqual([{ r: 1, f: 1, m: 1 }]);

    const same = rowsFrom({ r: [7, 7, 7], f: [2, 2, 2], m: [5, 5, 5] });
    expect(scoreAll(same)).toEqual([
      { r: 1, f: 1, m: 1 },
      { r: 1, f: 1, m: 1 },
      { r: 1, f: 1, m: 1 },
    ]);
  });

  it("rejects bad rows and corrupted cut points with clear errors", () => {
    expect(() => rfmCutPoints([{ customerId: "a", recencyDays: Number.NaN, orders: 1, netSpent: 1 }])).toThrow(
      /rows\[0\]\.recencyDays is not a finite number/,
    );
    const cuts = rfmCutPoints(rowsFrom({ m: [1, 2, 3] }));
    const broken = JSON.parse(JSON.stringify(cuts)) as RfmCutPoints;
    broken.m.minForScore = [3, 2, null, null];
    expect(() => checkCutPoints(broken)).toThrow(/M are not in order/);
    expect(() => scoreRfm(rowsFrom({ m: [1] })[0], { version: 2 } as unknown as RfmCutPoints)).toThrow(/unknown version/);
  });

  it("builds input from a purchase summary", () => {
    const input = rfmInputFromSummary(
      { customerId: "a", orders: 3, frequency: 2, recency: 10, T: 20, monetaryValue: 5, totalSpent: 17, firstDay: 100, lastDay: 110 },
      120,
    );
    expect(input).toEqual({ customerId: "a", recencyDays: 10, orders: 3, netSpent: 17 });
  });
});

// Small value domains force many ties.
const rowArb = fc.record({
  customerId: fc.constant(""),
  recencyDays: fc.integer({ min: 0, max: 12 }),
  orders: fc.integer({ min: 1, max: 6 }),
  netSpent: fc.oneof(fc.integer({ min: -5, max: 40 }), fc.double({ min: -100, max: 1000, noNaN: true })),
});
const rowsArb = fc.array(rowArb, { minLength: 1, maxLength: 60 }).map((rows) => rows.map((row, i) => ({ ...row, customerId: `c${i}` })));

const FIELDS = [
  ["r", "recencyDays", -1],
  ["f", "orders", 1],
  ["m", "netSpent", 1],
] as const;

describe("RFM properties", () => {
  it("does not depend on row order", () => {
    fc.assert(
      fc.property(
        rowsArb.chain((rows) => fc.tuple(fc.constant(rows), fc.shuffledSubarray(rows, { minLength: rows.length, maxLength: rows.length }))),
        ([rows, shuffled]) => {
          expect(rfmCutPoints(shuffled)).toEqual(rfmCutPoints(rows));
          const byId = new Map(rows.map((row, i) => [row.customerId, scoreAll(rows)[i]]));
          scoreAll(shuffled).forEach((scores, i) => expect(scores).toEqual(byId.get(shuffled[i].customerId)));
        },
      ),
    );
  });

  it("gives equal values equal scores and better values scores at least as high", () => {
    fc.assert(
      fc.property(rowsArb, (rows) => {
        const scores = scoreAll(rows);
        for (const [dimension, field, direction] of FIELDS) {
          for (let i = 0; i < rows.length; i++) {
            for (let j = 0; j < rows.length; j++) {
              const better = direction * (rows[i][field] - rows[j][field]);
              if (better === 0) expect(scores[i][dimension]).toBe(scores[j][dimension]);
              if (better > 0) expect(scores[i][dimension]).toBeGreaterThanOrEqual(scores[j][dimension]);
            }
          }
        }
      }),
    );
  });

  it("scores one customer against stored JSON cut points exactly as in the batch", () => {
    fc.assert(
      fc.property(rowsArb, (rows) => {
        const stored = JSON.parse(JSON.stringify(rfmCutPoints(rows))) as RfmCutPoints;
        const batch = scoreAll(rows);
        rows.forEach((row, i) => expect(scoreRfm(row, stored)).toEqual(batch[i]));
      }),
    );
  });

  it("scores unseen values like the nearest fitted value that is not better", () => {
    fc.assert(
      fc.property(rowsArb, fc.double({ min: -200, max: 2000, noNaN: true }), (rows, value) => {
        const cuts = rfmCutPoints(rows);
        const scores = scoreAll(rows, cuts);
        const notBetter = rows.map((row, i) => ({ v: row.netSpent, s: scores[i].m })).filter((x) => x.v <= value);
        const expected = notBetter.length === 0 ? 1 : notBetter.reduce((a, b) => (b.v > a.v ? b : a)).s;
        expect(scoreValue(value, cuts.m)).toBe(expected);
      }),
    );
  });

  it("spreads distinct values evenly over the five scores", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 10_000 }), { minLength: 5, maxLength: 200 }), (values) => {
        const rows = rowsFrom({ m: values });
        const counts = [0, 0, 0, 0, 0];
        for (const s of scoreAll(rows)) counts[s.m - 1]++;
        // each fifth holds n/5 customers, give or take one (rounding, and the pinned extremes)
        for (const count of counts) expect(Math.abs(count - values.length / 5)).toBeLessThanOrEqual(1);
      }),
    );
  });
});
