import { type JsonObject, contextOf, renderCustomer } from "./payload-basics";
import { renderOrder, renderRefund } from "./payloads";
import { Random } from "~/analytics/random";
import { CART_ABANDONMENT_WINDOW_DAYS } from "~/analytics/behaviour";
import { type DemoOrder, type DemoRefund, type DemoStore } from "./store-model";
import { customerUpdatedAt, orderStateAt } from "./order-state";
import { consentAsOf } from "./consent";
import { checkoutUpdateTimes, checkoutsOf, renderCheckout } from "./checkouts";
import { costEventsOf } from "./product-costs";

// The demo store as the webhook deliveries Shopify would send, in the order it might send
// them: every event in time order, then a few deliveries resent later with the same
// webhook id (Shopify retries when it saw no 200 in time) and a few orders/updated moved
// ahead of their orders/create (Shopify does not promise order). Pure and deterministic:
// webhook ids come from the store's seed, so re-running the demo resends the same
// deliveries and the intake recognises every one of them.

export type DemoTopic =
  | "customers/create"
  | "orders/create"
  | "orders/updated"
  | "orders/cancelled"
  | "refunds/create"
  | "checkouts/create"
  | "checkouts/update"
  | "products/create"
  | "inventory_items/create"
  | "inventory_items/update";

export interface DemoDelivery {
  topic: DemoTopic;
  /** X-Shopify-Webhook-Id: unique per delivery, repeated when the delivery is resent. */
  webhookId: string;
  /** X-Shopify-Event-Id. */
  eventId: string;
  /** When the event happened (ms); X-Shopify-Triggered-At. */
  at: number;
  /** The JSON body exactly as sent (and signed). */
  body: string;
  /** A resend of a delivery already in the sequence. */
  resend: boolean;
  /** Moved ahead of the orders/create of its order. */
  early: boolean;
}

export interface DeliveryPlanOptions {
  /** Share of deliveries resent later with the same webhook id. */
  duplicateShare?: number;
  /** Share of orders with an update whose first orders/updated is sent before their orders/create. */
  earlyUpdateShare?: number;
}

/** What the database should hold once every delivery is processed. */
export interface ExpectedIngest {
  /** Distinct webhook ids (= delivery rows for the shop). */
  deliveries: number;
  customers: number;
  orders: number;
  testOrders: number;
  guestOrders: number;
  cancelledOrders: number;
  refunds: number;
  /** Customers with at least one order that counts (not a test order). */
  buyers: number;
  repeatBuyers: number;
  /** Sum of final current totals of every order but test orders (guest orders in), shop money: the stored total sales. */
  netRevenueMinor: number;
  /** The orders the app counts (not test, with a customer; the demo excludes nothing) and their net sales and total sales. */
  countedOrders: number;
  countedNetSalesMinor: number;
  countedTotalSalesMinor: number;
  /** Customers by their stored marketing consent (issue 14). */
  consent: ConsentSplit;
  /**
   * Checkouts left without an order since (issue 17: the cart abandoners' carts) started at or
   * after `abandonedSince` (ms): the nightly refit prunes older and settled checkouts
   * (pruneCheckouts), never these, so the count holds before and after a refit.
   */
  abandonedSince: number;
  recentAbandonedCheckouts: number;
}

/** Customers by email consent state, and those subscribed to SMS. */
export interface ConsentSplit {
  emailSubscribed: number;
  emailPending: number;
  emailUnsubscribed: number;
  emailNotSubscribed: number;
  /** No email consent stored (none in the demo: every customer has an email address). */
  emailNone: number;
  smsSubscribed: number;
}

export interface DeliveryPlan {
  deliveries: DemoDelivery[];
  resends: number;
  earlyUpdates: number;
  expected: ExpectedIngest;
}

interface Event {
  topic: DemoTopic;
  at: number;
  /** Tie-break within the same millisecond. */
  sequence: number;
  orderId: number | null;
  render: () => JsonObject;
}

function eventsOf(store: DemoStore): Event[] {
  const context = contextOf(store);
  const events: Event[] = [];
  let sequence = 0;
  const push = (event: Omit<Event, "sequence">) => events.push({ ...event, sequence: sequence++ });

  // Product costs (issue 17): the catalogue and its costs before the first order, the socks' cost rise halfway.
  for (const event of costEventsOf(store, context)) push({ ...event, orderId: null });
  for (const customer of store.customers) {
    push({ topic: "customers/create", at: customer.createdAt + 1_000, orderId: null, render: () => renderCustomer(customer, customer.createdAt + 1_000, context) });
  }
  const refundEvents = (order: DemoOrder, refund: DemoRefund) => {
    push({ topic: "refunds/create", at: refund.createdAt, orderId: order.id, render: () => renderRefund(order, refund, context) });
  };
  for (const order of store.orders) {
    const orderAt = (at: number) => () => renderOrder(order, at, context);
    const created = order.createdAt + 2_000;
    push({ topic: "orders/create", at: created, orderId: order.id, render: orderAt(created) });
    if (order.editedAt !== null) push({ topic: "orders/updated", at: order.editedAt, orderId: order.id, render: orderAt(order.editedAt) });
    if (order.fulfilledAt !== null && order.fulfillmentNotified) {
      push({ topic: "orders/updated", at: order.fulfilledAt, orderId: order.id, render: orderAt(order.fulfilledAt) });
    }
    if (order.refund) {
      refundEvents(order, order.refund);
      const at = order.refund.createdAt + 2_000;
      push({ topic: "orders/updated", at, orderId: order.id, render: orderAt(at) });
    }
    if (order.cancellation) {
      if (order.cancellation.refund) refundEvents(order, order.cancellation.refund);
      const at = order.cancellation.at + 2_000;
      // Shopify sends both topics for a cancellation.
      push({ topic: "orders/cancelled", at, orderId: order.id, render: orderAt(at) });
      push({ topic: "orders/updated", at, orderId: order.id, render: orderAt(at) });
    }
  }
  // Checkouts (cart abandoners, issue 17): started, changed, completed by their order or left.
  for (const checkout of checkoutsOf(store)) {
    push({ topic: "checkouts/create", at: checkout.createdAt, orderId: null, render: () => renderCheckout(checkout, checkout.createdAt, context) });
    for (const at of checkoutUpdateTimes(checkout)) push({ topic: "checkouts/update", at, orderId: null, render: () => renderCheckout(checkout, at, context) });
  }
  return events.sort((a, b) => a.at - b.at || a.sequence - b.sequence);
}

/** Expected rows once everything is ingested (delivery order does not matter). */
export function expectedIngest(store: DemoStore, deliveries: number): ExpectedIngest {
  const counted = store.orders.filter((order) => !order.test);
  const withCustomer = counted.filter((order) => order.customer);
  const perCustomer = new Map<number, number>();
  for (const order of counted) {
    if (order.customer) perCustomer.set(order.customer.id, (perCustomer.get(order.customer.id) ?? 0) + 1);
  }
  const counts = [...perCustomer.values()];
  return {
    deliveries,
    customers: store.customers.length,
    orders: store.orders.length,
    testOrders: store.orders.length - counted.length,
    guestOrders: store.orders.filter((order) => !order.customer).length,
    cancelledOrders: store.orders.filter((order) => order.cancellation).length,
    refunds: store.orders.reduce((n, order) => n + (order.refund ? 1 : 0) + (order.cancellation?.refund ? 1 : 0), 0),
    buyers: counts.length,
    repeatBuyers: counts.filter((n) => n >= 2).length,
    netRevenueMinor: counted.reduce((sum, order) => sum + orderStateAt(order, store.endAt).current.totalMinor, 0),
    countedOrders: withCustomer.length,
    // Net sales = the current subtotal (gross - discounts - returns; no tax in the demo's prices).
    countedNetSalesMinor: withCustomer.reduce((sum, order) => sum + orderStateAt(order, store.endAt).current.subtotalMinor, 0),
    countedTotalSalesMinor: withCustomer.reduce((sum, order) => sum + orderStateAt(order, store.endAt).current.totalMinor, 0),
    consent: expectedConsent(store),
    abandonedSince: store.endAt - CART_ABANDONMENT_WINDOW_DAYS * 86_400_000,
    recentAbandonedCheckouts: checkoutsOf(store).filter((checkout) => checkout.abandoned && checkout.createdAt >= store.endAt - CART_ABANDONMENT_WINDOW_DAYS * 86_400_000).length,
  };
}

/** Each customer's consent as of their last profile update: the latest consent change wins, whatever the delivery order. */
export function expectedConsent(store: DemoStore): ConsentSplit {
  const split: ConsentSplit = { emailSubscribed: 0, emailPending: 0, emailUnsubscribed: 0, emailNotSubscribed: 0, emailNone: 0, smsSubscribed: 0 };
  for (const customer of store.customers) {
    const at = customerUpdatedAt(customer, store.endAt);
    const email = consentAsOf(customer.emailConsent, at)?.state;
    if (email === "SUBSCRIBED") split.emailSubscribed += 1;
    else if (email === "PENDING") split.emailPending += 1;
    else if (email === "UNSUBSCRIBED") split.emailUnsubscribed += 1;
    else if (email === "NOT_SUBSCRIBED") split.emailNotSubscribed += 1;
    else split.emailNone += 1;
    if (consentAsOf(customer.smsConsent, at)?.state === "SUBSCRIBED") split.smsSubscribed += 1;
  }
  return split;
}

/** Every delivery of the store, in sending order, with resends and early updates mixed in. */
export function planDeliveries(store: DemoStore, options: DeliveryPlanOptions = {}): DeliveryPlan {
  const duplicateShare = options.duplicateShare ?? 0.02;
  const earlyUpdateShare = options.earlyUpdateShare ?? 0.04;
  const random = new Random(`${store.options.seed}/deliveries`);
  const ids = new Random(`${store.options.seed}/webhook-ids`);

  const events = eventsOf(store);
  const deliveries: DemoDelivery[] = events.map((event) => ({
    topic: event.topic,
    webhookId: ids.uuid(),
    eventId: ids.uuid(),
    at: event.at,
    body: JSON.stringify(event.render()),
    resend: false,
    early: false,
  }));

  // Early updates: an order's first orders/updated sent a little before its orders/create
  // (far enough ahead that concurrent sending keeps them in that order).
  const createIndex = new Map<number, number>();
  const firstUpdateIndex = new Map<number, number>();
  events.forEach((event, index) => {
    if (event.orderId === null) return;
    if (event.topic === "orders/create") createIndex.set(event.orderId, index);
    if (event.topic === "orders/updated" && !firstUpdateIndex.has(event.orderId)) firstUpdateIndex.set(event.orderId, index);
  });
  const moves: { from: number; to: number }[] = [];
  for (const [orderId, updateIndex] of firstUpdateIndex) {
    if (!random.chance(earlyUpdateShare)) continue;
    const create = createIndex.get(orderId);
    if (create === undefined) continue;
    moves.push({ from: updateIndex, to: Math.max(0, create - random.int(20, 60)) });
  }
  const moved = new Set(moves.map((m) => m.from));
  const before = new Map<number, DemoDelivery[]>();
  for (const move of moves) {
    const delivery = { ...deliveries[move.from], early: true };
    before.set(move.to, [...(before.get(move.to) ?? []), delivery]);
  }
  const ordered: DemoDelivery[] = [];
  deliveries.forEach((delivery, index) => {
    ordered.push(...(before.get(index) ?? []));
    if (!moved.has(index)) ordered.push(delivery);
  });

  // Resends: the same delivery (same webhook id and body) again, a little later.
  const resendsAt = new Map<number, DemoDelivery[]>();
  let resends = 0;
  ordered.forEach((delivery, index) => {
    if (!random.chance(duplicateShare)) return;
    const at = Math.min(ordered.length - 1, index + random.int(1, 300));
    resendsAt.set(at, [...(resendsAt.get(at) ?? []), { ...delivery, resend: true, early: false }]);
    resends++;
  });
  const final: DemoDelivery[] = [];
  ordered.forEach((delivery, index) => {
    final.push(delivery);
    final.push(...(resendsAt.get(index) ?? []));
  });

  return { deliveries: final, resends, earlyUpdates: moves.length, expected: expectedIngest(store, deliveries.length) };
}

