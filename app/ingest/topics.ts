// The one list of webhook topics Tenure subscribes to. shopify.app.toml declares the same
// subscriptions (Shopify's CLI reads the toml, so it cannot import this);
// tests/web/subscriptions.test.ts checks the two agree. The intake's payload shapes and the
// ingest handlers are typed against this list, so a topic added here without its shape or
// handler does not compile. Every topic is served by one route, app/routes/webhooks.$.tsx.

export const APP_TOPICS = [
  "orders/create",
  "orders/updated",
  "orders/cancelled",
  "orders/delete",
  "refunds/create",
  "customers/create",
  "customers/update",
  "customers/delete",
  // Since API 2025-01 customer payloads carry no consent: these two topics do (issue 14).
  "customers_email_marketing_consent/update",
  "customers_marketing_consent/update",
  // Cart abandoners (issue 17): checkouts, stored like orders (need read_orders, held already).
  "checkouts/create",
  "checkouts/update",
  // Product costs (issue 17): variants' inventory items (read_products) and unit costs (read_inventory).
  "products/create",
  "products/update",
  "inventory_items/create",
  "inventory_items/update",
  "app/uninstalled",
  "app/scopes_update",
  "bulk_operations/finish",
] as const;

/** Mandatory privacy topics: subscribed as compliance_topics, not per shop. */
export const COMPLIANCE_TOPICS = ["customers/data_request", "customers/redact", "shop/redact"] as const;

export const TOPICS = [...APP_TOPICS, ...COMPLIANCE_TOPICS] as const;
export type Topic = (typeof TOPICS)[number];

/** Topics that carry shop data (every subscription but app/*): applied only while the shop is installed (ADR 0013). */
export const DATA_TOPICS: ReadonlySet<Topic> = new Set<Topic>(APP_TOPICS.filter((topic) => !topic.startsWith("app/")));

/** The subscription uri of a topic: /webhooks/<topic>, e.g. /webhooks/orders/create. */
export const webhookUri = (topic: Topic) => `/webhooks/${topic}`;

/** The topic a /webhooks/<topic> path stands for, or null for a path no subscription uses. */
export function topicOfPath(path: string): Topic | null {
  const topic = path.replace(/^\/?webhooks\//, "").replace(/\/+$/, "");
  return (TOPICS as readonly string[]).includes(topic) ? (topic as Topic) : null;
}

const BY_ENUM_NAME = new Map<string, Topic>(TOPICS.map((topic) => [topic.replace("/", "_").toUpperCase(), topic]));

/** "orders/create" (the X-Shopify-Topic header) or "ORDERS_CREATE" (the library's enum) -> "orders/create". */
export function canonicalTopic(topic: string): Topic | null {
  const lower = topic.trim().toLowerCase();
  if ((TOPICS as readonly string[]).includes(lower)) return lower as Topic;
  return BY_ENUM_NAME.get(topic.trim().toUpperCase()) ?? null;
}
