import { type Transaction } from "./summary";

// What every transaction reader gives back (transactions.ts: the simple formats;
// shopify-export.ts: Shopify's orders export).

/** 'column 12 "Total"' (1-based, as spreadsheets count): how a row error names a column. */
export function columnLabel(column: number, name: string): string {
  return `column ${column + 1} "${name}"`;
}

export interface RowError {
  line: number;
  message: string;
  raw: string;
}

export interface ParsedTransaction extends Transaction {
  line: number;
}

/**
 * Receives parsed rows without an object per row (the fast path). The customer id is
 * text.slice(idStart, idEnd), passed as a range so that a consumer which interns ids
 * (TransactionTable.addRange) need not allocate a string for every row.
 */
export interface TransactionSink {
  transaction(text: string, idStart: number, idEnd: number, day: number, amount: number, line: number): void;
  error(error: RowError): void;
  /** Shopify exports only: how the order just passed to transaction() was acquired. */
  orderAttributes?(attributes: OrderAttributes): void;
}

/** What an order export says about how an order came in (for retention splits). */
export interface OrderAttributes {
  /** Sales channel ("web", "pos", an app's name); null when blank. */
  channel: string | null;
  discountCode: string | null;
  /** Name of the order's first line item. */
  firstProduct: string | null;
}
