import fc from "fast-check";
import {
  DateFormatError,
  civilFromDays,
  dayIndex,
  dayIndexInZone,
  dayToIso,
  daysFromCivil,
  monthIndex,
  monthStartDay,
  monthToIso,
} from "./dates";

describe("dayIndex", () => {
  it.each([
    ["1970-01-01", 0],
    ["19700102", 1],
    ["1969-12-31", -1],
    ["1997-01-01", 9862],
    ["1997-09-30", 10134],
    ["2000-02-29", 11016],
    ["2024-12-31", 20088],
  ])("%s -> %i", (text, expected) => {
    expect(dayIndex(text)).toBe(expected);
  });

  it("agrees with Date.UTC on every day from 1900 to 2100", () => {
    const mismatches: string[] = [];
    for (let ms = Date.UTC(1900, 0, 1); ms <= Date.UTC(2100, 11, 31); ms += 86_400_000) {
      const iso = new Date(ms).toISOString().slice(0, 10);
      if (dayIndex(iso) !== ms / 86_400_000 || dayToIso(ms / 86_400_000) !== iso) mismatches.push(iso);
    }
    expect(mismatches).toEqual([]);
  });

  it.each(["2023-02-29", "1900-02-29", "2024-13-01", "2024-00-10", "2024-04-31", "2024-1-01", "2024-0101", "24-01-01", "", "2024/01/01", " 2024-01-01"])(
    "rejects %j",
    (text) => {
      expect(() => dayIndex(text)).toThrow(DateFormatError);
    },
  );
});

describe("dayToIso", () => {
  it("inverts dayIndex", () => {
    fc.assert(
      fc.property(fc.integer({ min: daysFromCivil(1, 1, 1), max: daysFromCivil(9999, 12, 31) }), (day) => {
        expect(dayIndex(dayToIso(day))).toBe(day);
      }),
    );
  });

  it("pads years and rejects fractions", () => {
    expect(dayToIso(daysFromCivil(33, 3, 7))).toBe("0033-03-07");
    expect(() => dayToIso(1.5)).toThrow(RangeError);
  });

  it("civilFromDays inverts daysFromCivil across leap centuries", () => {
    for (const [y, m, d] of [[1600, 2, 29], [1700, 3, 1], [2000, 2, 29], [2100, 2, 28], [2100, 3, 1]]) {
      expect(civilFromDays(daysFromCivil(y, m, d))).toEqual({ year: y, month: m, day: d });
    }
  });
});

describe("dayIndexInZone", () => {
  const instant = new Date("2024-03-10T03:30:00Z");

  it("gives the local calendar day of an instant", () => {
    expect(dayIndexInZone(instant, "UTC")).toBe(dayIndex("2024-03-10"));
    expect(dayIndexInZone(instant, "America/Los_Angeles")).toBe(dayIndex("2024-03-09"));
    expect(dayIndexInZone(instant, "Asia/Tokyo")).toBe(dayIndex("2024-03-10"));
    expect(dayIndexInZone(new Date("2024-03-10T15:30:00Z"), "Pacific/Kiritimati")).toBe(dayIndex("2024-03-11"));
  });

  it("handles offsets and DST transitions", () => {
    expect(dayIndexInZone(new Date("2024-11-03T06:59:00Z"), "America/New_York")).toBe(dayIndex("2024-11-03"));
    expect(dayIndexInZone(new Date("2024-11-03T03:59:00Z"), "America/New_York")).toBe(dayIndex("2024-11-02"));
    expect(dayIndexInZone(instant, "+05:30")).toBe(dayIndex("2024-03-10"));
  });

  it("rejects invalid dates", () => {
    expect(() => dayIndexInZone(new Date(Number.NaN), "UTC")).toThrow(RangeError);
  });
});

describe("months", () => {
  it("numbers months from January 1970", () => {
    expect(monthIndex(dayIndex("1970-01-31"))).toBe(0);
    expect(monthIndex(dayIndex("1969-12-31"))).toBe(-1);
    expect(monthIndex(dayIndex("1997-09-30"))).toBe(27 * 12 + 8);
    expect(monthToIso(monthIndex(dayIndex("2024-02-29")))).toBe("2024-02");
  });

  it("monthStartDay is the first day of the month a day falls in", () => {
    fc.assert(
      fc.property(fc.integer({ min: -50_000, max: 50_000 }), (day) => {
        const start = monthStartDay(monthIndex(day));
        expect(start).toBeLessThanOrEqual(day);
        expect(dayToIso(start).slice(0, 7)).toBe(dayToIso(day).slice(0, 7));
        expect(dayToIso(start).endsWith("-01")).toBe(true);
      }),
    );
  });
});
