import { type PrismaClient } from "@prisma/client";
import { type Queue } from "bullmq";
import { giveUpOnDeliveries, stalePendingDeliveryIds } from "~/data/webhook-deliveries.server";
import { ingestJobId } from "~/queues/contract";

// The sweeper: deliveries still PENDING some time after they arrived (Redis was down at
// intake, or a job ran out of retries) are handed to the ingest queue again. The delivery
// row, not Redis, is the source of truth, so sweeping is always safe: processing a
// delivery twice does nothing. A delivery that has failed MAX_DELIVERY_ATTEMPTS times is
// given up on instead: FAILED with its last error, shown on the sync page.

/** Three rounds of the ingest queue's retries (its default attempts), then no more. */
export const MAX_DELIVERY_ATTEMPTS = 24;

export interface SweepOptions {
  olderThanSeconds: number;
  batchSize: number;
  /** Attempts after which a delivery is given up on (default MAX_DELIVERY_ATTEMPTS). */
  maxAttempts?: number;
}

export interface SweepReport {
  pending: number;
  enqueued: number;
  retried: number;
  inFlight: number;
  /** Deliveries given up on this sweep (FAILED with their last error). */
  gaveUp: number;
}

export async function sweepPendingDeliveries(db: PrismaClient, ingestQueue: Queue, options: SweepOptions): Promise<SweepReport> {
  const gaveUp = await giveUpOnDeliveries(db, options.maxAttempts ?? MAX_DELIVERY_ATTEMPTS);
  const ids = await stalePendingDeliveryIds(db, options.olderThanSeconds, options.batchSize);
  const report: SweepReport = { pending: ids.length, enqueued: 0, retried: 0, inFlight: 0, gaveUp: gaveUp.length };
  const toAdd: string[] = [];
  for (const id of ids) {
    const jobId = ingestJobId(id.toString());
    const state = await ingestQueue.getJobState(jobId);
    if (state === "unknown") {
      toAdd.push(id.toString());
    } else if (state === "failed" || state === "completed") {
      // The job is finished but the row is still PENDING (transient retries ran out):
      // a finished job's id blocks a new add, so replace it.
      await ingestQueue.remove(jobId);
      toAdd.push(id.toString());
      report.retried += 1;
    } else {
      report.inFlight += 1; // waiting, delayed, active: it will run
    }
  }
  if (toAdd.length > 0) {
    await ingestQueue.addBulk(
      toAdd.map((deliveryId) => ({ name: "ingest", data: { deliveryId }, opts: { jobId: ingestJobId(deliveryId) } })),
    );
  }
  report.enqueued = toAdd.length - report.retried;
  return report;
}
