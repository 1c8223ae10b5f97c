import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { processDelivery } from "~/ingest/deliveries.server";
import { QUEUE } from "~/queues/contract";
import { closeProducerQueues } from "~/queues/connections.server";
import { insertDelivery, installShop, testDb, testPool } from "./db";
import { orderPayload, type OrderSpec } from "./webhook-payloads";

// Shops built through the real ingest path (stored delivery -> processDelivery), on this
// worker's PostgreSQL; metrics hand-offs go to this file's own queue prefix in Redis.

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** Every queue of the current prefix emptied and closed (afterEach of queue tests). */
export async function dropQueues(prefix = process.env.TENURE_QUEUE_PREFIX, url = REDIS_URL): Promise<void> {
  await closeProducerQueues();
  // Fails fast: a test that stopped its Redis must not hang here.
  const redis = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2_000, retryStrategy: () => null });
  redis.on("error", () => {});
  for (const name of Object.values(QUEUE)) {
    const queue = new Queue(name, { connection: redis, prefix });
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close().catch(() => {});
  }
  redis.disconnect();
}

export async function createShop(shop: string, timezone = "UTC"): Promise<void> {
  await installShop(shop, { timezone, currency: "USD" });
}

/** Stores a delivery and runs the ingest processor on it, as the ingest worker would. */
export async function deliver(shop: string, topic: string, payload: unknown): Promise<bigint> {
  const id = await insertDelivery(testDb(), { shop, topic, payload });
  const outcome = await processDelivery(testDb(), id, { pool: testPool() });
  if (outcome.status !== "processed") throw new Error(`delivery ${id} (${topic}) was not processed: ${JSON.stringify(outcome)}`);
  return id;
}

let orderCounter = 0;

/** An orders/create for `customerId`, `daysAgo` days before `now`, worth `cents`. */
export async function order(shop: string, customerId: number | null, cents: number, processedAt: Date, over: Partial<OrderSpec> = {}): Promise<number> {
  orderCounter += 1;
  const id = over.id ?? 900_000 + orderCounter;
  await deliver(shop, "orders/create", orderPayload({ id, customerId, totalCents: cents, processedAt, createdAt: processedAt, updatedAt: processedAt, ...over }));
  return id;
}

export const DAY_MS = 86_400_000;
export const daysBefore = (now: Date, days: number) => new Date(now.getTime() - days * DAY_MS);

export interface MetricsRow {
  customerId: bigint;
  orders: number;
  netSpentMinor: bigint;
  segment: string | null;
  modelVersion: number | null;
  computedAt: Date;
}

export async function metricsRows(shop: string): Promise<Record<string, unknown>[]> {
  const result = await testPool().query(`SELECT * FROM "CustomerMetrics" WHERE shop = $1 ORDER BY "customerId"`, [shop]);
  return result.rows;
}

export async function metricsRow(shop: string, customerId: number | bigint | string): Promise<MetricsRow | undefined> {
  const result = await testPool().query<MetricsRow>(
    `SELECT "customerId", orders, "netSpentMinor", segment, "modelVersion", "computedAt" FROM "CustomerMetrics" WHERE shop = $1 AND "customerId" = $2`,
    [shop, String(customerId)],
  );
  return result.rows[0];
}

export async function transitions(shop: string): Promise<{ customerId: bigint; fromSegment: string | null; toSegment: string | null; source: string }[]> {
  const result = await testPool().query(
    `SELECT "customerId", "fromSegment", "toSegment", source FROM "SegmentTransition" WHERE shop = $1 ORDER BY id`,
    [shop],
  );
  return result.rows;
}
