import fc from "fast-check";
import { dayIndex } from "./dates";
// The CDNOW fixture readers are the CLV tests' (csv-parse, not the app's parsers).
import { cdnowCustomers, cdnowSpendCustomers, cdnowTransactions } from "./clv/fixtures.testing";
import { CustomerIndex, TableRowBatch, TransactionTable, customerIndicesById, groupByCustomer, summarize, summarizeTable, type CustomerSummary, type Transaction } from "./summary";

/** The fixtures print 2 decimals: our value must lie in the printed value's rounding interval (+1e-6). */
function expectRoundsTo(actual: number, printed: number, what: string): void {
  if (Math.abs(actual - printed) > 0.005 + 1e-6) throw new Error(`${what}: ${actual} does not round to ${printed}`);
}

describe("summarize on CDNOW (weeks, calibration ends 1997-09-30)", () => {
  const summaries = summarize(cdnowTransactions(), { asOfDay: dayIndex("1997-09-30"), unit: "week" });
  const byId = new Map(summaries.map((s) => [Number(s.customerId), s]));

  it("has every one of the 2,357 customers", () => {
    expect(summaries).toHaveLength(2357);
    expect(byId.size).toBe(2357);
  });

  /** Customer `id` against a fixture row: frequency exactly, recency and T as printed. */
  function expectCustomer(id: number, frequency: number, recency: number, T: number): CustomerSummary {
    const s = byId.get(id)!;
    expect(s.frequency).toBe(frequency);
    expectRoundsTo(s.recency, recency, `customer ${id} recency`);
    expectRoundsTo(s.T, T, `customer ${id} T`);
    return s;
  }

  it("reproduces cdnow_customers_summary.csv (frequency, recency, T)", () => {
    const expected = cdnowCustomers();
    expect(expected).toHaveLength(2357);
    for (const row of expected) expectCustomer(row.id, row.frequency, row.recency, row.T);
  });

  it("reproduces cdnow_customers_summary_with_transactions.csv (x, t_x, T, zbar)", () => {
    const expected = cdnowSpendCustomers();
    expect(expected).toHaveLength(2357);
    for (const row of expected) {
      const s = expectCustomer(row.id, row.x, row.tx, row.T);
      expect(s.orders).toBe(row.x + 1);
      expectRoundsTo(s.monetaryValue, row.zbar, `customer ${row.id} zbar`);
    }
  });

  it("matches the published aggregates", () => {
    expect(summaries.reduce((sum, s) => sum + s.frequency, 0)).toBe(2457);
    expect(summaries.filter((s) => s.frequency > 0)).toHaveLength(946);
    expect(summaries.filter((s) => s.frequency === 0)).toHaveLength(1411);
  });

  it("counts same-day purchases once and sums them", () => {
    // Customer 1: 1997-01-01 (29.33), 1997-01-18 (29.73), 1997-08-02 (14.96), 1997-12-12 (26.48, after as-of).
    const first = byId.get(1)!;
    expect(first).toMatchObject({ orders: 3, frequency: 2, firstDay: dayIndex("1997-01-01"), lastDay: dayIndex("1997-08-02") });
    expect(first.totalSpent).toBeCloseTo(29.33 + 29.73 + 14.96, 10);
    expect(first.monetaryValue).toBeCloseTo((29.73 + 14.96) / 2, 10);
  });

  it("sorts customers by id", () => {
    const ids = summaries.map((s) => s.customerId);
    expect(ids).toEqual([...ids].sort());
  });
});

describe("summarize", () => {
  const day = dayIndex("2024-01-01");
  const tx = (customerId: string, offset: number, amount: number): Transaction => ({ customerId, day: day + offset, amount });

  it("merges same-day purchases, excludes the first day from m, ignores rows after as-of", () => {
    const [a] = summarize([tx("a", 0, 10), tx("a", 0, 5), tx("a", 14, 20), tx("a", 14, 4), tx("a", 28, 30), tx("a", 29, 99)], {
      asOfDay: day + 28,
      unit: "week",
    });
    expect(a).toEqual<CustomerSummary>({
      customerId: "a",
      orders: 3,
      frequency: 2,
      recency: 4,
      T: 4,
      monetaryValue: (24 + 30) / 2,
      totalSpent: 69,
      firstDay: day,
      lastDay: day + 28,
    });
  });

  it("works in days and months", () => {
    const rows = [tx("a", 0, 1), tx("a", 61, 1)];
    expect(summarize(rows, { asOfDay: day + 91, unit: "day" })[0]).toMatchObject({ recency: 61, T: 91 });
    expect(summarize(rows, { asOfDay: day + 91, unit: "month" })[0].T).toBeCloseTo(91 / (365.25 / 12), 12);
  });

  it("treats refund-only days as refunds, not purchases", () => {
    const [a] = summarize([tx("a", 0, 50), tx("a", 3, -20), tx("a", 10, 30), tx("a", 10, -5)], { asOfDay: day + 30, unit: "day" });
    expect(a).toMatchObject({ orders: 2, frequency: 1, recency: 10, totalSpent: 55, monetaryValue: 25 });
  });

  it("leaves out customers with no purchase by as-of", () => {
    const result = summarize([tx("early", 0, 1), tx("late", 5, 1), tx("refund-only", 1, -3)], { asOfDay: day + 2, unit: "day" });
    expect(result.map((s) => s.customerId)).toEqual(["early"]);
  });

  it("returns nothing for no transactions and rejects bad options", () => {
    expect(summarize([], { asOfDay: day, unit: "week" })).toEqual([]);
    expect(() => summarize([], { asOfDay: 1.5, unit: "week" })).toThrow(RangeError);
  });

  it("does not depend on row order (shuffled input gives the same summaries)", () => {
    const rows = fc.array(
      fc.record({
        customerId: fc.constantFrom("a", "b", "c", "d", "ee", "C0001"),
        day: fc.integer({ min: day, max: day + 400 }),
        // Whole cents: sums are then exact in any order.
        amount: fc.integer({ min: -500, max: 50_000 }).map((cents) => cents / 100),
      }),
      { maxLength: 60 },
    );
    fc.assert(
      fc.property(rows, fc.integer({ min: day, max: day + 450 }), fc.constantFrom("day", "week", "month" as const), (input, asOfDay, unit) => {
        const shuffled = fc.sample(fc.shuffledSubarray(input, { minLength: input.length, maxLength: input.length }), 1)[0];
        const round = (s: CustomerSummary) => ({ ...s, monetaryValue: Math.round(s.monetaryValue * 1e6), totalSpent: Math.round(s.totalSpent * 1e6) });
        expect(summarize(shuffled, { asOfDay, unit }).map(round)).toEqual(summarize(input, { asOfDay, unit }).map(round));
      }),
    );
  });

  it("falls back to a comparison sort for day ranges too wide to count", () => {
    const table = TransactionTable.from([tx("a", 9_000_000, 1), tx("a", -9_000_000, 2), tx("b", 0, 3), tx("a", 0, 4)]);
    const groups = groupByCustomer(table);
    expect(Array.from(groups.order)).toEqual([1, 3, 0, 2]);
    expect(Array.from(groups.start)).toEqual([0, 3, 4]);
  });
});

describe("TransactionTable", () => {
  it("grows and interns ids", () => {
    const table = new TransactionTable(2);
    for (let i = 0; i < 1000; i++) table.add(`customer-${i % 7}`, i, i / 2);
    expect(table.length).toBe(1000);
    expect(table.customerCount).toBe(7);
    expect(Array.from(table).slice(0, 2)).toEqual([
      { customerId: "customer-0", day: 0, amount: 0 },
      { customerId: "customer-1", day: 1, amount: 0.5 },
    ]);
  });

  it("takes ids as ranges of a larger string", () => {
    const table = new TransactionTable();
    const text = "x,alice,y,bob,alice";
    table.addRange(text, 2, 7, 1, 1);
    table.addRange(text, 10, 13, 1, 1);
    table.addRange(text, 14, 19, 2, 1);
    expect(table.customerIds).toEqual(["alice", "bob"]);
    expect(Array.from(table.customers)).toEqual([0, 1, 0]);
  });

  it("rejects non-integer days and non-finite amounts", () => {
    const table = new TransactionTable();
    expect(() => table.add("a", 1.5, 1)).toThrow(RangeError);
    expect(() => table.add("a", 1, Number.NaN)).toThrow(RangeError);
    expect(() => table.addForCustomer(5, 1, 1)).toThrow(RangeError);
  });

  it("appends another table's columns, interning its new ids in its order", () => {
    const table = new TransactionTable(1);
    table.add("b", 1, 1);
    table.appendColumns(["c", "b", "a"], new Int32Array([0, 2, 1, 0]), new Int32Array([2, 3, 4, 5]), new Float64Array([1, 2, 3, 4]));
    expect(table.customerIds).toEqual(["b", "c", "a"]);
    expect(Array.from(table)).toEqual([
      { customerId: "b", day: 1, amount: 1 },
      { customerId: "c", day: 2, amount: 1 },
      { customerId: "a", day: 3, amount: 2 },
      { customerId: "b", day: 4, amount: 3 },
      { customerId: "c", day: 5, amount: 4 },
    ]);
  });

  it("refuses columns of different lengths or a customer without an id, and changes nothing", () => {
    const table = new TransactionTable();
    table.add("a", 1, 1);
    expect(() => table.appendColumns(["x"], new Int32Array([0, 0]), new Int32Array([1]), new Float64Array([1, 1]))).toThrow(/columns of 2, 1 and 2 rows/);
    expect(() => table.appendColumns(["x"], new Int32Array([0, 1]), new Int32Array([1, 2]), new Float64Array([1, 1]))).toThrow(/row 1: customer index 1 has no id/);
    expect(table.customerIds).toEqual(["a"]);
    expect(table.length).toBe(1);
  });
});

describe("CustomerIndex", () => {
  it("gives each distinct id one dense index, whatever the order and however many", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 20, unit: "binary" }), { maxLength: 300 }), (ids) => {
        const index = new CustomerIndex();
        const reference = new Map<string, number>();
        for (const id of ids) {
          if (!reference.has(id)) reference.set(id, reference.size);
          expect(index.intern(id)).toBe(reference.get(id));
        }
        expect(index.ids).toEqual([...reference.keys()]);
        for (const [id, i] of reference) expect(index.get(id)).toBe(i);
        expect(index.get("\u0000never-seen\u0000")).toBeUndefined();
      }),
      { numRuns: 40 },
    );
  });

  it("TableRowBatch fills a table as addRange row by row does (ids as ranges of longer texts, first-sight order, rehashes inside a batch)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ maxLength: 20, unit: "binary" }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: -5, max: 5000 }), fc.double({ noNaN: true, noDefaultInfinity: true })), { maxLength: 400 }),
        (rows) => {
          const one = new TransactionTable();
          const batched = new TransactionTable();
          const batch = new TableRowBatch(batched);
          for (const [id, pad, day, amount] of rows) {
            const text = `${"x".repeat(pad)}${id},`;
            one.addRange(text, pad, pad + id.length, day, amount);
            batch.add(text, pad, pad + id.length, day, amount);
          }
          batch.flush();
          expect(batched.customerIds).toEqual(one.customerIds);
          expect([...batched.customers]).toEqual([...one.customers]);
          expect([...batched.days]).toEqual([...one.days]);
          expect([...batched.amounts]).toEqual([...one.amounts]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("stays exact past many rehashes", () => {
    const index = new CustomerIndex();
    for (let i = 0; i < 50_000; i++) index.intern(`C${i}`);
    for (let i = 0; i < 50_000; i += 997) expect(index.intern(`C${i}`)).toBe(i);
    expect(index.size).toBe(50_000);
  });
});

describe("summarizeTable on gathered rows", () => {
  it("gives the same summaries from groupByCustomer's grouping, its rows gathered in group order, or neither", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 400 }), fc.integer({ min: -20, max: 90 })), { maxLength: 150 }),
        fc.integer({ min: 0, max: 400 }),
        (rows, asOfDay) => {
          const table = new TransactionTable();
          for (const [c, day, amount] of rows) table.add(`c${c}`, day, amount);
          const opts = { asOfDay, unit: "week" as const };
          const groups = groupByCustomer(table, asOfDay);
          const gathered = { start: groups.start, day: Int32Array.from(groups.order, (row) => table.days[row]), amount: Float64Array.from(groups.order, (row) => table.amounts[row]) };
          const plain = summarizeTable(table, opts);
          expect(summarizeTable(table, opts, groups)).toEqual(plain);
          expect(summarizeTable(table, opts, gathered)).toEqual(plain);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("grouping and ordering customers", () => {
  it("orders customers as a string sort of their ids would, whatever the ids", () => {
    const id = fc.oneof(
      fc.string({ maxLength: 16 }),
      fc.string({ unit: "binary", maxLength: 4 }),
      fc.integer({ min: 0, max: 3000 }).map((n) => `C${String(n).padStart(7, "0")}`),
      fc.integer({ min: 0, max: 1e9 }).map((n) => `customer-${n}`),
      fc.constantFrom("", "a", "a\u0000", "a\u00fe", "a\u00ff", "abcdefghijkl", "abcdefghijklm", "abcdefghijkl\u0001", "customer-long-prefix-1", "customer-long-prefix-2"),
    );
    fc.assert(
      fc.property(fc.uniqueArray(id, { maxLength: 60 }), (ids) => {
        const table = new TransactionTable();
        ids.forEach((customer, day) => table.add(customer, day, 1));
        const expected = [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        expect(Array.from(customerIndicesById(table), (i) => table.customerIds[i])).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it("lists each customer's rows by day, ties in file order, whether or not the file is in day order", () => {
    const rows = fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 30 })), { maxLength: 80 });
    fc.assert(
      fc.property(rows, fc.boolean(), fc.integer({ min: 0, max: 30 }), (list, sortByDay, lastDay) => {
        const ordered = sortByDay ? [...list].sort((a, b) => a[1] - b[1]) : list;
        const table = new TransactionTable();
        ordered.forEach(([customer, day], i) => table.add(`c${customer}`, day, i));
        const { order, start } = groupByCustomer(table, lastDay);
        for (let c = 0; c < table.customerCount; c++) {
          const got = Array.from(order.subarray(start[c], start[c + 1]));
          const expected = ordered
            .map(([customer, day], row) => ({ customer: `c${customer}`, day, row }))
            .filter((r) => r.customer === table.customerIds[c] && r.day <= lastDay)
            .sort((a, b) => a.day - b.day || a.row - b.row)
            .map((r) => r.row);
          expect(got).toEqual(expected);
        }
      }),
      { numRuns: 300 },
    );
  });
});
