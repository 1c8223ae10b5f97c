import { daysToUnits, isTimeUnit, unitDays, unitsToDays } from "./units";

describe("units", () => {
  it("has the contract's unit lengths", () => {
    expect(unitDays).toEqual({ day: 1, week: 7, month: 365.25 / 12 });
  });

  it("converts both ways", () => {
    expect(daysToUnits(272, "week")).toBeCloseTo(38.857142857, 9);
    expect(unitsToDays(12, "month")).toBe(365.25);
    expect(daysToUnits(unitsToDays(3.5, "month"), "month")).toBeCloseTo(3.5, 12);
  });

  it("recognises unit names", () => {
    expect(isTimeUnit("week")).toBe(true);
    expect(isTimeUnit("year")).toBe(false);
  });
});
