import { Prisma, type PrismaClient } from "@prisma/client";
import { type Job, UnrecoverableError } from "bullmq";
import { SCRUBBED_NOTE } from "~/ingest/gdpr.server";
import { handleDelivery } from "~/ingest/handlers.server";
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
      const locked = await tx.$queryRaw<{ status: string }[]>`
        SELECT status::text AS status FROM "WebhookDelivery" WHERE id = ${deliveryId}::bigint FOR UPDATE`;
      if (locked.length === 0) return { status: "skipped", reason: "missing" };
      if (locked[0].status === "PROCESSED") return { status: "skipped", reason: "already-processed" };
      if (locked[0].status === "FAILED") return { status: "skipped", reason: "already-failed" };
      const delivery = await tx.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId } });

      const delay = testDelayMs();
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));

      const result = await handleDelivery(tx, delivery);
      // updateMany: shop/redact deletes the delivery row itself.
      await tx.webhookDelivery.updateMany({
        where: { id: deliveryId },
        data: {
          status: "PROCESSED",
          processedAt: new Date(),
          customerId: result.customerId,
          attempts: { increment: 1 },
          error: result.scrub ? SCRUBBED_NOTE : null,
          ...(result.scrub ? { payload: Prisma.DbNull, rawBody: null } : {}),
        },
      });
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
