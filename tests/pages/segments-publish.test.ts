import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { readShopifySegments } from "~/data/shopify-segments.server";
import { loadMetricsSettings, saveSettings } from "~/data/settings.server";
import { recordMetafieldDefinitionsCheck } from "~/data/shop-metafield-definitions.server";
import { ensureTenureMetafieldDefinitions } from "~/destinations/shopify/definitions.server";
import { AdminGraphql } from "~/integrations/shopify-admin.server";
import { PUBLISH_INTENT } from "~/pages/segments-publish";
import { requestAdminClient, submitSegmentPublish } from "~/pages/segments-publish.server";
import { loadSegmentsOverview } from "~/pages/segments.server";
import { unauthenticated } from "~/shopify.server";
import { installShop, testDb, testPool, uniqueShop } from "../support/db";
import { FakeShopify } from "../support/fake-shopify";

// The Segments page's "Publish to Shopify": the action through the Remix Admin API context's
// own `graphql` (the one requireShop hands the route) against the Shopify fake, and the
// page's published state and link in Shopify admin, on PostgreSQL.

let fake: FakeShopify;
beforeAll(async () => {
  fake = await new FakeShopify({ appId: "6262" }).start();
});
afterAll(() => fake.close());

async function shopReady(label: string, { definitions = true } = {}): Promise<string> {
  const shop = await installShop(uniqueShop(label));
  await fake.installSession(testDb(), shop, "read_orders,read_all_orders,read_customers,write_customers");
  if (definitions) {
    const outcome = await ensureTenureMetafieldDefinitions(new AdminGraphql({ db: testDb(), backoffMs: 10 }), shop);
    await recordMetafieldDefinitionsCheck(testPool(), { shop, namespace: outcome.namespace, complete: true, problem: null });
  }
  return shop;
}

/** The Admin API client the route builds from the request's context. */
async function routeAdmin(shop: string) {
  const { admin } = await unauthenticated.admin(shop);
  return requestAdminClient(admin.graphql);
}

function publishRequest(segmentKey: string, init: { method?: string; headers?: Record<string, string>; intent?: string } = {}) {
  const form = new FormData();
  form.set("intent", init.intent ?? PUBLISH_INTENT);
  form.set("segmentKey", segmentKey);
  const method = init.method ?? "POST";
  return new Request("https://tenure.test/app/segments", { method, headers: init.headers, body: method === "GET" ? undefined : form });
}

describe("Publish to Shopify on the Segments page", () => {
  it("publishes a segment, then shows it as published with its link in Shopify admin; another shop shows nothing", async () => {
    const shop = await shopReady("page-publish");
    const other = await shopReady("page-publish-other");

    const answer = await submitSegmentPublish({ db: testPool(), admin: await routeAdmin(shop) }, shop, publishRequest("champions"), null);

    expect(answer).toEqual({
      status: 200,
      result: { ok: true, segmentKey: "champions", message: `"Tenure: Champions" is now a customer segment in Shopify. Shopify Email, discounts and marketing apps can target it.` },
    });
    const [segment] = fake.shopData(shop).segments;
    const numericId = segment.id.split("/").at(-1);
    const overview = await loadSegmentsOverview(testPool(), shop);
    expect(overview.published).toEqual({
      champions: {
        name: "Tenure: Champions",
        adminUrl: `https://admin.shopify.com/store/${shop.replace(".myshopify.com", "")}/customers/segments/${numericId}`,
        updatedAtIso: expect.any(String),
        nameCurrent: true,
        lastError: null,
      },
    });
    expect((await loadSegmentsOverview(testPool(), other)).published).toEqual({});
  });

  it("shows a relabelled segment's name as out of date until it is published again", async () => {
    const shop = await shopReady("page-relabel");
    await submitSegmentPublish({ db: testPool(), admin: await routeAdmin(shop) }, shop, publishRequest("loyal"), null);
    const settings = await loadMetricsSettings(testPool(), shop);
    await saveSettings(testPool(), shop, { ...settings, segmentLabels: { loyal: "Regulars" } });

    expect((await loadSegmentsOverview(testPool(), shop)).published.loyal.nameCurrent).toBe(false);
    const answer = await submitSegmentPublish({ db: testPool(), admin: await routeAdmin(shop) }, shop, publishRequest("loyal"), null);

    expect(answer.result).toEqual({ ok: true, segmentKey: "loyal", message: `Updated "Tenure: Regulars" in Shopify.` });
    expect((await loadSegmentsOverview(testPool(), shop)).published.loyal).toMatchObject({ name: "Tenure: Regulars", nameCurrent: true });
    expect(fake.shopData(shop).segments.map((s) => s.name)).toEqual(["Tenure: Regulars"]);
  });

  it("answers the refusal before the metafield definitions exist, and stores nothing", async () => {
    const shop = await shopReady("page-no-defs", { definitions: false });
    const answer = await submitSegmentPublish({ db: testPool(), admin: await routeAdmin(shop) }, shop, publishRequest("champions"), null);

    expect(answer.status).toBe(422);
    expect(answer.result.message).toMatch(/metafields are not set up in your Shopify store yet/);
    expect(await readShopifySegments(testPool(), shop)).toEqual([]);
  });

  it("refuses other methods, other sites, unknown keys and demo mode without calling Shopify", async () => {
    const shop = await shopReady("page-refusals");
    const admin = await routeAdmin(shop);
    const submit = (request: Request, withAdmin = true) => submitSegmentPublish({ db: testPool(), admin: withAdmin ? admin : null }, shop, request, null);

    expect((await submit(publishRequest("champions", { method: "GET" }))).status).toBe(405);
    expect((await submit(publishRequest("champions", { headers: { "sec-fetch-site": "cross-site" } }))).status).toBe(403);
    expect((await submit(publishRequest("champions", { intent: "delete" }))).result.message).toBe("Unknown action.");
    expect((await submit(publishRequest("royalty"))).result).toEqual({ ok: false, segmentKey: null, message: 'There is no segment called "royalty".' });
    expect((await submit(publishRequest("champions"), false)).result.message).toMatch(/not available in demo mode/);
    expect(fake.requests.filter((r) => r.shop === shop && /segment(Create|Update)\(/.test(r.query))).toEqual([]);
  });
});

describe("the Segments route's action in demo mode", () => {
  const saved = { mode: process.env.TENURE_DEMO_MODE, shop: process.env.TENURE_DEMO_SHOP };
  let closePool: () => Promise<void>;
  afterAll(async () => {
    await closePool?.();
    process.env.TENURE_DEMO_MODE = saved.mode;
    if (saved.shop === undefined) delete process.env.TENURE_DEMO_SHOP;
    else process.env.TENURE_DEMO_SHOP = saved.shop;
    vi.resetModules();
  });

  it("answers that there is no Shopify store behind the demo shop", async () => {
    vi.resetModules();
    process.env.TENURE_DEMO_MODE = "true";
    process.env.TENURE_DEMO_SHOP = uniqueShop("page-demo");
    const route = await import("~/routes/app.segments._index");
    ({ closePgPool: closePool } = await import("~/db/pg.server"));

    const response = (await route.action({ request: publishRequest("champions"), params: {}, context: {} })) as Response;

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ ok: false, segmentKey: "champions", message: expect.stringMatching(/not available in demo mode/) });
  });
});
