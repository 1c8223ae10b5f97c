import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "smol-toml";

// The Shopify fake's flowTriggerReceive (tests/support/fake-shopify.ts dispatches to it), with
// Flow's validation as Shopify answers it (captured from the Admin API 2026-04: userErrors
// with field ["handle"] or ["body"] and Flow's "Errors validating schema:" sentences):
// - handle or payload missing or empty: "`handle` and `payload` arguments are required";
// - the payload's JSON over 50,000 bytes: "Properties size exceeds the limit of 50000 bytes.";
// - a handle the app has not deployed: "Invalid handle '<handle>'.";
// - a payload without the trigger's customer reference (customer_id):
//   "Required field missing: 'customer_id'." (the form Flow uses for a missing field);
// - a key the trigger does not declare: "Invalid field: '<key>'.".
// The deployed triggers are the app's flow_trigger extensions (extensions/*/shopify.extension.toml),
// read here as Shopify would know them, not from the code that fires them.

export interface ReceivedFlowEvent {
  handle: string;
  payload: Record<string, unknown>;
  at: number;
}

interface DeployedTrigger {
  handle: string;
  customerReference: boolean;
  fields: Map<string, string>;
}

const root = fileURLToPath(new URL("../../", import.meta.url));

function deployedTriggers(): Map<string, DeployedTrigger> {
  const triggers = new Map<string, DeployedTrigger>();
  for (const folder of readdirSync(`${root}extensions`, { withFileTypes: true })) {
    if (!folder.isDirectory()) continue;
    let text: string;
    try {
      text = readFileSync(`${root}extensions/${folder.name}/shopify.extension.toml`, "utf8");
    } catch {
      continue;
    }
    const toml = parse(text) as { extensions?: { type?: string; handle?: string }[]; settings?: { fields?: { type: string; key?: string }[] } };
    const extension = toml.extensions?.[0];
    if (extension?.type !== "flow_trigger" || !extension.handle) continue;
    const fields = toml.settings?.fields ?? [];
    triggers.set(extension.handle, {
      handle: extension.handle,
      customerReference: fields.some((f) => f.type === "customer_reference"),
      fields: new Map(fields.filter((f) => f.key !== undefined).map((f) => [f.key!, f.type])),
    });
  }
  return triggers;
}

const DEPLOYED = deployedTriggers();
/** Flow's limit on a payload's JSON. */
export const FAKE_FLOW_PAYLOAD_MAX_BYTES = 50_000;

const received = new WeakMap<object, Map<string, ReceivedFlowEvent[]>>();
const failAfterAccepting = new WeakMap<object, number>();

/**
 * The next `count` accepted events are answered with HTTP 500 after Flow took them (a response
 * lost on the way back): the sender cannot tell, retries, and Flow receives the event twice.
 */
export function answer500AfterAccepting(fake: object, count = 1): void {
  failAfterAccepting.set(fake, count);
}

/** What Flow accepted for a shop, in order (per fake instance). */
export function flowEventsOf(fake: object, shop: string): ReceivedFlowEvent[] {
  let shops = received.get(fake);
  if (!shops) received.set(fake, (shops = new Map()));
  let events = shops.get(shop);
  if (!events) shops.set(shop, (events = []));
  return events;
}

const schemaError = (...problems: string[]) => ({ field: ["body"], message: `Errors validating schema:\n${problems.map((p) => `  ${p}\n`).join("")}` });

/** flowTriggerReceive(handle, payload): its FlowTriggerReceivePayload. */
export function flowTriggerReceive(fake: object, shop: string, variables: Record<string, unknown>) {
  const handle = typeof variables.handle === "string" ? variables.handle : "";
  const payload = variables.payload;
  if (handle === "" || payload === undefined || payload === null) {
    return { userErrors: [{ field: ["handle"], message: "`handle` and `payload` arguments are required" }] };
  }
  if (Buffer.byteLength(JSON.stringify(payload), "utf8") > FAKE_FLOW_PAYLOAD_MAX_BYTES) {
    return { userErrors: [schemaError(`Properties size exceeds the limit of ${FAKE_FLOW_PAYLOAD_MAX_BYTES} bytes.`)] };
  }
  const trigger = DEPLOYED.get(handle);
  if (!trigger) return { userErrors: [schemaError(`Invalid handle '${handle}'.`)] };
  const fields = payload as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(fields)) {
    if (key === "customer_id" && trigger.customerReference) continue;
    const type = trigger.fields.get(key);
    if (type === undefined) problems.push(`Invalid field: '${key}'.`);
    else if (type === "number_decimal" && (typeof fields[key] !== "number" || !Number.isFinite(fields[key]))) problems.push(`Type error for field '${key}': ${String(fields[key])} is not a Decimal.`);
    else if (type === "single_line_text_field" && typeof fields[key] !== "string") problems.push(`Type error for field '${key}': ${String(fields[key])} is not a String.`);
  }
  if (trigger.customerReference) {
    const id = fields.customer_id;
    if (id === undefined || id === null) problems.push("Required field missing: 'customer_id'.");
    else if (!Number.isSafeInteger(Number(id)) || Number(id) <= 0) problems.push(`Type error for field 'customer_id': ${String(id)} is not a valid ID.`);
  }
  if (problems.length > 0) return { userErrors: [schemaError(...problems)] };
  flowEventsOf(fake, shop).push({ handle, payload: fields, at: Date.now() });
  const failing = failAfterAccepting.get(fake) ?? 0;
  if (failing > 0) {
    failAfterAccepting.set(fake, failing - 1);
    throw new Error("the response was lost after Flow accepted the event"); // the fake's server answers 500
  }
  return { userErrors: [] };
}
