import { type Job, UnrecoverableError } from "bullmq";
import { type BackfillDeps, advanceBackfill, startBackfill } from "~/integrations/bulk-orders.server";
import { ShopifyAdminError } from "~/integrations/shopify-admin.server";
import { type BackfillJob } from "~/queues/contract";

// Backfill: `start` begins a shop's bulk import (idempotent per shop), `advance` polls its
// bulk operation or downloads its result, resuming from the last committed line
// (app/integrations/bulk-orders.server.ts).

export type BackfillOutcome = Awaited<ReturnType<typeof advanceBackfill>> | { state: "started"; runId: string; status: string };

export function createBackfillProcessor(deps: BackfillDeps) {
  return async (data: BackfillJob, job: Job): Promise<BackfillOutcome> => {
    try {
      if (data.task === "start") {
        const run = await startBackfill(deps, data.shop, { force: data.force });
        return { state: "started", runId: run.id.toString(), status: run.status };
      }
      return await advanceBackfill(deps, BigInt(data.runId), { retry: job.attemptsMade > 0 });
    } catch (error) {
      // No session, 401, a refused query: retrying cannot help until the merchant acts.
      if (error instanceof ShopifyAdminError && !error.retriable) throw new UnrecoverableError(error.message);
      throw error;
    }
  };
}
