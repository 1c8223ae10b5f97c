import { describe, expect, it } from "vitest";
import { DimensionValues } from "./dimension-values";

describe("DimensionValues", () => {
  it("ranks values by customers and skips none", () => {
    const values = new DimensionValues();
    for (const v of ["web", "pos", null, "web", "", "social", "pos", "web"]) values.push(v);
    expect(values.top(2).map((v) => [v.value, v.customers])).toEqual([["web", 3], ["pos", 2]]);
    expect(values.valueOf(2)).toBeNull();
  });
});
