// The sync status page's data and the limits of its reads, as the loader, the route and its
// components see them (no server code); the loader is sync.server.ts.

/** Counts stop here ("1,000+"): enough to say how bad it is without counting everything. */
export const COUNT_CAP = 1_000;
/** Failed deliveries listed, newest first. */
export const FAILED_SHOWN = 25;
/** Rows of dropped-delivery counts listed (one per topic and reason), most recent first. */
export const DROPPED_SHOWN = 20;

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
  /** Deliveries acknowledged but not applied (ADR 0013), counted per topic and reason. */
  dropped: { topic: string; reason: string; count: number; lastAtIso: string }[];
}
