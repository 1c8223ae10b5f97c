import { createHmac, randomUUID } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { InvalidEnvironmentError, parseEnv } from "~/env.server";
import { testDb, uniqueShop } from "../support/db";

// Every /app route (found on disk, so a new page is covered the day it is added) either
// demands Shopify authentication or, in demo mode, serves the demo shop and nothing else.
// Loaders and actions are called directly, with the requests a browser or App Bridge sends.

const routesDir = fileURLToPath(new URL("../../app/routes/", import.meta.url));
const API_KEY = process.env.SHOPIFY_API_KEY ?? "";
const API_SECRET = process.env.SHOPIFY_API_SECRET ?? "";
const APP_URL = process.env.SHOPIFY_APP_URL ?? "";

interface AppRoute {
  file: string;
  path: string;
  module: {
    loader?: (args: { request: Request; params: object; context: object }) => Promise<unknown>;
    action?: (args: { request: Request; params: object; context: object }) => Promise<unknown>;
  };
}

/** app.tsx, app.*.tsx and app.*\/route.tsx, with the URL each serves ($params filled with 1). */
async function loadAppRoutes(): Promise<AppRoute[]> {
  const files = readdirSync(routesDir, { withFileTypes: true }).flatMap((entry) => {
    if (!/^app(\.|$)/.test(entry.name)) return [];
    if (entry.isFile() && /\.(tsx|ts|jsx|js)$/.test(entry.name)) return [entry.name];
    const index = ["route.tsx", "route.ts"].find((name) => existsSync(`${routesDir}${entry.name}/${name}`));
    return entry.isDirectory() && index ? [`${entry.name}/${index}`] : [];
  });
  return Promise.all(
    files.map(async (file) => {
      const segments = file.replace(/(\/route)?\.(tsx|ts|jsx|js)$/, "").split(".");
      const path = `/${segments
        .filter((segment) => segment !== "_index" && !segment.startsWith("_"))
        .map((segment) => (segment.startsWith("$") ? "1" : segment.replace(/^\((.*)\)$/, "$1")))
        .join("/")}`;
      const module = (await import(/* @vite-ignore */ `${routesDir}${file}`)) as AppRoute["module"];
      return { file, path, module };
    }),
  );
}

const base64url = (value: string | Buffer) => Buffer.from(value).toString("base64url");

/** A Shopify session token (HS256 JWT) as App Bridge sends it. */
function sessionToken(shop: string, options: { secret?: string; audience?: string; expiresIn?: number } = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = base64url(
    JSON.stringify({
      iss: `https://${shop}/admin`,
      dest: `https://${shop}`,
      aud: options.audience ?? API_KEY,
      sub: "42",
      exp: now + (options.expiresIn ?? 60),
      nbf: now - 5,
      iat: now - 5,
      jti: randomUUID(),
      sid: randomUUID(),
    }),
  );
  const signature = createHmac("sha256", options.secret ?? API_SECRET).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${signature}`;
}

const BROWSER =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

const adminHost = (shop: string) => base64url(`admin.shopify.com/store/${shop.replace(".myshopify.com", "")}`);

/** The unauthenticated ways to reach a page, and what Shopify's library must answer. */
function unauthenticatedRequests(path: string, shop: string, method: string): [string, Request, RegExp][] {
  const url = (query: Record<string, string>) => `${APP_URL}${path}?${new URLSearchParams(query)}`;
  const embedded = { shop, host: adminHost(shop), embedded: "1" };
  const init = (headers: Record<string, string> = {}): RequestInit => ({
    method,
    headers: { "User-Agent": BROWSER, ...headers },
    body: method === "GET" ? undefined : "intent=anything",
  });
  return [
    ["no shop at all", new Request(url({}), init()), /^302 \/auth\/login$/],
    ["a crawler", new Request(url(embedded), init({ "User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)" })), /^410$/],
    ["a shop, outside the admin", new Request(url({ shop, host: adminHost(shop) }), init()), /^302 https:\/\/admin\.shopify\.com\//],
    ["embedded without a session token", new Request(url(embedded), init()), /^302 \/auth\/session-token\?/],
    [
      "embedded with a forged id_token",
      new Request(url({ ...embedded, id_token: sessionToken(shop, { secret: "forged" }) }), init()),
      /^302 \/auth\/session-token\?/,
    ],
    ["a bearer token signed with another secret", new Request(url({}), init({ Authorization: `Bearer ${sessionToken(shop, { secret: "forged" })}` })), /^401$/],
    ["an expired bearer token", new Request(url({}), init({ Authorization: `Bearer ${sessionToken(shop, { expiresIn: -120 })}` })), /^401$/],
    ["a bearer token for another app", new Request(url({}), init({ Authorization: `Bearer ${sessionToken(shop, { audience: "other-app" })}` })), /^401$/],
  ];
}

/** Runs a loader or action; a thrown Response is the answer, anything else is data. */
async function outcome(run: () => Promise<unknown>): Promise<{ response: Response } | { data: unknown }> {
  try {
    const result = await run();
    return result instanceof Response ? { response: result } : { data: result };
  } catch (thrown) {
    if (thrown instanceof Response) return { response: thrown };
    throw thrown;
  }
}

const describeResponse = (response: Response) =>
  [response.status, response.headers.get("Location")].filter((part) => part !== null).join(" ");

async function storeOfflineSession(shop: string) {
  await testDb().session.create({
    data: { id: `offline_${shop}`, shop, state: "", isOnline: false, scope: process.env.SCOPES ?? null, accessToken: "shpat_test" },
  });
}

async function seedShop(shop: string, counts: { pending: number; failed: number; orders: number; customers: number }) {
  const db = testDb();
  const deliveries = [
    ...Array.from({ length: counts.pending }, () => "PENDING" as const),
    ...Array.from({ length: counts.failed }, () => "FAILED" as const),
  ];
  await db.webhookDelivery.createMany({
    data: deliveries.map((status, index) => ({ shop, webhookId: `seed-${index}`, topic: "orders/create", status })),
  });
  const at = new Date("2025-03-01T12:00:00Z");
  await db.customer.createMany({
    data: Array.from({ length: counts.customers }, (_, index) => ({ shop, id: BigInt(index + 1), shopifyUpdatedAt: at })),
  });
  await db.order.createMany({
    data: Array.from({ length: counts.orders }, (_, index) => ({
      shop,
      id: BigInt(index + 1),
      processedAt: at,
      shopifyCreatedAt: at,
      shopifyUpdatedAt: at,
      currency: "USD",
      currentTotalMinor: 1_000n,
      netMinor: 1_000n,
    })),
  });
}

async function loadRoutesWith(environment: Record<string, string>): Promise<AppRoute[]> {
  vi.resetModules();
  Object.assign(process.env, environment);
  return loadAppRoutes();
}

afterAll(() => {
  process.env.TENURE_DEMO_MODE = "false";
  delete process.env.TENURE_DEMO_SHOP;
  vi.resetModules();
});

describe("with demo mode off, every /app route demands Shopify authentication", () => {
  let routes: AppRoute[] = [];
  beforeAll(async () => {
    routes = await loadRoutesWith({ TENURE_DEMO_MODE: "false" });
  });

  it("finds the app's pages on disk", () => {
    expect(routes.map((route) => route.file)).toEqual(expect.arrayContaining(["app.tsx", "app._index.tsx"]));
    for (const route of routes) expect(route.module.loader ?? route.module.action, route.file).toBeTypeOf("function");
  });

  it("answers every unauthenticated request with a redirect (login, admin, bounce page), 401 or 410 (bots), never data", async () => {
    const shop = uniqueShop();
    for (const route of routes) {
      for (const [kind, handler] of [["GET", route.module.loader], ["POST", route.module.action]] as const) {
        if (!handler) continue;
        for (const [label, request, expected] of unauthenticatedRequests(route.path, shop, kind)) {
          const result = await outcome(() => handler({ request, params: { id: "1" }, context: {} }));
          const where = `${route.file} ${kind} ${route.path}: ${label}`;
          expect("data" in result ? `data ${JSON.stringify(result.data)}` : describeResponse(result.response), where).toMatch(expected);
        }
      }
    }
  });

  it("serves the session's own shop once Shopify has authenticated the request (control)", async () => {
    const shop = uniqueShop("signed-in");
    const other = uniqueShop("other");
    await storeOfflineSession(shop);
    await seedShop(shop, { pending: 1, failed: 0, orders: 2, customers: 1 });
    await seedShop(other, { pending: 4, failed: 4, orders: 9, customers: 9 });

    const headers = { Authorization: `Bearer ${sessionToken(shop)}` };
    const layout = routes.find((route) => route.file === "app.tsx")!;
    const overview = routes.find((route) => route.file === "app._index.tsx")!;
    const request = () => new Request(`${APP_URL}/app`, { headers });

    expect(await layout.module.loader!({ request: request(), params: {}, context: {} })).toEqual({
      apiKey: API_KEY,
      demo: false,
      shop,
      // The shop's own time zone, for every page's times (issue 13).
      timeZone: "UTC",
    });
    // The dashboard of the session's shop: not yet analysed (its own data tests: tests/pages/dashboard.test.ts).
    expect(await overview.module.loader!({ request: request(), params: {}, context: {} })).toMatchObject({
      shop,
      dashboard: { fit: { status: null }, kpis: null, latestTransitions: [] },
    });
  });
});

describe("with demo mode on, /app serves the demo shop and only it", () => {
  const demoShop = uniqueShop("demo");
  const other = uniqueShop("other");
  let routes: AppRoute[] = [];

  beforeAll(async () => {
    routes = await loadRoutesWith({ TENURE_DEMO_MODE: "true", TENURE_DEMO_SHOP: demoShop });
    await seedShop(demoShop, { pending: 2, failed: 1, orders: 3, customers: 2 });
    await seedShop(other, { pending: 5, failed: 5, orders: 7, customers: 6 });
    await storeOfflineSession(other);
  });

  it("ignores whatever shop the request names, even one with a valid session", async () => {
    const requests = [
      new Request(`${APP_URL}/app`),
      new Request(`${APP_URL}/app?${new URLSearchParams({ shop: other, host: adminHost(other), embedded: "1" })}`),
      new Request(`${APP_URL}/app`, { headers: { Authorization: `Bearer ${sessionToken(other)}` } }),
    ];
    for (const route of routes) {
      if (!route.module.loader) continue;
      for (const request of requests) {
        const result = await outcome(() => route.module.loader!({ request: request.clone(), params: { id: "1", key: "champions" }, context: {} }));
        if ("response" in result && !("default" in route.module)) {
          // A resource route (a CSV export) answers with a Response: the demo shop's answer, never a sign-in or another shop's.
          expect(result.response.status, route.file).not.toBeOneOf([301, 302, 401, 403]);
          expect(await result.response.text(), route.file).not.toContain(other);
          continue;
        }
        expect("data" in result, `${route.file} answers with data`).toBe(true);
        const text = JSON.stringify("data" in result ? result.data : null);
        expect(text, route.file).not.toContain(other);
        if (text.includes('"shop"')) expect(text, route.file).toContain(`"shop":"${demoShop}"`);
      }
    }
  });

  it("shows the demo shop's own figures", async () => {
    const layout = routes.find((route) => route.file === "app.tsx")!;
    const overview = routes.find((route) => route.file === "app._index.tsx")!;
    const request = new Request(`${APP_URL}/app?shop=${other}`);
    expect(await layout.module.loader!({ request, params: {}, context: {} })).toMatchObject({ demo: true, shop: demoShop });
    expect(await overview.module.loader!({ request, params: {}, context: {} })).toMatchObject({
      shop: demoShop,
      dashboard: { fit: { status: null }, kpis: null, currency: "USD" },
    });
  });

  it("cannot be switched on in production", () => {
    const production = {
      NODE_ENV: "production",
      DATABASE_URL: "postgresql://localhost/tenure",
      REDIS_URL: "redis://localhost:6379",
      SHOPIFY_API_KEY: "key",
      SHOPIFY_API_SECRET: "secret",
      SHOPIFY_APP_URL: "https://tenure.example",
      // Required in production (destination keys are sealed with it).
      TENURE_ENCRYPTION_KEY: "a".repeat(64),
    };
    expect(() => parseEnv({ ...production, TENURE_DEMO_MODE: "true" })).toThrow(InvalidEnvironmentError);
    expect(() => parseEnv({ ...production, TENURE_DEMO_MODE: "true" })).toThrow(/TENURE_DEMO_MODE/);
    expect(parseEnv({ ...production, TENURE_DEMO_MODE: "false" }).TENURE_DEMO_MODE).toBe(false);
  });
});
