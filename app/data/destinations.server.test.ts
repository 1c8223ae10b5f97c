import { describe, expect, it } from "vitest";
import { bigintArrayLiteral } from "./destinations.server";

describe("bigintArrayLiteral", () => {
  it("writes customer ids as one PostgreSQL array literal", () => {
    expect(bigintArrayLiteral(["1", "22", "9007199254740993"])).toBe("{1,22,9007199254740993}");
    expect(bigintArrayLiteral([])).toBe("{}");
  });

  it("refuses anything but a decimal id, naming it, rather than change the array it is in", () => {
    expect(() => bigintArrayLiteral(["1", "2,3"])).toThrow('not a customer id: "2,3"');
    expect(() => bigintArrayLiteral(["}"])).toThrow(RangeError);
    expect(() => bigintArrayLiteral([""])).toThrow(RangeError);
  });
});
