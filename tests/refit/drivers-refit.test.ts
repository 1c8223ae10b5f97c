import { describe, expect, it } from "vitest";
import { type DriversAggregate } from "~/data/aggregates";
import { loadMetricsSettings, saveSettings } from "~/data/settings.server";
import { refitShop } from "~/refit/refit.server";
import { uniqueShop } from "../support/db";
import { ingestAcquisitionStore } from "../support/acquisition-store";
import { NOW, aggregate, metricsRows, pool } from "./refit-fixtures";

// The acquisition drivers and reorder timing a refit writes, on the store of
// tests/support/acquisition-store.ts (computed by hand there), delivered through the real
// ingest path, so the marketing source comes from each order's landing_site and referrer.

describe("refit: acquisition drivers and reorder timing (issue 17)", () => {
  it("ranks each first-order value by customers, repeat rate (Wilson), LTV, AOV and days to a 2nd order, and times the reorders", async () => {
    const shop = uniqueShop("drivers");
    await ingestAcquisitionStore(shop);

    await refitShop(pool, shop, { trigger: "manual", now: NOW });
    const drivers = await aggregate<DriversAggregate>(shop, "drivers");
    expect(drivers).toMatchObject({ currency: "USD", asOfIso: "2026-06-30", customers: 5 });
    const table = (key: string) => drivers.tables.find((t) => t.key === key)!;

    const [sock, hat] = table("firstProduct").rows;
    // Sock: 9101, 9102, 9105; 1 of 3 ordered again (Wilson 95 %: 0.0615 .. 0.7923); 90-day LTV (150 + 200 + 100) / 3.
    expect(sock).toMatchObject({ label: "Sock", filterValue: "Sock", customers: 3, repeatRate: 0.3333, aov: 11_250, medianDaysToSecondOrder: 10 });
    expect(sock.repeatRateLow).toBeCloseTo(0.0615, 3);
    expect(sock.repeatRateHigh).toBeCloseTo(0.7923, 3);
    expect(sock.ltv.map((l) => [l.days, l.value, l.customers])).toEqual([
      [90, 15_000, 3],
      [365, null, 0],
    ]);
    // Hat: 9103 and 9104 (10 days old: not in the 90-day LTV); every figure flagged small.
    expect(hat).toMatchObject({ label: "Hat", customers: 2, small: true, repeatRate: 0.5, aov: 5_500, medianDaysToSecondOrder: 30 });
    expect(hat.ltv[0]).toMatchObject({ value: 16_000, customers: 1, small: true });

    expect(table("discountCode").rows.map((r) => [r.label, r.filterValue, r.customers, r.repeatRate])).toEqual([
      ["WELCOME", "WELCOME", 2, 1],
      ["No code", "", 3, 0],
    ]);
    expect(table("marketingSource").rows.map((r) => [r.label, r.customers])).toEqual([
      ["google / cpc", 2],
      ["direct", 1],
      ["instagram.com (referral)", 1],
      ["Unknown source", 1],
    ]);
    expect(table("channel").rows.map((r) => [r.label, r.customers])).toEqual([["web", 5]]);
    expect(table("firstOrderMonth").rows.map((r) => [r.label, r.customers, r.repeatRate])).toEqual([
      ["January", 3, 0.3333],
      ["February", 1, 1],
      ["June", 1, 0],
    ]);

    const [first, second, later] = drivers.reorder.steps;
    expect(first).toMatchObject({ gaps: 2, median: 20, p25: 15, p75: 25 });
    expect(first.within.map((w) => [w.days, w.share, w.orders])).toEqual([
      [30, 0.5, 4],
      [60, 0.5, 4],
      [90, 0.5, 4],
    ]);
    expect(second).toMatchObject({ gaps: 1, median: 30 });
    expect(later.within.map((w) => w.orders)).toEqual([1, 1, 0]);
  });

  it("puts customers whose first order fell in the shop's holiday season in Holiday-season first buyers, with the season from Settings", async () => {
    const shop = uniqueShop("holiday");
    await ingestAcquisitionStore(shop);
    const holidayBuyers = async () =>
      (await metricsRows(shop)).filter((row) => row.behaviours.includes("holiday-season-first-buyer")).map((row) => Number(row.customerId));
    // The default season (Nov 15 to Dec 31): nobody's first order is in it.
    await refitShop(pool, shop, { trigger: "manual", now: NOW });
    expect(await holidayBuyers()).toEqual([]);
    // A season over the new year, Dec 20 to Jan 5: 9101 (Jan 1) and 9102 (Jan 5) are in; 9105 (Jan 15) is not.
    const { timezone: _timezone, currency: _currency, ...stored } = await loadMetricsSettings(pool, shop);
    await saveSettings(pool, shop, { ...stored, holidaySeason: { start: "12-20", end: "01-05" } });
    await refitShop(pool, shop, { trigger: "settings", now: NOW });
    expect(await holidayBuyers()).toEqual([9101, 9102]);
  });
});
