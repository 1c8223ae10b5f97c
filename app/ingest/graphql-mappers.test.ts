import { describe, expect, it } from "vitest";
import { fixture } from "../../tests/support/webhook-fixtures";
import { orderPayload, refundPayload } from "../../tests/support/webhook-payloads";
import { graphqlOrderFromWebhook } from "../../tests/support/graphql-shapes";
import { mapGraphqlOrder } from "./graphql-mappers";
import { PayloadValidationError, mapOrderPayload } from "./mappers";

describe("mapGraphqlOrder", () => {
  it.each(["orders-create", "orders-create-guest", "orders-create-test", "orders-cancelled", "orders-updated-refunded"])(
    "gives the webhook mapper's rows for %s",
    (name) => {
      const payload = fixture(name);
      const { order, lineItems } = graphqlOrderFromWebhook(payload);
      const webhook = mapOrderPayload(payload);
      expect(webhook.order.parts).not.toBeNull();
      // A GraphQL refund carries its total only: its split is already in the order's parts, and
      // its units in the lines' refundableQuantity.
      // The source read from the customer journey is marked so (only GraphQL carries the journey).
      expect(mapGraphqlOrder(order, lineItems)).toEqual({
        ...webhook,
        order: { ...webhook.order, marketingSourceFromJourney: webhook.order.marketingSource !== null },
        refunds: webhook.refunds.map(({ lineQuantities: _units, ...refund }) => ({ ...refund, parts: null })),
      });
    },
  );

  it("reads refunds in shop money and lower-cases GraphQL enums", () => {
    const createdAt = new Date("2025-04-01T00:00:00Z");
    const payload = orderPayload({ id: 501, customerId: 9, updatedAt: createdAt, totalCents: 4_250 });
    payload.refunds = [refundPayload({ id: 77, orderId: 501, createdAt, amountCents: 1_234 })];
    const { order, lineItems } = graphqlOrderFromWebhook(payload);
    const bundle = mapGraphqlOrder(order, lineItems);
    expect(bundle.order.currentTotalMinor).toBe(4_250n);
    expect(bundle.order.financialStatus).toBe("paid");
    expect(bundle.customer?.state).toBe("enabled");
    expect(bundle.refunds).toEqual([{ id: 77n, orderId: 501n, createdAt, amountMinor: 1_234n, currency: "USD", parts: null }]);
  });

  it("keeps a guest order unattributed and counts line items from the joined children", () => {
    const { order } = graphqlOrderFromWebhook(fixture("orders-create-guest"));
    const bundle = mapGraphqlOrder(order, []);
    expect(bundle.order.customerId).toBeNull();
    expect(bundle.order.lineItemCount).toBe(0);
    expect(bundle.order.firstProductId).toBeNull();
  });

  it("names the bad field of a malformed order", () => {
    const { order, lineItems } = graphqlOrderFromWebhook(fixture("orders-create"));
    expect(() => mapGraphqlOrder({ ...order, id: "gid://shopify/Customer/1" }, lineItems)).toThrow(/id: must be a Order gid/);
    const badMoney = { ...order, currentTotalPriceSet: { shopMoney: { amount: "1.234", currencyCode: "USD" } } };
    expect(() => mapGraphqlOrder(badMoney, lineItems)).toThrow(PayloadValidationError);
  });
});

describe("mapGraphqlOrder's currencies (issue 12, finding 6)", () => {
  it.each(["XXX", "XTS", "QQQ"])("refuses %s as a shop-money currency", (code) => {
    const payload = orderPayload({ id: 502, customerId: 9, updatedAt: new Date("2025-04-01T00:00:00Z"), totalCents: 1_000 });
    const { order, lineItems } = graphqlOrderFromWebhook(payload);
    (order as { currentTotalPriceSet: { shopMoney: { currencyCode: string } } }).currentTotalPriceSet.shopMoney.currencyCode = code;
    expect(() => mapGraphqlOrder(order, lineItems)).toThrow(/currencyCode: must be an ISO 4217 currency of money/);
  });
});

describe("mapGraphqlOrder's marketing consent (issue 14)", () => {
  const withConsent = (customer: Record<string, unknown>) => {
    const { order, lineItems } = graphqlOrderFromWebhook(fixture("orders-create"));
    return { order: { ...order, customer: { ...(order.customer as Record<string, unknown>), ...customer } }, lineItems };
  };

  it("reads defaultEmailAddress and defaultPhoneNumber.smsMarketingConsent as the webhook mapper reads the consent objects", () => {
    const { order, lineItems } = withConsent({
      defaultEmailAddress: { emailAddress: "maya.okafor@example.com", marketingState: "UNSUBSCRIBED", marketingOptInLevel: "SINGLE_OPT_IN", marketingUpdatedAt: "2025-02-01T10:00:00Z" },
      defaultPhoneNumber: { phoneNumber: "+16135550142", smsMarketingConsent: { state: "SUBSCRIBED", optInLevel: "CONFIRMED_OPT_IN", updatedAt: "2025-02-03T10:00:00Z", collectedFrom: "SHOPIFY" } },
    });
    expect(mapGraphqlOrder(order, lineItems).customer).toMatchObject({
      emailConsent: { state: "UNSUBSCRIBED", optInLevel: "SINGLE_OPT_IN", updatedAt: new Date("2025-02-01T10:00:00Z") },
      smsConsent: { state: "SUBSCRIBED", optInLevel: "CONFIRMED_OPT_IN", updatedAt: new Date("2025-02-03T10:00:00Z") },
    });
  });

  it("says nothing for a customer without an email address or phone number", () => {
    const { order, lineItems } = withConsent({ defaultEmailAddress: null, defaultPhoneNumber: null });
    expect(mapGraphqlOrder(order, lineItems).customer).toMatchObject({ emailConsent: null, smsConsent: null });
  });

  it("refuses an unknown state, naming the field, and a consent date more than a day ahead", () => {
    const unknown = withConsent({ defaultEmailAddress: { emailAddress: "a@b.c", marketingState: "MAYBE", marketingOptInLevel: null, marketingUpdatedAt: null } });
    expect(() => mapGraphqlOrder(unknown.order, unknown.lineItems)).toThrow(/customer\.defaultEmailAddress\.marketingState/);
    const future = withConsent({ defaultPhoneNumber: { phoneNumber: "+1", smsMarketingConsent: { state: "SUBSCRIBED", optInLevel: null, updatedAt: "9999-01-01T00:00:00Z" } } });
    expect(() => mapGraphqlOrder(future.order, future.lineItems)).toThrow(/smsMarketingConsent\.updatedAt 9999-01-01T00:00:00.000Z is more than a day in the future/);
  });
});
