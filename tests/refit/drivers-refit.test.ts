import { describe, expect, it } from "vitest";
import { type DriversAggregate } from "~/data/aggregates";
import { refitShop } from "~/refit/refit.server";
import { uniqueShop } from "../support/db";
import { createShop, deliver } from "../support/ingested-shops";
import { type Json } from "../support/webhook-fixtures";
import { orderPayload } from "../support/webhook-payloads";
import { NOW, aggregate, pool } from "./refit-fixtures";

// The acquisition drivers and reorder timing a refit writes, on a store computed by hand,
// delivered through the real ingest path (orders/create webhooks of the real shape), so the
// marketing source comes from each order's landing_site and referring_site.
//   A  Jan 1 $100, Jan 11 $50            Sock, WELCOME, google / cpc
//   B  Jan 5 $200                        Sock, no code, instagram.com (referral)
//   C  Feb 1 $80, Mar 3 $40, Apr 2 $40   Hat, WELCOME, google / cpc
//   D  Jun 20 $60                        Hat, no code, direct
//   E  Jan 15 $100                       Sock, no code, no landing site (unknown)
// As of 2026-06-30 (refit-fixtures' NOW).

let nextId = 7_100_000;
async function placeOrder(shop: string, customerId: number, date: string, cents: number, first: { product: string; code: string | null; landing: string | null; referrer: string | null }) {
  const at = new Date(`${date}T12:00:00Z`);
  const payload = orderPayload({ id: nextId++, customerId, totalCents: cents, processedAt: at, createdAt: at, updatedAt: at });
  (payload.line_items as Json[])[0].title = first.product;
  payload.discount_codes = first.code ? [{ code: first.code, amount: "0.00", type: "fixed_amount" }] : [];
  payload.landing_site = first.landing;
  payload.referring_site = first.referrer;
  await deliver(shop, "orders/create", payload);
}

describe("refit: acquisition drivers and reorder timing (issue 17)", () => {
  it("ranks each first-order value by customers, repeat rate (Wilson), LTV, AOV and days to a 2nd order, and times the reorders", async () => {
    const shop = uniqueShop("drivers");
    await createShop(shop);
    const google = { landing: "/products/sock?utm_source=Google&utm_medium=cpc", referrer: "https://www.google.com/" };
    const sockWelcome = { product: "Sock", code: "WELCOME", ...google };
    await placeOrder(shop, 9101, "2026-01-01", 10_000, sockWelcome);
    await placeOrder(shop, 9101, "2026-01-11", 5_000, { product: "Hat", code: null, landing: "/", referrer: null });
    await placeOrder(shop, 9102, "2026-01-05", 20_000, { product: "Sock", code: null, landing: "/", referrer: "https://www.instagram.com/p/x" });
    await placeOrder(shop, 9103, "2026-02-01", 8_000, { product: "Hat", code: "WELCOME", ...google });
    await placeOrder(shop, 9103, "2026-03-03", 4_000, { product: "Sock", code: null, landing: "/", referrer: null });
    await placeOrder(shop, 9103, "2026-04-02", 4_000, { product: "Sock", code: null, landing: "/", referrer: null });
    await placeOrder(shop, 9104, "2026-06-20", 6_000, { product: "Hat", code: null, landing: "/collections", referrer: null });
    await placeOrder(shop, 9105, "2026-01-15", 10_000, { product: "Sock", code: null, landing: null, referrer: null });

    await refitShop(pool, shop, { trigger: "manual", now: NOW });
    const drivers = await aggregate<DriversAggregate>(shop, "drivers");
    expect(drivers).toMatchObject({ currency: "USD", asOfIso: "2026-06-30", customers: 5 });
    const table = (key: string) => drivers.tables.find((t) => t.key === key)!;

    const [sock, hat] = table("firstProduct").rows;
    // Sock: A, B, E; 1 of 3 ordered again (Wilson 95 %: 0.0615 .. 0.7923); 90-day LTV (150 + 200 + 100) / 3.
    expect(sock).toMatchObject({ label: "Sock", filterValue: "Sock", customers: 3, repeatRate: 0.3333, aov: 11_250, medianDaysToSecondOrder: 10 });
    expect(sock.repeatRateLow).toBeCloseTo(0.0615, 3);
    expect(sock.repeatRateHigh).toBeCloseTo(0.7923, 3);
    expect(sock.ltv.map((l) => [l.days, l.value, l.customers])).toEqual([
      [90, 15_000, 3],
      [365, null, 0],
    ]);
    // Hat: C and D (10 days old: not in the 90-day LTV); every figure flagged small.
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
});
