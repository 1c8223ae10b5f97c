import { Random } from "~/analytics/random";
import { CATALOGUE, type DemoProduct, type DemoVariant } from "./catalogue";
import { type JsonObject, type RenderContext, formatAmount, formatShopTime, gid, renderCustomer } from "./payload-basics";
import { DAY, type DemoCustomer, type DemoOrder, type DemoStore, MINUTE } from "./store-model";

// The demo store's checkouts (issue 17, cart abandoners), as checkouts/create and
// checkouts/update would tell them, over the store's last CHECKOUT_DAYS days:
//  - most online orders of an account start as a checkout a few minutes earlier, completed by
//    the order (the update carries completed_at, and the order names the checkout);
//  - some of those buyers had left an earlier cart a few days before: recovered, since they
//    ordered after it;
//  - and some customers (a few who never ordered among them) leave a cart and do not come
//    back: the cart abandoners, some of whose checkouts were changed once before they left.
// Amounts are in the buyer's presentment currency, as Shopify's checkout payloads carry them;
// carts of buyers outside the shop's currency therefore have no shop-money total in Tenure.
// Pure and deterministic (the store's seed).

export const CHECKOUT_DAYS = 60;

export interface DemoCheckoutLine {
  product: DemoProduct;
  variant: DemoVariant;
  quantity: number;
}

export interface DemoCheckout {
  id: number;
  token: string;
  cartToken: string;
  customer: DemoCustomer;
  /** The buyer's presentment currency and its rate from the shop's (USD). */
  currency: string;
  fxRate: number;
  createdAt: number;
  lines: DemoCheckoutLine[];
  /** A line added a few minutes later (checkouts/update); null: never changed. */
  change: { at: number; line: DemoCheckoutLine } | null;
  /** The order it became (completed), null when it did not. */
  order: DemoOrder | null;
  /** The customer did not come back to it and has not ordered since: a cart abandoner. */
  abandoned: boolean;
}

function lineOf(rng: Random): DemoCheckoutLine {
  const product = rng.weighted(CATALOGUE, (p) => p.popularity);
  return { product, variant: rng.pick(product.variants), quantity: product.multiples ? rng.int(1, 3) : 1 };
}

/** The store's checkouts in the last CHECKOUT_DAYS days, oldest first. */
export function checkoutsOf(store: DemoStore): DemoCheckout[] {
  const rng = new Random(`${store.options.seed}/checkouts`);
  const since = store.endAt - CHECKOUT_DAYS * DAY;
  const checkouts: DemoCheckout[] = [];
  let sequence = 0;
  const newIds = () => {
    sequence += 1;
    return { id: 41_000_000_000_000 + sequence * 7_919, token: rng.hex(32), cartToken: `Z2NwLXVzLWVhc3QxOjAx${rng.hex(22).toUpperCase()}` };
  };
  const ordersOf = new Map<number, DemoOrder[]>();
  for (const order of store.orders) {
    if (order.customer && !order.test) ordersOf.set(order.customer.id, [...(ordersOf.get(order.customer.id) ?? []), order]);
  }
  const orderedAfter = (customer: DemoCustomer, at: number) => (ordersOf.get(customer.id) ?? []).some((order) => order.processedAt >= at);

  for (const order of store.orders) {
    const customer = order.customer;
    if (!customer || order.test || order.createdAt < since || order.checkoutId === null || order.checkoutToken === null || order.cartToken === null) continue;
    // An earlier cart left a few days before this order: recovered by it.
    if (rng.chance(0.2)) {
      const createdAt = order.createdAt - Math.round(rng.uniform(1, 5) * DAY);
      checkouts.push({
        ...newIds(),
        customer,
        currency: order.region.currency,
        fxRate: order.region.fxRate,
        createdAt,
        lines: [lineOf(rng)],
        change: null,
        order: null,
        abandoned: false,
      });
    }
    if (!rng.chance(0.7)) continue;
    checkouts.push({
      id: order.checkoutId,
      token: order.checkoutToken,
      cartToken: order.cartToken,
      customer,
      currency: order.region.currency,
      fxRate: order.region.fxRate,
      createdAt: order.createdAt - rng.int(3, 25) * MINUTE,
      lines: order.lines.filter((line) => line.addedAt === null).map((line) => ({ product: line.product, variant: line.variant, quantity: line.quantity })),
      change: null,
      order,
      abandoned: false,
    });
  }
  // Carts left: about one customer in 25 over the period, at any time in it.
  for (const customer of store.customers) {
    if (customer.staff || !rng.chance(0.04)) continue;
    const createdAt = since + Math.round(rng.uniform(0, CHECKOUT_DAYS - 0.1) * DAY);
    if (createdAt < customer.createdAt) continue;
    const lines = Array.from({ length: rng.int(1, 3) }, () => lineOf(rng));
    const change = rng.chance(0.3) ? { at: createdAt + rng.int(2, 20) * MINUTE, line: lineOf(rng) } : null;
    checkouts.push({
      ...newIds(),
      customer,
      currency: customer.region.currency,
      fxRate: customer.region.fxRate,
      createdAt,
      lines,
      change,
      order: null,
      abandoned: !orderedAfter(customer, createdAt),
    });
  }
  return checkouts.sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
}

/** The checkout's updates: a line added (at change.at), and completion (at its order's creation). */
export function checkoutUpdateTimes(checkout: DemoCheckout): number[] {
  const times: number[] = [];
  if (checkout.change) times.push(checkout.change.at);
  if (checkout.order) times.push(checkout.order.createdAt);
  return times;
}

/** The checkout as Shopify's checkouts/create and checkouts/update bodies carry it at `at`. */
export function renderCheckout(checkout: DemoCheckout, at: number, context: RenderContext): JsonObject {
  const tz = context.timezone;
  const lines = checkout.change && at >= checkout.change.at ? [...checkout.lines, checkout.change.line] : checkout.lines;
  const inPresentment = (minor: number) => (checkout.fxRate === 1 ? minor : Math.round(minor * checkout.fxRate));
  const lineItems = lines.map((line, index) => {
    const price = inPresentment(line.product.priceMinor);
    return {
      key: `${checkout.token.slice(0, 16)}${index}`,
      product_id: line.product.id,
      variant_id: line.variant.id,
      title: line.product.title,
      variant_title: line.variant.title,
      presentment_title: line.product.title,
      presentment_variant_title: line.variant.title,
      sku: line.variant.sku,
      vendor: "Northfold Outfitters",
      quantity: line.quantity,
      price: formatAmount(price),
      line_price: formatAmount(price * line.quantity),
      variant_price: formatAmount(price),
      compare_at_price: null,
      grams: line.product.grams,
      requires_shipping: true,
      taxable: true,
      gift_card: false,
      fulfillment_service: "manual",
      applied_discounts: [],
      discount_allocations: [],
      tax_lines: [],
      properties: {},
    };
  });
  const total = lines.reduce((sum, line) => sum + inPresentment(line.product.priceMinor) * line.quantity, 0);
  const completed = checkout.order !== null && at >= checkout.order.createdAt;
  const customer = checkout.customer;
  const store = context.shop.replace(/\.myshopify\.com$/, "");
  return {
    id: checkout.id,
    token: checkout.token,
    cart_token: checkout.cartToken,
    email: customer.email,
    gateway: null,
    buyer_accepts_marketing: customer.acceptsMarketing,
    buyer_accepts_sms: false,
    sms_marketing_phone: null,
    created_at: formatShopTime(checkout.createdAt, tz),
    updated_at: formatShopTime(at, tz),
    landing_site: "/",
    note: null,
    note_attributes: [],
    referring_site: "",
    shipping_lines: [],
    taxes_included: false,
    total_weight: lines.reduce((sum, line) => sum + line.product.grams * line.quantity, 0),
    currency: context.currency,
    completed_at: completed ? formatShopTime(checkout.order!.createdAt, tz) : null,
    closed_at: null,
    user_id: null,
    location_id: null,
    source_identifier: null,
    source_url: null,
    device_id: null,
    phone: null,
    customer_locale: "en",
    line_items: lineItems,
    name: `#${checkout.id}`,
    source: null,
    abandoned_checkout_url: `https://${store}.myshopify.com/59876543210/checkouts/ac/${checkout.cartToken}/recover?key=${checkout.token.slice(0, 16)}`,
    discount_codes: [],
    tax_lines: [],
    source_name: "web",
    presentment_currency: checkout.currency,
    total_discounts: "0.00",
    total_line_items_price: formatAmount(total),
    total_tax: "0.00",
    subtotal_price: formatAmount(total),
    total_price: formatAmount(total),
    total_duties: null,
    reservation_token: null,
    customer: { ...renderCustomer(customer, at, context, true), admin_graphql_api_id: gid("Customer", customer.id) },
  };
}
