import { type Job, type Queue, UnrecoverableError } from "bullmq";
import { type ReconcileDeps, reconcileShop, shopsToReconcile } from "~/integrations/reconcile.server";
import { ShopifyAdminError } from "~/integrations/shopify-admin.server";
import { ReconcileJob } from "~/queues/queues.server";

// The reconcile processor. `sweep-all` (on a schedule) fans out one `shop` job per
// installed shop, deduplicated per shop while one is queued or running (a slow shop is
// never queued twice; a finished one can be queued again); `shop`
// pages through that shop's recently updated orders (integrations/reconcile.server.ts).

export const RECONCILE_SCHEDULER_ID = "reconcile-all";
export const reconcileDedupId = (shop: string) => `reconcile-${shop}`;

export function createReconcileProcessor(deps: ReconcileDeps, reconcileQueue: Queue) {
  return async (job: Job) => {
    const data = ReconcileJob.safeParse(job.data);
    if (!data.success) throw new UnrecoverableError(`invalid reconcile job data: ${data.error.message}`);
    if (data.data.task === "sweep-all") {
      const shops = await shopsToReconcile(deps.db);
      await reconcileQueue.addBulk(shops.map((shop) => ({ name: "shop", data: { task: "shop", shop }, opts: { deduplication: { id: reconcileDedupId(shop) } } })));
      return { shops: shops.length };
    }
    try {
      // A retry may follow a sweep whose rows committed but whose metrics hand-off failed.
      const report = await reconcileShop(deps, data.data.shop, { resendSeen: job.attemptsMade > 0 });
      return { ...report, since: report.since.toISOString(), customerIds: report.customerIds.length };
    } catch (error) {
      if (error instanceof ShopifyAdminError && !error.retriable) throw new UnrecoverableError(error.message);
      throw error;
    }
  };
}
