import { activeRunOfOperation } from "~/data/backfill-runs.server";
import { type Tx } from "~/db/tx.server";
import { backfillFinishJobId } from "~/queues/contract";
import { enqueueBackfill } from "~/queues/enqueue.server";
import { type BulkOperationFinishPayload } from "./payloads";

export type FinishedBulkOperation = BulkOperationFinishPayload & { id: string };

/**
 * bulk_operations/finish: if the operation is one of our backfill runs, enqueue the step
 * that reads its result (app/integrations/bulk-orders.server.ts). When Redis cannot take the
 * job the delivery still succeeds: the run's own polling finds the operation finished.
 */
export async function handleBulkOperationFinished(tx: Tx, shop: string, operation: FinishedBulkOperation): Promise<void> {
  const run = await activeRunOfOperation(tx, shop, operation.admin_graphql_api_id);
  if (!run) return;
  try {
    await enqueueBackfill({ task: "advance", runId: run.id.toString() }, { jobId: backfillFinishJobId(run.id.toString()) });
  } catch (error) {
    if (error instanceof Error && error.message.startsWith("Redis is unavailable")) return;
    throw error;
  }
}
