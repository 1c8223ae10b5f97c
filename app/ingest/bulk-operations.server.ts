import { type BulkOperationFinishPayload } from "./payloads";
import { type Tx } from "./tx.server";

export type FinishedBulkOperation = BulkOperationFinishPayload & { id: string };

/**
 * bulk_operations/finish: the hook the backfill issue fills in. The backfill worker will
 * look up the operation it started (by `operation.id`), fetch its JSONL result URL with
 * the Admin API and stream each record through upsertOrder / upsertCustomer. Today the
 * delivery is validated and marked PROCESSED, nothing more.
 */
export async function handleBulkOperationFinished(_tx: Tx, _shop: string, _operation: FinishedBulkOperation): Promise<void> {}
