import { type MetricsFigures } from "~/data/destinations.server";
import { isAtRisk } from "~/analytics/churn-risk";
import { type ProfileShop, predictedValue12m, roundedFraction } from "~/display/profile-properties";
import { segmentName } from "~/display/segment-names";
import {
  CHURN_RISK,
  CUSTOMER_REFERENCE_PAYLOAD_KEY,
  DUE_TO_REORDER,
  type FlowTriggerDefinition,
  RFM_SEGMENT_CHANGED,
} from "./triggers";

// What Flow must be told about one customer (pure): their current metrics against what Flow
// was last told (FlowCustomerState), as the email tools compare a customer with what the tool
// holds (ADR 0016). A difference becomes a trigger event, for the triggers the shop has an
// enabled workflow for; the state follows the metrics whatever is enabled, so enabling a
// trigger later never fires for what happened before (app/destinations/flow/README.md).

/**
 * Flow refuses a payload whose JSON is over 50,000 bytes ("Properties size exceeds the limit
 * of 50000 bytes", API 2026-04); Tenure's payloads are a few hundred bytes, but a merchant's
 * segment label is free text, so every payload is made to fit (fitFlowPayload).
 */
export const FLOW_PAYLOAD_MAX_BYTES = 50_000;

export type FlowPayload = Record<string, string | number>;

/** The customer's figures a comparison reads (a metrics row's columns, minor units as decimal text). */
export interface FlowFigures extends MetricsFigures {
  /** The metrics row's write time as stored: each event's dedupe key names the row it came from. */
  computedAt: string;
}

export interface FlowState {
  segment: string | null;
  atRisk: boolean;
}

export interface FlowShop extends ProfileShop {
  /** The churn-risk threshold, a fraction 0..1 (Settings). */
  churnRiskThreshold: number;
}

export interface FlowEventDraft {
  handle: string;
  customerId: string;
  payload: FlowPayload;
  /** Unique per destination: the same change compared twice (a retried pass) inserts one event. */
  dedupeKey: string;
}

export interface FlowComparison {
  /** The state to record; null: the customer has no metrics row any more (their state goes). */
  next: FlowState | null;
  /** Whether `next` differs from the state read (nothing to write otherwise). */
  changed: boolean;
  events: FlowEventDraft[];
}

/** A fraction 0..1 as the triggers' percentage fields carry it (0..100, two decimals). */
const percentage = (fraction: number): number => Math.round(roundedFraction(fraction)! * 100 * 100) / 100;

/**
 * Builds a trigger's payload: Flow's customer reference under `customer_id` (the numeric id)
 * and the trigger's fields by their toml keys; a null value is left out (Flow then has no value
 * for the field rather than a made-up one). Throws on a key the trigger does not declare.
 */
export function flowPayload(trigger: FlowTriggerDefinition, customerId: string, values: Record<string, string | number | null>): FlowPayload {
  const payload: FlowPayload = { [CUSTOMER_REFERENCE_PAYLOAD_KEY]: Number(customerId) };
  for (const [key, value] of Object.entries(values)) {
    if (!trigger.fields.some((field) => field.key === key)) throw new Error(`${trigger.handle} has no field "${key}"`);
    if (value !== null) payload[key] = value;
  }
  return fitFlowPayload(payload);
}

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), "utf8");

/**
 * The payload within Flow's limit: while its JSON is too large, the longest text value is cut
 * (ending in "…"). Numbers and the customer reference are never cut.
 */
export function fitFlowPayload(payload: FlowPayload, maxBytes = FLOW_PAYLOAD_MAX_BYTES): FlowPayload {
  const fitted = { ...payload };
  for (let excess = jsonBytes(fitted) - maxBytes; excess > 0; excess = jsonBytes(fitted) - maxBytes) {
    const longest = Object.entries(fitted)
      .filter((entry): entry is [string, string] => typeof entry[1] === "string" && entry[1].length > 1)
      .sort((a, b) => b[1].length - a[1].length)[0];
    if (!longest) throw new Error("the Flow payload cannot be made to fit its size limit");
    const [key, text] = longest;
    // Cut by characters until the bytes fit (a multi-byte character counts for up to 4 bytes).
    const keep = Math.max(1, text.length - excess - 3);
    fitted[key] = `${[...text].slice(0, keep).join("")}…`;
  }
  return fitted;
}

/** The RFM-segment-changed payload. */
export function segmentChangedPayload(customerId: string, from: string | null, to: string, figures: FlowFigures, shop: FlowShop): FlowPayload {
  const fields = RFM_SEGMENT_CHANGED.fields;
  return flowPayload(RFM_SEGMENT_CHANGED, customerId, {
    [fields[0]!.key]: from === null ? "" : segmentName(from, shop.labels),
    [fields[1]!.key]: segmentName(to, shop.labels),
    [fields[2]!.key]: from ?? "",
    [fields[3]!.key]: to,
    [fields[4]!.key]: predictedValue12m(figures, shop),
    [fields[5]!.key]: figures.chanceOfOrder90d === null ? null : percentage(figures.chanceOfOrder90d),
  });
}

/** The churn-risk payload. */
export function churnRiskPayload(customerId: string, chanceOfOrder90d: number, shop: FlowShop): FlowPayload {
  const fields = CHURN_RISK.fields;
  return flowPayload(CHURN_RISK, customerId, {
    [fields[0]!.key]: percentage(chanceOfOrder90d),
    [fields[1]!.key]: percentage(shop.churnRiskThreshold),
  });
}

/** The due-to-reorder payload: the day, YYYY-MM-DD in the shop's time zone. */
export function dueToReorderPayload(customerId: string, day: string): FlowPayload {
  return flowPayload(DUE_TO_REORDER, customerId, { [DUE_TO_REORDER.fields[0]!.key]: day });
}

/**
 * Compares one customer. `silent`: the baseline (a first enable's full pass) records the state
 * and fires nothing. A customer Flow was told nothing about is compared with an empty state:
 * their first segment fires "RFM segment changed" with an empty From (the field's description
 * says so), and a chance already below the threshold fires churn risk.
 * - RFM segment: fires when the segment differs from the one recorded and is not empty.
 * - Churn risk: fires when the customer falls below the threshold and was not at risk; it
 *   fires once per crossing (rising above again resets it silently; no prediction keeps it).
 */
export function compareFlowCustomer(
  customerId: string,
  state: FlowState | null,
  figures: FlowFigures | null,
  shop: FlowShop,
  enabled: ReadonlySet<string>,
  silent: boolean,
): FlowComparison {
  if (figures === null) return { next: null, changed: state !== null, events: [] };
  const before: FlowState = state ?? { segment: null, atRisk: false };
  const atRiskNow = isAtRisk(figures.chanceOfOrder90d, shop.churnRiskThreshold) ?? before.atRisk;
  const next: FlowState = { segment: figures.segment, atRisk: atRiskNow };
  const events: FlowEventDraft[] = [];
  const fire = (handle: string) => !silent && enabled.has(handle);
  if (figures.segment !== null && figures.segment !== before.segment && fire(RFM_SEGMENT_CHANGED.handle)) {
    events.push({
      handle: RFM_SEGMENT_CHANGED.handle,
      customerId,
      payload: segmentChangedPayload(customerId, before.segment, figures.segment, figures, shop),
      dedupeKey: `${RFM_SEGMENT_CHANGED.handle}:${customerId}:${before.segment ?? ""}>${figures.segment}:${figures.computedAt}`,
    });
  }
  if (atRiskNow && !before.atRisk && figures.chanceOfOrder90d !== null && fire(CHURN_RISK.handle)) {
    events.push({
      handle: CHURN_RISK.handle,
      customerId,
      payload: churnRiskPayload(customerId, figures.chanceOfOrder90d, shop),
      dedupeKey: `${CHURN_RISK.handle}:${customerId}:${figures.computedAt}`,
    });
  }
  const changed = state === null || state.segment !== next.segment || state.atRisk !== next.atRisk;
  return { next, changed, events };
}

/** The due-to-reorder event of one customer and local day: once per customer and day (its dedupe key). */
export function dueToReorderEvent(customerId: string, day: string): FlowEventDraft {
  return { handle: DUE_TO_REORDER.handle, customerId, payload: dueToReorderPayload(customerId, day), dedupeKey: `${DUE_TO_REORDER.handle}:${customerId}:${day}` };
}
