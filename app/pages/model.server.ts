import type { ShopModelJson } from "~/analytics/clv/shop-model";
import { dayToIso } from "~/analytics/dates";
import { AGGREGATE_KIND, type BacktestAggregate } from "~/data/aggregates";
import { type FitState, loadFitState } from "~/pages/dashboard.server";
import { loadMetricsSettings } from "~/data/settings.server";
import { type Queryable } from "~/db/pg.server";

// Model page data: the shop's stored fit (ShopFit: which model, why, parameters, the
// assumptions, or why there are no predictions) and the backtest aggregate. Two indexed reads.

export interface BacktestWeek {
  week: number;
  startIso: string;
  endIso: string;
  holdout: boolean;
  actual: number;
  predicted: number;
  cumulativeActual: number;
  cumulativePredicted: number;
}

export interface ModelPageData {
  shop: string;
  currency: string;
  /** none: no refit yet; ready: predictions; no-predictions: too little data (reason says why); failed: the last refit failed. */
  status: "none" | "ready" | "no-predictions" | "failed";
  /** Import progress for the "no model yet" state; read only when status is "none". */
  notReady: FitState | null;
  reason: string | null;
  reasonCode: string | null;
  error: string | null;
  model: ShopModelJson | null;
  asOfIso: string | null;
  customers: number;
  orders: number;
  trigger: string | null;
  finishedAtIso: string | null;
  durationMs: number | null;
  backtest: {
    holdoutDays: number;
    note: string | null;
    modelName: string | null;
    calibrationEndIso: string | null;
    holdoutEndIso: string | null;
    customers: number;
    meanAbsoluteError: number | null;
    totalPredicted: number | null;
    totalActual: number | null;
    weeks: BacktestWeek[];
  } | null;
  /** Settings now (the model's assumptions are those of its fit; a difference means a refit is due). */
  settings: { grossMargin: number; annualDiscountRate: number; horizonDays: number };
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

export async function loadModelPage(db: Queryable, shop: string): Promise<ModelPageData> {
  const [settings, fits, aggregates] = await Promise.all([
    loadMetricsSettings(db, shop),
    db.query<{
      status: string;
      reason: string | null;
      reasonCode: string | null;
      error: string | null;
      model: ShopModelJson | null;
      asOfDay: number;
      customers: number;
      orders: number;
      trigger: string | null;
      finishedAt: Date | null;
      durationMs: number | null;
    }>(
      `SELECT status, reason, "reasonCode", error, model, "asOfDay", customers, orders, trigger, "finishedAt", "durationMs"
       FROM "ShopFit" WHERE shop = $1`,
      [shop],
    ),
    db.query<{ data: BacktestAggregate }>(`SELECT data FROM "ShopAggregate" WHERE shop = $1 AND kind = $2`, [shop, AGGREGATE_KIND.backtest]),
  ]);
  const fit = fits.rows[0];
  const stored = aggregates.rows[0]?.data;
  const result = stored?.result ?? null;
  const status = !fit ? "none" : fit.status === "ready" || fit.status === "no-predictions" || fit.status === "failed" ? fit.status : "failed";
  return {
    shop,
    currency: settings.currency,
    status,
    notReady: fit ? null : await loadFitState(db, shop),
    reason: fit?.reason ?? null,
    reasonCode: fit?.reasonCode ?? null,
    error: fit?.error ?? null,
    model: fit?.model ?? null,
    asOfIso: fit ? dayToIso(fit.asOfDay) : null,
    customers: fit?.customers ?? 0,
    orders: fit?.orders ?? 0,
    trigger: fit?.trigger ?? null,
    finishedAtIso: fit?.finishedAt ? fit.finishedAt.toISOString() : null,
    durationMs: fit?.durationMs ?? null,
    backtest: stored
      ? {
          holdoutDays: stored.holdoutDays,
          note: stored.note,
          modelName: result?.modelName ?? null,
          calibrationEndIso: result ? dayToIso(result.calibrationEndDay) : null,
          holdoutEndIso: result ? dayToIso(result.holdoutEndDay) : null,
          customers: result?.customers ?? 0,
          meanAbsoluteError: result ? round(result.meanAbsoluteError, 4) : null,
          totalPredicted: result ? round(result.totalPredicted, 1) : null,
          totalActual: result?.totalActual ?? null,
          weeks: (result?.weekly ?? []).map((row) => ({
            week: row.week,
            startIso: dayToIso(row.startDay),
            endIso: dayToIso(row.endDay),
            holdout: row.holdout,
            actual: row.actual,
            predicted: round(row.predicted, 2),
            cumulativeActual: row.cumulativeActual,
            cumulativePredicted: round(row.cumulativePredicted, 2),
          })),
        }
      : null,
    settings: { grossMargin: settings.grossMargin, annualDiscountRate: settings.annualDiscountRate, horizonDays: settings.horizonDays },
  };
}
