import type pg from "pg";
import { type PredictionColumns } from "~/analytics/customer-columns";
import { deleteShopAggregates } from "~/data/aggregates.server";
import { pruneCheckouts, refreshCartAbandoners } from "~/data/checkouts.server";
import { wantShopFullPasses } from "~/data/destinations.server";
import { deleteMetricsOfRedactedCustomers, deleteShopMetrics, todayInZone } from "~/data/customer-metrics.server";
import { type MetricsSettings, loadMetricsSettings } from "~/data/settings.server";
import { shopRowExists } from "~/data/shop.server";
import { deleteShopFit, markFitFailed, markFitFinished } from "~/data/shop-fit.server";
import { pgTransaction } from "~/db/pg.server";
import { consoleLogger, errorMessage } from "~/lib/log.server";
import { enqueueDestination } from "~/queues/enqueue.server";
import { type RefitTrigger } from "~/queues/contract";
import { tableAggregates, writeAggregates, writeDailyCounts } from "./aggregates.server";
import { fitShop, writeFit } from "./fit.server";
import { type ShopData, readShop } from "./read-orders.server";
import { rescoreInPlace } from "./rescore-in-place.server";
import { rescoreIntoNewPartition } from "./rescore-partition.server";
import { type RescoreInputs } from "./rescore-rows.server";

// The shop refit: refit the shop's model and RFM cut points on every counted order,
// rescore every customer, write the shop aggregates the pages read. Nightly refits
// (nightly.server.ts) are also what ages recency and P(alive) for customers who do not order.
//
// Order of work (docs/analytics/live-metrics.md), one file per step:
//   1. read-orders: stream the counted orders grouped by customer into per-customer facts
//      and the retention table;
//   2. fit: the model (or why not), RFM cut points, predictions, behaviour thresholds;
//   3. fit: write ShopFit (version + 1) BEFORE rescoring, so live jobs during the rescore
//      already score with the new fit;
//   4. rescore-in-place / rescore-partition: every customer's row; a customer whose row
//      was written live after the orders were read is recomputed from fresh orders instead
//      (never overwritten with older data); rows of customers with no counted order left
//      become orders-0 rows;
//   5. aggregates: daily segment counts and the shop aggregates.

export interface RefitOptions {
  trigger: RefitTrigger;
  /** The refit's clock (tests move it); default now. */
  now?: Date;
  /** Customers per metrics write statement (default 5,000). */
  batchSize?: number;
  /** Called once the orders are read, before the fit is written (tests land a concurrent delivery here). */
  onOrdersRead?: () => Promise<void>;
  /**
   * From this many customers the rows go into a new table that becomes the shop's partition
   * (indexes built in bulk) instead of being replaced in place (default 50,000).
   */
  rebuildFromCustomers?: number;
  /** Called when the new partition is ready, just before it is swapped in (tests land a change here). */
  beforeSwap?: () => Promise<void>;
  /** Called as each phase ends, with its name (the benchmark samples PostgreSQL's CPU here). */
  onPhase?: (name: string) => void;
}

export interface RefitReport {
  shop: string;
  version: number;
  status: "ready" | "no-predictions";
  reasonCode: string | null;
  asOfDay: number;
  /** Customers with a counted order. */
  customers: number;
  orders: number;
  /** Metrics rows written (customers with orders, plus orders-0 rows). */
  rowsWritten: number;
  /** Customers scored from fresh orders because their row changed while the refit ran. */
  changedDuringRefit: number;
  /** Threads that computed the predictions, and why only one when workers failed to start. */
  scoringThreads: number;
  scoringFallback: string | null;
  durationMs: number;
  /** Milliseconds per phase (read, fit, score, write, aggregates), for the logs and the benchmark. */
  phasesMs: Record<string, number>;
  /** CPU milliseconds of this process (every thread) per phase: the machine may be shared, so wall time alone says little. */
  phasesCpuMs: Record<string, number>;
}

const DEFAULT_BATCH_SIZE = 5_000;
/**
 * Below this, replacing rows in place costs less than a table of their own (one statement
 * per batch against building eight indexes and taking CustomerMetrics' lock to swap).
 */
const DEFAULT_REBUILD_FROM_CUSTOMERS = 50_000;

/** Refits one shop: model, cut points, thresholds, every customer's row, aggregates. */
export async function refitShop(pool: pg.Pool, shop: string, options: RefitOptions): Promise<RefitReport> {
  const startedAt = new Date();
  const now = options.now ?? startedAt;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new RangeError(`batchSize ${batchSize} must be a positive whole number`);
  const rebuildFromCustomers = options.rebuildFromCustomers ?? DEFAULT_REBUILD_FROM_CUSTOMERS;
  try {
    const report = await refit(pool, shop, { ...options, now, batchSize, rebuildFromCustomers }, startedAt);
    await askForDestinationPasses(pool, shop);
    return report;
  } catch (error) {
    // The previous fit (if any) stays in use; the page shows why this one failed.
    await markFitFailed(pool, shop, errorMessage(error)).catch(() => {});
    throw error;
  }
}

/**
 * After a refit many customers' figures changed: each destination of the shop compares
 * everyone again. The request is recorded on the destinations first (durable: the sweep
 * enqueues it whatever becomes of the jobs asked for here), then the passes are queued.
 * Logged, not thrown: the refit is done.
 */
async function askForDestinationPasses(pool: pg.Pool, shop: string): Promise<void> {
  let destinationIds: string[];
  try {
    destinationIds = await wantShopFullPasses(pool, shop, "refit");
  } catch (error) {
    consoleLogger.error("could not record the destinations' full passes after a refit", { shop, error: errorMessage(error) });
    return;
  }
  try {
    for (const destinationId of destinationIds) await enqueueDestination({ task: "full", destinationId, reason: "refit" });
  } catch (error) {
    consoleLogger.error("could not queue the destinations' passes after a refit (the sweep queues them)", { shop, error: errorMessage(error) });
  }
}

async function refit(
  pool: pg.Pool,
  shop: string,
  { trigger, now, batchSize, onOrdersRead, beforeSwap, rebuildFromCustomers, onPhase }: RefitOptions & { now: Date; batchSize: number; rebuildFromCustomers: number },
  startedAt: Date,
): Promise<RefitReport> {
  const shopExistedAtStart = await shopRowExists(pool, shop);
  const settings = await loadMetricsSettings(pool, shop);
  const asOfDay = todayInZone(settings.timezone, now);
  const phasesMs: Record<string, number> = {};
  const phasesCpuMs: Record<string, number> = {};
  let phaseStart = Date.now();
  let phaseCpu = process.cpuUsage();
  const phase = (name: string) => {
    const at = Date.now();
    phasesMs[name] = (phasesMs[name] ?? 0) + at - phaseStart;
    phaseStart = at;
    const cpu = process.cpuUsage(phaseCpu);
    phasesCpuMs[name] = (phasesCpuMs[name] ?? 0) + Math.round((cpu.user + cpu.system) / 1000);
    phaseCpu = process.cpuUsage();
    onPhase?.(name);
  };
  // The per-customer columns live only inside fitAndRescore: freed before the aggregates.
  const scored = await fitAndRescore(
    pool,
    shop,
    settings,
    asOfDay,
    { trigger, batchSize, onOrdersRead, beforeSwap, rebuildFromCustomers },
    startedAt,
    phase,
  );
  const { fit, version, modelVersion, refitAt, tally, report, table } = scored;
  // Cart abandoners (issue 17): membership comes from the shop's checkouts, which rows scored
  // from orders do not see; set on every row here, so the nightly refit also ages the 30-day
  // window. The destinations' full passes asked for after the refit send what moved.
  const abandoners = await refreshCartAbandoners(pool, shop, settings.timezone, asOfDay);
  // Checkouts that can no longer count (older than the window and a margin; completed or guest ones once settled) go.
  await pruneCheckouts(pool, shop, asOfDay);
  tally.replaceBehaviour("cart-abandoner", abandoners.figures);
  phase("cart-abandoners");
  await writeDailyCounts(pool, shop, asOfDay, tally);
  await writeAggregates(
    pool,
    shop,
    { settings, asOfDay, modelVersion, refitAt, tally, report, table, dimensions: scored.dimensions, fit, onlyVoidedCustomers: scored.onlyVoidedCustomers },
    scored.tableAggregates,
  );
  phase("aggregates");
  const durationMs = Date.now() - startedAt.getTime();
  await markFitFinished(pool, shop, version, durationMs);
  await removeRowsOfRedacted(pool, shop, shopExistedAtStart);
  return {
    shop,
    version,
    status: fit.status,
    reasonCode: fit.reasonCode,
    asOfDay,
    customers: scored.customers,
    orders: scored.orders,
    rowsWritten: scored.rowsWritten,
    changedDuringRefit: scored.changedDuringRefit,
    scoringThreads: scored.scoringThreads,
    scoringFallback: scored.scoringFallback,
    durationMs,
    phasesMs,
    phasesCpuMs,
  };
}

/**
 * A redaction that committed while the refit was running deleted the rows it knew of before
 * some of ours landed: take those back. A customer redacted meanwhile has a tombstone; a
 * shop redacted meanwhile has lost its Shop row (shop/redact deletes it last). Redactions
 * after this point find our rows and delete them themselves.
 */
async function removeRowsOfRedacted(pool: pg.Pool, shop: string, shopExistedAtStart: boolean): Promise<void> {
  await pgTransaction(pool, async (_tx, client) => {
    if (shopExistedAtStart && !(await shopRowExists(pool, shop))) {
      await deleteShopMetrics(client, shop);
      await deleteShopAggregates(client, shop);
      await deleteShopFit(client, shop);
      return;
    }
    await deleteMetricsOfRedactedCustomers(client, shop);
  });
}

/** Steps 1-4: read, fit, score, write ShopFit, rescore everyone. */
async function fitAndRescore(
  pool: pg.Pool,
  shop: string,
  settings: MetricsSettings,
  asOfDay: number,
  {
    trigger,
    batchSize,
    onOrdersRead,
    beforeSwap,
    rebuildFromCustomers,
  }: Pick<RefitOptions, "trigger" | "onOrdersRead" | "beforeSwap"> & { batchSize: number; rebuildFromCustomers: number },
  startedAt: Date,
  phase: (name: string) => void,
) {
  const data = await readShop(pool, shop, settings, asOfDay);
  phase("read");
  await onOrdersRead?.();
  const { facts } = data;
  const { fit, ctx, scoring, report, table, profits } = await fitShop(data, settings, asOfDay, phase);
  const { predictions } = scoring;

  const version = await writeFit(pool, shop, fit, ctx, data, trigger, startedAt);
  const modelVersion = fit.model ? version : null;
  const refitAt = new Date();
  const writeOptions = { modelVersion, asOfDay, source: "refit" as const, computedAt: refitAt };

  const rescore: RescoreInputs = { pool, shop, settings, asOfDay, batchSize, facts, predictions, ctx, snapshot: data.snapshot, writeOptions, phase,
    tableAggregates: () =>
      tableAggregates({
        settings,
        asOfDay,
        report,
        table,
        profits,
        dimensions: data.dimensions,
        fit,
        drivers: { marketingSources: data.marketingSources, chanceOfOrder90d: chanceByTableCustomer(data, predictions) },
      }),
  };
  const written =
    facts.length >= rebuildFromCustomers ? await rescoreIntoNewPartition({ ...rescore, beforeSwap }) : await rescoreInPlace(rescore);
  const { tally, rowsWritten } = written;
  return {
    tableAggregates: written.tableAggregates,
    fit,
    version,
    modelVersion,
    refitAt,
    tally,
    report,
    table,
    dimensions: data.dimensions,
    customers: data.customersWithOrders,
    onlyVoidedCustomers: data.onlyVoidedCustomers,
    orders: data.orders,
    rowsWritten,
    changedDuringRefit: written.changedDuringRefit,
    scoringThreads: scoring.threads,
    scoringFallback: scoring.fallback,
  };
}

/** Each table customer's chance of ordering in the next 90 days (NaN: no prediction, as the metrics row says). */
function chanceByTableCustomer(data: ShopData, predictions: PredictionColumns): Float64Array {
  const chance = new Float64Array(data.customersWithOrders).fill(Number.NaN);
  for (let i = 0; i < data.facts.length; i++) {
    const t = data.tableIndexOf[i];
    if (t < 0 || data.facts.onlyVoidedOrders(i)) continue;
    const p = predictions.get(i);
    if (p) chance[t] = p.chanceOfOrder90d;
  }
  return chance;
}
