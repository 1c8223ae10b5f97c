import { type BehaviourInput, behaviourThresholds } from "~/analytics/behaviour";
import { type CountModelParams, fitCountModelByName } from "~/analytics/clv/count-model";
import { type FitResult } from "~/analytics/clv/estimation";
import { APP_SHOP_CANDIDATES, type CountModelFitter, type ShopModel, fitShopModelAsync } from "~/analytics/clv/shop-model";
import { SHOP_MODEL_UNIT, type ScoringContext } from "~/analytics/customer-metrics";
import { type AveragesCustomer, type AveragesEstimate, estimateFromAverages } from "~/analytics/estimate-from-averages";
import { retentionSummaryFromTable } from "~/analytics/retention";
import { type RfmInput, rfmCutPoints } from "~/analytics/rfm";
import { type MetricsSettings } from "~/data/settings.server";
import { writeShopFit } from "~/data/shop-fit.server";
import { type Queryable } from "~/db/pg.server";
import { type RefitTrigger } from "~/queues/contract";
import { startTypeScriptWorker } from "~/lib/ts-worker";
import { type FitTask } from "./fit-thread";
import { scoreCustomers } from "./parallel-scoring.server";
import { type ShopData } from "./read-orders.server";

// The refit's steps 2 and 3: from the orders read, the shop's model (or why not), RFM cut
// points, every customer's prediction once, the retention report and behaviour thresholds
// (VIP needs the predicted CLV distribution); then the ShopFit row (version + 1), written
// before the rescore so live jobs during it already score with the new fit. Without a model
// (too little data, or no convergence) the fit carries the estimate from averages instead.

export interface FitOutcome {
  model: ShopModel | null;
  /** Without a model: the estimate from averages every customer who ordered is given (null with a model, or with no customer). */
  averages: AveragesEstimate | null;
  status: "ready" | "no-predictions";
  reasonCode: string | null;
  reason: string | null;
}

/**
 * A customer the fit learns from: one with an order that was not cancelled or refunded in
 * full. Customers with only such orders get no prediction (customerMetrics), so they stay out
 * of the model, the estimate from averages and the VIP threshold too (issue 13).
 */
function counted(facts: ShopData["facts"], i: number): boolean {
  return facts.hasOrders(i) && !facts.onlyVoidedOrders(i);
}

/**
 * Distinct (x, t_x, T) rows from which Pareto/NBD is fitted on a thread of its own while this
 * thread fits the modified BG/NBD and Gamma-Gamma; fewer, and starting the thread costs more
 * than it saves.
 */
export const FIT_THREAD_MIN_ROWS = 20_000;

/**
 * Pareto/NBD on a thread of its own (fit-thread.ts), or null (this thread fits it) for a small
 * row set. A thread that cannot start or fails gives way to this thread: same code, same fit.
 */
export function paretoNbdOnThread(minRows = FIT_THREAD_MIN_ROWS, onFallback: (why: string) => void = () => {}): CountModelFitter {
  return (name, rows, options) => {
    if (name !== "paretonbd" || rows.count < minRows) return null;
    const here = () => fitCountModelByName(name, rows, options);
    const task: FitTask = { name, x: rows.x, tx: rows.tx, T: rows.T, weight: rows.weight, options };
    let worker: ReturnType<typeof startTypeScriptWorker>;
    try {
      worker = startTypeScriptWorker(new URL("./fit-thread.ts", import.meta.url), { workerData: task });
    } catch (error) {
      onFallback(String(error));
      return null;
    }
    return new Promise<FitResult<CountModelParams> | null>((resolve) => {
      let settled = false; // the exit that terminate() causes after the answer is no failure
      const fail = (why: string) => {
        if (settled) return;
        settled = true;
        onFallback(why);
        resolve(null);
      };
      worker.once("message", (message: { kind: "done"; fit: FitResult<CountModelParams> } | { kind: "error"; message: string }) => {
        if (message.kind !== "done") return fail(message.message);
        settled = true;
        resolve(message.fit);
      });
      worker.once("error", (error) => fail(String(error)));
      worker.once("exit", (code) => fail(`the thread exited (${code})`));
    }).then((fit) => {
      void worker.terminate();
      return fit ?? here();
    });
  };
}

async function fitModel(data: ShopData, settings: MetricsSettings, asOfDay: number, elsewhere: CountModelFitter): Promise<FitOutcome> {
  const summaries = [];
  for (let i = 0; i < data.facts.length; i++) {
    if (counted(data.facts, i)) summaries.push(data.facts.factsAt(i, asOfDay).summary!);
  }
  const result = await fitShopModelAsync(summaries, {
    // The models that let a one-order customer lapse (shop-model.ts explains why not BG/NBD).
    candidates: APP_SHOP_CANDIDATES,
    unit: SHOP_MODEL_UNIT,
    horizonDays: settings.horizonDays,
    annualDiscountRate: settings.annualDiscountRate,
    // Predictions are stored in revenue; pages apply the margin when they show profit (one money basis per page, issue 13).
    grossMargin: 1,
  }, elsewhere);
  if (result.ok) return { model: result.model, averages: null, status: "ready", reasonCode: null, reason: null };
  const averages = estimateFromAverages(averagesCustomers(data, asOfDay), asOfDay, { ...settings, grossMargin: 1 });
  return { model: null, averages, status: "no-predictions", reasonCode: result.code, reason: result.reason };
}

function* averagesCustomers(data: ShopData, asOfDay: number): Generator<AveragesCustomer> {
  for (let i = 0; i < data.facts.length; i++) {
    if (!counted(data.facts, i)) continue;
    const facts = data.facts.factsAt(i, asOfDay);
    yield { orders: facts.orders, netSpent: facts.netSpent, firstOrderDay: facts.firstOrderDay! };
  }
}

/** Model, cut points, predictions, retention report and thresholds of the shop, from its orders. */
export async function fitShop(
  data: ShopData,
  settings: MetricsSettings,
  asOfDay: number,
  phase: (name: string) => void,
  { fitThreadMinRows = FIT_THREAD_MIN_ROWS }: { fitThreadMinRows?: number } = {},
) {
  const { facts } = data;
  const fit = await fitModel(data, settings, asOfDay, paretoNbdOnThread(fitThreadMinRows));
  phase("fit");
  const rfmRows: RfmInput[] = [];
  for (let i = 0; i < facts.length; i++) {
    if (!facts.hasOrders(i)) continue;
    rfmRows.push({ customerId: facts.ids[i], recencyDays: asOfDay - facts.lastOrderDayOf(i)!, orders: facts.orderCount(i), netSpent: facts.netSpentOf(i) });
  }
  const cuts = rfmRows.length > 0 ? rfmCutPoints(rfmRows) : null;
  rfmRows.length = 0;

  // Every prediction once: the VIP threshold needs the whole predicted CLV distribution.
  const scoring = await scoreCustomers(facts, fit.model, asOfDay);
  const { predictions } = scoring;
  phase("predict");
  const { table, dimensions: tableDimensions, profits } = data.builder.build();
  const margin = settings.grossMargin > 0 && settings.grossMargin <= 1 ? settings.grossMargin : 1;
  const retentionOptions = { cac: settings.cacMinor, grossMargin: margin };
  // profits: each order's own gross profit, so the cohorts' profit curves and payback need no single margin (issue 17).
  const report = retentionSummaryFromTable(table, { asOfDay, ...retentionOptions, dimensions: tableDimensions, ...(profits ? { profits } : {}) });
  const behaviourRows: BehaviourInput[] = [];
  for (let i = 0; i < facts.length; i++) {
    if (!counted(facts, i)) continue;
    behaviourRows.push({
      customerId: facts.ids[i],
      orders: facts.orderCount(i),
      netSpent: facts.netSpentOf(i),
      discountedOrders: 0, // not used by the thresholds
      daysSinceLastOrder: asOfDay - facts.lastOrderDayOf(i)!,
      predictedClv: predictions.predictedClvOf(i),
    });
  }
  const thresholds =
    behaviourRows.length > 0 ? behaviourThresholds(behaviourRows, {
          medianDaysToSecondOrder: report.daysBetweenOrders.bySteps[0]?.median ?? null,
          // "Due to reorder" (issue 17): overdue by less than the shop's median gap between orders.
          medianDaysBetweenOrders: report.daysBetweenOrders.overall.median,
          holidaySeason: settings.holidaySeason,
        }) : null;
  behaviourRows.length = 0;
  const ctx: ScoringContext = { asOfDay, model: fit.model, averages: fit.averages, cuts, rules: settings.segmentRules, thresholds, costFallbackMargin: settings.costFallbackMargin };
  phase("retention and thresholds");
  return { fit, ctx, scoring, report, table, profits };
}

/** Writes the new fit (version + 1) and takes the changes it covers off the debounce counter. */
export async function writeFit(
  db: Queryable,
  shop: string,
  fit: FitOutcome,
  ctx: ScoringContext,
  data: ShopData,
  trigger: RefitTrigger,
  startedAt: Date,
): Promise<number> {
  return writeShopFit(db, shop, {
    status: fit.status,
    reasonCode: fit.reasonCode,
    reason: fit.reason,
    model: fit.model ? fit.model.toJSON() : null,
    averagesEstimate: fit.averages,
    rfmCuts: ctx.cuts,
    behaviourThresholds: ctx.thresholds,
    segmentRules: ctx.rules,
    asOfDay: ctx.asOfDay,
    customers: data.customersWithOrders,
    orders: data.orders,
    trigger,
    startedAt,
    changesCovered: data.changesAtSnapshot,
  });
}
