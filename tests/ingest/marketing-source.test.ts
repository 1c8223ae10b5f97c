import { describe, expect, it } from "vitest";
import { testPool, uniqueShop } from "../support/db";
import { createShop, deliver } from "../support/ingested-shops";
import { orderPayload } from "../support/webhook-payloads";

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
