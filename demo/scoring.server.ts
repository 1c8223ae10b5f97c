import { type Queue } from "bullmq";
import type pg from "pg";
import { countedOrdersParams, countedOrdersSql } from "~/data/counted-orders.server";
import { loadMetricsSettings } from "~/data/settings.server";
import { type FitProgress, fitProgress } from "~/data/shop-fit.server";
import { requestRefit } from "~/refit/request-refit.server";
import { readThroughOutages } from "./database-outages.server";

// The end of the demo: every customer scored. Once the deliveries are processed, the live
// metrics queue drains, one refit of the demo shop runs on the complete store, and the
// metrics rows are read back and compared with the customers who have orders.

export interface ScoringSnapshot {
  /** Customer rows of the shop. */
  customers: number;
  /** Customers with at least one counted order. */
  buyers: number;
  /** CustomerMetrics rows (customers without orders have one too, without a segment). */
  rows: number;
  /** Buyers whose metrics row has an RFM segment. */
  scored: number;
  /** Buyers whose row carries predictions (P(alive), CLV). */
  predicted: number;
  fit: FitProgress | null;
}

export async function readScoring(pool: pg.Pool, shop: string): Promise<ScoringSnapshot> {
  const settings = await loadMetricsSettings(pool, shop);
  const counts = await pool.query<{ customers: string; buyers: string; rows: string; scored: string; predicted: string }>(
    `WITH buyers AS (SELECT DISTINCT counted.customer_id FROM (${countedOrdersSql(settings)}) AS counted)
     SELECT (SELECT count(*) FROM "Customer" WHERE shop = $1) AS customers,
            (SELECT count(*) FROM buyers) AS buyers,
            (SELECT count(*) FROM "CustomerMetrics" WHERE shop = $1) AS rows,
            (SELECT count(*) FROM buyers JOIN "CustomerMetrics" AS cm
               ON cm.shop = $1 AND cm."customerId" = buyers.customer_id AND cm.segment IS NOT NULL) AS scored,
            (SELECT count(*) FROM buyers JOIN "CustomerMetrics" AS cm
               ON cm.shop = $1 AND cm."customerId" = buyers.customer_id AND cm."pAlive" IS NOT NULL) AS predicted`,
    countedOrdersParams(shop, settings),
  );
  const fit = await fitProgress(pool, shop);
  const c = counts.rows[0];
  return {
    customers: Number(c.customers),
    buyers: Number(c.buyers),
    rows: Number(c.rows),
    scored: Number(c.scored),
    predicted: Number(c.predicted),
    fit,
  };
}

export interface ScoreOptions {
  pool: pg.Pool;
  shop: string;
  /** The customer-metrics and shop-refit queues (of the workers' prefix), to see when they are idle. */
  metricsQueue: Queue;
  refitQueue: Queue;
  timeoutMs?: number;
  pollMs?: number;
  signal?: AbortSignal;
  onProgress?: (stage: "metrics" | "refit", detail: string) => void;
  /** Told once when the database goes away and once when it is back; the wait goes on meanwhile. */
  onDatabaseOutage?: (line: string) => void;
}

async function metricsBusy(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts("active", "waiting", "delayed", "prioritized");
  return counts.active + counts.waiting + counts.delayed + counts.prioritized;
}

/** Running or waiting to run now (delayed ones are the nightly schedule and debounced refits). */
async function refitBusy(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts("active", "waiting", "prioritized");
  return counts.active + counts.waiting + counts.prioritized;
}

/**
 * Waits for the live metrics queue to drain, asks for a refit of the shop (trigger "demo";
 * a debounced one already waiting is brought forward instead) and waits until a refit that
 * started after the request has finished and both queues are idle. Returns the scoring
 * read back; complete is false when time ran out first.
 */
export async function scoreShop(options: ScoreOptions): Promise<{ snapshot: ScoringSnapshot; complete: boolean }> {
  const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
  const pollMs = options.pollMs ?? 500;
  const pause = () => new Promise((resolve) => setTimeout(resolve, pollMs));
  const stopped = () => Date.now() >= deadline || options.signal?.aborted === true;
  // A database that is down or restarting while we wait is waited for (readThroughOutages).
  const read = () =>
    readThroughOutages(() => readScoring(options.pool, options.shop), { deadline, signal: options.signal, onOutage: options.onDatabaseOutage });

  for (;;) {
    const busy = await metricsBusy(options.metricsQueue);
    if (busy === 0) break;
    options.onProgress?.("metrics", `${busy} customer recomputes queued`);
    if (stopped()) return { snapshot: await read(), complete: false };
    await pause();
  }

  // The refit stamps startedAt with its worker's clock (same machine): a refit that started after this.
  const requestedAt = new Date(Date.now() - 1);
  await requestRefit(options.shop, "demo");
  for (;;) {
    const snapshot = await read();
    const fit = snapshot.fit;
    const refitted = fit !== null && fit.startedAt !== null && fit.startedAt >= requestedAt && fit.finishedAt !== null;
    if (refitted && (await refitBusy(options.refitQueue)) === 0 && (await metricsBusy(options.metricsQueue)) === 0) {
      return { snapshot, complete: true };
    }
    options.onProgress?.("refit", fit?.error ? `last refit failed: ${fit.error}` : refitted ? "settling" : "refitting");
    if (stopped()) return { snapshot, complete: false };
    await pause();
  }
}

/** "BG/NBD" for "bgnbd"; the model's name as merchants read it. */
export function modelName(chosen: string | null): string {
  if (chosen === "bgnbd") return "BG/NBD";
  if (chosen === "paretonbd") return "Pareto/NBD";
  return chosen ?? "none";
}
