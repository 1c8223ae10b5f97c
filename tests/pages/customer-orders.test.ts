import { processDelivery } from "~/ingest/deliveries.server";
import { loadCustomer } from "~/pages/customer.server";
import { insertDelivery, testDb, testPool, uniqueShop } from "../support/db";
import { type Json } from "../support/webhook-fixtures";
import { orderPayload } from "../support/webhook-payloads";

// The customer page's order list (issue 13): "Counts as" is what Tenure counts for each
// order, so an order Settings leave out (order tag, channel, customer tag) counts 0 and
// says so, as a test order does; the rest count their revenue.

const SAM = 6_200_001;
const STAFF = 6_200_002;

async function deliverOrder(shop: string, id: number, customerId: number, totalCents: number, facts: Json = {}, customerTags = "") {
  const payload = orderPayload({ id, customerId, totalCents, updatedAt: new Date("2025-03-14T14:21:09Z"), processedAt: new Date(Date.UTC(2025, 2, id % 100)) });
  Object.assign(payload, facts);
  (payload.customer as Json).tags = customerTags;
  const delivery = await insertDelivery(testDb(), { shop, topic: "orders/create", payload });
  expect(await processDelivery(testDb(), delivery)).toMatchObject({ status: "processed" });
}

describe("the customer page's orders", () => {
  it("shows orders excluded in Settings as not counted, counting 0", async () => {
    const shop = uniqueShop("customer-orders");
    await testPool().query(
      `INSERT INTO "ShopSettings" (shop, "excludedOrderTags", "excludedSourceNames", "excludedCustomerTags", "updatedAt")
       VALUES ($1, '{wholesale}', '{pos}', '{Staff}', now())`,
      [shop],
    );
    await deliverOrder(shop, 7_001, SAM, 4_000);
    await deliverOrder(shop, 7_002, SAM, 5_000, { tags: "wholesale" });
    await deliverOrder(shop, 7_003, SAM, 6_000, { source_name: "pos" });
    await deliverOrder(shop, 7_004, SAM, 7_000, { test: true });
    // Order tags too: "Wholesale" on the order is Settings' "wholesale".
    await deliverOrder(shop, 7_006, SAM, 9_000, { tags: "Wholesale, net-30" });
    // Shopify treats tags without regard to case, as Settings' exclusion does.
    await deliverOrder(shop, 7_005, STAFF, 8_000, {}, "staff, vip");

    const sam = (await loadCustomer(testPool(), shop, String(SAM)))!;
    const byId = Object.fromEntries(sam.orders.map((o) => [o.id, { counts: o.netMinor, total: o.currentTotalMinor, excluded: o.excludedBySettings }]));
    expect(byId).toEqual({
      "7001": { counts: 4_000, total: 4_000, excluded: false },
      "7002": { counts: 0, total: 5_000, excluded: true },
      "7003": { counts: 0, total: 6_000, excluded: true },
      "7004": { counts: 0, total: 7_000, excluded: false },
      "7006": { counts: 0, total: 9_000, excluded: true },
    });
    const staff = (await loadCustomer(testPool(), shop, String(STAFF)))!;
    expect(staff.orders.map((o) => ({ counts: o.netMinor, excluded: o.excludedBySettings }))).toEqual([{ counts: 0, excluded: true }]);
  });
});
