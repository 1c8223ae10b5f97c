import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMetricsSettings, saveSettings } from "~/data/settings.server";
import { readShopifySegment, readShopifySegments } from "~/data/shopify-segments.server";
import { recordMetafieldDefinitionsCheck } from "~/data/shop-metafield-definitions.server";
import { ensureTenureMetafieldDefinitions } from "~/destinations/shopify/definitions.server";
import { SegmentPublishError, publishShopifySegment, shopifySegmentAdminUrl } from "~/destinations/shopify/segments.server";
import { redactShop } from "~/ingest/gdpr.server";
import { AdminGraphql } from "~/integrations/shopify-admin.server";
import { installShop, testDb, testPool, uniqueShop } from "../support/db";
import { FakeShopify } from "../support/fake-shopify";

// Publishing Tenure segments as Shopify customer segments, through the app's Admin GraphQL
// client against the Shopify fake (which checks segment names and queries as Shopify does),
// with the published rows in PostgreSQL.

let fake: FakeShopify;
let admin: AdminGraphql;
beforeAll(async () => {
  fake = await new FakeShopify({ appId: "5151" }).start();
  admin = new AdminGraphql({ db: testDb(), backoffMs: 10 });
});
afterAll(() => fake.close());

const deps = () => ({ db: testPool(), admin });
const segmentRequests = (shop: string) => fake.requests.filter((r) => r.shop === shop && /segment(Create|Update)\(/.test(r.query));

/** A shop with a session on the fake and, unless told otherwise, its definitions made and recorded. */
async function shopReady(label: string, { definitions = true } = {}): Promise<string> {
  const shop = await installShop(uniqueShop(label));
  await fake.installSession(testDb(), shop, "read_orders,read_all_orders,read_customers,write_customers");
  if (definitions) {
    const outcome = await ensureTenureMetafieldDefinitions(admin, shop);
    await recordMetafieldDefinitionsCheck(testPool(), { shop, namespace: outcome.namespace, complete: true, problem: null });
  }
  return shop;
}

async function label(shop: string, key: string, name: string) {
  const settings = await loadMetricsSettings(testPool(), shop);
  await saveSettings(testPool(), shop, { ...settings, segmentLabels: { ...settings.segmentLabels, [key]: name } });
}

describe("publishShopifySegment", () => {
  it("creates the Shopify segment once, named and queried as Tenure's, and records it", async () => {
    const shop = await shopReady("publish");
    const outcome = await publishShopifySegment(deps(), shop, "champions");

    expect(outcome).toMatchObject({ action: "created", name: "Tenure: Champions", query: "metafields.app--5151.rfm_segment = 'champions'" });
    expect(fake.shopData(shop).segments).toMatchObject([{ id: outcome.shopifySegmentId, name: "Tenure: Champions", query: outcome.query }]);
    expect(await readShopifySegment(testPool(), shop, "champions")).toMatchObject({ shopifySegmentId: outcome.shopifySegmentId, name: "Tenure: Champions" });

    // A behaviour filters on the behaviours list.
    expect((await publishShopifySegment(deps(), shop, "vip")).query).toBe("metafields.app--5151.behaviours CONTAINS 'vip'");
  });

  it("does nothing on a second publish with the same name and query", async () => {
    const shop = await shopReady("publish-twice");
    const first = await publishShopifySegment(deps(), shop, "loyal");
    const requestsAfterFirst = segmentRequests(shop).length;

    expect(await publishShopifySegment(deps(), shop, "loyal")).toEqual({ ...first, action: "unchanged" });
    expect(segmentRequests(shop)).toHaveLength(requestsAfterFirst);
    expect(fake.shopData(shop).segments).toHaveLength(1);
  });

  it("renames the same Shopify segment with segmentUpdate after the merchant relabels it", async () => {
    const shop = await shopReady("publish-relabel");
    const first = await publishShopifySegment(deps(), shop, "at-risk");
    await label(shop, "at-risk", "Slipping away");

    const second = await publishShopifySegment(deps(), shop, "at-risk");

    expect(second).toMatchObject({ action: "updated", shopifySegmentId: first.shopifySegmentId, name: "Tenure: Slipping away" });
    expect(segmentRequests(shop).at(-1)?.query).toMatch(/segmentUpdate\(/);
    expect(fake.shopData(shop).segments).toMatchObject([{ id: first.shopifySegmentId, name: "Tenure: Slipping away", query: first.query }]);
    expect(await readShopifySegment(testPool(), shop, "at-risk")).toMatchObject({ name: "Tenure: Slipping away" });
  });

  it("makes the segment again when it was deleted in Shopify admin", async () => {
    const shop = await shopReady("publish-deleted");
    const first = await publishShopifySegment(deps(), shop, "hibernating");
    fake.shopData(shop).segments.length = 0;
    await label(shop, "hibernating", "Sleepers");

    const second = await publishShopifySegment(deps(), shop, "hibernating");

    expect(second.action).toBe("created");
    expect(second.shopifySegmentId).not.toBe(first.shopifySegmentId);
    expect(fake.shopData(shop).segments).toMatchObject([{ id: second.shopifySegmentId, name: "Tenure: Sleepers" }]);
  });

  it("reports Shopify's name-taken userError as a sentence and stores nothing", async () => {
    const shop = await shopReady("publish-taken");
    const now = new Date().toISOString();
    fake.shopData(shop).segments.push({ id: "gid://shopify/Segment/1", name: "Tenure: Champions", query: "number_of_orders > 3", creationDate: now, lastEditDate: now });

    const publishing = publishShopifySegment(deps(), shop, "champions");

    await expect(publishing).rejects.toBeInstanceOf(SegmentPublishError);
    await expect(publishing).rejects.toThrow(/already has a customer segment named "Tenure: Champions" that Tenure did not create/);
    expect(await readShopifySegments(testPool(), shop)).toEqual([]);
    expect(fake.shopData(shop).segments).toHaveLength(1);
  });

  it("reports a query Shopify refuses in Shopify's words and stores nothing", async () => {
    // The namespace is recorded but the store has no such definitions (deleted in Shopify since).
    const shop = await shopReady("publish-query-refused", { definitions: false });
    await recordMetafieldDefinitionsCheck(testPool(), { shop, namespace: "app--5151", complete: true, problem: null });

    await expect(publishShopifySegment(deps(), shop, "champions")).rejects.toThrow(
      /^Shopify refused the segment "Tenure: Champions": Query Line 1 Column \d+: 'metafields\.app--5151\.rfm_segment' filter cannot be found\.$/,
    );
    expect(segmentRequests(shop)).toHaveLength(1);
    expect(await readShopifySegments(testPool(), shop)).toEqual([]);
  });

  it("refuses clearly, without calling Shopify, before the metafield definitions are made", async () => {
    const shop = await shopReady("publish-no-defs", { definitions: false });

    await expect(publishShopifySegment(deps(), shop, "champions")).rejects.toThrow(/metafields are not set up in your Shopify store yet/);
    expect(segmentRequests(shop)).toEqual([]);
    expect(await readShopifySegments(testPool(), shop)).toEqual([]);
  });

  it("refuses a key that is no Tenure segment", async () => {
    const shop = await shopReady("publish-unknown");
    await expect(publishShopifySegment(deps(), shop, "nobody")).rejects.toThrow(/"nobody" is not a Tenure segment/);
  });

  it("leaves another shop's rows alone, and shop/redact removes the shop's", async () => {
    const shop = await shopReady("publish-redact");
    const other = await shopReady("publish-other");
    await publishShopifySegment(deps(), shop, "champions");
    await publishShopifySegment(deps(), other, "champions");
    await label(shop, "champions", "Stars");
    await publishShopifySegment(deps(), shop, "champions");

    expect(await readShopifySegments(testPool(), other)).toMatchObject([{ segmentKey: "champions", name: "Tenure: Champions" }]);

    const counts = await redactShop(testDb(), shop);

    expect(counts.shopifySegments).toBe(1);
    expect(await readShopifySegments(testPool(), shop)).toEqual([]);
    expect(await readShopifySegments(testPool(), other)).toHaveLength(1);
  });
});

describe("shopifySegmentAdminUrl", () => {
  it("links the segment's page in Shopify admin", () => {
    expect(shopifySegmentAdminUrl("my-store.myshopify.com", "gid://shopify/Segment/4242")).toBe("https://admin.shopify.com/store/my-store/customers/segments/4242");
  });
});
