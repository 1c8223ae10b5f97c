import { type Job } from "bullmq";
import type pg from "pg";
import { ShopBatches } from "~/lib/shop-batches";
import { type Logger, silentLogger } from "~/lib/log.server";
import { type CustomerMetricsJobResult, recomputeAndAskForRefit } from "~/metrics/recompute.server";
import { type CustomerMetricsJob } from "~/queues/contract";
import { type RefitDebounce } from "~/refit/debounce";

// Customer metrics: one customer's row recomputed (app/metrics/recompute.server.ts). Jobs of
// one shop that arrive while a recompute of that shop runs are recomputed together when it
// ends, in one transaction and one write statement. The payload arrives parsed (parse.server.ts).

export interface CustomerMetricsProcessorDeps {
  pool: pg.Pool;
  logger?: Logger;
  /** Debounce numbers (tests shorten them). */
  debounce?: RefitDebounce;
  /** The clock (tests). */
  now?: () => Date;
}

/** Customers of one shop recomputed together at most (one write statement). */
const MAX_BATCH = 200;

export function createCustomerMetricsProcessor({ pool, logger = silentLogger, debounce, now }: CustomerMetricsProcessorDeps) {
  const batches = new ShopBatches((shop, ids) => recomputeAndAskForRefit(pool, shop, ids, { now: now?.(), debounce, logger }), MAX_BATCH);
  return async (data: CustomerMetricsJob, _job: Job): Promise<CustomerMetricsJobResult> => batches.submit(data.shop, data.customerId);
}
