import { type PrismaClient } from "@prisma/client";
import type pg from "pg";
import { deleteShopDestinations } from "~/data/destinations.server";
import { markShopUninstalled, updateShopScopes } from "~/data/shop.server";
import {
  type LockedDelivery,
  lockDelivery,
  markDeliveryDropped,
  markDeliveryFailed,
  markDeliveryProcessed,
  noteDeliveryRetry,
} from "~/data/webhook-deliveries.server";
import { type RawTx, pgPool, pgTransaction } from "~/db/pg.server";
import { TRANSACTION_OPTIONS, type Tx } from "~/db/tx.server";
import { testIngestDelayMs } from "~/env.server";
import { consoleLogger, errorMessage } from "~/lib/log.server";
import { enqueueCustomerMetrics, enqueueDestination } from "~/queues/enqueue.server";
import { handleBulkOperationFinished } from "./bulk-operations.server";
import { mapCheckoutPayload, orderCheckoutRefs } from "./checkouts";
import { distinctIds } from "./locks.server";
import { recordOrderCheckout, upsertCheckout } from "./upsert-checkout.server";
import { SCRUBBED_NOTE, recordDataRequest, redactCustomer, redactShop } from "./gdpr.server";
import { dropReason } from "./shop-admission.server";
import {
  PayloadValidationError,
  mapCustomerPayload,
  mapDeletePayload,
  mapEmailConsentPayload,
  mapIds,
  mapOrderPayload,
  mapRefundPayload,
  mapSmsConsentPayload,
  parsePayload,
  resolveId,
} from "./mappers";
import {
  AppScopesUpdatePayload,
  AppUninstalledPayload,
  BulkOperationFinishPayload,
  CustomersDataRequestPayload,
  CustomersRedactPayload,
  ShopRedactPayload,
} from "./payloads";
import { type Topic, canonicalTopic } from "./topics";
import { mapInventoryItemPayload, mapProductPayload } from "./cost-mappers";
import { upsertProductVariants, upsertUnitCost } from "./costs.server";
import { shopCurrency } from "./shop-currency.server";
import { applyRefund, deleteCustomer, deleteOrder, upsertCustomer, upsertCustomerConsent, upsertOrder } from "./upsert.server";

// One delivery's processing: loads a stored delivery by id, runs its topic's handler (below) and marks
// it PROCESSED in the same transaction, under a row lock on the delivery. A job that runs
// twice (a stalled job picked up again, a sweeper re-enqueue, a duplicate add) therefore
// finds the delivery PROCESSED and does nothing to the rows: effects happen exactly once.
//
// The hot topics (orders, refunds, customer profiles) run on a plain pg transaction:
// Prisma's engine-less client costs several times pg's CPU per query, most of a delivery's
// cost (ADR 0006).
// The rare topics that use Prisma's model methods (GDPR, app/*, bulk operations) keep it.
//
// After the commit, every customer the delivery changed gets a metrics recompute
// (customer-metrics queue). If Redis refuses, the job throws and BullMQ retries it; the
// retry finds the delivery PROCESSED and enqueues the customer stored on its row.

export type DeliveryOutcome =
  | { status: "processed"; topic: string; customerId: string | null; scrubbed: boolean }
  | { status: "skipped"; reason: "already-processed" | "already-failed" | "missing" }
  | { status: "dropped"; reason: string }
  | { status: "failed"; error: string };

export interface IngestDeps {
  /** The pg pool of the hot path (default: the process's pgPool(), on DATABASE_URL). */
  pool?: pg.Pool;
  /** Hands customers to the metrics queue; throws when it cannot (default enqueueCustomerMetrics). */
  enqueueMetrics?: (shop: string, customerIds: bigint[]) => Promise<void>;
}

/** Redis refused the metrics hand-off after the delivery committed: the job must be retried. */
export class MetricsHandOffError extends Error {
  constructor(readonly deliveryId: bigint, cause: unknown) {
    super(`delivery ${deliveryId} is stored, but its customers' metrics could not be enqueued: ${errorMessage(cause)}`);
    this.name = "MetricsHandOffError";
  }
}

/** What one transaction did: the outcome, and who needs new metrics once it has committed. */
type Step =
  | { kind: "done"; outcome: DeliveryOutcome; shop?: string; metricsFor: bigint[]; erasureDestinations?: string[] }
  | { kind: "needs-prisma" };

/** The delivery was handled already (or cannot be): nothing to write. A processed one re-sends its stored customer. */
function settled(delivery: LockedDelivery | undefined): Step | null {
  if (!delivery) return { kind: "done", outcome: { status: "skipped", reason: "missing" }, metricsFor: [] };
  if (delivery.status === "PROCESSED") {
    return {
      kind: "done",
      outcome: { status: "skipped", reason: "already-processed" },
      shop: delivery.shop,
      metricsFor: delivery.customerId === null ? [] : [delivery.customerId],
    };
  }
  if (delivery.status === "FAILED") return { kind: "done", outcome: { status: "skipped", reason: "already-failed" }, metricsFor: [] };
  return null;
}

async function handleLocked(tx: RawTx, delivery: LockedDelivery, handle: () => Promise<HandlerResult>): Promise<Step> {
  // The intake's admission may be seconds old, and a redaction can race a delivery: this
  // is the authoritative check, read with the lock (ADR 0013).
  const dropped = dropReason(delivery.admission, delivery.topic);
  if (dropped !== null) {
    await markDeliveryDropped(tx, delivery.id, dropped);
    return { kind: "done", outcome: { status: "dropped", reason: dropped }, metricsFor: [] };
  }
  // Tests only: holds the delivery mid-transaction so a test can kill the worker here.
  const delay = testIngestDelayMs();
  if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  const result = await handle();
  await markDeliveryProcessed(tx, delivery.id, { customerId: result.customerId, scrubNote: result.scrub ? SCRUBBED_NOTE : null });
  return {
    kind: "done",
    outcome: { status: "processed", topic: delivery.topic, customerId: result.customerId?.toString() ?? null, scrubbed: result.scrub },
    shop: delivery.shop,
    metricsFor: result.affectedCustomerIds,
    erasureDestinations: result.erasureDestinations,
  };
}

export async function processDelivery(db: PrismaClient, deliveryId: bigint, deps: IngestDeps = {}): Promise<DeliveryOutcome> {
  let step: Step;
  try {
    step = await pgTransaction(deps.pool ?? pgPool(), async (tx): Promise<Step> => {
      const delivery = await lockDelivery(tx, deliveryId);
      const done = settled(delivery);
      if (done) return done;
      // Rare topics: release the row and take the Prisma path below (it locks the row again).
      if (!isRawTopic(delivery!.topic)) return { kind: "needs-prisma" };
      return handleLocked(tx, delivery!, () => handleRawDelivery(tx, delivery!));
      // Key lookups only: their generic plans, never planned per delivery (ADR 0012).
    }, { prepared: true, genericPlans: true });
    if (step.kind === "needs-prisma") {
      step = await db.$transaction(async (tx): Promise<Step> => {
        const delivery = await lockDelivery(tx, deliveryId);
        return settled(delivery) ?? handleLocked(tx, delivery!, () => handleDelivery(tx, delivery!));
      }, TRANSACTION_OPTIONS);
    }
  } catch (error) {
    if (error instanceof PayloadValidationError) {
      await markDeliveryFailed(db, deliveryId, error.message);
      return { status: "failed", error: error.message };
    }
    const refused = refusedData(error);
    if (refused !== null) {
      await markDeliveryFailed(db, deliveryId, refused);
      return { status: "failed", error: refused };
    }
    // Transient (database restart, lock timeout, deadlock victim): keep the row PENDING
    // with the reason, and let BullMQ retry; the sweeper takes over if retries run out.
    await noteDeliveryRetry(db, deliveryId, errorMessage(error)).catch(() => {});
    throw error;
  }
  if (step.kind === "done") await askForErasures(step.erasureDestinations ?? []);
  if (step.kind === "done" && step.shop !== undefined && step.metricsFor.length > 0) {
    try {
      await (deps.enqueueMetrics ?? enqueueCustomerMetrics)(step.shop, step.metricsFor);
    } catch (error) {
      throw new MetricsHandOffError(deliveryId, error);
    }
  }
  return (step as Extract<Step, { kind: "done" }>).outcome;
}

/**
 * A redaction's erasure requests are committed: each destination that held the customer
 * gets an erase pass. Logged, not thrown: the destinations sweep finds the rows anyway.
 */
async function askForErasures(destinationIds: readonly string[]): Promise<void> {
  for (const destinationId of destinationIds) {
    await enqueueDestination({ task: "erase", destinationId }).catch((error: unknown) =>
      consoleLogger.error("could not ask for a destination erase pass", { destinationId, error: errorMessage(error) }),
    );
  }
}

/**
 * PostgreSQL refusing the delivery's data (class 22: a value out of range, an invalid
 * text; 54001: nesting too deep): the same bytes fail on every retry, so the delivery is
 * FAILED with the reason instead of retried forever. null for anything that may pass later.
 */
function refusedData(error: unknown): string | null {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string" || !(code.startsWith("22") || code === "54001")) return null;
  return `PostgreSQL refused the delivery's data (SQLSTATE ${code}): ${errorMessage(error)}`;
}

// ---------------------------------------------------------------- the handlers

// One small handler per webhook topic. Each runs inside the processor's transaction, so
// its writes and the delivery's PROCESSED mark commit together or not at all. The hot
// topics (orders, refunds, customer profiles) need only raw queries (RawTx), so the
// processor runs them on plain pg; the rare ones use Prisma's model methods.
/** What a handler reads of its delivery. */
export type Delivery = Omit<LockedDelivery, "status" | "customerId">;

export interface HandlerResult {
  /** The customer the delivery concerns (WebhookDelivery.customerId), when there is one still stored. */
  customerId: bigint | null;
  /** Empty the delivery's payload: it concerns data that was redacted or deleted. */
  scrub: boolean;
  /** Customers whose orders or profile changed: their metrics are recomputed after commit. */
  affectedCustomerIds: bigint[];
  /** Destinations with erasure requests this delivery recorded (customers/redact): an erase pass each after commit. */
  erasureDestinations?: string[];
}

type RawHandler = (tx: RawTx, delivery: Delivery, topic: Topic) => Promise<HandlerResult>;
type ModelHandler = (tx: Tx, delivery: Delivery, topic: Topic) => Promise<HandlerResult>;

const upsertOrderHandler: RawHandler = async (tx, d, topic) => {
  const result = await upsertOrder(tx, d.shop, mapOrderPayload(d.payload, topic));
  // The checkout it came from is no longer abandoned (cart abandoners, issue 17).
  const refs = result.concernsDeleted ? null : orderCheckoutRefs(d.payload, topic);
  const checkoutOwners = refs ? await recordOrderCheckout(tx, d.shop, refs) : [];
  return { customerId: result.customerId, scrub: result.concernsDeleted, affectedCustomerIds: distinctIds([...result.affectedCustomerIds, ...checkoutOwners]) };
};
const upsertCheckoutHandler: RawHandler = async (tx, d, topic) => {
  const result = await upsertCheckout(tx, d.shop, mapCheckoutPayload(d.payload, topic));
  return { customerId: result.customerId, scrub: result.concernsDeleted, affectedCustomerIds: result.affectedCustomerIds };
};
const upsertCustomerHandler: RawHandler = async (tx, d, topic) => {
  const result = await upsertCustomer(tx, d.shop, mapCustomerPayload(d.payload, topic));
  return { customerId: result.customerId, scrub: result.concernsDeleted, affectedCustomerIds: result.affectedCustomerIds };
};
// A consent change recomputes the customer's metrics (affectedCustomerIds), which marks the
// destinations' outbox: an unsubscribe leaves the synced lists within a pass.
const consentHandler =
  (map: typeof mapEmailConsentPayload): RawHandler =>
  async (tx, d, topic) => {
    const result = await upsertCustomerConsent(tx, d.shop, map(d.payload, topic));
    return { customerId: result.customerId, scrub: result.concernsDeleted, affectedCustomerIds: result.affectedCustomerIds };
  };

// Product costs (issue 17): no customer of their own; the customers whose orders' cost moved get new metrics.
const productHandler: RawHandler = async (tx, d, topic) => {
  const result = await upsertProductVariants(tx, d.shop, mapProductPayload(d.payload, topic));
  return { customerId: null, scrub: false, affectedCustomerIds: result.affectedCustomerIds };
};
const inventoryItemHandler: RawHandler = async (tx, d, topic) => {
  // Shopify states the cost in the shop's currency; a shop without a row (no install recorded) reads as USD.
  const currency = (await shopCurrency(tx, d.shop)) ?? "USD";
  const result = await upsertUnitCost(tx, d.shop, mapInventoryItemPayload(d.payload, currency, topic));
  return { customerId: null, scrub: false, affectedCustomerIds: result.affectedCustomerIds };
};

/** Topics whose handlers need raw queries only: the ingest processor runs them on plain pg. */
const rawHandlers = {
  "orders/create": upsertOrderHandler,
  "orders/updated": upsertOrderHandler,
  "orders/cancelled": upsertOrderHandler,
  "orders/delete": async (tx, d, topic) => {
    const result = await deleteOrder(tx, d.shop, mapDeletePayload(d.payload, topic));
    return { customerId: result.customerId, scrub: false, affectedCustomerIds: result.affectedCustomerIds };
  },
  "refunds/create": async (tx, d, topic) => {
    const result = await applyRefund(tx, d.shop, mapRefundPayload(d.payload, topic));
    return { customerId: result.customerId, scrub: result.concernsDeleted, affectedCustomerIds: result.affectedCustomerIds };
  },
  "customers/create": upsertCustomerHandler,
  "customers/update": upsertCustomerHandler,
  "customers/delete": async (tx, d, topic) => {
    const result = await deleteCustomer(tx, d.shop, mapDeletePayload(d.payload, topic));
    return { customerId: null, scrub: false, affectedCustomerIds: result.affectedCustomerIds };
  },
  "customers_email_marketing_consent/update": consentHandler(mapEmailConsentPayload),
  "customers_marketing_consent/update": consentHandler(mapSmsConsentPayload),
  "checkouts/create": upsertCheckoutHandler,
  "checkouts/update": upsertCheckoutHandler,
  "products/create": productHandler,
  "products/update": productHandler,
  "inventory_items/create": inventoryItemHandler,
  "inventory_items/update": inventoryItemHandler,
} satisfies Partial<Record<Topic, RawHandler>>;
export type RawTopic = keyof typeof rawHandlers;

const modelHandlers: Record<Exclude<Topic, RawTopic>, ModelHandler> = {
  "customers/redact": async (tx, d, topic) => {
    const body = parsePayload(topic, CustomersRedactPayload, d.payload);
    assertSameShop(topic, d.shop, body.shop_domain);
    const [customerId] = mapIds(topic, [body.customer.id]);
    const redaction = await redactCustomer(tx, d.shop, {
      customerId,
      email: body.customer.email ?? null,
      phone: body.customer.phone ?? null,
      orderIds: mapIds(topic, body.orders_to_redact),
      deliveryId: d.id,
    });
    // The redaction request itself names the customer: it is emptied too (the tombstone keeps the id).
    return { customerId: null, scrub: true, affectedCustomerIds: [], erasureDestinations: redaction.erasureDestinations };
  },
  "customers/data_request": async (tx, d, topic) => {
    const body = parsePayload(topic, CustomersDataRequestPayload, d.payload);
    assertSameShop(topic, d.shop, body.shop_domain);
    const [customerId] = mapIds(topic, [body.customer.id]);
    const recorded = await recordDataRequest(tx, d.shop, {
      customerId,
      email: body.customer.email ?? null,
      dataRequestId: body.data_request ? String(body.data_request.id) : null,
      requestedAt: d.triggeredAt ?? d.receivedAt,
    });
    // A request about a redacted customer is answered with "nothing stored", and not kept.
    return recorded.redacted ? { customerId: null, scrub: true, affectedCustomerIds: [] } : { customerId, scrub: false, affectedCustomerIds: [] };
  },
  "shop/redact": async (tx, d, topic) => {
    const body = parsePayload(topic, ShopRedactPayload, d.payload);
    assertSameShop(topic, d.shop, body.shop_domain);
    await redactShop(tx, d.shop);
    return { customerId: null, scrub: true, affectedCustomerIds: [] };
  },
  "app/uninstalled": async (tx, d, topic) => {
    parsePayload(topic, AppUninstalledPayload, d.payload);
    const uninstall = await markShopUninstalled(tx, d.shop, d.triggeredAt ?? d.receivedAt);
    // Uninstall stops every sync and deletes the email tools' keys (issue 14), unless this is
    // a stale event from before a reinstall.
    if (uninstall.applied) await deleteShopDestinations(tx, d.shop);
    return { customerId: null, scrub: false, affectedCustomerIds: [] };
  },
  "app/scopes_update": async (tx, d, topic) => {
    const body = parsePayload(topic, AppScopesUpdatePayload, d.payload);
    await updateShopScopes(tx, d.shop, body.current);
    return { customerId: null, scrub: false, affectedCustomerIds: [] };
  },
  "bulk_operations/finish": async (tx, d, topic) => {
    const body = parsePayload(topic, BulkOperationFinishPayload, d.payload);
    await handleBulkOperationFinished(tx, d.shop, { ...body, id: resolveBulkOperationId(topic, body.admin_graphql_api_id) });
    return { customerId: null, scrub: false, affectedCustomerIds: [] };
  },
};

function resolveBulkOperationId(topic: string, gid: string): string {
  if (!/^gid:\/\/shopify\/BulkOperation\/\d+$/.test(gid)) {
    throw new PayloadValidationError(topic, [`admin_graphql_api_id: "${gid}" is not a BulkOperation id`]);
  }
  return resolveId(gid.slice(gid.lastIndexOf("/") + 1), gid).toString();
}

function assertSameShop(topic: string, shop: string, payloadShop: string): void {
  if (payloadShop.toLowerCase() !== shop.toLowerCase()) {
    throw new PayloadValidationError(topic, [`shop_domain: "${payloadShop}" is not the delivering shop ${shop}`]);
  }
}

function checkedTopic(delivery: Delivery): Topic {
  const topic = canonicalTopic(delivery.topic);
  if (!topic) throw new PayloadValidationError(delivery.topic, [`no handler for topic "${delivery.topic}"`]);
  if (delivery.payload === null || delivery.payload === undefined) {
    throw new PayloadValidationError(topic, ["(body): not JSON"]);
  }
  return topic;
}

/** Whether the delivery's topic is handled with raw queries alone (see handleRawDelivery). */
export function isRawTopic(topic: string): boolean {
  const canonical = canonicalTopic(topic);
  return canonical !== null && canonical in rawHandlers;
}

/** Runs a raw topic's handler on a raw transaction (pg or Prisma). Other topics: use handleDelivery. */
export async function handleRawDelivery(tx: RawTx, delivery: Delivery): Promise<HandlerResult> {
  const topic = checkedTopic(delivery);
  if (!(topic in rawHandlers)) throw new Error(`${topic} needs a Prisma transaction (handleDelivery)`);
  return rawHandlers[topic as RawTopic](tx, delivery, topic);
}

/** Runs the topic's handler. Unknown topics and bodies that are not JSON are PayloadValidationErrors. */
export async function handleDelivery(tx: Tx, delivery: Delivery): Promise<HandlerResult> {
  const topic = checkedTopic(delivery);
  if (topic in rawHandlers) return rawHandlers[topic as RawTopic](tx, delivery, topic);
  return modelHandlers[topic as Exclude<Topic, RawTopic>](tx, delivery, topic);
}
