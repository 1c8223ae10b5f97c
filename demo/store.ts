import { CATALOGUE, type DemoProduct, type DemoVariant } from "./catalogue";
import { generateConsent } from "./consent";
import { EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES } from "./names";
import { Random } from "~/analytics/random";
import { REGIONS, STORE_REGION } from "./regions";
import { allocate, atTimeOfDay, isBfcm, localDate, nextPurchase, sampleDemandTime, taxOf } from "./calendar";
import {
  type CancelReason,
  type Channel,
  DAY,
  DEFAULT_STORE_OPTIONS,
  type DemoCustomer,
  type DemoDiscount,
  type DemoLine,
  type DemoOrder,
  type DemoRefund,
  type DemoRefundLine,
  type DemoStore,
  type DemoStoreOptions,
  HOUR,
  MINUTE,
  YEAR,
} from "./store-model";

// A synthetic direct-to-consumer store: customers, their orders over a few years, and
// what happened to those orders afterwards (edits, fulfilment, refunds, cancellations).
// Pure: the same options always give the same store. Its shape is store-model.ts, its
// calendar calendar.ts, an order's state at a moment order-state.ts; payloads.ts renders
// it as Shopify webhook bodies; deliveries.ts turns it into a delivery sequence.
//
// Purchases follow a BG/NBD-like process, so CLV models fitted on the result have real
// signal: each customer has their own purchase rate (Gamma across customers) and, after
// every purchase, a chance of never coming back (Beta across customers); purchase times
// are modulated by the season (Black Friday / Cyber Monday, December, a slow January).
// Order values have a per-customer spend level (log-normal), as Gamma-Gamma assumes.

// the history, with a long tail of loyal customers.
const RATE_SHAPE = 0.75;
const RATE_SCALE = 2.2;
const DROPOUT_A = 2.2;
const DROPOUT_B = 2.3;

// ---------------------------------------------------------------- baskets

interface BasketItem {
  product: DemoProduct;
  variant: DemoVariant;
  quantity: number;
}

function buildBasket(rng: Random, targetMinor: number, at: number): BasketItem[] {
  const { month } = localDate(at);
  const winterSeason = month >= 9 || month <= 1;
  const weight = (p: DemoProduct) => p.popularity * (p.winter ? (winterSeason ? 2 : 0.5) : 1);
  const items: BasketItem[] = [];
  let remaining = targetMinor;
  const cheapest = [...CATALOGUE].sort((a, b) => a.priceMinor - b.priceMinor).slice(0, 6);
  do {
    let candidates = CATALOGUE.filter(
      (p) => p.priceMinor <= remaining * 1.3 && !items.some((item) => item.product.id === p.id),
    );
    if (candidates.length === 0) {
      if (items.length > 0) break;
      candidates = cheapest;
    }
    const product = rng.weighted(candidates, weight);
    let quantity = 1;
    if (product.multiples) {
      quantity = rng.weighted([1, 2, 3], (q) => [0.55, 0.3, 0.15][q - 1]);
      while (quantity > 1 && product.priceMinor * quantity > remaining * 1.4) quantity -= 1;
    }
    items.push({ product, variant: rng.pick(product.variants), quantity });
    remaining -= product.priceMinor * quantity;
  } while (remaining > 1_500 && items.length < 6 && rng.chance(0.8));
  return items;
}

// ---------------------------------------------------------------- the store

interface PurchasePlan {
  at: number;
  customer: DemoCustomer | null;
  channel: Channel;
  test: boolean;
  previousOrders: number;
}

const SHIPPING = { standard: 695, express: 1_495, freeFromMinor: 7_500 } as const;

/** Generates the store. Deterministic in its options. */
export function generateStore(input: DemoStoreOptions): DemoStore {
  const options: Required<DemoStoreOptions> = { ...DEFAULT_STORE_OPTIONS, ...stripUndefined(input), endAt: input.endAt };
  if (!(options.customers >= 1)) throw new Error("customers must be at least 1");
  if (!(options.years > 0)) throw new Error("years must be positive");
  const endAt = Math.floor(options.endAt.getTime() / 1000) * 1000;
  if (!Number.isFinite(endAt)) throw new Error("endAt must be a valid date");
  const startAt = endAt - Math.round(options.years * YEAR);

  const root = new Random(options.seed);
  const customerRng = root.fork("customers");
  const purchaseRng = root.fork("purchases");
  const orderRng = root.fork("orders");
  const eventRng = root.fork("events");

  // Customers, each with a purchase history drawn from the BG/NBD-like process.
  const customers: DemoCustomer[] = [];
  const plans: PurchasePlan[] = [];
  const emails = new Set<string>();
  const createdAtCheckout = new Set<DemoCustomer>();
  const growthPerYear = Math.log(1.6);

  const newCustomer = (createdAt: number, staff = false): DemoCustomer => {
    const firstName = staff ? "Robin" : customerRng.pick(FIRST_NAMES);
    const lastName = staff ? "Northfold" : customerRng.pick(LAST_NAMES);
    const region = staff ? STORE_REGION : customerRng.weighted(REGIONS, (r) => r.weight);
    const place = customerRng.pick(region.cities);
    let email = staff
      ? "owner@northfold.example.com"
      : `${firstName}.${lastName}`.toLowerCase().replace(/[^a-z.]/g, "") + `@${customerRng.pick(EMAIL_DOMAINS)}`;
    for (let n = 2; emails.has(email); n++) email = email.replace(/(\d*)@/, `${n}@`);
    emails.add(email);
    const acceptsMarketing = staff ? false : customerRng.chance(0.55);
    const tags: string[] = [];
    if (acceptsMarketing) tags.push("newsletter");
    if (!staff && customerRng.chance(0.04)) tags.push("wholesale");
    if (staff) tags.push("staff");
    return {
      id: 0,
      firstName,
      lastName,
      email,
      phone: customerRng.chance(0.45) ? `${region.phonePrefix}555${String(customerRng.int(1_000_000, 9_999_999))}` : null,
      region,
      city: place.city,
      zip: place.zip,
      address1: `${customerRng.int(1, 980)} ${customerRng.pick(["Main", "Oak", "Maple", "Cedar", "Park", "Lake", "Hill", "River", "Bank", "Mill"])} ${customerRng.pick(["Street", "Avenue", "Road", "Lane"])}`,
      addressId: 0,
      createdAt,
      tags,
      acceptsMarketing,
      emailConsent: [],
      smsConsent: [],
      staff,
      hasAccount: true,
      spendLevel: staff ? 1 : customerRng.logNormal(0, 0.35),
      orders: [],
    };
  };

  for (let i = 0; i < options.customers; i++) {
    const neverOrdered = customerRng.chance(options.neverOrderedShare);
    const firstAt = sampleDemandTime(customerRng, startAt, endAt, growthPerYear);
    // Most accounts are created at checkout; some sign up first and buy days later.
    const signedUpFirst = customerRng.chance(0.2);
    const createdAt = neverOrdered
      ? firstAt
      : signedUpFirst
        ? Math.max(startAt, firstAt - customerRng.exponential(1 / (12 * DAY)))
        : firstAt - customerRng.int(20, 300) * 1000;
    const customer = newCustomer(Math.floor(createdAt / 1000) * 1000);
    customers.push(customer);
    if (neverOrdered) continue;
    if (!signedUpFirst) {
      createdAtCheckout.add(customer);
      customer.hasAccount = false;
    }

    const rate = purchaseRng.gamma(RATE_SHAPE, RATE_SCALE);
    const dropout = purchaseRng.beta(DROPOUT_A, DROPOUT_B);
    const times = [firstAt];
    for (;;) {
      if (purchaseRng.chance(dropout)) break;
      const next = nextPurchase(purchaseRng, times[times.length - 1], rate, endAt);
      if (next === null) break;
      times.push(next);
    }
    times.forEach((at, index) => {
      const channel: Channel =
        customer.tags.includes("wholesale") && purchaseRng.chance(0.5)
          ? "shopify_draft_order"
          : purchaseRng.weighted<Channel>(["web", "pos", "social", "shopify_draft_order"], (c) =>
              index === 0 ? { web: 80, pos: 8, social: 10, shopify_draft_order: 2 }[c] : { web: 86, pos: 9, social: 3, shopify_draft_order: 2 }[c],
            );
      plans.push({ at, customer, channel, test: false, previousOrders: index });
    });
  }

  // Guest orders (no customer account), mostly rung up in the shop.
  const customerPlanCount = plans.length;
  const guests = Math.round((customerPlanCount * options.guestShare) / (1 - options.guestShare));
  for (let i = 0; i < guests; i++) {
    const at = sampleDemandTime(purchaseRng, startAt, endAt, growthPerYear);
    plans.push({ at, customer: null, channel: purchaseRng.chance(0.8) ? "pos" : "shopify_draft_order", test: false, previousOrders: 0 });
  }

  // The owner's test orders: most while setting the shop up, one or two later.
  if (options.testOrders > 0) {
    const owner = newCustomer(startAt - 10 * DAY, true);
    customers.push(owner);
    for (let i = 0; i < options.testOrders; i++) {
      const at = i < Math.ceil(options.testOrders * 0.6) ? startAt + (i + 1) * 3 * HOUR : startAt + purchaseRng.next() * (endAt - startAt);
      plans.push({ at, customer: owner, channel: "web", test: true, previousOrders: 0 });
    }
  }

  // Orders, in the order they were placed (ids and numbers grow with time, as Shopify's do).
  const placed = plans
    .map((plan) => ({ ...plan, at: Math.min(endAt - 10 * MINUTE, Math.max(startAt, atTimeOfDay(orderRng, plan.at, plan.channel))) }))
    .sort((a, b) => a.at - b.at);
  const orders = placed.map((plan) => buildOrder(orderRng, plan));
  // Placing moved orders within their day: an account created at checkout is created
  // seconds before its first order, one created at sign-up at least a minute before.
  const seen = new Set<DemoCustomer>();
  for (const order of orders) {
    const customer = order.customer;
    if (!customer || customer.staff || seen.has(customer)) continue;
    seen.add(customer);
    customer.createdAt = createdAtCheckout.has(customer)
      ? order.processedAt - customerRng.int(20, 300) * 1000
      : Math.min(customer.createdAt, order.processedAt - MINUTE);
  }

  // What happened afterwards.
  for (const order of orders) planAftermath(eventRng, order, endAt, options);

  // Ids last, by creation time, so they increase like real ones.
  assignIds(customers, orders);
  for (const order of orders) order.customer?.orders.push(order);
  const sorted = [...customers].sort((a, b) => a.createdAt - b.createdAt);
  // Consent last, from a stream of its own: adding it changed none of the other draws.
  generateConsent(root.fork("consent"), sorted);
  return { options, startAt, endAt, customers: sorted, orders };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function chooseDiscount(rng: Random, plan: PurchasePlan): DemoDiscount | null {
  const { at, channel, customer, previousOrders } = plan;
  if (plan.test) return rng.chance(0.5) ? { code: "WELCOME10", percent: 10 } : null;
  const { month, day } = localDate(at);
  if (isBfcm(at)) return rng.chance(0.75) ? { code: "BFCM25", percent: 25 } : null;
  if (channel === "pos" || channel === "shopify_draft_order") return null;
  if (month === 11 && day <= 20 && rng.chance(0.3)) return { code: "HOLIDAY15", percent: 15 };
  if (previousOrders === 0 && customer?.acceptsMarketing && rng.chance(0.45)) return { code: "WELCOME10", percent: 10 };
  if (previousOrders >= 3 && rng.chance(0.2)) return { code: "LOYAL20", percent: 20 };
  if ((month === 2 && day >= 10) || (month === 3 && day <= 10)) {
    if (rng.chance(0.2)) return { code: "SPRING20", percent: 20 };
  }
  if (rng.chance(0.04)) return { code: "FRIENDS15", percent: 15 };
  return null;
}

function buildOrder(rng: Random, plan: PurchasePlan): DemoOrder {
  const customer = plan.customer;
  const region = plan.channel === "pos" ? STORE_REGION : (customer?.region ?? rng.weighted(REGIONS, (r) => r.weight));
  const place = customer && plan.channel !== "pos" ? { city: customer.city, zip: customer.zip } : rng.pick(region.cities);
  const spendLevel = customer?.spendLevel ?? rng.logNormal(0, 0.35);
  const channelFactor = plan.channel === "shopify_draft_order" ? 2.4 : plan.channel === "pos" ? 0.85 : 1;
  const target = spendLevel * channelFactor * rng.logNormal(Math.log(6_000), 0.45);
  const basket = buildBasket(rng, target, plan.at);
  const discount = chooseDiscount(rng, plan);
  const lineTotals = basket.map((item) => item.product.priceMinor * item.quantity);
  const itemsTotal = lineTotals.reduce((a, b) => a + b, 0);
  const discountTotal = discount ? Math.round((itemsTotal * discount.percent) / 100) : 0;
  const discounts = allocate(discountTotal, lineTotals);
  const taxRate = region.taxRate;
  const lines: DemoLine[] = basket.map((item, index) => ({
    id: 0,
    product: item.product,
    variant: item.variant,
    quantity: item.quantity,
    priceMinor: item.product.priceMinor,
    discountMinor: discounts[index],
    taxMinor: taxOf(lineTotals[index] - discounts[index], taxRate),
    addedAt: null,
  }));
  const subtotal = itemsTotal - discountTotal;
  let shippingMinor = 0;
  let shippingTitle: string | null = null;
  if (plan.channel !== "pos") {
    const express = rng.chance(0.15);
    shippingTitle = express ? "Express" : subtotal >= SHIPPING.freeFromMinor ? "Free Shipping" : "Standard";
    shippingMinor = express ? SHIPPING.express : subtotal >= SHIPPING.freeFromMinor ? 0 : SHIPPING.standard;
  }
  const processedAt = Math.floor(plan.at / 1000) * 1000;
  const online = plan.channel === "web" || plan.channel === "social";
  const guestName = { firstName: rng.pick(FIRST_NAMES), lastName: rng.pick(LAST_NAMES) };
  const tags: string[] = [];
  if (plan.previousOrders === 0 && customer && !plan.test) tags.push("first-order");
  if (customer?.tags.includes("wholesale")) tags.push("wholesale");
  if (plan.channel === "social") tags.push("instagram");
  return {
    id: 0,
    number: 0,
    customer,
    email: customer?.email ?? (plan.channel === "pos" ? null : `${guestName.firstName}.${guestName.lastName}`.toLowerCase().replace(/[^a-z.]/g, "") + "@example.com"),
    region,
    city: place.city,
    zip: place.zip,
    address1: customer?.address1 ?? `${rng.int(1, 400)} Broadway`,
    firstName: customer?.firstName ?? guestName.firstName,
    lastName: customer?.lastName ?? guestName.lastName,
    channel: plan.channel,
    gateway: plan.test ? "bogus" : plan.channel === "pos" && rng.chance(0.2) ? "cash" : plan.channel === "shopify_draft_order" && rng.chance(0.4) ? "manual" : "shopify_payments",
    processedAt,
    createdAt: processedAt + rng.int(1, 3) * 1000,
    test: plan.test,
    lines,
    discount,
    shippingMinor,
    shippingTitle,
    shippingLineId: 0,
    taxRate,
    fulfilledAt: null,
    fulfillmentNotified: false,
    editedAt: null,
    refund: null,
    cancellation: null,
    token: rng.hex(32),
    cartToken: online ? `Z2NwLXVzLWVhc3QxOjAx${rng.hex(22).toUpperCase()}` : null,
    checkoutId: online ? rng.int(30_000_000, 39_999_999) * 1_000_000 + rng.int(0, 999_999) : null,
    checkoutToken: online ? rng.hex(32) : null,
    confirmationNumber: Array.from({ length: 9 }, () => rng.pick([..."ABCDEFGHJKLMNPQRSTUVWXYZ23456789"])).join(""),
    browserIp: online ? `198.51.100.${rng.int(1, 254)}` : null,
    landingSite: online ? rng.pick(["/", "/collections/new", "/products/merino-crew-sock", "/collections/outerwear?utm_source=newsletter", "/?utm_source=instagram"]) : null,
    referringSite: online ? rng.pick(["https://www.google.com/", "https://www.instagram.com/", "", "https://duckduckgo.com/"]) : null,
    tags,
    note: rng.chance(0.03) ? rng.pick(["Gift - please leave off the receipt", "Leave at the back door", "Happy birthday Sam!"]) : null,
    transactionId: 0,
  };
}

/** Edits, fulfilment, refunds and cancellations that happened to an order before endAt. */
function planAftermath(rng: Random, order: DemoOrder, endAt: number, options: Required<DemoStoreOptions>): void {
  const shipped = order.channel !== "pos";
  const roll = rng.next();
  if (order.test) {
    if (order.createdAt + HOUR < endAt) order.cancellation = { at: order.createdAt + HOUR, reason: "customer", refund: null };
    return;
  }
  // Cancellations come before fulfilment; point-of-sale sales are not cancelled.
  if (shipped && roll < options.cancelShare / 0.85) {
    const at = order.createdAt + rng.int(10 * 60, 36 * 3_600) * 1000;
    if (at < endAt) {
      const reason = rng.weighted<CancelReason>(["customer", "inventory", "fraud", "declined"], (r) => ({ customer: 60, inventory: 15, fraud: 10, declined: 15 })[r]);
      const refund = reason === "declined" ? null : fullRefund(order, at, "Order cancelled");
      order.cancellation = { at, reason, refund };
      return;
    }
  }
  if (shipped && rng.chance(options.editShare)) {
    const at = order.createdAt + rng.int(20 * 60, 20 * 3_600) * 1000;
    if (at < endAt) {
      const addOn = rng.weighted(CATALOGUE.filter((p) => p.priceMinor <= 3_000 && !order.lines.some((l) => l.product.id === p.id)), (p) => p.popularity);
      order.lines.push({
        id: 0,
        product: addOn,
        variant: rng.pick(addOn.variants),
        quantity: 1,
        priceMinor: addOn.priceMinor,
        discountMinor: 0,
        taxMinor: taxOf(addOn.priceMinor, order.taxRate),
        addedAt: at,
      });
      order.editedAt = at;
    }
  }
  if (shipped) {
    const after = order.editedAt ?? order.createdAt;
    const at = after + rng.int(6 * 3_600, 4 * 24 * 3_600) * 1000;
    if (at < endAt) {
      order.fulfilledAt = at;
      order.fulfillmentNotified = rng.chance(options.fulfillmentUpdateShare);
    }
  } else {
    order.fulfilledAt = order.createdAt;
  }
  if (rng.chance(options.refundShare / 0.82)) {
    const after = order.fulfilledAt ?? order.createdAt;
    const at = after + rng.int(2 * 24 * 3_600, 30 * 24 * 3_600) * 1000;
    if (at >= endAt || (shipped && order.fulfilledAt === null)) return;
    if (rng.chance(0.4)) {
      order.refund = fullRefund(order, at, rng.pick(["Returned: did not fit", "Changed mind", "Damaged in transit"]), rng.chance(0.5));
    } else {
      const line = rng.pick(order.lines.filter((l) => l.addedAt === null || l.addedAt <= at));
      const quantity = line.quantity > 1 && rng.chance(0.6) ? 1 : line.quantity;
      order.refund = {
        id: 0,
        createdAt: at,
        lines: [refundLine(line, quantity)],
        shippingMinor: 0,
        note: rng.pick(["Wrong size", "Did not fit", "Colour not as pictured", null]),
        transactionId: 0,
      };
    }
  }
}

function refundLine(line: DemoLine, quantity: number): DemoRefundLine {
  const discountMinor = quantity === line.quantity ? line.discountMinor : Math.round((line.discountMinor * quantity) / line.quantity);
  const taxMinor = quantity === line.quantity ? line.taxMinor : Math.round((line.taxMinor * quantity) / line.quantity);
  return { id: 0, line, quantity, subtotalMinor: line.priceMinor * quantity - discountMinor, taxMinor, discountMinor };
}

function fullRefund(order: DemoOrder, at: number, note: string, withShipping = true): DemoRefund {
  return {
    id: 0,
    createdAt: at,
    lines: order.lines.filter((l) => l.addedAt === null || l.addedAt <= at).map((l) => refundLine(l, l.quantity)),
    shippingMinor: withShipping ? order.shippingMinor : 0,
    note,
    transactionId: 0,
  };
}

function assignIds(customers: DemoCustomer[], orders: DemoOrder[]): void {
  [...customers]
    .sort((a, b) => a.createdAt - b.createdAt || a.email.localeCompare(b.email))
    .forEach((customer, index) => {
      customer.id = 7_412_000_000_000 + index * 2_131 + 17;
      customer.addressId = 9_187_000_000_000 + index * 1_913 + 5;
    });
  let lineSeq = 0;
  let refundSeq = 0;
  let refundLineSeq = 0;
  let transactionSeq = 0;
  const refunds = (order: DemoOrder) => [order.refund, order.cancellation?.refund].filter((r): r is DemoRefund => r != null);
  orders.forEach((order, index) => {
    order.id = 5_912_000_000_000 + index * 1_873 + 11;
    order.number = 1_001 + index;
    order.shippingLineId = 4_946_000_000_000 + index * 61;
    order.transactionId = 7_512_000_000_000 + ++transactionSeq * 29;
    for (const line of order.lines) line.id = 15_312_000_000_000 + ++lineSeq * 17;
  });
  // Refund ids follow refund time, not order time.
  const allRefunds = orders.flatMap(refunds).sort((a, b) => a.createdAt - b.createdAt);
  for (const refund of allRefunds) {
    refund.id = 1_012_000_000_000 + ++refundSeq * 37;
    refund.transactionId = 7_512_000_000_000 + ++transactionSeq * 29;
    for (const line of refund.lines) line.id = 223_925_000_000 + ++refundLineSeq * 13;
  }
}
