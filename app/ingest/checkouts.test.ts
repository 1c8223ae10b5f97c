import { describe, expect, it } from "vitest";
import { fixture } from "../../tests/support/webhook-fixtures";
import { mapCheckoutPayload, orderCheckoutRefs } from "./checkouts";
import { PayloadValidationError } from "./mappers";

// The checkout topics' pure mapping (issue 17): shop money only when the checkout was priced
// in the shop's currency, ids exact, and an order's checkout references.

describe("mapCheckoutPayload", () => {
  it("maps the checkouts/create fixture to its row", () => {
    expect(mapCheckoutPayload(fixture("checkouts-create"), "checkouts/create")).toEqual({
      id: 38611223344556n,
      token: "5f1c9e2ab47d4c0e9b8a71d2c3e4f5a6",
      cartToken: "Z2NwLXVzLWVhc3QxOjAxSlJNNkQ0VjhLWjJQN1M1UTNYOUJGNEhE",
      customerId: 7390571233329n,
      email: "maya.okafor@example.com",
      currency: "USD",
      totalPriceMinor: 3_600n,
      subtotalPriceMinor: 3_600n,
      abandonedCheckoutUrl: expect.stringContaining("/recover?key="),
      lineItemCount: 1,
      shopifyCreatedAt: new Date("2025-04-10T23:42:05Z"),
      shopifyUpdatedAt: new Date("2025-04-10T23:42:05Z"),
      completedAt: null,
    });
  });

  it("leaves the totals unknown when the buyer was priced in another currency", () => {
    const row = mapCheckoutPayload({ ...fixture("checkouts-update"), presentment_currency: "EUR" }, "checkouts/update");
    expect(row).toMatchObject({ currency: "USD", totalPriceMinor: null, subtotalPriceMinor: null, lineItemCount: 2 });
  });

  it("keeps a guest checkout without a customer", () => {
    expect(mapCheckoutPayload({ ...fixture("checkouts-create"), customer: null }, "checkouts/create")).toMatchObject({ customerId: null, email: "maya.okafor@example.com" });
  });

  it("names the bad field: an amount finer than the currency, a negative total, a date far ahead", () => {
    const fails = (patch: Record<string, unknown>) => () => mapCheckoutPayload({ ...fixture("checkouts-create"), ...patch }, "checkouts/create");
    expect(fails({ total_price: "36.123" })).toThrow(PayloadValidationError);
    expect(fails({ total_price: "-1.00" })).toThrow(/total_price -1.00 is negative/);
    expect(fails({ updated_at: "2999-01-01T00:00:00Z" })).toThrow(/updated_at .* more than a day in the future/);
    expect(fails({ id: "12x" })).toThrow(/id/);
  });
});

describe("orderCheckoutRefs", () => {
  it("reads the order's checkout id, token and cart token", () => {
    expect(orderCheckoutRefs(fixture("orders-create"), "orders/create")).toEqual({
      orderId: 6123456789012n,
      checkoutId: 38572049105196n,
      checkoutToken: "ae0ed4e40b4fe3c339cc9be09ea0d41b",
      cartToken: "Z2NwLXVzLWVhc3QxOjAxSlBBOEhOWDRGRzdTN1g2TjlWMEZKUTFB",
    });
  });

  it("is null for an order that names no checkout (a point-of-sale or draft order)", () => {
    expect(orderCheckoutRefs({ ...fixture("orders-create"), checkout_id: null, checkout_token: null, cart_token: null }, "orders/create")).toBeNull();
  });
});
