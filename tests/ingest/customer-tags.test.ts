import { describe, expect, it } from "vitest";
import { processDelivery } from "~/ingest/deliveries.server";
import { mapOrderPayload } from "~/ingest/mappers";
import { upsertOrdersBatch } from "~/ingest/upsert-batch.server";
import { pgPool, pgTransaction } from "~/db/pg.server";
import { insertDelivery, testDb, uniqueShop } from "../support/db";
import { type Json } from "../support/webhook-fixtures";
import { at, customerPayload, orderPayload } from "../support/webhook-payloads";

// Since API 2025-01 customer payloads (customers/create, customers/update and an order's
// customer) carry no `tags` key: Shopify moved tags to the customer.tags_added /
// customer.tags_removed topics (Shopify's webhook metadata for 2025-01..2026-04; changelog
// "New customer's webhook and changes to existing customer's webhooks payload"). A payload
// without the key leaves the stored tags as they are, through every profile write, so
// ShopSettings.excludedCustomerTags keeps working; the rest of the profile still moves on.

const db = () => testDb();

async function deliver(shop: string, topic: string, payload: unknown) {
  const id = await insertDelivery(db(), { shop, topic, payload });
  return processDelivery(db(), id, { enqueueMetrics: async () => {} });
}

const tagsOf = async (shop: string, id: number) =>
  db().customer.findUniqueOrThrow({ where: { shop_id: { shop, id: BigInt(id) } }, select: { tags: true, firstName: true, shopifyUpdatedAt: true } });

const withoutTags = (payload: Json): Json => {
  delete payload.tags;
  return payload;
};

describe("customer tags and payloads without them", () => {
  it("customers/update without tags keeps the stored tags and applies the rest; an empty tags string clears them", async () => {
    const shop = uniqueShop("tags");
    expect((await deliver(shop, "customers/update", customerPayload(41, at("2025-03-01T00:00:00Z"), { tags: "wholesale, vip" }))).status).toBe("processed");
    expect(await tagsOf(shop, 41)).toMatchObject({ tags: ["wholesale", "vip"], firstName: "Sam" });

    const silent = withoutTags(customerPayload(41, at("2025-03-05T00:00:00Z"), { first_name: "Samira" }));
    expect((await deliver(shop, "customers/update", silent)).status).toBe("processed");
    expect(await tagsOf(shop, 41)).toEqual({ tags: ["wholesale", "vip"], firstName: "Samira", shopifyUpdatedAt: at("2025-03-05T00:00:00Z") });

    // Replayed, the same tagless profile changes nothing.
    expect((await deliver(shop, "customers/update", silent)).status).toBe("processed");
    expect((await tagsOf(shop, 41)).tags).toEqual(["wholesale", "vip"]);

    // A payload that does carry tags (older API versions) still sets them, empty included.
    await deliver(shop, "customers/update", customerPayload(41, at("2025-03-09T00:00:00Z"), { tags: "" }));
    expect((await tagsOf(shop, 41)).tags).toEqual([]);
  });

  it("a new customer from a tagless payload gets no tags", async () => {
    const shop = uniqueShop("tags-new");
    await deliver(shop, "customers/create", withoutTags(customerPayload(42, at("2025-03-01T00:00:00Z"))));
    expect((await tagsOf(shop, 42)).tags).toEqual([]);
  });

  it("an order's customer without tags keeps the stored tags, one by one and batched", async () => {
    const shop = uniqueShop("tags-order");
    await deliver(shop, "customers/update", customerPayload(43, at("2025-03-01T00:00:00Z"), { tags: "vip" }));
    const order = orderPayload({ id: 9_000_043, customerId: 43, totalCents: 5_000, updatedAt: at("2025-03-10T00:00:00Z"), customerUpdatedAt: at("2025-03-10T00:00:00Z") });
    withoutTags(order.customer as Json);
    (order.customer as Json).first_name = "Ola";
    expect((await deliver(shop, "orders/create", order)).status).toBe("processed");
    expect(await tagsOf(shop, 43)).toMatchObject({ tags: ["vip"], firstName: "Ola" });

    const later = orderPayload({ id: 9_000_044, customerId: 43, totalCents: 6_000, updatedAt: at("2025-03-12T00:00:00Z"), customerUpdatedAt: at("2025-03-12T00:00:00Z") });
    withoutTags(later.customer as Json);
    (later.customer as Json).first_name = "Olamide";
    const bundle = mapOrderPayload(later);
    expect(bundle.customer?.tags).toBeNull();
    await pgTransaction(pgPool(), (tx) => upsertOrdersBatch(tx, shop, [bundle]));
    expect(await tagsOf(shop, 43)).toMatchObject({ tags: ["vip"], firstName: "Olamide", shopifyUpdatedAt: at("2025-03-12T00:00:00Z") });
  });
});
