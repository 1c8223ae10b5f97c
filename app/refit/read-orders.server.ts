import { type Job, type Queue, UnrecoverableError } from "bullmq";
import type pg from "pg";
import { behaviourThresholds, type BehaviourInput } from "~/analytics/behaviour";
import { backtest } from "~/analytics/clv/backtest";
import { APP_SHOP_CANDIDATES, fitShopModel, type ShopModel } from "~/analytics/clv/shop-model";
import {
  type CustomerFacts,
  type CustomerMetricsValues,
  type CustomerOrderFact,
  type ScoringContext,
  SHOP_MODEL_UNIT,
  customerFactsFromOrders,
  customerMetrics,
  predictionOf,
} from "~/analytics/customer-metrics";
import { dayToIso } from "~/analytics/dates";
import { OrderTableBuilder, type RetentionReport, retentionSummaryFromTable } from "~/analytics/retention";
import { type RfmInput, rfmCutPoints } from "~/analytics/rfm";
import { backtestWindow } from "~/analytics/backtest-window";
import { CustomerFactsColumns } from "~/analytics/customer-columns";
import { customersTablesByCode } from "~/analytics/customer-subsets";
import { DimensionValues } from "~/analytics/dimension-values";
import { kpisOf, periodTotals } from "~/analytics/kpis";
import { SegmentTally } from "~/analytics/segment-tally";
import {
  AGGREGATE_KIND,
  type BacktestAggregate,
  type KpisAggregate,
  type MovementsAggregate,
  RETENTION_DIMENSIONS,
  type RetentionAggregate,
  type RetentionDimension,
  type SegmentsAggregate,
  retentionKind,
} from "~/data/aggregates";
import { pgTransaction, type Queryable } from "~/db/pg.server";
import { scoreCustomers } from "~/refit/parallel-scoring.server";
import {
  type MetricsWriteOptions,
  todayInZone,
  writeCustomerMetrics,
  writeCustomerMetricsInto,
  writeTransitionsFrom,
} from "~/data/customer-metrics.server";
import { buildIndexes, createRebuildTable, dropAbandonedTables, rebuildTableName, swapInPartition } from "~/refit/partition-swap.server";
import { COUNTED_ORDERS_SQL, type MetricsSettings, countedOrdersParams, loadMetricsSettings } from "~/data/settings.server";
import { type Logger, errorMessage, silentLogger } from "~/lib/log.server";
import { type RefitTrigger, ShopRefitJob, shopRefitDedupId } from "~/queues/contract";

// The shop refit: refit the shop's model and RFM cut points on every counted order,
// rescore every customer, write the shop aggregates the pages read. `nightly-all` (on a
// schedule) fans out one `shop` job per installed shop; nightly refits are also what ages
// recency and P(alive) for customers who do not order.
//
// Order of work (docs/analytics/live-metrics.md):
//   1. stream the counted orders grouped by customer (a cursor: memory holds columns, not
//      rows) into per-customer facts and the retention table;
//   2. fit the model (or record why not), RFM cut points, every customer's prediction
//      once, behaviour thresholds (VIP needs the predicted CLV distribution);
//   3. write ShopFit (version + 1) BEFORE rescoring, so live jobs during the rescore
//      already score with the new fit;
//   4. rescore everyone in set-based batches; a customer whose row was written live after
//      the orders were read is recomputed from fresh orders instead (never overwritten with
//      older data); rows of customers with no counted order left become orders-0 rows;
//   5. daily segment counts and the shop aggregates.

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
}

const DEFAULT_BATCH_SIZE = 5_000;
/**
 * Below this, replacing rows in place costs less than a table of their own (one statement
 * per batch against building eight indexes and taking CustomerMetrics' lock to swap).
 */
const DEFAULT_REBUILD_FROM_CUSTOMERS = 50_000;
/** Metrics batches being written at once (each on its own pool connection). */
const WRITES_IN_FLIGHT = 2;
const FETCH_ROWS = 20_000;
/** KPIs compare with this many days earlier. */
export const KPI_PERIOD_DAYS = 30;
/** Segment movements counted over this many days. */
export const MOVEMENT_DAYS = 7;
/** Retention filter values kept per acquisition dimension. */
export const RETENTION_FILTER_VALUES = 8;

interface CountedOrderRow {
  customer_id: bigint | string;
  day: number;
  net: bigint | string | number;
  discounted: boolean;
  channel: string | null;
  first_product: string | null;
  first_discount_code: string | null;
}

/** COUNTED_ORDERS_SQL's columns in order (rowMode "array"). */
type CountedOrderArray = [
  customerId: bigint | string,
  day: number,
  net: bigint | string | number,
  discounted: boolean,
  channel: string | null,
  firstProduct: string | null,
  firstDiscountCode: string | null,
];

const ORDER_BY = ` ORDER BY o."customerId", day, o."processedAt", o.id`;

/** Everything read from the orders, in columns. */
interface ShopData {
  facts: CustomerFactsColumns;
  /** Retention table (rows = orders up to as-of); its customer index = facts index of customers with orders. */
  builder: OrderTableBuilder;
  /** facts index -> table customer index (-1: no orders up to as-of). */
  tableIndexOf: Int32Array;
  dimensions: Record<RetentionDimension, DimensionValues>;
  orders: number;
  customersWithOrders: number;
  /** The read's snapshot (pg_current_snapshot): a customer row changed outside it is newer than our orders. */
  snapshot: string;
  changesAtSnapshot: number;
}

/** Streams the shop's counted orders, grouped by customer, into columns. */
async function readShop(pool: pg.Pool, shop: string, settings: MetricsSettings, asOfDay: number): Promise<ShopData> {
  const client = await pool.connect();
  try {
    // One snapshot for the orders and the change counter; read-only, so it blocks nobody.
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const clock = await client.query<{ snapshot: string; changes: number | null }>(
      `SELECT pg_current_snapshot()::text AS snapshot, (SELECT "changesSinceFit" FROM "ShopFit" WHERE shop = $1) AS changes`,
      [shop],
    );
    const snapshot = clock.rows[0].snapshot;
    await client.query(`DECLARE refit_orders NO SCROLL CURSOR FOR ${COUNTED_ORDERS_SQL}${ORDER_BY}`, countedOrdersParams(shop, settings));
    const facts = new CustomerFactsColumns();
    const builder = new OrderTableBuilder();
    const dimensions: Record<RetentionDimension, DimensionValues> = {
      channel: new DimensionValues(),
      firstProduct: new DimensionValues(),
      discountCode: new DimensionValues(),
    };
    const tableIndex: number[] = [];
    let orders = 0;
    let customersWithOrders = 0;
    let currentId = "";
    let current: CustomerOrderFact[] = [];
    let first: CountedOrderArray | null = null;
    const finish = () => {
      if (currentId === "") return;
      const f = customerFactsFromOrders(currentId, current, asOfDay);
      facts.add(f);
      if (f.orders > 0 && first) {
        tableIndex.push(customersWithOrders++);
        orders += f.orders;
        // Interned values: a million customers share a few hundred strings.
        dimensions.channel.push(first[4]);
        dimensions.firstProduct.push(first[5]);
        dimensions.discountCode.push(first[6]);
        for (const order of current) {
          if (order.day > asOfDay) continue;
          builder.add({
            customerId: currentId,
            day: order.day,
            net: order.net,
            channel: dimensions.channel.valueOf(customersWithOrders - 1),
            firstProduct: dimensions.firstProduct.valueOf(customersWithOrders - 1),
            discountCodes: codeList(dimensions.discountCode.valueOf(customersWithOrders - 1)),
          });
        }
      } else {
        tableIndex.push(-1);
      }
    };
    // Rows as arrays: no object per order (3 million orders are a lot of garbage).
    const fetchRows = () => client.query<CountedOrderArray>({ text: `FETCH ${FETCH_ROWS} FROM refit_orders`, rowMode: "array" });
    const prefetch = () => {
      const pending = fetchRows();
      pending.catch(() => undefined); // thrown where it is awaited; not unhandled if we fail first
      return pending;
    };
    let next = prefetch();
    for (;;) {
      const batch = await next;
      // PostgreSQL produces the next rows while we take these in.
      if (batch.rows.length === FETCH_ROWS) next = prefetch();
      for (const row of batch.rows) {
        const id = String(row[0]);
        if (id !== currentId) {
          finish();
          currentId = id;
          current = [];
          first = null;
        }
        const order = { day: Number(row[1]), net: Number(row[2]), discounted: row[3] };
        // Rows come in day order: the first row on or before as-of is the first order.
        if (!first && order.day <= asOfDay) first = row;
        current.push(order);
      }
      if (batch.rows.length < FETCH_ROWS) break;
    }
    finish();
    await client.query("COMMIT");
    return {
      facts,
      builder,
      tableIndexOf: Int32Array.from(tableIndex),
      dimensions,
      orders,
      customersWithOrders,
      snapshot,
      changesAtSnapshot: clock.rows[0].changes ?? 0,
    };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

// Only the first non-empty code matters for the dimension (OrderTableBuilder reads the first).
const codeList = (code: string | null) => (code ? [code] : []);

/** Facts of these customers from their orders as they are now (for rows written live during the refit). */
async function freshFacts(db: Queryable, shop: string, settings: MetricsSettings, ids: readonly string[], asOfDay: number): Promise<CustomerFacts[]> {
  if (ids.length === 0) return [];
  const result = await db.query<CountedOrderRow>(`${COUNTED_ORDERS_SQL} AND o."customerId" = ANY($5::bigint[])${ORDER_BY}`, [
    ...countedOrdersParams(shop, settings),
    ids,
  ]);
  const byCustomer = new Map<string, CustomerOrderFact[]>(ids.map((id) => [id, []]));
  for (const row of result.rows) {
    byCustomer.get(String(row.customer_id))?.push({ day: Number(row.day), net: Number(row.net), discounted: row.discounted });
  }
  return [...byCustomer].map(([id, orders]) => customerFactsFromOrders(id, orders, asOfDay));
}

/**
 * Customers whose row was changed by a transaction the read's snapshot does not see (in
 * flight when the orders were read, or later): the ingest path updates a customer's
 * summary in the transaction that changes their orders, so these are the customers whose
 * orders may be newer than ours. xmin is a 32-bit transaction id; the snapshot's xmax gives
 * its epoch (xmin is never more than 2^31 transactions behind it). Rows older than the
 * snapshot's xmin (nearly all; frozen ones too) are visible to it: a cheap age() test drops
 * them before the exact check (a quarter of the scan's cost at 1M rows).
 */
async function changedOutside(db: Queryable, shop: string, snapshot: string, table: "Customer" | "CustomerMetrics" = "Customer"): Promise<Set<string>> {
  const id = table === "Customer" ? "id" : `"customerId"`;
  const result = await db.query<{ id: string }>(
    `WITH s AS (SELECT $2::pg_snapshot AS snap, pg_snapshot_xmax($2::pg_snapshot)::text::bigint AS xmax,
                       age((pg_snapshot_xmin($2::pg_snapshot)::text::bigint % 4294967296)::text::xid) AS xmin_age)
     SELECT c.${id}::text AS id
     FROM "${table}" AS c, s, LATERAL (SELECT ((s.xmax >> 32) << 32) + c.xmin::text::bigint AS guess) AS x
     WHERE c.shop = $1
       AND age(c.xmin) <= s.xmin_age
       AND NOT pg_visible_in_snapshot((CASE WHEN x.guess > s.xmax THEN x.guess - 4294967296 ELSE x.guess END)::text::xid8, s.snap)`,
    [shop, snapshot],
  );
  return new Set(result.rows.map((row) => row.id));
}

/**
 * One batch of metrics rows. The commit does not wait for the WAL flush: a refit is
 * recomputed from source rows, so a crash losing its last batches only means the retry
 * (or the next refit) writes them again.
 */
async function writeBatch(pool: pg.Pool, shop: string, rows: readonly CustomerMetricsValues[], options: MetricsWriteOptions) {
  return pgTransaction(pool, async (_tx, client) => {
    await client.query("SET LOCAL synchronous_commit = off");
    return writeCustomerMetrics(client, shop, rows, options);
  });
}

interface FitOutcome {
  model: ShopModel | null;
  status: "ready" | "no-predictions";
  reasonCode: string | null;
  reason: string | null;
}

function fitModel(data: ShopData, settings: MetricsSettings, asOfDay: number): FitOutcome {
  const summaries = [];
  for (let i = 0; i < data.facts.length; i++) {
    if (data.facts.hasOrders(i)) summaries.push(data.facts.factsAt(i, asOfDay).summary!);
  }
  const result = fitShopModel(summaries, {
    // The models that let a one-order customer lapse (shop-model.ts explains why not BG/NBD).
    candidates: APP_SHOP_CANDIDATES,
    unit: SHOP_MODEL_UNIT,
    horizonDays: settings.horizonDays,
    annualDiscountRate: settings.annualDiscountRate,
    grossMargin: settings.grossMargin,
  });
  if (result.ok) return { model: result.model, status: "ready", reasonCode: null, reason: null };
  return { model: null, status: "no-predictions", reasonCode: result.code, reason: result.reason };
}

/** Writes the new fit (version + 1) and takes the changes it covers off the debounce counter. */
async function writeFit(
  db: Queryable,
  shop: string,
  fit: FitOutcome,
  ctx: ScoringContext,
  data: ShopData,
  trigger: RefitTrigger,
  startedAt: Date,
): Promise<number> {
  const result = await db.query<{ version: number }>(
    `INSERT INTO "ShopFit" AS f (shop, version, status, "reasonCode", reason, model, "rfmCuts", "behaviourThresholds", "segmentRules",
        "asOfDay", customers, orders, trigger, "startedAt", "finishedAt", "durationMs", error, "changesSinceFit", "firstChangeAt", "updatedAt")
     VALUES ($1, 1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb, $8::jsonb, $9, $10, $11, $12, $13::timestamp, NULL, NULL, NULL, 0, NULL, now() AT TIME ZONE 'UTC')
     ON CONFLICT (shop) DO UPDATE SET
       version = f.version + 1, status = EXCLUDED.status, "reasonCode" = EXCLUDED."reasonCode", reason = EXCLUDED.reason,
       model = EXCLUDED.model, "rfmCuts" = EXCLUDED."rfmCuts", "behaviourThresholds" = EXCLUDED."behaviourThresholds",
       "segmentRules" = EXCLUDED."segmentRules", "asOfDay" = EXCLUDED."asOfDay", customers = EXCLUDED.customers,
       orders = EXCLUDED.orders, trigger = EXCLUDED.trigger, "startedAt" = EXCLUDED."startedAt", "finishedAt" = NULL,
       "durationMs" = NULL, error = NULL,
       -- Changes counted after the orders were read are not in this fit: they stay counted.
       "changesSinceFit" = GREATEST(0, f."changesSinceFit" - $14),
       "firstChangeAt" = CASE WHEN f."changesSinceFit" - $14 > 0 THEN f."firstChangeAt" ELSE NULL END,
       "updatedAt" = EXCLUDED."updatedAt"
     RETURNING version`,
    [
      shop,
      fit.status,
      fit.reasonCode,
      fit.reason,
      fit.model ? JSON.stringify(fit.model.toJSON()) : null,
      ctx.cuts ? JSON.stringify(ctx.cuts) : null,
      ctx.thresholds ? JSON.stringify(ctx.thresholds) : null,
      JSON.stringify(ctx.rules),
      ctx.asOfDay,
      data.customersWithOrders,
      data.orders,
      trigger,
      startedAt.toISOString(),
      data.changesAtSnapshot,
    ],
  );
  return result.rows[0].version;
}

/** Refits one shop: model, cut points, thresholds, every customer's row, aggregates. */
export async function refitShop(pool: pg.Pool, shop: string, options: RefitOptions): Promise<RefitReport> {
  const startedAt = new Date();
  const now = options.now ?? startedAt;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new RangeError(`batchSize ${batchSize} must be a positive whole number`);
  const rebuildFromCustomers = options.rebuildFromCustomers ?? DEFAULT_REBUILD_FROM_CUSTOMERS;
  try {
    return await refit(pool, shop, { ...options, now, batchSize, rebuildFromCustomers }, startedAt);
  } catch (error) {
    // The previous fit (if any) stays in use; the page shows why this one failed.
    await pool
      .query(`UPDATE "ShopFit" SET error = $2, "finishedAt" = now() AT TIME ZONE 'UTC' WHERE shop = $1`, [shop, errorMessage(error).slice(0, 2_000)])
      .catch(() => {});
    throw error;
  }
}

async function refit(
  pool: pg.Pool,
  shop: string,
  { trigger, now, batchSize, onOrdersRead, beforeSwap, rebuildFromCustomers }: RefitOptions & { now: Date; batchSize: number; rebuildFromCustomers: number },
  startedAt: Date,
): Promise<RefitReport> {
  const shopExistedAtStart = await shopRowExists(pool, shop);
  const settings = await loadMetricsSettings(pool, shop);
  const asOfDay = todayInZone(settings.timezone, now);
  const phasesMs: Record<string, number> = {};
  let phaseStart = Date.now();
  const phase = (name: string) => {
    const at = Date.now();
    phasesMs[name] = (phasesMs[name] ?? 0) + at - phaseStart;
    phaseStart = at;
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
  await writeDailyCounts(pool, shop, asOfDay, tally);
  await writeAggregates(pool, shop, { settings, asOfDay, modelVersion, refitAt, tally, report, table, dimensions: scored.dimensions, fit }, scored.tableAggregates);
  phase("aggregates");
  const durationMs = Date.now() - startedAt.getTime();
  await pool.query(`UPDATE "ShopFit" SET "finishedAt" = now() AT TIME ZONE 'UTC', "durationMs" = $3 WHERE shop = $1 AND version = $2`, [
    shop,
    version,
    durationMs,
  ]);
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
  };
}

async function shopRowExists(pool: pg.Pool, shop: string): Promise<boolean> {
  return ((await pool.query(`SELECT 1 FROM "Shop" WHERE domain = $1`, [shop])).rowCount ?? 0) > 0;
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
      for (const table of ["CustomerMetrics", "SegmentTransition", "SegmentDailyCount", "ShopAggregate", "ShopFit"]) {
        await client.query(`DELETE FROM "${table}" WHERE shop = $1`, [shop]);
      }
      return;
    }
    for (const table of ["CustomerMetrics", "SegmentTransition"]) {
      await client.query(
        `DELETE FROM "${table}" AS m USING "Tombstone" AS t
         WHERE m.shop = $1 AND t.shop = $1 AND t.resource = 'customer' AND m."customerId" = t.id`,
        [shop],
      );
    }
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

  const fit = fitModel(data, settings, asOfDay);
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
  const { table, dimensions: tableDimensions } = data.builder.build();
  const margin = settings.grossMargin > 0 && settings.grossMargin <= 1 ? settings.grossMargin : 1;
  const retentionOptions = { cac: settings.cacMinor, grossMargin: margin };
  const report = retentionSummaryFromTable(table, { asOfDay, ...retentionOptions, dimensions: tableDimensions });
  const behaviourRows: BehaviourInput[] = [];
  for (let i = 0; i < facts.length; i++) {
    if (!facts.hasOrders(i)) continue;
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
    behaviourRows.length > 0 ? behaviourThresholds(behaviourRows, { medianDaysToSecondOrder: report.daysBetweenOrders.bySteps[0]?.median ?? null }) : null;
  behaviourRows.length = 0;
  const ctx: ScoringContext = { asOfDay, model: fit.model, cuts, rules: settings.segmentRules, thresholds };

  phase("retention and thresholds");
  const version = await writeFit(pool, shop, fit, ctx, data, trigger, startedAt);
  const modelVersion = fit.model ? version : null;
  const refitAt = new Date();
  const writeOptions = { modelVersion, asOfDay, source: "refit" as const, computedAt: refitAt };

  const rescore: RescoreInputs = { pool, shop, settings, asOfDay, batchSize, facts, predictions, ctx, snapshot: data.snapshot, writeOptions, phase,
    tableAggregates: () => tableAggregates({ settings, asOfDay, report, table, dimensions: data.dimensions, fit }),
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
    orders: data.orders,
    rowsWritten,
    changedDuringRefit: written.changedDuringRefit,
    scoringThreads: scoring.threads,
    scoringFallback: scoring.fallback,
  };
}

interface RescoreInputs {
  pool: pg.Pool;
  shop: string;
  settings: MetricsSettings;
  asOfDay: number;
  batchSize: number;
  facts: CustomerFactsColumns;
  predictions: Awaited<ReturnType<typeof scoreCustomers>>["predictions"];
  ctx: ScoringContext;
  /** The orders' read snapshot. */
  snapshot: string;
  writeOptions: MetricsWriteOptions;
  /** Ends a timed phase (RefitReport.phasesMs). */
  phase: (name: string) => void;
  /** Node's share of the aggregates, run while PostgreSQL is busy without us where there is such a time. */
  tableAggregates: () => Promise<TableAggregates>;
}

interface Rescored {
  tally: SegmentTally;
  tableAggregates: TableAggregates;
  rowsWritten: number;
  changedDuringRefit: number;
}

/**
 * Every customer's row, a batch at a time, handed to `write` while the next is scored (two
 * writes in flight: PostgreSQL's side costs more CPU than Node's, so two backends and this
 * thread all work at once). Customers whose orders changed since the snapshot are scored
 * from their orders as they are now. The tally counts the rows as written.
 */
async function writeEveryRow(
  input: RescoreInputs,
  changed: ReadonlySet<string>,
  write: (rows: readonly CustomerMetricsValues[]) => Promise<number>,
): Promise<{ tally: RefitTally; rowsWritten: number }> {
  const { facts, asOfDay, ctx, predictions, batchSize } = input;
  const writing: Promise<void>[] = [];
  const tally = new RefitTally(input);
  let rowsWritten = 0;
  for (let from = 0; from < facts.length; from += batchSize) {
    const to = Math.min(facts.length, from + batchSize);
    const rows: CustomerMetricsValues[] = [];
    const fresh: string[] = [];
    for (let i = from; i < to; i++) {
      if (changed.has(facts.ids[i])) fresh.push(facts.ids[i]);
      else rows.push(customerMetrics(facts.factsAt(i, asOfDay), ctx, predictions.get(i)));
    }
    const freshOnes = fresh.length > 0 ? await freshRows(input, fresh) : [];
    rows.push(...freshOnes);
    if (writing.length >= WRITES_IN_FLIGHT) await writing.shift();
    const written = write(rows).then((count) => {
      rowsWritten += count;
      tally.countWritten(rows, freshOnes);
    });
    written.catch(() => undefined); // a failure is thrown where the batch is awaited, not reported as unhandled meanwhile
    writing.push(written);
  }
  await Promise.all(writing);
  return { tally, rowsWritten };
}

/** Rows of these customers from their orders as they are now (read through `db`, default the pool). */
async function freshRows(input: Pick<RescoreInputs, "pool" | "shop" | "settings" | "asOfDay" | "ctx">, ids: readonly string[], db: Queryable = input.pool) {
  const { shop, settings, asOfDay, ctx } = input;
  return (await freshFacts(db, shop, settings, ids, asOfDay)).map((f) => customerMetrics(f, ctx, predictionOf(f, ctx.model)));
}

/**
 * The segment tally of the rows as they end up. Most rows are the snapshot's (recomputed
 * from the facts when one must go); rows scored from fresh orders are kept by id, so a
 * customer rewritten again (changed while we wrote) is counted once, with its last row.
 */
class RefitTally {
  private readonly segments = new SegmentTally();
  /** Rows counted that are not the snapshot's: customer id -> row. */
  private readonly freshCounted = new Map<string, CustomerMetricsValues>();
  private readonly replaced = new Map<string, CustomerMetricsValues>();

  constructor(private readonly input: Pick<RescoreInputs, "facts" | "asOfDay" | "ctx" | "predictions">) {}

  /** A batch as written: every row counts; `fresh` (scored from orders newer than the snapshot) are kept by id. */
  countWritten(rows: readonly CustomerMetricsValues[], fresh: readonly CustomerMetricsValues[]): void {
    for (const row of rows) this.segments.add(row);
    for (const row of fresh) this.freshCounted.set(row.customerId, row);
  }

  /** The customer's row now (whatever was counted for them, if anything, goes once `settle` runs). */
  replace(row: CustomerMetricsValues): void {
    this.replaced.set(row.customerId, row);
  }

  /** Applies the replacements: one pass over the facts for the snapshot rows that go. */
  settle(): SegmentTally {
    if (this.replaced.size === 0) return this.segments;
    const { facts, asOfDay, ctx, predictions } = this.input;
    const snapshotRowsGo = new Set<string>();
    for (const [id, row] of this.replaced) {
      const counted = this.freshCounted.get(id);
      if (counted) this.segments.remove(counted);
      else snapshotRowsGo.add(id);
      this.freshCounted.set(id, row);
      this.segments.add(row);
    }
    if (snapshotRowsGo.size > 0) {
      for (let i = 0; i < facts.length; i++) {
        if (snapshotRowsGo.has(facts.ids[i])) this.segments.remove(customerMetrics(facts.factsAt(i, asOfDay), ctx, predictions.get(i)));
      }
    }
    this.replaced.clear();
    return this.segments;
  }
}

/** The rows replaced in place in CustomerMetrics, batch by batch (shops below rebuildFromCustomers). */
async function rescoreInPlace(input: RescoreInputs): Promise<Rescored> {
  const { pool, shop, snapshot, batchSize, writeOptions } = input;
  // Customers whose orders changed since the snapshot are scored from their orders as they
  // are now. Checking again once every batch is written catches a change that landed
  // meanwhile (its live job may have run before our write); a change after that check has
  // its live job run after our writes.
  const changed = await changedOutside(pool, shop, snapshot);
  const written = await writeEveryRow(input, changed, async (rows) => (await writeBatch(pool, shop, rows, writeOptions)).written);
  const { tally } = written;
  let { rowsWritten } = written;
  // Changed while we wrote: rewritten from their orders now, and the tally follows.
  const late = [...(await changedOutside(pool, shop, snapshot))].filter((id) => !changed.has(id));
  for (let from = 0; from < late.length; from += batchSize) {
    const rows = await freshRows(input, late.slice(from, from + batchSize));
    await writeBatch(pool, shop, rows, writeOptions);
    for (const row of rows) tally.replace(row);
  }

  // Rows this refit did not write: customers with no counted order left (deleted or now
  // excluded orders), or a first order since the snapshot. Recomputed from their orders now.
  const refitAt = writeOptions.computedAt!;
  for (;;) {
    const left = await pool.query<{ id: string }>(
      `SELECT "customerId"::text AS id FROM "CustomerMetrics" WHERE shop = $1 AND "computedAt" < $2::timestamp ORDER BY "customerId" LIMIT $3`,
      [shop, refitAt.toISOString(), batchSize],
    );
    if (left.rows.length === 0) break;
    const rows = await freshRows(input, left.rows.map((row) => row.id));
    for (const row of rows) tally.replace(row);
    rowsWritten += (await writeBatch(pool, shop, rows, writeOptions)).written;
    if (left.rows.length < batchSize) break;
  }
  input.phase("rescore and write");
  const aggregates = await input.tableAggregates();
  return { tally: tally.settle(), tableAggregates: aggregates, rowsWritten, changedDuringRefit: changed.size + late.length };
}

/**
 * The rows written into a new table, which then replaces the shop's partition (large
 * shops; ADR 0008): plain inserts into a table without indexes, the indexes built in bulk,
 * then what changed meanwhile, then the swap. Live jobs keep writing the old rows until the
 * swap; the swap's transaction rewrites every customer they wrote since the refit started.
 */
async function rescoreIntoNewPartition(input: RescoreInputs & { beforeSwap?: () => Promise<void> }): Promise<Rescored> {
  const { pool, shop, snapshot, batchSize, writeOptions } = input;
  const lock = await pool.connect();
  try {
    // One rebuild of a shop at a time; a table left by a killed one is dropped here.
    await lock.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [`refit-partition:${shop}`]);
    await dropAbandonedTables(pool, shop);
    const table = rebuildTableName(shop);
    await createRebuildTable(pool, table);
    const changed = await changedOutside(pool, shop, snapshot);
    const written = await writeEveryRow(input, changed, (rows) =>
      writeCustomerMetricsInto(pool, table, shop, rows, { ...writeOptions, replace: false }),
    );
    const { tally } = written;
    let { rowsWritten } = written;
    input.phase("rescore and write rows");
    const [, aggregates] = await Promise.all([buildIndexes(pool, table), input.tableAggregates()]);
    input.phase("build indexes (and the aggregates from the orders)");

    // Changed while we wrote, and rows of the shop this refit did not write (customers with
    // no counted order left, or a first order since the snapshot): from their orders now.
    const late = [...(await changedOutside(pool, shop, snapshot))].filter((id) => !changed.has(id));
    const replace = { ...writeOptions, replace: true };
    for (let from = 0; from < late.length; from += batchSize) {
      const rows = await freshRows(input, late.slice(from, from + batchSize));
      await writeCustomerMetricsInto(pool, table, shop, rows, replace);
      for (const row of rows) tally.replace(row);
    }
    // One pass over the current rows: transitions to the new rows, and the customers with no
    // new row (scored from their orders now, their transitions written with them).
    const missing = await writeTransitionsFrom(pool, table, shop, writeOptions.computedAt!, "refit", { reportMissing: true });
    for (let from = 0; from < missing.length; from += batchSize) {
      const ids = missing.slice(from, from + batchSize);
      const rows = await freshRows(input, ids);
      for (const row of rows) tally.replace(row);
      rowsWritten += await writeCustomerMetricsInto(pool, table, shop, rows, replace);
      await writeTransitionsFrom(pool, table, shop, writeOptions.computedAt!, "refit", { customerIds: ids });
    }
    input.phase("catch up and transitions");
    await input.beforeSwap?.();

    const rescored = new Set([...changed, ...late]);
    await swapInPartition(pool, shop, table, async (client) => {
      // Rows live jobs wrote since the orders were read would be lost with the old rows:
      // their customers are scored again from their orders now (nothing writes now).
      const ids = [...(await changedOutside(client, shop, snapshot, "CustomerMetrics"))];
      for (const id of ids) rescored.add(id);
      for (let from = 0; from < ids.length; from += batchSize) {
        const batch = ids.slice(from, from + batchSize);
        const rows = await freshRows(input, batch, client);
        await writeCustomerMetricsInto(client, table, shop, rows, replace);
        for (const row of rows) tally.replace(row);
        await writeTransitionsFrom(client, table, shop, writeOptions.computedAt!, "refit", { customerIds: batch });
      }
    });
    const settled = tally.settle();
    input.phase("swap");
    return { tally: settled, tableAggregates: aggregates, rowsWritten, changedDuringRefit: rescored.size };
  } finally {
    await lock.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [`refit-partition:${shop}`]).catch(() => {});
    lock.release();
  }
}

/** Today's customers per segment (replaces the day's counts when refitted twice in a day). */
async function writeDailyCounts(pool: pg.Pool, shop: string, asOfDay: number, tally: SegmentTally): Promise<void> {
  const counts = tally.counts();
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query(`DELETE FROM "SegmentDailyCount" WHERE shop = $1 AND day = $2::date`, [shop, dayToIso(asOfDay)]);
    await client.query(
      `INSERT INTO "SegmentDailyCount" (shop, day, kind, segment, customers, "netSpentMinor", "predictedClvMinor")
       SELECT $1, $2::date, kind, segment, customers, net, clv
       FROM unnest($3::text[], $4::text[], $5::int[], $6::bigint[], $7::bigint[]) AS t(kind, segment, customers, net, clv)`,
      [
        shop,
        dayToIso(asOfDay),
        counts.map((c) => c.kind),
        counts.map((c) => c.key),
        counts.map((c) => c.customers),
        counts.map((c) => c.netSpentMinor),
        counts.map((c) => (c.predictedClvMinor === null ? null : Math.round(c.predictedClvMinor))),
      ],
    );
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

interface AggregateInputs {
  settings: MetricsSettings;
  asOfDay: number;
  modelVersion: number | null;
  refitAt: Date;
  tally: SegmentTally;
  report: RetentionReport;
  table: ReturnType<OrderTableBuilder["build"]>["table"];
  dimensions: ShopData["dimensions"];
  fit: FitOutcome;
}

/**
 * The aggregates that come from the orders alone (not from the rows written): the larger
 * part of the work. Yields between retention subsets, so it can run while PostgreSQL builds
 * a partition's indexes without holding up the statements that build them.
 */
async function tableAggregates(a: Omit<AggregateInputs, "tally" | "refitAt" | "modelVersion">): Promise<TableAggregates> {
  const { settings, asOfDay, report, table, dimensions } = a;
  const before = retentionSummaryFromTable(table, { asOfDay: asOfDay - KPI_PERIOD_DAYS, maxCohorts: 0 });
  const period = periodTotals(table, asOfDay, KPI_PERIOD_DAYS);
  // Retention, whole shop and per top value of each acquisition dimension.
  const retentionOptions = { cac: settings.cacMinor, grossMargin: settings.grossMargin > 0 && settings.grossMargin <= 1 ? settings.grossMargin : 1 };
  const filters = {} as RetentionAggregate["filters"];
  const filtered: [string, RetentionAggregate][] = [];
  for (const dimension of RETENTION_DIMENSIONS) {
    const values = dimensions[dimension];
    const top = values.top(RETENTION_FILTER_VALUES);
    filters[dimension] = top.map((v) => ({ value: v.value, customers: v.customers }));
    const subsets = customersTablesByCode(table, values.ofCustomer, top.map((v) => v.code));
    for (const v of top) {
      await new Promise((resolve) => setImmediate(resolve));
      const subset = subsets.get(v.code)!;
      filtered.push([
        retentionKind(dimension, v.value),
        {
          currency: settings.currency,
          report: retentionSummaryFromTable(subset, { asOfDay, ...retentionOptions }),
          filters,
          filter: { dimension, value: v.value },
        },
      ]);
    }
  }
  const retention: RetentionAggregate = { currency: settings.currency, report, filters };
  await new Promise((resolve) => setImmediate(resolve));
  return { before, period, retention, filtered, backtest: shopBacktest(a) };
}

interface TableAggregates {
  before: RetentionReport;
  period: ReturnType<typeof periodTotals>;
  retention: RetentionAggregate;
  filtered: [string, RetentionAggregate][];
  backtest: BacktestAggregate;
}

async function writeAggregates(pool: pg.Pool, shop: string, a: AggregateInputs, parts: TableAggregates): Promise<void> {
  const { settings, asOfDay, tally, report } = a;
  const asOfIso = dayToIso(asOfDay);

  // Segment history (daily counts written by earlier refits).
  const history = await pool.query<{ day: number; kind: string; segment: string; customers: number; clv: bigint | string | null }>(
    `SELECT day - DATE '1970-01-01' AS day, kind, segment, customers, "predictedClvMinor" AS clv FROM "SegmentDailyCount"
     WHERE shop = $1 AND day = ANY($2::date[])`,
    [shop, [7, 30, KPI_PERIOD_DAYS].map((d) => dayToIso(asOfDay - d))],
  );
  const counted = new Map<string, number>();
  const clvBefore = { sum: 0, customers: 0, any: false, known: false };
  for (const row of history.rows) {
    const daysAgo = asOfDay - row.day;
    counted.set(`${daysAgo}|${row.kind}|${row.segment}`, row.customers);
    if (daysAgo === KPI_PERIOD_DAYS && row.kind === "rfm") {
      clvBefore.known = true;
      clvBefore.customers += row.customers;
      if (row.clv !== null) {
        clvBefore.any = true;
        clvBefore.sum += Number(row.clv);
      }
    }
  }
  const segments: SegmentsAggregate = {
    currency: settings.currency,
    asOfIso,
    customers: tally.customers,
    netSpentMinor: tally.netSpent,
    rows: tally.rows(settings.segmentLabels, (kind, key, daysAgo) => counted.get(`${daysAgo}|${kind}|${key}`) ?? null),
  };

  const { before, period, retention, filtered, backtest: backtestAggregate } = parts;
  const kpis: KpisAggregate = kpisOf({
    currency: settings.currency,
    asOfIso,
    periodDays: KPI_PERIOD_DAYS,
    now: report,
    before,
    averagePredictedClv: {
      value: tally.clvCount > 0 ? tally.clvSum / tally.clvCount : null,
      previous: clvBefore.any && clvBefore.customers > 0 ? clvBefore.sum / clvBefore.customers : null,
    },
    period,
  });

  const moved = await pool.query<{ from: string | null; to: string | null; customers: number }>(
    `SELECT "fromSegment" AS from, "toSegment" AS to, count(*)::int AS customers FROM "SegmentTransition"
     WHERE shop = $1 AND at > $2::timestamp GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2`,
    [shop, new Date(a.refitAt.getTime() - MOVEMENT_DAYS * 86_400_000).toISOString()],
  );
  const movements: MovementsAggregate = {
    days: MOVEMENT_DAYS,
    total: moved.rows.reduce((sum, row) => sum + row.customers, 0),
    moves: moved.rows.map((row) => ({ from: row.from, to: row.to, customers: row.customers })),
  };

  const rows: [string, unknown][] = [
    [AGGREGATE_KIND.kpis, kpis],
    [AGGREGATE_KIND.segments, segments],
    [AGGREGATE_KIND.movements, movements],
    [AGGREGATE_KIND.retention, retention],
    [AGGREGATE_KIND.backtest, backtestAggregate],
    ...filtered,
  ];
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    // Filter rows of values no longer in the top go; the rest are replaced.
    await client.query(`DELETE FROM "ShopAggregate" WHERE shop = $1 AND kind LIKE 'retention:%' AND NOT (kind = ANY($2::text[]))`, [
      shop,
      filtered.map(([kind]) => kind),
    ]);
    await client.query(
      `INSERT INTO "ShopAggregate" (shop, kind, "asOfDay", "modelVersion", data, "computedAt")
       SELECT $1, kind, $2, $3, data, $4::timestamp FROM unnest($5::text[], $6::jsonb[]) AS t(kind, data)
       ON CONFLICT (shop, kind) DO UPDATE SET "asOfDay" = EXCLUDED."asOfDay", "modelVersion" = EXCLUDED."modelVersion",
         data = EXCLUDED.data, "computedAt" = EXCLUDED."computedAt"`,
      [shop, asOfDay, a.modelVersion, a.refitAt.toISOString(), rows.map(([kind]) => kind), rows.map(([, value]) => JSON.stringify(value))],
    );
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** Calibration/holdout backtest of the chosen count model on the shop's own orders. */
function shopBacktest(a: Pick<AggregateInputs, "report" | "asOfDay" | "table" | "fit">): BacktestAggregate {
  const { report, asOfDay, table, fit } = a;
  const firstCohort = report.totals.customers > 0 ? firstOrderDayOf(table, asOfDay) : null;
  const window = backtestWindow(firstCohort, asOfDay);
  if ("note" in window) return { holdoutDays: 0, result: null, note: window.note };
  if (!fit.model) return { holdoutDays: window.holdoutDays, result: null, note: `no predictions: ${fit.reason ?? "the model could not be fitted"}` };
  try {
    const result = backtest(table, { calibrationEndDay: window.calibrationEndDay, holdoutEndDay: asOfDay, unit: SHOP_MODEL_UNIT, model: fit.model.chosen });
    return { holdoutDays: window.holdoutDays, result, note: result.converged ? null : `the calibration fit did not converge (${result.convergenceMessage})` };
  } catch (error) {
    return { holdoutDays: window.holdoutDays, result: null, note: errorMessage(error) };
  }
}

function firstOrderDayOf(table: ReturnType<OrderTableBuilder["build"]>["table"], asOfDay: number): number | null {
  let first: number | null = null;
  for (const day of table.days) if (day <= asOfDay && (first === null || day < first)) first = day;
  return first;
}

/** Installed shops (not uninstalled), oldest first. */
export async function shopsToRefit(pool: pg.Pool): Promise<string[]> {
  const result = await pool.query<{ domain: string }>(`SELECT domain FROM "Shop" WHERE "uninstalledAt" IS NULL ORDER BY "installedAt", domain`);
  return result.rows.map((row) => row.domain);
}

export interface ShopRefitProcessorDeps {
  pool: pg.Pool;
  /** The shop-refit queue itself: nightly-all adds one `shop` job per installed shop to it. */
  refitQueue: Queue;
  logger?: Logger;
}

export function createShopRefitProcessor({ pool, refitQueue, logger = silentLogger }: ShopRefitProcessorDeps) {
  return async (job: Job) => {
    const parsed = ShopRefitJob.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid shop-refit job data: ${parsed.error.message}`);
    const data = parsed.data;
    if (data.task === "nightly-all") {
      const shops = await shopsToRefit(pool);
      // Same dedup id as requestRefit: a shop already waiting for a refit is not queued twice.
      // One add per shop: addBulk ignores per-job deduplication in some BullMQ versions.
      for (const shop of shops) {
        const refit: ShopRefitJob = { task: "shop", shop, trigger: "nightly" };
        await refitQueue.add("shop", refit, { deduplication: { id: shopRefitDedupId(shop) } });
      }
      logger.info("nightly refits enqueued", { shops: shops.length });
      return { shops: shops.length };
    }
    const report = await refitShop(pool, data.shop, { trigger: data.trigger });
    logger.info("shop refit done", { ...report });
    return report;
  };
}
