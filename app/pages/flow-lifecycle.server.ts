import type pg from "pg";
import { lockFlowLifecycle, setFlowTriggerLifecycle, syncFlowDestination } from "~/data/flow-triggers.server";
import { readShopAdmission } from "~/data/shop-admission.server";
import { pgTransaction } from "~/db/pg.server";
import { parseFlowLifecycleCallback } from "~/destinations/flow/lifecycle";
import { type Logger, consoleLogger, errorMessage } from "~/lib/log.server";
import { enqueueDestination } from "~/queues/enqueue.server";

// Flow's trigger lifecycle callback, once the route has verified its signature: read
// (app/destinations/flow/lifecycle.ts) and stored per shop and trigger
// (app/data/flow-triggers.server.ts), and the shop's Destination of kind "flow" made to
// follow (created with its baseline wanted, or deleted with the last workflow). Flow shows
// the merchant an error and keeps the workflow off on any answer but 2xx, so only a body
// Tenure cannot use is refused (400, with the reason), and the refusal is logged: an unknown
// trigger id means Flow names triggers in a way this code does not know yet.

export interface FlowLifecycleAnswer {
  status: 200 | 400;
  message: string;
}

export async function receiveFlowLifecycle(pool: pg.Pool, body: string, logger: Logger = consoleLogger): Promise<FlowLifecycleAnswer> {
  const parsed = parseFlowLifecycleCallback(body);
  if (!parsed.ok) {
    logger.error("Flow trigger lifecycle callback refused", { reason: parsed.reason, problem: parsed.problem });
    return { status: 400, message: parsed.problem };
  }
  const { callback } = parsed;
  // A redacted shop's data is gone (ADR 0013): a late or replayed callback does not bring a row back.
  if ((await readShopAdmission(pool, callback.shop)) === "redacted") return { status: 200, message: "The shop's data was redacted; nothing stored." };
  // The row and the shop's Flow destination in one transaction, one callback of the shop at a
  // time: the destination exists while any trigger is enabled (app/destinations/flow/README.md).
  const { applied, createdId } = await pgTransaction(pool, async (_tx, client) => {
    await lockFlowLifecycle(client, callback.shop);
    const { applied } = await setFlowTriggerLifecycle(client, callback);
    return { applied, ...(applied ? await syncFlowDestination(client, callback.shop) : { createdId: null }) };
  });
  if (createdId !== null) {
    // The first workflow: the silent baseline (a lost enqueue waits for the destinations sweep, fullWantedAt is stored).
    await enqueueDestination({ task: "full", destinationId: createdId, reason: "initial" }).catch((error: unknown) =>
      logger.error("could not ask for the Flow triggers' baseline pass; the destinations sweep will", { shop: callback.shop, error: errorMessage(error) }),
    );
  }
  return { status: 200, message: applied ? "Stored." : "A callback as new or newer is stored already; nothing changed." };
}
