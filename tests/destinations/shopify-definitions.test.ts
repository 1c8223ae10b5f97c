import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MetafieldDefinitionsError, ensureTenureMetafieldDefinitions } from "~/destinations/shopify/definitions.server";
import { TENURE_METAFIELD_DEFINITIONS } from "~/destinations/shopify/metafields";
import { AdminGraphql } from "~/integrations/shopify-admin.server";
import { testDb, uniqueShop } from "../support/db";
import { FakeShopify } from "../support/fake-shopify";

// Tenure's customer metafield definitions made sure of, through the app's Admin GraphQL client
// (offline session in PostgreSQL, cost bucket) against the Shopify fake at the HTTP boundary.

const KEYS = TENURE_METAFIELD_DEFINITIONS.map((definition) => definition.key);

let fake: FakeShopify;
let admin: AdminGraphql;
beforeAll(async () => {
  fake = await new FakeShopify({ appId: "4242" }).start();
  admin = new AdminGraphql({ db: testDb(), backoffMs: 10 });
});
afterAll(() => fake.close());

async function installedShop(): Promise<string> {
  const shop = uniqueShop("metafields");
  await fake.installSession(testDb(), shop, "read_orders,read_all_orders,read_customers,write_customers");
  return shop;
}

const mutations = (shop: string) => fake.requests.filter((r) => r.shop === shop && /metafieldDefinition(Create|Update)\(/.test(r.query));

describe("ensureTenureMetafieldDefinitions", () => {
  it("creates every definition once, under the app's reserved namespace, merchant-readable", async () => {
    const shop = await installedShop();
    const first = await ensureTenureMetafieldDefinitions(admin, shop);
    expect(first).toEqual({ namespace: "app--4242", created: KEYS, updated: [], unchanged: [] });
    const stored = fake.shopData(shop).definitions;
    expect(stored.map((d) => [d.ownerType, d.namespace, d.key])).toEqual(KEYS.map((key) => ["CUSTOMER", "app--4242", key]));
    expect(stored.every((d) => d.access.admin === "MERCHANT_READ" && d.access.storefront === "NONE")).toBe(true);
    expect(stored.find((d) => d.key === "rfm_segment")?.validations[0].name).toBe("choices");

    const before = mutations(shop).length;
    const second = await ensureTenureMetafieldDefinitions(admin, shop);
    expect(second).toEqual({ namespace: "app--4242", created: [], updated: [], unchanged: KEYS });
    expect(mutations(shop).length).toBe(before);
    expect(fake.shopData(shop).definitions).toHaveLength(KEYS.length);
  });

  it("updates a definition whose description or choices differ, and leaves the rest alone", async () => {
    const shop = await installedShop();
    await ensureTenureMetafieldDefinitions(admin, shop);
    const stored = fake.shopData(shop).definitions;
    stored.find((d) => d.key === "historic_value")!.description = "An old wording";
    stored.find((d) => d.key === "rfm_segment")!.validations = [{ name: "choices", value: '["champions"]' }];

    const outcome = await ensureTenureMetafieldDefinitions(admin, shop);
    expect(outcome.updated).toEqual(["rfm_segment", "historic_value"]);
    expect(outcome.unchanged).toHaveLength(KEYS.length - 2);
    const want = TENURE_METAFIELD_DEFINITIONS.find((d) => d.key === "historic_value")!;
    expect(stored.find((d) => d.key === "historic_value")!.description).toBe(want.description);
    expect(JSON.parse(stored.find((d) => d.key === "rfm_segment")!.validations[0].value)).toContain("at-risk");
  });

  it("names the definitions Shopify refused, with its message and code, after trying the others", async () => {
    const shop = await installedShop();
    fake.definitionUserErrorsNext = [{ field: ["definition"], message: "Limit of 256 definitions per owner type has been exceeded.", code: "LIMIT_EXCEEDED" }];
    const error = await ensureTenureMetafieldDefinitions(admin, shop).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MetafieldDefinitionsError);
    expect((error as MetafieldDefinitionsError).message).toContain(
      `"rfm_segment" could not be created: Limit of 256 definitions per owner type has been exceeded. [LIMIT_EXCEEDED] (definition).`,
    );
    expect((error as MetafieldDefinitionsError).outcome.created).toEqual(KEYS.slice(1));
    // The next run finishes the job.
    expect((await ensureTenureMetafieldDefinitions(admin, shop)).created).toEqual(["rfm_segment"]);
  });

  it("says what to do when a definition exists with another type, which cannot be updated", async () => {
    const shop = await installedShop();
    await ensureTenureMetafieldDefinitions(admin, shop);
    fake.shopData(shop).definitions.find((d) => d.key === "expected_next_order")!.type = "date_time";
    await expect(ensureTenureMetafieldDefinitions(admin, shop)).rejects.toThrow(
      /"expected_next_order" exists with type date_time, Tenure writes date: delete the definition in Settings > Custom data > Customers/,
    );
  });

  it("two runs at once (install and start) end with one set of definitions", async () => {
    const shop = await installedShop();
    const [a, b] = await Promise.all([ensureTenureMetafieldDefinitions(admin, shop), ensureTenureMetafieldDefinitions(new AdminGraphql({ db: testDb() }), shop)]);
    expect([...a.created, ...b.created].sort()).toEqual([...KEYS].sort());
    expect(fake.shopData(shop).definitions).toHaveLength(KEYS.length);
  });
});
