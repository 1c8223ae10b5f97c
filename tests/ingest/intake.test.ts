import { ApiVersion, LogSeverity, shopifyApi } from "@shopify/shopify-api";
import "@shopify/shopify-api/adapters/web-api";
import fc from "fast-check";
import pg from "pg";
import { closeProducerQueues } from "~/queues/connections.server";
import { installedShop, testDb, testPool, uniqueShop } from "../support/db";
import { closedPort } from "../support/ports";
import { fixtureJson, fixtureText, fixtureTextFor } from "../support/webhook-fixtures";
import { isolatedIngestQueue, queuedDeliveryIds } from "../support/queues";
import { shopifyHmac, uniqueWebhookId, webhookHeaders, webhookRequest, type WebhookRequestInit } from "../support/signed-webhooks";
import { closeIntakePool, hasValidHmac, receiveWebhook } from "../../app/ingest/intake.server";
import { ShopAdmissionCache } from "../../app/ingest/shop-admission.server";

// The intake through the real route actions, on this worker's PostgreSQL and the shared
// Redis (a prefix of its own). Requests are signed exactly as Shopify signs them.

const queue = isolatedIngestQueue("intake");

afterAll(async () => {
  await closeIntakePool();
  await closeProducerQueues();
});

/** Sends a request to the webhook route, as Remix does for /webhooks/<topic>. */
async function deliver(init: WebhookRequestInit | Request): Promise<Response> {
  const request = init instanceof Request ? init : webhookRequest(init);
  const splat = new URL(request.url).pathname.replace(/^\/webhooks\//, "");
  const route = await import("../../app/routes/webhooks.$");
  return route.action({ request, params: { "*": splat }, context: {} });
}

async function rowsFor(shop: string) {
  return testDb().webhookDelivery.findMany({ where: { shop }, orderBy: { id: "asc" } });
}

describe("a valid delivery", () => {
  it("is stored with its headers and payload before 200, and only its id is queued", async () => {
    const shop = await installedShop();
    const body = fixtureText("orders-create");
    const response = await deliver({
      topic: "orders/create",
      shop,
      body,
      webhookId: "b7c1e0f2-0001",
      eventId: "e-98765",
      triggeredAt: "2025-03-14T18:21:07.123041743Z", // Shopify sends nanoseconds
      apiVersion: "2026-10",
    });

    expect(response.status).toBe(200);
    const [row] = await rowsFor(shop);
    expect(row).toMatchObject({
      shop,
      webhookId: "b7c1e0f2-0001",
      eventId: "e-98765",
      topic: "orders/create",
      apiVersion: "2026-10",
      triggeredAt: new Date("2025-03-14T18:21:07.123Z"),
      status: "PENDING",
      error: null,
      rawBody: null,
    });
    expect(row.payload).toEqual(JSON.parse(body));
    const job = await queue.getJob(`delivery-${row.id}`);
    expect(job?.data).toEqual({ deliveryId: String(row.id) });
  });

  it("accepts every topic's real payload shape (fixtures) as PENDING", async () => {
    const cases: [string, string][] = [
      ["orders/create", "orders-create"],
      ["orders/create", "orders-create-guest"],
      ["orders/create", "orders-create-test"],
      ["orders/updated", "orders-updated-refunded"],
      ["orders/cancelled", "orders-cancelled"],
      ["orders/delete", "orders-delete"],
      ["refunds/create", "refunds-create"],
      ["refunds/create", "refunds-create-shipping-discrepancy"],
      ["customers/create", "customers-create"],
      ["customers/update", "customers-update"],
      ["customers/delete", "customers-delete"],
      ["customers_email_marketing_consent/update", "customers-email-marketing-consent-update"],
      ["customers_marketing_consent/update", "customers-marketing-consent-update"],
      ["products/update", "products-update"],
      ["inventory_items/update", "inventory-items-update"],
      ["customers/data_request", "customers-data-request"],
      ["customers/redact", "customers-redact"],
      ["shop/redact", "shop-redact"],
      ["app/uninstalled", "app-uninstalled"],
      ["app/scopes_update", "app-scopes-update"],
      ["bulk_operations/finish", "bulk-operations-finish"],
    ];
    const shop = await installedShop();
    for (const [topic, name] of cases) {
      expect((await deliver({ topic, shop, body: fixtureTextFor(name, shop) })).status, `${topic} ${name}`).toBe(200);
    }
    const rows = await rowsFor(shop);
    expect(rows.map((row) => [row.topic, row.status, row.error])).toEqual(
      cases.map(([topic]) => [topic, "PENDING", null]),
    );
    const queued = await queuedDeliveryIds(queue);
    for (const row of rows) expect(queued).toContain(String(row.id));
  });

  it("takes a body as large as the largest real orders (1,000 line items)", async () => {
    const order = fixtureJson("orders-create");
    const [lineItem] = order.line_items as Record<string, unknown>[];
    order.line_items = Array.from({ length: 1_000 }, (_, index) => ({ ...lineItem, id: 90_000_000 + index }));
    const body = JSON.stringify(order);
    expect(Buffer.byteLength(body)).toBeGreaterThan(1_000_000);

    const shop = await installedShop();
    expect((await deliver({ topic: "orders/create", shop, body })).status).toBe(200);
    expect((await rowsFor(shop)).map((row) => row.status)).toEqual(["PENDING"]);
  });
});

describe("rejections store nothing", () => {
  const body = fixtureText("customers-update");
  let installed = "";
  beforeAll(async () => {
    installed = await installedShop();
  });
  // Nothing is stored by any of these, so they share one installed shop.
  const base = (): WebhookRequestInit => ({ topic: "customers/update", shop: installed, body });
  const maxBytes = 5 * 1024 * 1024; // WEBHOOK_MAX_BODY_BYTES default

  const table: [string, number, () => WebhookRequestInit | Request][] = [
    ["bad HMAC (signed with another secret)", 401, () => ({ ...base(), hmac: shopifyHmac(body, "not-the-secret") })],
    ["bad HMAC (body changed after signing)", 401, () => ({ ...base(), hmac: shopifyHmac(`${body} `) })],
    ["bad HMAC (not base64)", 401, () => ({ ...base(), hmac: "%%%not-a-signature%%%" })],
    ["missing X-Shopify-Hmac-Sha256", 400, () => ({ ...base(), headers: { "X-Shopify-Hmac-Sha256": null } })],
    ["missing X-Shopify-Topic", 400, () => ({ ...base(), headers: { "X-Shopify-Topic": null } })],
    ["missing X-Shopify-Shop-Domain", 400, () => ({ ...base(), headers: { "X-Shopify-Shop-Domain": null } })],
    ["missing X-Shopify-API-Version", 400, () => ({ ...base(), headers: { "X-Shopify-API-Version": null } })],
    ["missing X-Shopify-Webhook-Id", 400, () => ({ ...base(), headers: { "X-Shopify-Webhook-Id": null } })],
    ["a shop domain that is not *.myshopify.com", 400, () => ({ ...base(), shop: "evil.example.com" })],
    ["an empty body", 400, () => ({ ...base(), body: "" })],
    ["a malformed Content-Length", 400, () => ({ ...base(), headers: { "Content-Length": "12abc" } })],
    ["GET", 405, () => ({ ...base(), method: "GET" })],
    ["PUT", 405, () => ({ ...base(), method: "PUT" })],
    ["DELETE", 405, () => ({ ...base(), method: "DELETE" })],
    ["Content-Length over the limit (not read)", 413, () => ({ ...base(), headers: { "Content-Length": String(maxBytes + 1) } })],
    [
      "a body over the limit that declares a small Content-Length",
      413,
      () => {
        const big = "x".repeat(maxBytes + 1);
        return { ...base(), body: big, headers: { "Content-Length": "10" } };
      },
    ],
    [
      "a chunked body over the limit (no Content-Length)",
      413,
      () => {
        const init = base();
        const chunk = new Uint8Array(1024 * 1024).fill(0x20);
        let sent = 0;
        const stream = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent > maxBytes) return controller.close();
            sent += chunk.byteLength;
            controller.enqueue(chunk);
          },
        });
        return new Request(`https://tenure.test/webhooks/${init.topic}`, {
          method: "POST",
          headers: webhookHeaders(init),
          body: stream,
          duplex: "half",
        } as RequestInit);
      },
    ],
  ];

  it.each(table)("%s → %i", async (_label, status, build) => {
    const init = build();
    const request = init instanceof Request ? init : webhookRequest(init);
    const shop = request.headers.get("X-Shopify-Shop-Domain");
    const response = await deliver(request);
    expect(response.status).toBe(status);
    if (status === 405) expect(response.headers.get("Allow")).toBe("POST");
    if (shop) expect(await rowsFor(shop)).toEqual([]);
  });

  it("GET on a webhook route answers 405 through the route's loader too", async () => {
    const route = await import("../../app/routes/webhooks.$");
    const request = webhookRequest({ topic: "orders/create", shop: uniqueShop(), body: "{}", method: "GET" });
    const response = await route.loader({ request, params: { "*": "orders/create" }, context: {} });
    expect(response.status).toBe(405);
  });

  it("a path no subscription uses is 404 and stores nothing", async () => {
    const route = await import("../../app/routes/webhooks.$");
    const shop = await installedShop();
    const request = webhookRequest({ topic: "orders/paid", shop, body: "{}" });
    const response = await route.action({ request, params: { "*": "orders/paid" }, context: {} });
    expect(response.status).toBe(404);
    expect(await rowsFor(shop)).toEqual([]);
  });
});

describe("duplicates", () => {
  it.each([
    ["orders/updated", "orders-updated-refunded"],
    // Product costs (issue 17).
    ["products/update", "products-update"],
    ["inventory_items/update", "inventory-items-update"],
  ])("the same delivery twice, one after the other: one row, one job (%s)", async (topic, name) => {
    const shop = await installedShop();
    const init = { topic, shop, body: fixtureText(name), webhookId: uniqueWebhookId() };
    expect((await deliver(init)).status).toBe(200);
    expect((await deliver(init)).status).toBe(200);

    const rows = await rowsFor(shop);
    expect(rows).toHaveLength(1);
    const queued = await queuedDeliveryIds(queue);
    expect(queued.filter((id) => id === String(rows[0].id))).toHaveLength(1);
    const jobs = await queue.getJobs(["waiting", "delayed", "active", "completed", "failed"]);
    expect(jobs.filter((job) => job.data.deliveryId === String(rows[0].id))).toHaveLength(1);
  });

  it("the same delivery 12 times at once: one row, one job, all answered 200", async () => {
    const shop = await installedShop();
    const init = { topic: "orders/create", shop, body: fixtureText("orders-create"), webhookId: uniqueWebhookId() };
    const responses = await Promise.all(Array.from({ length: 12 }, () => deliver(init)));
    expect(responses.map((response) => response.status)).toEqual(Array(12).fill(200));

    const rows = await rowsFor(shop);
    expect(rows).toHaveLength(1);
    const jobs = await queue.getJobs(["waiting", "delayed", "active", "completed", "failed"]);
    expect(jobs.filter((job) => job.data.deliveryId === String(rows[0].id))).toHaveLength(1);
  });

  it("the same webhook id for two shops is two deliveries", async () => {
    const webhookId = uniqueWebhookId();
    const [a, b] = [await installedShop("a"), await installedShop("b")];
    for (const shop of [a, b]) {
      expect((await deliver({ topic: "customers/create", shop, body: fixtureText("customers-create"), webhookId })).status).toBe(200);
    }
    expect(await rowsFor(a)).toHaveLength(1);
    expect(await rowsFor(b)).toHaveLength(1);
  });
});

describe("bodies that are signed but unusable", () => {
  async function deliverOnce(topic: string, body: string) {
    const shop = await installedShop();
    const response = await deliver({ topic, shop, body });
    const rows = await rowsFor(shop);
    expect(rows).toHaveLength(1);
    const queued = await queuedDeliveryIds(queue);
    expect(queued).not.toContain(String(rows[0].id));
    return { response, row: rows[0] };
  }

  it("not JSON: stored FAILED with the reason and the raw body, answered 200, never queued", async () => {
    const { response, row } = await deliverOnce("orders/create", '{"id": 123, "updated_at": ');
    expect(response.status).toBe(200);
    expect(row).toMatchObject({ status: "FAILED", payload: null, rawBody: '{"id": 123, "updated_at": ' });
    expect(row.error).toMatch(/^body is not valid JSON/);
  });

  const wrongShapes: [string, unknown, RegExp][] = [
    ["orders/create", { ...fixtureJson("orders-create"), updated_at: undefined }, /orders\/create shape: updated_at/],
    ["orders/updated", { ...fixtureJson("orders-create"), id: "gid://shopify/Order/1" }, /id: /],
    ["orders/delete", {}, /orders\/delete shape: id/],
    ["refunds/create", { ...fixtureJson("refunds-create"), order_id: null }, /order_id/],
    ["customers/update", { ...fixtureJson("customers-update"), updated_at: "yesterday" }, /updated_at/],
    ["customers_email_marketing_consent/update", { email_address: "a@example.com", email_marketing_consent: null }, /customer_id/],
    ["customers_marketing_consent/update", { customer_id: 1, sms_marketing_consent: null }, /marketing_consent\/update shape: id/],
    ["customers/redact", { customer: { id: 1 }, orders_to_redact: [] }, /shop_domain/],
    ["customers/data_request", { shop_domain: "x.myshopify.com", customer: { id: 1 } }, /orders_requested/],
    ["shop/redact", { shop_id: 1 }, /shop_domain/],
    ["app/scopes_update", { previous: [] }, /current/],
    ["bulk_operations/finish", { status: "completed" }, /admin_graphql_api_id/],
    ["orders/create", [1, 2, 3], /\(body\)/],
  ];

  it.each(wrongShapes)("%s of the wrong shape: FAILED (%#), 200, never queued", async (topic, payload, reason) => {
    const body = JSON.stringify(payload);
    const { response, row } = await deliverOnce(topic, body);
    expect(response.status).toBe(200);
    expect(row.status).toBe("FAILED");
    expect(row.payload).toEqual(JSON.parse(body));
    expect(row.error).toMatch(reason);
  });

  // Shopify's HMAC covers the body only (issue 12, finding 3): a signed body must not be
  // replayed under another topic than its address's.
  it.each([
    ["orders/delete", "an order body as a deletion"],
    ["customers/update", "an order body as a customer profile"],
    ["collections/update", "a topic Tenure has no subscription for"],
  ])("a signed body sent with X-Shopify-Topic %s to /webhooks/orders/create (%s): 400, nothing stored", async (topicHeader) => {
    const shop = await installedShop();
    const request = webhookRequest({ topic: "orders/create", shop, body: fixtureText("orders-create"), headers: { "X-Shopify-Topic": topicHeader } });
    const response = await deliver(request);
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/does not match the webhook address/);
    expect(await rowsFor(shop)).toEqual([]);
  });

  it("accepts the topic header in the library's enum form (ORDERS_CREATE) at its own address", async () => {
    const shop = await installedShop();
    const request = webhookRequest({ topic: "orders/create", shop, body: fixtureText("orders-create"), headers: { "X-Shopify-Topic": "ORDERS_CREATE" } });
    expect((await deliver(request)).status).toBe(200);
    expect(await rowsFor(shop)).toMatchObject([{ topic: "orders/create", status: "PENDING" }]);
  });

  it("JSON nested past PostgreSQL's stack depth (SQLSTATE 54001): stored FAILED as text, 200, not 503 forever", async () => {
    const body = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    const { response, row } = await deliverOnce("orders/create", body);
    expect(response.status).toBe(200);
    expect(row).toMatchObject({ status: "FAILED", payload: null, rawBody: body });
    expect(row.error).toMatch(/SQLSTATE 54001/);
  });

  it("JSON PostgreSQL cannot hold (a \\u0000 escape): stored FAILED as text, 200", async () => {
    const body = JSON.stringify({ ...fixtureJson("customers-update"), note: "nul:\u0000" });
    expect(body).toContain("\\u0000");
    const { response, row } = await deliverOnce("customers/update", body);
    expect(response.status).toBe(200);
    expect(row).toMatchObject({ status: "FAILED", payload: null, rawBody: body });
    expect(row.error).toMatch(/SQLSTATE 22P05/);
  });
});

describe("when the delivery cannot be stored", () => {
  it("answers 5xx so Shopify retries, and queues nothing", async () => {
    const port = await closedPort();
    const refusing = new pg.Pool({ connectionString: `postgresql://postgres@127.0.0.1:${port}/nowhere`, connectionTimeoutMillis: 2_000 });
    const shop = await installedShop();
    // The shop's admission already known (cached), so the INSERT is what fails.
    const admissionCache = new ShopAdmissionCache();
    await admissionCache.admission(testPool(), shop);
    const before = await queuedDeliveryIds(queue);
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const response = await receiveWebhook(
        webhookRequest({ topic: "orders/create", shop, body: fixtureText("orders-create") }),
        { pool: refusing, admissionCache },
      );
      expect(response.status).toBe(503);
      expect(response.headers.get("Retry-After")).toBe("5");
      expect(errors).toHaveBeenCalledWith(expect.stringMatching(/could not store orders\/create delivery/));
    } finally {
      errors.mockRestore();
      await refusing.end();
    }
    expect(await rowsFor(shop)).toEqual([]);
    expect(await queuedDeliveryIds(queue)).toEqual(before);
  });
});

describe("when Redis is down", () => {
  it("still answers 200 once the row is stored, and the row stays PENDING for the sweeper", async () => {
    const redisUrl = process.env.REDIS_URL;
    await closeProducerQueues();
    process.env.REDIS_URL = `redis://127.0.0.1:${await closedPort()}`;
    const shop = await installedShop();
    try {
      const response = await deliver({ topic: "orders/create", shop, body: fixtureText("orders-create") });
      expect(response.status).toBe(200);
    } finally {
      await closeProducerQueues();
      process.env.REDIS_URL = redisUrl;
    }
    const rows = await rowsFor(shop);
    expect(rows.map((row) => row.status)).toEqual(["PENDING"]);
    expect(await queue.getJob(`delivery-${rows[0].id}`)).toBeUndefined();
  });
});

describe("HMAC verification agrees with Shopify's library", () => {
  const secret = process.env.SHOPIFY_API_SECRET ?? "";
  const shopify = shopifyApi({
    apiKey: "test-api-key",
    apiSecretKey: secret,
    apiVersion: ApiVersion.October26,
    hostName: "tenure.test",
    isEmbeddedApp: true,
    logger: { level: LogSeverity.Error },
  });

  async function libraryVerdict(body: string, signature: string): Promise<boolean> {
    const request = webhookRequest({ topic: "orders/create", shop: "a.myshopify.com", body, hmac: signature });
    const result = await shopify.webhooks.validate({ rawBody: body, rawRequest: request });
    return result.valid;
  }

  it("on correct, foreign and tampered signatures of arbitrary UTF-8 bodies", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: "binary", minLength: 1, maxLength: 300 }),
        fc.constantFrom("correct", "other-secret", "flipped", "truncated", "padded", "garbage"),
        async (body, kind) => {
          const correct = shopifyHmac(body, secret);
          const signature = {
            correct,
            "other-secret": shopifyHmac(body, `${secret}x`),
            flipped: (correct[0] === "A" ? "B" : "A") + correct.slice(1),
            truncated: correct.slice(0, -2),
            padded: `${correct}==`,
            garbage: "definitely not base64!",
          }[kind];
          const ours = hasValidHmac(Buffer.from(body, "utf8"), signature, secret);
          expect(ours).toBe(await libraryVerdict(body, signature));
          expect(ours).toBe(kind === "correct");
        },
      ),
      { numRuns: 200 },
    );
  });
});
