import { type DefaultJobOptions } from "bullmq";
import { z } from "zod";

// The queue contract: queue names, payload schemas, job and dedup ids, schedules and default
// job options live here and nowhere else. It imports no domain code, so every producer
// (routes, ingest, refit, scripts) and the worker registry (app/worker/registry.server.ts)
// agree on one definition; ADR 0011 has the layout.
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
  // Segments sent to email tools (Klaviyo, Mailchimp) from the one outbox (app/destinations).
  destinations: "destinations",
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

export const REFIT_TRIGGERS = ["backfill", "debounce", "nightly", "settings", "manual", "demo"] as const;
export type RefitTrigger = (typeof REFIT_TRIGGERS)[number];

/** nightly-all: enqueue one refit per installed shop; shop: refit that shop. */
export const ShopRefitJob = z.discriminatedUnion("task", [
  z.object({ task: z.literal("nightly-all") }),
  z.object({ task: z.literal("shop"), shop: ShopDomain, trigger: z.enum(REFIT_TRIGGERS) }),
]);
export type ShopRefitJob = z.infer<typeof ShopRefitJob>;

const DestinationId = z.string().regex(/^\d+$/, "destinationId must be a decimal id");

/**
 * changes: send the destination's outbox (customers whose profile or segments changed);
 * full: compare every customer with what the destination holds and send the differences
 * (initial: segments were just chosen; refit: values changed; manual: "sync now");
 * erase: request the deletion of the destination's pending redacted customers;
 * sweep-all: enqueue `changes` and `erase` for every destination with rows waiting (the
 * outbox never depends on a job surviving in Redis).
 */
export const DestinationJob = z.discriminatedUnion("task", [
  z.object({ task: z.literal("changes"), destinationId: DestinationId }),
  z.object({ task: z.literal("full"), destinationId: DestinationId, reason: z.enum(["initial", "refit", "manual", "settings"]) }),
  z.object({ task: z.literal("erase"), destinationId: DestinationId }),
  z.object({ task: z.literal("sweep-all") }),
  // Shopify Flow's due-to-reorder trigger: each shop with it enabled whose local day has not had its run yet (app/destinations/flow).
  z.object({ task: z.literal("flow-due-all") }),
  // The shop's published Shopify segments brought up to date (relabelled, or their query changed): segmentUpdate.
  z.object({ task: z.literal("shopify-segments"), shop: ShopDomain }),
]);
export type DestinationJob = z.infer<typeof DestinationJob>;

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
  // A destination that is down retries with backoff for about 3 hours (12 attempts, 5 s
  // doubling: 5 s x (2^11 - 1)); a rate limit with Retry-After waits as told without using
  // an attempt. The outbox and the full-pass mark keep everything meanwhile, and the sweep
  // enqueues again after that (never dropped).
  destinations: {
    attempts: 12,
    backoff: { type: "exponential", delay: 5_000 },
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

/** At most one queued or running reconcile per shop (a finished one can be queued again). */
export const reconcileDedupId = (shop: string) => `reconcile-${shop}`;
/** The bulk_operations/finish webhook's hand-off of a run: one per run (a retried webhook adds nothing). */
export const backfillFinishJobId = (runId: string) => `backfill-${runId}-finish`;
/** A run's next poll of its bulk operation. */
export const backfillPollJobId = (runId: string, at: number) => `backfill-${runId}-poll-${at}`;
/** A shop's import request: unique per request, so a forced re-import is never swallowed. */
export const backfillStartJobId = (shop: string, at: number) => `backfill-start-${shop}-${at}`;

/**
 * One queued or running pass per destination and task kind: changes that arrive while a
 * pass waits join it (the pass reads the outbox when it runs).
 */
export const destinationDedupId = (destinationId: string, task: "changes" | "full" | "erase") => `destination-${destinationId}-${task}`;
/** One queued and one running update of a shop's published Shopify segments (the running one may have read the old labels). */
export const shopifySegmentsDedupId = (shop: string) => `shopify-segments-${shop}`;
/** How long a destination's changes wait to be sent together (batched, within minutes). */
export const DESTINATION_CHANGES_DELAY_MS = 5_000;

/** Every queue's payload schema: the worker registry parses each job's data with these, once. */
export const PAYLOADS = {
  [QUEUE.ingest]: IngestJob,
  [QUEUE.maintenance]: MaintenanceJob,
  [QUEUE.backfill]: BackfillJob,
  [QUEUE.reconcile]: ReconcileJob,
  [QUEUE.customerMetrics]: CustomerMetricsJob,
  [QUEUE.shopRefit]: ShopRefitJob,
  [QUEUE.destinations]: DestinationJob,
} as const satisfies Record<QueueName, z.ZodType>;
export type Payload<Q extends QueueName> = z.infer<(typeof PAYLOADS)[Q]>;

/** A repeating job: its scheduler id, the queue it lands on, when, and the payload it carries. */
export interface Schedule<Q extends QueueName = QueueName> {
  id: string;
  queue: Q;
  repeat: { every: number } | { pattern: string; tz: string };
  data: Payload<Q>;
}

/** Every schedule, declared once; the worker registers them (app/worker/workers.server.ts). */
export const SCHEDULES = {
  /** Deliveries left PENDING (Redis was down, a process died) go back on the ingest queue. */
  sweepDeliveries: { id: "sweep-deliveries", queue: QUEUE.maintenance, repeat: { every: 15_000 }, data: { task: "sweep-deliveries" } },
  /** Each installed shop's orders updated since its last sweep, fanned out per shop. */
  reconcileAll: { id: "reconcile-all", queue: QUEUE.reconcile, repeat: { every: 15 * 60_000 }, data: { task: "sweep-all" } },
  /**
   * Every night at 03:00 UTC each installed shop is refitted, which also ages recency,
   * P(alive) and the next-order dates of customers who did not order (they change with
   * time, not with webhooks).
   */
  nightlyRefits: { id: "nightly-refits", queue: QUEUE.shopRefit, repeat: { pattern: "0 3 * * *", tz: "UTC" }, data: { task: "nightly-all" } },
  /** Destinations with outbox or erasure rows waiting get a pass (a lost or exhausted job loses no change). */
  sweepDestinations: { id: "sweep-destinations", queue: QUEUE.destinations, repeat: { every: 60_000 }, data: { task: "sweep-all" } },
  /**
   * Shopify Flow's "Customer reorder date reached" trigger runs once per shop and local day: every
   * 15 minutes the shops whose day (in their time zone) has not had its run get one, so it
   * fires within 15 minutes of local midnight, whatever the zone's offset.
   */
  flowDueToReorder: { id: "flow-due-to-reorder", queue: QUEUE.destinations, repeat: { every: 15 * 60_000 }, data: { task: "flow-due-all" } },
} as const satisfies Record<string, Schedule>;
