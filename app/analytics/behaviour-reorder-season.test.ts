import { describe, expect, it } from "vitest";
import {
  type BehaviourInput,
  behaviourThresholds,
  behaviouralSegmentDefinitions,
  behaviouralSegmentsOf,
  DEFAULT_HOLIDAY_SEASON,
  inHolidaySeason,
  monthDayProblem,
} from "./behaviour";
import { dayIndex } from "./dates";

// Issue 17's behavioural segments: "Due to reorder" (expected next order within 7 days, or
// overdue by less than the shop's median days between orders) and "Holiday-season first
// buyers" (first order in the season, any year).

const customer = (over: Partial<BehaviourInput>): BehaviourInput => ({
  customerId: "1",
  orders: 2,
  netSpent: 100,
  discountedOrders: 0,
  daysSinceLastOrder: 10,
  ...over,
});

describe("Due to reorder", () => {
  const t = behaviourThresholds([customer({})], { medianDaysBetweenOrders: 30 });

  it("takes customers expected within the next 7 days, or overdue by less than the median gap", () => {
    const due = (until: number | null) => behaviouralSegmentsOf(customer({ daysUntilExpectedNextOrder: until }), t).includes("due-to-reorder");
    expect([0, 7, -1, -29].map(due)).toEqual([true, true, true, true]);
    expect([8, -30, -45, null].map(due)).toEqual([false, false, false, false]);
  });

  it("holds nobody while the shop has no repeat orders, or under a fit stored before the rule", () => {
    const none = behaviourThresholds([customer({})], { medianDaysBetweenOrders: null });
    expect(behaviouralSegmentsOf(customer({ daysUntilExpectedNextOrder: 1 }), none)).not.toContain("due-to-reorder");
    const { dueToReorderOverdueDays: _gone, holidaySeason: _season, ...old } = t;
    expect(behaviouralSegmentsOf(customer({ daysUntilExpectedNextOrder: 1, firstOrderDay: dayIndex("2025-12-01") }), old)).toEqual(["repeat-buyer", "full-price-buyer"]);
  });
});

describe("Holiday-season first buyers", () => {
  it("uses Nov 15 to Dec 31 by default, both days included, any year", () => {
    const t = behaviourThresholds([customer({})]);
    expect(t.holidaySeason).toEqual(DEFAULT_HOLIDAY_SEASON);
    const first = (iso: string) => behaviouralSegmentsOf(customer({ firstOrderDay: dayIndex(iso) }), t).includes("holiday-season-first-buyer");
    expect(["2024-11-15", "2025-12-31", "2019-12-01"].map(first)).toEqual([true, true, true]);
    expect(["2025-11-14", "2026-01-01", "2025-07-04"].map(first)).toEqual([false, false, false]);
  });

  it("takes a season that runs over the new year, and names it in the definition", () => {
    const season = { start: "12-01", end: "01-15" };
    expect(["2025-12-01", "2026-01-15", "2024-12-31"].map((iso) => inHolidaySeason(dayIndex(iso), season))).toEqual([true, true, true]);
    expect(["2025-11-30", "2026-01-16"].map((iso) => inHolidaySeason(dayIndex(iso), season))).toEqual([false, false]);
    expect(behaviouralSegmentDefinitions({ holidaySeason: season })["holiday-season-first-buyer"].description).toContain("Dec 1 to Jan 15");
  });

  it("refuses a season day that is not one, naming it", () => {
    expect(monthDayProblem("02-29")).toBeNull();
    expect(monthDayProblem("02-30")).toBe('"02-30" is not a day of the year');
    expect(monthDayProblem("1-5")).toBe('"1-5" is not a month and day such as 11-15');
    expect(() => behaviourThresholds([], { holidaySeason: { start: "13-01", end: "12-31" } })).toThrow(/13-01/);
  });
});
