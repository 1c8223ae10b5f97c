import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll } from "vitest";

// Signed webhook requests built the way Shopify sends them, and a look into the test's
// own BullMQ prefix. Nothing here stands in for Tenure code: requests go to real routes.

const fixtures = fileURLToPath(new URL("../fixtures/webhooks/", import.meta.url));

/** The raw text of a webhook fixture (tests/fixtures/webhooks/<name>.json). */
export function fixtureText(name: string): string {
  return readFileSync(`${fixtures}${name}.json`, "utf8");
}

export function fixtureJson(name: string): Record<string, unknown> {
  return JSON.parse(fixtureText(name)) as Record<string, unknown>;
}

/** X-Shopify-Hmac-Sha256 exactly as Shopify computes it: base64 HMAC-SHA256 of the raw body bytes. */
export function shopifyHmac(body: string | Buffer, secret = process.env.SHOPIFY_API_SECRET ?? ""): string {
  return createHmac("sha256", secret).update(body).digest("base64");
}

let webhookCounter = 0;
/** A webhook id no other delivery in this run uses. */
export function uniqueWebhookId(): string {
  webhookCounter += 1;
  return `wh-${process.pid}-${Date.now().toString(36)}-${webhookCounter}`;
}

export interface WebhookRequestInit {
  topic: string;
  shop: string;
  body: string | Buffer;
  webhookId?: string;
  eventId?: string;
  triggeredAt?: string;
  apiVersion?: string;
  method?: string;
  /** Replaces the correct signature. */
  hmac?: string;
  /** Header overrides; null removes a header. */
  headers?: Record<string, string | null>;
  baseUrl?: string;
}

/** The headers of a Shopify delivery, signed with the test SHOPIFY_API_SECRET. */
export function webhookHeaders(init: WebhookRequestInit): Headers {
  const headers = new Headers({
    "Content-Type": "application/json",
    "X-Shopify-Topic": init.topic,
    "X-Shopify-Hmac-Sha256": init.hmac ?? shopifyHmac(init.body),
    "X-Shopify-Shop-Domain": init.shop,
    "X-Shopify-API-Version": init.apiVersion ?? "2026-10",
    "X-Shopify-Webhook-Id": init.webhookId ?? uniqueWebhookId(),
    "X-Shopify-Event-Id": init.eventId ?? `ev-${uniqueWebhookId()}`,
    "X-Shopify-Triggered-At": init.triggeredAt ?? new Date().toISOString(),
    "User-Agent": "Shopify-Captain-Hook",
  });
  for (const [name, value] of Object.entries(init.headers ?? {})) {
    if (value === null) headers.delete(name);
    else headers.set(name, value);
  }
  return headers;
}

export function webhookRequest(init: WebhookRequestInit): Request {
  const method = init.method ?? "POST";
  const url = `${init.baseUrl ?? "https://tenure.test"}/webhooks/${init.topic}`;
  const hasBody = method !== "GET" && method !== "HEAD";
  const body = typeof init.body === "string" ? init.body : new Uint8Array(init.body);
  return new Request(url, { method, headers: webhookHeaders(init), body: hasBody ? body : undefined });
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Gives this test file its own BullMQ prefix on the shared Redis and returns a reader for
 * the ingest queue. Everything under the prefix is removed after the file.
 */
export function isolatedIngestQueue(label: string): Queue {
  const prefix = `tenure-test-${label}-${process.pid}-${Date.now().toString(36)}`;
  process.env.TENURE_QUEUE_PREFIX = prefix;
  const connection = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { maxRetriesPerRequest: null });
  const queue = new Queue("ingest", { connection, prefix });
  afterAll(async () => {
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    connection.disconnect();
  });
  return queue;
}

/** The ids of the deliveries waiting in the ingest queue. */
export async function queuedDeliveryIds(queue: Queue): Promise<string[]> {
  const jobs = await queue.getJobs(["waiting", "delayed", "prioritized", "active"]);
  return jobs.map((job) => String((job.data as { deliveryId: string }).deliveryId)).sort();
}
