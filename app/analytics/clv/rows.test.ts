import fc from "fast-check";
import { cdnowCustomers } from "./fixtures.testing";
import { canonicalRows, compressRows, DoubleIndex, InvalidRowError, prepareRows, RowCompressor, subsamplePrepared, TripleCounter } from "./rows";
import { simulateBgNbd, simulateParetoNbd } from "./simulate";

describe("compressRows", () => {
  it("keeps every customer: weights add up to the customer count, one row per distinct pattern", () => {
    const customers = cdnowCustomers();
    const rows = compressRows(customers);
    expect(rows.reduce((sum, row) => sum + row.weight, 0)).toBe(customers.length);
    const keys = new Set(customers.map((c) => `${c.frequency}|${c.recency}|${c.T}`));
    expect(rows).toHaveLength(keys.size);
    const zeroAt3886 = customers.filter((c) => c.frequency === 0 && c.T === 38.86).length;
    expect(rows.find((row) => row.x === 0 && row.T === 38.86)?.weight).toBe(zeroAt3886);
  });

  it("does not depend on row order", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ frequency: fc.integer({ min: 1, max: 3 }), recency: fc.integer({ min: 0, max: 5 }), T: fc.constant(5) })),
        (customers) => {
          const sortKey = (r: { x: number; tx: number; T: number }) => `${r.x}|${r.tx}|${r.T}`;
          const forward = compressRows(customers).sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
          const backward = compressRows([...customers].reverse()).sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
          expect(backward).toEqual(forward);
        },
      ),
    );
  });

  it("names the first bad customer", () => {
    expect(() => compressRows([{ frequency: 1, recency: 2, T: 3 }, { frequency: 1.5, recency: 2, T: 3 }])).toThrow(/customer #2: frequency 1.5/);
    expect(() => compressRows([{ frequency: 1, recency: 4, T: 3 }])).toThrow(InvalidRowError);
    expect(() => compressRows([{ frequency: 0, recency: 1, T: 3 }])).toThrow(/must be 0 when frequency is 0/);
    expect(() => compressRows([{ frequency: 1, recency: Number.NaN, T: 3 }])).toThrow(/finite/);
  });

  it("treats 0 and -0 as one value", () => {
    const compressor = new RowCompressor();
    compressor.add(0, 0, 5);
    compressor.add(0, -0, 5);
    expect(compressor.rows()).toEqual([{ x: 0, tx: 0, T: 5, weight: 2 }]);
  });
});

describe("hash tables", () => {
  it("TripleCounter and DoubleIndex stay exact through many rehashes", () => {
    const counter = new TripleCounter();
    const index = new DoubleIndex();
    for (let i = 0; i < 50_000; i++) {
      counter.addTriple(i % 1000, (i % 7) / 7, i % 3, 1);
      expect(index.idOf(i % 20_000)).toBe(i % 20_000);
    }
    // (i mod 1000, i mod 7, i mod 3) repeats with period lcm(1000, 7, 3) = 21,000.
    expect(counter.distinctCount).toBe(21_000);
    expect(counter.totalWeight).toBe(50_000);
    expect(index.size).toBe(20_000);
  });
});

describe("prepareRows", () => {
  it("indexes distinct x and time values consistently", () => {
    const prepared = prepareRows(compressRows(cdnowCustomers()));
    for (let i = 0; i < prepared.count; i++) {
      expect(prepared.xValues[prepared.xOf[i]]).toBe(prepared.x[i]);
      expect(prepared.times[prepared.txOf[i]]).toBe(prepared.tx[i]);
      expect(prepared.times[prepared.TOf[i]]).toBe(prepared.T[i]);
    }
    expect(prepared.totalWeight).toBe(2357);
    expect(prepared.xWeights.reduce((a, b) => a + b, 0)).toBe(2357);
  });

  it("subsamples without bias: same expected total weight, heavy rows kept whole, deterministic", () => {
    const customers = simulateBgNbd({ r: 0.3, alpha: 4, a: 0.8, b: 2.5 }, { customers: 60_000, seed: 3, grid: 1 / 7, age: (u) => Math.ceil(u() * 700) / 7 });
    const compressor = new RowCompressor();
    for (const c of customers) compressor.add(c.frequency, c.recency, c.T);
    const prepared = compressor.prepared();
    const sample = subsamplePrepared(prepared, 5000, 7);
    expect(sample.count).toBeLessThan(6000);
    expect(Math.abs(sample.totalWeight / prepared.totalWeight - 1)).toBeLessThan(0.05);
    const again = subsamplePrepared({ ...prepared, sample: undefined }, 5000, 7);
    expect(Array.from(again.weight)).toEqual(Array.from(sample.weight));
  });
});

describe("simulators", () => {
  it("are deterministic per seed", () => {
    const options = { customers: 200, seed: 17, age: (u: () => number) => 10 + 30 * u() };
    expect(simulateBgNbd({ r: 0.5, alpha: 3, a: 1, b: 2 }, options)).toEqual(simulateBgNbd({ r: 0.5, alpha: 3, a: 1, b: 2 }, options));
    expect(simulateParetoNbd({ r: 0.5, alpha: 3, s: 1, beta: 8 }, options)).not.toEqual(
      simulateParetoNbd({ r: 0.5, alpha: 3, s: 1, beta: 8 }, { ...options, seed: 18 }),
    );
  });

  it("put day-grid data on the grid and produce valid patterns", () => {
    const customers = simulateParetoNbd(
      { r: 2, alpha: 3, s: 0.5, beta: 10 },
      { customers: 2000, seed: 1, grid: 1 / 7, age: (u) => Math.ceil(u() * 365) / 7 },
    );
    for (const c of customers) {
      expect(Number.isInteger(Math.round(c.recency * 7 * 1e6) / 1e6)).toBe(true);
      expect(Math.abs(c.T * 7 - Math.round(c.T * 7))).toBeLessThan(1e-9);
      expect(c.recency).toBeLessThanOrEqual(c.T);
      expect(c.frequency === 0 ? c.recency === 0 : c.recency > 0).toBe(true);
      // At most one purchase per day after the first.
      expect(c.frequency).toBeLessThanOrEqual(Math.round(c.recency * 7));
    }
  });
});

describe("canonicalRows", () => {
  it("gives bit-identical rows, scale and ids whatever the input order or duplicates", () => {
    const customers = simulateBgNbd({ r: 0.3, alpha: 5, a: 0.8, b: 2.5 }, { customers: 3000, seed: 11, grid: 1 / 7, age: (u) => Math.ceil(u() * 730) / 7 });
    const rows = compressRows(customers);
    const reference = canonicalRows(rows);
    const shuffled = [...rows].sort((a, b) => Math.sin(a.T * 7919 + a.tx * 104729 + a.x) - Math.sin(b.T * 7919 + b.tx * 104729 + b.x));
    // Duplicates split across two rows (not distinct input) merge to the same weights.
    const split = shuffled.flatMap((row) => (row.weight > 1 ? [{ ...row, weight: 1 }, { ...row, weight: row.weight - 1 }] : [row]));
    for (const input of [shuffled, split, prepareRows(split)]) {
      const canonical = canonicalRows(input);
      expect(canonical.timeScale).toBe(reference.timeScale);
      expect(canonical.repeatPurchases).toBe(reference.repeatPurchases);
      for (const key of ["x", "tx", "T", "weight", "xValues", "xWeights", "xOf", "times", "txOf", "TOf"] as const) {
        expect(Array.from(canonical.rows[key])).toEqual(Array.from(reference.rows[key]));
      }
    }
    // Sorted by (x, t_x, T), ids pointing at the sorted distinct values.
    const r = reference.rows;
    for (let k = 1; k < r.count; k++) {
      const before = r.x[k - 1] - r.x[k] || r.tx[k - 1] - r.tx[k] || r.T[k - 1] - r.T[k];
      expect(before).toBeLessThan(0);
    }
    for (let k = 0; k < r.count; k++) {
      expect(r.xValues[r.xOf[k]]).toBe(r.x[k]);
      expect(r.times[r.txOf[k]]).toBe(r.tx[k]);
      expect(r.times[r.TOf[k]]).toBe(r.T[k]);
    }
  });
});
