import { readLatestBackfillRun } from "~/data/backfill-runs.server";
import { readShopSyncTimes } from "~/data/settings.server";
import { readRefitRun } from "~/data/shop-fit.server";
import { readDroppedDeliveries } from "~/data/shop-admission.server";
import { readDeliveryCounts, readFailedDeliveries } from "~/data/webhook-deliveries.server";
import { type Queryable } from "~/db/pg.server";
import { COUNT_CAP, DROPPED_SHOWN, FAILED_SHOWN, type SyncPageData } from "./sync";

// Sync status page data: the newest order import, the last webhook received, the last
// reconciliation sweep and refit, failed deliveries with their reasons and how many wait,
// and deliveries acknowledged but not applied (ADR 0013).
// Every query is scoped by shop, served by an index and LIMITed, so the page costs the same
// for a shop with ten deliveries and one with ten million.

export async function loadSyncPage(db: Queryable, shop: string): Promise<SyncPageData> {
  const [s, b, r, d, failed, dropped] = await Promise.all([
    readShopSyncTimes(db, shop),
    readLatestBackfillRun(db, shop),
    readRefitRun(db, shop),
    readDeliveryCounts(db, shop, COUNT_CAP + 1),
    readFailedDeliveries(db, shop, FAILED_SHOWN),
    readDroppedDeliveries(db, shop, DROPPED_SHOWN),
  ]);
  return {
    shop,
    installedAtIso: s ? s.installedAt.toISOString() : null,
    reconciledAtIso: s?.reconciledAt ? s.reconciledAt.toISOString() : null,
    lastWebhookAtIso: d?.last ? d.last.toISOString() : null,
    backfill: b
      ? {
          status: b.status,
          ordersProcessed: b.ordersProcessed,
          expectedCount: b.expectedCount,
          notice: b.notice,
          error: b.error,
          startedAtIso: b.startedAt.toISOString(),
          finishedAtIso: b.finishedAt ? b.finishedAt.toISOString() : null,
          updatedAtIso: b.updatedAt.toISOString(),
        }
      : null,
    refit: r
      ? {
          status: r.status,
          trigger: r.trigger,
          finishedAtIso: r.finishedAt ? r.finishedAt.toISOString() : null,
          startedAtIso: r.startedAt ? r.startedAt.toISOString() : null,
          durationMs: r.durationMs,
          error: r.error,
          changesSinceFit: r.changesSinceFit,
        }
      : null,
    pendingCount: d?.pending ?? 0,
    failedCount: d?.failed ?? 0,
    failed: failed.map((row) => ({
      id: String(row.id),
      topic: row.topic,
      receivedAtIso: row.receivedAt.toISOString(),
      attempts: row.attempts,
      error: row.error,
    })),
    dropped: dropped.map((row) => ({ topic: row.topic, reason: row.reason, count: row.count, lastAtIso: row.lastAt.toISOString() })),
  };
}
