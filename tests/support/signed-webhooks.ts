import { createHmac } from "node:crypto";

// Webhook requests signed and headed the way Shopify sends them (X-Shopify-Hmac-Sha256 over
// the raw body). Nothing here stands in for Tenure code: requests go to the real routes.

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
