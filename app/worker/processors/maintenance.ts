import { type PrismaClient } from "@prisma/client";
import { type Job, type Queue, UnrecoverableError } from "bullmq";
import { MaintenanceJob, ingestJobId } from "~/queues/queues.server";

// The maintenance processor. Its one task today is the sweeper: deliveries still PENDING
// some time after they arrived (Redis was down at intake, or a job ran out of retries)
// are handed to the ingest queue again. The delivery row, not Redis, is the source of
// truth, so sweeping is always safe: processing a delivery twice does nothing.

export interface SweepOptions {
  olderThanSeconds: number;
  batchSize: number;
}

export interface SweepReport {
  pending: number;
  enqueued: number;
  retried: number;
  inFlight: number;
}

export async function sweepPendingDeliveries(db: PrismaClient, ingestQueue: Queue, options: SweepOptions): Promise<SweepReport> {
  const rows = await db.$queryRaw<{ id: bigint }[]>`
    SELECT id FROM "WebhookDelivery"
    WHERE status = 'PENDING'
      AND "receivedAt" < (now() AT TIME ZONE 'UTC') - make_interval(secs => ${options.olderThanSeconds}::int)
    ORDER BY "receivedAt", id
    LIMIT ${options.batchSize}::int`;
  const report: SweepReport = { pending: rows.length, enqueued: 0, retried: 0, inFlight: 0 };
  const toAdd: string[] = [];
  for (const { id } of rows) {
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

export function createMaintenanceProcessor(db: PrismaClient, ingestQueue: Queue, sweep: SweepOptions) {
  return async (job: Job): Promise<SweepReport> => {
    const data = MaintenanceJob.safeParse(job.data);
    if (!data.success) throw new UnrecoverableError(`invalid maintenance job data: ${data.error.message}`);
    switch (data.data.task) {
      case "sweep-deliveries":
        return sweepPendingDeliveries(db, ingestQueue, sweep);
    }
  };
}
