import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { readShopifySegments } from "~/data/shopify-segments.server";
import { adminClientAt } from "~/demo-mode.server";
import { ensureTenureMetafieldDefinitions } from "~/destinations/shopify/definitions.server";
import { TENURE_METAFIELD_DEFINITIONS } from "~/destinations/shopify/metafields";
import { SEGMENT_CREATE, type SegmentPayload } from "~/destinations/shopify/segments.server";
import { InvalidEnvironmentError, parseEnv } from "~/env.server";
import { silentLogger } from "~/lib/log.server";
import { PUBLISH_INTENT } from "~/pages/segments-publish";
import { API_VERSION } from "~/shopify.server";
import { makeSureOfMetafieldDefinitions } from "~/worker/registry.server";
import { type FakeShopifyAdmin, startFakeShopifyAdmin } from "../../demo/fakes/shopify";
import { installShop, testPool, uniqueShop } from "../support/db";

// The demo's fake Shopify Admin API (demo/fakes/shopify.ts) and how demo mode reaches it:
// the fake's own promises over plain HTTP (Shopify's shapes, refusals and cost bucket), the
// client demo mode builds from SHOPIFY_ADMIN_API_URL (adminClientAt), the variable's
// validation, and the Segments route's action publishing to the fake in demo mode.

const SHOP = "tenure-demo.myshopify.com";
let fake: FakeShopifyAdmin;
beforeEach(async () => {
  fake = await startFakeShopifyAdmin({ appId: "4242" });
});
afterEach(async () => fake.close());

const endpoint = () => `${fake.url}/admin/api/${API_VERSION}/graphql.json`;
const post = (body: string, headers: Record<string, string> = { "x-shopify-access-token": "shpat_any" }) =>
  fetch(endpoint(), { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

describe("the demo's fake Shopify Admin API", () => {
  it("takes Tenure's metafield definitions as Shopify does, under app--<id>, and a second pass changes nothing", async () => {
    const admin = adminClientAt(fake.url, SHOP);
    const first = await ensureTenureMetafieldDefinitions(admin, SHOP);
    expect(first.namespace).toBe("app--4242");
    expect(first.created).toHaveLength(TENURE_METAFIELD_DEFINITIONS.length);
    expect(fake.data.definitions.map((definition) => `${definition.namespace}.${definition.key}`).sort()).toEqual(
      TENURE_METAFIELD_DEFINITIONS.map((definition) => `app--4242.${definition.key}`).sort(),
    );
    const second = await ensureTenureMetafieldDefinitions(admin, SHOP);
    expect(second).toMatchObject({ namespace: "app--4242", created: [], updated: [] });
  });

  it("checks segment queries against the grammar and the definitions, and names taken, in Shopify's words; a refused segment is not stored", async () => {
    const admin = adminClientAt(fake.url, SHOP);
    await ensureTenureMetafieldDefinitions(admin, SHOP);
    const create = async (name: string, query: string) => (await admin.request<{ segmentCreate: SegmentPayload }>(SHOP, SEGMENT_CREATE, { name, query })).segmentCreate;

    const created = await create("Tenure: Champions", "metafields.app--4242.rfm_segment = 'champions'");
    expect(created).toEqual({ segment: expect.objectContaining({ id: expect.stringMatching(/^gid:\/\/shopify\/Segment\/\d+$/), name: "Tenure: Champions" }), userErrors: [] });

    expect(await create("Other", "metafields.app--9999.rfm_segment = 'champions'")).toEqual({
      segment: null,
      userErrors: [{ field: ["query"], message: "Query Line 1 Column 1: 'metafields.app--9999.rfm_segment' filter cannot be found." }],
    });
    expect((await create("Other", "metafields.app--4242.rfm_segment CONTAINS 'champions'")).userErrors).toEqual([
      { field: ["query"], message: "Query Line 1 Column 34: 'CONTAINS' is unexpected." },
    ]);
    expect((await create("Tenure: Champions", "metafields.app--4242.behaviours CONTAINS 'vip'")).userErrors).toEqual([
      { field: ["name"], message: "Name has already been taken" },
    ]);
    expect(fake.data.segments.map((segment) => segment.name)).toEqual(["Tenure: Champions"]);
  });

  it("answers with cost extensions, and THROTTLED (actualQueryCost null) when the bucket is empty", async () => {
    await fake.close();
    fake = await startFakeShopifyAdmin({ bucket: { maximumAvailable: 20, restoreRate: 1, queryCost: 10 } });
    const list = JSON.stringify({ query: "query { metafieldDefinitions(first: 50, ownerType: CUSTOMER) { nodes { id } } }" });
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push((await (await post(list)).json()) as { data?: unknown; errors?: unknown; extensions: { cost: Record<string, unknown> } });
    // Requested: computed from the query (2 + 50 × 1, demo/fakes/shopify-cost.ts); taken from the bucket: the flat queryCost.
    expect(answers[0]).toMatchObject({ data: { metafieldDefinitions: { nodes: [] } }, extensions: { cost: { requestedQueryCost: 52, actualQueryCost: 10 } } });
    expect(answers[0].extensions.cost.throttleStatus).toEqual({ maximumAvailable: 20, currentlyAvailable: 10, restoreRate: 1 });
    expect(answers[2]).toEqual({
      errors: [expect.objectContaining({ message: "Throttled", extensions: expect.objectContaining({ code: "THROTTLED" }) })],
      extensions: { cost: expect.objectContaining({ requestedQueryCost: 52, actualQueryCost: null }) },
    });
    expect(fake.requests.map((request) => request.throttled)).toEqual([false, false, true]);
  });

  it("refuses a missing token (401), another path (404), a body that is not a query (400), a query it does not answer, and a body over 1 MB (413)", async () => {
    const valid = JSON.stringify({ query: "query { metafieldDefinitions(first: 1) { nodes { id } } }" });
    expect((await post(valid, {})).status).toBe(401);
    expect((await fetch(`${fake.url}/admin/oauth/access_token`, { method: "POST" })).status).toBe(404);
    expect((await fetch(endpoint(), { headers: { "x-shopify-access-token": "shpat_any" } })).status).toBe(404);
    const broken = await post("{not json");
    expect(broken.status).toBe(400);
    expect(await broken.json()).toEqual({ errors: { query: "Required parameter missing or invalid" } });
    expect((await post(JSON.stringify({ variables: {} }))).status).toBe(400);
    const unknown = await post(JSON.stringify({ query: "mutation { customerDelete(input: {id: 1}) { deletedCustomerId } }" }));
    expect(unknown.status).toBe(200);
    expect(await unknown.json()).toMatchObject({ errors: [{ message: expect.stringMatching(/does not answer this query: mutation \{ customerDelete/) }] });
    expect((await post(JSON.stringify({ query: `query { x } #${"x".repeat(1024 * 1024)}` }))).status).toBe(413);
    // Only the requests that reached the GraphQL layer are recorded; nothing was stored.
    expect(fake.requests.map((request) => request.query.slice(0, 20))).toEqual(["mutation { customerD"]);
    expect(fake.data).toMatchObject({ definitions: [], segments: [] });
  });
});

describe("demo mode's Admin API client (adminClientAt)", () => {
  it("stands in for its one shop only, and turns a refusal or an answer without data into an error saying what Shopify said", async () => {
    const admin = adminClientAt(`${fake.url}/`, SHOP);
    await expect(admin.request("other.myshopify.com", "query { shop { id } }")).rejects.toThrow(/stands in for tenure-demo\.myshopify\.com only, not other\.myshopify\.com/);
    await expect(admin.request(SHOP, "query { shop { id } }")).rejects.toThrow(/Shopify answered without data: .*does not answer this query/);
    await expect(adminClientAt(`${fake.url}/elsewhere`, SHOP).request(SHOP, "query { shop { id } }")).rejects.toThrow(/Shopify answered 404: \{"errors":"Not Found"\}/);
    expect(fake.requests).toHaveLength(1);
  });
});

describe("SHOPIFY_ADMIN_API_URL", () => {
  const base = {
    NODE_ENV: "development",
    DATABASE_URL: "postgresql://localhost/tenure",
    REDIS_URL: "redis://localhost:6379",
    SHOPIFY_API_KEY: "key",
    SHOPIFY_API_SECRET: "secret",
    SHOPIFY_APP_URL: "https://tenure.example",
  };

  it("is accepted in demo mode only, as an http(s) URL", () => {
    expect(parseEnv({ ...base, TENURE_DEMO_MODE: "true", SHOPIFY_ADMIN_API_URL: "http://127.0.0.1:4321" }).SHOPIFY_ADMIN_API_URL).toBe("http://127.0.0.1:4321");
    expect(parseEnv({ ...base, TENURE_DEMO_MODE: "true" }).SHOPIFY_ADMIN_API_URL).toBeUndefined();
    expect(() => parseEnv({ ...base, SHOPIFY_ADMIN_API_URL: "http://127.0.0.1:4321" })).toThrow(InvalidEnvironmentError);
    expect(() => parseEnv({ ...base, SHOPIFY_ADMIN_API_URL: "http://127.0.0.1:4321" })).toThrow(/SHOPIFY_ADMIN_API_URL is for demo mode only \(TENURE_DEMO_MODE=true\)/);
    expect(() => parseEnv({ ...base, TENURE_DEMO_MODE: "true", SHOPIFY_ADMIN_API_URL: "ftp://127.0.0.1" })).toThrow(/SHOPIFY_ADMIN_API_URL must be an http\(s\) URL/);
    // Demo mode, and so the variable, is refused in production.
    expect(() => parseEnv({ ...base, NODE_ENV: "production", TENURE_ENCRYPTION_KEY: "a".repeat(64), SHOPIFY_ADMIN_API_URL: "https://x.test" })).toThrow(/SHOPIFY_ADMIN_API_URL is for demo mode only/);
  });
});

describe("the Segments route's action in demo mode, with the demo's fake Shopify behind it", () => {
  const saved = { mode: process.env.TENURE_DEMO_MODE, shop: process.env.TENURE_DEMO_SHOP, url: process.env.SHOPIFY_ADMIN_API_URL };
  let closePool: (() => Promise<void>) | undefined;
  afterAll(async () => {
    await closePool?.();
    for (const [name, value] of [["TENURE_DEMO_MODE", saved.mode], ["TENURE_DEMO_SHOP", saved.shop], ["SHOPIFY_ADMIN_API_URL", saved.url]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    vi.resetModules();
  });

  it("publishes the segment to the fake once the definitions are made, as the demo and the browser tests make them", async () => {
    const shop = await installShop(uniqueShop("demo-publish"));
    vi.resetModules();
    process.env.TENURE_DEMO_MODE = "true";
    process.env.TENURE_DEMO_SHOP = shop;
    process.env.SHOPIFY_ADMIN_API_URL = fake.url;
    const route = await import("~/routes/app.segments._index");
    ({ closePgPool: closePool } = await import("~/db/pg.server"));
    const publish = async () => {
      const form = new FormData();
      form.set("intent", PUBLISH_INTENT);
      form.set("segmentKey", "champions");
      const response = (await route.action({ request: new Request("https://tenure.test/app/segments", { method: "POST", body: form }), params: {}, context: {} })) as Response;
      return { status: response.status, body: (await response.json()) as { ok: boolean; message: string } };
    };

    // Before the definitions: refused in words, nothing sent.
    expect(await publish()).toMatchObject({ status: 422, body: { ok: false, message: expect.stringMatching(/metafields are not set up/) } });
    expect(fake.requestsFor("segmentCreate(")).toEqual([]);

    expect(await makeSureOfMetafieldDefinitions({ admin: adminClientAt(fake.url, shop), pool: testPool(), logger: silentLogger }, shop)).toEqual({ complete: true });
    expect(await publish()).toEqual({ status: 200, body: expect.objectContaining({ ok: true, message: expect.stringMatching(/^"Tenure: Champions" is now a customer segment in Shopify/) }) });
    expect(fake.requestsFor("segmentCreate(").map((request) => request.variables)).toEqual([{ name: "Tenure: Champions", query: "metafields.app--4242.rfm_segment = 'champions'" }]);
    expect(await readShopifySegments(testPool(), shop)).toEqual([expect.objectContaining({ segmentKey: "champions", shopifySegmentId: fake.data.segments[0].id })]);
  });
});
