import { type PrismaClient } from "@prisma/client";
import { type Job, UnrecoverableError } from "bullmq";
import { SCRUBBED_NOTE } from "~/ingest/gdpr.server";
import { type Delivery, handleDelivery } from "~/ingest/handlers.server";
import { PayloadValidationError } from "~/ingest/mappers";
import { TRANSACTION_OPTIONS } from "~/ingest/tx.server";
import { IngestJob } from "../queues.server";
import { errorMessage } from "../log.server";

// The ingest processor: loads a stored delivery by id, runs its topic's handler and marks
// it PROCESSED in the same transaction, under a row lock on the delivery. A job that runs
// twice (a stalled job picked up again, a sweeper re-enqueue, a duplicate add) therefore
// finds the delivery PROCESSED and does nothing: effects happen exactly once.

export type DeliveryOutcome =
  | { status: "processed"; topic: string; customerId: string | null; scrubbed: boolean }
  | { status: "skipped"; reason: "already-processed" | "already-failed" | "missing" }
  | { status: "failed"; error: string };

/** Test-only hook: holds each delivery this long (inside its transaction) so a test can kill the worker mid-job. */
function testDelayMs(): number {
  if (process.env.NODE_ENV !== "test") return 0;
  const value = Number(process.env.TENURE_TEST_INGEST_DELAY_MS ?? 0);
  return Number.isFinite(value) && value > 0 ? value : 0;
}

export async function processDelivery(db: PrismaClient, deliveryId: bigint): Promise<DeliveryOutcome> {
  try {
    return await db.$transaction(async (tx): Promise<DeliveryOutcome> => {
      const [delivery] = await tx.$queryRaw<(Delivery & { status: string })[]>`
        SELECT id, shop, topic, payload, "triggeredAt", "receivedAt", status::text AS status
        FROM "WebhookDelivery" WHERE id = ${deliveryId}::bigint FOR UPDATE`;
      if (!delivery) return { status: "skipped", reason: "missing" };
      if (delivery.status === "PROCESSED") return { status: "skipped", reason: "already-processed" };
      if (delivery.status === "FAILED") return { status: "skipped", reason: "already-failed" };

      const delay = testDelayMs();
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));

      const result = await handleDelivery(tx, delivery);
      // (shop/redact has deleted the row itself: then this updates nothing.)
      await tx.$executeRaw`
        UPDATE "WebhookDelivery"
        SET status = 'PROCESSED', "processedAt" = ${new Date()}::timestamp, "customerId" = ${result.customerId}::bigint,
            attempts = attempts + 1, error = ${result.scrub ? SCRUBBED_NOTE : null}::text,
            payload = CASE WHEN ${result.scrub}::boolean THEN NULL ELSE payload END,
            "rawBody" = CASE WHEN ${result.scrub}::boolean THEN NULL ELSE "rawBody" END
        WHERE id = ${deliveryId}::bigint`;
      return {
        status: "processed",
        topic: delivery.topic,
        customerId: result.customerId?.toString() ?? null,
        scrubbed: result.scrub,
      };
    }, TRANSACTION_OPTIONS);
  } catch (error) {
    if (error instanceof PayloadValidationError) {
      await db.webhookDelivery.updateMany({
        where: { id: deliveryId, status: "PENDING" },
        data: { status: "FAILED", error: error.message, attempts: { increment: 1 } },
      });
      return { status: "failed", error: error.message };
    }
    // Transient (database restart, lock timeout, deadlock victim): keep the row PENDING
    // with the reason, and let BullMQ retry; the sweeper takes over if retries run out.
    await db.webhookDelivery
      .updateMany({
        where: { id: deliveryId, status: "PENDING" },
        data: { attempts: { increment: 1 }, error: `will retry: ${errorMessage(error)}` },
      })
      .catch(() => {});
    throw error;
  }
}

/** The BullMQ processor for the ingest queue. */
export function createIngestProcessor(db: PrismaClient) {
  return async (job: Job): Promise<DeliveryOutcome> => {
    const data = IngestJob.safeParse(job.data);
    if (!data.success) throw new UnrecoverableError(`invalid ingest job data: ${data.error.message}`);
    const outcome = await processDelivery(db, BigInt(data.data.deliveryId));
    // A payload of the wrong shape fails its job once, without retries, and stays visible.
    if (outcome.status === "failed") throw new UnrecoverableError(outcome.error);
    return outcome;
  };
}
