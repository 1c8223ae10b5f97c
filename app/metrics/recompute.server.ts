import type pg from "pg";
import { type CustomerOrderFact, type ScoringContext, customerFactsFromOrders, customerMetrics } from "~/analytics/customer-metrics";
import { withCartAbandonment } from "~/analytics/behaviour";
import { liveCustomersCountedOrders } from "~/data/counted-orders.server";
import { deleteCustomerMetrics, lockCustomersForRecompute, todayInZone, writeCustomerMetrics } from "~/data/customer-metrics.server";
import { markDestinationChanges } from "~/data/destinations.server";
import { countChangesSinceFit } from "~/data/shop-fit.server";
import { type Queryable, pgTransaction } from "~/db/pg.server";
import { type Logger, errorMessage } from "~/lib/log.server";
import { enqueueDestination } from "~/queues/enqueue.server";
import { type FitState, REFIT_DEBOUNCE, type RefitDebounce, type RefitDue, refitDue } from "~/refit/debounce";
import { requestRefit } from "~/refit/request-refit.server";
import { storedScoring, shopSettings } from "./caches.server";

// The live customer-metrics recompute: one customer's row, recomputed from their stored
// orders and the shop's stored fit each time their orders or profile change. The shop refit
// (app/refit) writes the same rows for everyone through the same pure function
// (app/analytics/customer-metrics.ts), so on the same orders, fit and day both agree.
//
// Each recompute also counts towards the shop's next refit (ShopFit.changesSinceFit); the
// debounce (app/refit/debounce.ts) decides when that refit is asked for.

// ------------------------------------------------------------------ change counting

/**
 * Changes counted while the shop's fit row was locked (a refit finishing), added on the
 * next recompute in this process: a recompute never waits for a refit.
 */
const uncounted = new Map<string, number>();

async function countChanges(db: Queryable, shop: string, changes: number, now: Date): Promise<FitState> {
  const added = changes + (uncounted.get(shop) ?? 0);
  uncounted.delete(shop);
  const row = await countChangesSinceFit(db, shop, added, now);
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
  /** Whether the shop's refit should be asked for now (recomputeAndAskForRefit asks). */
  refit: RefitDue | null;
  /** Destinations whose outbox got these customers (recomputeAndAskForRefit asks for their passes). */
  destinations: string[];
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
  if (ids.length === 0) return { written: 0, transitions: 0, removed: 0, refit: null, destinations: [] };
  const now = options.now ?? new Date();

  const fit = await storedScoring(pool, shop);
  const settings = await shopSettings(pool, shop, fit.version);
  const asOfDay = todayInZone(settings.timezone, now);
  const context: ScoringContext = { ...fit.context, asOfDay, costFallbackMargin: settings.costFallbackMargin };

  // The commit does not wait for its WAL flush: metrics rows are derived data, so a crash can
  // lose at most the last moment's recomputes, which the next change or the nightly refit
  // writes again; not waiting halves a recompute's cost.
  const outcome = await pgTransaction(
    pool,
    async (_tx, client) => {
      // One recompute of a customer at a time, its read after the previous one's write: rows
      // are never written out of order (issue 12; found by `npm run bench -- faults`).
      await lockCustomersForRecompute(client, shop, ids);
      // The customers that exist, with their counted orders and latest abandoned checkout, in one
      // statement (their rows held against a redaction meanwhile).
      const read = await liveCustomersCountedOrders(client, shop, settings, ids);
      const factsById = new Map<string, CustomerOrderFact[]>();
      // Cart abandoners (issue 17): the latest abandoned checkout's age decides the behaviour, orders or not.
      const abandoned = new Map<string, number>();
      for (const row of read) {
        const id = String(row.live_id);
        let facts = factsById.get(id);
        if (!facts) factsById.set(id, (facts = []));
        if (row.abandoned_day !== null) abandoned.set(id, Number(row.abandoned_day));
        if (row.day !== null) {
          facts.push({
            day: Number(row.day),
            net: Number(row.net),
            discounted: row.discounted === true,
            voided: row.voided === true,
            costedProfit: Number(row.costed_profit ?? 0),
            uncostedNet: Number(row.uncosted_net ?? 0),
          });
        }
      }
      const rows = [...factsById].map(([id, facts]) => {
        const row = customerMetrics(customerFactsFromOrders(id, facts, asOfDay), context);
        const day = abandoned.get(id);
        return { ...row, behaviours: withCartAbandonment(row.behaviours, day === undefined ? null : asOfDay - day) };
      });
      // computedAt is the real time of the write, whatever the scoring clock: freshness is
      // measured to it, and the refit compares it with its snapshot time to keep newer rows.
      const written = await writeCustomerMetrics(client, shop, rows, { modelVersion: fit.modelVersion, asOfDay, source: "live", computedAt: new Date(), prepared: true });
      const gone = ids.filter((id) => !factsById.has(id));
      const removed = gone.length === 0 ? 0 : await deleteCustomerMetrics(client, shop, gone);
      // Every recomputed customer (written or removed) may change what an email tool holds:
      // the shop's destinations' outboxes get them in this commit (one index probe without any).
      const destinations = await markDestinationChanges(client, shop, ids);
      // In the same transaction: one commit per recompute. (The fit row is only ever held for
      // the moment until this commit; concurrent recomputes skip it and carry their count.)
      const state = await countChanges(client, shop, ids.length, now);
      return { ...written, removed, state, destinations };
    },
    // Key lookups only: their generic plans, never planned per recompute (ADR 0012).
    { asyncCommit: true, genericPlans: true },
  );

  // A shop never fitted asks for its first fit only for a customer that exists: a late job of
  // a redacted shop must not bring a fit row back.
  const refit = outcome.state.fitted || outcome.written > 0 ? refitDue(outcome.state, now, options.debounce) : null;
  return { written: outcome.written, transitions: outcome.transitions, removed: outcome.removed, refit, destinations: outcome.destinations };
}

// ------------------------------------------------------------------ the live job's work

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

/**
 * Recomputes these customers and, when the debounce says the shop's refit is due, asks for
 * it, unless this process made an at-least-as-urgent request for the shop within
 * requestEveryMs. A failed request is logged, not thrown: the rows are written, the count
 * stays in ShopFit and the next change asks again.
 */
export async function recomputeAndAskForRefit(
  pool: pg.Pool,
  shop: string,
  ids: readonly string[],
  options: RecomputeOptions & { logger: Logger },
): Promise<CustomerMetricsJobResult> {
  const result = await recomputeCustomerMetrics(pool, shop, ids, options);
  const due = result.refit;
  let asked = false;
  if (due) {
    const debounce = options.debounce ?? REFIT_DEBOUNCE;
    try {
      asked = await requestRefit(shop, due.trigger, { delayMs: due.delayMs, unlessAskedWithinMs: debounce.requestEveryMs });
    } catch (error) {
      options.logger.error("could not ask for a refit", { shop, reason: due.reason, error: errorMessage(error) });
    }
  }
  for (const destinationId of result.destinations) {
    // The outbox rows are committed: a lost enqueue only waits for the destinations sweep.
    await enqueueDestination({ task: "changes", destinationId }).catch((error: unknown) =>
      options.logger.error("could not ask for a destination pass", { shop, destinationId, error: errorMessage(error) }),
    );
  }
  return { written: result.written, transitions: result.transitions, removed: result.removed, batch: ids.length, refit: asked && due ? due.reason : null };
}
