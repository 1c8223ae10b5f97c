import { createShop, deliver } from "./ingested-shops";
import { type Json } from "./webhook-fixtures";
import { orderPayload } from "./webhook-payloads";

// A store small enough to compute its acquisition drivers by hand (issue 17), delivered as
// orders/create webhooks of the real shape through the real ingest path, so each order's
// marketing source comes from its landing_site and referring_site. As of 2026-06-30:
//   9101  Jan 1 $100, Jan 11 $50            Sock, WELCOME, google / cpc
//   9102  Jan 5 $200                        Sock, no code, instagram.com (referral)
//   9103  Feb 1 $80, Mar 3 $40, Apr 2 $40   Hat, WELCOME, google / cpc
//   9104  Jun 20 $60                        Hat, no code, direct
//   9105  Jan 15 $100                       Sock, no code, no landing site (unknown source)
// Only the first order's product, code and source matter; later orders carry others on purpose.

export const ACQUISITION_CUSTOMERS = [9101, 9102, 9103, 9104, 9105] as const;

let nextId = 7_100_000;

async function placeOrder(
  shop: string,
  customerId: number,
  date: string,
  cents: number,
  first: { product: string; code: string | null; landing: string | null; referrer: string | null },
): Promise<void> {
  const at = new Date(`${date}T12:00:00Z`);
  const payload = orderPayload({ id: nextId++, customerId, totalCents: cents, processedAt: at, createdAt: at, updatedAt: at });
  (payload.line_items as Json[])[0].title = first.product;
  payload.discount_codes = first.code ? [{ code: first.code, amount: "0.00", type: "fixed_amount" }] : [];
  payload.landing_site = first.landing;
  payload.referring_site = first.referrer;
  await deliver(shop, "orders/create", payload);
}

/** Creates the shop (UTC) and delivers the store's eight orders. */
export async function ingestAcquisitionStore(shop: string): Promise<void> {
  await createShop(shop);
  const google = { landing: "/products/sock?utm_source=Google&utm_medium=cpc", referrer: "https://www.google.com/" };
  const plain = { code: null, landing: "/", referrer: null };
  await placeOrder(shop, 9101, "2026-01-01", 10_000, { product: "Sock", code: "WELCOME", ...google });
  await placeOrder(shop, 9101, "2026-01-11", 5_000, { product: "Hat", ...plain });
  await placeOrder(shop, 9102, "2026-01-05", 20_000, { product: "Sock", code: null, landing: "/", referrer: "https://www.instagram.com/p/x" });
  await placeOrder(shop, 9103, "2026-02-01", 8_000, { product: "Hat", code: "WELCOME", ...google });
  await placeOrder(shop, 9103, "2026-03-03", 4_000, { product: "Sock", ...plain });
  await placeOrder(shop, 9103, "2026-04-02", 4_000, { product: "Sock", ...plain });
  await placeOrder(shop, 9104, "2026-06-20", 6_000, { product: "Hat", code: null, landing: "/collections", referrer: null });
  await placeOrder(shop, 9105, "2026-01-15", 10_000, { product: "Sock", code: null, landing: null, referrer: null });
}
