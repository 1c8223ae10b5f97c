import { z } from "zod";

// Zod shapes of the Shopify webhook bodies Tenure reads. Only the fields we use are
// declared; everything else in a delivery is ignored (zod strips unknown keys), so a
// new field from Shopify never fails a delivery, while a missing or malformed field
// we rely on does, with its path in the message.

/** A numeric id as Shopify sends it: a JSON number, or a decimal string. */
const INT64_MAX = 9_223_372_036_854_775_807n;

/**
 * A Shopify id: a JSON number or decimal text, within PostgreSQL's bigint. A JSON number
 * above 2^53 is accepted here (zod's int() would refuse it) because its exact digits come
 * from the object's GraphQL id where there is one (resolveId in mappers.ts); an id beyond
 * bigint is refused at the boundary, so it fails its delivery once instead of failing in
 * PostgreSQL on every retry.
 */
export const ShopifyId = z.union([
  z.number().nonnegative().refine(Number.isInteger, "must be a whole number"),
  z.string().regex(/^\d+$/, "must be a decimal id").refine((text) => !/^\d+$/.test(text) || BigInt(text) <= INT64_MAX, "is beyond a 64-bit id"),
]);

/** ISO 8601 with an offset, as Shopify sends every timestamp ("2025-03-14T10:21:07-04:00"). */
export const Timestamp = z.iso.datetime({ offset: true }).transform((value) => new Date(value));

/**
 * ISO 4217 codes that are not money a shop is paid in: XXX ("no currency"), XTS (testing),
 * precious metals, and units of account. Node 22's ICU leaves most of them out of
 * Intl.supportedValuesOf("currency") already, but lists XDR and XSU.
 */
const NOT_MONEY = new Set(["XXX", "XTS", "XAU", "XAG", "XPD", "XPT", "XDR", "XSU", "XUA", "XBA", "XBB", "XBC", "XBD"]);
/** Currencies Shopify takes that this Node's ICU does not list yet. */
const NOT_YET_IN_ICU = ["VED"];
const MONEY_CURRENCIES: ReadonlySet<string> = new Set(
  [...Intl.supportedValuesOf("currency"), ...NOT_YET_IN_ICU].filter((code) => !NOT_MONEY.has(code)),
);

/** Whether `code` is an ISO 4217 currency a shop can be paid in (not XXX, XTS, a metal or an unknown code). */
export function isMoneyCurrency(code: string): boolean {
  return MONEY_CURRENCIES.has(code);
}

/** A currency code Tenure adds amounts in: ISO 4217 money, refused otherwise (issue 12, finding 6). */
export const CurrencyCode = z.string().refine(isMoneyCurrency, "must be an ISO 4217 currency of money (not XXX, XTS or an unknown code)");

const Amount = z.union([z.string(), z.number()]);
const Money = z.object({ amount: Amount, currency_code: CurrencyCode });
/** A `*_set` money bag. Tenure reads `shop_money` only: the shop's own currency. */
export const MoneySet = z.object({ shop_money: Money, presentment_money: Money.optional() });

/**
 * A marketing consent as REST payloads carry it (`email_marketing_consent`,
 * `sms_marketing_consent`): state and opt-in level in lower case ("subscribed",
 * "single_opt_in"), read case-blind; an unknown value fails the delivery with its path, as
 * any malformed field does. The mapper turns it into GraphQL's spelling (MarketingConsent).
 */
const ConsentState = z
  .string()
  .transform((value) => value.toUpperCase())
  .pipe(z.enum(["SUBSCRIBED", "NOT_SUBSCRIBED", "UNSUBSCRIBED", "PENDING", "REDACTED", "INVALID"]));
const OptInLevel = z
  .string()
  .transform((value) => value.toUpperCase())
  .pipe(z.enum(["SINGLE_OPT_IN", "CONFIRMED_OPT_IN", "UNKNOWN"]));
export const ConsentPayload = z.object({
  /** null when the customer has no address on the channel (no email, no phone). */
  state: ConsentState.nullish(),
  opt_in_level: OptInLevel.nullish(),
  consent_updated_at: Timestamp.nullish(),
  consent_collected_from: z.string().nullish(),
});
export type ConsentPayload = z.infer<typeof ConsentPayload>;

export const CustomerPayload = z.object({
  id: ShopifyId,
  admin_graphql_api_id: z.string().optional(),
  email: z.string().nullish(),
  first_name: z.string().nullish(),
  last_name: z.string().nullish(),
  phone: z.string().nullish(),
  state: z.string().nullish(),
  tags: z.string().nullish(),
  currency: z.string().nullish(),
  created_at: Timestamp.nullish(),
  updated_at: Timestamp,
  // Absent from customer payloads since API 2025-01 (Shopify moved consent to its own topics
  // below), still read when present: an absent key says nothing about consent.
  email_marketing_consent: ConsentPayload.nullish(),
  sms_marketing_consent: ConsentPayload.nullish(),
});
export type CustomerPayload = z.infer<typeof CustomerPayload>;

/** The customer embedded in an order: its `updated_at` may be absent on some channels. */
const EmbeddedCustomer = CustomerPayload.extend({ updated_at: Timestamp.nullish() });

const RefundLineItem = z.object({
  /** The order line refunded and how many of its units (its cost of goods returns with them). */
  line_item_id: ShopifyId.nullish(),
  quantity: z.number().int().nonnegative().nullish(),
  subtotal_set: MoneySet,
  total_tax_set: MoneySet,
});

const RefundShippingLine = z.object({
  subtotal_amount_set: MoneySet,
  tax_amount_set: MoneySet,
});

const OrderAdjustment = z.object({
  kind: z.string().nullish(),
  amount_set: MoneySet,
  tax_amount_set: MoneySet.nullish(),
});

export const RefundPayload = z.object({
  id: ShopifyId,
  admin_graphql_api_id: z.string().optional(),
  order_id: ShopifyId,
  created_at: Timestamp,
  processed_at: Timestamp.nullish(),
  refund_line_items: z.array(RefundLineItem).default([]),
  refund_shipping_lines: z.array(RefundShippingLine).nullish(),
  order_adjustments: z.array(OrderAdjustment).nullish(),
  total_duties_set: MoneySet.nullish(),
});
export type RefundPayload = z.infer<typeof RefundPayload>;

const LineItem = z.object({
  id: ShopifyId.nullish(),
  product_id: ShopifyId.nullish(),
  /** The variant whose inventory item's unit cost the line takes; null for a custom line. */
  variant_id: ShopifyId.nullish(),
  title: z.string().nullish(),
  /** Every discount on the line, order-level discounts' shares included (Shopify's "Discounts"). */
  discount_allocations: z.array(z.object({ amount_set: MoneySet })).nullish(),
  // Read for taxes-included orders only, to take the tax out of the line's gross sales and discounts.
  price_set: MoneySet.nullish(),
  quantity: z.number().int().nonnegative().nullish(),
  /** The units left after refunds and order edits that removed some (quantity minus the removed ones). */
  current_quantity: z.number().int().nonnegative().nullish(),
  /** The tax charged on the line (after its discounts); inside the price when the order's taxes_included. */
  tax_lines: z.array(z.object({ price_set: MoneySet })).nullish(),
});

export const OrderPayload = z.object({
  id: ShopifyId,
  admin_graphql_api_id: z.string().optional(),
  name: z.string().nullish(),
  created_at: Timestamp,
  updated_at: Timestamp,
  processed_at: Timestamp.nullish(),
  cancelled_at: Timestamp.nullish(),
  test: z.boolean().default(false),
  /** The shop currency when the order was placed; its amounts are read from the `*_set.shop_money` figures. */
  currency: CurrencyCode.nullish(),
  presentment_currency: CurrencyCode.nullish(),
  financial_status: z.string().nullish(),
  source_name: z.string().nullish(),
  /** The first page of the visit that led to the order, with its query (UTM parameters); and where the visitor came from. */
  landing_site: z.string().nullish(),
  referring_site: z.string().nullish(),
  tags: z.string().nullish(),
  current_total_price_set: MoneySet,
  // The order's parts (docs/analytics/revenue.md). Optional: an order without them is stored
  // with its parts unknown and counts at total sales.
  total_line_items_price_set: MoneySet.nullish(),
  current_subtotal_price_set: MoneySet.nullish(),
  total_tax_set: MoneySet.nullish(),
  total_shipping_price_set: MoneySet.nullish(),
  original_total_duties_set: MoneySet.nullish(),
  /** After refunds and edits (shipping also after its discounts): the parts Tenure stores. */
  current_total_tax_set: MoneySet.nullish(),
  current_shipping_price_set: MoneySet.nullish(),
  current_total_duties_set: MoneySet.nullish(),
  /** Prices include tax (most EU shops): the line prices and subtotals then carry it. */
  taxes_included: z.boolean().nullish(),
  discount_codes: z.array(z.object({ code: z.string() })).nullish(),
  line_items: z.array(LineItem).default([]),
  customer: EmbeddedCustomer.nullish(),
  refunds: z.array(RefundPayload).nullish(),
});
export type OrderPayload = z.infer<typeof OrderPayload>;

/** products/create, products/update: the variants' inventory items (whose unit cost their order lines take). */
export const ProductPayload = z.object({
  id: ShopifyId,
  admin_graphql_api_id: z.string().optional(),
  updated_at: Timestamp,
  variants: z
    .array(
      z.object({
        id: ShopifyId,
        admin_graphql_api_id: z.string().optional(),
        inventory_item_id: ShopifyId.nullish(),
        updated_at: Timestamp.nullish(),
      }),
    )
    .default([]),
});
export type ProductPayload = z.infer<typeof ProductPayload>;

/**
 * inventory_items/create, inventory_items/update: the unit cost (`cost`, a decimal string in
 * the shop's currency, null when none is set) as of the item's updated_at.
 */
export const InventoryItemPayload = z.object({
  id: ShopifyId,
  admin_graphql_api_id: z.string().optional(),
  updated_at: Timestamp,
  cost: Amount.nullish(),
});
export type InventoryItemPayload = z.infer<typeof InventoryItemPayload>;

/** customers_email_marketing_consent/update: one customer's email consent, no profile. */
export const EmailConsentUpdatePayload = z.object({
  customer_id: ShopifyId,
  email_address: z.string().nullish(),
  email_marketing_consent: ConsentPayload.nullish(),
});
export type EmailConsentUpdatePayload = z.infer<typeof EmailConsentUpdatePayload>;

/** customers_marketing_consent/update: one customer's SMS consent, no profile. */
export const SmsConsentUpdatePayload = z.object({
  id: ShopifyId,
  phone: z.string().nullish(),
  sms_marketing_consent: ConsentPayload.nullish(),
});
export type SmsConsentUpdatePayload = z.infer<typeof SmsConsentUpdatePayload>;

/** orders/delete and customers/delete carry little more than the id. */
export const DeletePayload = z.object({ id: ShopifyId, admin_graphql_api_id: z.string().optional() });

const ComplianceCustomer = z.object({
  id: ShopifyId,
  email: z.string().nullish(),
  phone: z.string().nullish(),
});

export const CustomersRedactPayload = z.object({
  shop_domain: z.string(),
  customer: ComplianceCustomer,
  orders_to_redact: z.array(ShopifyId).default([]),
});

export const CustomersDataRequestPayload = z.object({
  shop_domain: z.string(),
  customer: ComplianceCustomer,
  orders_requested: z.array(ShopifyId).default([]),
  data_request: z.object({ id: ShopifyId }).nullish(),
});

export const ShopRedactPayload = z.object({ shop_domain: z.string() });

export const AppUninstalledPayload = z.object({
  myshopify_domain: z.string().nullish(),
  currency: z.string().nullish(),
  iana_timezone: z.string().nullish(),
});

export const AppScopesUpdatePayload = z.object({
  current: z.array(z.string()),
  updated_at: Timestamp.nullish(),
});

export const BulkOperationFinishPayload = z.object({
  admin_graphql_api_id: z.string(),
  status: z.string(),
  type: z.string().nullish(),
  error_code: z.string().nullish(),
  created_at: Timestamp.nullish(),
  completed_at: Timestamp.nullish(),
});
export type BulkOperationFinishPayload = z.infer<typeof BulkOperationFinishPayload>;
