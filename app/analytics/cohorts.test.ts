import { lastCompleteMonth, ltvToCac, monthsOfDays, paybackMonth, pooledLtvByMonth } from "./cohorts";
import { dayIndex, monthIndex, monthToIso } from "./dates";

describe("months from day indices (no time zone involved)", () => {
  it("changes month exactly at calendar boundaries, leap days included", () => {
    const from = dayIndex("2023-12-30");
    const months = monthsOfDays(from, dayIndex("2024-03-01"));
    const monthAt = (iso: string) => monthToIso(months[dayIndex(iso) - from]);
    expect(monthAt("2023-12-30")).toBe("2023-12");
    expect(monthAt("2023-12-31")).toBe("2023-12");
    expect(monthAt("2024-01-01")).toBe("2024-01");
    expect(monthAt("2024-01-31")).toBe("2024-01");
    expect(monthAt("2024-02-01")).toBe("2024-02");
    expect(monthAt("2024-02-29")).toBe("2024-02");
    expect(monthAt("2024-03-01")).toBe("2024-03");
    expect(months).toHaveLength(63); // 2 + 31 + 29 + 1 days
  });

  it("works before 1970 (negative day indices)", () => {
    const from = dayIndex("1969-12-31"); // day -1
    expect(from).toBe(-1);
    const months = monthsOfDays(from, 0);
    expect([...months]).toEqual([-1, 0]);
    expect(monthToIso(months[0])).toBe("1969-12");
  });

  it("agrees with monthIndex on every day of several years", () => {
    const from = dayIndex("1999-11-15");
    const to = dayIndex("2005-03-02");
    const months = monthsOfDays(from, to);
    for (let day = from; day <= to; day++) expect(months[day - from]).toBe(monthIndex(day));
  });

  it("returns nothing for an empty range", () => {
    expect(monthsOfDays(10, 9)).toHaveLength(0);
  });
});

describe("lastCompleteMonth", () => {
  it("counts the as-of month only on its last day", () => {
    expect(monthToIso(lastCompleteMonth(dayIndex("2024-04-30")))).toBe("2024-04");
    expect(monthToIso(lastCompleteMonth(dayIndex("2024-04-29")))).toBe("2024-03");
    expect(monthToIso(lastCompleteMonth(dayIndex("2024-02-29")))).toBe("2024-02");
    expect(monthToIso(lastCompleteMonth(dayIndex("2024-02-28")))).toBe("2024-01");
    expect(monthToIso(lastCompleteMonth(dayIndex("2024-01-01")))).toBe("2023-12");
  });
});

describe("pooled LTV by month", () => {
  it("averages each month over the cohorts that have observed it", () => {
    // Cohorts in months 10, 11, 12; last complete month 12.
    // cohort 10: 2 customers, revenue by month 100, 20, 30 -> cumulative 100, 120, 150
    // cohort 11: 1 customer, revenue 50, 10, (month 13 not ended) -> cumulative 50, 60
    // cohort 12: 1 customer, revenue 40 -> cumulative 40
    const result = pooledLtvByMonth([10, 11, 12], [2, 1, 1], [100, 20, 30, 50, 10, 999, 40, 999, 999], 3, 12);
    // k = 0: (100 + 50 + 40) / 4; k = 1: (120 + 60) / 3; k = 2: 150 / 2
    expect(result.ltv).toEqual([47.5, 60, 75]);
    expect(result.customers).toEqual([4, 3, 2]);
  });

  it("is null where no cohort has observed the month, and skips empty cohorts", () => {
    const result = pooledLtvByMonth([5, 6], [0, 3], [0, 0, 30, 3], 2, 6);
    expect(result.ltv).toEqual([10, null]);
    expect(result.customers).toEqual([3, 0]);
  });
});

describe("payback and LTV:CAC", () => {
  it("finds the first month whose gross profit covers CAC", () => {
    // gross profit 0.5 x LTV: 20, 35, 45
    expect(paybackMonth([40, 70, 90], 35, 0.5)).toBe(1);
    expect(paybackMonth([40, 70, 90], 20, 0.5)).toBe(0);
    expect(paybackMonth([40, null, 90], 46, 0.5)).toBeNull();
    expect(paybackMonth([40, null, 90], 45, 0.5)).toBe(2);
    expect(paybackMonth([40], null, 1)).toBeNull();
  });

  it("divides gross profit per customer by CAC", () => {
    expect(ltvToCac(90, 30, 0.5)).toBe(1.5);
    expect(ltvToCac(null, 30, 1)).toBeNull();
    expect(ltvToCac(90, null, 1)).toBeNull();
    expect(ltvToCac(90, 0, 1)).toBeNull();
  });
});
