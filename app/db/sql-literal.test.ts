import { describe, expect, it } from "vitest";
import { inlineSqlParameters } from "./sql-literal";

// sqlLiteral's quoting is tested with the export (app/pages/export.test.ts); the literals
// reach PostgreSQL in tests/pages/export.test.ts and the refit's tests.
describe("inlineSqlParameters", () => {
  it("writes text, numbers and text arrays in as literals of the same type", () => {
    expect(inlineSqlParameters("SELECT $1::text, $2, $3::text[], $10", ["O'Neil", 2.5, ["a", "b'c"], 1, 2, 3, 4, 5, 6, 7])).toBe(
      "SELECT 'O''Neil'::text, '2.5', ARRAY['a', 'b''c']::text[]::text[], '7'",
    );
    expect(inlineSqlParameters("WHERE cardinality($1::text[]) = 0", [[]])).toBe("WHERE cardinality(ARRAY[]::text[]::text[]) = 0");
  });

  it("writes a value once: a backslash makes an E'' string, and a $n inside a value is not replaced again", () => {
    expect(inlineSqlParameters("SELECT $1, $2", ["a\\b", "$2"])).toBe("SELECT  E'a\\\\b', '$2'");
  });

  it("refuses a placeholder without a parameter, and values it cannot write", () => {
    expect(() => inlineSqlParameters("SELECT $2", ["x"])).toThrow(/\$2/);
    expect(() => inlineSqlParameters("SELECT $1", [Number.NaN])).toThrow(/not finite/);
    expect(() => inlineSqlParameters("SELECT $1", [{ a: 1 }])).toThrow(/cannot be written/);
    expect(() => inlineSqlParameters("SELECT $1", [["a", null]])).toThrow(/null/);
  });
});
