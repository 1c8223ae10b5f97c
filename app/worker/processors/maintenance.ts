import { type PrismaClient } from "@prisma/client";
import { type Queue } from "bullmq";
import { type SweepOptions, type SweepReport, sweepPendingDeliveries } from "~/ingest/sweeper.server";
import { type MaintenanceJob } from "~/queues/contract";

// Maintenance: today only the sweeper (app/ingest/sweeper.server.ts).

export function createMaintenanceProcessor(db: PrismaClient, ingestQueue: Queue, sweep: SweepOptions) {
  return async (data: MaintenanceJob): Promise<SweepReport> => {
    switch (data.task) {
      case "sweep-deliveries":
        return sweepPendingDeliveries(db, ingestQueue, sweep);
    }
  };
}
