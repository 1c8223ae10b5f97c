import { fixture, type Json } from "./webhook-fixtures";

// Webhook payloads of the real shapes (order, refund, customer) with the facts a test
// names. Pure: unit tests beside the code use them too. Storing them is in db.ts.

const money = (cents: number, currency = "USD") => {
  const amount = `${Math.trunc(cents / 100)}.${String(Math.abs(cents) % 100).padStart(2, "0")}`;
  return { shop_money: { amount, currency_code: currency }, presentment_money: { amount, currency_code: currency } };
};

export interface OrderSpec {
  id: number;
  customerId: number | null;
  updatedAt: Date;
  totalCents: number;
  createdAt?: Date;
  processedAt?: Date;
  test?: boolean;
  cancelledAt?: Date | null;
  refunds?: Json[];
  customerUpdatedAt?: Date;
  customerEmail?: string;
  /**
   * The embedded customer's consent objects: a consentPayload(), null (no address on the
   * channel), or "absent" (no key, as 2025-01+ payloads). Default: the fixture's (email
   * subscribed on 2024-11-02, no SMS).
   */
  emailConsent?: Json | null | "absent";
  smsConsent?: Json | null | "absent";
}

/** A REST consent object (`email_marketing_consent` / `sms_marketing_consent`) of the real shape. */
export function consentPayload(state: string, updatedAt: Date | null, optInLevel: string | null = state === "subscribed" ? "single_opt_in" : null): Json {
  return { state, opt_in_level: optInLevel, consent_updated_at: updatedAt ? updatedAt.toISOString() : null };
}

/** Sets a customer body's consent keys as OrderSpec's emailConsent / smsConsent say. */
export function withConsent(customer: Json, consent: { emailConsent?: Json | null | "absent"; smsConsent?: Json | null | "absent" }): Json {
  for (const [key, value] of [["email_marketing_consent", consent.emailConsent], ["sms_marketing_consent", consent.smsConsent]] as const) {
    if (value === "absent") delete customer[key];
    else if (value !== undefined) customer[key] = value;
  }
  return customer;
}

/**
 * The parts of an order whose whole total is goods (no discount, tax or shipping; issue 13):
 * its net sales equal its total sales, so a test about something else counts the same on
 * either revenue basis. The first line carries the total; the fixture's other lines cost 0.
 */
function goodsOnly(payload: Json, totalCents: number): Json {
  const zero = money(0);
  const lines = (payload.line_items as Json[]).map((line, index) => ({
    ...line,
    price: money(index === 0 ? totalCents : 0).shop_money.amount,
    price_set: money(index === 0 ? totalCents : 0),
    quantity: 1,
    current_quantity: 1,
    discount_allocations: [],
    tax_lines: [],
  }));
  return {
    line_items: lines,
    total_line_items_price: money(totalCents).shop_money.amount,
    total_line_items_price_set: money(totalCents),
    subtotal_price: money(totalCents).shop_money.amount,
    subtotal_price_set: money(totalCents),
    current_subtotal_price: money(totalCents).shop_money.amount,
    current_subtotal_price_set: money(totalCents),
    total_price: money(totalCents).shop_money.amount,
    total_price_set: money(totalCents),
    total_discounts: "0.00",
    total_discounts_set: zero,
    current_total_discounts_set: zero,
    total_tax: "0.00",
    total_tax_set: zero,
    current_total_tax: "0.00",
    current_total_tax_set: zero,
    total_shipping_price_set: zero,
    current_shipping_price_set: zero,
    shipping_lines: [],
  };
}

/** An order payload of the real shape (the orders-create fixture) with these facts. */
export function orderPayload(spec: OrderSpec): Json {
  const payload = fixture("orders-create");
  const createdAt = spec.createdAt ?? new Date("2025-03-14T14:21:07Z");
  Object.assign(payload, {
    id: spec.id,
    admin_graphql_api_id: `gid://shopify/Order/${spec.id}`,
    name: `#${spec.id % 100_000}`,
    created_at: createdAt.toISOString(),
    processed_at: (spec.processedAt ?? createdAt).toISOString(),
    updated_at: spec.updatedAt.toISOString(),
    current_total_price: money(spec.totalCents).shop_money.amount,
    current_total_price_set: money(spec.totalCents),
    ...goodsOnly(payload, spec.totalCents),
    test: spec.test ?? false,
    cancelled_at: spec.cancelledAt ? spec.cancelledAt.toISOString() : null,
    refunds: spec.refunds ?? [],
  });
  // The fixture's buyer is Maya; generated orders belong to generated people.
  const address = { ...(payload.billing_address as Json), first_name: "Sam", last_name: `Buyer${spec.customerId ?? ""}`, name: "Sam Buyer", phone: null };
  payload.billing_address = address;
  payload.shipping_address = address;
  if (spec.customerId === null) {
    payload.customer = null;
    payload.email = "";
    payload.contact_email = null;
  } else {
    const customer = payload.customer as Json;
    Object.assign(customer, {
      id: spec.customerId,
      admin_graphql_api_id: `gid://shopify/Customer/${spec.customerId}`,
      updated_at: (spec.customerUpdatedAt ?? new Date("2025-01-01T00:00:00Z")).toISOString(),
      email: spec.customerEmail ?? `customer-${spec.customerId}@example.com`,
      first_name: "Sam",
      last_name: `Buyer${spec.customerId}`,
      phone: null,
      default_address: null,
    });
    withConsent(customer, spec);
    payload.email = customer.email;
    payload.contact_email = customer.email;
  }
  return payload;
}

export interface RefundSpec {
  id: number;
  orderId: number;
  createdAt: Date;
  amountCents: number;
}

/** A refunds/create payload of the real shape: one line item refunded for this amount, tax 0. */
export function refundPayload(spec: RefundSpec): Json {
  const payload = fixture("refunds-create");
  const line = (payload.refund_line_items as Json[])[0];
  Object.assign(line, { subtotal: spec.amountCents / 100, total_tax: 0, subtotal_set: money(spec.amountCents), total_tax_set: money(0) });
  Object.assign(payload, {
    id: spec.id,
    admin_graphql_api_id: `gid://shopify/Refund/${spec.id}`,
    order_id: spec.orderId,
    created_at: spec.createdAt.toISOString(),
    processed_at: spec.createdAt.toISOString(),
  });
  return payload;
}

export function customerPayload(id: number, updatedAt: Date, over: Json = {}): Json {
  return {
    ...fixture("customers-update"),
    id,
    admin_graphql_api_id: `gid://shopify/Customer/${id}`,
    email: `customer-${id}@example.com`,
    first_name: "Sam",
    last_name: `Buyer${id}`,
    phone: null,
    addresses: [],
    default_address: null,
    updated_at: updatedAt.toISOString(),
    ...over,
  };
}

export const hours = (n: number) => n * 3_600_000;
export const at = (iso: string) => new Date(iso);
