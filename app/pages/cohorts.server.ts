import { ltvToCac, paybackMonth } from "~/analytics/cohorts";
import type { CohortRow } from "~/analytics/retention";
import { AGGREGATE_KIND, RETENTION_DIMENSIONS, type RetentionAggregate, type RetentionDimension, retentionKind } from "~/data/aggregates";
import { type FitState, loadFitState } from "~/pages/dashboard.server";
import { loadMetricsSettings } from "~/data/settings.server";
import { type Queryable } from "~/db/pg.server";

// Cohorts page data: the retention aggregate the refit wrote (whole shop, or one acquisition
// filter's own row), with payback and LTV:CAC worked out for the CAC and margin in settings
// NOW, so a CAC saved a minute ago shows before the next refit. Two indexed reads.

export interface CohortFilter {
  dimension: RetentionDimension;
  value: string;
}

/** A cohort as the page shows it: ltvToCacAtDays and paybackMonth recomputed from the current CAC and margin. */
export type CohortView = Omit<CohortRow, "orders">;

export interface CohortsPageData {
  shop: string;
  currency: string;
  /** "none": no refit has written cohorts yet (just installed). */
  state: "none" | "ready";
  /** Why there are no cohorts yet (import running, first refit, failure); read only in state "none". */
  fit: FitState | null;
  computedAtIso: string | null;
  asOfIso: string | null;
  /** Values offered per dimension (whole-shop row). */
  filters: Record<RetentionDimension, { value: string; customers: number }[]>;
  /** The filter shown; null: the whole shop. */
  filter: CohortFilter | null;
  /** A filter was asked for that the last refit has no row for (value gone, or a typo in the URL). */
  filterUnavailable: CohortFilter | null;
  smallCohortSize: number;
  horizonsDays: number[];
  lastCompleteMonth: string | null;
  olderCohortsNotListed: number;
  totals: { customers: number; repeatPurchaseRate: number | null } | null;
  cohorts: CohortView[];
  /** All cohorts pooled. */
  ltv: {
    atDays: { days: number; value: number | null; customers: number; ltvToCac: number | null }[];
    byMonth: (number | null)[];
    byMonthCustomers: number[];
    paybackMonth: number | null;
  } | null;
  /** From settings, in minor units; null: no CAC set (the page asks for one). */
  cacMinor: number | null;
  grossMargin: number;
}

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
    db.query<{ kind: string; computedAt: Date; data: Partial<RetentionAggregate> }>(
      `SELECT kind, "computedAt",
              CASE WHEN kind = $2 THEN data ELSE jsonb_build_object('filters', data->'filters', 'currency', data->'currency') END AS data
       FROM "ShopAggregate" WHERE shop = $1 AND kind IN ($2, $3)`,
      [shop, wantedKind, AGGREGATE_KIND.retention],
    ),
  ]);
  const base = rows.rows.find((row) => row.kind === AGGREGATE_KIND.retention);
  const shown = rows.rows.find((row) => row.kind === wantedKind);
  const filters = { ...emptyFilters(), ...(base?.data.filters ?? {}) };
  const cac = settings.cacMinor;
  const margin = settings.grossMargin;
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
    grossMargin: margin,
  };
  // A missing filter row falls back to the whole shop, said on the page.
  const source = shown?.data.report ? shown : requested ? await loadWholeShop(db, shop) : undefined;
  const report = source?.data.report;
  if (!source || !report) return page;
  page.filter = shown?.data.report ? requested : null;
  page.computedAtIso = source.computedAt.toISOString();
  page.asOfIso = report.asOf;
  page.smallCohortSize = report.assumptions.smallCohortSize;
  page.horizonsDays = report.assumptions.horizonsDays;
  page.lastCompleteMonth = report.assumptions.lastCompleteMonth;
  page.olderCohortsNotListed = report.cohorts.olderCohortsNotListed;
  page.totals = { customers: report.totals.customers, repeatPurchaseRate: report.totals.repeatPurchaseRate };
  page.cohorts = report.cohorts.rows.map((row: CohortRow) => ({
    month: row.month,
    size: row.size,
    small: row.small,
    repeatPurchaseRate: row.repeatPurchaseRate,
    activeShare: row.activeShare,
    cumulativeReturnShare: row.cumulativeReturnShare,
    ltvByMonth: row.ltvByMonth,
    ltvAtDays: row.ltvAtDays,
    ltvToCacAtDays: row.ltvAtDays.map((ltv) => round4(ltvToCac(ltv, cac, margin))),
    paybackMonth: paybackMonth(row.ltvByMonth, cac, margin),
  }));
  page.ltv = {
    atDays: report.ltv.atDays.map((point) => ({ ...point, ltvToCac: round4(ltvToCac(point.value, cac, margin)) })),
    byMonth: report.ltv.byMonth,
    byMonthCustomers: report.ltv.byMonthCustomers,
    paybackMonth: paybackMonth(report.ltv.byMonth, cac, margin),
  };
  return page;
}

async function loadWholeShop(db: Queryable, shop: string) {
  const result = await db.query<{ kind: string; computedAt: Date; data: Partial<RetentionAggregate> }>(
    `SELECT kind, "computedAt", data FROM "ShopAggregate" WHERE shop = $1 AND kind = $2`,
    [shop, AGGREGATE_KIND.retention],
  );
  return result.rows[0];
}
