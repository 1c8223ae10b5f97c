import { type PrismaClient } from "@prisma/client";

// The BackfillRun table family: one row per shop import (app/integrations/bulk-orders.server.ts
// drives it; the sync page reads it).

export type BackfillStatus = "CREATED" | "RUNNING" | "DOWNLOADING" | "COMPLETED" | "FAILED";
/** A run in one of these is still going: a second import of the shop waits for it. */
export const ACTIVE_BACKFILL_STATUSES: BackfillStatus[] = ["CREATED", "RUNNING", "DOWNLOADING"];

/** The shop's import that started this bulk operation, while it is still going; null when the operation is not ours or the run ended. */
export async function activeRunOfOperation(
  db: Pick<PrismaClient, "backfillRun">,
  shop: string,
  bulkOperationGid: string,
): Promise<{ id: bigint } | null> {
  const run = await db.backfillRun.findFirst({ where: { shop, bulkOperationId: bulkOperationGid }, select: { id: true, status: true } });
  return run && ACTIVE_BACKFILL_STATUSES.includes(run.status as BackfillStatus) ? { id: run.id } : null;
}
