import type pg from "pg";
import { dayIndexInZone, dayToIso } from "~/analytics/dates";
import {
  type OutboxEntry,
  clearFullWantedIfUnchanged,
  deleteErasures,
  deleteOutboxIfUnchanged,
  readDestination,
  readErasures,
  readOutboxBatch,
  readOutboxOf,
} from "~/data/destinations.server";
import {
  type FlowEventWrite,
  type FlowStateWrite,
  deleteFlowEvents,
  deleteFlowStatesWithoutMetrics,
  dueRunDone,
  enabledFlowTriggers,
  flowDestinationsDueToReorder,
  markDueFired,
  noteFlowEventFailure,
  readDueCustomers,
  readFlowCandidates,
  readFlowFullBatch,
  readPendingFlowEvents,
  recordDueRun,
  refuseFlowEvent,
  writeFlowComparison,
} from "~/data/flow-triggers.server";
import { loadMetricsSettings } from "~/data/settings.server";
import { clientTransaction } from "~/db/pg.server";
import { type Logger, errorMessage, silentLogger } from "~/lib/log.server";
import { DestinationRetryableError } from "../adapter";
import { type AdminGraphqlClient } from "../shopify/definitions.server";
import { DestinationBusyError, databaseNow, withDestinationLock } from "../sync.server";
import { type FlowShop, compareFlowCustomer, dueToReorderEvent } from "./compare";
import { DUE_TO_REORDER } from "./triggers";

// Fires Tenure's Shopify Flow triggers (issue 15) from the one outbox (ADR 0016): the shop's
// Destination of kind "flow" exists while a workflow uses one of its triggers
// (app/data/flow-triggers.server.ts, syncFlowDestination), so the live recompute marks its
// outbox like an email tool's and a `changes` job follows within seconds; a refit wants a
// full pass. A pass compares each candidate's metrics with what Flow was last told
// (compare.ts), and in ONE transaction per batch records the new state, inserts the events
// (one per dedupe key) and drains the outbox rows it read. Then it sends the pending events
// with flowTriggerReceive, one at a time in order, each deleted once Flow accepted it.
// README.md in this folder has the rules and what Flow may see twice.

export interface FlowDeps {
  pool: pg.Pool;
  /** The worker's Admin GraphQL client (AdminGraphql: cost-bucket pacing, THROTTLED / 5xx retries); without it events wait. */
  admin?: AdminGraphqlClient;
  logger?: Logger;
  /** The clock (tests): which local day the due-to-reorder run is for. */
  now?: () => Date;
}

export interface FlowPassResult {
  /** done; gone: the destination no longer exists; waiting: events wait for an Admin API client. */
  status: "done" | "gone" | "waiting";
  compared: number;
  /** Events recorded by this pass's comparisons (or its due run). */
  recorded: number;
  sent: number;
  /** Events Flow refused (kept with its words, not sent again). */
  refused: number;
  /** Events dropped unsent because their trigger is no longer enabled. */
  dropped: number;
}

/** flowTriggerReceive as the docs give it (https://shopify.dev/docs/api/admin-graphql/latest/mutations/flowTriggerReceive). */
export const FLOW_TRIGGER_RECEIVE = `#graphql
  mutation TenureFlowTriggerReceive($handle: String, $payload: JSON) {
    flowTriggerReceive(handle: $handle, payload: $payload) {
      userErrors { field message }
    }
  }`;

interface FlowTriggerReceiveData {
  flowTriggerReceive: { userErrors: { field: string[] | null; message: string }[] } | null;
}

/** Customers compared per transaction. */
const BATCH = 500;
/** Events read per round of sending. */
const SEND_BATCH = 100;
/**
 * Failed sends after which an event is given up on (kept as refused, pruned with them): the
 * job's backoff and the destinations sweep retry it meanwhile, so a Shopify outage of a few
 * hours loses nothing, and a failure that never ends cannot pile a shop's events up behind it.
 */
export const FLOW_SEND_MAX_ATTEMPTS = 100;

/**
 * The Admin client's verdict that retrying cannot help (ShopifyAdminError with `retriable`
 * false: no usable session, 401/403, a query Shopify rejects), read by its flag because
 * destinations/ may not import integrations/ (docs/architecture.md).
 */
function retryingCannotCure(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { retriable?: unknown }).retriable === false;
}

const emptyResult = (status: FlowPassResult["status"]): FlowPassResult => ({ status, compared: 0, recorded: 0, sent: 0, refused: 0, dropped: 0 });

interface PassContext {
  client: pg.PoolClient;
  destinationId: string;
  shop: string;
  flowShop: FlowShop;
  enabled: ReadonlySet<string>;
  silent: boolean;
  result: FlowPassResult;
}

/** Compares one batch and commits it: states, events, and the outbox rows read before the state (each goes only if unchanged since). */
async function compareBatch(ctx: PassContext, customerIds: readonly string[], outbox: readonly OutboxEntry[]): Promise<void> {
  const { client, destinationId, shop } = ctx;
  const candidates = await readFlowCandidates(client, shop, destinationId, customerIds);
  const states: FlowStateWrite[] = [];
  const deletes: string[] = [];
  const events: FlowEventWrite[] = [];
  for (const candidate of candidates) {
    const comparison = compareFlowCustomer(candidate.customerId, candidate.state, candidate.metrics, ctx.flowShop, ctx.enabled, ctx.silent);
    if (comparison.next === null) {
      if (comparison.changed) deletes.push(candidate.customerId);
    } else if (comparison.changed) {
      states.push({ customerId: candidate.customerId, ...comparison.next });
    }
    events.push(...comparison.events);
  }
  await clientTransaction(client, async () => {
    ctx.result.recorded += (await writeFlowComparison(client, shop, destinationId, states, deletes, events)).inserted;
    await deleteOutboxIfUnchanged(client, destinationId, outbox);
  });
  ctx.result.compared += candidates.length;
}

/**
 * One pass of a shop's Flow destination: `changes` compares its outbox, `full` every customer
 * with a metrics row (the first one after enabling a workflow is the silent baseline, and so
 * is a `changes` pass while that baseline is still wanted), `erase` clears its erasure rows
 * (Flow keeps nothing of Tenure's to delete; the redaction already deleted the customer's
 * state and events), `due` runs the due-to-reorder trigger for the shop's local day if not
 * done yet. Every kind then sends the events waiting. One pass per destination at a time
 * (DestinationBusyError otherwise); a send that fails keeps its event and throws
 * DestinationRetryableError, so the job retries with backoff.
 */
export async function runFlowPass(deps: FlowDeps, destinationId: string, kind: "changes" | "full" | "erase" | "due", reason: string | null = null): Promise<FlowPassResult> {
  return withDestinationLock(deps.pool, destinationId, async (client) => {
    const destination = await readDestination(client, destinationId);
    if (!destination || destination.kind !== "flow") return emptyResult("gone");
    const result = emptyResult("done");
    if (kind === "erase") {
      for (let rows = await readErasures(client, destinationId, 500); rows.length > 0; rows = await readErasures(client, destinationId, 500)) {
        await deleteErasures(client, rows.map((row) => row.id));
      }
    }
    const enabled = await enabledFlowTriggers(client, destination.shop);
    const silent = reason === "initial" || destination.fullWantedReason === "initial";
    if (kind === "changes" || kind === "full") {
      const settings = await loadMetricsSettings(client, destination.shop);
      const flowShop: FlowShop = {
        currency: settings.currency,
        labels: settings.segmentLabels,
        horizonDays: settings.horizonDays,
        churnRiskThreshold: settings.churnRiskThreshold,
      };
      const ctx: PassContext = { client, destinationId, shop: destination.shop, flowShop, enabled, silent, result };
      // A changes pass before the baseline would fire for everyone Flow was told nothing about: it is the baseline.
      if (kind === "full" || silent) {
        // Outbox rows marked before the pass began are covered by its comparisons (they read later).
        const until = await databaseNow(client);
        for (let after = "0"; ; ) {
          const ids = await readFlowFullBatch(client, destination.shop, after, BATCH);
          if (ids.length === 0) break;
          after = ids[ids.length - 1]!;
          // Read before the state (compareBatch): the comparison covers these changes.
          await compareBatch(ctx, ids, await readOutboxOf(client, destinationId, ids));
        }
        await deleteFlowStatesWithoutMetrics(client, destination.shop, destinationId);
        // The outbox rows left from before the pass: customers without a metrics row (deleted), whose state went above.
        for (let entries = await readOutboxBatch(client, destinationId, until, null, BATCH); entries.length > 0; ) {
          await deleteOutboxIfUnchanged(client, destinationId, entries);
          const last: OutboxEntry = entries[entries.length - 1]!;
          entries = await readOutboxBatch(client, destinationId, until, last, BATCH);
        }
        if (destination.fullWantedAt !== null) await clearFullWantedIfUnchanged(client, destinationId, destination.fullWantedAt);
      } else {
        const until = await databaseNow(client);
        for (let after: OutboxEntry | null = null; ; ) {
          const entries = await readOutboxBatch(client, destinationId, until, after, BATCH);
          if (entries.length === 0) break;
          after = entries[entries.length - 1]!;
          await compareBatch(ctx, entries.map((e) => e.customerId), entries);
        }
      }
    }
    if (kind === "due" && enabled.has(DUE_TO_REORDER.handle)) {
      const settings = await loadMetricsSettings(client, destination.shop);
      result.recorded += await runDueToReorder(client, destinationId, destination.shop, settings.timezone, (deps.now ?? (() => new Date()))());
    }
    return sendPendingEvents(deps, client, destinationId, destination.shop, enabled, result);
  });
}

/** The shop's local day (YYYY-MM-DD) at `now`; an unknown time zone counts as UTC. */
export function localDayOf(timeZone: string, now: Date): string {
  try {
    return dayToIso(dayIndexInZone(now, timeZone));
  } catch {
    return dayToIso(dayIndexInZone(now, "UTC"));
  }
}

/**
 * The due-to-reorder run of the shop's current local day, once: every customer whose expected
 * next order is that day gets one event (once per customer and day: FlowCustomerState.dueFiredOn
 * and the event's dedupe key), and the day is recorded as done in the same transaction as its
 * last batch. Returns the events recorded.
 */
async function runDueToReorder(client: pg.PoolClient, destinationId: string, shop: string, timeZone: string, now: Date): Promise<number> {
  const day = localDayOf(timeZone, now);
  if (await dueRunDone(client, destinationId, day)) return 0;
  let recorded = 0;
  for (let after = "0"; ; ) {
    const ids = await readDueCustomers(client, shop, destinationId, day, after, BATCH);
    if (ids.length > 0) after = ids[ids.length - 1]!;
    await clientTransaction(client, async () => {
      if (ids.length > 0) {
        const { inserted, present } = await writeFlowComparison(client, shop, destinationId, [], [], ids.map((id) => dueToReorderEvent(id, day)));
        recorded += inserted;
        // Only customers still present (held by the write): one redacted since the read keeps no state row.
        await markDueFired(client, destinationId, ids.filter((id) => present.has(id)), day);
      }
      if (ids.length < BATCH) await recordDueRun(client, destinationId, day, recorded);
    });
    if (ids.length < BATCH) return recorded;
  }
}

/**
 * Sends the destination's pending events, oldest first, one flowTriggerReceive each (paced by
 * the Admin client's cost bucket). Accepted: deleted. userErrors: Flow refused it (unknown
 * handle, payload invalid or too large): kept with Flow's words and never sent again. A failed
 * request keeps the event (attempts, lastError) and throws, so the job retries with backoff;
 * one that retrying cannot cure, or the FLOW_SEND_MAX_ATTEMPTS-th failure, is kept as refused
 * instead (pruned with the refused ones) and the next event goes.
 * An event whose trigger is no longer enabled goes unsent (no workflow would run).
 */
async function sendPendingEvents(
  deps: FlowDeps,
  client: pg.PoolClient,
  destinationId: string,
  shop: string,
  enabled: ReadonlySet<string>,
  result: FlowPassResult,
): Promise<FlowPassResult> {
  const logger = deps.logger ?? silentLogger;
  for (;;) {
    const events = await readPendingFlowEvents(client, destinationId, SEND_BATCH);
    if (events.length === 0) return result;
    const unwanted = events.filter((event) => !enabled.has(event.handle));
    if (unwanted.length > 0) {
      await deleteFlowEvents(client, unwanted.map((event) => event.id));
      result.dropped += unwanted.length;
    }
    const wanted = events.filter((event) => enabled.has(event.handle));
    if (wanted.length === 0) continue;
    if (!deps.admin) return { ...result, status: "waiting" };
    for (const event of wanted) {
      let data: FlowTriggerReceiveData;
      try {
        data = await deps.admin.request<FlowTriggerReceiveData>(shop, FLOW_TRIGGER_RECEIVE, { handle: event.handle, payload: event.payload });
      } catch (error) {
        // Events go in order and a failure stops the round: one that retrying cannot cure (or
        // that failed too often) would hold every later event of the shop back for ever.
        if (retryingCannotCure(error) || event.attempts + 1 >= FLOW_SEND_MAX_ATTEMPTS) {
          const words = retryingCannotCure(error) ? errorMessage(error) : `gave up after ${FLOW_SEND_MAX_ATTEMPTS} attempts: ${errorMessage(error)}`;
          await refuseFlowEvent(client, event.id, words);
          result.refused += 1;
          logger.error("could not send a Flow trigger event and retrying would not help; kept as refused, not sent again", {
            shop,
            handle: event.handle,
            customerId: event.customerId,
            error: words,
          });
          continue;
        }
        await noteFlowEventFailure(client, event.id, errorMessage(error));
        logger.error("could not send a Flow trigger event; kept for the next pass", { shop, handle: event.handle, error: errorMessage(error) });
        throw new DestinationRetryableError(`flowTriggerReceive failed for ${shop}: ${errorMessage(error)}`);
      }
      const userErrors = data.flowTriggerReceive?.userErrors ?? [];
      if (userErrors.length > 0) {
        const words = userErrors.map((e) => e.message.trim()).join("; ");
        await refuseFlowEvent(client, event.id, words);
        result.refused += 1;
        logger.error("Shopify Flow refused a trigger event; kept and not sent again", { shop, handle: event.handle, customerId: event.customerId, error: words });
        continue;
      }
      await deleteFlowEvents(client, [event.id]);
      result.sent += 1;
    }
  }
}

/**
 * The schedule's job (SCHEDULES.flowDueToReorder): every shop with the due-to-reorder trigger
 * enabled whose local day has not had its run gets it now, one shop at a time. A shop whose
 * destination is busy, or whose events could not be sent, is left to the next round (its day
 * stays not done, or its events wait for the destinations sweep): one shop never stops the others.
 */
export async function runFlowDueToReorderOfShops(deps: FlowDeps): Promise<{ shops: number; ran: number; recorded: number }> {
  const logger = deps.logger ?? silentLogger;
  const now = (deps.now ?? (() => new Date()))();
  const tally = { shops: 0, ran: 0, recorded: 0 };
  for (const destination of await flowDestinationsDueToReorder(deps.pool, DUE_TO_REORDER.handle)) {
    tally.shops += 1;
    if (await dueRunDone(deps.pool, destination.id, localDayOf(destination.timezone, now))) continue;
    try {
      const result = await runFlowPass({ ...deps, now: () => now }, destination.id, "due");
      tally.ran += 1;
      tally.recorded += result.recorded;
    } catch (error) {
      if (!(error instanceof DestinationBusyError)) logger.error("Flow due-to-reorder run did not finish; the next round continues", { shop: destination.shop, error: errorMessage(error) });
    }
  }
  return tally;
}
