import { type PrismaClient } from "@prisma/client";
import { UnrecoverableError } from "bullmq";
import { type DeliveryOutcome, type IngestDeps, processDelivery } from "~/ingest/deliveries.server";
import { type IngestJob } from "~/queues/contract";

// Ingest: one stored delivery through the one write path (app/ingest/deliveries.server.ts).

export function createIngestProcessor(db: PrismaClient, deps: IngestDeps = {}) {
  return async (data: IngestJob): Promise<DeliveryOutcome> => {
    const outcome = await processDelivery(db, BigInt(data.deliveryId), deps);
    // A payload of the wrong shape fails its job once, without retries, and stays visible.
    if (outcome.status === "failed") throw new UnrecoverableError(outcome.error);
    return outcome;
  };
}
