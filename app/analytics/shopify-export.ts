import { daysFromCivil, isValidCivilDate } from "./dates";
import { MoneyFormatError, currencyExponent, toMinorUnits } from "./money";
import { type OrderAttributes, type ParsedTransaction, type RowError, columnLabel } from "./transaction-rows";

// Shopify admin's "Export orders" CSV: one row per line item, order fields on the order's
// first row. Read record by record into one transaction per order (ADR 0004).

/** Positions of the export columns we read (null when a column is absent). */
export interface ShopifyColumns {
  name: number;
  email: number;
  financialStatus: number;
  total: number;
  createdAt: number;
  refundedAmount: number | null;
  currency: number | null;
  paymentMethod: number | null;
  cancelledAt: number | null;
  id: number | null;
  source: number | null;
  discountCode: number | null;
  lineitemName: number | null;
  count: number;
}

const SHOPIFY_REQUIRED = ["Name", "Email", "Financial Status", "Total", "Created at"] as const;
// Columns only the orders export has; two of them must be present to tell it from any CSV with a Name column.
const SHOPIFY_MARKERS = ["Paid at", "Fulfillment Status", "Lineitem quantity", "Lineitem name", "Refunded Amount", "Subtotal"];

/** Column positions when `header` is a Shopify orders export header, else null. */
export function shopifyColumns(header: readonly string[]): ShopifyColumns | null {
  const position = (name: string): number | null => {
    const index = header.indexOf(name);
    return index >= 0 ? index : null;
  };
  if (SHOPIFY_REQUIRED.some((name) => position(name) === null)) return null;
  if (SHOPIFY_MARKERS.filter((name) => position(name) !== null).length < 2) return null;
  return {
    name: position("Name")!,
    email: position("Email")!,
    financialStatus: position("Financial Status")!,
    total: position("Total")!,
    createdAt: position("Created at")!,
    refundedAmount: position("Refunded Amount"),
    currency: position("Currency"),
    paymentMethod: position("Payment Method"),
    cancelledAt: position("Cancelled at"),
    id: position("Id"),
    source: position("Source"),
    discountCode: position("Discount Code"),
    lineitemName: position("Lineitem name"),
    count: header.length,
  };
}

/** Why an export row produced no transaction although nothing in it was malformed. */
export type ShopifySkipReason = "line-item-row" | "test-order" | "no-email" | "duplicate-order";

export interface ShopifyOrder extends ParsedTransaction {
  attributes: OrderAttributes;
}

export type ShopifyRowResult = ShopifyOrder | RowError | { skipped: ShopifySkipReason; line: number };

// "2024-01-15 10:23:45 -0500" (the export's form) or ISO 8601 "2024-01-15T10:23:45-05:00" / "...Z".
const SHOPIFY_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * Turns export rows into one transaction per order. The export repeats an order's Name
 * on every line-item row and fills the order columns (Email, Total, Created at, ...)
 * on its first row only; we take that row once. Amount = Total - Refunded Amount,
 * computed exactly in the currency's minor units and returned in major units. The day
 * is the calendar date of "Created at" in the timestamp's own offset, which is the
 * shop's time zone in Shopify's export. Test orders (Shopify's Bogus test gateway) do
 * not count; voided orders (authorisation cancelled, nothing paid) count at 0.
 */
export class ShopifyOrderReader {
  private readonly seenOrders = new Set<string>();

  constructor(private readonly columns: ShopifyColumns) {}

  accept(record: readonly string[], line: number, raw: string): ShopifyRowResult {
    const c = this.columns;
    if (record.length !== c.count) {
      const detail = record.length < c.count ? `no column ${record.length + 1} and after` : `column ${c.count + 1} and after are extra`;
      return { line, message: `expected ${c.count} columns, found ${record.length}: ${detail}`, raw };
    }
    const name = record[c.name].trim();
    const createdAt = record[c.createdAt].trim();
    const total = record[c.total].trim();
    if (name === "") return { line, message: `${columnLabel(c.name, "Name")}: the order name is empty`, raw };
    // Continuation rows of a multi-item order carry only line-item columns.
    if (createdAt === "" && total === "") return { skipped: "line-item-row", line };
    if (this.seenOrders.has(name)) return { skipped: "duplicate-order", line };

    const paymentMethod = c.paymentMethod === null ? "" : record[c.paymentMethod];
    if (/bogus/i.test(paymentMethod)) {
      this.seenOrders.add(name);
      return { skipped: "test-order", line };
    }
    const email = record[c.email].trim().toLowerCase();

    const timestamp = SHOPIFY_TIMESTAMP.exec(createdAt);
    if (!timestamp) return { line, message: `order ${name}: ${columnLabel(c.createdAt, "Created at")}: "${createdAt}" is not a timestamp`, raw };
    const [year, month, dayOfMonth] = [Number(timestamp[1]), Number(timestamp[2]), Number(timestamp[3])];
    if (!isValidCivilDate(year, month, dayOfMonth)) {
      return { line, message: `order ${name}: ${columnLabel(c.createdAt, "Created at")}: "${createdAt}" is not a calendar date`, raw };
    }

    const currency = c.currency === null ? "" : record[c.currency].trim().toUpperCase();
    let amount: number;
    // The column whose value is being read, for the message if it is refused.
    let reading = columnLabel(c.currency ?? 0, "Currency");
    try {
      const exponent = currency === "" ? 2 : currencyExponent(currency);
      const unit = currency === "" ? "USD" : currency;
      reading = columnLabel(c.total, "Total");
      const totalMinor = toMinorUnits(total, unit);
      reading = columnLabel(c.refundedAmount ?? 0, "Refunded Amount");
      const refunded = c.refundedAmount === null ? "" : record[c.refundedAmount].trim();
      const refundedMinor = refunded === "" ? 0 : toMinorUnits(refunded, unit);
      const voided = record[c.financialStatus].trim().toLowerCase() === "voided";
      amount = voided ? 0 : (totalMinor - refundedMinor) / 10 ** exponent;
    } catch (error) {
      if (error instanceof MoneyFormatError) return { line, message: `order ${name}: ${reading}: ${error.message}`, raw };
      throw error;
    }

    this.seenOrders.add(name);
    if (email === "") return { skipped: "no-email", line };
    const text = (column: number | null) => (column === null ? null : record[column].trim() || null);
    return {
      customerId: email,
      day: daysFromCivil(year, month, dayOfMonth),
      amount,
      line,
      attributes: { channel: text(c.source), discountCode: text(c.discountCode), firstProduct: text(c.lineitemName) },
    };
  }
}

// ---------------------------------------------------------------------------------
