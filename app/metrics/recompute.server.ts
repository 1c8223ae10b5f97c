import { type Job, type Queue, UnrecoverableError } from "bullmq";
import type pg from "pg";
import { type CustomerOrderFact, type ScoringContext, customerFactsFromOrders, customerMetrics } from "~/analytics/customer-metrics";
import { loadStoredFit, scoringContextOf, todayInZone, writeCustomerMetrics } from "~/data/customer-metrics.server";
import { COUNTED_ORDERS_SQL, type MetricsSettings, countedOrdersParams, loadMetricsSettings } from "~/data/settings.server";
import { pgQuery, type Queryable } from "~/db/pg.server";
import { type Logger, errorMessage, silentLogger } from "~/lib/log.server";
import { requestRefit } from "~/queues/enqueue.server";
import { CustomerMetricsJob, type RefitTrigger, shopRefitDedupId } from "~/queues/queues.server";

// The live customer-metrics worker: one customer's row, recomputed from their stored orders
// and the shop's stored fit each time their orders or profile change. The shop refit
// (shop-refit.ts) writes the same rows for everyone through the same pure function
// (app/analytics/customer-metrics.ts), so on the same orders, fit and day both agree.
//
// Each recompute also counts towards the shop's next refit (ShopFit.changesSinceFit):
// the models and RFM cut points are refitted when enough customers changed, or when the
// oldest change not yet in a fit has waited long enough (REFIT_DEBOUNCE below).

/** When a shop's debounced refit is asked for. */
export const REFIT_DEBOUNCE = {
  /** Refit once this many customers changed since the last fit... */
  minChanges: 50,
  /** ...or this share of the shop's customers (at the last fit), whichever is larger. */
  shareOfCustomers: 0.02,
  /** Or once the oldest change not yet in a fit is this old (a quiet shop still refits). */
  maxWaitMs: 15 * 60_000,
  /** Debounced refits of one shop start at least this long apart (a busy shop does not refit back to back). */
  minSpacingMs: 5 * 60_000,
  /** A shop never fitted asks for its first refit this long after its first change, so a burst lands in it. */
  firstFitDelayMs: 30_000,
  /** One process asks Redis about one shop's refit at most this often (the request is idempotent; this spares Redis). */
  requestEveryMs: 30_000,
} as const;
export type RefitDebounce = { [K in keyof typeof REFIT_DEBOUNCE]: number };

/** Changes that make a shop's refit due: max(minChanges, shareOfCustomers x customers). */
export function refitThreshold(customersAtFit: number, debounce: RefitDebounce = REFIT_DEBOUNCE): number {
  return Math.max(debounce.minChanges, Math.ceil(debounce.shareOfCustomers * Math.max(0, customersAtFit)));
}

/** What a recompute learned about the shop's fit, after counting its changes. */
export interface FitState {
  /** The shop has a ShopFit row (it was fitted, or a refit at least began). */
  fitted: boolean;
  /** Customers at the last fit (threshold base). */
  customers: number;
  /** Changes since the last fit, this recompute's included (null: the row was locked by a refit; not counted yet). */
  changes: number | null;
  /** This recompute's count (changes - added was the count before). */
  added: number;
  firstChangeAt: Date | null;
  /** When the last refit finished (or started, while one is rescoring). */
  lastFitFinishedAt: Date | null;
}

export interface RefitDue {
  trigger: RefitTrigger;
  /** Run it this long from now (0: now). */
  delayMs: number;
  /** requested: asked for explicitly (the demo, the settings page), not by the debounce. */
  reason: "first-fit" | "threshold" | "waited" | "first-change" | "requested";
}

/**
 * Whether (and when) to ask for the shop's refit. Pure: the numbers are REFIT_DEBOUNCE.
 * - never fitted: the first refit, shortly (firstFitDelayMs);
 * - changes reached the threshold, or the oldest change waited maxWaitMs: now, but not
 *   sooner than minSpacingMs after the last refit finished;
 * - the first change since the last fit: a refit maxWaitMs later, so a quiet shop's lone
 *   change still reaches a fit (the request above brings it forward when due earlier).
 */
export function refitDue(state: FitState, now: Date, debounce: RefitDebounce = REFIT_DEBOUNCE): RefitDue | null {
  if (!state.fitted) return { trigger: "debounce", delayMs: debounce.firstFitDelayMs, reason: "first-fit" };
  if (state.changes === null || state.changes <= 0) return null;
  const spacing = state.lastFitFinishedAt ? Math.max(0, state.lastFitFinishedAt.getTime() + debounce.minSpacingMs - now.getTime()) : 0;
  if (state.changes >= refitThreshold(state.customers, debounce)) return { trigger: "debounce", delayMs: spacing, reason: "threshold" };
  const waited = state.firstChangeAt ? now.getTime() - state.firstChangeAt.getTime() : 0;
  if (waited >= debounce.maxWaitMs) return { trigger: "debounce", delayMs: spacing, reason: "waited" };
  if (state.changes - state.added <= 0) {
    return { trigger: "debounce", delayMs: Math.max(spacing, debounce.maxWaitMs - waited), reason: "first-change" };
  }
  return null;
}

// ------------------------------------------------------------------ fit cache

interface CachedFit {
  version: number;
  modelVersion: number | null;
  context: Omit<ScoringContext, "asOfDay">;
}

/** Restored fits by shop: restoring a model per job would cost more than scoring with it. */
const fitCache = new Map<string, CachedFit>();
const FIT_CACHE_SHOPS = 1_000;

/** The shop's scoring context (without its as-of day): the stored fit, restored once per fit version. */
async function storedScoring(
  db: Queryable,
  shop: string,
): Promise<{ version: number | null; context: Omit<ScoringContext, "asOfDay">; modelVersion: number | null }> {
  const head = await db.query<{ version: number }>(`SELECT version FROM "ShopFit" WHERE shop = $1`, [shop]);
  const version = head.rows[0]?.version;
  let cached = version === undefined ? undefined : fitCache.get(shop);
  if (!cached || cached.version !== version) {
    const fit = version === undefined ? null : await loadStoredFit(db, shop);
    if (!fit) {
      // Never fitted: scored without predictions, RFM scores or behaviours until the first refit.
      fitCache.delete(shop);
      const { asOfDay: _day, ...context } = scoringContextOf(null, 0);
      return { version: null, context, modelVersion: null };
    }
    const { asOfDay: _day, ...context } = scoringContextOf(fit, fit.asOfDay);
    cached = { version: fit.version, modelVersion: fit.model ? fit.version : null, context };
    fitCache.delete(shop);
    if (fitCache.size >= FIT_CACHE_SHOPS) fitCache.delete(fitCache.keys().next().value as string);
    fitCache.set(shop, cached);
  }
  return { version: cached.version, context: cached.context, modelVersion: cached.modelVersion };
}

/** Settings by shop, kept while the fit version stays and for at most SETTINGS_TTL_MS. */
const settingsCache = new Map<string, { version: number | null; at: number; settings: MetricsSettings }>();
/**
 * A settings save asks for a refit, whose new fit version drops the cached settings; the
 * time limit covers the Shop row's time zone, which no refit announces.
 */
const SETTINGS_TTL_MS = 30_000;

async function shopSettings(db: Queryable, shop: string, fitVersion: number | null): Promise<MetricsSettings> {
  const cached = settingsCache.get(shop);
  if (cached && cached.version === fitVersion && Date.now() - cached.at < SETTINGS_TTL_MS) return cached.settings;
  const settings = await loadMetricsSettings(db, shop);
  settingsCache.delete(shop);
  if (settingsCache.size >= FIT_CACHE_SHOPS) settingsCache.delete(settingsCache.keys().next().value as string);
  settingsCache.set(shop, { version: fitVersion, at: Date.now(), settings });
  return settings;
}

// ------------------------------------------------------------------ change counting

/**
 * Changes counted while the shop's fit row was locked (a refit finishing), added on the
 * next recompute in this process: a recompute never waits for a refit.
 */
const uncounted = new Map<string, number>();

async function countChanges(db: Queryable, shop: string, changes: number, now: Date): Promise<FitState> {
  const added = changes + (uncounted.get(shop) ?? 0);
  uncounted.delete(shop);
  // SKIP LOCKED: a refit holding the row must not stall live metrics; the count is carried over.
  const result = await db.query<{
    customers: number;
    finishedAt: Date | null;
    changes: number | null;
    firstChangeAt: Date | null;
  }>(
    pgQuery(
      `WITH locked AS (
         SELECT shop FROM "ShopFit" WHERE shop = $1 FOR UPDATE SKIP LOCKED
       ),
       bumped AS (
         UPDATE "ShopFit" AS f
         SET "changesSinceFit" = f."changesSinceFit" + $2, "firstChangeAt" = COALESCE(f."firstChangeAt", $3::timestamp)
         FROM locked WHERE f.shop = locked.shop
         RETURNING f."changesSinceFit" AS changes, f."firstChangeAt"
       )
       SELECT f.customers, COALESCE(f."finishedAt", f."startedAt") AS "finishedAt", bumped.changes, bumped."firstChangeAt"
       FROM "ShopFit" AS f LEFT JOIN bumped ON true
       WHERE f.shop = $1`,
      [shop, added, now.toISOString()],
      true,
    ),
  );
  const row = result.rows[0];
  if (!row) return { fitted: false, customers: 0, changes: null, added, firstChangeAt: null, lastFitFinishedAt: null };
  if (row.changes === null) uncounted.set(shop, (uncounted.get(shop) ?? 0) + added);
  return {
    fitted: true,
    customers: row.customers,
    changes: row.changes,
    added,
    firstChangeAt: row.firstChangeAt,
    lastFitFinishedAt: row.finishedAt,
  };
}

// ------------------------------------------------------------------ recompute

export interface RecomputeOptions {
  /** The scoring clock (tests move it): the as-of day in the shop's time zone and change times. Default now. */
  now?: Date;
  /** Debounce numbers (tests shorten them). */
  debounce?: RefitDebounce;
}

export interface RecomputeResult {
  /** Metrics rows written (customers that exist, with or without counted orders). */
  written: number;
  /** Segment transitions those writes recorded. */
  transitions: number;
  /** Metrics rows removed: their customer no longer exists (deleted or redacted). */
  removed: number;
  /** Whether the shop's refit should be asked for now (the processor asks). */
  refit: RefitDue | null;
}

const DECIMAL_ID = /^\d+$/;

/**
 * Recomputes the metrics rows of these customers of `shop` from their counted orders and
 * the shop's stored fit, and counts them towards the shop's next refit. A customer with
 * no counted orders gets a row with 0 orders (no segment); a customer that no longer
 * exists loses their row.
 */
export async function recomputeCustomerMetrics(
  pool: pg.Pool,
  shop: string,
  customerIds: readonly (bigint | string)[],
  options: RecomputeOptions = {},
): Promise<RecomputeResult> {
  const ids = [...new Set(customerIds.map(String))];
  for (const id of ids) if (!DECIMAL_ID.test(id)) throw new RangeError(`customer id "${id}" is not a decimal id`);
  if (ids.length === 0) return { written: 0, transitions: 0, removed: 0, refit: null };
  const now = options.now ?? new Date();

  const fit = await storedScoring(pool, shop);
  const settings = await shopSettings(pool, shop, fit.version);
  const asOfDay = todayInZone(settings.timezone, now);
  const context: ScoringContext = { ...fit.context, asOfDay };

  const outcome = await metricsTransaction(pool, async (client) => {
    // The customers that exist, with their counted orders, in one statement. KEY SHARE on
    // their rows: a redaction or deletion of one of them (which deletes the row, then its
    // metrics) waits for this write, or this sees the row gone. Ingest's summary updates do
    // not conflict with it.
    const read = await client.query<{ live_id: bigint | string; day: number | null; net: bigint | string | null; discounted: boolean | null }>(
      pgQuery(
        `WITH live AS (SELECT id FROM "Customer" WHERE shop = $1 AND id = ANY($5::bigint[]) FOR KEY SHARE)
         SELECT live.id AS live_id, counted.day, counted.net, counted.discounted
         FROM live LEFT JOIN (${COUNTED_ORDERS_SQL} AND o."customerId" = ANY($5::bigint[])) AS counted ON counted.customer_id = live.id`,
        [...countedOrdersParams(shop, settings), ids],
        true,
      ),
    );
    const factsById = new Map<string, CustomerOrderFact[]>();
    for (const row of read.rows) {
      const id = String(row.live_id);
      let facts = factsById.get(id);
      if (!facts) factsById.set(id, (facts = []));
      if (row.day !== null) facts.push({ day: Number(row.day), net: Number(row.net), discounted: row.discounted === true });
    }
    const rows = [...factsById].map(([id, facts]) => customerMetrics(customerFactsFromOrders(id, facts, asOfDay), context));
    // computedAt is the real time of the write, whatever the scoring clock: freshness is
    // measured to it, and the refit compares it with its snapshot time to keep newer rows.
    const written = await writeCustomerMetrics(client, shop, rows, { modelVersion: fit.modelVersion, asOfDay, source: "live", computedAt: new Date(), prepared: true });
    const gone = ids.filter((id) => !factsById.has(id));
    const removed =
      gone.length === 0
        ? 0
        : ((await client.query(`DELETE FROM "CustomerMetrics" WHERE shop = $1 AND "customerId" = ANY($2::bigint[])`, [shop, gone])).rowCount ?? 0);
    // In the same transaction: one commit per recompute. (The fit row is only ever held for
    // the moment until this commit; concurrent recomputes skip it and carry their count.)
    const state = await countChanges(client, shop, ids.length, now);
    return { ...written, removed, state };
  });

  // A shop never fitted asks for its first fit only for a customer that exists: a late job of
  // a redacted shop must not bring a fit row back.
  const refit = outcome.state.fitted || outcome.written > 0 ? refitDue(outcome.state, now, options.debounce) : null;
  return { written: outcome.written, transitions: outcome.transitions, removed: outcome.removed, refit };
}

/**
 * Runs `work` in a transaction that commits without waiting for its WAL flush: metrics rows
 * are derived data, so a crash can lose at most the last moment's recomputes, which the
 * next change or the nightly refit writes again; not waiting halves a recompute's cost.
 */
async function metricsTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN; SET LOCAL synchronous_commit TO off");
    try {
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    }
  } finally {
    client.release();
  }
}

// ------------------------------------------------------------------ refit requests

/** The last refit request per shop in this process: when it was made and when it asked the refit to run. */
const lastRequest = new Map<string, { at: number; dueAt: number }>();

/**
 * Asks for the shop's refit `due.delayMs` from now. A refit already waiting for the shop
 * absorbs the request (requestRefit deduplicates per shop); when that one is delayed past
 * when this one is due (a 15-minute wait, and the threshold is reached now), it is
 * brought forward.
 */
export async function scheduleRefit(refitQueue: Queue, shop: string, due: RefitDue): Promise<void> {
  await requestRefit(shop, due.trigger, { delayMs: due.delayMs });
  const jobId = await refitQueue.getDeduplicationJobId(shopRefitDedupId(shop));
  const job = jobId ? await refitQueue.getJob(jobId) : undefined;
  if (!job || !(await job.isDelayed())) return;
  const dueAt = Date.now() + due.delayMs;
  if (job.timestamp + (job.delay ?? 0) <= dueAt) return;
  // Either may fail if the job started meanwhile: then it runs anyway.
  if (due.delayMs === 0) await job.promote().catch(() => {});
  else await job.changeDelay(due.delayMs).catch(() => {});
}

export interface CustomerMetricsProcessorDeps {
  pool: pg.Pool;
  /** The shop-refit queue (brings a delayed refit forward); without it, refits are not asked for. */
  refitQueue?: Queue;
  logger?: Logger;
  debounce?: RefitDebounce;
  /** The clock (tests). */
  now?: () => Date;
}

/** What a metrics job returns: its recompute's counts (shared by the jobs recomputed together). */
export interface CustomerMetricsJobResult {
  written: number;
  transitions: number;
  removed: number;
  /** Customers recomputed in the same statement as this job's. */
  batch: number;
  /** Why a refit was asked for, when this recompute asked. */
  refit: RefitDue["reason"] | null;
}

/** Customers of one shop recomputed together at most (one write statement). */
const MAX_BATCH = 200;

/**
 * The BullMQ processor for the customer-metrics queue. Jobs of one shop that arrive while
 * a recompute of that shop is running are recomputed together when it ends, in one
 * transaction and one write statement: idle, a job runs at once, alone; under load the
 * cost per customer falls as batches grow, instead of the queue growing.
 */
export function createCustomerMetricsProcessor({ pool, refitQueue, logger = silentLogger, debounce, now }: CustomerMetricsProcessorDeps) {
  const recompute = async (shop: string, ids: string[]): Promise<CustomerMetricsJobResult> => {
    const result = await recomputeCustomerMetrics(pool, shop, ids, { now: now?.(), debounce });
    const due = result.refit;
    const asked = due && refitQueue ? await askForRefit(refitQueue, shop, due, debounce ?? REFIT_DEBOUNCE, logger) : false;
    return { written: result.written, transitions: result.transitions, removed: result.removed, batch: ids.length, refit: asked && due ? due.reason : null };
  };
  const batches = new ShopBatches(recompute);
  return async (job: Job): Promise<CustomerMetricsJobResult> => {
    const parsed = CustomerMetricsJob.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid customer-metrics job data: ${parsed.error.message}`);
    return batches.submit(parsed.data.shop, parsed.data.customerId);
  };
}

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/** One run per shop at a time; customers submitted meanwhile wait and run together next. */
export class ShopBatches<T> {
  private readonly waiting = new Map<string, Map<string, Waiter<T>[]>>();
  private readonly running = new Set<string>();

  constructor(
    private readonly run: (shop: string, ids: string[]) => Promise<T>,
    private readonly maxBatch = MAX_BATCH,
  ) {}

  submit(shop: string, id: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let byId = this.waiting.get(shop);
      if (!byId) this.waiting.set(shop, (byId = new Map()));
      let waiters = byId.get(id);
      if (!waiters) byId.set(id, (waiters = []));
      waiters.push({ resolve, reject });
      if (!this.running.has(shop)) void this.drain(shop);
    });
  }

  private async drain(shop: string): Promise<void> {
    this.running.add(shop);
    try {
      for (;;) {
        const byId = this.waiting.get(shop);
        if (!byId || byId.size === 0) break;
        const ids = [...byId.keys()].slice(0, this.maxBatch);
        const waiters = ids.flatMap((id) => {
          const forId = byId.get(id) ?? [];
          byId.delete(id);
          return forId;
        });
        try {
          const result = await this.run(shop, ids);
          for (const waiter of waiters) waiter.resolve(result);
        } catch (error) {
          for (const waiter of waiters) waiter.reject(error);
        }
      }
    } finally {
      this.running.delete(shop);
      this.waiting.delete(shop);
    }
  }
}

/**
 * scheduleRefit, unless this process made an at-least-as-urgent request for the shop within
 * requestEveryMs. A failure is logged, not thrown: the row is written, the count stays in
 * ShopFit and the next change asks again.
 */
async function askForRefit(refitQueue: Queue, shop: string, due: RefitDue, debounce: RefitDebounce, logger: Logger): Promise<boolean> {
  const at = Date.now();
  const dueAt = at + due.delayMs;
  const last = lastRequest.get(shop);
  if (last && at - last.at < debounce.requestEveryMs && last.dueAt <= dueAt) return false;
  lastRequest.delete(shop);
  lastRequest.set(shop, { at, dueAt });
  if (lastRequest.size > FIT_CACHE_SHOPS) lastRequest.delete(lastRequest.keys().next().value as string);
  try {
    await scheduleRefit(refitQueue, shop, due);
    return true;
  } catch (error) {
    lastRequest.delete(shop);
    logger.error("could not ask for a refit", { shop, reason: due.reason, error: errorMessage(error) });
    return false;
  }
}
