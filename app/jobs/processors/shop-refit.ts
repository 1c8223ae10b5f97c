import { type Job, type Queue, UnrecoverableError } from "bullmq";
import type pg from "pg";
import { type Logger, silentLogger } from "../log.server";
import { type RefitTrigger, ShopRefitJob, shopRefitDedupId } from "../queues.server";

// The shop refit: refit the shop's model and RFM cut points on every counted order,
// rescore every customer, write the shop aggregates the pages read. `nightly-all` (on a
// schedule) fans out one `shop` job per installed shop; nightly refits are also what ages
// recency and P(alive) for customers who do not order.

export interface RefitOptions {
  trigger: RefitTrigger;
  /** The refit's clock (tests move it); default now. */
  now?: Date;
  /** Customers per metrics write statement (default 5,000). */
  batchSize?: number;
}

export interface RefitReport {
  shop: string;
  version: number;
  status: "ready" | "no-predictions";
  reasonCode: string | null;
  asOfDay: number;
  customers: number;
  orders: number;
  durationMs: number;
}

/** Refits one shop (first version: replaced by the full refit in the next commit). */
export async function refitShop(_pool: pg.Pool, shop: string, _options: RefitOptions): Promise<RefitReport> {
  throw new Error(`refitShop(${shop}): not implemented yet`);
}

/** Installed shops (not uninstalled), oldest first. */
export async function shopsToRefit(pool: pg.Pool): Promise<string[]> {
  const result = await pool.query<{ domain: string }>(`SELECT domain FROM "Shop" WHERE "uninstalledAt" IS NULL ORDER BY "installedAt", domain`);
  return result.rows.map((row) => row.domain);
}

export interface ShopRefitProcessorDeps {
  pool: pg.Pool;
  /** The shop-refit queue itself: nightly-all adds one `shop` job per installed shop to it. */
  refitQueue: Queue;
  logger?: Logger;
}

export function createShopRefitProcessor({ pool, refitQueue, logger = silentLogger }: ShopRefitProcessorDeps) {
  return async (job: Job) => {
    const parsed = ShopRefitJob.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid shop-refit job data: ${parsed.error.message}`);
    const data = parsed.data;
    if (data.task === "nightly-all") {
      const shops = await shopsToRefit(pool);
      // Same dedup id as requestRefit: a shop already waiting for a refit is not queued twice.
      // One add per shop: addBulk ignores per-job deduplication in some BullMQ versions.
      for (const shop of shops) {
        const refit: ShopRefitJob = { task: "shop", shop, trigger: "nightly" };
        await refitQueue.add("shop", refit, { deduplication: { id: shopRefitDedupId(shop) } });
      }
      logger.info("nightly refits enqueued", { shops: shops.length });
      return { shops: shops.length };
    }
    const report = await refitShop(pool, data.shop, { trigger: data.trigger });
    logger.info("shop refit done", { ...report });
    return report;
  };
}
