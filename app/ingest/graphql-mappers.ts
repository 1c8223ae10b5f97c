import { z } from "zod";
import { MoneyFormatError, toMinorUnits, toMinorUnitsHalfEven } from "~/analytics/money";
import {
  CONSENT_STATES,
  type CustomerRow,
  type MarketingConsent,
  OPT_IN_LEVELS,
  type OrderBundle,
  type OrderLineRow,
  type OrderParts,
  type OrderRow,
  type RefundRow,
  PayloadValidationError,
  parsePayload,
  plausibleUpdatedAt,
  scaled,
  withoutIncludedTax,
} from "./mappers";
import { CurrencyCode } from "./payloads";
import { type CheckoutRow } from "./checkouts";
import { type UnitCostRow, type VariantRow } from "./cost-mappers";
import { marketingSource } from "./marketing-source";

// Pure Admin GraphQL -> row mappers, for the bulk backfill (JSONL) and reconciliation
// (paged `orders` query). They produce exactly the rows the webhook mappers produce for
// the same order, so every source goes through the one upsert path with equal content.
// GraphQL enums (PAID, ENABLED) are lower-cased to the webhook spellings (paid, enabled).

const Gid = (type: string) => z.string().regex(new RegExp(`^gid://shopify/${type}/\\d+`), `must be a ${type} gid`);
const Time = z.iso.datetime({ offset: true }).transform((value) => new Date(value));
const MoneyBag = z.object({
  shopMoney: z.object({ amount: z.string(), currencyCode: CurrencyCode }),
});

const ConsentState = z.enum(CONSENT_STATES);
const OptInLevel = z.enum(OPT_IN_LEVELS);

/** Customer.defaultEmailAddress: the address and its email marketing consent (null: no email). */
const GraphqlEmailAddress = z.object({
  emailAddress: z.string().nullish(),
  marketingState: ConsentState,
  marketingOptInLevel: OptInLevel.nullish(),
  marketingUpdatedAt: Time.nullish(),
});

/**
 * Customer.defaultPhoneNumber with its SMS consent (CustomerSmsMarketingConsent: the flat
 * marketingState etc. of CustomerPhoneNumber are deprecated in 2026-10); null: no phone.
 */
const GraphqlPhoneNumber = z.object({
  phoneNumber: z.string().nullish(),
  smsMarketingConsent: z
    .object({ state: ConsentState, optInLevel: OptInLevel.nullish(), updatedAt: Time.nullish(), collectedFrom: z.string().nullish() })
    .nullish(),
});

export const GraphqlCustomer = z.object({
  id: Gid("Customer"),
  email: z.string().nullish(),
  firstName: z.string().nullish(),
  lastName: z.string().nullish(),
  phone: z.string().nullish(),
  state: z.string().nullish(),
  tags: z.array(z.string()).default([]),
  amountSpent: z.object({ currencyCode: z.string() }).nullish(),
  createdAt: Time.nullish(),
  updatedAt: Time,
  defaultEmailAddress: GraphqlEmailAddress.nullish(),
  defaultPhoneNumber: GraphqlPhoneNumber.nullish(),
});

export const GraphqlRefund = z.object({
  id: Gid("Refund"),
  createdAt: Time,
  totalRefundedSet: MoneyBag,
});

export const GraphqlLineItem = z.object({
  id: Gid("LineItem"),
  title: z.string().nullish(),
  product: z.object({ id: Gid("Product") }).nullish(),
  /** Original unit price x quantity: the line's gross sales. */
  originalTotalSet: MoneyBag.nullish(),
  discountAllocations: z.array(z.object({ allocatedAmountSet: MoneyBag })).nullish(),
  /** The tax charged on the line; inside its price when the order's taxesIncluded. */
  taxLines: z.array(z.object({ priceSet: MoneyBag })).nullish(),
  // Cost of goods (issue 17): units ordered and not refunded, and the variant's inventory item with its unit cost.
  quantity: z.number().int().nonnegative().nullish(),
  refundableQuantity: z.number().int().nonnegative().nullish(),
  variant: z
    .object({
      id: Gid("ProductVariant"),
      inventoryItem: z
        .object({ id: Gid("InventoryItem"), updatedAt: Time, unitCost: z.object({ amount: z.string(), currencyCode: CurrencyCode }).nullish() })
        .nullish(),
    })
    .nullish(),
});
export type GraphqlLineItem = z.infer<typeof GraphqlLineItem>;

export const GraphqlOrder = z.object({
  id: Gid("Order"),
  name: z.string().nullish(),
  createdAt: Time,
  updatedAt: Time,
  processedAt: Time.nullish(),
  cancelledAt: Time.nullish(),
  test: z.boolean(),
  displayFinancialStatus: z.string().nullish(),
  sourceName: z.string().nullish(),
  discountCodes: z.array(z.string()).default([]),
  tags: z.array(z.string()).default([]),
  currentTotalPriceSet: MoneyBag,
  // The order's parts (docs/analytics/revenue.md); optional, as in the webhook mapper.
  currentSubtotalPriceSet: MoneyBag.nullish(),
  // After refunds and edits (shipping also after its discounts), as the webhook mapper reads them.
  currentTotalTaxSet: MoneyBag.nullish(),
  currentShippingPriceSet: MoneyBag.nullish(),
  currentTotalDutiesSet: MoneyBag.nullish(),
  /** Prices include tax (most EU shops): the line totals and subtotals then carry it. */
  taxesIncluded: z.boolean().nullish(),
  /** The first visit of the journey to the order (null when Shopify has none: POS, draft orders, apps). */
  customerJourneySummary: z
    .object({
      firstVisit: z
        .object({
          landingPage: z.string().nullish(),
          referrerUrl: z.string().nullish(),
          utmParameters: z.object({ source: z.string().nullish(), medium: z.string().nullish(), campaign: z.string().nullish() }).nullish(),
        })
        .nullish(),
    })
    .nullish(),
  customer: GraphqlCustomer.nullish(),
  refunds: z.array(GraphqlRefund).default([]),
});
export type GraphqlOrder = z.infer<typeof GraphqlOrder>;

/** The Order fields both the bulk query and the reconciliation query select (line items apart). */
export const ORDER_FIELDS = `
  id name createdAt updatedAt processedAt cancelledAt test displayFinancialStatus sourceName discountCodes tags
  currentTotalPriceSet { shopMoney { amount currencyCode } }
  currentSubtotalPriceSet { shopMoney { amount currencyCode } }
  currentTotalTaxSet { shopMoney { amount currencyCode } }
  currentShippingPriceSet { shopMoney { amount currencyCode } }
  currentTotalDutiesSet { shopMoney { amount currencyCode } }
  taxesIncluded
  customerJourneySummary { firstVisit { landingPage referrerUrl utmParameters { source medium campaign } } }
  customer {
    id email firstName lastName phone state tags amountSpent { currencyCode } createdAt updatedAt
    defaultEmailAddress { emailAddress marketingState marketingOptInLevel marketingUpdatedAt }
    defaultPhoneNumber { phoneNumber smsMarketingConsent { state optInLevel updatedAt collectedFrom } }
  }
  refunds { id createdAt totalRefundedSet { shopMoney { amount currencyCode } } }`;

/** The LineItem fields both queries select (the bulk query's JSONL children, the reconciliation's nested nodes). */
export const LINE_ITEM_FIELDS = `id title product { id } originalTotalSet { shopMoney { amount currencyCode } }
  discountAllocations { allocatedAmountSet { shopMoney { amount currencyCode } } }
  taxLines { priceSet { shopMoney { amount currencyCode } } }`;

/**
 * The LineItem fields cost of goods needs (issue 17): units, and the variant's inventory item
 * with its unit cost. Asked by the bulk import only when the shop granted read_products and
 * read_inventory (a field outside the granted scopes fails the whole query); without them the
 * order's lines are not known and the stored ones stay.
 */
export const LINE_ITEM_COST_FIELDS = `quantity refundableQuantity variant { id inventoryItem { id updatedAt unitCost { amount currencyCode } } }`;

const TOPIC = "graphql order";

const GID_NUMBER = /\/(\d+)(?:\?.*)?$/;

/** The number a GraphQL id ends in (the schemas checked its type): one regular expression, as a bulk import reads millions. */
function idOf(gid: string): bigint {
  const digits = GID_NUMBER.exec(gid)?.[1];
  if (digits === undefined) throw new Error(`${gid} does not end in a numeric id`);
  return BigInt(digits);
}

const lower = (value: string | null | undefined) => (value ? value.toLowerCase() : null);

function money(bag: z.infer<typeof MoneyBag>): { minor: bigint; currency: string } {
  const { amount, currencyCode } = bag.shopMoney;
  return { minor: BigInt(toMinorUnits(amount, currencyCode)), currency: currencyCode };
}

export function mapGraphqlCustomer(customer: z.infer<typeof GraphqlCustomer>): CustomerRow {
  return {
    id: idOf(customer.id),
    email: customer.email || null,
    firstName: customer.firstName ?? null,
    lastName: customer.lastName ?? null,
    phone: customer.phone || null,
    state: lower(customer.state),
    tags: customer.tags.map((tag) => tag.trim()).filter((tag) => tag.length > 0),
    currency: customer.amountSpent?.currencyCode ?? null,
    shopifyCreatedAt: customer.createdAt ?? null,
    shopifyUpdatedAt: customer.updatedAt,
    emailConsent: graphqlConsent(customer.defaultEmailAddress && {
      state: customer.defaultEmailAddress.marketingState,
      optInLevel: customer.defaultEmailAddress.marketingOptInLevel,
      updatedAt: customer.defaultEmailAddress.marketingUpdatedAt,
    }, "customer.defaultEmailAddress.marketingUpdatedAt"),
    smsConsent: graphqlConsent(customer.defaultPhoneNumber?.smsMarketingConsent, "customer.defaultPhoneNumber.smsMarketingConsent.updatedAt"),
  };
}

/** A GraphQL consent as the webhook mapper gives it (consentOf), a consent date over a day ahead refused alike. */
function graphqlConsent(
  consent: { state: MarketingConsent["state"]; optInLevel?: MarketingConsent["optInLevel"]; updatedAt?: Date | null } | null | undefined,
  field: string,
): MarketingConsent | null {
  if (!consent) return null;
  const updatedAt = consent.updatedAt ?? null;
  return { state: consent.state, optInLevel: consent.optInLevel ?? null, updatedAt: updatedAt && plausibleUpdatedAt(updatedAt, field) };
}

/**
 * The order's parts, computed as the webhook mapper does (gross = the lines' original
 * totals; discounts = the lines' allocations; returns = what the current subtotal lacks;
 * without their tax when the order's prices include it), or null when the order or a line lacks the fields.
 */
function graphqlOrderParts(order: GraphqlOrder, lineItems: GraphqlLineItem[], currency: string): OrderParts | null {
  if (!order.currentSubtotalPriceSet || lineItems.some((line) => !line.originalTotalSet)) return null;
  let mixed = false; // a part in another currency than the total: the parts are unknown, as in the webhook mapper
  const inShopCurrency = (bag: z.infer<typeof MoneyBag> | null | undefined): bigint => {
    if (!bag) return 0n;
    const amount = money(bag);
    if (amount.currency !== currency) mixed = true;
    return amount.minor;
  };
  const lines = lineItems.map((line) => ({
    grossMinor: inShopCurrency(line.originalTotalSet),
    discountsMinor: (line.discountAllocations ?? []).reduce((sum, allocation) => sum + inShopCurrency(allocation.allocatedAmountSet), 0n),
    taxMinor: (line.taxLines ?? []).reduce((sum, tax) => sum + inShopCurrency(tax.priceSet), 0n),
  }));
  const gross = lines.reduce((sum, line) => sum + line.grossMinor, 0n);
  const discounts = lines.reduce((sum, line) => sum + line.discountsMinor, 0n);
  const returns = gross - discounts - inShopCurrency(order.currentSubtotalPriceSet);
  const parts: OrderParts = {
    ...(order.taxesIncluded ? withoutIncludedTax(lines, returns) : { grossSalesMinor: gross, discountsMinor: discounts, returnsMinor: returns }),
    taxMinor: inShopCurrency(order.currentTotalTaxSet),
    shippingMinor: inShopCurrency(order.currentShippingPriceSet),
    dutiesMinor: inShopCurrency(order.currentTotalDutiesSet),
  };
  return mixed ? null : parts;
}

/**
 * The order's lines for their cost of goods, as the webhook mapper gives them (units not
 * refunded and their share of the line's net sales), with the variant's inventory item and
 * unit cost (read_inventory) when the query carried them. A line without an id's quantity
 * or total, or in another currency, is left out; a cost in another currency is unknown.
 */
function graphqlOrderLines(order: GraphqlOrder, lineItems: GraphqlLineItem[], currency: string): OrderLineRow[] | undefined {
  // A query without LINE_ITEM_COST_FIELDS says nothing of lines (a line without a variant has `variant: null`).
  if (lineItems.some((line) => line.variant === undefined)) return undefined;
  const lines: OrderLineRow[] = [];
  for (const line of lineItems) {
    if (line.quantity == null || !line.originalTotalSet) continue;
    const gross = money(line.originalTotalSet);
    const discounts = (line.discountAllocations ?? []).map((allocation) => money(allocation.allocatedAmountSet));
    if (gross.currency !== currency || discounts.some((d) => d.currency !== currency)) continue;
    let net = gross.minor - discounts.reduce((sum, d) => sum + d.minor, 0n);
    if (order.taxesIncluded) {
      const tax = (line.taxLines ?? []).reduce((sum, t) => sum + money(t.priceSet).minor, 0n);
      if (net > 0n && tax >= 0n && tax <= net) net -= tax;
    }
    const kept = Math.min(line.quantity, line.refundableQuantity ?? line.quantity);
    const row: OrderLineRow = {
      id: idOf(line.id),
      variantId: line.variant ? idOf(line.variant.id) : null,
      keptQuantity: kept,
      keptNetSalesMinor: line.quantity > 0 ? scaled(net, BigInt(kept), BigInt(line.quantity)) : 0n,
    };
    const item = line.variant?.inventoryItem;
    if (item) {
      const cost = item.unitCost && item.unitCost.currencyCode === currency ? BigInt(toMinorUnitsHalfEven(item.unitCost.amount, currency)) : null;
      row.inventoryItem = { id: idOf(item.id), updatedAt: plausibleUpdatedAt(item.updatedAt, "lineItem.variant.inventoryItem.updatedAt"), costMinor: cost };
    }
    lines.push(row);
  }
  return lines;
}

/**
 * A GraphQL order (bulk JSONL parent line, or a node of the `orders` connection) and its
 * line items (the JSONL children joined by `__parentId`, or the nested connection) ->
 * the OrderBundle the webhook mapper would produce. Throws PayloadValidationError.
 */
export function mapGraphqlOrder(raw: unknown, rawLineItems: unknown[]): OrderBundle {
  const order = parsePayload(TOPIC, GraphqlOrder, raw);
  const lineItems = rawLineItems.map((line) => parsePayload(`${TOPIC} line item`, GraphqlLineItem, line));
  try {
    const total = money(order.currentTotalPriceSet);
    const orderId = idOf(order.id);
    const customer = order.customer ? mapGraphqlCustomer(order.customer) : null;
    const first = lineItems[0];
    const source = journeySource(order.customerJourneySummary?.firstVisit);
    const row: OrderRow = {
      id: orderId,
      name: order.name ?? null,
      customerId: customer?.id ?? null,
      processedAt: order.processedAt ?? order.createdAt,
      shopifyCreatedAt: order.createdAt,
      shopifyUpdatedAt: order.updatedAt,
      currency: total.currency,
      currentTotalMinor: total.minor,
      test: order.test,
      cancelledAt: order.cancelledAt ?? null,
      financialStatus: lower(order.displayFinancialStatus),
      sourceName: order.sourceName ?? null,
      discountCodes: order.discountCodes,
      tags: order.tags.map((tag) => tag.trim()).filter((tag) => tag.length > 0),
      firstProductId: first?.product ? idOf(first.product.id) : null,
      firstProductTitle: first?.title ?? null,
      lineItemCount: lineItems.length,
      marketingSource: source,
      marketingSourceFromJourney: source !== null,
      parts: graphqlOrderParts(order, lineItems, total.currency),
    };
    const refunds = order.refunds.map((refund): RefundRow => {
      const amount = money(refund.totalRefundedSet);
      if (amount.currency !== total.currency) {
        throw new MoneyFormatError(`refund ${refund.id} is in ${amount.currency}, the order in ${total.currency}`);
      }
      // The refund's total only: its parts are already in the order's current subtotal.
      return { id: idOf(refund.id), orderId, createdAt: refund.createdAt, amountMinor: amount.minor, currency: amount.currency, parts: null };
    });
    return { order: row, customer, refunds, lines: graphqlOrderLines(order, lineItems, total.currency) };
  } catch (error) {
    if (error instanceof PayloadValidationError) throw error;
    if (error instanceof Error) throw new PayloadValidationError(TOPIC, [error.message]);
    throw error;
  }
}

/** The marketing source of the journey's first visit (Shopify's own UTM parse first). */
function journeySource(visit: NonNullable<GraphqlOrder["customerJourneySummary"]>["firstVisit"]): string | null {
  if (!visit) return null;
  return marketingSource({ landingSite: visit.landingPage, referringSite: visit.referrerUrl, utm: visit.utmParameters });
}

// Reconciliation of unit costs (issue 17): the shop's inventory items updated since the last
// sweep, each with its unit cost and its variant, as the bulk import reads them on order lines.

/** The InventoryItem fields reconciliation reads (read_products and read_inventory). */
export const INVENTORY_ITEM_FIELDS = `id updatedAt unitCost { amount currencyCode } variant { id }`;

const GraphqlInventoryItem = z.object({
  id: Gid("InventoryItem"),
  updatedAt: Time,
  unitCost: z.object({ amount: z.string(), currencyCode: CurrencyCode }).nullish(),
  variant: z.object({ id: Gid("ProductVariant") }).nullish(),
});

/**
 * An inventory item node -> its variant's map row and its unit cost, with the bulk import's
 * rules (graphqlOrderLines, upsert-batch's costBatch): the variant is mapped as of the item's
 * updatedAt; a cost that is missing or in another currency than the shop's gives no history
 * row (it would end a known cost from the item's updatedAt). A negative cost is refused.
 */
export function mapGraphqlInventoryItem(raw: unknown, shopCurrency: string): { variant: VariantRow | null; cost: UnitCostRow | null } {
  const topic = "graphql inventory item";
  const item = parsePayload(topic, GraphqlInventoryItem, raw);
  try {
    const inventoryItemId = idOf(item.id);
    const updatedAt = plausibleUpdatedAt(item.updatedAt, "inventoryItem.updatedAt");
    const costMinor = item.unitCost && item.unitCost.currencyCode === shopCurrency ? BigInt(toMinorUnitsHalfEven(item.unitCost.amount, shopCurrency)) : null;
    if (costMinor !== null && costMinor < 0n) throw new MoneyFormatError(`inventory item ${item.id}: unit cost ${item.unitCost?.amount} is negative`);
    return {
      variant: item.variant ? { id: idOf(item.variant.id), productId: null, inventoryItemId, shopifyUpdatedAt: updatedAt } : null,
      cost: costMinor === null ? null : { inventoryItemId, validFrom: updatedAt, costMinor },
    };
  } catch (error) {
    if (error instanceof PayloadValidationError) throw error;
    throw new PayloadValidationError(topic, [error instanceof Error ? error.message : String(error)]);
  }
}

// Past abandoned checkouts (issue 17, cart abandoners): the backfill reads the last 30 days of
// the `abandonedCheckouts` connection (read_orders) into the checkout write path.

/**
 * The AbandonedCheckout fields the backfill reads. GraphQL has no checkout token, cart token or
 * email on it: the row keeps those null (the customer's id settles who it belongs to). Lines
 * are counted up to 50 (`lineItems(first: 50)`, which keeps a page's requested cost in bounds).
 */
/**
 * Line ids read per checkout. The count is informational (the checkout's lineItemCount): a
 * checkout with more lines is counted as this many. Each id costs a point of the page's
 * requested cost, multiplied by the checkouts per page (Shopify's 1,000-point single query
 * limit; app/integrations/abandoned-checkouts.server.ts sizes the page).
 */
export const ABANDONED_CHECKOUT_LINE_IDS = 25;

export const ABANDONED_CHECKOUT_FIELDS = `id abandonedCheckoutUrl createdAt updatedAt completedAt customer { id }
  totalPriceSet { shopMoney { amount currencyCode } } subtotalPriceSet { shopMoney { amount currencyCode } }
  lineItems(first: ${ABANDONED_CHECKOUT_LINE_IDS}) { nodes { id } }`;

const GraphqlAbandonedCheckout = z.object({
  id: Gid("AbandonedCheckout"),
  abandonedCheckoutUrl: z.string().nullish(),
  createdAt: Time,
  updatedAt: Time,
  completedAt: Time.nullish(),
  customer: z.object({ id: Gid("Customer") }).nullish(),
  totalPriceSet: MoneyBag,
  subtotalPriceSet: MoneyBag.nullish(),
  lineItems: z.object({ nodes: z.array(z.object({ id: z.string() })) }).nullish(),
});

/**
 * An AbandonedCheckout node -> the Checkout row the webhook mapper gives (mapCheckoutPayload):
 * its numeric id is the REST checkout's (`checkouts/*` `id`), so both sources write one row.
 * Amounts come in shop money here, always in the shop's currency.
 */
export function mapGraphqlAbandonedCheckout(raw: unknown): CheckoutRow {
  const topic = "graphql abandoned checkout";
  const checkout = parsePayload(topic, GraphqlAbandonedCheckout, raw);
  try {
    const total = money(checkout.totalPriceSet);
    const subtotal = checkout.subtotalPriceSet ? money(checkout.subtotalPriceSet) : null;
    if (total.minor < 0n) throw new MoneyFormatError(`checkout ${checkout.id}: total ${checkout.totalPriceSet.shopMoney.amount} is negative`);
    if (subtotal && subtotal.currency !== total.currency) throw new MoneyFormatError(`checkout ${checkout.id}: subtotal in ${subtotal.currency}, total in ${total.currency}`);
    return {
      id: idOf(checkout.id),
      token: null,
      cartToken: null,
      customerId: checkout.customer ? idOf(checkout.customer.id) : null,
      email: null,
      currency: total.currency,
      totalPriceMinor: total.minor,
      subtotalPriceMinor: subtotal && subtotal.minor >= 0n ? subtotal.minor : null,
      abandonedCheckoutUrl: checkout.abandonedCheckoutUrl || null,
      lineItemCount: checkout.lineItems?.nodes.length ?? 0,
      shopifyCreatedAt: checkout.createdAt,
      shopifyUpdatedAt: plausibleUpdatedAt(checkout.updatedAt, "abandonedCheckout.updatedAt"),
      completedAt: checkout.completedAt ?? null,
    };
  } catch (error) {
    if (error instanceof PayloadValidationError) throw error;
    throw new PayloadValidationError(topic, [error instanceof Error ? error.message : String(error)]);
  }
}
