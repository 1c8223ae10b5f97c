import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_SEGMENT_KEYS } from "~/analytics/segments";
import { destinationSegmentName } from "~/display/profile-properties";
import { ensureTenureMetafieldDefinitions } from "~/destinations/shopify/definitions.server";
import { TENURE_METAFIELD_NAMESPACE, tenureMetafieldValues } from "~/destinations/shopify/metafields";
import { shopifySegmentQuery } from "~/destinations/shopify/segment-query";
import { SEGMENT_CREATE, SEGMENT_UPDATE, type SegmentPayload } from "~/destinations/shopify/segments.server";
import { AdminGraphql, ShopifyAdminError } from "~/integrations/shopify-admin.server";
import { testDb, uniqueShop } from "../support/db";
import { FakeShopify, segmentQueryProblem } from "../support/fake-shopify";

// Tenure's segment queries and metafield values against the Shopify fake, which checks them
// as Shopify does (segment query grammar for the metafield filters, metafieldsSet's limits and
// userErrors), through the app's Admin GraphQL client with its session in PostgreSQL.

const METAFIELDS_SET = `#graphql
  mutation TenureMetafieldsSet($metafields: [MetafieldsSetInput!]!) {
    metafieldsSet(metafields: $metafields) { metafields { key namespace value } userErrors { field message code elementIndex } }
  }`;

type SetPayload = { metafieldsSet: { metafields: { key: string; value: string }[]; userErrors: { field: string[]; message: string; code: string }[] } };

let fake: FakeShopify;
let admin: AdminGraphql;
let shop: string;
let namespace: string;

beforeAll(async () => {
  fake = await new FakeShopify({ appId: "777" }).start();
  admin = new AdminGraphql({ db: testDb(), backoffMs: 10 });
  shop = uniqueShop("segments");
  await fake.installSession(testDb(), shop, "read_orders,read_all_orders,read_customers,write_customers");
  namespace = (await ensureTenureMetafieldDefinitions(admin, shop)).namespace!;
});
afterAll(() => fake.close());

const createSegment = async (name: string, query: string) =>
  (await admin.request<{ segmentCreate: SegmentPayload }>(shop, SEGMENT_CREATE, { name, query })).segmentCreate;

describe("Shopify segments of Tenure segments", () => {
  it("are accepted for every Tenure segment key", async () => {
    expect(namespace).toBe("app--777");
    for (const key of ALL_SEGMENT_KEYS) {
      const result = await createSegment(destinationSegmentName(key, {}), shopifySegmentQuery(key, namespace));
      expect(result.userErrors, key).toEqual([]);
      expect(result.segment?.query).toBe(shopifySegmentQuery(key, namespace));
    }
    expect(fake.shopData(shop).segments.map((segment) => segment.name)).toContain("Tenure: Can't lose them");
  });

  it("are renamed and re-ruled with segmentUpdate", async () => {
    const created = await createSegment("Tenure: Loyal (draft)", shopifySegmentQuery("loyal", namespace));
    const { segmentUpdate } = await admin.request<{ segmentUpdate: SegmentPayload }>(shop, SEGMENT_UPDATE, {
      id: created.segment!.id,
      name: "Tenure: Our regulars",
      query: shopifySegmentQuery("champions", namespace),
    });
    expect(segmentUpdate.userErrors).toEqual([]);
    expect(segmentUpdate.segment).toMatchObject({ name: "Tenure: Our regulars", query: `metafields.app--777.rfm_segment = 'champions'` });
  });

  it("refuse a broken query with Shopify's userError", async () => {
    const broken: [string, RegExp][] = [
      [`metafields.app--777.rfm_segment = 'champions`, /^Query Line 1 Column 35: ''champions' is unexpected\.$/],
      [`metafields.app--777.rfm_segment LIKE 'champions'`, /Column 33: 'LIKE' is unexpected/],
      [`metafields.app--777.rfm_segment CONTAINS 'champions'`, /'CONTAINS' is unexpected/],
      [`metafields.app--777.behaviours = 'vip'`, /'=' is unexpected/],
      [`metafields.app--777.no_such_key = 'vip'`, /'metafields\.app--777\.no_such_key' filter cannot be found/],
      [`metafields.$app.rfm_segment = 'champions'`, /'\$' is unexpected/],
      [`metafields.app--777.rfm_segment = champions`, /'champions' is unexpected/],
      [`metafields.app--777.expected_spend_12m > '100'`, /''100'' is unexpected|'100' is unexpected/],
      [`metafields.app--777.rfm_segment = 'champions' AND`, /unexpected end of query/],
    ];
    for (const [query, message] of broken) {
      const result = await createSegment(`Broken ${query}`, query);
      expect(result.segment, query).toBeNull();
      expect(result.userErrors, query).toEqual([{ field: ["query"], message: expect.stringMatching(message) as string }]);
    }
  });

  it("are unique by name", async () => {
    await createSegment("Tenure: Twice", shopifySegmentQuery("vip", namespace));
    expect((await createSegment("Tenure: Twice", shopifySegmentQuery("vip", namespace))).userErrors).toEqual([
      { field: ["name"], message: "Name has already been taken" },
    ]);
  });
});

describe("the fake's segment query check", () => {
  const definitions = () => fake.shopData(shop).definitions;
  it("takes the metafield filters of the help center's table", () => {
    for (const query of [
      `metafields.app--777.expected_spend_12m >= 100.5`,
      `metafields.app--777.chance_of_ordering_90d BETWEEN 0.2 AND 0.6`,
      `metafields.app--777.expected_next_order <= 2027-01-31 AND metafields.app--777.behaviours NOT CONTAINS 'vip'`,
      `metafields.app--777.last_scored >= -7d OR metafields.app--777.rfm_segment IS NULL`,
      `(metafields.app--777.rfm_segment != 'lost')`,
    ]) {
      expect(segmentQueryProblem(query, definitions()), query).toBeNull();
    }
  });
});

describe("metafieldsSet with Tenure's values", () => {
  const figures = {
    segment: "at-risk",
    behaviours: ["repeat-buyer"],
    netSpentMinor: "50000",
    predictedClvMinor: "12000",
    expectedPurchases365d: 1.2,
    expectedOrderValueMinor: "10000",
    chanceOfOrder90d: 0.21,
    pAlive: 0.4,
    expectedNextOrderDay: "2027-02-01",
  };
  const inputs = (customerId: string, values = tenureMetafieldValues(figures, { currency: "EUR", labels: {}, horizonDays: 365 }, new Date()).set) =>
    values.map((value) => ({ ownerId: `gid://shopify/Customer/${customerId}`, namespace: TENURE_METAFIELD_NAMESPACE, ...value }));

  it("are accepted and stored under the app's namespace", async () => {
    const { metafieldsSet } = await admin.request<SetPayload>(shop, METAFIELDS_SET, { metafields: inputs("1001") });
    expect(metafieldsSet.userErrors).toEqual([]);
    const stored = fake.shopData(shop).metafields.get("gid://shopify/Customer/1001")!;
    expect(stored.get("app--777.rfm_segment")?.value).toBe("at-risk");
    expect(stored.get("app--777.historic_value")?.value).toBe("500.00");
    expect(stored.get("app--777.behaviours")?.value).toBe('["repeat-buyer"]');
  });

  it("refuse a value outside the definition's choices, and write nothing of that call", async () => {
    const batch = [...inputs("1002"), { ownerId: "gid://shopify/Customer/1003", namespace: "$app", key: "rfm_segment", type: "single_line_text_field", value: "Champions" }];
    const { metafieldsSet } = await admin.request<SetPayload>(shop, METAFIELDS_SET, { metafields: batch });
    expect(metafieldsSet.userErrors).toEqual([
      { field: ["metafields", String(batch.length - 1), "value"], code: "INCLUSION", message: expect.stringContaining("Value does not exist in provided choices") as string, elementIndex: null },
    ]);
    expect(fake.shopData(shop).metafields.get("gid://shopify/Customer/1002")).toBeUndefined();
  });

  it("refuse a deleted customer and a type other than the definition's", async () => {
    fake.shopData(shop).deletedCustomers.add("gid://shopify/Customer/1004");
    const { metafieldsSet } = await admin.request<SetPayload>(shop, METAFIELDS_SET, {
      metafields: [
        { ownerId: "gid://shopify/Customer/1004", namespace: "$app", key: "historic_value", type: "number_decimal", value: "1.00" },
        { ownerId: "gid://shopify/Customer/1005", namespace: "$app", key: "historic_value", type: "number_integer", value: "1" },
      ],
    });
    expect(metafieldsSet.userErrors.map((error) => [error.field, error.code])).toEqual([
      [["metafields", "0", "ownerId"], "INVALID"],
      [["metafields", "1", "type"], "INVALID_TYPE"],
    ]);
  });

  it("take at most 25 metafields per call", async () => {
    const many = Array.from({ length: 4 }, (_, i) => inputs(String(2000 + i))).flat();
    expect(many.length).toBe(28);
    await expect(admin.request(shop, METAFIELDS_SET, { metafields: many })).rejects.toThrow(ShopifyAdminError);
    await expect(admin.request(shop, METAFIELDS_SET, { metafields: many })).rejects.toThrow(/The input array size of 28 is greater than the maximum allowed of 25/);
    const { metafieldsSet } = await admin.request<SetPayload>(shop, METAFIELDS_SET, { metafields: many.slice(0, 25) });
    expect(metafieldsSet.userErrors).toEqual([]);
  });
});
