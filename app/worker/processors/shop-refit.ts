import { type Job } from "bullmq";
import type pg from "pg";
import { type Logger, silentLogger } from "~/lib/log.server";
import { type ShopRefitJob } from "~/queues/contract";
import { requestNightlyRefits } from "~/refit/nightly.server";
import { type RefitReport, refitShop } from "~/refit/refit.server";

// Shop refit: `nightly-all` (on a schedule) asks for one refit per installed shop; `shop`
// refits that shop (app/refit/refit.server.ts). The payload arrives parsed (parse.server.ts).

export interface ShopRefitProcessorDeps {
  /** The refit's own pool: its batch writes never hold the hot path's connections. */
  pool: pg.Pool;
  logger?: Logger;
}

export type ShopRefitResult = RefitReport | { shops: number };

export function createShopRefitProcessor({ pool, logger = silentLogger }: ShopRefitProcessorDeps) {
  return async (data: ShopRefitJob, _job: Job): Promise<ShopRefitResult> => {
    if (data.task === "nightly-all") {
      const shops = await requestNightlyRefits(pool);
      logger.info("nightly refits enqueued", { shops });
      return { shops };
    }
    const report = await refitShop(pool, data.shop, { trigger: data.trigger });
    logger.info("shop refit done", { ...report });
    return report;
  };
}
