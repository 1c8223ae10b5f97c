import { type PrismaClient } from "@prisma/client";
import { type Queryable } from "~/db/pg.server";

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

// ------------------------------------------------------------------ the pages' reads

/** The shop's latest import in brief, for the "import running" empty states. */
export async function readLatestBackfillBrief(db: Queryable, shop: string) {
  const result = await db.query<{ status: string; ordersProcessed: number; expectedCount: number | null; error: string | null }>(
    `SELECT status, "ordersProcessed", "expectedCount", error FROM "BackfillRun" WHERE shop = $1 ORDER BY "startedAt" DESC LIMIT 1`,
    [shop],
  );
  return result.rows[0];
}

/** The shop's latest import in full, for the sync page. */
export async function readLatestBackfillRun(db: Queryable, shop: string) {
  const result = await db.query<{
    status: string;
    ordersProcessed: number;
    expectedCount: number | null;
    notice: string | null;
    error: string | null;
    startedAt: Date;
    finishedAt: Date | null;
    updatedAt: Date;
  }>(
    `SELECT status, "ordersProcessed", "expectedCount", notice, error, "startedAt", "finishedAt", "updatedAt"
       FROM "BackfillRun" WHERE shop = $1 ORDER BY "startedAt" DESC, id DESC LIMIT 1`,
    [shop],
  );
  return result.rows[0];
}
