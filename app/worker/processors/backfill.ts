import { type Job, UnrecoverableError } from "bullmq";
import { type BackfillDeps, advanceBackfill, startBackfill } from "~/integrations/bulk-orders.server";
import { ShopifyAdminError } from "~/integrations/shopify-admin.server";
import { BackfillJob } from "~/queues/queues.server";

// The backfill processor: `start` begins a shop's bulk import (idempotent per shop),
// `advance` polls its bulk operation or downloads its result, resuming from the last
// committed line. A failed download is retried by BullMQ and picks up where it stopped.

export type BackfillOutcome = Awaited<ReturnType<typeof advanceBackfill>> | { state: "started"; runId: string; status: string };

export function createBackfillProcessor(deps: BackfillDeps) {
  return async (job: Job): Promise<BackfillOutcome> => {
    const data = BackfillJob.safeParse(job.data);
    if (!data.success) throw new UnrecoverableError(`invalid backfill job data: ${data.error.message}`);
    try {
      if (data.data.task === "start") {
        const run = await startBackfill(deps, data.data.shop, { force: data.data.force });
        return { state: "started", runId: run.id.toString(), status: run.status };
      }
      return await advanceBackfill(deps, BigInt(data.data.runId), { retry: job.attemptsMade > 0 });
    } catch (error) {
      // No session, 401, a refused query: retrying cannot help until the merchant acts.
      if (error instanceof ShopifyAdminError && !error.retriable) throw new UnrecoverableError(error.message);
      throw error;
    }
  };
}
