import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ABANDONED_CHECKOUT_FIELDS } from "~/ingest/graphql-mappers";
import { GraphqlSyntaxError, maxCostExceededErrors, requestedQueryCost } from "../../demo/fakes/shopify-cost";
import { type FakeShopifyAdmin, startFakeShopifyAdmin } from "../../demo/fakes/shopify";

// The fakes' requested query cost (demo/fakes/shopify-cost.ts) against Shopify's rules
// (shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits: scalar and enum 0, object 1,
// connection 2 + first × a node, interface and union the costliest possible selection; mutation
// 10) and the worked examples of Shopify's rate limit write-up (a shop's scalars: 1; a connection
// of n objects: 2 + n; nested connections multiply).

describe("requestedQueryCost", () => {
  it("counts an object as 1 and its scalars and enums as 0", () => {
    expect(requestedQueryCost(`query { shop { id name timezoneOffsetMinutes customerAccounts } }`)).toBe(1);
    expect(requestedQueryCost(`{ shop { primaryDomain { host } domains { host } } }`)).toBe(3);
  });

  it("counts a connection as 2 plus first × a node, however the nodes are selected", () => {
    expect(requestedQueryCost(`{ products(first: 10) { edges { cursor node { title } } pageInfo { hasNextPage } } }`)).toBe(12);
    expect(requestedQueryCost(`{ products(first: 10) { nodes { title } } }`)).toBe(12);
    expect(requestedQueryCost(`{ products(last: 5) { nodes { title priceRangeV2 { minVariantPrice { amount } } } } }`)).toBe(2 + 5 * 3);
  });

  it("multiplies nested connections", () => {
    // 2 + 50 orders × (1 + lineItems: 2 + 25 × 1)
    expect(requestedQueryCost(`{ orders(first: 50) { edges { node { id lineItems(first: 25) { edges { node { id quantity } } } } } } }`)).toBe(2 + 50 * 28);
  });

  it("reads first from variables, then from the variable's default", () => {
    const query = `query Q($first: Int = 20, $after: String) { orders(first: $first, after: $after) { nodes { id } } }`;
    expect(requestedQueryCost(query, { first: 5 })).toBe(7);
    expect(requestedQueryCost(query)).toBe(22);
  });

  it("counts each mutation field as 10, whatever it selects", () => {
    expect(requestedQueryCost(`mutation M($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) { metafields { id } userErrors { field message } } }`)).toBe(10);
    expect(requestedQueryCost(`mutation { a: tagsAdd(id: "1", tags: ["x"]) { node { id } } b: tagsRemove(id: "1", tags: ["y"]) { node { id } } }`)).toBe(20);
  });

  it("takes the costliest of an interface's fragments, and resolves named fragments", () => {
    expect(requestedQueryCost(`{ node(id: "gid://shopify/Order/1") { id ... on Order { customer { id } lineItems(first: 3) { nodes { id } } } ... on Customer { id } } }`)).toBe(1 + 1 + 5);
    expect(requestedQueryCost(`query { shop { ...S } } fragment S on Shop { primaryDomain { host } }`)).toBe(2);
  });

  it("gives the figure the review found for the old abandoned checkouts page (refused by Shopify)", () => {
    const old = ABANDONED_CHECKOUT_FIELDS.replace(/lineItems\(first: \d+\)/, "lineItems(first: 50)");
    expect(requestedQueryCost(`query Q($first: Int!) { abandonedCheckouts(first: $first) { edges { node { ${old} } } } }`, { first: 50 })).toBe(2_902);
  });

  it("refuses text that is not GraphQL, by where it stops", () => {
    expect(() => requestedQueryCost(`{ shop { id }`)).toThrow(GraphqlSyntaxError);
    expect(() => requestedQueryCost(`{ shop { } }`)).toThrow(/empty selection set/);
    expect(() => requestedQueryCost(`{ shop % }`)).toThrow(/unexpected character "%"/);
    expect(() => requestedQueryCost(`{ shop { ...Missing } }`)).toThrow(/unknown fragment Missing/);
  });
});

describe("the demo's fake prices each query", () => {
  let fake: FakeShopifyAdmin;
  beforeAll(async () => {
    fake = await startFakeShopifyAdmin();
  });
  afterAll(() => fake.close());

  const post = async (query: string) => {
    const response = await fetch(`${fake.url}/admin/api/2025-10/graphql.json`, {
      method: "POST", headers: { "content-type": "application/json", "x-shopify-access-token": "shpat_any" }, body: JSON.stringify({ query }),
    });
    return (await response.json()) as { data?: unknown; errors?: unknown; extensions: { cost: { requestedQueryCost: number; actualQueryCost: number | null } } };
  };

  it("reports the requested cost, and answers MAX_COST_EXCEEDED over 1,000 points without running the query", async () => {
    const small = await post(`query { metafieldDefinitions(first: 50, ownerType: CUSTOMER) { nodes { id type { name } } } }`);
    expect(small.extensions.cost.requestedQueryCost).toBe(2 + 50 * 2);
    const big = await post(`query { metafieldDefinitions(first: 250, ownerType: CUSTOMER) { nodes { id type { name } validations { name } access { admin } } } }`);
    expect(big.data).toBeUndefined();
    expect(big.errors).toEqual(maxCostExceededErrors(1_002));
    expect(big.errors).toMatchObject([{ message: expect.stringMatching(/^Query cost is 1002, which exceeds the single query max cost limit \(1000\)/), extensions: { code: "MAX_COST_EXCEEDED", cost: 1_002, maxCost: 1_000 } }]);
    expect(big.extensions.cost).toMatchObject({ requestedQueryCost: 1_002, actualQueryCost: null });
  });
});
