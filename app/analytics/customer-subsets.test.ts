import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AS_OF, smallOrderTable } from "./customer-orders.testing";
import { customersTable, customersTablesByCode } from "./customer-subsets";
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
});
