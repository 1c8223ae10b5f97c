import { dayIndex } from "~/analytics/dates";
import { orderTableFrom, retentionSummaryFromTable } from "~/analytics/retention";
import type { OrderFact } from "~/analytics/retention";
import { AGGREGATE_KIND, type RetentionAggregate, retentionKind } from "~/data/aggregates";
import { cohortFilterFromUrl, loadCohortsPage } from "~/pages/cohorts.server";
import { cohortsInBasis } from "~/pages/cohorts";
import { uniqueShop } from "../support/db";
import { insertAggregate, insertShop, syntheticOrders, poolForTests } from "../support/precomputed-rows";

// The cohorts page reads the retention rows the refit writes (here computed with the same
// analytics functions) and works out payback and LTV:CAC for the CAC in settings now.

const pool = poolForTests();
const AS_OF = dayIndex("2026-10-31");

function aggregateOf(orders: OrderFact[], filter?: RetentionAggregate["filter"]): RetentionAggregate {
  const { table, dimensions } = orderTableFrom(orders);
  // The refit's CAC at the time (deliberately not the one in settings now).
  const report = retentionSummaryFromTable(table, { asOfDay: AS_OF, dimensions, cac: 999_999, grossMargin: 1 });
  const channels = report.byDimension.find((split) => split.key === "channel")!.rows;
  return {
    currency: "EUR",
    report,
    filters: {
      channel: channels.filter((row) => row.kind === "value").map((row) => ({ value: row.value, customers: row.customers })),
      firstProduct: [],
      discountCode: [],
    },
    ...(filter ? { filter } : {}),
  };
}

/** Orders of customers whose first order came through `channel`. */
function firstOrderChannel(orders: OrderFact[], channel: string): OrderFact[] {
  const firstChannel = new Map<string, string | null | undefined>();
  for (const order of [...orders].sort((a, b) => a.day - b.day)) if (!firstChannel.has(order.customerId)) firstChannel.set(order.customerId, order.channel);
  return orders.filter((order) => firstChannel.get(order.customerId) === channel);
}

async function seededShop(options: { cacMinor?: number | null; grossMargin?: number } = {}) {
  const shop = uniqueShop("cohorts");
  const orders = syntheticOrders({ seed: 7, customers: 600, asOfDay: AS_OF, spanDays: 540 });
  await insertShop(pool(), shop, { currency: "EUR" });
  const whole = aggregateOf(orders);
  await insertAggregate(pool(), shop, AGGREGATE_KIND.retention, AS_OF, whole);
  const pos = aggregateOf(firstOrderChannel(orders, "pos"), { dimension: "channel", value: "pos" });
  await insertAggregate(pool(), shop, retentionKind("channel", "pos"), AS_OF, pos);
  if (options.cacMinor !== undefined || options.grossMargin !== undefined) {
    await pool().query(`INSERT INTO "ShopSettings" (shop, "grossMargin", "cacMinor", "updatedAt") VALUES ($1, $2, $3, now())`, [
      shop,
      options.grossMargin ?? 1,
      options.cacMinor == null ? null : String(options.cacMinor),
    ]);
  }
  return { shop, whole, pos };
}

describe("cohorts page data", () => {
  it("shows a just-installed shop as having no cohorts yet, with the default currency and no CAC", async () => {
    const shop = uniqueShop("new");
    const page = await loadCohortsPage(pool(), shop, null);
    expect(page).toMatchObject({ shop, state: "none", cohorts: [], ltv: null, cacMinor: null, filter: null, filterUnavailable: null });
    // What the empty state explains: never fitted, no import yet.
    expect(page.fit).toEqual(expect.objectContaining({ status: null, backfill: null }));
  });

  it("returns the stored cohorts: in-month and cumulative retention, LTV at each horizon, small-cohort flags", async () => {
    const { shop, whole } = await seededShop();
    const page = await loadCohortsPage(pool(), shop, null);
    const report = whole.report;
    expect(page.state).toBe("ready");
    expect(page.currency).toBe("EUR");
    expect(page.cohorts.map((row) => row.month)).toEqual(report.cohorts.rows.map((row) => row.month));
    for (const [i, row] of page.cohorts.entries()) {
      const stored = report.cohorts.rows[i];
      expect(row.activeShare).toEqual(stored.activeShare);
      expect(row.cumulativeReturnShare).toEqual(stored.cumulativeReturnShare);
      expect(row.ltvAtDays).toEqual(stored.ltvAtDays);
      expect(row.small).toBe(stored.size < report.assumptions.smallCohortSize);
    }
    expect(page.cohorts.some((row) => row.small)).toBe(true); // the last, partial month is small
    expect(page.ltv!.atDays.map((point) => point.days)).toEqual([30, 60, 90, 180, 365]);
    expect(page.totals).toEqual({
      customers: 600,
      repeatPurchaseRate: report.totals.repeatPurchaseRate,
      averageSpentToDate: Math.round(report.totals.netRevenue / 600),
    });
    expect(page.filters.channel.map((item) => item.value).sort()).toEqual(["instagram", "pos", "web"]);
  });

  it("without a CAC in settings, has no payback or LTV:CAC (the page asks for a CAC) even though the refit used one", async () => {
    const { shop } = await seededShop();
    const page = await loadCohortsPage(pool(), shop, null);
    expect(page.cacMinor).toBeNull();
    expect(page.ltv!.paybackMonth).toBeNull();
    expect(page.ltv!.atDays.every((point) => point.ltvToCac === null)).toBe(true);
    expect(page.cohorts.every((row) => row.paybackMonth === null)).toBe(true);
  });

  it("works out payback and LTV:CAC from the CAC and margin in settings now", async () => {
    const { shop, whole } = await seededShop({ cacMinor: 2_500, grossMargin: 0.5 });
    const page = await loadCohortsPage(pool(), shop, null);
    const byMonth = whole.report.ltv.byMonth;
    // Payback: the first month whose cumulative gross profit per customer covers 25.00.
    const expected = byMonth.findIndex((ltv) => ltv !== null && 0.5 * ltv >= 2_500);
    expect(expected).toBeGreaterThanOrEqual(0);
    expect(page.ltv!.paybackMonth).toBe(expected);
    const at365 = whole.report.ltv.atDays.find((point) => point.days === 365)!;
    expect(page.ltv!.atDays.find((point) => point.days === 365)!.ltvToCac).toBeCloseTo((0.5 * at365.value!) / 2_500, 3);
    expect(page.cacMinor).toBe(2_500);
  });

  it("works out payback and LTV:CAC at the shop's profit margin from product costs once any are known (issue 17)", async () => {
    const { shop, whole } = await seededShop({ cacMinor: 2_500, grossMargin: 0.5 });
    const costs = { grossProfitMinor: 30_000, uncostedSalesMinor: 10_000, coverage: 0.9, profitMargin: 0.3 };
    await insertAggregate(pool(), shop, AGGREGATE_KIND.kpis, AS_OF, { costs });
    const page = await loadCohortsPage(pool(), shop, null);
    expect(page).toMatchObject({ grossMargin: 0.5, costs });
    const expected = whole.report.ltv.byMonth.findIndex((ltv) => ltv !== null && 0.3 * ltv >= 2_500);
    expect(expected).toBeGreaterThan(whole.report.ltv.byMonth.findIndex((ltv) => ltv !== null && 0.5 * ltv >= 2_500));
    expect(page.ltv!.paybackMonth).toBe(expected);
    const at365 = whole.report.ltv.atDays.find((point) => point.days === 365)!;
    expect(page.ltv!.atDays.find((point) => point.days === 365)!.ltvToCac).toBeCloseTo((0.3 * at365.value!) / 2_500, 3);
  });

  it("shows every amount as profit with the profit basis, payback and LTV:CAC unchanged (issue 13, one money basis per page)", async () => {
    const { shop } = await seededShop({ cacMinor: 2_500, grossMargin: 0.5 });
    const page = await loadCohortsPage(pool(), shop, null);
    const profit = cohortsInBasis(page, 0.5);
    const half = (value: number | null) => (value === null ? null : Math.round(value * 0.5));
    expect(profit.ltv!.byMonth).toEqual(page.ltv!.byMonth.map(half));
    expect(profit.ltv!.atDays.map((point) => point.value)).toEqual(page.ltv!.atDays.map((point) => half(point.value)));
    expect(profit.cohorts.map((row) => row.ltvAtDays)).toEqual(page.cohorts.map((row) => row.ltvAtDays.map(half)));
    expect(profit.totals!.averageSpentToDate).toBe(half(page.totals!.averageSpentToDate));
    expect(profit.ltv!.paybackMonth).toBe(page.ltv!.paybackMonth);
    expect(profit.ltv!.atDays.map((point) => point.ltvToCac)).toEqual(page.ltv!.atDays.map((point) => point.ltvToCac));
    expect(cohortsInBasis(page, 1)).toBe(page);
  });

  it("shows a filter's own row, and falls back to the whole shop (said so) for a value it has no row for", async () => {
    const { shop, pos, whole } = await seededShop();
    const filtered = await loadCohortsPage(pool(), shop, { dimension: "channel", value: "pos" });
    expect(filtered.filter).toEqual({ dimension: "channel", value: "pos" });
    expect(filtered.totals!.customers).toBe(pos.report.totals.customers);
    expect(filtered.totals!.customers).toBeLessThan(600);
    expect(filtered.filters.channel.length).toBe(3); // still the whole shop's list

    const missing = await loadCohortsPage(pool(), shop, { dimension: "channel", value: "faxed-in" });
    expect(missing.filter).toBeNull();
    expect(missing.filterUnavailable).toEqual({ dimension: "channel", value: "faxed-in" });
    expect(missing.totals!.customers).toBe(whole.report.totals.customers);
  });

  it("reads only its own shop's rows", async () => {
    const { shop } = await seededShop({ cacMinor: 100 });
    const other = uniqueShop("other");
    const page = await loadCohortsPage(pool(), other, { dimension: "channel", value: "pos" });
    expect(page.state).toBe("none");
    expect(page.cohorts).toEqual([]);
    expect(page.cacMinor).toBeNull();
    expect(JSON.stringify(page)).not.toContain(shop);
  });

  it("reads a filter from the URL only when it names a known dimension and a value", () => {
    expect(cohortFilterFromUrl(new URL("https://x/app/cohorts?dimension=discountCode&value=WELCOME10"))).toEqual({ dimension: "discountCode", value: "WELCOME10" });
    expect(cohortFilterFromUrl(new URL("https://x/app/cohorts?dimension=shop&value=x"))).toBeNull();
    expect(cohortFilterFromUrl(new URL("https://x/app/cohorts?dimension=channel"))).toBeNull();
    expect(cohortFilterFromUrl(new URL("https://x/app/cohorts"))).toBeNull();
  });
});
