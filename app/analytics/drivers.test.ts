import { describe, expect, it } from "vitest";
import { dayIndex } from "./dates";
import { acquisitionDrivers, type DriverDimensionInput, firstOrderMonthName } from "./drivers";
import { orderTableFrom } from "./retention";
import { wilsonInterval } from "./stats";

// A store small enough to compute by hand (as of 2026-06-30):
//   A  Jan 1 100, Jan 11 50       Sock, WELCOME
//   B  Jan 5 200                  Sock, no code
//   C  Feb 1 80, Mar 3 40, Apr 2 40   Hat, WELCOME   (gaps of 30 and 30 days)
//   D  Jun 20 60                  Hat, no code     (too new for the 90-day LTV)
//   E  Jan 15 100, refund -10 on Jan 20   Sock, no code
const asOfDay = dayIndex("2026-06-30");
const order = (customerId: string, date: string, net: number) => ({ customerId, day: dayIndex(date), net });
const { table } = orderTableFrom([
  order("A", "2026-01-01", 100),
  order("A", "2026-01-11", 50),
  order("B", "2026-01-05", 200),
  order("C", "2026-02-01", 80),
  order("C", "2026-03-03", 40),
  order("C", "2026-04-02", 40),
  order("D", "2026-06-20", 60),
  order("E", "2026-01-15", 100),
  order("E", "2026-01-20", -10),
]);
const firstDays = [0, 2, 3, 6, 7].map((row) => table.days[row]);
const product = ["Sock", "Sock", "Hat", "Hat", "Sock"];
const code = ["WELCOME", null, "WELCOME", null, null];
const dimensions: DriverDimensionInput[] = [
  { key: "firstProduct", label: "First product", valueOf: (c) => product[c], noneLabel: "(none)" },
  { key: "discountCode", label: "First discount code", valueOf: (c) => code[c], noneLabel: "No code" },
  { key: "firstOrderMonth", label: "Month of the first order", valueOf: (c) => firstOrderMonthName(firstDays[c]), noneLabel: "(none)" },
];
const chance = Float64Array.from([0.5, 0.2, Number.NaN, 0.9, 0.1]);
const report = acquisitionDrivers(table, dimensions, { asOfDay, smallGroupSize: 3 }, chance);

describe("acquisitionDrivers on a hand-computed store", () => {
  it("ranks first products by customers with repeat rate, its Wilson interval, LTV, AOV, days to a 2nd order and chance", () => {
    const [sock, hat] = report.tables[0].rows;
    expect(sock).toMatchObject({ label: "Sock", filterValue: "Sock", customers: 3, share: 0.6, small: false, repeatCustomers: 1, repeatRate: 0.3333 });
    // Wilson 95 % for 1 of 3, worked by hand: 0.0615 .. 0.7923.
    expect(sock.repeatRateLow).toBeCloseTo(0.0615, 3);
    expect(sock.repeatRateHigh).toBeCloseTo(0.7923, 3);
    // 90 days: A 150, B 200, E 100 - 10 = 90 -> 146.67; nobody has had 365 days.
    expect(sock.ltv).toEqual([
      { days: 90, value: 146.67, customers: 3, small: false },
      { days: 365, value: null, customers: 0, small: true },
    ]);
    expect(sock).toMatchObject({ aov: 110, orders: 4, medianDaysToSecondOrder: 10, secondOrders: 1, chanceOfOrder90d: 0.2667, predictedCustomers: 3 });
    // Hat: C and D; D is 10 days old, so the 90-day LTV is C's 80 + 40 + 40 alone.
    expect(hat).toMatchObject({ label: "Hat", customers: 2, small: true, repeatRate: 0.5, aov: 55, medianDaysToSecondOrder: 30, chanceOfOrder90d: 0.9, predictedCustomers: 1 });
    expect(hat.ltv[0]).toEqual({ days: 90, value: 160, customers: 1, small: true });
  });

  it("counts the repeat rate within 90 / 365 days only over customers who have had that long", () => {
    const [sock, hat] = report.tables[0].rows;
    // Sock: A (2nd order on day 11), B and E (a refund is not an order) are all 90 days old: 1 of 3.
    expect(sock.repeatWithin?.[0]).toMatchObject({ days: 90, rate: 0.3333, repeaters: 1, customers: 3, small: false });
    expect(sock.repeatWithin?.[0].low).toBeCloseTo(0.0615, 3);
    // Hat: D, first order 10 days ago, cannot have repeated within 90 days yet: C alone, 1 of 1
    // (the plain repeat rate counts D as not repeating: 0.5).
    expect(hat.repeatWithin?.[0]).toMatchObject({ days: 90, rate: 1, repeaters: 1, customers: 1, small: true });
    const interval = wilsonInterval(1, 1);
    expect(hat.repeatWithin?.[0].low).toBeCloseTo(interval?.low ?? Number.NaN, 4);
    // Nobody has had 365 days.
    expect(hat.repeatWithin?.[1]).toEqual({ days: 365, rate: null, low: null, high: null, repeaters: 0, customers: 0, small: true });
  });

  it("lists customers without a code as No code, filterable by the empty value", () => {
    const rows = report.tables[1].rows;
    expect(rows.map((r) => [r.label, r.filterValue, r.kind, r.customers, r.repeatRate])).toEqual([
      ["WELCOME", "WELCOME", "value", 2, 1],
      ["No code", "", "none", 3, 0],
    ]);
  });

  it("groups customers by the month of the year of their first order, in calendar order", () => {
    expect(report.tables[2].rows.map((r) => [r.label, r.customers, r.repeatRate])).toEqual([
      ["January", 3, 0.3333],
      ["February", 1, 1],
      ["June", 1, 0],
    ]);
  });

  it("groups values past the top into Other, which links to no filter", () => {
    const few = acquisitionDrivers(table, dimensions.slice(0, 1), { asOfDay, topValues: 1 });
    expect(few.tables[0].rows.map((r) => [r.label, r.filterValue, r.customers])).toEqual([
      ["Sock", "Sock", 3],
      ["Other", null, 2],
    ]);
    expect(few.tables[0].distinctValues).toBe(2);
  });

  it("times reorders per step: quartiles of the gaps and the share reordering within 30/60/90 days of those who had that long", () => {
    const [first, second, later] = report.reorder.steps;
    // 1st -> 2nd: A 10 days, C 30 days; first orders at least 30 days old: A, B, C, E (D is 10 days old).
    expect(first).toMatchObject({ gaps: 2, median: 20, p25: 15, p75: 25 });
    expect(first.within).toEqual([
      { days: 30, share: 0.5, orders: 4 },
      { days: 60, share: 0.5, orders: 4 },
      { days: 90, share: 0.5, orders: 4 },
    ]);
    expect(first.histogram.reduce((a, b) => a + b, 0)).toBe(2);
    expect(report.reorder.buckets[first.histogram.indexOf(1)].label).toBe("8-14 days");
    // 2nd -> 3rd: A's Jan 11 (not followed), C's Mar 3 (followed 30 days later).
    expect(second).toMatchObject({ gaps: 1, median: 30 });
    expect(second.within[0]).toEqual({ days: 30, share: 0.5, orders: 2 });
    // Later: C's Apr 2, 89 days before as-of: observable at 30 and 60 days, not yet at 90.
    expect(later.gaps).toBe(0);
    expect(later.within).toEqual([
      { days: 30, share: 0, orders: 1 },
      { days: 60, share: 0, orders: 1 },
      { days: 90, share: null, orders: 0 },
    ]);
  });

  it("gives the same report from interned codes as from valueOf (the refit's path)", () => {
    // Codes numbered in another order than the customers, an unused code, a code whose value
    // repeats another's (one value), an empty value and codes out of range (none).
    const values = ["Hat", "unused", "Sock", "", "Sock"];
    const productCodes = [2, 4, 0, 0, 2];
    const codeValues = ["WELCOME"];
    const codeCodes = [0, -1, 0, 7, -1];
    const months = ["January", "February", "June"];
    const monthCodes = firstDays.map((day) => months.indexOf(firstOrderMonthName(day)));
    const coded: DriverDimensionInput[] = [
      { key: "firstProduct", label: "First product", codes: { ofCustomer: productCodes, values }, noneLabel: "(none)" },
      { key: "discountCode", label: "First discount code", codes: { ofCustomer: codeCodes, values: codeValues }, noneLabel: "No code" },
      { key: "firstOrderMonth", label: "Month of the first order", codes: { ofCustomer: Int32Array.from(monthCodes), values: months }, noneLabel: "(none)" },
    ];
    expect(acquisitionDrivers(table, coded, { asOfDay, smallGroupSize: 3 }, chance)).toEqual(report);
    const blank = [{ key: "marketingSource", label: "Marketing source", codes: { ofCustomer: [], values: [] }, noneLabel: "Unknown source" }] as const;
    const none = acquisitionDrivers(table, blank, { asOfDay });
    expect(none.tables[0].rows.map((r) => [r.label, r.customers])).toEqual([["Unknown source", 5]]);
    const { codes: _codes, ...named } = blank[0];
    expect(none).toEqual(acquisitionDrivers(table, [{ ...named, valueOf: () => null }], { asOfDay }));
  });

  it("refuses a chance column of the wrong length", () => {
    expect(() => acquisitionDrivers(table, dimensions, { asOfDay }, new Float64Array(2))).toThrow(/2 values for 5 customers/);
  });
});

describe("wilsonInterval", () => {
  it("matches the published interval and stays inside 0..1", () => {
    // Newcombe (1998), table I: 81 of 263 -> 0.2553 .. 0.3662.
    const i = wilsonInterval(81, 263)!;
    expect(i.low).toBeCloseTo(0.2553, 4);
    expect(i.high).toBeCloseTo(0.3662, 4);
    expect(wilsonInterval(0, 10)!.low).toBe(0);
    expect(wilsonInterval(10, 10)!.high).toBe(1);
    expect(wilsonInterval(0, 0)).toBeNull();
    expect(() => wilsonInterval(3, 2)).toThrow(RangeError);
  });
});
