import { onBulkOperationFinished } from "~/integrations/bulk-orders.server";
import { enqueueBackfill } from "~/queues/enqueue.server";
import { type BulkOperationFinishPayload } from "./payloads";
import { type Tx } from "~/db/tx.server";

export type FinishedBulkOperation = BulkOperationFinishPayload & { id: string };

/**
 * bulk_operations/finish: if the operation is one of our backfill runs, enqueue the step
 * that reads its result (integrations/bulk-orders.server.ts). When Redis cannot take the
 * job the delivery still succeeds: the run's own polling finds the operation finished.
 */
export async function handleBulkOperationFinished(tx: Tx, shop: string, operation: FinishedBulkOperation): Promise<void> {
  try {
    await onBulkOperationFinished(tx, enqueueBackfill, shop, operation.admin_graphql_api_id);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith("Redis is unavailable")) return;
    throw error;
  }
}
