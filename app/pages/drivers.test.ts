import { describe, expect, it } from "vitest";
import { type DriverRow } from "~/analytics/drivers";
import { driverFilterValue, sortDriverRows } from "./drivers";

const row = (label: string, kind: DriverRow["kind"], customers: number, repeatRate: number | null): DriverRow => ({
  label,
  filterValue: kind === "other" ? null : kind === "none" ? "" : label,
  kind,
  customers,
  share: 0,
  small: false,
  repeatCustomers: 0,
  repeatRate,
  repeatRateLow: null,
  repeatRateHigh: null,
  ltv: [],
  aov: null,
  orders: 0,
  medianDaysToSecondOrder: null,
  secondOrders: 0,
  chanceOfOrder90d: null,
  predictedCustomers: 0,
});

describe("sortDriverRows", () => {
  const rows = [row("Sock", "value", 30, 0.2), row("Hat", "value", 10, null), row("Other", "other", 50, 0.9), row("Scarf", "value", 20, 0.4), row("No code", "none", 5, 0.8)];

  it("sorts values by the column, without a value last either way, Other and none after the values", () => {
    expect(sortDriverRows(rows, "repeatRate", "descending").map((r) => r.label)).toEqual(["Scarf", "Sock", "Hat", "Other", "No code"]);
    expect(sortDriverRows(rows, "repeatRate", "ascending").map((r) => r.label)).toEqual(["Sock", "Scarf", "Hat", "Other", "No code"]);
    expect(sortDriverRows(rows, "customers", "ascending").map((r) => r.label)).toEqual(["Hat", "Scarf", "Sock", "Other", "No code"]);
  });

  it("sorts months by the calendar, not the alphabet", () => {
    const months = ["March", "January", "December"].map((m) => row(m, "value", 1, 0));
    expect(sortDriverRows(months, "label", "ascending").map((r) => r.label)).toEqual(["January", "March", "December"]);
  });

  it("links a month by its number and Other to no filter", () => {
    expect(driverFilterValue("firstOrderMonth", row("December", "value", 1, 0))).toBe("12");
    expect(driverFilterValue("firstProduct", rows[2])).toBeNull();
    expect(driverFilterValue("discountCode", rows[4])).toBe("");
  });
});
