import { COUNT_CAP, FAILED_SHOWN } from "~/pages/sync-limits";
import { type Queryable } from "~/db/pg.server";

// Sync status page data: the newest order import, the last webhook received, the last
// reconciliation sweep and refit, failed deliveries with their reasons and how many wait.
// Every query is scoped by shop, served by an index and LIMITed, so the page costs the same
// for a shop with ten deliveries and one with ten million.

export { COUNT_CAP, FAILED_SHOWN };

export interface SyncPageData {
  shop: string;
  installedAtIso: string | null;
  reconciledAtIso: string | null;
  lastWebhookAtIso: string | null;
  backfill: {
    status: string;
    ordersProcessed: number;
    expectedCount: number | null;
    notice: string | null;
    error: string | null;
    startedAtIso: string;
    finishedAtIso: string | null;
    updatedAtIso: string;
  } | null;
  refit: {
    status: string;
    trigger: string | null;
    finishedAtIso: string | null;
    startedAtIso: string | null;
    durationMs: number | null;
    error: string | null;
    /** Customer changes waiting for the next refit. */
    changesSinceFit: number;
  } | null;
  /** Capped at COUNT_CAP + 1 (shown as "10,000+"). */
  pendingCount: number;
  failedCount: number;
  failed: { id: string; topic: string; receivedAtIso: string; attempts: number; error: string | null }[];
}

export async function loadSyncPage(db: Queryable, shop: string): Promise<SyncPageData> {
  const [shopRow, backfill, refit, deliveries, failed] = await Promise.all([
    db.query<{ installedAt: Date; reconciledAt: Date | null }>(`SELECT "installedAt", "reconciledAt" FROM "Shop" WHERE domain = $1`, [shop]),
    db.query<{
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
    ),
    db.query<{
      status: string;
      trigger: string | null;
      finishedAt: Date | null;
      startedAt: Date | null;
      durationMs: number | null;
      error: string | null;
      changesSinceFit: number;
    }>(`SELECT status, trigger, "finishedAt", "startedAt", "durationMs", error, "changesSinceFit" FROM "ShopFit" WHERE shop = $1`, [shop]),
    // One backward index probe per status ((shop, status, receivedAt)); capped counts.
    db.query<{ last: Date | null; pending: number; failed: number }>(
      `SELECT GREATEST(
                (SELECT max("receivedAt") FROM "WebhookDelivery" WHERE shop = $1 AND status = 'PENDING'),
                (SELECT max("receivedAt") FROM "WebhookDelivery" WHERE shop = $1 AND status = 'PROCESSED'),
                (SELECT max("receivedAt") FROM "WebhookDelivery" WHERE shop = $1 AND status = 'FAILED')) AS last,
              (SELECT count(*)::int FROM (SELECT 1 FROM "WebhookDelivery" WHERE shop = $1 AND status = 'PENDING' LIMIT $2) AS p) AS pending,
              (SELECT count(*)::int FROM (SELECT 1 FROM "WebhookDelivery" WHERE shop = $1 AND status = 'FAILED' LIMIT $2) AS f) AS failed`,
      [shop, COUNT_CAP + 1],
    ),
    db.query<{ id: bigint; topic: string; receivedAt: Date; attempts: number; error: string | null }>(
      `SELECT id, topic, "receivedAt", attempts, error FROM "WebhookDelivery"
       WHERE shop = $1 AND status = 'FAILED' ORDER BY "receivedAt" DESC, id DESC LIMIT $2`,
      [shop, FAILED_SHOWN],
    ),
  ]);
  const s = shopRow.rows[0];
  const b = backfill.rows[0];
  const r = refit.rows[0];
  const d = deliveries.rows[0];
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
    failed: failed.rows.map((row) => ({
      id: String(row.id),
      topic: row.topic,
      receivedAtIso: row.receivedAt.toISOString(),
      attempts: row.attempts,
      error: row.error,
    })),
  };
}
