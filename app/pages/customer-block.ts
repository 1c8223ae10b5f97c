// The customer details block in Shopify admin (extensions/tenure-customer-block) as the app
// route GET /api/customers/:id/metrics answers it, no server code; the loader is
// customer-block.server.ts. The extension cannot import app/, so it declares this shape
// again and checks every response against it (tests/pages/customer-block.test.ts feeds it
// the loader's answers).

/** One figure: the stored value and the text Tenure's own pages show for it. */
export interface BlockFigure<Value> {
  label: string;
  value: Value | null;
  text: string;
}

export interface CustomerBlockMetrics {
  segment: { key: string | null; name: string };
  expectedSpend: BlockFigure<number>;
  spentToDate: BlockFigure<number>;
  chanceOfOrder90d: BlockFigure<number>;
  expectedNextOrder: BlockFigure<string>;
  /** The day the scores are as of. */
  scoredAsOf: BlockFigure<string>;
  /** The shop's currency; money values are in its minor units. */
  currency: string;
}

export interface CustomerBlockData {
  customerId: string;
  /** The customer's page in Tenure, a path under the app's URL. */
  tenurePath: string;
  /** Null: Tenure knows the customer but has not scored them yet. */
  metrics: CustomerBlockMetrics | null;
}

export type CustomerBlockResult =
  | { status: 200; body: CustomerBlockData }
  | { status: 400 | 404; body: { error: string } };
