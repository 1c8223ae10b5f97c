import { DEMO_VENDOR } from "./catalogue";
import { STORE_LOCATION_ID } from "./regions";
import { CHANNELS, type DemoLine, type DemoOrder, type DemoRefund, type DemoRefundLine } from "./store-model";
import { type LineState, orderStateAt } from "./order-state";
import { type Converter, type JsonObject, Money, type RenderContext, converterFor, formatAmount, formatShopTime, gid, renderCustomer, sum } from "./payload-basics";

// Renders the demo store as Shopify webhook bodies, in the REST shape Shopify delivers
// for orders/create|updated|cancelled, refunds/create and customers/create: every money
// field also as a `*_set` with shop_money (USD, the shop currency) and presentment_money
// (what the buyer saw: USD, CAD, GBP or EUR at a fixed rate), timestamps in the shop's
// time zone with their offset. Presentment amounts are converted per atomic amount (unit
// price, discount share, tax line, shipping) and summed, so they add up like shop money.

function orderAddress(order: DemoOrder): JsonObject {
  const r = order.region;
  return {
    first_name: order.firstName,
    address1: order.address1,
    phone: order.customer?.phone ?? null,
    city: order.city,
    zip: order.zip,
    province: r.province,
    country: r.country,
    last_name: order.lastName,
    address2: null,
    company: null,
    latitude: null,
    longitude: null,
    name: `${order.firstName} ${order.lastName}`,
    country_code: r.countryCode,
    province_code: r.provinceCode,
  };
}

function taxLine(order: DemoOrder, amount: Money, convert: Converter): JsonObject {
  return {
    channel_liable: false,
    price: formatAmount(amount.shop),
    price_set: convert.set(amount),
    rate: order.taxRate,
    title: order.region.taxTitle,
  };
}

interface LineMoney {
  price: Money;
  discount: Money;
  tax: Money;
}

function lineMoney(line: DemoLine, convert: Converter): LineMoney {
  return { price: convert.of(line.priceMinor), discount: convert.of(line.discountMinor), tax: convert.of(line.taxMinor) };
}

function renderLineItem(order: DemoOrder, line: DemoLine, state: LineState | undefined, fulfilled: boolean, convert: Converter): JsonObject {
  const money = lineMoney(line, convert);
  const currentQuantity = state?.currentQuantity ?? line.quantity;
  return {
    id: line.id,
    admin_graphql_api_id: gid("LineItem", line.id),
    attributed_staffs: [],
    current_quantity: currentQuantity,
    fulfillable_quantity: fulfilled ? 0 : currentQuantity,
    fulfillment_service: "manual",
    fulfillment_status: fulfilled && currentQuantity > 0 ? "fulfilled" : null,
    gift_card: false,
    grams: line.product.grams,
    name: line.variant.title === "Default Title" ? line.product.title : `${line.product.title} - ${line.variant.title}`,
    price: formatAmount(line.priceMinor),
    price_set: convert.set(money.price),
    product_exists: true,
    product_id: line.product.id,
    properties: [],
    quantity: line.quantity,
    requires_shipping: order.channel !== "pos",
    sales_line_item_group_id: null,
    sku: line.variant.sku,
    taxable: true,
    title: line.product.title,
    total_discount: "0.00",
    total_discount_set: convert.set(Money.zero),
    variant_id: line.variant.id,
    variant_inventory_management: "shopify",
    variant_title: line.variant.title === "Default Title" ? null : line.variant.title,
    vendor: DEMO_VENDOR,
    tax_lines: order.taxRate > 0 ? [taxLine(order, money.tax, convert)] : [],
    duties: [],
    discount_allocations:
      line.discountMinor > 0
        ? [{ amount: formatAmount(line.discountMinor), amount_set: convert.set(money.discount), discount_application_index: 0 }]
        : [],
  };
}

function refundLineMoney(refunded: DemoRefundLine, convert: Converter): { subtotal: Money; tax: Money } {
  const money = lineMoney(refunded.line, convert);
  const full = refunded.quantity === refunded.line.quantity;
  const discount = full ? money.discount : convert.of(refunded.discountMinor);
  const tax = full ? money.tax : convert.of(refunded.taxMinor);
  return { subtotal: money.price.times(refunded.quantity).minus(discount), tax };
}

/** The refund resource (refunds/create body; also embedded in the order's `refunds`). */
export function renderRefund(order: DemoOrder, refund: DemoRefund, context: RenderContext): JsonObject {
  const convert = converterFor(order, context);
  const at = formatShopTime(refund.createdAt, context.timezone);
  const lines = refund.lines.map((refunded) => ({ refunded, money: refundLineMoney(refunded, convert) }));
  const shipping = convert.of(refund.shippingMinor);
  const total = sum(lines.map(({ money }) => money.subtotal.plus(money.tax))).plus(shipping);
  const state = orderStateAt(order, refund.createdAt);
  return {
    id: refund.id,
    admin_graphql_api_id: gid("Refund", refund.id),
    created_at: at,
    note: refund.note,
    order_id: order.id,
    processed_at: at,
    restock: refund.lines.length > 0,
    total_duties_set: convert.set(Money.zero),
    user_id: order.channel === "pos" ? 116_651_032_876 : null,
    order_adjustments: [],
    transactions: [
      {
        id: refund.transactionId,
        admin_graphql_api_id: gid("OrderTransaction", refund.transactionId),
        amount: formatAmount(total.presentment),
        authorization: order.gateway === "shopify_payments" ? `re_${order.token.slice(0, 24)}` : null,
        created_at: at,
        currency: order.region.currency,
        device_id: null,
        error_code: null,
        gateway: order.gateway,
        kind: "refund",
        location_id: order.channel === "pos" ? STORE_LOCATION_ID : null,
        message: "Transaction approved",
        order_id: order.id,
        parent_id: order.transactionId,
        payment_id: `${order.token}.2`,
        processed_at: at,
        receipt: {},
        source_name: "1830279",
        status: "success",
        test: order.test,
        user_id: null,
      },
    ],
    refund_line_items: lines.map(({ refunded, money }) => ({
      id: refunded.id,
      line_item_id: refunded.line.id,
      location_id: STORE_LOCATION_ID,
      quantity: refunded.quantity,
      restock_type: state.cancelled ? "cancel" : "return",
      subtotal: money.subtotal.shop / 100,
      subtotal_set: convert.set(money.subtotal),
      total_tax: money.tax.shop / 100,
      total_tax_set: convert.set(money.tax),
      line_item: renderLineItem(order, refunded.line, undefined, false, convert),
    })),
    refund_shipping_lines:
      refund.shippingMinor > 0
        ? [
            {
              id: refund.id + 1,
              shipping_line_id: order.shippingLineId,
              subtotal_amount_set: convert.set(shipping),
              tax_amount_set: convert.set(Money.zero),
            },
          ]
        : [],
    duties: [],
    return: null,
  };
}

const CANCEL_REASONS = { customer: "customer", inventory: "inventory", fraud: "fraud", declined: "declined" } as const;

/** The order resource as of `at` (orders/create, orders/updated and orders/cancelled bodies). */
export function renderOrder(order: DemoOrder, at: number, context: RenderContext): JsonObject {
  const tz = context.timezone;
  const convert = converterFor(order, context);
  const state = orderStateAt(order, at);
  const lineStates = new Map(state.lines.map((s) => [s.line, s]));
  const lines = state.lines.map((s) => s.line);

  // Money, summed from converted atomic amounts.
  const original = lines.map((line) => lineMoney(line, convert));
  const itemsTotal = sum(lines.map((line, i) => original[i].price.times(line.quantity)));
  const discounts = sum(original.map((m) => m.discount));
  const taxes = sum(original.map((m) => m.tax));
  const shipping = convert.of(order.shippingMinor);
  const subtotal = itemsTotal.minus(discounts);
  const total = subtotal.plus(shipping).plus(taxes);

  const refunded = state.refunds.flatMap((r) => r.lines.map((l) => ({ line: l, money: refundLineMoney(l, convert) })));
  const refundedShipping = sum(state.refunds.map((r) => convert.of(r.shippingMinor)));
  const refundedDiscounts = sum(refunded.map(({ line }) => (line.quantity === line.line.quantity ? lineMoney(line.line, convert).discount : convert.of(line.discountMinor))));
  const cancelled = state.cancelled !== null;
  const currentItems = cancelled
    ? Money.zero
    : sum(lines.map((line, i) => original[i].price.times(lineStates.get(line)?.currentQuantity ?? line.quantity)));
  const currentDiscounts = cancelled ? Money.zero : discounts.minus(refundedDiscounts);
  const currentTaxes = cancelled ? Money.zero : taxes.minus(sum(refunded.map(({ money }) => money.tax)));
  const currentShipping = cancelled ? Money.zero : shipping.minus(refundedShipping);
  const currentSubtotal = currentItems.minus(currentDiscounts);
  const currentTotal = currentSubtotal.plus(currentShipping).plus(currentTaxes);

  const channel = CHANNELS[order.channel];
  const online = order.channel === "web" || order.channel === "social";
  const createdAt = formatShopTime(order.createdAt, tz);
  const fulfilledAt = order.fulfilledAt !== null ? formatShopTime(order.fulfilledAt, tz) : null;
  const embeddedCustomer = order.customer ? renderCustomer(order.customer, at, context, true) : null;
  const taxLines = order.taxRate > 0 ? [taxLine(order, taxes, convert)] : [];

  return {
    id: order.id,
    admin_graphql_api_id: gid("Order", order.id),
    app_id: channel.appId,
    browser_ip: order.browserIp,
    buyer_accepts_marketing: order.customer?.acceptsMarketing ?? false,
    cancel_reason: state.cancelled ? CANCEL_REASONS[state.cancelled.reason] : null,
    cancelled_at: state.cancelled ? formatShopTime(state.cancelled.at, tz) : null,
    cart_token: order.cartToken,
    checkout_id: order.checkoutId,
    checkout_token: order.checkoutToken,
    client_details: online
      ? {
          accept_language: order.region.locale,
          browser_height: 920,
          browser_ip: order.browserIp,
          browser_width: 1440,
          session_hash: null,
          user_agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3 Safari/605.1.15",
        }
      : null,
    closed_at: state.fulfilled && state.lines.length > 0 ? fulfilledAt : null,
    company: null,
    confirmation_number: order.confirmationNumber,
    confirmed: true,
    contact_email: order.email,
    created_at: createdAt,
    currency: context.currency,
    current_shipping_price_set: convert.set(currentShipping),
    current_subtotal_price: formatAmount(currentSubtotal.shop),
    current_subtotal_price_set: convert.set(currentSubtotal),
    current_total_additional_fees_set: null,
    current_total_discounts: formatAmount(currentDiscounts.shop),
    current_total_discounts_set: convert.set(currentDiscounts),
    current_total_duties_set: null,
    current_total_price: formatAmount(currentTotal.shop),
    current_total_price_set: convert.set(currentTotal),
    current_total_tax: formatAmount(currentTaxes.shop),
    current_total_tax_set: convert.set(currentTaxes),
    customer_locale: order.region.locale,
    device_id: null,
    discount_codes: order.discount
      ? [{ code: order.discount.code, amount: formatAmount(discounts.shop), type: "percentage" }]
      : [],
    duties_included: false,
    email: order.email ?? "",
    estimated_taxes: false,
    financial_status: state.financialStatus,
    fulfillment_status: state.fulfilled ? "fulfilled" : null,
    landing_site: order.landingSite,
    landing_site_ref: null,
    location_id: order.channel === "pos" ? STORE_LOCATION_ID : null,
    merchant_business_entity_id: "MTkxNzQwODY0ODEy",
    merchant_of_record_app_id: null,
    name: `#${order.number}`,
    note: order.note,
    note_attributes: [],
    number: order.number - 1_000,
    order_number: order.number,
    order_status_url: `https://${context.shop}/91740864812/orders/${order.token}/authenticate?key=${order.token.slice(0, 32)}`,
    original_total_additional_fees_set: null,
    original_total_duties_set: null,
    payment_gateway_names: [order.gateway],
    phone: null,
    po_number: null,
    presentment_currency: order.region.currency,
    processed_at: formatShopTime(order.processedAt, tz),
    reference: null,
    referring_site: order.referringSite,
    source_identifier: order.channel === "pos" ? `${STORE_LOCATION_ID}-${order.number}` : null,
    source_name: channel.sourceName,
    source_url: null,
    subtotal_price: formatAmount(subtotal.shop),
    subtotal_price_set: convert.set(subtotal),
    tags: order.tags.join(", "),
    tax_exempt: false,
    tax_lines: taxLines,
    taxes_included: false,
    test: order.test,
    token: order.token,
    total_cash_rounding_payment_adjustment_set: convert.set(Money.zero),
    total_cash_rounding_refund_adjustment_set: convert.set(Money.zero),
    total_discounts: formatAmount(discounts.shop),
    total_discounts_set: convert.set(discounts),
    total_line_items_price: formatAmount(itemsTotal.shop),
    total_line_items_price_set: convert.set(itemsTotal),
    total_outstanding: "0.00",
    total_price: formatAmount(total.shop),
    total_price_set: convert.set(total),
    total_shipping_price_set: convert.set(shipping),
    total_tax: formatAmount(taxes.shop),
    total_tax_set: convert.set(taxes),
    total_tip_received: "0.00",
    total_weight: lines.reduce((w, line) => w + line.product.grams * line.quantity, 0),
    updated_at: formatShopTime(state.updatedAt, tz),
    user_id: order.channel === "pos" || order.channel === "shopify_draft_order" ? 116_651_032_876 : null,
    billing_address: order.channel === "pos" && !order.customer ? null : orderAddress(order),
    customer: embeddedCustomer,
    discount_applications: order.discount
      ? [
          {
            target_type: "line_item",
            type: "discount_code",
            value: order.discount.percent.toFixed(1),
            value_type: "percentage",
            allocation_method: "across",
            target_selection: "all",
            code: order.discount.code,
          },
        ]
      : [],
    fulfillments:
      state.fulfilled && order.fulfilledAt !== null
        ? [
            {
              id: order.id + 7,
              admin_graphql_api_id: gid("Fulfillment", order.id + 7),
              created_at: fulfilledAt,
              location_id: STORE_LOCATION_ID,
              name: `#${order.number}.1`,
              order_id: order.id,
              origin_address: {},
              receipt: {},
              service: "manual",
              shipment_status: null,
              status: "success",
              tracking_company: order.channel === "pos" ? null : "UPS",
              tracking_number: order.channel === "pos" ? null : `1Z${order.token.slice(0, 16).toUpperCase()}`,
              tracking_numbers: order.channel === "pos" ? [] : [`1Z${order.token.slice(0, 16).toUpperCase()}`],
              tracking_url: null,
              tracking_urls: [],
              updated_at: fulfilledAt,
              line_items: lines.map((line) => renderLineItem(order, line, lineStates.get(line), true, convert)),
            },
          ]
        : [],
    line_items: lines.map((line) => renderLineItem(order, line, lineStates.get(line), state.fulfilled, convert)),
    payment_terms: null,
    refunds: state.refunds.map((refund) => renderRefund(order, refund, context)),
    shipping_address: order.channel === "pos" ? null : orderAddress(order),
    shipping_lines:
      order.channel === "pos"
        ? []
        : [
            {
              id: order.shippingLineId,
              carrier_identifier: null,
              code: order.shippingTitle ?? "Standard",
              current_discounted_price_set: convert.set(currentShipping),
              discounted_price: formatAmount(order.shippingMinor),
              discounted_price_set: convert.set(shipping),
              is_removed: false,
              phone: null,
              price: formatAmount(order.shippingMinor),
              price_set: convert.set(shipping),
              requested_fulfillment_service_id: null,
              source: "shopify",
              title: order.shippingTitle ?? "Standard",
              tax_lines: [],
              discount_allocations: [],
            },
          ],
    returns: [],
  };
}
