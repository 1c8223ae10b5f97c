import { processDelivery } from "~/ingest/deliveries.server";
import { countedOrdersOf } from "~/data/counted-orders.server";
import { loadMetricsSettings } from "~/data/settings.server";
import { mapGraphqlOrder } from "~/ingest/graphql-mappers";
import { mapOrderPayload } from "~/ingest/mappers";
import { insertDelivery, testDb, testPool, uniqueShop } from "../support/db";
import { graphqlOrderFromWebhook } from "../support/graphql-shapes";
import { fixture, type Json } from "../support/webhook-fixtures";

// Revenue that matches Shopify (issue 13; docs/analytics/revenue.md). Orders of the real
// webhook shape (built on the orders-create / refunds-create fixtures) go through the real
// write path (processDelivery), and Tenure's figures per order and per customer are checked
// against Shopify's published definitions, worked out by hand below:
//   gross sales  = line item price x quantity (before discounts, tax, shipping, returns)
//   discounts    = line item discounts + each line's share of order-level discounts
//   returns      = value of the goods returned (refunded line items, after their discounts)
//   net sales    = gross sales - discounts - returns (no tax, shipping, duties or tips)
//   total sales  = net sales + tax + shipping + duties, less refunded tax/shipping/duties
//                  (Tenure: the current total less refunds not yet reflected in it)
// Test orders count 0 in both; a cancelled order counts 0 net sales.

const db = () => testDb();
const CURRENCY = "USD";

/** Cents -> Shopify's money text ("12.30"). */
const amount = (cents: number) => `${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;
const moneySet = (cents: number) => ({
  shop_money: { amount: amount(cents), currency_code: CURRENCY },
  presentment_money: { amount: amount(cents), currency_code: CURRENCY },
});

interface Line {
  id: number;
  priceCents: number;
  quantity: number;
  /** Discount allocated to the whole line (its share of a code or order-level discount). */
  discountCents?: number;
  taxCents?: number;
}

interface SaleSpec {
  id: number;
  customerId: number;
  lines: Line[];
  shippingCents?: number;
  dutiesCents?: number;
  discountCodes?: string[];
  test?: boolean;
  cancelledAt?: string | null;
  financialStatus?: string;
  updatedAt?: string;
  /** Prices include tax (taxes_included): the line prices and subtotal carry it, the total adds none. */
  taxesIncluded?: boolean;
  /** What Shopify reports after refunds and edits (defaults: nothing refunded). */
  current?: { subtotalCents: number; taxCents: number; shippingCents: number; totalCents: number; dutiesCents?: number };
  refunds?: Json[];
}

/** An order payload of the real shape with these lines, discounts, tax, shipping and duties. */
function salePayload(spec: SaleSpec): Json {
  const payload = fixture("orders-create");
  const gross = spec.lines.reduce((sum, line) => sum + line.priceCents * line.quantity, 0);
  const discounts = spec.lines.reduce((sum, line) => sum + (line.discountCents ?? 0), 0);
  const tax = spec.lines.reduce((sum, line) => sum + (line.taxCents ?? 0), 0);
  const shipping = spec.shippingCents ?? 0;
  const duties = spec.dutiesCents ?? 0;
  const subtotal = gross - discounts;
  const total = subtotal + (spec.taxesIncluded ? 0 : tax) + shipping + duties;
  const current = spec.current ?? { subtotalCents: subtotal, taxCents: tax, shippingCents: shipping, totalCents: total, dutiesCents: duties };
  const template = (payload.line_items as Json[])[0];
  const customer = payload.customer as Json;
  const createdAt = "2025-03-14T14:21:07Z";
  Object.assign(payload, {
    id: spec.id,
    admin_graphql_api_id: `gid://shopify/Order/${spec.id}`,
    name: `#${spec.id}`,
    created_at: createdAt,
    processed_at: createdAt,
    updated_at: spec.updatedAt ?? "2025-03-14T14:21:09Z",
    test: spec.test ?? false,
    cancelled_at: spec.cancelledAt ?? null,
    financial_status: spec.financialStatus ?? "paid",
    taxes_included: spec.taxesIncluded ?? false,
    discount_codes: (spec.discountCodes ?? []).map((code) => ({ code, amount: amount(discounts), type: "percentage" })),
    total_line_items_price: amount(gross),
    total_line_items_price_set: moneySet(gross),
    total_discounts: amount(discounts),
    total_discounts_set: moneySet(discounts),
    current_total_discounts_set: moneySet(discounts),
    subtotal_price: amount(subtotal),
    subtotal_price_set: moneySet(subtotal),
    current_subtotal_price: amount(current.subtotalCents),
    current_subtotal_price_set: moneySet(current.subtotalCents),
    total_tax: amount(tax),
    total_tax_set: moneySet(tax),
    current_total_tax: amount(current.taxCents),
    current_total_tax_set: moneySet(current.taxCents),
    total_shipping_price_set: moneySet(shipping),
    current_shipping_price_set: moneySet(current.shippingCents),
    shipping_lines: shipping > 0 ? [{ ...(payload.shipping_lines as Json[])[0], price: amount(shipping), price_set: moneySet(shipping) }] : [],
    original_total_duties_set: duties > 0 ? moneySet(duties) : null,
    current_total_duties_set: duties > 0 ? moneySet(current.dutiesCents ?? duties) : null,
    total_price: amount(total),
    total_price_set: moneySet(total),
    current_total_price: amount(current.totalCents),
    current_total_price_set: moneySet(current.totalCents),
    line_items: spec.lines.map((line) => ({
      ...template,
      id: line.id,
      admin_graphql_api_id: `gid://shopify/LineItem/${line.id}`,
      price: amount(line.priceCents),
      price_set: moneySet(line.priceCents),
      quantity: line.quantity,
      current_quantity: line.quantity,
      discount_allocations: line.discountCents ? [{ amount: amount(line.discountCents), amount_set: moneySet(line.discountCents), discount_application_index: 0 }] : [],
      tax_lines: line.taxCents ? [{ ...(template.tax_lines as Json[])[0], price: amount(line.taxCents), price_set: moneySet(line.taxCents) }] : [],
    })),
    refunds: spec.refunds ?? [],
    customer: {
      ...customer,
      id: spec.customerId,
      admin_graphql_api_id: `gid://shopify/Customer/${spec.customerId}`,
      email: `buyer-${spec.customerId}@example.com`,
      updated_at: "2025-01-01T00:00:00Z",
    },
  });
  return payload;
}

interface RefundSpec {
  id: number;
  orderId: number;
  createdAt: string;
  lines?: { lineItemId: number; quantity: number; subtotalCents: number; taxCents: number }[];
  shippingCents?: number;
}

/** A refunds/create payload of the real shape: these lines returned, this shipping refunded. */
function refundOf(spec: RefundSpec): Json {
  const payload = fixture("refunds-create");
  const template = (payload.refund_line_items as Json[])[0];
  Object.assign(payload, {
    id: spec.id,
    admin_graphql_api_id: `gid://shopify/Refund/${spec.id}`,
    order_id: spec.orderId,
    created_at: spec.createdAt,
    processed_at: spec.createdAt,
    refund_line_items: (spec.lines ?? []).map((line, index) => ({
      ...template,
      id: spec.id * 10 + index,
      line_item_id: line.lineItemId,
      quantity: line.quantity,
      subtotal: line.subtotalCents / 100,
      subtotal_set: moneySet(line.subtotalCents),
      total_tax: line.taxCents / 100,
      total_tax_set: moneySet(line.taxCents),
    })),
    refund_shipping_lines: spec.shippingCents
      ? [{ id: spec.id * 10 + 9, shipping_line_id: 1, subtotal_amount_set: moneySet(spec.shippingCents), tax_amount_set: moneySet(0) }]
      : [],
    order_adjustments: [],
    transactions: [],
  });
  return payload;
}

async function deliver(shop: string, topic: string, payload: Json) {
  const id = await insertDelivery(db(), { shop, topic, payload });
  const outcome = await processDelivery(db(), id);
  expect(outcome).toMatchObject({ status: "processed" });
}

async function order(shop: string, id: number) {
  return db().order.findUniqueOrThrow({ where: { shop_id: { shop, id: BigInt(id) } } });
}

/**
 * Total sales = net sales + tax + shipping + duties (docs/analytics/revenue.md): the parts an
 * order is stored with add up to its current total as of that version (refunds arriving later
 * come off both sides).
 */
async function expectPartsAddUpToTotal(shop: string, ids: number[]) {
  for (const id of ids) {
    const o = await order(shop, id);
    const parts = o.grossSalesMinor! - o.discountsMinor! - o.returnsMinor! + o.taxMinor! + o.shippingMinor! + o.dutiesMinor!;
    expect({ id, parts }).toEqual({ id, parts: o.currentTotalMinor });
  }
}

/** Per customer: what the counted orders add up to on a basis (the live recompute and the refit read these). */
async function countedByCustomer(shop: string, basis: "net_sales" | "total_sales", ids: number[]) {
  const settings = { ...(await loadMetricsSettings(testPool(), shop)), revenueBasis: basis };
  const rows = await countedOrdersOf(testPool(), shop, settings, ids.map(String));
  const sums = new Map<number, number>(ids.map((id) => [id, 0]));
  for (const row of rows) sums.set(Number(row.customer_id), (sums.get(Number(row.customer_id)) ?? 0) + Number(row.net));
  return Object.fromEntries(sums);
}

const ALICE = 8_100_001;
const BEN = 8_100_002;

describe("revenue that matches Shopify's definitions", () => {
  it("stores each order's parts and counts net sales and total sales as Shopify defines them", async () => {
    const shop = uniqueShop("revenue");

    // 1. A discount code (10 % on every line), tax and shipping.
    //    gross 2 x 25.00 + 40.00 = 90.00; discounts 5.00 + 4.00 = 9.00; net sales 81.00;
    //    tax 8 % of 81.00 = 6.48; shipping 5.00; total sales 92.48.
    await deliver(shop, "orders/create", salePayload({
      id: 9_001, customerId: ALICE, discountCodes: ["SPRING10"], shippingCents: 500,
      lines: [{ id: 1, priceCents: 2_500, quantity: 2, discountCents: 500, taxCents: 360 }, { id: 2, priceCents: 4_000, quantity: 1, discountCents: 400, taxCents: 288 }],
    }));

    // 2. An order-level discount (10.00 off the cart) shared across the lines by value;
    //    no tax, no shipping. gross 60.00 + 2 x 20.00 = 100.00; discounts 6.00 + 4.00 = 10.00;
    //    net sales = total sales = 90.00.
    await deliver(shop, "orders/create", salePayload({
      id: 9_002, customerId: ALICE,
      lines: [{ id: 3, priceCents: 6_000, quantity: 1, discountCents: 600 }, { id: 4, priceCents: 2_000, quantity: 2, discountCents: 400 }],
    }));

    // 3. A partial refund of one line (one of three, with its tax) and a shipping refund,
    //    arriving after the order (refunds/create). gross 3 x 30.00 = 90.00, tax 9.00,
    //    shipping 10.00, total 109.00. Returns 30.00 (the goods), so net sales 60.00; the
    //    refunded tax 3.00 and shipping 10.00 are not returns, but leave total sales:
    //    109.00 - 43.00 = 66.00.
    await deliver(shop, "orders/create", salePayload({
      id: 9_003, customerId: ALICE, shippingCents: 1_000,
      lines: [{ id: 5, priceCents: 3_000, quantity: 3, taxCents: 900 }],
    }));
    await deliver(shop, "refunds/create", refundOf({
      id: 7_003, orderId: 9_003, createdAt: "2025-03-20T10:00:00Z",
      lines: [{ lineItemId: 5, quantity: 1, subtotalCents: 3_000, taxCents: 300 }], shippingCents: 1_000,
    }));

    // 4. A full refund: 50.00 + 5.00 tax + 5.00 shipping, all returned. Returns 50.00;
    //    net sales 0, total sales 0.
    const fullRefund = refundOf({
      id: 7_004, orderId: 9_004, createdAt: "2025-03-16T10:00:00Z",
      lines: [{ lineItemId: 6, quantity: 1, subtotalCents: 5_000, taxCents: 500 }], shippingCents: 500,
    });
    await deliver(shop, "orders/updated", salePayload({
      id: 9_004, customerId: ALICE, shippingCents: 500, financialStatus: "refunded", updatedAt: "2025-03-16T10:00:01Z",
      lines: [{ id: 6, priceCents: 5_000, quantity: 1, taxCents: 500 }],
      current: { subtotalCents: 0, taxCents: 0, shippingCents: 0, totalCents: 0 }, refunds: [fullRefund],
    }));

    // 5. Duties on an international order: 80.00 of goods, 12.00 duties, 15.00 shipping, no
    //    tax. Net sales 80.00 (duties are not sales); total sales 107.00.
    await deliver(shop, "orders/create", salePayload({
      id: 9_005, customerId: ALICE, shippingCents: 1_500, dutiesCents: 1_200,
      lines: [{ id: 7, priceCents: 8_000, quantity: 1 }],
    }));

    // 6. A test order: never counts.
    await deliver(shop, "orders/create", salePayload({ id: 9_006, customerId: ALICE, test: true, lines: [{ id: 8, priceCents: 10_000, quantity: 1 }] }));

    // 7. Ben's only order, cancelled and refunded: 20.00 of goods. Net sales 0, total sales 0.
    await deliver(shop, "orders/cancelled", salePayload({
      id: 9_007, customerId: BEN, cancelledAt: "2025-03-14T16:00:00Z", financialStatus: "refunded", updatedAt: "2025-03-14T16:00:01Z",
      lines: [{ id: 9, priceCents: 2_000, quantity: 1 }],
      current: { subtotalCents: 0, taxCents: 0, shippingCents: 0, totalCents: 0 },
      refunds: [refundOf({ id: 7_007, orderId: 9_007, createdAt: "2025-03-14T16:00:00Z", lines: [{ lineItemId: 9, quantity: 1, subtotalCents: 2_000, taxCents: 0 }] })],
    }));

    const parts = async (id: number) => {
      const o = await order(shop, id);
      return {
        gross: o.grossSalesMinor, discounts: o.discountsMinor, returns: o.returnsMinor, tax: o.taxMinor,
        shipping: o.shippingMinor, duties: o.dutiesMinor, netSales: o.netSalesMinor, totalSales: o.netMinor,
      };
    };
    // Order 3's returns arrived after it (refunds/create): its own returns part is 0 as of its
    // updated_at, and the refund's returns (30.00) come off its net sales.
    expect(await parts(9_001)).toEqual({ gross: 9_000n, discounts: 900n, returns: 0n, tax: 648n, shipping: 500n, duties: 0n, netSales: 8_100n, totalSales: 9_248n });
    expect(await parts(9_002)).toEqual({ gross: 10_000n, discounts: 1_000n, returns: 0n, tax: 0n, shipping: 0n, duties: 0n, netSales: 9_000n, totalSales: 9_000n });
    expect(await parts(9_003)).toEqual({ gross: 9_000n, discounts: 0n, returns: 0n, tax: 900n, shipping: 1_000n, duties: 0n, netSales: 6_000n, totalSales: 6_600n });
    expect(await parts(9_004)).toEqual({ gross: 5_000n, discounts: 0n, returns: 5_000n, tax: 0n, shipping: 0n, duties: 0n, netSales: 0n, totalSales: 0n });
    expect(await parts(9_005)).toEqual({ gross: 8_000n, discounts: 0n, returns: 0n, tax: 0n, shipping: 1_500n, duties: 1_200n, netSales: 8_000n, totalSales: 10_700n });
    expect(await parts(9_006)).toMatchObject({ gross: 10_000n, netSales: 0n, totalSales: 0n });
    expect(await parts(9_007)).toEqual({ gross: 2_000n, discounts: 0n, returns: 2_000n, tax: 0n, shipping: 0n, duties: 0n, netSales: 0n, totalSales: 0n });
    await expectPartsAddUpToTotal(shop, [9_001, 9_002, 9_003, 9_004, 9_005, 9_006, 9_007]);

    // The refunds keep what they returned by part: goods, tax, shipping.
    const refund = await db().refund.findUniqueOrThrow({ where: { shop_id: { shop, id: 7_003n } } });
    expect(refund).toMatchObject({ amountMinor: 4_300n, returnsMinor: 3_000n, taxMinor: 300n, shippingMinor: 1_000n, dutiesMinor: 0n });

    // Per customer, Alice: net sales 81.00 + 90.00 + 60.00 + 0 + 80.00 = 311.00;
    // total sales 92.48 + 90.00 + 66.00 + 0 + 107.00 = 355.48. Ben: 0 and 0.
    expect(await countedByCustomer(shop, "net_sales", [ALICE, BEN])).toEqual({ [ALICE]: 31_100, [BEN]: 0 });
    expect(await countedByCustomer(shop, "total_sales", [ALICE, BEN])).toEqual({ [ALICE]: 35_548, [BEN]: 0 });
    // Customer.netSpentMinor stays total sales (what Shopify's amountSpent compares with).
    expect((await db().customer.findUniqueOrThrow({ where: { shop_id: { shop, id: BigInt(ALICE) } } })).netSpentMinor).toBe(35_548n);
  });

  it("keeps net sales when the refunded order arrives after its refund, in either order", async () => {
    const refund = refundOf({
      id: 7_103, orderId: 9_103, createdAt: "2025-03-20T10:00:00Z",
      lines: [{ lineItemId: 5, quantity: 1, subtotalCents: 3_000, taxCents: 300 }], shippingCents: 1_000,
    });
    // The order as Shopify shows it after the refund: 60.00 of goods left, 6.00 tax, no shipping.
    const after = salePayload({
      id: 9_103, customerId: ALICE, shippingCents: 1_000, financialStatus: "partially_refunded", updatedAt: "2025-03-20T10:00:01Z",
      lines: [{ id: 5, priceCents: 3_000, quantity: 3, taxCents: 900 }],
      current: { subtotalCents: 6_000, taxCents: 600, shippingCents: 0, totalCents: 6_600 }, refunds: [refund],
    });
    const before = salePayload({ id: 9_103, customerId: ALICE, shippingCents: 1_000, lines: [{ id: 5, priceCents: 3_000, quantity: 3, taxCents: 900 }] });
    const sequences: [string, Json][][] = [
      [["orders/create", before], ["refunds/create", refund], ["orders/updated", after]],
      [["orders/updated", after], ["refunds/create", refund], ["orders/create", before]],
      [["refunds/create", refund], ["orders/create", before]],
    ];
    for (const sequence of sequences) {
      const shop = uniqueShop("revenue-order");
      for (const [topic, payload] of sequence) await deliver(shop, topic, payload);
      // Returns 30.00 whichever copy says so; net sales 60.00, total sales 66.00.
      expect(await order(shop, 9_103)).toMatchObject({ grossSalesMinor: 9_000n, netSalesMinor: 6_000n, netMinor: 6_600n });
      await expectPartsAddUpToTotal(shop, [9_103]);
    }
  });

  it("takes the tax out of gross sales, discounts and returns when prices include it (taxes_included)", async () => {
    // Shopify's sales reports show gross sales, discounts and returns without tax also for a
    // shop whose prices include it: a line's tax comes out of its price first, and the discount
    // applies to what is left (docs/analytics/revenue.md). 20 % VAT inside every price here.
    //   Line 11: 120.00 incl. VAT, 12.00 off -> 108.00 paid, VAT 18.00: gross 120.00 / 1.2 = 100.00,
    //            discount 12.00 / 1.2 = 10.00, net 90.00.
    //   Line 12: 2 x 60.00 incl. VAT, VAT 20.00: gross 100.00, net 100.00.
    //   Shipping 10.00 (untaxed). Total 108.00 + 120.00 + 10.00 = 238.00 (the VAT is inside).
    //   Gross sales 200.00, discounts 10.00, net sales 190.00; total sales 238.00.
    const lines = [{ id: 11, priceCents: 12_000, quantity: 1, discountCents: 1_200, taxCents: 1_800 }, { id: 12, priceCents: 6_000, quantity: 2, taxCents: 2_000 }];
    const placed = salePayload({ id: 9_201, customerId: ALICE, taxesIncluded: true, shippingCents: 1_000, lines });
    // One unit of line 12 returned with its VAT: 60.00 incl. 10.00 VAT, so returns 50.00; the
    // order then shows a 168.00 subtotal (28.00 VAT inside) and a 178.00 total.
    //   Net sales 200.00 - 10.00 - 50.00 = 140.00; total sales 140.00 + 28.00 VAT + 10.00 shipping = 178.00.
    const refund = refundOf({ id: 7_201, orderId: 9_201, createdAt: "2025-03-20T10:00:00Z", lines: [{ lineItemId: 12, quantity: 1, subtotalCents: 6_000, taxCents: 1_000 }] });
    const refunded = salePayload({
      id: 9_201, customerId: ALICE, taxesIncluded: true, shippingCents: 1_000, lines, financialStatus: "partially_refunded",
      updatedAt: "2025-03-20T10:00:01Z", current: { subtotalCents: 16_800, taxCents: 2_800, shippingCents: 1_000, totalCents: 17_800 }, refunds: [refund],
    });
    // Cents to round: 19 % VAT, 3 x 49.99 incl. VAT, 15.00 off -> 134.97 paid, VAT 21.55 (134.97 - 134.97 / 1.19).
    //   Gross 149.97 / 1.19 = 126.025 -> 126.03; discount 15.00 / 1.19 = 12.605 -> 12.61; net sales 113.42.
    const rounding = salePayload({ id: 9_202, customerId: BEN, taxesIncluded: true, lines: [{ id: 13, priceCents: 4_999, quantity: 3, discountCents: 1_500, taxCents: 2_155 }] });

    const shop = uniqueShop("revenue-taxes-included");
    await deliver(shop, "orders/create", placed);
    await deliver(shop, "orders/create", rounding);
    const figures = async (id: number) => {
      const o = await order(shop, id);
      return { gross: o.grossSalesMinor, discounts: o.discountsMinor, returns: o.returnsMinor, tax: o.taxMinor, netSales: o.netSalesMinor, totalSales: o.netMinor };
    };
    expect(await figures(9_201)).toEqual({ gross: 20_000n, discounts: 1_000n, returns: 0n, tax: 3_800n, netSales: 19_000n, totalSales: 23_800n });
    expect(await figures(9_202)).toEqual({ gross: 12_603n, discounts: 1_261n, returns: 0n, tax: 2_155n, netSales: 11_342n, totalSales: 13_497n });

    await deliver(shop, "refunds/create", refund);
    await deliver(shop, "orders/updated", refunded);
    expect(await figures(9_201)).toMatchObject({ gross: 20_000n, discounts: 1_000n, returns: 5_000n, tax: 2_800n, netSales: 14_000n, totalSales: 17_800n });
    await expectPartsAddUpToTotal(shop, [9_201, 9_202]);
    expect(await countedByCustomer(shop, "net_sales", [ALICE, BEN])).toEqual({ [ALICE]: 14_000, [BEN]: 11_342 });
    expect(await countedByCustomer(shop, "total_sales", [ALICE, BEN])).toEqual({ [ALICE]: 17_800, [BEN]: 13_497 });

    // Order-free: the refunded version first, then the refund and the placed one, leaves the same.
    const other = uniqueShop("revenue-taxes-included-order");
    for (const [topic, payload] of [["orders/updated", refunded], ["refunds/create", refund], ["orders/create", placed]] as const) await deliver(other, topic, payload);
    expect(await db().order.findUniqueOrThrow({ where: { shop_id: { shop: other, id: 9_201n } } })).toMatchObject({ returnsMinor: 5_000n, netSalesMinor: 14_000n, netMinor: 17_800n });

    // The bulk import and reconciliation (Admin GraphQL: taxesIncluded, LineItem.taxLines) read the same parts.
    for (const payload of [refunded, rounding]) {
      const { order: graphqlOrder, lineItems } = graphqlOrderFromWebhook(payload);
      expect(mapGraphqlOrder(graphqlOrder, lineItems).order.parts).toEqual(mapOrderPayload(payload).order.parts);
    }
  });

  it("counts an order stored without its parts at total sales, even on the net-sales basis", async () => {
    const shop = uniqueShop("revenue-unknown");
    const payload = salePayload({ id: 9_201, customerId: ALICE, shippingCents: 500, lines: [{ id: 1, priceCents: 2_000, quantity: 1, taxCents: 160 }] });
    delete payload.total_line_items_price_set;
    delete payload.current_subtotal_price_set;
    await deliver(shop, "orders/create", payload);
    expect(await order(shop, 9_201)).toMatchObject({ grossSalesMinor: null, netSalesMinor: null, netMinor: 2_660n });
    expect(await countedByCustomer(shop, "net_sales", [ALICE])).toEqual({ [ALICE]: 2_660 });
  });

  it("leaves out every order of a customer with an excluded tag, whatever its case", async () => {
    const shop = uniqueShop("revenue-tags");
    const wholesale = salePayload({ id: 9_301, customerId: BEN, lines: [{ id: 1, priceCents: 50_000, quantity: 1 }] });
    (wholesale.customer as Json).tags = "Wholesale, net-30";
    await deliver(shop, "orders/create", wholesale);
    await deliver(shop, "orders/create", salePayload({ id: 9_302, customerId: ALICE, lines: [{ id: 2, priceCents: 1_000, quantity: 1 }] }));
    const base = await loadMetricsSettings(testPool(), shop);
    const ids = [String(ALICE), String(BEN)];
    expect((await countedOrdersOf(testPool(), shop, base, ids)).map((row) => Number(row.customer_id)).sort()).toEqual([ALICE, BEN]);
    const excluding = { ...base, excludedCustomerTags: ["wholesale"] };
    expect((await countedOrdersOf(testPool(), shop, excluding, ids)).map((row) => Number(row.customer_id))).toEqual([ALICE]);
  });
});
