import { ltvToCac, paybackMonth } from "~/analytics/cohorts";
import { type CohortRow } from "~/analytics/retention";
import { AGGREGATE_KIND, RETENTION_DIMENSIONS, type RetentionDimension, retentionKind } from "~/data/aggregates";
import { readRetentionRows, readWholeShopRetention } from "~/data/aggregates.server";
import { loadMetricsSettings } from "~/data/settings.server";
import { type Queryable } from "~/db/pg.server";
import { type CohortFilter, type CohortsPageData } from "./cohorts";
import { loadFitState } from "./fit-state.server";
import { profitMarginOf } from "./money-basis";

// Cohorts page data: the retention aggregate the refit wrote (whole shop, or one acquisition
// filter's own row), with payback and LTV:CAC worked out for the CAC and margin in settings
// NOW, so a CAC saved a minute ago shows before the next refit. Two indexed reads.

const emptyFilters = (): CohortsPageData["filters"] => ({ channel: [], firstProduct: [], discountCode: [] });

/** A filter from the URL (?dimension=channel&value=Online%20Store), or null when absent or malformed. */
export function cohortFilterFromUrl(url: URL): CohortFilter | null {
  const dimension = url.searchParams.get("dimension");
  const value = url.searchParams.get("value");
  if (!dimension || !value || !(RETENTION_DIMENSIONS as readonly string[]).includes(dimension)) return null;
  return { dimension: dimension as RetentionDimension, value };
}

const round4 = (value: number | null) => (value === null ? null : Math.round(value * 10_000) / 10_000);

export async function loadCohortsPage(db: Queryable, shop: string, requested: CohortFilter | null): Promise<CohortsPageData> {
  const wantedKind = requested ? retentionKind(requested.dimension, requested.value) : AGGREGATE_KIND.retention;
  const [settings, rows] = await Promise.all([
    loadMetricsSettings(db, shop),
    // The whole-shop row only for its filter list (it can be large); the shown row in full.
    readRetentionRows(db, shop, wantedKind),
  ]);
  const base = rows.find((row) => row.kind === AGGREGATE_KIND.retention);
  const shown = rows.find((row) => row.kind === wantedKind);
  const filters = { ...emptyFilters(), ...(base?.data.filters ?? {}) };
  const cac = settings.cacMinor;
  // Payback and LTV:CAC on each order's own gross profit where the refit stored profit curves
  // (issue 17); rows stored before that: revenue at the margin the profit basis uses (the
  // shop's own from product costs when known).
  const margin = profitMarginOf(settings.grossMargin, settings.costs);
  const profitOr = (revenue: (number | null)[], profit: (number | null)[] | undefined) => (profit ? { values: profit, margin: 1 } : { values: revenue, margin });
  const page: CohortsPageData = {
    shop,
    currency: settings.currency,
    state: base ? "ready" : "none",
    fit: base ? null : await loadFitState(db, shop),
    computedAtIso: null,
    asOfIso: null,
    filters,
    filter: null,
    filterUnavailable: requested && !shown?.data.report ? requested : null,
    smallCohortSize: 30,
    horizonsDays: [30, 60, 90, 180, 365],
    lastCompleteMonth: null,
    olderCohortsNotListed: 0,
    totals: null,
    cohorts: [],
    ltv: null,
    cacMinor: cac,
    grossMargin: settings.grossMargin,
    costs: settings.costs ?? null,
  };
  // A missing filter row falls back to the whole shop, said on the page.
  const source = shown?.data.report ? shown : requested ? await readWholeShopRetention(db, shop) : undefined;
  const report = source?.data.report;
  if (!source || !report) return page;
  page.filter = shown?.data.report ? requested : null;
  page.computedAtIso = source.computedAt.toISOString();
  page.asOfIso = report.asOf;
  page.smallCohortSize = report.assumptions.smallCohortSize;
  page.horizonsDays = report.assumptions.horizonsDays;
  page.lastCompleteMonth = report.assumptions.lastCompleteMonth;
  page.olderCohortsNotListed = report.cohorts.olderCohortsNotListed;
  page.totals = {
    customers: report.totals.customers,
    repeatPurchaseRate: report.totals.repeatPurchaseRate,
    averageSpentToDate: report.totals.customers > 0 ? Math.round(report.totals.netRevenue / report.totals.customers) : null,
    ...(report.totals.grossProfit !== undefined && report.totals.customers > 0
      ? { averageProfitToDate: Math.round(report.totals.grossProfit / report.totals.customers) }
      : {}),
  };
  page.cohorts = report.cohorts.rows.map((row: CohortRow) => {
    const byMonth = profitOr(row.ltvByMonth, row.profitLtvByMonth);
    const atDays = profitOr(row.ltvAtDays, row.profitLtvAtDays);
    return {
      month: row.month,
      size: row.size,
      small: row.small,
      repeatPurchaseRate: row.repeatPurchaseRate,
      activeShare: row.activeShare,
      cumulativeReturnShare: row.cumulativeReturnShare,
      ltvByMonth: row.ltvByMonth,
      ltvAtDays: row.ltvAtDays,
      ...(row.profitLtvByMonth ? { profitLtvByMonth: row.profitLtvByMonth } : {}),
      ...(row.profitLtvAtDays ? { profitLtvAtDays: row.profitLtvAtDays } : {}),
      ltvToCacAtDays: atDays.values.map((ltv) => round4(ltvToCac(ltv, cac, atDays.margin))),
      paybackMonth: paybackMonth(byMonth.values, cac, byMonth.margin),
    };
  });
  const pooledAtDays = profitOr(report.ltv.atDays.map((point) => point.value), report.ltv.profitAtDays);
  const pooledByMonth = profitOr(report.ltv.byMonth, report.ltv.profitByMonth);
  page.ltv = {
    atDays: report.ltv.atDays.map((point, h) => ({ ...point, ltvToCac: round4(ltvToCac(pooledAtDays.values[h] ?? null, cac, pooledAtDays.margin)) })),
    byMonth: report.ltv.byMonth,
    byMonthCustomers: report.ltv.byMonthCustomers,
    paybackMonth: paybackMonth(pooledByMonth.values, cac, pooledByMonth.margin),
    ...(report.ltv.profitAtDays ? { profitAtDays: report.ltv.profitAtDays } : {}),
    ...(report.ltv.profitByMonth ? { profitByMonth: report.ltv.profitByMonth } : {}),
  };
  return page;
}
