import { describe, expect, it } from "vitest";
import { backtestWindow } from "./backtest-window";

const AS_OF = 20_000;

describe("backtestWindow", () => {
  it("holds out a third of the history, at most 180 days, and refuses short histories", () => {
    expect(backtestWindow(AS_OF - 299, AS_OF)).toEqual({ holdoutDays: 100, calibrationEndDay: AS_OF - 100 });
    expect(backtestWindow(AS_OF - 2_000, AS_OF)).toEqual({ holdoutDays: 180, calibrationEndDay: AS_OF - 180 });
    expect(backtestWindow(AS_OF - 60, AS_OF)).toHaveProperty("note");
    expect(backtestWindow(null, AS_OF)).toEqual({ note: "no orders yet" });
  });
});
