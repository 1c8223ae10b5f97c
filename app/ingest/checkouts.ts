import { z } from "zod";
import { toMinorUnits } from "~/analytics/money";
import { PayloadValidationError, parsePayload, plausibleUpdatedAt, resolveId } from "./mappers";
import { CurrencyCode, ShopifyId, Timestamp } from "./payloads";

// Checkouts (issue 17, cart abandoners): the shape of checkouts/create and checkouts/update
// bodies (only the fields Tenure reads), their pure mapping to a Checkout row, and the
// checkout an order came from (the order payload's checkout_id, checkout_token, cart_token).
// Pure: upsert-checkout.server.ts writes what these return.

const Amount = z.union([z.string(), z.number()]);

/**
 * A checkout webhook body (the REST checkout resource). Its amounts are plain decimals in the
 * presentment currency (`presentment_currency`); `currency` is the shop's currency. Unlike
 * orders, the payload carries no `*_set.shop_money`, so a checkout priced in another
 * currency is stored with its totals unknown rather than converted by a guessed rate.
 */
export const CheckoutPayload = z.object({
  id: ShopifyId,
  admin_graphql_api_id: z.string().nullish(),
  token: z.string().nullish(),
  cart_token: z.string().nullish(),
  email: z.string().nullish(),
  created_at: Timestamp,
  updated_at: Timestamp,
  completed_at: Timestamp.nullish(),
  currency: CurrencyCode.nullish(),
  presentment_currency: CurrencyCode.nullish(),
  total_price: Amount.nullish(),
  subtotal_price: Amount.nullish(),
  abandoned_checkout_url: z.string().nullish(),
  line_items: z.array(z.object({}).loose()).default([]),
  customer: z.object({ id: ShopifyId, admin_graphql_api_id: z.string().nullish(), email: z.string().nullish() }).nullish(),
});
export type CheckoutPayload = z.infer<typeof CheckoutPayload>;

export interface CheckoutRow {
  id: bigint;
  token: string | null;
  cartToken: string | null;
  /** null: a guest checkout. */
  customerId: bigint | null;
  email: string | null;
  /** The shop currency as the checkout states it. */
  currency: string | null;
  /** Shop-currency minor units; null when the checkout was priced in another currency. */
  totalPriceMinor: bigint | null;
  subtotalPriceMinor: bigint | null;
  abandonedCheckoutUrl: string | null;
  lineItemCount: number;
  shopifyCreatedAt: Date;
  shopifyUpdatedAt: Date;
  completedAt: Date | null;
}

/** Turns a bad id, amount or date found while mapping into the delivery's PayloadValidationError. */
function checked<T>(topic: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof PayloadValidationError) throw error;
    throw new PayloadValidationError(topic, [error instanceof Error ? error.message : String(error)]);
  }
}

function minorOrNull(amount: string | number | null | undefined, currency: string | null, field: string): bigint | null {
  if (amount === null || amount === undefined || currency === null) return null;
  const minor = BigInt(toMinorUnits(String(amount), currency));
  if (minor < 0n) throw new Error(`${field} ${amount} is negative`);
  return minor;
}

/** checkouts/create, checkouts/update -> Checkout row. */
export function mapCheckoutPayload(payload: unknown, topic = "checkouts/update"): CheckoutRow {
  const parsed = parsePayload(topic, CheckoutPayload, payload);
  return checked(topic, () => {
    const currency = parsed.currency ?? parsed.presentment_currency ?? null;
    // The amounts are in the presentment currency: shop money only when the two are the same.
    const inShopCurrency = currency !== null && (parsed.presentment_currency ?? currency) === currency;
    return {
      id: resolveId(parsed.id, parsed.admin_graphql_api_id, "id"),
      token: parsed.token || null,
      cartToken: parsed.cart_token || null,
      customerId: parsed.customer ? resolveId(parsed.customer.id, parsed.customer.admin_graphql_api_id, "customer.id") : null,
      email: parsed.email || parsed.customer?.email || null,
      currency,
      totalPriceMinor: inShopCurrency ? minorOrNull(parsed.total_price, currency, "total_price") : null,
      subtotalPriceMinor: inShopCurrency ? minorOrNull(parsed.subtotal_price, currency, "subtotal_price") : null,
      abandonedCheckoutUrl: parsed.abandoned_checkout_url || null,
      lineItemCount: parsed.line_items.length,
      shopifyCreatedAt: parsed.created_at,
      shopifyUpdatedAt: plausibleUpdatedAt(parsed.updated_at, "updated_at"),
      completedAt: parsed.completed_at ?? null,
    };
  });
}

/** The checkout an order came from, as an order payload names it. */
export interface OrderCheckoutRefs {
  orderId: bigint;
  checkoutId: bigint | null;
  checkoutToken: string | null;
  cartToken: string | null;
}

const OrderCheckoutPayload = z.object({
  id: ShopifyId,
  admin_graphql_api_id: z.string().nullish(),
  checkout_id: ShopifyId.nullish(),
  checkout_token: z.string().nullish(),
  cart_token: z.string().nullish(),
});

/**
 * The order payload's checkout references; null when it names none (a draft order, a POS
 * sale). The order itself is validated by mapOrderPayload; this reads three more keys.
 */
export function orderCheckoutRefs(payload: unknown, topic: string): OrderCheckoutRefs | null {
  const parsed = parsePayload(topic, OrderCheckoutPayload, payload);
  return checked(topic, () => {
    const refs = {
      orderId: resolveId(parsed.id, parsed.admin_graphql_api_id, "id"),
      checkoutId: parsed.checkout_id == null ? null : resolveId(parsed.checkout_id, null, "checkout_id"),
      checkoutToken: parsed.checkout_token || null,
      cartToken: parsed.cart_token || null,
    };
    return refs.checkoutId === null && refs.checkoutToken === null && refs.cartToken === null ? null : refs;
  });
}
