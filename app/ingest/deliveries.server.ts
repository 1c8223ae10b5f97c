import { type PrismaClient } from "@prisma/client";
import type pg from "pg";
import { type LockedDelivery, lockDelivery, markDeliveryFailed, markDeliveryProcessed, noteDeliveryRetry } from "~/data/webhook-deliveries.server";
import { type RawTx, pgPool, pgTransaction } from "~/db/pg.server";
import { testIngestDelayMs } from "~/env.server";
import { SCRUBBED_NOTE } from "~/ingest/gdpr.server";
import { type HandlerResult, handleDelivery, handleRawDelivery, isRawTopic } from "~/ingest/handlers.server";
import { PayloadValidationError } from "~/ingest/mappers";
import { TRANSACTION_OPTIONS } from "~/db/tx.server";
import { errorMessage } from "~/lib/log.server";
import { enqueueCustomerMetrics } from "~/queues/enqueue.server";

// One delivery's processing: loads a stored delivery by id, runs its topic's handler and marks
// it PROCESSED in the same transaction, under a row lock on the delivery. A job that runs
// twice (a stalled job picked up again, a sweeper re-enqueue, a duplicate add) therefore
// finds the delivery PROCESSED and does nothing to the rows: effects happen exactly once.
//
// The hot topics (orders, refunds, customer profiles) run on a plain pg transaction:
// Prisma's engine-less client costs ~0.4 ms of CPU per query, most of a delivery's cost.
// The rare topics that use Prisma's model methods (GDPR, app/*, bulk operations) keep it.
//
// After the commit, every customer the delivery changed gets a metrics recompute
// (customer-metrics queue). If Redis refuses, the job throws and BullMQ retries it; the
// retry finds the delivery PROCESSED and enqueues the customer stored on its row.

export type DeliveryOutcome =
  | { status: "processed"; topic: string; customerId: string | null; scrubbed: boolean }
  | { status: "skipped"; reason: "already-processed" | "already-failed" | "missing" }
  | { status: "failed"; error: string };

export interface IngestDeps {
  /** The pg pool of the hot path (default: the process's pgPool(), on DATABASE_URL). */
  pool?: pg.Pool;
  /** Hands customers to the metrics queue; throws when it cannot (default enqueueCustomerMetrics). */
  enqueueMetrics?: (shop: string, customerIds: bigint[]) => Promise<void>;
}

/** Redis refused the metrics hand-off after the delivery committed: the job must be retried. */
export class MetricsHandOffError extends Error {
  constructor(readonly deliveryId: bigint, cause: unknown) {
    super(`delivery ${deliveryId} is stored, but its customers' metrics could not be enqueued: ${errorMessage(cause)}`);
    this.name = "MetricsHandOffError";
  }
}

/** What one transaction did: the outcome, and who needs new metrics once it has committed. */
type Step =
  | { kind: "done"; outcome: DeliveryOutcome; shop?: string; metricsFor: bigint[] }
  | { kind: "needs-prisma" };

/** The delivery was handled already (or cannot be): nothing to write. A processed one re-sends its stored customer. */
function settled(delivery: LockedDelivery | undefined): Step | null {
  if (!delivery) return { kind: "done", outcome: { status: "skipped", reason: "missing" }, metricsFor: [] };
  if (delivery.status === "PROCESSED") {
    return {
      kind: "done",
      outcome: { status: "skipped", reason: "already-processed" },
      shop: delivery.shop,
      metricsFor: delivery.customerId === null ? [] : [delivery.customerId],
    };
  }
  if (delivery.status === "FAILED") return { kind: "done", outcome: { status: "skipped", reason: "already-failed" }, metricsFor: [] };
  return null;
}

async function handleLocked(tx: RawTx, delivery: LockedDelivery, handle: () => Promise<HandlerResult>): Promise<Step> {
  // Tests only: holds the delivery mid-transaction so a test can kill the worker here.
  const delay = testIngestDelayMs();
  if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  const result = await handle();
  await markDeliveryProcessed(tx, delivery.id, { customerId: result.customerId, scrubNote: result.scrub ? SCRUBBED_NOTE : null });
  return {
    kind: "done",
    outcome: { status: "processed", topic: delivery.topic, customerId: result.customerId?.toString() ?? null, scrubbed: result.scrub },
    shop: delivery.shop,
    metricsFor: result.affectedCustomerIds,
  };
}

export async function processDelivery(db: PrismaClient, deliveryId: bigint, deps: IngestDeps = {}): Promise<DeliveryOutcome> {
  let step: Step;
  try {
    step = await pgTransaction(deps.pool ?? pgPool(), async (tx): Promise<Step> => {
      const delivery = await lockDelivery(tx, deliveryId);
      const done = settled(delivery);
      if (done) return done;
      // Rare topics: release the row and take the Prisma path below (it locks the row again).
      if (!isRawTopic(delivery!.topic)) return { kind: "needs-prisma" };
      return handleLocked(tx, delivery!, () => handleRawDelivery(tx, delivery!));
    }, { prepared: true });
    if (step.kind === "needs-prisma") {
      step = await db.$transaction(async (tx): Promise<Step> => {
        const delivery = await lockDelivery(tx, deliveryId);
        return settled(delivery) ?? handleLocked(tx, delivery!, () => handleDelivery(tx, delivery!));
      }, TRANSACTION_OPTIONS);
    }
  } catch (error) {
    if (error instanceof PayloadValidationError) {
      await markDeliveryFailed(db, deliveryId, error.message);
      return { status: "failed", error: error.message };
    }
    // Transient (database restart, lock timeout, deadlock victim): keep the row PENDING
    // with the reason, and let BullMQ retry; the sweeper takes over if retries run out.
    await noteDeliveryRetry(db, deliveryId, errorMessage(error)).catch(() => {});
    throw error;
  }
  if (step.kind === "done" && step.shop !== undefined && step.metricsFor.length > 0) {
    try {
      await (deps.enqueueMetrics ?? enqueueCustomerMetrics)(step.shop, step.metricsFor);
    } catch (error) {
      throw new MetricsHandOffError(deliveryId, error);
    }
  }
  return (step as Extract<Step, { kind: "done" }>).outcome;
}
