import { FLOW_TRIGGERS, type FlowTriggerDefinition } from "./triggers";

// Shopify Flow's trigger lifecycle callback, read: Flow POSTs it (JSON, signed like a webhook
// with X-Shopify-Hmac-Sha256) when a merchant turns on or off a workflow that starts with one
// of the app's triggers (https://shopify.dev/docs/apps/build/flow/track-lifecycle-events):
//
//   { "flow_trigger_definition_id": "...", "has_enabled_flow": true, "shop_id": 690933842,
//     "shopify_domain": "johnsapparel.myshopify.com", "timestamp": "2019-01-25T16:44:10.999Z" }
//
// Pure: the route verifies the signature, this names the shop, the trigger and the state.

export interface FlowLifecycleCallback {
  /** The shop's myshopify.com domain, lower case (how Tenure keys shops). */
  shop: string;
  /** The trigger's extension handle (app/destinations/flow/triggers.ts). */
  handle: string;
  enabled: boolean;
  /** Flow's timestamp as sent: newer ones win. */
  timestamp: string;
}

export type FlowLifecycleParse =
  | { ok: true; callback: FlowLifecycleCallback }
  | { ok: false; reason: "malformed" | "unknown trigger"; problem: string };

const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;
/** ISO 8601 date and time with a zone, as Flow sends it (fractions up to nanoseconds; PostgreSQL keeps microseconds). */
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * The trigger a callback names. The docs call flow_trigger_definition_id "the unique
 * identifier for your Shopify Flow trigger" and show a trigger's title as the example: a
 * CLI-made trigger's handle and its name are both accepted.
 */
export function triggerOfDefinitionId(id: string): FlowTriggerDefinition | null {
  return FLOW_TRIGGERS.find((trigger) => trigger.handle === id) ?? FLOW_TRIGGERS.find((trigger) => trigger.name === id) ?? null;
}

const malformed = (problem: string): FlowLifecycleParse => ({ ok: false, reason: "malformed", problem });

/** Reads a lifecycle callback's body; a malformed body or an unknown trigger is named in one sentence. */
export function parseFlowLifecycleCallback(body: string): FlowLifecycleParse {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return malformed("The body is not JSON.");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return malformed("The body is not a JSON object.");
  const fields = json as Record<string, unknown>;

  const definitionId = fields.flow_trigger_definition_id;
  if (typeof definitionId !== "string" || definitionId.trim() === "") return malformed("flow_trigger_definition_id is missing or not a string.");
  if (typeof fields.has_enabled_flow !== "boolean") return malformed("has_enabled_flow is missing or not true or false.");
  const domain = fields.shopify_domain;
  const shop = typeof domain === "string" ? domain.trim().toLowerCase() : "";
  if (!SHOP_DOMAIN.test(shop)) return malformed("shopify_domain is missing or not a myshopify.com domain.");
  const timestamp = fields.timestamp;
  if (typeof timestamp !== "string" || !ISO_TIMESTAMP.test(timestamp) || Number.isNaN(Date.parse(timestamp))) {
    return malformed("timestamp is missing or not an ISO 8601 date and time with a time zone.");
  }

  const trigger = triggerOfDefinitionId(definitionId);
  if (!trigger) {
    return {
      ok: false,
      reason: "unknown trigger",
      problem: `flow_trigger_definition_id ${JSON.stringify(definitionId.slice(0, 200))} is not one of Tenure's triggers (${FLOW_TRIGGERS.map((t) => t.handle).join(", ")}).`,
    };
  }
  return { ok: true, callback: { shop, handle: trigger.handle, enabled: fields.has_enabled_flow, timestamp } };
}
