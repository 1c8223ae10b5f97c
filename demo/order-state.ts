import { type DemoCancellation, type DemoCustomer, type DemoLine, type DemoOrder, type DemoRefund } from "./store-model";

// An order and a customer as Shopify would describe them at a moment: every edit, refund
// and cancellation up to that moment applied (the webhook bodies and the expected rows).

export interface LineState {
  line: DemoLine;
  currentQuantity: number;
  currentDiscountMinor: number;
  currentTaxMinor: number;
}

export interface Totals {
  /** Sum of price x quantity. */
  lineItemsMinor: number;
  discountsMinor: number;
  /** Line items less discounts. */
  subtotalMinor: number;
  shippingMinor: number;
  taxMinor: number;
  /** Subtotal + shipping + tax. */
  totalMinor: number;
}

export interface OrderState {
  lines: LineState[];
  refunds: DemoRefund[];
  cancelled: DemoCancellation | null;
  fulfilled: boolean;
  updatedAt: number;
  financialStatus: "paid" | "partially_refunded" | "refunded" | "voided";
  /** As placed (and edited): total_* fields. */
  original: Totals;
  /** After refunds, edits and cancellation: current_total_* fields. */
  current: Totals;
}

/** Money a refund returned, in shop money: items (subtotal + tax) and shipping. */
export function refundTotalMinor(refund: DemoRefund): number {
  return refund.lines.reduce((sum, l) => sum + l.subtotalMinor + l.taxMinor, 0) + refund.shippingMinor;
}

/** The order as Shopify would describe it at `at` (every change up to and including `at`). */
export function orderStateAt(order: DemoOrder, at: number): OrderState {
  const lines = order.lines.filter((line) => line.addedAt === null || line.addedAt <= at);
  const refunds = [order.refund, order.cancellation?.refund].filter((r): r is DemoRefund => r != null && r.createdAt <= at);
  const cancelled = order.cancellation && order.cancellation.at <= at ? order.cancellation : null;
  const lineStates = lines.map((line): LineState => {
    let quantity = line.quantity;
    let discount = line.discountMinor;
    let tax = line.taxMinor;
    for (const refund of refunds) {
      for (const refunded of refund.lines) {
        if (refunded.line !== line) continue;
        quantity -= refunded.quantity;
        discount -= refunded.discountMinor;
        tax -= refunded.taxMinor;
      }
    }
    // A cancelled order keeps its lines with nothing left to fulfil or pay.
    if (cancelled) return { line, currentQuantity: 0, currentDiscountMinor: 0, currentTaxMinor: 0 };
    return { line, currentQuantity: quantity, currentDiscountMinor: discount, currentTaxMinor: tax };
  });
  const refundedShipping = refunds.reduce((sum, r) => sum + r.shippingMinor, 0);
  const totals = (quantity: (s: LineState) => number, discount: (s: LineState) => number, tax: (s: LineState) => number, shipping: number): Totals => {
    const lineItemsMinor = lineStates.reduce((sum, s) => sum + s.line.priceMinor * quantity(s), 0);
    const discountsMinor = lineStates.reduce((sum, s) => sum + discount(s), 0);
    const taxMinor = lineStates.reduce((sum, s) => sum + tax(s), 0);
    const subtotalMinor = lineItemsMinor - discountsMinor;
    return { lineItemsMinor, discountsMinor, subtotalMinor, shippingMinor: shipping, taxMinor, totalMinor: subtotalMinor + shipping + taxMinor };
  };
  const original = totals((s) => s.line.quantity, (s) => s.line.discountMinor, (s) => s.line.taxMinor, order.shippingMinor);
  const current = totals(
    (s) => s.currentQuantity,
    (s) => s.currentDiscountMinor,
    (s) => s.currentTaxMinor,
    cancelled ? 0 : order.shippingMinor - refundedShipping,
  );
  const refundedMinor = refunds.reduce((sum, r) => sum + refundTotalMinor(r), 0);
  const financialStatus =
    cancelled && !cancelled.refund ? "voided" : refundedMinor === 0 ? "paid" : refundedMinor >= original.totalMinor ? "refunded" : "partially_refunded";
  const changes = [
    order.createdAt + 2_000,
    order.editedAt,
    order.fulfilledAt !== null && order.fulfilledAt > order.createdAt ? order.fulfilledAt : null,
    ...refunds.map((r) => r.createdAt + 2_000),
    cancelled ? cancelled.at + 2_000 : null,
  ].filter((t): t is number => t !== null && t <= Math.max(at, order.createdAt + 2_000));
  return {
    lines: lineStates,
    refunds,
    cancelled,
    fulfilled: order.fulfilledAt !== null && order.fulfilledAt <= at && !cancelled,
    updatedAt: Math.max(...changes),
    financialStatus,
    original,
    current,
  };
}

/** The customer's updated_at as seen at `at`: account creation, then each order placed. */
export function customerUpdatedAt(customer: DemoCustomer, at: number): number {
  let updated = customer.createdAt + 1_000;
  for (const order of customer.orders) {
    if (order.createdAt <= at) updated = Math.max(updated, order.createdAt + 1_000);
  }
  return updated;
}
