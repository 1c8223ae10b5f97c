import { fixture } from "../../tests/support/webhook-fixtures";
import {
  type MarketingConsent,
  PayloadValidationError,
  baseNetMinor,
  compareConsent,
  foreignCurrencyProblem,
  mapCustomerPayload,
  mapDeletePayload,
  mapEmailConsentPayload,
  mapOrderPayload,
  mapSmsConsentPayload,
  mapRefundPayload,
  resolveId,
  splitTags,
  withoutIncludedTax,
} from "./mappers";

describe("mapOrderPayload", () => {
  it("maps orders/create: shop money, not presentment money", () => {
    const { order, customer, refunds } = mapOrderPayload(fixture("orders-create"), "orders/create");
    expect(order).toEqual({
      id: 6123456789012n,
      name: "#1042",
      customerId: 7390571233329n,
      processedAt: new Date("2025-03-14T14:21:05Z"),
      shopifyCreatedAt: new Date("2025-03-14T14:21:07Z"),
      shopifyUpdatedAt: new Date("2025-03-14T14:21:09Z"),
      currency: "USD",
      currentTotalMinor: 16963n, // presentment would be 156.06 EUR
      test: false,
      cancelledAt: null,
      financialStatus: "paid",
      sourceName: "web",
      discountCodes: ["WELCOME10"],
      tags: ["first-order", "newsletter"],
      firstProductId: 8012345678901n,
      firstProductTitle: "Merino Crew Sock",
      lineItemCount: 2,
      // landing_site "/collections/socks?utm_source=newsletter" (its referrer is second to UTM).
      marketingSource: "newsletter",
      marketingSourceFromJourney: false,
      // 2 x 18.00 + 129.00 of items; WELCOME10 takes 10 % of each line; 148.50 current subtotal.
      parts: { grossSalesMinor: 16500n, discountsMinor: 1650n, returnsMinor: 0n, taxMinor: 1318n, shippingMinor: 795n, dutiesMinor: 0n },
    });
    expect(baseNetMinor(order)).toBe(16963n);
    expect(customer).toMatchObject({
      id: 7390571233329n,
      email: "maya.okafor@example.com",
      firstName: "Maya",
      lastName: "Okafor",
      tags: ["newsletter", "vip"],
      shopifyUpdatedAt: new Date("2025-03-14T14:21:08Z"),
    });
    expect(refunds).toEqual([]);
  });

  it("maps an order after a refund: current total reflects it, the refund row comes along", () => {
    const { order, refunds } = mapOrderPayload(fixture("orders-updated-refunded"));
    expect(order.currentTotalMinor).toBe(15199n);
    expect(order.financialStatus).toBe("partially_refunded");
    expect(refunds).toEqual([
      {
        id: 1012345678901n,
        orderId: 6123456789012n,
        createdAt: new Date("2025-03-20T19:02:44Z"),
        amountMinor: 1764n,
        currency: "USD",
        parts: { returnsMinor: 1620n, taxMinor: 144n, shippingMinor: 0n, dutiesMinor: 0n },
        lineQuantities: [{ lineItemId: 15312345678901n, quantity: 1 }],
      },
    ]);
    // The current subtotal (132.30) lacks the refunded socks: 165.00 - 16.50 - 132.30 = 16.20.
    expect(order.parts).toMatchObject({ grossSalesMinor: 16500n, discountsMinor: 1650n, returnsMinor: 1620n });
  });

  it("keeps a cancelled order at its current total", () => {
    const { order, refunds } = mapOrderPayload(fixture("orders-cancelled"), "orders/cancelled");
    expect(order.cancelledAt).toEqual(new Date("2025-03-14T16:40:11Z"));
    expect(order.currentTotalMinor).toBe(0n);
    expect(baseNetMinor(order)).toBe(0n);
    // 32.40 + 2.88 + 116.10 + 10.30 of items, 7.95 of shipping.
    expect(refunds.map((refund) => refund.amountMinor)).toEqual([16963n]);
  });

  it("keeps a guest order, attributed to no one", () => {
    const { order, customer } = mapOrderPayload(fixture("orders-create-guest"), "orders/create");
    expect(order.customerId).toBeNull();
    expect(customer).toBeNull();
    expect(order.sourceName).toBe("pos");
    expect(order.currentTotalMinor).toBe(14045n);
  });

  it("stores a test order but never counts it", () => {
    const { order } = mapOrderPayload(fixture("orders-create-test"), "orders/create");
    expect(order.test).toBe(true);
    expect(order.currentTotalMinor).toBe(16963n);
    expect(baseNetMinor(order)).toBe(0n);
  });

  it("falls back to created_at when processed_at is missing", () => {
    const payload = { ...fixture("orders-create"), processed_at: null };
    expect(mapOrderPayload(payload).order.processedAt).toEqual(new Date("2025-03-14T14:21:07Z"));
  });

  it("takes the placeholder route for an embedded customer without updated_at", () => {
    const payload = fixture("orders-create");
    payload.customer = { id: 7390571233329, email: "maya.okafor@example.com" };
    const { order, customer } = mapOrderPayload(payload);
    expect(order.customerId).toBe(7390571233329n);
    expect(customer).toBeNull();
  });

  it("names the missing field of an invalid payload", () => {
    const payload = fixture("orders-create");
    delete payload.current_total_price_set;
    expect(() => mapOrderPayload(payload, "orders/create")).toThrow(PayloadValidationError);
    expect(() => mapOrderPayload(payload, "orders/create")).toThrow(/orders\/create payload is invalid: current_total_price_set/);
    expect(() => mapOrderPayload({ ...fixture("orders-create"), updated_at: "yesterday" })).toThrow(/updated_at/);
    expect(() => mapOrderPayload("not an object")).toThrow(PayloadValidationError);
  });

  it("rejects money it cannot represent exactly", () => {
    const payload = fixture("orders-create");
    payload.current_total_price_set = { shop_money: { amount: "169.635", currency_code: "USD" } };
    expect(() => mapOrderPayload(payload)).toThrow(/"169.635" has more decimals than USD allows/);
  });

  it("rejects an embedded refund that belongs to another order", () => {
    const payload = fixture("orders-updated-refunded");
    (payload.refunds as { order_id: number }[])[0].order_id = 1;
    expect(() => mapOrderPayload(payload)).toThrow(/belongs to order 1/);
  });
});

describe("mapRefundPayload", () => {
  it("sums line items and tax in shop money (transactions are presentment money)", () => {
    expect(mapRefundPayload(fixture("refunds-create"))).toEqual({
      id: 1012345678901n,
      orderId: 6123456789012n,
      createdAt: new Date("2025-03-20T19:02:44Z"),
      amountMinor: 1764n,
      currency: "USD",
      parts: { returnsMinor: 1620n, taxMinor: 144n, shippingMinor: 0n, dutiesMinor: 0n },
      lineQuantities: [{ lineItemId: 15312345678901n, quantity: 1 }],
    });
  });

  it("reads refunded shipping from a shipping_refund adjustment when a refund has no refund_shipping_lines (older API versions)", () => {
    const payload = fixture("refunds-create") as Record<string, unknown>;
    const set = (amount: string) => ({ shop_money: { amount, currency_code: "USD" }, presentment_money: { amount, currency_code: "USD" } });
    const refund = mapRefundPayload({
      ...payload,
      refund_shipping_lines: [],
      order_adjustments: [{ id: 1, kind: "shipping_refund", reason: "Shipping refund", amount: "-7.95", amount_set: set("-7.95"), tax_amount: "0.00", tax_amount_set: set("0.00") }],
    });
    expect(refund.parts).toEqual({ returnsMinor: 1620n, taxMinor: 144n, shippingMinor: 795n, dutiesMinor: 0n });
    expect(refund.amountMinor).toBe(1620n + 144n + 795n);
  });

  it("adds refunded shipping and subtracts an amount the merchant kept", () => {
    const refund = mapRefundPayload(fixture("refunds-create-shipping-discrepancy"));
    expect(refund.amountMinor).toBe(12435n);
    // Returns are the refunded line's subtotal alone: the kept amount is not a return.
    expect(refund.parts?.returnsMinor).toBe(11610n);
  });

  it("counts a legacy shipping_refund adjustment (negative) as money returned, once", () => {
    const legacy = fixture("refunds-create");
    legacy.order_adjustments = [{
      kind: "shipping_refund",
      amount: "-7.95",
      amount_set: { shop_money: { amount: "-7.95", currency_code: "USD" } },
      tax_amount_set: { shop_money: { amount: "0.00", currency_code: "USD" } },
    }];
    expect(mapRefundPayload(legacy).amountMinor).toBe(1764n + 795n);
    const both = { ...legacy, refund_shipping_lines: fixture("refunds-create-shipping-discrepancy").refund_shipping_lines };
    expect(mapRefundPayload(both).amountMinor).toBe(1764n + 795n);
  });

  it("fails on a refund without an order id", () => {
    const payload = fixture("refunds-create");
    delete payload.order_id;
    expect(() => mapRefundPayload(payload)).toThrow(/refunds\/create payload is invalid: order_id/);
  });
});

describe("mapCustomerPayload", () => {
  it("maps customers/update", () => {
    expect(mapCustomerPayload(fixture("customers-update"))).toEqual({
      id: 7390571233329n,
      email: "maya.okafor@example.com",
      firstName: "Maya",
      lastName: "Okafor-Reyes",
      phone: "+16135550142",
      state: "enabled",
      tags: ["newsletter", "repeat", "vip"],
      currency: "USD",
      shopifyCreatedAt: new Date("2024-11-02T13:14:33Z"),
      shopifyUpdatedAt: new Date("2025-03-22T22:45:02Z"),
      emailConsent: { state: "SUBSCRIBED", optInLevel: "SINGLE_OPT_IN", updatedAt: new Date("2024-11-02T13:14:33Z") },
      smsConsent: null,
    });
  });

  // Since API 2025-01 customer payloads carry no tags key (Shopify's webhook metadata for
  // customers/update, customers/create and orders/create from 2025-01 to 2026-04): no key is
  // "unchanged", not "no tags"; an empty string is still "no tags".
  it("reads a payload without tags as saying nothing of them (null), an empty tags string as none", () => {
    const payload = fixture("customers-update");
    delete payload.tags;
    expect(mapCustomerPayload(payload).tags).toBeNull();
    payload.tags = null;
    expect(mapCustomerPayload(payload).tags).toBeNull();
    payload.tags = "";
    expect(mapCustomerPayload(payload).tags).toEqual([]);
    const order = fixture("orders-create");
    delete (order.customer as Record<string, unknown>).tags;
    expect(mapOrderPayload(order).customer?.tags).toBeNull();
  });

  it("requires updated_at: without it no write could be ordered", () => {
    const payload = fixture("customers-update");
    delete payload.updated_at;
    expect(() => mapCustomerPayload(payload, "customers/update")).toThrow(/updated_at/);
  });
});

describe("ids", () => {
  it("reads the delete payloads", () => {
    expect(mapDeletePayload(fixture("orders-delete"), "orders/delete")).toBe(6123456789012n);
    expect(mapDeletePayload(fixture("customers-delete"), "customers/delete")).toBe(7390571233329n);
  });

  it("prefers the GraphQL id, whose digits survive JSON", () => {
    expect(resolveId(2 ** 60, "gid://shopify/Order/1152921504606846977")).toBe(1152921504606846977n);
    expect(() => resolveId(2 ** 60)).toThrow(/too large/);
    expect(() => resolveId(5, "gid://shopify/Order/6")).toThrow(/does not match/);
    expect(resolveId("1152921504606846977")).toBe(1152921504606846977n);
  });

  it("splits tags", () => {
    expect(splitTags(" vip, , wholesale ,x")).toEqual(["vip", "wholesale", "x"]);
    expect(splitTags("")).toEqual([]);
    expect(splitTags(null)).toEqual([]);
  });
});

// Values Shopify would never send are refused, not trusted (issue 12, finding 6).
describe("implausible values", () => {
  it("refuses a refund that returns a negative amount (it would raise the order's net)", () => {
    const refund = fixture("refunds-create") as { refund_line_items: { subtotal_set: { shop_money: { amount: string } } }[] };
    refund.refund_line_items[0].subtotal_set.shop_money.amount = "-99999.00";
    expect(() => mapRefundPayload(refund)).toThrow(PayloadValidationError);
    expect(() => mapRefundPayload(refund)).toThrow(/returns a negative amount/);
  });

  it("refuses an updated_at more than a day ahead (newer wins: it would freeze the row)", () => {
    expect(() => mapOrderPayload({ ...fixture("orders-create"), updated_at: "9999-01-01T00:00:00Z" }, "orders/updated")).toThrow(
      /order.updated_at 9999-01-01T00:00:00.000Z is more than a day in the future/,
    );
    expect(() => mapCustomerPayload({ ...fixture("customers-update"), updated_at: "9999-01-01T00:00:00Z" }, "customers/update")).toThrow(PayloadValidationError);
    const soon = new Date(Date.now() + 3_600_000).toISOString();
    expect(mapOrderPayload({ ...fixture("orders-create"), updated_at: soon }, "orders/updated").order.shopifyUpdatedAt.toISOString()).toBe(soon);
  });
});

// Amounts are added in the shop's currency only (issue 12, finding 6).
describe("currencies", () => {
  /** The orders-create fixture placed in yen, with its shop-money figures in `shopMoneyCurrency`. */
  function yenOrder(shopMoneyCurrency: string, amount: string) {
    const payload = fixture("orders-create") as Record<string, unknown>;
    const set = { shop_money: { amount, currency_code: shopMoneyCurrency }, presentment_money: { amount: "25000", currency_code: "JPY" } };
    return { ...payload, currency: "JPY", presentment_currency: "JPY", total_price_set: set, current_total_price_set: set };
  }

  it("reads a JPY order's amounts from its shop-money figures (USD), never the yen", () => {
    const { order } = mapOrderPayload(yenOrder("USD", "169.63"), "orders/create");
    expect(order).toMatchObject({ currency: "USD", currentTotalMinor: 16963n });
    expect(foreignCurrencyProblem("USD", order, [])).toBeNull();
  });

  it("names an order whose shop-money figures are not in the shop's currency, and such a refund", () => {
    const { order } = mapOrderPayload(yenOrder("JPY", "25000"), "orders/create");
    expect(order).toMatchObject({ currency: "JPY", currentTotalMinor: 25000n });
    expect(foreignCurrencyProblem("USD", order, [])).toBe(
      "order 6123456789012 has no amounts in the shop's currency USD: its shop_money figures are in JPY",
    );
    expect(foreignCurrencyProblem("USD", null, [{ id: 5n, currency: "EUR" }])).toMatch(/^refund 5 has no amounts in the shop's currency USD/);
    expect(foreignCurrencyProblem("USD", null, [{ id: 5n, currency: null }])).toBeNull();
  });

  it("leaves an order's parts unknown when they are in another currency than its total (it then counts at total sales)", () => {
    const { order } = mapOrderPayload(yenOrder("JPY", "25000"), "orders/create");
    // The fixture's parts are in USD, the total here in JPY: they cannot be added up.
    expect(order.parts).toBeNull();
  });

  it.each(["XXX", "XTS", "XAU", "XDR", "ABC", "usd"])("refuses %s as an order's currency or a shop-money currency", (code) => {
    expect(() => mapOrderPayload({ ...fixture("orders-create"), currency: code }, "orders/create")).toThrow(/currency: must be an ISO 4217 currency of money/);
    expect(() => mapOrderPayload(yenOrder(code, "10.00"), "orders/create")).toThrow(PayloadValidationError);
    const refund = fixture("refunds-create") as { refund_line_items: { subtotal_set: { shop_money: { currency_code: string } } }[] };
    refund.refund_line_items[0].subtotal_set.shop_money.currency_code = code;
    expect(() => mapRefundPayload(refund)).toThrow(/currency_code: must be an ISO 4217 currency of money/);
  });
});

describe("withoutIncludedTax: taxes-included prices without their tax (issue 13)", () => {
  it("shrinks a line's gross and discount by its own factor and keeps its net exact; returns by the order's", () => {
    // 19 % and 7 % VAT lines: 119.00 (19.00 VAT) and 107.00 with 7.00 off (6.54 VAT on 100.00).
    const parts = withoutIncludedTax(
      [{ grossMinor: 11_900n, discountsMinor: 0n, taxMinor: 1_900n }, { grossMinor: 10_700n, discountsMinor: 700n, taxMinor: 654n }],
      10_000n,
    );
    // Line 2: 107.00 x 93.46 / 100.00 = 100.0022 -> 100.00 gross, 100.00 - 93.46 = 6.54 discount.
    // Returns 100.00 x (100.00 + 93.46) / (119.00 + 100.00) = 88.34 (the order's average factor).
    expect(parts).toEqual({ grossSalesMinor: 20_000n, discountsMinor: 654n, returnsMinor: 8_834n });
  });

  it("keeps a free line's figures and one with more tax than its net, and rounds negative returns away from zero", () => {
    expect(withoutIncludedTax([{ grossMinor: 5_000n, discountsMinor: 5_000n, taxMinor: 0n }], 0n)).toEqual({ grossSalesMinor: 5_000n, discountsMinor: 5_000n, returnsMinor: 0n });
    expect(withoutIncludedTax([{ grossMinor: 1_000n, discountsMinor: 0n, taxMinor: 1_500n }], 0n)).toEqual({ grossSalesMinor: 1_000n, discountsMinor: 0n, returnsMinor: 0n });
    // -0.05 x 100/120 = -0.041666 -> -0.04; -0.03 x 100/120 = -0.025 -> -0.03 (as PostgreSQL's round does in the backfill).
    expect(withoutIncludedTax([{ grossMinor: 12_000n, discountsMinor: 0n, taxMinor: 2_000n }], -5n).returnsMinor).toBe(-4n);
    expect(withoutIncludedTax([{ grossMinor: 12_000n, discountsMinor: 0n, taxMinor: 2_000n }], -3n).returnsMinor).toBe(-3n);
    expect(withoutIncludedTax([{ grossMinor: 12_000n, discountsMinor: 0n, taxMinor: 2_000n }], 3n).returnsMinor).toBe(3n);
  });
});

describe("marketing consent", () => {
  const at = (iso: string) => new Date(iso);

  it("reads both consent objects in GraphQL's spelling", () => {
    const payload = fixture("customers-update");
    payload.sms_marketing_consent = { state: "pending", opt_in_level: "confirmed_opt_in", consent_updated_at: "2025-03-01T10:00:00-05:00", consent_collected_from: "OTHER" };
    expect(mapCustomerPayload(payload)).toMatchObject({
      emailConsent: { state: "SUBSCRIBED", optInLevel: "SINGLE_OPT_IN", updatedAt: at("2024-11-02T13:14:33Z") },
      smsConsent: { state: "PENDING", optInLevel: "CONFIRMED_OPT_IN", updatedAt: at("2025-03-01T15:00:00Z") },
    });
  });

  it("keeps a never-asked customer's consent without a date, and reads the embedded customer of an order", () => {
    const payload = fixture("orders-create");
    (payload.customer as Record<string, unknown>).email_marketing_consent = { state: "not_subscribed", opt_in_level: null, consent_updated_at: null };
    expect(mapOrderPayload(payload).customer?.emailConsent).toEqual({ state: "NOT_SUBSCRIBED", optInLevel: null, updatedAt: null });
  });

  it("says nothing when the payload has no consent key (2025-01+ customer payloads), or no address on the channel", () => {
    const payload = fixture("customers-update");
    delete payload.email_marketing_consent;
    delete payload.sms_marketing_consent;
    expect(mapCustomerPayload(payload)).toMatchObject({ emailConsent: null, smsConsent: null });
    payload.email_marketing_consent = null;
    payload.sms_marketing_consent = { state: null, opt_in_level: null, consent_updated_at: null };
    expect(mapCustomerPayload(payload)).toMatchObject({ emailConsent: null, smsConsent: null });
  });

  it("reads the two consent topics", () => {
    expect(mapEmailConsentPayload(fixture("customers-email-marketing-consent-update"))).toEqual({
      customerId: 7390571233329n,
      channel: "email",
      consent: { state: "UNSUBSCRIBED", optInLevel: "SINGLE_OPT_IN", updatedAt: at("2025-04-02T12:30:11Z") },
    });
    expect(mapSmsConsentPayload(fixture("customers-marketing-consent-update"))).toEqual({
      customerId: 7390571233329n,
      channel: "sms",
      consent: { state: "SUBSCRIBED", optInLevel: "CONFIRMED_OPT_IN", updatedAt: at("2025-04-05T23:02:45Z") },
    });
  });

  it("fails the delivery, naming the field, on an unknown state or opt-in level", () => {
    const payload = fixture("customers-update");
    payload.email_marketing_consent = { state: "maybe", opt_in_level: "single_opt_in", consent_updated_at: null };
    expect(() => mapCustomerPayload(payload)).toThrow(/customers\/update payload is invalid: email_marketing_consent\.state/);
    const topic = fixture("customers-marketing-consent-update");
    (topic.sms_marketing_consent as Record<string, unknown>).opt_in_level = "triple_opt_in";
    expect(() => mapSmsConsentPayload(topic)).toThrow(/sms_marketing_consent\.opt_in_level/);
  });

  // The examples in Shopify's webhook metadata for both topics (2025-01..2026-04): a never-asked
  // email consent without level or date, and an SMS consent with a null state (no phone).
  it("reads the consent topics' documented examples: never asked, and no phone (says nothing)", () => {
    const email = { customer_id: 706405506930370, email_address: "bob@biller.com", email_marketing_consent: { state: "not_subscribed", opt_in_level: null, consent_updated_at: null } };
    expect(mapEmailConsentPayload(email)).toEqual({ customerId: 706405506930370n, channel: "email", consent: { state: "NOT_SUBSCRIBED", optInLevel: null, updatedAt: null } });
    const sms = { id: 706405506930370, phone: null, sms_marketing_consent: { state: null, opt_in_level: null, consent_updated_at: null, consent_collected_from: "other" } };
    expect(mapSmsConsentPayload(sms)).toEqual({ customerId: 706405506930370n, channel: "sms", consent: null });
  });

  it("fails the delivery on a malformed consent date, or one more than a day ahead", () => {
    const payload = fixture("customers-email-marketing-consent-update");
    (payload.email_marketing_consent as Record<string, unknown>).consent_updated_at = "yesterday";
    expect(() => mapEmailConsentPayload(payload)).toThrow(/email_marketing_consent\.consent_updated_at/);
    (payload.email_marketing_consent as Record<string, unknown>).consent_updated_at = "9999-01-01T00:00:00Z";
    expect(() => mapEmailConsentPayload(payload)).toThrow(PayloadValidationError);
    expect(() => mapEmailConsentPayload(payload)).toThrow(/consent_updated_at 9999-01-01T00:00:00.000Z is more than a day in the future/);
  });

  it("orders statements: the later change stands; at one moment the more restrictive; saying nothing is below all", () => {
    const subscribed: MarketingConsent = { state: "SUBSCRIBED", optInLevel: "SINGLE_OPT_IN", updatedAt: at("2025-01-01T00:00:00Z") };
    const unsubscribedLater: MarketingConsent = { state: "UNSUBSCRIBED", optInLevel: "SINGLE_OPT_IN", updatedAt: at("2025-02-01T00:00:00Z") };
    const resubscribed: MarketingConsent = { ...subscribed, updatedAt: at("2025-03-01T00:00:00Z") };
    const neverAsked: MarketingConsent = { state: "NOT_SUBSCRIBED", optInLevel: null, updatedAt: null };
    expect(compareConsent(unsubscribedLater, subscribed)).toBeGreaterThan(0);
    expect(compareConsent(resubscribed, unsubscribedLater)).toBeGreaterThan(0);
    expect(compareConsent(subscribed, neverAsked)).toBeGreaterThan(0);
    expect(compareConsent(neverAsked, null)).toBeGreaterThan(0);
    expect(compareConsent({ ...subscribed, state: "UNSUBSCRIBED" }, subscribed)).toBeGreaterThan(0);
    expect(compareConsent(subscribed, { ...subscribed })).toBe(0);
  });
});
