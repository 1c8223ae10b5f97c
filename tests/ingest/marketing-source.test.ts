import { describe, expect, it } from "vitest";
import { testPool, uniqueShop } from "../support/db";
import { createShop, deliver } from "../support/ingested-shops";
import { orderPayload } from "../support/webhook-payloads";
import { graphqlOrderFromWebhook } from "../support/graphql-shapes";
import { mapGraphqlOrder } from "~/ingest/graphql-mappers";
import { upsertOrdersBatch } from "~/ingest/upsert-batch.server";
import { pgPool, pgTransaction } from "~/db/pg.server";

// An order's marketing source through the one write path (issue 17): set from the webhook's
// landing_site and referring_site, kept when a later version of the order says nothing of its
// visit (a source read from the bulk import's customer journey must survive the webhooks that
// follow), replaced when a later version says something else.

async function sourceOf(shop: string, id: number): Promise<string | null> {
  const { rows } = await testPool().query<{ source: string | null }>(`SELECT "marketingSource" AS source FROM "Order" WHERE shop = $1 AND id = $2`, [shop, id]);
  return rows[0].source;
}

describe("Order.marketingSource", () => {
  it("is written from the visit, kept when a newer version says nothing, replaced when it says otherwise", async () => {
    const shop = uniqueShop("source");
    await createShop(shop);
    const id = 7_200_001;
    const version = (minutes: number, landing: string | null, referrer: string | null) => {
      const at = new Date(Date.UTC(2026, 5, 1, 12, minutes));
      return { ...orderPayload({ id, customerId: 9201, totalCents: 5_000, processedAt: new Date(Date.UTC(2026, 5, 1)), updatedAt: at }), landing_site: landing, referring_site: referrer };
    };
    await deliver(shop, "orders/create", version(0, "/?utm_source=Facebook&utm_medium=paid_social", "https://l.facebook.com/"));
    expect(await sourceOf(shop, id)).toBe("facebook / paid_social");
    await deliver(shop, "orders/updated", version(5, null, null));
    expect(await sourceOf(shop, id)).toBe("facebook / paid_social");
    await deliver(shop, "orders/updated", version(10, "/", "https://www.pinterest.com/pin/1"));
    expect(await sourceOf(shop, id)).toBe("pinterest.com (referral)");
  });
});

// Review of issue 17, finding 6: the journey's first visit (bulk import, reconciliation) and a
// webhook's landing/referrer (the order's last arrival) must not take turns.
describe("Order.marketingSource from the customer journey", () => {
  const id = 7_200_101;
  const version = (minutes: number, landing: string | null, referrer: string | null) => ({
    ...orderPayload({ id, customerId: 9301, totalCents: 5_000, processedAt: new Date(Date.UTC(2026, 5, 1)), updatedAt: new Date(Date.UTC(2026, 5, 1, 12, minutes)) }),
    landing_site: landing,
    referring_site: referrer,
  });
  /** The order as the bulk import or the reconciliation writes it: its journey's first visit. */
  const imported = (shop: string, payload: Record<string, unknown>) => {
    const { order, lineItems } = graphqlOrderFromWebhook(payload);
    return pgTransaction(pgPool(), (tx) => upsertOrdersBatch(tx, shop, [mapGraphqlOrder(order, lineItems)]));
  };

  it("keeps the journey's source when a newer webhook arrives from elsewhere", async () => {
    const shop = uniqueShop("journey-kept");
    await createShop(shop);
    await imported(shop, version(0, "/?utm_source=newsletter", null));
    expect(await sourceOf(shop, id)).toBe("newsletter");
    await deliver(shop, "orders/updated", version(10, "/", "https://www.pinterest.com/pin/1"));
    expect(await sourceOf(shop, id)).toBe("newsletter");
  });

  it("replaces a webhook's source with the journey's, even at the version already stored", async () => {
    const shop = uniqueShop("journey-wins");
    await createShop(shop);
    await deliver(shop, "orders/create", version(0, "/", "https://www.pinterest.com/pin/1"));
    expect(await sourceOf(shop, id)).toBe("pinterest.com (referral)");
    await imported(shop, version(0, "/?utm_source=newsletter", null));
    expect(await sourceOf(shop, id)).toBe("newsletter");
  });

  it("counts a referrer on the shop's own domain as direct", async () => {
    const shop = uniqueShop("own-domain");
    await createShop(shop);
    await deliver(shop, "orders/create", version(0, "/cart", `https://${shop}/products/sock`));
    expect(await sourceOf(shop, id)).toBe("direct");
  });
});
