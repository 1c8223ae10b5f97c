import { CATALOGUE, type DemoProduct, type DemoVariant } from "./catalogue";
import { EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES } from "./names";
import { Random } from "~/analytics/random";
import { REGIONS, STORE_REGION, type Region } from "./regions";

// A synthetic direct-to-consumer store: customers, their orders over a few years, and
// what happened to those orders afterwards (edits, fulfilment, refunds, cancellations).
// Pure: the same options always give the same store. payloads.ts renders it as
// Shopify webhook bodies; deliveries.ts turns it into a delivery sequence.
//
// Purchases follow a BG/NBD-like process, so CLV models fitted on the result have real
// signal: each customer has their own purchase rate (Gamma across customers) and, after
// every purchase, a chance of never coming back (Beta across customers); purchase times
// are modulated by the season (Black Friday / Cyber Monday, December, a slow January).
// Order values have a per-customer spend level (log-normal), as Gamma-Gamma assumes.

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const YEAR = 365.25 * DAY;

export type Channel = "web" | "pos" | "shopify_draft_order" | "social";

export const CHANNELS: Record<Channel, { sourceName: string; appId: number; label: string }> = {
  web: { sourceName: "web", appId: 580_111, label: "Online Store" },
  pos: { sourceName: "pos", appId: 129_785, label: "Point of Sale" },
  shopify_draft_order: { sourceName: "shopify_draft_order", appId: 1_354_745, label: "Draft Orders" },
  // Orders from a sales-channel app carry the app's id as their source_name.
  social: { sourceName: "2329312", appId: 2_329_312, label: "Facebook & Instagram" },
};

export interface DemoStoreOptions {
  /** Same seed, same store. */
  seed?: string;
  shop?: string;
  shopName?: string;
  timezone?: string;
  /** The last moment of the store's history (the demo uses "today"). */
  endAt: Date;
  /** Length of the history. */
  years?: number;
  /** Customer accounts (a few never order). */
  customers?: number;
  /** Shares of orders (approximate, drawn at random). */
  guestShare?: number;
  refundShare?: number;
  cancelShare?: number;
  editShare?: number;
  /** Share of shipped orders whose fulfilment is delivered as an orders/updated webhook. */
  fulfillmentUpdateShare?: number;
  testOrders?: number;
  neverOrderedShare?: number;
}

export interface DemoCustomer {
  id: number;
  firstName: string;
  lastName: string;
  email: string;
  phone: string | null;
  region: Region;
  city: string;
  zip: string;
  address1: string;
  addressId: number;
  createdAt: number;
  tags: string[];
  acceptsMarketing: boolean;
  /** The shop owner's own account, used for test orders. */
  staff: boolean;
  /** Signed up for a customer account ("enabled"); otherwise created at checkout ("disabled"). */
  hasAccount: boolean;
  /** Multiplier on this customer's basket size (heterogeneous spend). */
  spendLevel: number;
  orders: DemoOrder[];
}

export interface DemoLine {
  id: number;
  product: DemoProduct;
  variant: DemoVariant;
  quantity: number;
  priceMinor: number;
  /** This line's share of the order's discount code. */
  discountMinor: number;
  taxMinor: number;
  /** Set when the line was added later by an order edit. */
  addedAt: number | null;
}

export interface DemoRefundLine {
  id: number;
  line: DemoLine;
  quantity: number;
  /** Money back for the items: price x quantity less their share of the discount. */
  subtotalMinor: number;
  taxMinor: number;
  discountMinor: number;
}

export interface DemoRefund {
  id: number;
  createdAt: number;
  lines: DemoRefundLine[];
  shippingMinor: number;
  note: string | null;
  transactionId: number;
}

export type CancelReason = "customer" | "inventory" | "fraud" | "declined";

export interface DemoCancellation {
  at: number;
  reason: CancelReason;
  /** Paid orders are refunded in full; declined payments are voided, nothing to refund. */
  refund: DemoRefund | null;
}

export interface DemoDiscount {
  code: string;
  percent: number;
}

export interface DemoOrder {
  id: number;
  number: number;
  customer: DemoCustomer | null;
  email: string | null;
  region: Region;
  city: string;
  zip: string;
  address1: string;
  firstName: string;
  lastName: string;
  channel: Channel;
  gateway: string;
  processedAt: number;
  createdAt: number;
  test: boolean;
  /** Lines bought at checkout, then any added by an edit (addedAt set). */
  lines: DemoLine[];
  discount: DemoDiscount | null;
  shippingMinor: number;
  shippingTitle: string | null;
  shippingLineId: number;
  taxRate: number;
  fulfilledAt: number | null;
  /** Fulfilment is delivered as its own orders/updated webhook. */
  fulfillmentNotified: boolean;
  editedAt: number | null;
  refund: DemoRefund | null;
  cancellation: DemoCancellation | null;
  token: string;
  cartToken: string | null;
  checkoutId: number | null;
  checkoutToken: string | null;
  confirmationNumber: string;
  browserIp: string | null;
  landingSite: string | null;
  referringSite: string | null;
  tags: string[];
  note: string | null;
  transactionId: number;
}

export interface DemoStore {
  options: Required<DemoStoreOptions>;
  startAt: number;
  endAt: number;
  customers: DemoCustomer[];
  /** Every order, in the order it was placed. */
  orders: DemoOrder[];
}

export const DEFAULT_STORE_OPTIONS = {
  seed: "tenure-demo",
  shop: "tenure-demo.myshopify.com",
  shopName: "Northfold Outfitters (demo)",
  timezone: "America/New_York",
  years: 2.5,
  customers: 3_600,
  guestShare: 0.03,
  refundShare: 0.05,
  cancelShare: 0.02,
  editShare: 0.03,
  fulfillmentUpdateShare: 0.3,
  testOrders: 5,
  neverOrderedShare: 0.05,
} as const;

// BG/NBD-like parameters, per year: purchase rate ~ Gamma(shape, scale), dropout after
// each purchase ~ Beta(a, b). Tuned so about a quarter of buyers buy again within
// the history, with a long tail of loyal customers.
const RATE_SHAPE = 0.75;
const RATE_SCALE = 2.2;
const DROPOUT_A = 2.2;
const DROPOUT_B = 2.3;

// ---------------------------------------------------------------- calendar

/** Shop-local calendar fields for seasonality (a fixed UTC-5 is close enough for that). */
function localDate(at: number): { year: number; month: number; day: number; hour: number } {
  const d = new Date(at - 5 * HOUR);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth(), day: d.getUTCDate(), hour: d.getUTCHours() };
}

/** Black Friday (the day after the fourth Thursday of November), as [month day]. */
export function blackFridayDay(year: number): number {
  const novFirst = new Date(Date.UTC(year, 10, 1)).getUTCDay();
  const firstThursday = 1 + ((4 - novFirst + 7) % 7);
  return firstThursday + 21 + 1;
}

/** Black Friday through Cyber Monday, shop-local. */
export function isBfcm(at: number): boolean {
  const { year, month, day } = localDate(at);
  if (month !== 10 && month !== 11) return false;
  const bf = blackFridayDay(year);
  const dayOfSeason = month === 10 ? day : day + 30;
  return dayOfSeason >= bf && dayOfSeason <= bf + 3;
}

const MONTH_FACTOR = [0.8, 0.78, 0.92, 1.0, 1.05, 0.95, 0.9, 0.95, 0.97, 1.05, 1.3, 1.55];
const SEASON_MAX = 1.3 * 3.2;

/** Relative demand at a moment: month, the BFCM weekend, pre-Christmas, the lull after. */
export function seasonality(at: number): number {
  const { month, day } = localDate(at);
  let factor = MONTH_FACTOR[month];
  if (isBfcm(at)) factor *= 3.2;
  else if (month === 11 && day <= 20) factor *= 1.15;
  else if (month === 11 && day >= 24) factor *= 0.7;
  return factor;
}

// Relative orders by local hour (evening peak online, daytime in the shop).
const ONLINE_HOURS = [2, 1, 1, 1, 1, 2, 3, 5, 7, 8, 9, 10, 11, 11, 10, 9, 9, 10, 12, 14, 15, 13, 9, 5];
const SHOP_HOURS = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 8, 10, 10, 9, 9, 9, 10, 9, 6, 0, 0, 0, 0];
const HOURS = Array.from({ length: 24 }, (_, hour) => hour);

/** Moves `at` to a plausible time of day on the same local day. */
function atTimeOfDay(rng: Random, at: number, channel: Channel): number {
  const { hour } = localDate(at);
  const weights = channel === "pos" ? SHOP_HOURS : ONLINE_HOURS;
  const newHour = rng.weighted(HOURS, (h) => weights[h]);
  const startOfHour = at - (at % HOUR);
  return startOfHour + (newHour - hour) * HOUR + rng.int(0, HOUR / 1000 - 1) * 1000;
}

// ---------------------------------------------------------------- helpers

/** Splits `total` across `weights` proportionally, exactly (largest remainder). */
export function allocate(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum <= 0) return weights.map(() => 0);
  const raw = weights.map((w) => (total * w) / sum);
  const floors = raw.map(Math.floor);
  let rest = total - floors.reduce((a, b) => a + b, 0);
  const order = raw.map((value, index) => ({ index, frac: value - Math.floor(value) })).sort((a, b) => b.frac - a.frac || a.index - b.index);
  for (const { index } of order) {
    if (rest <= 0) break;
    floors[index] += 1;
    rest -= 1;
  }
  return floors;
}

function taxOf(amountMinor: number, rate: number): number {
  return Math.round(amountMinor * rate);
}

/** Samples a time in [from, to] with density proportional to demand x growth. */
function sampleDemandTime(rng: Random, from: number, to: number, growthPerYear: number): number {
  const span = to - from;
  const growthMax = Math.exp(growthPerYear * (span / YEAR));
  for (;;) {
    const at = from + rng.next() * span;
    const weight = seasonality(at) * Math.exp(growthPerYear * ((at - from) / YEAR));
    if (rng.next() * SEASON_MAX * growthMax < weight) return at;
  }
}

/** Next purchase after `from` for a customer buying at `ratePerYear`, modulated by season (thinning). */
function nextPurchase(rng: Random, from: number, ratePerYear: number, until: number): number | null {
  let at = from;
  const bound = (ratePerYear * SEASON_MAX) / YEAR;
  for (;;) {
    at += rng.exponential(bound);
    if (at > until) return null;
    // A few days at least between orders: same-day repeats are rare in this business.
    if (at - from < 2 * DAY) continue;
    if (rng.next() * SEASON_MAX < seasonality(at)) return at;
  }
}

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
  return { options, startAt, endAt, customers: [...customers].sort((a, b) => a.createdAt - b.createdAt), orders };
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

// ---------------------------------------------------------------- state at a moment

export interface LineState {
  line: DemoLine;
  currentQuantity: number;
  currentDiscountMinor: number;
  currentTaxMinor: number;
}

export interface Totals {
  /** Sum of price x quantity. */
  lineItemsMinor: number;
  discountsMinor: number;
  /** Line items less discounts. */
  subtotalMinor: number;
  shippingMinor: number;
  taxMinor: number;
  /** Subtotal + shipping + tax. */
  totalMinor: number;
}

export interface OrderState {
  lines: LineState[];
  refunds: DemoRefund[];
  cancelled: DemoCancellation | null;
  fulfilled: boolean;
  updatedAt: number;
  financialStatus: "paid" | "partially_refunded" | "refunded" | "voided";
  /** As placed (and edited): total_* fields. */
  original: Totals;
  /** After refunds, edits and cancellation: current_total_* fields. */
  current: Totals;
}

/** Money a refund returned, in shop money: items (subtotal + tax) and shipping. */
export function refundTotalMinor(refund: DemoRefund): number {
  return refund.lines.reduce((sum, l) => sum + l.subtotalMinor + l.taxMinor, 0) + refund.shippingMinor;
}

/** The order as Shopify would describe it at `at` (every change up to and including `at`). */
export function orderStateAt(order: DemoOrder, at: number): OrderState {
  const lines = order.lines.filter((line) => line.addedAt === null || line.addedAt <= at);
  const refunds = [order.refund, order.cancellation?.refund].filter((r): r is DemoRefund => r != null && r.createdAt <= at);
  const cancelled = order.cancellation && order.cancellation.at <= at ? order.cancellation : null;
  const lineStates = lines.map((line): LineState => {
    let quantity = line.quantity;
    let discount = line.discountMinor;
    let tax = line.taxMinor;
    for (const refund of refunds) {
      for (const refunded of refund.lines) {
        if (refunded.line !== line) continue;
        quantity -= refunded.quantity;
        discount -= refunded.discountMinor;
        tax -= refunded.taxMinor;
      }
    }
    // A cancelled order keeps its lines with nothing left to fulfil or pay.
    if (cancelled) return { line, currentQuantity: 0, currentDiscountMinor: 0, currentTaxMinor: 0 };
    return { line, currentQuantity: quantity, currentDiscountMinor: discount, currentTaxMinor: tax };
  });
  const refundedShipping = refunds.reduce((sum, r) => sum + r.shippingMinor, 0);
  const totals = (quantity: (s: LineState) => number, discount: (s: LineState) => number, tax: (s: LineState) => number, shipping: number): Totals => {
    const lineItemsMinor = lineStates.reduce((sum, s) => sum + s.line.priceMinor * quantity(s), 0);
    const discountsMinor = lineStates.reduce((sum, s) => sum + discount(s), 0);
    const taxMinor = lineStates.reduce((sum, s) => sum + tax(s), 0);
    const subtotalMinor = lineItemsMinor - discountsMinor;
    return { lineItemsMinor, discountsMinor, subtotalMinor, shippingMinor: shipping, taxMinor, totalMinor: subtotalMinor + shipping + taxMinor };
  };
  const original = totals((s) => s.line.quantity, (s) => s.line.discountMinor, (s) => s.line.taxMinor, order.shippingMinor);
  const current = totals(
    (s) => s.currentQuantity,
    (s) => s.currentDiscountMinor,
    (s) => s.currentTaxMinor,
    cancelled ? 0 : order.shippingMinor - refundedShipping,
  );
  const refundedMinor = refunds.reduce((sum, r) => sum + refundTotalMinor(r), 0);
  const financialStatus =
    cancelled && !cancelled.refund ? "voided" : refundedMinor === 0 ? "paid" : refundedMinor >= original.totalMinor ? "refunded" : "partially_refunded";
  const changes = [
    order.createdAt + 2_000,
    order.editedAt,
    order.fulfilledAt !== null && order.fulfilledAt > order.createdAt ? order.fulfilledAt : null,
    ...refunds.map((r) => r.createdAt + 2_000),
    cancelled ? cancelled.at + 2_000 : null,
  ].filter((t): t is number => t !== null && t <= Math.max(at, order.createdAt + 2_000));
  return {
    lines: lineStates,
    refunds,
    cancelled,
    fulfilled: order.fulfilledAt !== null && order.fulfilledAt <= at && !cancelled,
    updatedAt: Math.max(...changes),
    financialStatus,
    original,
    current,
  };
}

/** The customer's updated_at as seen at `at`: account creation, then each order placed. */
export function customerUpdatedAt(customer: DemoCustomer, at: number): number {
  let updated = customer.createdAt + 1_000;
  for (const order of customer.orders) {
    if (order.createdAt <= at) updated = Math.max(updated, order.createdAt + 1_000);
  }
  return updated;
}
