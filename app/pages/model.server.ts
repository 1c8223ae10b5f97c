import { CHOICE_TIE_RULE, type ShopModelJson } from "~/analytics/clv/shop-model";
import { dayToIso } from "~/analytics/dates";
import { readBacktestAggregate } from "~/data/aggregates.server";
import { loadMetricsSettings } from "~/data/settings.server";
import { readFitSummary } from "~/data/shop-fit.server";
import { type Queryable } from "~/db/pg.server";
import { loadFitState } from "./fit-state.server";
import { type ModelChoice, type ModelPageData } from "./model";

// Model page data: the shop's stored fit (ShopFit: which model, why, parameters, the
// assumptions, or why there are no predictions) and the backtest aggregate. Two indexed reads.

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

/** The stored fit's candidates as the page lists them (chosen first), and the tie; nothing is refitted. */
export function modelChoice(model: ShopModelJson): ModelChoice {
  const candidates = Object.entries(model.candidates).flatMap(([name, fit]) =>
    fit
      ? [
          {
            name,
            chosen: name === model.chosen,
            converged: fit.converged,
            message: fit.message,
            params: { ...fit.params } as Record<string, number>,
            logLikelihood: fit.logLikelihood,
            edge: fit.boundary ?? null,
            nestedLogLikelihood: fit.nestedLogLikelihood ?? null,
            effectiveParameters: fit.effectiveParameters ?? null,
            holdoutError: fit.holdoutMeanAbsoluteError ?? null,
            holdoutStandardError: fit.holdoutStandardError ?? null,
            calibration: fit.calibration
              ? {
                  params: { ...fit.calibration.params } as Record<string, number>,
                  logLikelihood: fit.calibration.logLikelihood,
                  converged: fit.calibration.converged,
                  edge: fit.calibration.boundary,
                }
              : null,
          },
        ]
      : [],
  );
  candidates.sort((a, b) => Number(b.chosen) - Number(a.chosen));
  const tie = model.choiceTie ?? null;
  return { tie, tieRule: tie ? CHOICE_TIE_RULE : null, candidates };
}

export async function loadModelPage(db: Queryable, shop: string): Promise<ModelPageData> {
  const [settings, fit, stored] = await Promise.all([loadMetricsSettings(db, shop), readFitSummary(db, shop), readBacktestAggregate(db, shop)]);
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
    choice: fit?.model ? modelChoice(fit.model) : null,
    predictionSource: fit?.predictionSource ?? null,
    averages: fit?.averagesEstimate ?? null,
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
          // Rows written before issue 16 have neither: the page then shows the weekly chart alone.
          groups: (result?.conditionalExpectations ?? []).map((row) => ({
            repeatOrders: row.frequency,
            orMore: row.orMore,
            customers: row.customers,
            actual: row.actual === null ? null : round(row.actual, 4),
            predicted: row.predicted === null ? null : round(row.predicted, 4),
          })),
          spend: result?.spend
            ? {
                customers: result.spend.customers,
                meanAbsoluteErrorMinor: Math.round(result.spend.meanAbsoluteError),
                biasMinor: Math.round(result.spend.bias),
                meanPredictedMinor: Math.round(result.spend.meanPredicted),
                meanActualMinor: Math.round(result.spend.meanActual),
              }
            : null,
          spendNote: result?.spendNote ?? null,
        }
      : null,
    settings: { grossMargin: settings.grossMargin, annualDiscountRate: settings.annualDiscountRate, horizonDays: settings.horizonDays },
  };
}
