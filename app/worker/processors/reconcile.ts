import { type Job, UnrecoverableError } from "bullmq";
import { shopsToReconcile } from "~/data/shop.server";
import { type ReconcileDeps, reconcileShop } from "~/integrations/reconcile.server";
import { ShopifyAdminError } from "~/integrations/shopify-admin.server";
import { type ReconcileJob } from "~/queues/contract";
import { enqueueReconcileShops } from "~/queues/enqueue.server";

// Reconcile: `sweep-all` (on a schedule) fans out one `shop` job per installed shop;
// `shop` pages through that shop's recently updated orders (app/integrations/reconcile.server.ts).

export function createReconcileProcessor(deps: ReconcileDeps) {
  return async (data: ReconcileJob, job: Job) => {
    if (data.task === "sweep-all") {
      const shops = await shopsToReconcile(deps.db);
      await enqueueReconcileShops(shops);
      return { shops: shops.length };
    }
    try {
      // A retry may follow a sweep whose rows committed but whose metrics hand-off failed.
      const report = await reconcileShop(deps, data.shop, { resendSeen: job.attemptsMade > 0 });
      return { ...report, since: report.since.toISOString(), customerIds: report.customerIds.length };
    } catch (error) {
      if (error instanceof ShopifyAdminError && !error.retriable) throw new UnrecoverableError(error.message);
      throw error;
    }
  };
}
