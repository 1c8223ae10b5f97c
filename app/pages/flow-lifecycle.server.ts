import { setFlowTriggerLifecycle } from "~/data/flow-triggers.server";
import { readShopAdmission } from "~/data/shop-admission.server";
import { type Queryable } from "~/db/pg.server";
import { parseFlowLifecycleCallback } from "~/destinations/flow/lifecycle";
import { type Logger, consoleLogger } from "~/lib/log.server";

// Flow's trigger lifecycle callback, once the route has verified its signature: read
// (app/destinations/flow/lifecycle.ts) and stored per shop and trigger
// (app/data/flow-triggers.server.ts). Flow shows the merchant an error and keeps the
// workflow off on any answer but 2xx, so only a body Tenure cannot use is refused (400, with
// the reason), and the refusal is logged: an unknown trigger id means Flow names triggers in
// a way this code does not know yet.

export interface FlowLifecycleAnswer {
  status: 200 | 400;
  message: string;
}

export async function receiveFlowLifecycle(db: Queryable, body: string, logger: Logger = consoleLogger): Promise<FlowLifecycleAnswer> {
  const parsed = parseFlowLifecycleCallback(body);
  if (!parsed.ok) {
    logger.error("Flow trigger lifecycle callback refused", { reason: parsed.reason, problem: parsed.problem });
    return { status: 400, message: parsed.problem };
  }
  const { callback } = parsed;
  // A redacted shop's data is gone (ADR 0013): a late or replayed callback does not bring a row back.
  if ((await readShopAdmission(db, callback.shop)) === "redacted") return { status: 200, message: "The shop's data was redacted; nothing stored." };
  const { applied } = await setFlowTriggerLifecycle(db, callback);
  return { status: 200, message: applied ? "Stored." : "A callback as new or newer is stored already; nothing changed." };
}
