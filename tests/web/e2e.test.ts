import { type ChildProcess } from "node:child_process";
import { installedShop, testDb, uniqueShop } from "../support/db";
import { closedPort } from "../support/ports";
import { type ProductionBuild, productionBuild } from "../support/production-server";
import { fixtureText } from "../support/webhook-fixtures";
import { isolatedIngestQueue } from "../support/queues";
import { uniqueWebhookId, webhookHeaders } from "../support/signed-webhooks";

// The real HTTP path, once: `remix vite:build` into a scratch folder, served by server.mjs
// (what `npm start` runs) on a free port, against this worker's PostgreSQL and Redis.

const queue = isolatedIngestQueue("e2e");
let build: ProductionBuild;
/** Each server's stdout so far (its access log), by base URL. */
const stdout = new Map<string, () => string>();

async function serve(environment: Record<string, string>): Promise<string> {
  const server = await build.serve(environment);
  stdout.set(server.baseUrl, server.stdout);
  return server.baseUrl;
}

const BODY_LIMIT = 64 * 1024;
let app = "";
let demo = "";
const demoShop = uniqueShop("demo");

beforeAll(async () => {
  build = await productionBuild("e2e");
  [app, demo] = await Promise.all([
    // A small body limit, so the over-limit body fits in the socket buffers and the client
    // reads the 413 instead of a reset.
    serve({ TENURE_DEMO_MODE: "false", WEBHOOK_MAX_BODY_BYTES: String(BODY_LIMIT) }),
    serve({ TENURE_DEMO_MODE: "true", TENURE_DEMO_SHOP: demoShop }),
  ]);
}, 180_000);

afterAll(() => build?.close());

function post(baseUrl: string, topic: string, shop: string, body: string, overrides: Parameters<typeof webhookHeaders>[0]["headers"] = {}) {
  const webhookId = uniqueWebhookId();
  return {
    webhookId,
    send: () =>
      fetch(`${baseUrl}/webhooks/${topic}`, {
        method: "POST",
        headers: webhookHeaders({ topic, shop, body, webhookId, headers: overrides }),
        body,
      }),
  };
}

describe("the built app served by server.mjs (npm start)", () => {
  it("stores a signed delivery before answering 200, queues its id, and takes a retry as a duplicate", async () => {
    const shop = await installedShop();
    const delivery = post(app, "orders/create", shop, fixtureText("orders-create"));
    expect((await delivery.send()).status).toBe(200);
    expect((await delivery.send()).status).toBe(200);

    const rows = await testDb().webhookDelivery.findMany({ where: { shop } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ webhookId: delivery.webhookId, topic: "orders/create", status: "PENDING" });
    expect((await queue.getJob(`delivery-${rows[0].id}`))?.data).toEqual({ deliveryId: String(rows[0].id) });
  });

  it("answers 401, 400, 405 and 413 over HTTP and stores nothing", async () => {
    const shop = await installedShop();
    const body = fixtureText("customers-update");
    const forged = post(app, "customers/update", shop, body, { "X-Shopify-Hmac-Sha256": "Zm9yZ2Vk" });
    expect((await forged.send()).status).toBe(401);
    const headless = post(app, "customers/update", shop, body, { "X-Shopify-Webhook-Id": null });
    expect((await headless.send()).status).toBe(400);
    expect((await fetch(`${app}/webhooks/customers/update`)).status).toBe(405);
    const huge = post(app, "customers/update", shop, "x".repeat(BODY_LIMIT + 1));
    expect((await huge.send()).status).toBe(413);
    expect(await testDb().webhookDelivery.count({ where: { shop } })).toBe(0);
  });

  it("sends /app to Shopify login without a session, and serves the landing page", async () => {
    const response = await fetch(`${app}/app`, { redirect: "manual", headers: { "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0" } });
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/auth/login");
    const landing = await fetch(`${app}/`);
    expect(landing.status).toBe(200);
    expect(await landing.text()).toContain('action="/auth/login"');
  });

  it("in demo mode, renders the demo shop's pages at localhost without Shopify", async () => {
    const response = await fetch(`${demo}/app?shop=someone-else.myshopify.com`, { redirect: "manual" });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain(`Demo mode: ${demoShop}`);
    expect(html).not.toContain("someone-else");
    expect(html).not.toContain("app-bridge.js");
  });

  it("logs requests without the session token or signatures in their query (issue 12, finding 7)", async () => {
    const secret = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2VjcmV0LXNpZ25hdHVyZQ";
    await fetch(`${app}/app?embedded=1&hmac=h4c&host=aG9zdA&id_token=${secret}&session=s3ss10n&shop=a.myshopify.com`, { redirect: "manual" });
    for (let attempt = 0; attempt < 50 && !stdout.get(app)!().includes("GET /app?embedded=1"); attempt++) await new Promise((resolve) => setTimeout(resolve, 100));
    const log = stdout.get(app)!();
    expect(log).toContain("GET /app?embedded=1&hmac=[redacted]&host=[redacted]&id_token=[redacted]&session=[redacted]&shop=a.myshopify.com");
    for (const value of [secret, "h4c", "aG9zdA", "s3ss10n"]) expect(log).not.toContain(value);
  });

  it("refuses to start in demo mode with NODE_ENV=production, before it listens (issue 12, finding 8)", async () => {
    const port = await closedPort();
    const child: ChildProcess = build.spawn({ NODE_ENV: "production", TENURE_DEMO_MODE: "true", PORT: String(port), SHOPIFY_APP_URL: `http://127.0.0.1:${port}` });
    let output = "";
    child.stdout!.on("data", (chunk) => (output += chunk));
    child.stderr!.on("data", (chunk) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => child.once("exit", (exitCode) => resolve(exitCode)));
    expect(code).toBe(1);
    expect(output).toContain("demo mode cannot be switched on when NODE_ENV=production");
    expect(output).not.toContain("http://localhost");
  });
});
