import { createHmac, timingSafeEqual } from "node:crypto";
import { ShopifyHeader } from "@shopify/shopify-api";
import pg from "pg";
import { z } from "zod";
import { env } from "~/env.server";
import { type ShopAdmission, countDroppedDelivery } from "~/data/shop-admission.server";
import { type DeliveryRow, storeDelivery } from "~/data/webhook-deliveries.server";
import { survivingConnectionLoss } from "~/db/pg.server";
import { enqueueIngest } from "~/queues/enqueue.server";
import { type BodyReservation, BodyBudget } from "./body-budget";
import { ShopifyId } from "./payloads";
import { ShopAdmissionCache, UnknownShopDrops, dropReason } from "./shop-admission.server";
import { type Topic, canonicalTopic, topicOfPath } from "./topics";

// The webhook intake: every routes/webhooks.* action is this one function.
//
//   non-POST 405 · missing required header 400 · topic header not the address's topic 400 ·
//   body over WEBHOOK_MAX_BODY_BYTES 413 · the process's body budget full 503 with
//   Retry-After (body-budget.ts) · body not arrived within WEBHOOK_BODY_DEADLINE_MS 408 ·
//   bad HMAC 401 · store failure 503 (Shopify retries) · stored → 200, then the row id is
//   enqueued (Redis down: still 200, the sweeper enqueues PENDING rows later) ·
//   duplicate (same shop + X-Shopify-Webhook-Id) → 200, no second row, no job ·
//   signed but not JSON / not of the topic's shape / naming another shop or object (a
//   replay) → stored FAILED with the reason, 200, never enqueued ·
//   shop admission (ADR 0013): never installed → 200, body not read, counted in the
//   process; redacted, or uninstalled and a data topic → verified, counted in
//   DroppedDelivery, 200, not stored.
//
// The hot path is one INSERT and one queue add (target: 1,000 deliveries/s on 2 cores):
// - Verification is Shopify's webhook check done here: HMAC-SHA256 of the raw body with
//   the app secret, base64, compared in constant time with X-Shopify-Hmac-Sha256, plus the
//   headers Shopify's library requires. intake.server.test.ts checks that it agrees with
//   @shopify/shopify-api's `webhooks.validate` on signed, forged and malformed requests.
//   Not `authenticate.webhook`: that also loads the shop's session on every delivery and,
//   with expiring offline tokens, refreshes it, which fails for uninstalled shops and turns
//   app/uninstalled and the compliance topics into endless 500s
//   (Shopify/shopify-app-js#3360); it also throws on a signed body that is not JSON, which
//   must be stored FAILED instead. The library's own validate spends a sizeable share of
//   the per-delivery budget copying headers (ADR 0005).
// - The INSERT goes through a small pg pool with a prepared statement, at a fraction of
//   Prisma's $queryRaw CPU (ADR 0006), and the JSON text goes to PostgreSQL as is, cast to
//   jsonb there, never re-serialised here.

/** Headers every delivery must carry (the ones Shopify's library requires). */
const REQUIRED_HEADERS = [
  ShopifyHeader.Hmac,
  ShopifyHeader.Topic,
  ShopifyHeader.Domain,
  ShopifyHeader.ApiVersion,
  ShopifyHeader.WebhookId,
] as const;

const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;

export interface IntakeOptions {
  /** The database to store into (default: the intake's pool on DATABASE_URL). */
  pool?: pg.Pool;
  /** Largest body accepted, in bytes (default: WEBHOOK_MAX_BODY_BYTES). */
  maxBodyBytes?: number;
  /** Bytes of bodies held at once across requests (default: the process's, WEBHOOK_BODY_BUDGET_BYTES). */
  bodyBudget?: BodyBudget;
  /** How long the body may take to arrive (default: WEBHOOK_BODY_DEADLINE_MS). */
  bodyDeadlineMs?: number;
  /** Shop admission lookups (default: the process's cache, ADR 0013). */
  admissionCache?: ShopAdmissionCache;
}

/** Verifies, stores and enqueues one webhook delivery; answers as Shopify expects. */
export async function receiveWebhook(request: Request, options: IntakeOptions = {}): Promise<Response> {
  if (request.method !== "POST") {
    return reply(405, "webhooks are POST only", { Allow: "POST" });
  }

  const missing = REQUIRED_HEADERS.filter((name) => !request.headers.get(name));
  if (missing.length > 0) return reply(400, `missing header: ${missing.join(", ")}`);
  const shop = request.headers.get(ShopifyHeader.Domain)!.trim().toLowerCase();
  if (!SHOP_DOMAIN.test(shop)) return reply(400, `${ShopifyHeader.Domain} is not a myshopify.com domain`);
  // Shopify's HMAC covers the body only: a signed body replayed under another topic header
  // (an order body as orders/delete) must not pass. Each subscription has its own address,
  // so the topic header must name the address's topic.
  const topicHeader = request.headers.get(ShopifyHeader.Topic)!;
  const path = new URL(request.url).pathname;
  const topic = topicOfPath(path);
  if (topic === null || canonicalTopic(topicHeader) !== topic) {
    return reply(400, `${ShopifyHeader.Topic} ${JSON.stringify(topicHeader.slice(0, 100))} does not match the webhook address ${path.slice(0, 200)}`);
  }

  const config = env();
  const maxBodyBytes = options.maxBodyBytes ?? config.WEBHOOK_MAX_BODY_BYTES;
  const declaredLength = request.headers.get("Content-Length");
  if (declaredLength !== null) {
    const length = Number(declaredLength);
    if (!/^\d+$/.test(declaredLength.trim()) || !Number.isSafeInteger(length)) {
      return reply(400, "malformed Content-Length");
    }
    if (length > maxBodyBytes) return reply(413, `body over ${maxBodyBytes} bytes`);
  }
  // Shop admission before the body is read (ADR 0013): a shop that never installed gets
  // 200 and nothing is read or stored; others are decided once the body is verified.
  const pool = options.pool ?? intakePool();
  let admission: ShopAdmission;
  try {
    admission = await (options.admissionCache ?? processAdmissionCache()).admission(pool, shop);
  } catch (error) {
    console.error(`tenure: could not read the admission of ${shop}; answering 503 so Shopify retries: ${messageOf(error)}`);
    return reply(503, "could not check the shop; retry later", { "Retry-After": "5" });
  }
  if (admission === "unknown") {
    unknownShopDrops.record(shop, topic);
    await request.body?.cancel().catch(() => {});
    return reply(200, "", { Connection: "close" });
  }

  // The body is held until the delivery is answered: its bytes count against the process's
  // budget from before the first one is read (a declared length) until then, on every path.
  const reservation = (options.bodyBudget ?? processBodyBudget()).open();
  try {
    if (declaredLength !== null && !reservation.reserveUpTo(Number(declaredLength))) return budgetFull();
    // Counted while reading too: a chunked body has no Content-Length, and one may lie.
    const read = await readBodyWithin(request, maxBodyBytes, reservation, options.bodyDeadlineMs ?? config.WEBHOOK_BODY_DEADLINE_MS);
    if (read === "too large") return reply(413, `body over ${maxBodyBytes} bytes`);
    if (read === "over budget") return budgetFull();
    if (read === "too slow") return reply(408, "the body did not arrive in time", { Connection: "close" });
    if (read === "broken") return reply(400, "the body was cut off", { Connection: "close" });
    return await verifyAndStore(request, { shop, topic, admission, body: read, secret: config.SHOPIFY_API_SECRET, pool });
  } finally {
    reservation.release();
  }
}

async function verifyAndStore(
  request: Request,
  { shop, topic, admission, body, secret, pool }: { shop: string; topic: Topic; admission: ShopAdmission; body: Buffer; secret: string; pool: pg.Pool },
): Promise<Response> {
  if (body.length === 0) return reply(400, "empty body");

  if (!hasValidHmac(body, request.headers.get(ShopifyHeader.Hmac)!, secret)) {
    return reply(401, "invalid HMAC");
  }
  // Counted only once verified: a forged request must not move a shop's counts.
  const dropped = dropReason(admission, topic);
  if (dropped !== null) {
    await countDroppedDelivery(pool, { shop, topic, reason: dropped }).catch((error: unknown) => {
      console.error(`tenure: could not count a dropped ${topic} delivery for ${shop}: ${messageOf(error)}`);
    });
    return reply(200, "");
  }

  const rawBody = body.toString("utf8");
  const delivery: DeliveryRow = {
    shop,
    webhookId: request.headers.get(ShopifyHeader.WebhookId)!,
    eventId: request.headers.get(ShopifyHeader.EventId),
    topic,
    apiVersion: request.headers.get(ShopifyHeader.ApiVersion),
    triggeredAt: parseTimestamp(request.headers.get(ShopifyHeader.TriggeredAt)),
    ...classifyBody(topic, rawBody, shop),
  };

  let stored: DeliveryRow = delivery;
  let deliveryId: string | null;
  try {
    deliveryId = await storeDelivery(pool, stored);
  } catch (error) {
    const sqlState = (error as { code?: unknown }).code;
    if (typeof sqlState !== "string" || !(sqlState.startsWith("22") || sqlState === "54001")) return storeFailed(delivery, error);
    // PostgreSQL refused the body's content (a \u0000 escape, an unpaired surrogate, a NUL
    // byte, JSON nested past its stack depth): keep it as text, FAILED, rather than have
    // Shopify retry a body that can never be stored.
    stored = {
      ...delivery,
      payloadJson: null,
      rawBody: rawBody.replaceAll("\u0000", "\uFFFD"),
      status: "FAILED",
      error: `body not storable in PostgreSQL (SQLSTATE ${sqlState}): ${messageOf(error)}`,
    };
    try {
      deliveryId = await storeDelivery(pool, stored);
    } catch (retryError) {
      return storeFailed(delivery, retryError);
    }
  }

  // A duplicate (no new row) or a FAILED row is never enqueued. enqueueIngest never
  // throws: with Redis down the PENDING row waits for the sweeper.
  if (deliveryId !== null && stored.status === "PENDING") await enqueueIngest(deliveryId);
  return reply(200, "");
}

/** Shopify's webhook signature: base64 HMAC-SHA256 of the raw body bytes with the app secret. */
export function hasValidHmac(body: Buffer, signature: string, secret: string): boolean {
  const expected = Buffer.from(createHmac("sha256", secret).update(body).digest("base64"));
  const given = Buffer.from(signature.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}


type BodyVerdict = Pick<DeliveryRow, "payloadJson" | "rawBody" | "status" | "error">;

/**
 * Decides how a verified body is stored: PENDING, or FAILED with the reason. With `shop`
 * (the X-Shopify-Shop-Domain header), a payload that names another shop fails too.
 */
export function classifyBody(topic: string, rawBody: string, shop?: string): BodyVerdict {
  let payload: unknown;
  try {
    payload = JSON.parse(rawBody);
  } catch (error) {
    return { payloadJson: null, rawBody, status: "FAILED", error: `body is not valid JSON: ${messageOf(error)}` };
  }
  const problem = shapeProblem(topic, payload) ?? replayProblem(topic, payload as Record<string, unknown>, shop);
  if (problem) return { payloadJson: rawBody, rawBody: null, status: "FAILED", error: problem };
  return { payloadJson: rawBody, rawBody: null, status: "PENDING", error: null };
}


let pool: pg.Pool | undefined;

/**
 * The intake's own connection pool. Timeouts keep a stuck database from holding Shopify
 * past its 5 s delivery timeout: the delivery is answered 503 and retried instead.
 */
export function intakePool(): pg.Pool {
  if (!pool) {
    // A lost connection (database restart) fails its delivery with 503, never the web process.
    pool = survivingConnectionLoss(
      new pg.Pool({
        connectionString: env().DATABASE_URL,
        max: 10,
        connectionTimeoutMillis: 3_000,
        statement_timeout: 4_000,
      }),
      "intake database",
    );
  }
  return pool;
}

export async function closeIntakePool(): Promise<void> {
  const current = pool;
  pool = undefined;
  await current?.end();
}

function storeFailed(delivery: DeliveryRow, error: unknown): Response {
  console.error(
    `tenure: could not store ${delivery.topic} delivery ${delivery.webhookId} for ${delivery.shop}; answering 503 so Shopify retries: ${messageOf(error)}`,
  );
  return reply(503, "could not store the delivery; retry later", { "Retry-After": "5" });
}

let admissionCache: ShopAdmissionCache | undefined;
const unknownShopDrops = new UnknownShopDrops();

/** Deliveries for never-installed shops this process acknowledged unread since it started. */
export function unknownShopDropCount(): number {
  return unknownShopDrops.total;
}

function processAdmissionCache(): ShopAdmissionCache {
  admissionCache ??= new ShopAdmissionCache();
  return admissionCache;
}

let bodyBudget: BodyBudget | undefined;

/** The budget every webhook request of this process shares (WEBHOOK_BODY_BUDGET_BYTES). */
function processBodyBudget(): BodyBudget {
  bodyBudget ??= new BodyBudget(env().WEBHOOK_BODY_BUDGET_BYTES);
  return bodyBudget;
}

function budgetFull(): Response {
  // Shopify retries a 503; the connection closes so an unread body is not kept coming.
  return reply(503, "too many webhook bodies in flight; retry later", { "Retry-After": "5", Connection: "close" });
}

/**
 * The body, read within `maxBytes`, the reservation and the deadline; each read grows the
 * reservation before the next one. Stopping early cancels the body (server.mjs then
 * closes the connection once it has answered).
 */
async function readBodyWithin(
  request: Request,
  maxBytes: number,
  reservation: BodyReservation,
  deadlineMs: number,
): Promise<Buffer | "too large" | "over budget" | "too slow" | "broken"> {
  if (!request.body) return Buffer.alloc(0);
  const reader = request.body.getReader();
  let timedOut = false;
  // Cancelling ends a pending read (done), so a body that stops arriving cannot hold the request.
  const deadline = setTimeout(() => {
    timedOut = true;
    reader.cancel(new Error("webhook body deadline")).catch(() => {});
  }, deadlineMs);
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      // A connection lost mid-body (the client went away) rejects the read.
      const next = await reader.read().catch(() => null);
      if (timedOut) return "too slow";
      if (next === null) return "broken";
      const { done, value } = next;
      if (done) break;
      size += value.byteLength;
      const verdict = size > maxBytes ? "too large" : reservation.reserveUpTo(size) ? null : "over budget";
      if (verdict !== null) {
        await reader.cancel().catch(() => {});
        return verdict;
      }
      chunks.push(value);
    }
  } finally {
    clearTimeout(deadline);
  }
  return Buffer.concat(chunks, size);
}

function parseTimestamp(value: string | null): Date | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

function reply(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(message || null, {
    status,
    headers: message ? { "Content-Type": "text/plain; charset=utf-8", ...headers } : headers,
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.replace(/\s+/g, " ").trim() : String(error);
}

// --- Topic shapes ---------------------------------------------------------------------
// A minimal check of what each topic's processing cannot do without (the worker validates
// the full payload). Shapes follow Shopify's webhook reference and the compliance docs.

const NumericId = ShopifyId;
const Timestamp = z.iso.datetime({ offset: true });
const ComplianceCustomer = z.object({ id: NumericId.nullish(), email: z.string().nullish() });

const OrderShape = z.object({ id: NumericId, updated_at: Timestamp });
const CustomerShape = z.object({ id: NumericId, updated_at: Timestamp });
const DeletedShape = z.object({ id: NumericId });

const TOPIC_SHAPES: Record<Topic, z.ZodType> = {
  "orders/create": OrderShape,
  "orders/updated": OrderShape,
  "orders/cancelled": OrderShape,
  "orders/delete": DeletedShape,
  "refunds/create": z.object({ id: NumericId, order_id: NumericId }),
  "customers/create": CustomerShape,
  "customers/update": CustomerShape,
  "customers/delete": DeletedShape,
  // The consent topics name the customer by a bare id (no admin_graphql_api_id).
  "customers_email_marketing_consent/update": z.object({ customer_id: NumericId }),
  "customers_marketing_consent/update": z.object({ id: NumericId }),
  "checkouts/create": OrderShape,
  "checkouts/update": OrderShape,
  "products/create": OrderShape,
  "products/update": OrderShape,
  "inventory_items/create": OrderShape,
  "inventory_items/update": OrderShape,
  "customers/data_request": z.object({
    shop_domain: z.string().min(1),
    customer: ComplianceCustomer,
    orders_requested: z.array(NumericId),
  }),
  "customers/redact": z.object({
    shop_domain: z.string().min(1),
    customer: ComplianceCustomer,
    orders_to_redact: z.array(NumericId),
  }),
  "shop/redact": z.object({ shop_domain: z.string().min(1) }),
  "app/uninstalled": z.object({ id: NumericId }),
  "app/scopes_update": z.object({ current: z.array(z.string()) }),
  "bulk_operations/finish": z.object({ admin_graphql_api_id: z.string().min(1), status: z.string().min(1) }),
};

function shapeProblem(topic: string, payload: unknown): string | null {
  const shape = (TOPIC_SHAPES as Record<string, z.ZodType | undefined>)[topic];
  if (!shape) return `no handler for topic ${topic}`;
  const result = shape.safeParse(payload);
  if (result.success) return null;
  const details = result.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join(".") || "(body)"}: ${issue.message}`)
    .join("; ");
  return `payload is not of the ${topic} shape: ${details}`;
}

// --- Replays --------------------------------------------------------------------------
// Shopify's HMAC covers the body only, so a signed body can be sent again under other
// headers (issue 12, finding 3). Where the payload names its shop or its object, the two
// must agree: compliance payloads carry shop_domain, app/uninstalled the shop's
// myshopify_domain, and order, refund and customer payloads admin_graphql_api_id, the
// gid of their object.

const OBJECT_TYPES: Partial<Record<Topic, string>> = {
  "orders/create": "Order",
  "orders/updated": "Order",
  "orders/cancelled": "Order",
  "orders/delete": "Order",
  "refunds/create": "Refund",
  "customers/create": "Customer",
  "customers/update": "Customer",
  "customers/delete": "Customer",
};

const GID = /^gid:\/\/shopify\/([A-Za-z]+)\/(\d+)$/;

function replayProblem(topic: string, payload: Record<string, unknown>, shop: string | undefined): string | null {
  if (shop !== undefined) {
    const named = topic === "app/uninstalled" ? payload.myshopify_domain : payload.shop_domain;
    const field = topic === "app/uninstalled" ? "myshopify_domain" : "shop_domain";
    if (typeof named === "string" && named.trim().toLowerCase() !== shop) {
      return `payload's ${field} ${JSON.stringify(named.slice(0, 100))} is not the ${ShopifyHeader.Domain} ${shop}`;
    }
  }
  const type = OBJECT_TYPES[topic as Topic];
  const gid = payload.admin_graphql_api_id;
  if (type === undefined || gid === undefined || gid === null) return null;
  const match = typeof gid === "string" ? GID.exec(gid) : null;
  if (!match || match[1] !== type) {
    return `payload's admin_graphql_api_id ${JSON.stringify(String(gid).slice(0, 100))} is not a ${type}: a ${topic} body is one`;
  }
  // Above 2^53 a JSON number is not exact; resolveId reads such an id from the gid anyway.
  if (Number(match[2]) !== Number(payload.id)) {
    return `payload's admin_graphql_api_id ${gid} does not carry its id ${String(payload.id).slice(0, 30)}`;
  }
  return null;
}
