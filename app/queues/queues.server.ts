import { Queue, type DefaultJobOptions, type QueueOptions } from "bullmq";
import { Redis, type RedisOptions } from "ioredis";
import { z } from "zod";

// Queue names, payload schemas and default job options live here and nowhere else.
// Redis holds ids only, never customer data: every payload below is a reference.

export const QUEUE = {
  ingest: "ingest",
  maintenance: "maintenance",
  // Shopify Admin API work per shop, on queues of their own so a huge import never
  // delays webhook ingestion.
  backfill: "backfill",
  reconcile: "reconcile",
  // One customer's metrics row, recomputed after each change to their orders or profile.
  customerMetrics: "customer-metrics",
  // A shop's refit: models, RFM cut points, every customer rescored, shop aggregates.
  shopRefit: "shop-refit",
} as const;
export type QueueName = (typeof QUEUE)[keyof typeof QUEUE];

export const IngestJob = z.object({ deliveryId: z.string().regex(/^\d+$/, "deliveryId must be a decimal id") });
export type IngestJob = z.infer<typeof IngestJob>;

export const MaintenanceJob = z.object({ task: z.enum(["sweep-deliveries"]) });
export type MaintenanceJob = z.infer<typeof MaintenanceJob>;

const ShopDomain = z.string().regex(/^[a-z0-9][a-z0-9.-]*$/i, "shop must be a shop domain");

/** start: begin a shop's bulk import; advance: poll its bulk operation or (resume) its download. */
export const BackfillJob = z.discriminatedUnion("task", [
  z.object({ task: z.literal("start"), shop: ShopDomain, force: z.boolean() }),
  z.object({ task: z.literal("advance"), runId: z.string().regex(/^\d+$/, "runId must be a decimal id") }),
]);
export type BackfillJob = z.infer<typeof BackfillJob>;

/** sweep-all: enqueue one reconcile per installed shop; shop: sweep that shop's orders updated since its last sweep. */
export const ReconcileJob = z.discriminatedUnion("task", [
  z.object({ task: z.literal("sweep-all") }),
  z.object({ task: z.literal("shop"), shop: ShopDomain }),
]);
export type ReconcileJob = z.infer<typeof ReconcileJob>;

const DecimalId = z.string().regex(/^\d+$/, "must be a decimal id");

/** Recompute one customer's metrics row from their stored orders and the shop's current fit. */
export const CustomerMetricsJob = z.object({ shop: ShopDomain, customerId: DecimalId });
export type CustomerMetricsJob = z.infer<typeof CustomerMetricsJob>;

export const REFIT_TRIGGERS = ["install", "backfill", "debounce", "nightly", "settings", "manual", "demo"] as const;
export type RefitTrigger = (typeof REFIT_TRIGGERS)[number];

/** nightly-all: enqueue one refit per installed shop; shop: refit that shop. */
export const ShopRefitJob = z.discriminatedUnion("task", [
  z.object({ task: z.literal("nightly-all") }),
  z.object({ task: z.literal("shop"), shop: ShopDomain, trigger: z.enum(REFIT_TRIGGERS) }),
]);
export type ShopRefitJob = z.infer<typeof ShopRefitJob>;

export const DEFAULT_JOB_OPTIONS: Record<QueueName, DefaultJobOptions> = {
  // Transient failures (database restarts) retry with backoff; bad payloads fail once
  // without retry (the processor throws UnrecoverableError) and stay visible.
  ingest: {
    attempts: 8,
    backoff: { type: "exponential", delay: 1_000 },
    removeOnComplete: { age: 3_600, count: 10_000 },
    removeOnFail: { age: 14 * 24 * 3_600 },
  },
  // A download that fails (network, database) resumes from its committed offset on retry.
  backfill: {
    attempts: 10,
    backoff: { type: "exponential", delay: 5_000 },
    removeOnComplete: { age: 24 * 3_600, count: 1_000 },
    removeOnFail: { age: 14 * 24 * 3_600 },
  },
  reconcile: {
    attempts: 5,
    backoff: { type: "exponential", delay: 10_000 },
    removeOnComplete: { count: 1_000 },
    removeOnFail: { count: 1_000 },
  },
  // Cheap and idempotent (recomputed from source rows): retry quickly, keep little.
  "customer-metrics": {
    attempts: 8,
    backoff: { type: "exponential", delay: 1_000 },
    removeOnComplete: true,
    removeOnFail: { age: 7 * 24 * 3_600 },
  },
  // A refit that fails (database restart) starts again from the top; it writes nothing half-done.
  "shop-refit": {
    attempts: 5,
    backoff: { type: "exponential", delay: 30_000 },
    removeOnComplete: { count: 1_000 },
    removeOnFail: { count: 1_000 },
  },
  maintenance: {
    attempts: 3,
    backoff: { type: "fixed", delay: 5_000 },
    removeOnComplete: { count: 100 },
    removeOnFail: { count: 1_000 },
  },
};

/** At most one running and one waiting metrics job per customer (the waiting one reads the latest rows when it runs). */
export const customerMetricsDedupId = (shop: string, customerId: string) => `metrics:${shop}:${customerId}`;
/** At most one queued refit per shop. */
export const shopRefitDedupId = (shop: string) => `refit:${shop}`;

/** A stable job id per delivery: BullMQ ignores a second add while the first job exists. */
export const ingestJobId = (deliveryId: string) => `delivery-${deliveryId}`;

export function queuePrefix(): string {
  return process.env.TENURE_QUEUE_PREFIX || "tenure";
}

function baseRedisOptions(): RedisOptions {
  return { lazyConnect: false, connectionName: "tenure" };
}

/**
 * Producer connection (web process): fails fast when Redis is unreachable, so a webhook
 * is still acknowledged once its row is stored and the sweeper enqueues it later.
 */
export function createProducerConnection(url = requiredRedisUrl()): Redis {
  return new Redis(url, {
    ...baseRedisOptions(),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
}

/** Worker connection: BullMQ requires maxRetriesPerRequest null for blocking commands. */
export function createWorkerConnection(url = requiredRedisUrl()): Redis {
  return new Redis(url, {
    ...baseRedisOptions(),
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
}

function requiredRedisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error("REDIS_URL is missing");
  return url;
}

export function queueOptions(name: QueueName, connection: Redis): QueueOptions {
  return { connection, prefix: queuePrefix(), defaultJobOptions: DEFAULT_JOB_OPTIONS[name] };
}

const queues = new Map<string, Queue>();
let producerConnection: Redis | undefined;

/** Process-wide producer queue for `name` (one connection shared by all queues). */
export function producerQueue(name: QueueName): Queue {
  const key = `${queuePrefix()}:${name}`;
  let queue = queues.get(key);
  if (!queue) {
    producerConnection ??= createProducerConnection();
    // An unreachable Redis is expected at times: the error is handled where add() fails.
    producerConnection.on("error", () => {});
    queue = new Queue(name, queueOptions(name, producerConnection));
    queue.on("error", () => {});
    queues.set(key, queue);
  }
  return queue;
}

/**
 * Whether the shared producer connection can take a command now, waiting up to
 * `timeoutMs` while it is still making its first connection. False at once when it is
 * known to be down (reconnecting): a command queued for later would only pile up.
 */
export async function producerReady(timeoutMs: number): Promise<boolean> {
  const connection = producerConnection;
  if (!connection) return false;
  if (connection.status === "ready") return true;
  if (connection.status !== "connecting" && connection.status !== "connect" && connection.status !== "wait") return false;
  return new Promise<boolean>((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      connection.off("ready", onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    connection.once("ready", onReady);
  });
}

export async function closeProducerQueues(): Promise<void> {
  await Promise.allSettled([...queues.values()].map((q) => q.close()));
  queues.clear();
  producerConnection?.disconnect();
  producerConnection = undefined;
}
