import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AS_OF, smallOrderTable } from "./customer-orders.testing";
import { columnByCode, customersTable, customersTablesByCode } from "./customer-subsets";
import { TransactionTable } from "./summary";

describe("customer subsets of a transaction table", () => {
  it("customersTable keeps the chosen customers' rows only", () => {
    const table = smallOrderTable();
    const subset = customersTable(table, (customer) => table.customerIds[customer] !== "b");
    expect([...subset].map((t) => t.customerId)).toEqual(["a", "a", "c"]);
  });

  it("customersTablesByCode gives each group the table customersTable gives it", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ customer: fc.integer({ min: 0, max: 30 }), day: fc.integer({ min: AS_OF - 400, max: AS_OF }), amount: fc.integer({ min: 0, max: 500 }) }), { maxLength: 200 }),
        fc.array(fc.integer({ min: -1, max: 4 }), { minLength: 31, maxLength: 31 }),
        (orders, groupOf) => {
          const source = new TransactionTable();
          for (const o of [...orders].sort((a, b) => a.customer - b.customer)) source.add(`c${o.customer}`, o.day, o.amount);
          const codeOf = Array.from({ length: source.customerCount }, (_, customer) => groupOf[Number(source.customerIds[customer].slice(1))]);
          const codes = [0, 2, 3];
          const byCode = customersTablesByCode(source, codeOf, codes);
          expect([...byCode.keys()]).toEqual(codes);
          for (const code of codes) {
            expect([...byCode.get(code)!]).toEqual([...customersTable(source, (customer) => codeOf[customer] === code)]);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it("columnByCode cuts a per-row column in the row order of customersTablesByCode, and refuses one of another length", () => {
    const source = new TransactionTable();
    for (const [id, day, amount] of [["a", 1, 10], ["b", 2, 20], ["a", 3, 30], ["c", 4, 40], ["b", 5, 50]] as const) source.add(id, day, amount);
    // The column is each row's amount x 2, so each group's column must be its subset's amounts x 2.
    const column = Float64Array.from(source.amounts.subarray(0, source.length), (amount) => amount * 2);
    const codeOf = [7, 8, 7]; // a, b, c
    const tables = customersTablesByCode(source, codeOf, [7, 8]);
    const columns = columnByCode(source, codeOf, [7, 8], column);
    for (const code of [7, 8]) expect([...columns.get(code)!]).toEqual([...tables.get(code)!.amounts.subarray(0, tables.get(code)!.length)].map((amount) => amount * 2));
    expect([...columns.get(7)!]).toEqual([20, 60, 80]);
    expect(() => columnByCode(source, codeOf, [7], column.subarray(1))).toThrow(/the column has 4 rows; the table has 5/);
  });
});
