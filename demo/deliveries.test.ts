import { mapInventoryItemPayload, mapProductPayload } from "~/ingest/cost-mappers";
import { toMinorUnits } from "~/analytics/money";
import { type MarketingConsent, compareConsent, mapCustomerPayload, mapOrderPayload, mapRefundPayload, refundAmountMinor } from "~/ingest/mappers";
import { mapCheckoutPayload } from "~/ingest/checkouts";
import { RefundPayload } from "~/ingest/payloads";
import { expectedConsent, planDeliveries, type DeliveryPlan } from "./deliveries";
import { formatAmount, formatShopTime } from "./payload-basics";
import { generateStore } from "./store";
import { orderStateAt } from "./order-state";
import { type DemoStore } from "./store-model";

const END = new Date("2026-11-20T15:30:00Z");
let store: DemoStore;
let plan: DeliveryPlan;
let bodies: { topic: string; body: Record<string, unknown> }[];

beforeAll(() => {
  // A smaller store than the demo's keeps this file lean; every payload is still checked.
  store = generateStore({ endAt: END, customers: 1_500 });
  plan = planDeliveries(store);
  bodies = plan.deliveries.filter((d) => !d.resend).map((d) => ({ topic: d.topic, body: JSON.parse(d.body) as Record<string, unknown> }));
});

type MoneySet = { shop_money: { amount: string; currency_code: string }; presentment_money: { amount: string; currency_code: string } };
const shop = (set: unknown) => Number(toMinorUnits((set as MoneySet).shop_money.amount, "USD"));
const presentment = (set: unknown) => {
  const money = (set as MoneySet).presentment_money;
  return Number(toMinorUnits(money.amount, money.currency_code));
};

describe("formatting", () => {
  it("writes Shopify's amounts and local timestamps", () => {
    expect(formatAmount(16_963)).toBe("169.63");
    expect(formatAmount(5)).toBe("0.05");
    expect(formatAmount(-1_000)).toBe("-10.00");
    expect(formatShopTime(Date.UTC(2025, 2, 14, 14, 21, 7), "America/New_York")).toBe("2025-03-14T10:21:07-04:00");
    expect(formatShopTime(Date.UTC(2025, 0, 14, 14, 21, 7), "America/New_York")).toBe("2025-01-14T09:21:07-05:00");
  });
});

describe("planDeliveries", () => {
  it("is deterministic: the same store gives the same webhook ids and bodies", () => {
    const small = (seed?: string) => planDeliveries(generateStore({ endAt: END, customers: 150, seed }));
    const a = small();
    const b = small();
    expect(b.deliveries.map((d) => d.webhookId)).toEqual(a.deliveries.map((d) => d.webhookId));
    expect(b.deliveries.map((d) => d.body)).toEqual(a.deliveries.map((d) => d.body));
    expect(small("another").deliveries[0].webhookId).not.toBe(a.deliveries[0].webhookId);
  });

  it("sends every event once under its own webhook id, plus resends of the same delivery", () => {
    const firsts = plan.deliveries.filter((d) => !d.resend);
    expect(new Set(firsts.map((d) => d.webhookId)).size).toBe(firsts.length);
    expect(new Set(firsts.map((d) => d.eventId)).size).toBe(firsts.length);
    expect(plan.expected.deliveries).toBe(firsts.length);
    const byId = new Map(firsts.map((d, index) => [d.webhookId, { d, index }]));
    const resends = plan.deliveries.map((d, index) => ({ d, index })).filter(({ d }) => d.resend);
    expect(resends.length).toBe(plan.resends);
    expect(resends.length).toBeGreaterThan(50);
    for (const { d } of resends) {
      const original = byId.get(d.webhookId);
      expect(original?.d.body).toBe(d.body);
      expect(plan.deliveries.indexOf(original!.d)).toBeLessThan(plan.deliveries.indexOf(d));
    }
  });

  it("sends some orders/updated before the orders/create of their order", () => {
    const earlies = plan.deliveries.filter((d) => d.early);
    expect(earlies.length).toBe(plan.earlyUpdates);
    expect(earlies.length).toBeGreaterThan(10);
    for (const early of earlies) {
      expect(early.topic).toBe("orders/updated");
      const id = (JSON.parse(early.body) as { id: number }).id;
      const create = plan.deliveries.findIndex((d) => d.topic === "orders/create" && (JSON.parse(d.body) as { id: number }).id === id);
      expect(create).toBeGreaterThan(plan.deliveries.indexOf(early));
    }
  });

  it("has every topic, and each body reads with the ingest mappers", () => {
    const topics = new Set(bodies.map((b) => b.topic));
    expect(topics).toEqual(
      new Set([
        "customers/create",
        "orders/create",
        "orders/updated",
        "orders/cancelled",
        "refunds/create",
        "checkouts/create",
        "checkouts/update",
        // Product costs (issue 17).
        "products/create",
        "inventory_items/create",
        "inventory_items/update",
      ]),
    );
    for (const { topic, body } of bodies) {
      if (topic === "customers/create") mapCustomerPayload(body, topic);
      else if (topic.startsWith("products/")) expect(mapProductPayload(body, topic).length).toBeGreaterThan(0);
      else if (topic.startsWith("inventory_items/")) mapInventoryItemPayload(body, "USD", topic);
      else if (topic === "refunds/create") mapRefundPayload(body, topic);
      else if (topic.startsWith("checkouts/")) mapCheckoutPayload(body, topic);
      else {
        // The demo carries each order's parts (issue 13): what its refunds returned is what
        // its current subtotal lacks, so net sales = gross - discounts - returns holds.
        const { order, refunds } = mapOrderPayload(body, topic);
        expect(order.parts).not.toBeNull();
        if (body.financial_status !== "voided") {
          expect(order.parts!.returnsMinor).toBe(refunds.reduce((sum, refund) => sum + (refund.parts?.returnsMinor ?? 0n), 0n));
        }
      }
    }
  });

  it("renders orders whose totals add up, in shop and presentment money", () => {
    const sources = new Set<string>();
    for (const { topic, body } of bodies) {
      if (!topic.startsWith("orders/")) continue;
      sources.add(String(body.source_name));
      for (const money of [shop, presentment]) {
        const items = money(body.total_line_items_price_set);
        const discounts = money(body.total_discounts_set);
        const shipping = money(body.total_shipping_price_set);
        const tax = money(body.total_tax_set);
        expect(money(body.subtotal_price_set)).toBe(items - discounts);
        expect(money(body.total_price_set)).toBe(items - discounts + shipping + tax);
        expect(money(body.current_total_price_set)).toBe(
          money(body.current_subtotal_price_set) + money(body.current_shipping_price_set) + money(body.current_total_tax_set),
        );
        const lines = body.line_items as { quantity: number; price_set: unknown; tax_lines: { price_set: unknown }[]; discount_allocations: { amount_set: unknown }[] }[];
        expect(lines.reduce((s, l) => s + money(l.price_set) * l.quantity, 0)).toBe(items);
        expect(lines.reduce((s, l) => s + l.discount_allocations.reduce((d, a) => d + money(a.amount_set), 0), 0)).toBe(discounts);
        expect(lines.reduce((s, l) => s + l.tax_lines.reduce((t, x) => t + money(x.price_set), 0), 0)).toBe(tax);
      }
      // After refunds, the current total is the total less what the refunds returned
      // (as the ingest reads refunds), unless a cancelled payment was voided.
      if (body.financial_status !== "voided") {
        const refunds = (body.refunds as unknown[]).map((r) => refundAmountMinor(RefundPayload.parse(r)).minor);
        expect(shop(body.current_total_price_set)).toBe(shop(body.total_price_set) - Number(refunds.reduce((a, b) => a + b, 0n)));
      } else {
        expect(shop(body.current_total_price_set)).toBe(0);
      }
      if (body.cancelled_at) expect(shop(body.current_total_price_set)).toBe(0);
      expect(Date.parse(String(body.updated_at))).toBeGreaterThanOrEqual(Date.parse(String(body.created_at)));
      const processed = Date.parse(String(body.processed_at));
      expect(processed).toBeGreaterThanOrEqual(store.startAt);
      expect(processed).toBeLessThanOrEqual(store.endAt);
    }
    expect(sources).toEqual(new Set(["web", "pos", "shopify_draft_order", "2329312"]));
  });

  it("ends each order, whatever the delivery order, at the store's final state", () => {
    // The newest orders/* body of each order carries its final current total.
    const latest = new Map<string, { updatedAt: number; total: number; test: boolean }>();
    for (const { topic, body } of bodies) {
      if (!topic.startsWith("orders/")) continue;
      const updatedAt = Date.parse(String(body.updated_at));
      const key = String(body.id);
      const seen = latest.get(key);
      if (!seen || seen.updatedAt <= updatedAt) latest.set(key, { updatedAt, total: shop(body.current_total_price_set), test: Boolean(body.test) });
    }
    expect(latest.size).toBe(store.orders.length);
    for (const order of store.orders) {
      expect(latest.get(String(order.id))?.total).toBe(orderStateAt(order, store.endAt).current.totalMinor);
    }
    const revenue = [...latest.values()].filter((o) => !o.test).reduce((sum, o) => sum + o.total, 0);
    expect(revenue).toBe(plan.expected.netRevenueMinor);
    expect(plan.expected.repeatBuyers / plan.expected.buyers).toBeGreaterThan(0.2);
  });
});

describe("marketing consent (issue 14)", () => {
  it("gives about half the customers email consent, some unsubscribed, some never asked, a few SMS, as the payloads state it", () => {
    // Each customer's standing consent over every payload that carries their profile, as the write path keeps it.
    const email = new Map<bigint, MarketingConsent | null>();
    const sms = new Map<bigint, MarketingConsent | null>();
    const seenStates = new Map<bigint, Set<string>>();
    for (const { topic, body } of bodies) {
      const profile = topic === "customers/create" ? mapCustomerPayload(body, topic) : topic.startsWith("orders/") ? mapOrderPayload(body, topic).customer : null;
      if (!profile) continue;
      if (compareConsent(profile.emailConsent, email.get(profile.id) ?? null) > 0) email.set(profile.id, profile.emailConsent);
      if (compareConsent(profile.smsConsent, sms.get(profile.id) ?? null) > 0) sms.set(profile.id, profile.smsConsent);
      if (profile.emailConsent) seenStates.set(profile.id, (seenStates.get(profile.id) ?? new Set()).add(profile.emailConsent.state));
    }
    const count = (map: Map<bigint, MarketingConsent | null>, state: string) => [...map.values()].filter((c) => c?.state === state).length;
    const expected = expectedConsent(store);
    expect({
      emailSubscribed: count(email, "SUBSCRIBED"),
      emailPending: count(email, "PENDING"),
      emailUnsubscribed: count(email, "UNSUBSCRIBED"),
      emailNotSubscribed: count(email, "NOT_SUBSCRIBED"),
      emailNone: store.customers.length - email.size,
      smsSubscribed: count(sms, "SUBSCRIBED"),
    }).toEqual(expected);

    const customers = store.customers.length;
    expect(expected.emailSubscribed / customers).toBeGreaterThan(0.4);
    expect(expected.emailSubscribed / customers).toBeLessThan(0.6);
    expect(expected.emailUnsubscribed / customers).toBeGreaterThan(0.03);
    expect(expected.emailNotSubscribed / customers).toBeGreaterThan(0.25);
    expect(expected.smsSubscribed / customers).toBeGreaterThan(0.02);
    expect(expected.smsSubscribed / customers).toBeLessThan(0.15);
    // Both opt-in levels among the subscribed; unsubscribers were subscribed in their earlier payloads.
    const levels = new Set([...email.values()].filter((c) => c?.state === "SUBSCRIBED").map((c) => c?.optInLevel));
    expect(levels).toEqual(new Set(["SINGLE_OPT_IN", "CONFIRMED_OPT_IN"]));
    const unsubscribers = [...email.entries()].filter(([, c]) => c?.state === "UNSUBSCRIBED").map(([id]) => id);
    expect(unsubscribers.length).toBeGreaterThan(0);
    for (const id of unsubscribers) expect(seenStates.get(id)).toEqual(new Set(["SUBSCRIBED", "UNSUBSCRIBED"]));
  });

  it("never dates a consent after the profile that carries it", () => {
    for (const { topic, body } of bodies) {
      const profile = topic === "customers/create" ? mapCustomerPayload(body, topic) : topic.startsWith("orders/") ? mapOrderPayload(body, topic).customer : null;
      for (const consent of [profile?.emailConsent, profile?.smsConsent]) {
        if (consent?.updatedAt) expect(consent.updatedAt.getTime()).toBeLessThanOrEqual(profile!.shopifyUpdatedAt.getTime());
      }
    }
  });
});
