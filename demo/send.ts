import { createHmac } from "node:crypto";
import { type DemoDelivery } from "./deliveries";

// Sends demo deliveries to a running Tenure over HTTP exactly as Shopify does: a POST of
// the JSON body to the topic's subscription URI, signed with the app's secret
// (X-Shopify-Hmac-Sha256 = base64 HMAC-SHA256 of the raw body), with Shopify's headers.
// Like Shopify, a delivery that gets no 2xx is retried with backoff; a 4xx other than 429
// means the delivery itself is wrong and is reported instead.

export interface WebhookTarget {
  /** http://localhost:3000 */
  baseUrl: string;
  /** The app's API secret (SHOPIFY_API_SECRET of the server). */
  secret: string;
  shop: string;
  apiVersion: string;
  /** Topic -> subscription URI path, from shopify.app.toml (see parseWebhookPaths). */
  paths: ReadonlyMap<string, string>;
}

export interface SendOptions {
  /** Requests in flight at once. */
  concurrency?: number;
  /** Attempts per delivery for 5xx, 429 and network errors. */
  maxAttempts?: number;
  /** Called after each delivery is settled. */
  onProgress?: (settled: number, total: number) => void;
  /** Stops sending new deliveries when aborted. */
  signal?: AbortSignal;
}

export interface SendFailure {
  webhookId: string;
  topic: string;
  status: number | null;
  message: string;
}

export interface SendReport {
  /** Deliveries handed to the server with a 2xx. */
  accepted: number;
  /** HTTP requests made, retries included. */
  requests: number;
  retries: number;
  /** Responses by status code (every attempt). */
  statuses: Record<string, number>;
  failures: SendFailure[];
  elapsedMs: number;
}

/** base64 HMAC-SHA256 of the raw body: X-Shopify-Hmac-Sha256. */
export function signBody(body: string | Buffer, secret: string): string {
  return createHmac("sha256", secret).update(body).digest("base64");
}

/** The request headers Shopify sends with a delivery. */
export function deliveryHeaders(delivery: DemoDelivery, target: Pick<WebhookTarget, "secret" | "shop" | "apiVersion">): Record<string, string> {
  return {
    "Content-Type": "application/json",
    "X-Shopify-Topic": delivery.topic,
    "X-Shopify-Hmac-Sha256": signBody(delivery.body, target.secret),
    "X-Shopify-Shop-Domain": target.shop,
    "X-Shopify-Webhook-Id": delivery.webhookId,
    "X-Shopify-Event-Id": delivery.eventId,
    "X-Shopify-Triggered-At": new Date(delivery.at).toISOString(),
    "X-Shopify-API-Version": target.apiVersion,
  };
}

/**
 * Topic -> URI path from a shopify.app.toml: each [[webhooks.subscriptions]] block's
 * `topics` / `compliance_topics` and `uri`. A small reader for this one table shape.
 */
export function parseWebhookPaths(toml: string): Map<string, string> {
  const paths = new Map<string, string>();
  const blocks = toml.split(/^\s*\[\[webhooks\.subscriptions\]\]\s*$/m).slice(1);
  for (const block of blocks) {
    const body = block.split(/^\s*\[/m)[0];
    const uri = /^\s*uri\s*=\s*"([^"]+)"/m.exec(body)?.[1];
    if (!uri) continue;
    for (const match of body.matchAll(/^\s*(?:compliance_)?topics\s*=\s*\[([^\]]*)\]/gm)) {
      for (const topic of match[1].matchAll(/"([^"]+)"/g)) paths.set(topic[1], uri);
    }
  }
  return paths;
}

/** The [webhooks] api_version of a shopify.app.toml. */
export function parseWebhookApiVersion(toml: string): string | undefined {
  const section = toml.split(/^\s*\[webhooks\]\s*$/m)[1];
  return section ? /^\s*api_version\s*=\s*"([^"]+)"/m.exec(section)?.[1] : undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends every delivery (in order, `concurrency` at a time) and reports what the server answered. */
export async function sendDeliveries(deliveries: readonly DemoDelivery[], target: WebhookTarget, options: SendOptions = {}): Promise<SendReport> {
  const concurrency = Math.max(1, options.concurrency ?? 16);
  const maxAttempts = Math.max(1, options.maxAttempts ?? 6);
  const started = Date.now();
  const report: SendReport = { accepted: 0, requests: 0, retries: 0, statuses: {}, failures: [], elapsedMs: 0 };
  for (const delivery of deliveries) {
    if (!target.paths.has(delivery.topic)) throw new Error(`no subscription URI for topic ${delivery.topic} in shopify.app.toml`);
  }
  let next = 0;
  let settled = 0;

  const sendOne = async (delivery: DemoDelivery): Promise<void> => {
    const url = new URL(target.paths.get(delivery.topic)!, target.baseUrl);
    const headers = deliveryHeaders(delivery, target);
    for (let attempt = 1; ; attempt++) {
      let status: number | null = null;
      let message = "";
      try {
        report.requests++;
        const response = await fetch(url, { method: "POST", headers, body: delivery.body });
        status = response.status;
        message = (await response.text()).slice(0, 200);
        report.statuses[status] = (report.statuses[status] ?? 0) + 1;
        if (response.ok) {
          report.accepted++;
          return;
        }
      } catch (error) {
        message = error instanceof Error ? `${error.message}${error.cause instanceof Error ? `: ${error.cause.message}` : ""}` : String(error);
        report.statuses.network = (report.statuses.network ?? 0) + 1;
      }
      const retriable = status === null || status >= 500 || status === 429;
      if (!retriable || attempt >= maxAttempts || options.signal?.aborted) {
        report.failures.push({ webhookId: delivery.webhookId, topic: delivery.topic, status, message });
        return;
      }
      report.retries++;
      await sleep(Math.min(5_000, 100 * 2 ** attempt));
    }
  };

  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < deliveries.length && !options.signal?.aborted) {
        const delivery = deliveries[next++];
        await sendOne(delivery);
        settled++;
        options.onProgress?.(settled, deliveries.length);
      }
    }),
  );
  report.elapsedMs = Date.now() - started;
  return report;
}
