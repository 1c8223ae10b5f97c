import { type z } from "zod";
import { MoneyFormatError, toMinorUnits } from "~/analytics/money";
import {
  type ConsentPayload,
  CustomerPayload,
  DeletePayload,
  EmailConsentUpdatePayload,
  SmsConsentUpdatePayload,
  OrderPayload,
  RefundPayload,
  type MoneySet,
} from "./payloads";
import { marketingSource } from "./marketing-source";

// Pure payload -> row mappers. No I/O: the upsert path (upsert.server.ts) writes what
// these return. Rows carry no shop: the caller scopes every write by the delivery's shop.

/** Marketing consent states, in GraphQL's enum spelling. */
export const CONSENT_STATES = ["SUBSCRIBED", "NOT_SUBSCRIBED", "UNSUBSCRIBED", "PENDING", "REDACTED", "INVALID"] as const;
export type ConsentState = (typeof CONSENT_STATES)[number];
export const OPT_IN_LEVELS = ["SINGLE_OPT_IN", "CONFIRMED_OPT_IN", "UNKNOWN"] as const;
export type OptInLevel = (typeof OPT_IN_LEVELS)[number];

/** One channel's marketing consent as a source states it (GraphQL spelling). */
export interface MarketingConsent {
  state: ConsentState;
  optInLevel: OptInLevel | null;
  /** When the consent last changed; null when it never did (a customer never asked). */
  updatedAt: Date | null;
}

/**
 * Which of two statements of one channel's consent stands: the later consent change
 * (`updatedAt`; never changed sorts first), and at the same moment the more restrictive
 * state, then level, in these orders. A total order, so keeping the greatest statement seen
 * gives the same consent whatever order the sources arrive in (upsert.server.ts applies
 * the same order in SQL: consentNewerSql).
 */
export const CONSENT_STATE_PRECEDENCE: readonly ConsentState[] = ["SUBSCRIBED", "PENDING", "NOT_SUBSCRIBED", "UNSUBSCRIBED", "INVALID", "REDACTED"];
export const OPT_IN_LEVEL_PRECEDENCE: readonly OptInLevel[] = ["UNKNOWN", "SINGLE_OPT_IN", "CONFIRMED_OPT_IN"];

/** > 0 when `a` stands over `b` (consentNewerSql's order); a missing statement is below every statement. */
export function compareConsent(a: MarketingConsent | null, b: MarketingConsent | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  const at = (c: MarketingConsent) => (c.updatedAt === null ? Number.NEGATIVE_INFINITY : c.updatedAt.getTime());
  if (at(a) !== at(b)) return at(a) > at(b) ? 1 : -1;
  const state = CONSENT_STATE_PRECEDENCE.indexOf(a.state) - CONSENT_STATE_PRECEDENCE.indexOf(b.state);
  if (state !== 0) return state;
  const level = (c: MarketingConsent) => (c.optInLevel === null ? -1 : OPT_IN_LEVEL_PRECEDENCE.indexOf(c.optInLevel));
  return level(a) - level(b);
}

export interface CustomerRow {
  id: bigint;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
  state: string | null;
  /**
   * null: the source carries no tags, and the stored ones stand. Since API 2025-01 customer
   * payloads (customers/create, customers/update, an order's customer) have no `tags` key
   * (Shopify moved them to the customer.tags_added / customer.tags_removed topics); reading
   * the absence as "no tags" would wipe the tags ShopSettings.excludedCustomerTags relies on.
   */
  tags: string[] | null;
  currency: string | null;
  shopifyCreatedAt: Date | null;
  shopifyUpdatedAt: Date;
  /**
   * The source's statement of email / SMS marketing consent; null when it says nothing
   * (no consent key, or no address on the channel), which leaves the stored consent as it is.
   */
  emailConsent: MarketingConsent | null;
  smsConsent: MarketingConsent | null;
}

export interface OrderRow {
  id: bigint;
  name: string | null;
  customerId: bigint | null;
  processedAt: Date;
  shopifyCreatedAt: Date;
  shopifyUpdatedAt: Date;
  /** The shop currency: every *Minor amount is in it. */
  currency: string;
  /** current_total_price_set.shop_money: after refunds and edits as of shopifyUpdatedAt. */
  currentTotalMinor: bigint;
  test: boolean;
  cancelledAt: Date | null;
  financialStatus: string | null;
  sourceName: string | null;
  discountCodes: string[];
  tags: string[];
  firstProductId: bigint | null;
  firstProductTitle: string | null;
  lineItemCount: number;
  /** Where the visit that led to the order came from (marketing-source.ts); null: unknown. */
  marketingSource: string | null;
  /** The source is the customer journey's first visit (GraphQL), not the order's own landing/referrer (webhooks). */
  marketingSourceFromJourney: boolean;
  /** The order's parts as of shopifyUpdatedAt; null when the payload did not carry them. */
  parts: OrderParts | null;
}

/**
 * An order's money by part, in shop minor units, as Shopify's sales reports define them
 * (docs/analytics/revenue.md): net sales = gross - discounts - returns.
 */
export interface OrderParts {
  /** Line item price x quantity (total_line_items_price). */
  grossSalesMinor: bigint;
  /** Line item discounts, order-level discounts' shares included; shipping discounts are not. */
  discountsMinor: bigint;
  /** What the current subtotal lacks: refunded (or edited-away) line items after their discounts. */
  returnsMinor: bigint;
  taxMinor: bigint;
  shippingMinor: bigint;
  dutiesMinor: bigint;
}

/** What one refund returned, by part; tax, shipping and duties refunded alongside the returns. */
export interface RefundParts {
  returnsMinor: bigint;
  taxMinor: bigint;
  shippingMinor: bigint;
  dutiesMinor: bigint;
}

export interface RefundRow {
  id: bigint;
  orderId: bigint;
  createdAt: Date;
  /** Money returned, in the shop currency (see refundAmountMinor). */
  amountMinor: bigint;
  /** Shop currency of the amounts; null when the refund carried no money fields at all. */
  currency: string | null;
  /** By part; null when the source gave the total only (a GraphQL refund). */
  parts: RefundParts | null;
  /** Units returned per order line (refunds/create); absent when the source does not list them. */
  lineQuantities?: { lineItemId: bigint; quantity: number }[];
}

/** Everything one order delivery tells us. */
export interface OrderBundle {
  order: OrderRow;
  /** The embedded customer's profile, when the payload has one with an updated_at. */
  customer: CustomerRow | null;
  refunds: RefundRow[];
  /** The order's lines as their cost of goods needs them; undefined: the source says nothing of lines (stored ones stay). */
  lines?: OrderLineRow[];
}

/** One order line as far as its cost needs (docs/analytics/revenue.md, "Cost of goods"). */
export interface OrderLineRow {
  id: bigint;
  /** null: a custom line (no variant), never costed. */
  variantId: bigint | null;
  /** Units ordered less units refunded. */
  keptQuantity: number;
  /** The kept units' net sales: price x quantity less the line's discounts (and its tax when prices include it), pro rata. */
  keptNetSalesMinor: bigint;
  /** The variant's inventory item and its unit cost, when the source carries them (the bulk import; webhooks do not); costMinor null: no usable cost (missing, or in another currency), not written to the history. */
  inventoryItem?: { id: bigint; updatedAt: Date; costMinor: bigint | null };
}

/** A payload that is not of its topic's shape. Retrying cannot fix it. */
export class PayloadValidationError extends Error {
  constructor(
    readonly topic: string,
    readonly problems: string[],
  ) {
    super(`${topic} payload is invalid: ${problems.join("; ")}`);
    this.name = "PayloadValidationError";
  }
}

/** Parses `payload` with `schema`, or throws a PayloadValidationError naming each bad field. */
export function parsePayload<T extends z.ZodType>(topic: string, schema: T, payload: unknown): z.infer<T> {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  throw new PayloadValidationError(
    topic,
    result.error.issues.map((issue) => `${issue.path.length ? issue.path.join(".") : "(body)"}: ${issue.message}`),
  );
}

/** Runs a mapping step, turning a money or id problem into a PayloadValidationError. */
export function mapping<T>(topic: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof MoneyFormatError || error instanceof IdError || error instanceof ImplausibleValueError) {
      throw new PayloadValidationError(topic, [error.message]);
    }
    throw error;
  }
}

class IdError extends Error {}

/** A value Shopify would never send (a negative refund, a timestamp far in the future): refused rather than trusted. */
class ImplausibleValueError extends Error {}

/**
 * How far an updated_at may lie ahead of this clock: clocks differ by seconds, not days.
 * Newer wins (upsert.server.ts), so a year-9999 updated_at would freeze the row for good.
 */
const MAX_FUTURE_MS = 24 * 3_600_000;

export function plausibleUpdatedAt(updatedAt: Date, field: string): Date {
  if (updatedAt.getTime() > Date.now() + MAX_FUTURE_MS) {
    throw new ImplausibleValueError(`${field} ${updatedAt.toISOString()} is more than a day in the future`);
  }
  return updatedAt;
}

/**
 * The exact id. JSON numbers above 2^53 lose digits in JavaScript, so the GraphQL id
 * ("gid://shopify/Order/6123456789012"), which carries the digits as text, wins when present.
 */
export function resolveId(id: number | string, gid?: string | null, field = "id"): bigint {
  const fromGid = gid ? /\/(\d+)(?:\?.*)?$/.exec(gid)?.[1] : undefined;
  if (fromGid !== undefined) {
    if (typeof id === "string" || Number.isSafeInteger(id)) {
      if (BigInt(id) !== BigInt(fromGid)) throw new IdError(`${field} ${id} does not match ${gid}`);
    }
    return BigInt(fromGid);
  }
  if (typeof id === "number" && !Number.isSafeInteger(id)) {
    throw new IdError(`${field} ${id} is too large to be read exactly from a JSON number`);
  }
  return BigInt(id);
}

/** "a, b ,,c" -> ["a", "b", "c"] (Shopify sends tags as one comma-separated string). */
export function splitTags(tags: string | null | undefined): string[] {
  if (!tags) return [];
  return tags
    .split(",")
    .map((tag) => tag.trim())
    .filter((tag) => tag.length > 0);
}

function shopMoney(set: z.infer<typeof MoneySet>): { minor: bigint; currency: string } {
  const { amount, currency_code } = set.shop_money;
  // A few payloads send amounts unquoted; a JSON number's shortest decimal form is exact for money.
  return { minor: BigInt(toMinorUnits(String(amount), currency_code)), currency: currency_code };
}

/**
 * A REST consent object (null/absent: says nothing; a null state: no address on the
 * channel, says nothing either) in GraphQL's spelling. A consent date more than a day
 * ahead is refused as updated_at is: the later consent stands, so it would stand for good.
 */
export function consentOf(payload: ConsentPayload | null | undefined, field: string): MarketingConsent | null {
  if (!payload?.state) return null;
  const updatedAt = payload.consent_updated_at ?? null;
  return {
    state: payload.state,
    optInLevel: payload.opt_in_level ?? null,
    updatedAt: updatedAt === null ? null : plausibleUpdatedAt(updatedAt, `${field}.consent_updated_at`),
  };
}

function customerRow(payload: Omit<z.infer<typeof CustomerPayload>, "updated_at">, updatedAt: Date): CustomerRow {
  return {
    id: resolveId(payload.id, payload.admin_graphql_api_id, "customer.id"),
    email: payload.email || null,
    firstName: payload.first_name ?? null,
    lastName: payload.last_name ?? null,
    phone: payload.phone || null,
    state: payload.state ?? null,
    tags: payload.tags == null ? null : splitTags(payload.tags),
    currency: payload.currency ?? null,
    shopifyCreatedAt: payload.created_at ?? null,
    shopifyUpdatedAt: plausibleUpdatedAt(updatedAt, "customer.updated_at"),
    emailConsent: consentOf(payload.email_marketing_consent, "customer.email_marketing_consent"),
    smsConsent: consentOf(payload.sms_marketing_consent, "customer.sms_marketing_consent"),
  };
}

/** What a consent topic tells: one customer's consent on one channel, nothing of the profile. */
export interface ConsentUpdate {
  customerId: bigint;
  channel: "email" | "sms";
  /** null: the customer has no address on the channel (state null): nothing to store. */
  consent: MarketingConsent | null;
}

/** customers_email_marketing_consent/update -> the customer's email consent. */
export function mapEmailConsentPayload(payload: unknown, topic = "customers_email_marketing_consent/update"): ConsentUpdate {
  const parsed = parsePayload(topic, EmailConsentUpdatePayload, payload);
  return mapping(topic, () => ({
    customerId: resolveId(parsed.customer_id, null, "customer_id"),
    channel: "email",
    consent: consentOf(parsed.email_marketing_consent, "email_marketing_consent"),
  }));
}

/** customers_marketing_consent/update -> the customer's SMS consent. */
export function mapSmsConsentPayload(payload: unknown, topic = "customers_marketing_consent/update"): ConsentUpdate {
  const parsed = parsePayload(topic, SmsConsentUpdatePayload, payload);
  return mapping(topic, () => ({
    customerId: resolveId(parsed.id, null, "id"),
    channel: "sms",
    consent: consentOf(parsed.sms_marketing_consent, "sms_marketing_consent"),
  }));
}

/** customers/create, customers/update -> Customer row. */
export function mapCustomerPayload(payload: unknown, topic = "customers/update"): CustomerRow {
  const parsed = parsePayload(topic, CustomerPayload, payload);
  return mapping(topic, () => customerRow(parsed, parsed.updated_at));
}

/**
 * Money a refund returned, in the shop currency: refunded line items (subtotal + tax),
 * refunded shipping lines (subtotal + tax) and duties, less order adjustments (Shopify
 * records refunded shipping in older versions as a negative adjustment, and a partial
 * refund such as a restocking fee as a positive discrepancy). Transactions are not used:
 * their amounts are in the presentment currency only. When a refund lists
 * refund_shipping_lines, shipping_refund adjustments are the same money and are skipped.
 */
export function refundAmountMinor(refund: RefundPayload): { minor: bigint; currency: string | null } {
  let total = 0n;
  const currencies = new Set<string>();
  const add = (set: z.infer<typeof MoneySet> | null | undefined, sign: 1n | -1n) => {
    if (!set) return;
    const money = shopMoney(set);
    currencies.add(money.currency);
    total += sign * money.minor;
  };
  for (const line of refund.refund_line_items) {
    add(line.subtotal_set, 1n);
    add(line.total_tax_set, 1n);
  }
  const shippingLines = refund.refund_shipping_lines ?? [];
  for (const line of shippingLines) {
    add(line.subtotal_amount_set, 1n);
    add(line.tax_amount_set, 1n);
  }
  add(refund.total_duties_set, 1n);
  for (const adjustment of refund.order_adjustments ?? []) {
    if (shippingLines.length > 0 && adjustment.kind === "shipping_refund") continue;
    add(adjustment.amount_set, -1n);
    add(adjustment.tax_amount_set, -1n);
  }
  if (currencies.size > 1) {
    throw new MoneyFormatError(`refund mixes shop currencies: ${[...currencies].join(", ")}`);
  }
  return { minor: total, currency: [...currencies][0] ?? null };
}

/** What a refund returned by part, in the shop currency (the same fields refundAmountMinor adds up). */
export function refundPartsMinor(refund: RefundPayload): RefundParts {
  const sum = (sets: (z.infer<typeof MoneySet> | null | undefined)[]) =>
    sets.reduce((total, set) => (set ? total + shopMoney(set).minor : total), 0n);
  const shippingLines = refund.refund_shipping_lines ?? [];
  const shippingAdjustments = (refund.order_adjustments ?? []).filter((adjustment) => adjustment.kind === "shipping_refund");
  return {
    returnsMinor: sum(refund.refund_line_items.map((line) => line.subtotal_set)),
    taxMinor: sum([...refund.refund_line_items.map((line) => line.total_tax_set), ...shippingLines.map((line) => line.tax_amount_set)]),
    // Older API versions record refunded shipping as a negative shipping_refund adjustment.
    shippingMinor: shippingLines.length > 0
      ? sum(shippingLines.map((line) => line.subtotal_amount_set))
      : -sum(shippingAdjustments.map((adjustment) => adjustment.amount_set)),
    dutiesMinor: sum([refund.total_duties_set]),
  };
}

function refundRow(refund: RefundPayload): RefundRow {
  const { minor, currency } = refundAmountMinor(refund);
  // A refund returns money: a negative one would raise the order's net instead.
  if (minor < 0n) throw new ImplausibleValueError(`refund ${refund.id} returns a negative amount (${minor} minor units)`);
  return {
    id: resolveId(refund.id, refund.admin_graphql_api_id, "refund.id"),
    orderId: resolveId(refund.order_id, null, "refund.order_id"),
    createdAt: refund.created_at,
    amountMinor: minor,
    currency,
    parts: refundPartsMinor(refund),
    lineQuantities: refund.refund_line_items.flatMap((line) =>
      line.line_item_id != null && line.quantity != null && line.quantity > 0
        ? [{ lineItemId: resolveId(line.line_item_id, null, "refund_line_items.line_item_id"), quantity: line.quantity }]
        : [],
    ),
  };
}

/** refunds/create -> Refund row. */
export function mapRefundPayload(payload: unknown, topic = "refunds/create"): RefundRow {
  const parsed = parsePayload(topic, RefundPayload, payload);
  return mapping(topic, () => refundRow(parsed));
}

/**
 * The order's parts from a webhook payload, or null when it lacks the totals they come from.
 * Returns are what the current subtotal (after refunds and edits) lacks of gross - discounts,
 * so the parts always add up to the current subtotal, as the GraphQL import computes them;
 * for a taxes-included order, to the current subtotal without its tax (withoutIncludedTax).
 */
function orderParts(parsed: OrderPayload, currency: string): OrderParts | null {
  if (!parsed.total_line_items_price_set || !parsed.current_subtotal_price_set) return null;
  // A part in another currency than the total cannot be added to it: the parts are unknown
  // (the total's own currency is checked against the shop's by foreignCurrencyProblem).
  let mixed = false;
  const inShopCurrency = (set: z.infer<typeof MoneySet> | null | undefined): bigint => {
    if (!set) return 0n;
    const money = shopMoney(set);
    if (money.currency !== currency) mixed = true;
    return money.minor;
  };
  const gross = inShopCurrency(parsed.total_line_items_price_set);
  const lineDiscounts = (line: OrderPayload["line_items"][number]) =>
    (line.discount_allocations ?? []).reduce((sum, allocation) => sum + inShopCurrency(allocation.amount_set), 0n);
  const discounts = parsed.line_items.reduce((total, line) => total + lineDiscounts(line), 0n);
  const returns = gross - discounts - inShopCurrency(parsed.current_subtotal_price_set);
  let sales: Pick<OrderParts, "grossSalesMinor" | "discountsMinor" | "returnsMinor"> = { grossSalesMinor: gross, discountsMinor: discounts, returnsMinor: returns };
  if (parsed.taxes_included) {
    // Each line's tax is needed to take it out: a line without its price is unknown.
    if (parsed.line_items.some((line) => !line.price_set || line.quantity == null)) return null;
    sales = withoutIncludedTax(
      parsed.line_items.map((line) => ({
        grossMinor: inShopCurrency(line.price_set) * BigInt(line.quantity ?? 0),
        discountsMinor: lineDiscounts(line),
        taxMinor: (line.tax_lines ?? []).reduce((sum, tax) => sum + inShopCurrency(tax.price_set), 0n),
      })),
      returns,
    );
  }
  const parts: OrderParts = {
    ...sales,
    // The current figures, after refunds, edits and shipping discounts, so that net sales + tax
    // + shipping + duties is the current total (docs/analytics/revenue.md); the original ones
    // only where a payload lacks them.
    taxMinor: inShopCurrency(parsed.current_total_tax_set ?? parsed.total_tax_set),
    shippingMinor: inShopCurrency(parsed.current_shipping_price_set ?? parsed.total_shipping_price_set),
    dutiesMinor: inShopCurrency(parsed.current_total_duties_set ?? parsed.original_total_duties_set),
  };
  return mixed ? null : parts;
}

/** One order line's money as Shopify sends it for a taxes-included order: every amount carries the line's tax. */
export interface TaxIncludedLine {
  /** Price x quantity, tax inside. */
  grossMinor: bigint;
  /** The line's discounts, tax inside. */
  discountsMinor: bigint;
  /** The tax charged on the line after its discounts (its tax_lines). */
  taxMinor: bigint;
}

/** amount x numerator / denominator (denominator > 0), rounded half away from zero as PostgreSQL's round(numeric) does. */
export function scaled(amount: bigint, numerator: bigint, denominator: bigint): bigint {
  const product = amount * numerator;
  const magnitude = (2n * (product < 0n ? -product : product) + denominator) / (2n * denominator);
  return product < 0n ? -magnitude : magnitude;
}

/**
 * Gross sales, discounts and returns without the tax that taxes-included prices carry, as
 * Shopify's sales reports show them (docs/analytics/revenue.md): each line's tax comes out of
 * its price first and the discount applies to what is left, so a line's gross and discount
 * shrink by the same factor, its net (price - discount - tax) exactly. Returns (what the
 * current subtotal lacks, tax inside) shrink by the order's own factor, its lines' net
 * without tax over their net with it. A line whose tax cannot be read that way (nothing left
 * after its discount, or more tax than that) keeps its figures as sent. The same arithmetic
 * runs in SQL in the migration 20261206140000_revenue_parts's backfill.
 */
export function withoutIncludedTax(lines: TaxIncludedLine[], returnsWithTaxMinor: bigint): Pick<OrderParts, "grossSalesMinor" | "discountsMinor" | "returnsMinor"> {
  let gross = 0n;
  let discounts = 0n;
  let netWithTax = 0n;
  let netWithoutTax = 0n;
  for (const line of lines) {
    const net = line.grossMinor - line.discountsMinor;
    netWithTax += net;
    if (net <= 0n || line.taxMinor < 0n || line.taxMinor > net) {
      gross += line.grossMinor;
      discounts += line.discountsMinor;
      netWithoutTax += net;
      continue;
    }
    const lineGross = scaled(line.grossMinor, net - line.taxMinor, net);
    gross += lineGross;
    discounts += lineGross - (net - line.taxMinor);
    netWithoutTax += net - line.taxMinor;
  }
  const returns = netWithTax > 0n ? scaled(returnsWithTaxMinor, netWithoutTax, netWithTax) : returnsWithTaxMinor;
  return { grossSalesMinor: gross, discountsMinor: discounts, returnsMinor: returns };
}

/** orders/create, orders/updated, orders/cancelled -> Order row, embedded Customer and Refunds. */
export function mapOrderPayload(payload: unknown, topic = "orders/updated"): OrderBundle {
  const parsed = parsePayload(topic, OrderPayload, payload);
  return mapping(topic, () => {
    const total = shopMoney(parsed.current_total_price_set);
    const orderId = resolveId(parsed.id, parsed.admin_graphql_api_id, "order.id");
    const embedded = parsed.customer ?? null;
    const customerId = embedded ? resolveId(embedded.id, embedded.admin_graphql_api_id, "customer.id") : null;
    const firstLine = parsed.line_items[0];
    const order: OrderRow = {
      id: orderId,
      name: parsed.name ?? null,
      customerId,
      processedAt: parsed.processed_at ?? parsed.created_at,
      shopifyCreatedAt: parsed.created_at,
      shopifyUpdatedAt: plausibleUpdatedAt(parsed.updated_at, "order.updated_at"),
      currency: total.currency,
      currentTotalMinor: total.minor,
      test: parsed.test,
      cancelledAt: parsed.cancelled_at ?? null,
      financialStatus: parsed.financial_status ?? null,
      sourceName: parsed.source_name ?? null,
      discountCodes: (parsed.discount_codes ?? []).map((discount) => discount.code),
      tags: splitTags(parsed.tags),
      firstProductId: firstLine?.product_id != null ? resolveId(firstLine.product_id, null, "line_items.0.product_id") : null,
      firstProductTitle: firstLine?.title ?? null,
      lineItemCount: parsed.line_items.length,
      marketingSource: marketingSource({ landingSite: parsed.landing_site, referringSite: parsed.referring_site }),
      marketingSourceFromJourney: false,
      parts: orderParts(parsed, total.currency),
    };
    const customer = embedded?.updated_at ? customerRow(embedded, embedded.updated_at) : null;
    const refunds = (parsed.refunds ?? []).map((refund) => {
      const row = refundRow(refund);
      if (row.orderId !== orderId) throw new IdError(`refund ${row.id} belongs to order ${row.orderId}, not ${orderId}`);
      if (row.currency !== null && row.currency !== total.currency) {
        throw new MoneyFormatError(`refund ${row.id} is in ${row.currency}, the order in ${total.currency}`);
      }
      return row;
    });
    return { order, customer, refunds, lines: orderLines(parsed, total.currency) };
  });
}

/**
 * The order's lines for their cost of goods: units kept (current_quantity: ordered less
 * refunded and removed by edits; else ordered less the payload's refunds) and their share of the line's net sales. A line without an id, price
 * or quantity, or in another currency, is left out: its sales fall back to the margin.
 */
function orderLines(parsed: OrderPayload, currency: string): OrderLineRow[] {
  const refunded = new Map<string, number>();
  for (const refund of parsed.refunds ?? []) {
    for (const line of refund.refund_line_items) {
      if (line.line_item_id == null || line.quantity == null) continue;
      const key = String(line.line_item_id);
      refunded.set(key, (refunded.get(key) ?? 0) + line.quantity);
    }
  }
  const lines: OrderLineRow[] = [];
  for (const line of parsed.line_items) {
    if (line.id == null || !line.price_set || line.quantity == null) continue;
    const price = shopMoney(line.price_set);
    if (price.currency !== currency) continue;
    const discounts = (line.discount_allocations ?? []).map((a) => shopMoney(a.amount_set));
    if (discounts.some((d) => d.currency !== currency)) continue;
    let net = price.minor * BigInt(line.quantity) - discounts.reduce((sum, d) => sum + d.minor, 0n);
    if (parsed.taxes_included) {
      const tax = (line.tax_lines ?? []).reduce((sum, t) => sum + shopMoney(t.price_set).minor, 0n);
      if (net > 0n && tax >= 0n && tax <= net) net -= tax;
    }
    const id = resolveId(line.id, null, "line_items.id");
    // current_quantity also drops units an order edit removed; without it, the refunds' units.
    const kept = Math.min(line.quantity, line.current_quantity ?? Math.max(0, line.quantity - (refunded.get(String(line.id)) ?? 0)));
    lines.push({
      id,
      variantId: line.variant_id != null ? resolveId(line.variant_id, null, "line_items.variant_id") : null,
      keptQuantity: kept,
      keptNetSalesMinor: line.quantity > 0 ? scaled(net, BigInt(kept), BigInt(line.quantity)) : 0n,
    });
  }
  return lines;
}

/**
 * Why these amounts cannot be added to the shop's, or null when they can. Every stored
 * amount is in the shop's currency: an order placed in another currency (a JPY order in a
 * USD shop) is taken through its `shop_money` figures, which the mappers read; an order
 * whose shop-money figures are themselves in another currency (placed before the shop
 * changed its currency, or forged) has nothing Tenure can add, and is refused whole
 * (issue 12, finding 6).
 */
export function foreignCurrencyProblem(
  shopCurrency: string,
  order: Pick<OrderRow, "id" | "currency"> | null,
  refunds: Pick<RefundRow, "id" | "currency">[],
): string | null {
  if (order && order.currency !== shopCurrency) {
    return `order ${order.id} has no amounts in the shop's currency ${shopCurrency}: its shop_money figures are in ${order.currency}`;
  }
  const refund = refunds.find((r) => r.currency !== null && r.currency !== shopCurrency);
  if (refund) return `refund ${refund.id} has no amounts in the shop's currency ${shopCurrency}: its shop_money figures are in ${refund.currency}`;
  return null;
}

/** orders/delete, customers/delete -> the id to delete. */
export function mapDeletePayload(payload: unknown, topic: string): bigint {
  const parsed = parsePayload(topic, DeletePayload, payload);
  return mapping(topic, () => resolveId(parsed.id, parsed.admin_graphql_api_id));
}

/** Ids in compliance payloads (orders_to_redact, orders_requested). */
export function mapIds(topic: string, ids: (number | string)[]): bigint[] {
  return mapping(topic, () => ids.map((id) => resolveId(id, null)));
}

/** The order net as stored: test orders never count; the rest at their current total. */
export function baseNetMinor(order: Pick<OrderRow, "test" | "currentTotalMinor">): bigint {
  return order.test ? 0n : order.currentTotalMinor;
}
