import { markShopUninstalled, updateShopScopes } from "~/data/shop.server";
import { type LockedDelivery } from "~/data/webhook-deliveries.server";
import { handleBulkOperationFinished } from "./bulk-operations.server";
import { recordDataRequest, redactCustomer, redactShop } from "./gdpr.server";
import {
  PayloadValidationError,
  mapCustomerPayload,
  mapDeletePayload,
  mapIds,
  mapOrderPayload,
  mapRefundPayload,
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
import { type RawTx } from "~/db/pg.server";
import { type Tx } from "~/db/tx.server";
import { TOPICS, type Topic } from "./topics";
import { applyRefund, deleteCustomer, deleteOrder, upsertCustomer, upsertOrder } from "./upsert.server";

// One small handler per webhook topic. Each runs inside the processor's transaction, so
// its writes and the delivery's PROCESSED mark commit together or not at all. The hot
// topics (orders, refunds, customer profiles) need only raw queries (RawTx), so the
// processor runs them on plain pg; the rare ones use Prisma's model methods.

export { type Topic };

const BY_ENUM_NAME = new Map<string, Topic>(TOPICS.map((topic) => [topic.replace("/", "_").toUpperCase(), topic]));

/** "orders/create" (the X-Shopify-Topic header) or "ORDERS_CREATE" (the library's enum) -> "orders/create". */
export function canonicalTopic(topic: string): Topic | null {
  const lower = topic.trim().toLowerCase();
  if ((TOPICS as readonly string[]).includes(lower)) return lower as Topic;
  return BY_ENUM_NAME.get(topic.trim().toUpperCase()) ?? null;
}

/** What a handler reads of its delivery. */
export type Delivery = Omit<LockedDelivery, "status" | "customerId">;

export interface HandlerResult {
  /** The customer the delivery concerns (WebhookDelivery.customerId), when there is one still stored. */
  customerId: bigint | null;
  /** Empty the delivery's payload: it concerns data that was redacted or deleted. */
  scrub: boolean;
  /** Customers whose orders or profile changed: their metrics are recomputed after commit. */
  affectedCustomerIds: bigint[];
}

type RawHandler = (tx: RawTx, delivery: Delivery, topic: Topic) => Promise<HandlerResult>;
type ModelHandler = (tx: Tx, delivery: Delivery, topic: Topic) => Promise<HandlerResult>;

const upsertOrderHandler: RawHandler = async (tx, d, topic) => {
  const result = await upsertOrder(tx, d.shop, mapOrderPayload(d.payload, topic));
  return { customerId: result.customerId, scrub: result.concernsDeleted, affectedCustomerIds: result.affectedCustomerIds };
};
const upsertCustomerHandler: RawHandler = async (tx, d, topic) => {
  const result = await upsertCustomer(tx, d.shop, mapCustomerPayload(d.payload, topic));
  return { customerId: result.customerId, scrub: result.concernsDeleted, affectedCustomerIds: result.affectedCustomerIds };
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
} satisfies Partial<Record<Topic, RawHandler>>;
export type RawTopic = keyof typeof rawHandlers;

const modelHandlers: Record<Exclude<Topic, RawTopic>, ModelHandler> = {
  "customers/redact": async (tx, d, topic) => {
    const body = parsePayload(topic, CustomersRedactPayload, d.payload);
    assertSameShop(topic, d.shop, body.shop_domain);
    const [customerId] = mapIds(topic, [body.customer.id]);
    await redactCustomer(tx, d.shop, {
      customerId,
      email: body.customer.email ?? null,
      phone: body.customer.phone ?? null,
      orderIds: mapIds(topic, body.orders_to_redact),
      deliveryId: d.id,
    });
    // The redaction request itself names the customer: it is emptied too (the tombstone keeps the id).
    return { customerId: null, scrub: true, affectedCustomerIds: [] };
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
    await markShopUninstalled(tx, d.shop, d.triggeredAt ?? d.receivedAt);
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
