import { refundAmountMinor } from "../../app/ingest/mappers";
import { RefundPayload } from "../../app/ingest/payloads";
import { type Json } from "./webhook-fixtures";

// The same order as Shopify's Admin GraphQL shows it, built from a webhook payload of the
// real shape, so a test can feed one order to both paths (webhook and backfill /
// reconciliation) and compare the rows they leave.

const gid = (type: string, id: unknown) => `gid://shopify/${type}/${String(id)}`;
const iso = (value: unknown) => (value == null ? null : new Date(String(value)).toISOString());
const tags = (value: unknown) => (typeof value === "string" && value ? value.split(",").map((t) => t.trim()).filter(Boolean) : []);
const upper = (value: unknown) => (typeof value === "string" ? value.toUpperCase() : null);

function minorToAmount(minor: bigint): string {
  const sign = minor < 0n ? "-" : "";
  const abs = minor < 0n ? -minor : minor;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, "0")}`;
}

type WebhookMoneySet = { shop_money: { amount: string | number; currency_code: string } };

/** A webhook `*_set` as a GraphQL MoneyBag (shop money only, as the queries select). */
function moneyBag(set: unknown): Json | null {
  if (!set) return null;
  const { amount, currency_code } = (set as WebhookMoneySet).shop_money;
  return { shopMoney: { amount: String(amount), currencyCode: currency_code } };
}

/** LineItem.originalTotalSet: the unit price x quantity, in cents (the fixtures are in 2-decimal currencies). */
function lineOriginalTotal(line: Json): Json | null {
  const set = line.price_set as WebhookMoneySet | undefined;
  if (!set) return null;
  const [whole, fraction = ""] = String(set.shop_money.amount).split(".");
  const cents = BigInt(whole) * 100n + BigInt((fraction + "00").slice(0, 2));
  return { shopMoney: { amount: minorToAmount(cents * BigInt(Number(line.quantity ?? 1))), currencyCode: set.shop_money.currency_code } };
}

/**
 * A webhook customer's consent objects as GraphQL's Customer.defaultEmailAddress and
 * defaultPhoneNumber.smsMarketingConsent (2026-10). A payload without a consent gives no
 * address object, so both paths say nothing alike.
 */
function customerConsent(customer: Json): { defaultEmailAddress: Json | null; defaultPhoneNumber: Json | null } {
  const email = customer.email_marketing_consent as Json | null | undefined;
  const sms = customer.sms_marketing_consent as Json | null | undefined;
  return {
    defaultEmailAddress: email?.state
      ? {
          emailAddress: customer.email ?? null,
          marketingState: upper(email.state),
          marketingOptInLevel: upper(email.opt_in_level),
          marketingUpdatedAt: iso(email.consent_updated_at),
        }
      : null,
    defaultPhoneNumber: sms?.state
      ? {
          phoneNumber: customer.phone ?? null,
          smsMarketingConsent: {
            state: upper(sms.state),
            optInLevel: upper(sms.opt_in_level),
            updatedAt: iso(sms.consent_updated_at),
            collectedFrom: upper(sms.consent_collected_from),
          },
        }
      : null,
  };
}

export interface GraphqlOrderWithLines {
  order: Json;
  lineItems: Json[];
}

/** A variant's inventory item as the bulk query reads it (cost of goods, issue 17): its id, updatedAt and unit cost (null: none). */
export interface GraphqlInventoryItem {
  id: number | string;
  updatedAt: string;
  unitCost: string | null;
}

/** A webhook order payload -> the GraphQL `Order` object and its line item nodes (variants without their inventory item). */
export function graphqlOrderFromWebhook(payload: Json): GraphqlOrderWithLines {
  return graphqlOrderWithInventoryItems(payload, {});
}

/** graphqlOrderFromWebhook whose variants carry these inventory items (by variant id), as the bulk query reads them. */
export function graphqlOrderWithInventoryItems(payload: Json, inventoryItems: Record<string, GraphqlInventoryItem>): GraphqlOrderWithLines {
  const money = (payload.current_total_price_set as { shop_money: { amount: string; currency_code: string } }).shop_money;
  const customer = payload.customer as Json | null;
  const refunds = ((payload.refunds as Json[] | undefined) ?? []).map((refund) => {
    const amount = refundAmountMinor(RefundPayload.parse(refund));
    return {
      id: gid("Refund", refund.id),
      createdAt: iso(refund.created_at),
      totalRefundedSet: { shopMoney: { amount: minorToAmount(amount.minor), currencyCode: amount.currency ?? money.currency_code } },
    };
  });
  const order: Json = {
    id: gid("Order", payload.id),
    name: payload.name ?? null,
    createdAt: iso(payload.created_at),
    updatedAt: iso(payload.updated_at),
    processedAt: iso(payload.processed_at),
    cancelledAt: iso(payload.cancelled_at),
    test: payload.test,
    displayFinancialStatus: upper(payload.financial_status),
    sourceName: payload.source_name ?? null,
    discountCodes: ((payload.discount_codes as { code: string }[] | undefined) ?? []).map((d) => d.code),
    tags: tags(payload.tags),
    currentTotalPriceSet: { shopMoney: { amount: String(money.amount), currencyCode: money.currency_code } },
    currentSubtotalPriceSet: moneyBag(payload.current_subtotal_price_set),
    currentTotalTaxSet: moneyBag(payload.current_total_tax_set),
    currentShippingPriceSet: moneyBag(payload.current_shipping_price_set),
    currentTotalDutiesSet: moneyBag(payload.current_total_duties_set),
    taxesIncluded: payload.taxes_included ?? false,
    // The journey's first visit as Shopify reports it for an online order (null for POS and draft orders).
    customerJourneySummary:
      payload.landing_site || payload.referring_site
        ? { firstVisit: { landingPage: payload.landing_site ?? null, referrerUrl: payload.referring_site ?? null, utmParameters: null } }
        : null,
    customer: customer
      ? {
          id: gid("Customer", customer.id),
          email: customer.email ?? null,
          firstName: customer.first_name ?? null,
          lastName: customer.last_name ?? null,
          phone: customer.phone ?? null,
          state: upper(customer.state),
          tags: tags(customer.tags),
          amountSpent: customer.currency ? { currencyCode: customer.currency } : null,
          createdAt: iso(customer.created_at),
          updatedAt: iso(customer.updated_at),
          ...customerConsent(customer),
        }
      : null,
    refunds,
  };
  const refunded = new Map<string, number>();
  for (const refund of (payload.refunds as Json[] | undefined) ?? []) {
    for (const item of (refund.refund_line_items as Json[] | undefined) ?? []) {
      if (item.line_item_id == null) continue;
      refunded.set(String(item.line_item_id), (refunded.get(String(item.line_item_id)) ?? 0) + Number(item.quantity ?? 0));
    }
  }
  const currency = money.currency_code;
  const lineItems = ((payload.line_items as Json[] | undefined) ?? []).map((line) => ({
    id: gid("LineItem", line.id),
    quantity: line.quantity ?? null,
    refundableQuantity: line.quantity == null ? null : Math.max(0, Number(line.quantity) - (refunded.get(String(line.id)) ?? 0)),
    variant:
      line.variant_id != null
        ? {
            id: gid("ProductVariant", line.variant_id),
            inventoryItem: inventoryItemOf(inventoryItems[String(line.variant_id)], currency),
          }
        : null,
    title: line.title ?? null,
    product: line.product_id != null ? { id: gid("Product", line.product_id) } : null,
    originalTotalSet: lineOriginalTotal(line),
    discountAllocations: ((line.discount_allocations as Json[] | undefined) ?? []).map((allocation) => ({ allocatedAmountSet: moneyBag(allocation.amount_set) })),
    taxLines: ((line.tax_lines as Json[] | undefined) ?? []).map((tax) => ({ priceSet: moneyBag(tax.price_set) })),
  }));
  return { order, lineItems };
}

function inventoryItemOf(item: GraphqlInventoryItem | undefined, currency: string): Json | null {
  if (!item) return null;
  return { id: gid("InventoryItem", item.id), updatedAt: item.updatedAt, unitCost: item.unitCost === null ? null : { amount: item.unitCost, currencyCode: currency } };
}

/** The bulk operation's JSONL lines for these orders: each order, then its line items with `__parentId`. */
export function bulkJsonl(orders: GraphqlOrderWithLines[]): string {
  const lines: string[] = [];
  for (const { order, lineItems } of orders) {
    lines.push(JSON.stringify(order));
    for (const line of lineItems) lines.push(JSON.stringify({ ...line, __parentId: order.id }));
  }
  return lines.length ? `${lines.join("\n")}\n` : "";
}
