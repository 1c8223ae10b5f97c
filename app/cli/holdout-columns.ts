// customers.csv's holdout columns (`tenure analyze --calibration-end` only): each calibration
// customer's predicted and actual holdout purchases and spend from the backtest. Kept apart
// from the scoring path (customer-rows.ts): the columns are appended to the finished file in
// one streamed pass, so a run without --calibration-end does no extra work at all.
import { createReadStream } from "node:fs";
import { type BacktestOptions } from "~/analytics/clv/backtest";
import { type CustomerSummary, type TransactionTable } from "~/analytics/summary";
import { formatNumber } from "./customers-csv";
import { writeFileAtomically } from "./io";

export const HOLDOUT_COLUMNS = ["holdout_purchases_predicted", "holdout_purchases_actual", "holdout_spend_predicted", "holdout_spend_actual"] as const;

/** Decimal places per holdout column, as the scoring columns keep them (purchases 6, money 2, amounts 4). */
const HOLDOUT_SCALES = [1e6, 0, 1e2, 1e4] as const;

/** The four figures per customer; NaN where there is none (not a calibration customer, no spend model). */
export interface HoldoutColumns {
  predictedPurchases: Float64Array;
  actualPurchases: Float64Array;
  predictedSpend: Float64Array;
  actualSpend: Float64Array;
}

/** Columns with no figures (customers.csv keeps the columns, empty, when the backtest is refused). */
export function emptyHoldoutColumns(length: number): HoldoutColumns {
  return {
    predictedPurchases: new Float64Array(length).fill(Number.NaN),
    actualPurchases: new Float64Array(length).fill(Number.NaN),
    predictedSpend: new Float64Array(length).fill(Number.NaN),
    actualSpend: new Float64Array(length).fill(Number.NaN),
  };
}

/** Columns by table customer index, filled by the backtest's onCustomer. */
export function holdoutCollector(customerCount: number): { columns: HoldoutColumns; onCustomer: NonNullable<BacktestOptions["onCustomer"]> } {
  const columns = emptyHoldoutColumns(customerCount);
  return {
    columns,
    onCustomer: (customer, predictedPurchases, actualPurchases, predictedSpend, actualSpend) => {
      columns.predictedPurchases[customer] = predictedPurchases;
      columns.actualPurchases[customer] = actualPurchases;
      columns.predictedSpend[customer] = predictedSpend ?? Number.NaN;
      columns.actualSpend[customer] = actualSpend;
    },
  };
}

/** The columns reordered to customers.csv's rows (one per summary, in order). */
export function holdoutColumnsInOrder(byCustomer: HoldoutColumns, table: TransactionTable, summaries: readonly CustomerSummary[]): HoldoutColumns {
  const ordered = emptyHoldoutColumns(summaries.length);
  summaries.forEach((s, row) => {
    const customer = table.index.get(s.customerId) as number;
    ordered.predictedPurchases[row] = byCustomer.predictedPurchases[customer];
    ordered.actualPurchases[row] = byCustomer.actualPurchases[customer];
    ordered.predictedSpend[row] = byCustomer.predictedSpend[customer];
    ordered.actualSpend[row] = byCustomer.actualSpend[customer];
  });
  return ordered;
}

function holdoutFields(columns: HoldoutColumns, row: number): string {
  return (
    `,${formatNumber(columns.predictedPurchases[row], HOLDOUT_SCALES[0])},${formatNumber(columns.actualPurchases[row], HOLDOUT_SCALES[1])}` +
    `,${formatNumber(columns.predictedSpend[row], HOLDOUT_SCALES[2])},${formatNumber(columns.actualSpend[row], HOLDOUT_SCALES[3])}`
  );
}

/**
 * Appends the holdout columns to every line of the customers.csv at `path` (header, then
 * row k gets columns' row k). A record ends at a newline outside quotes (an id may be quoted
 * and hold one). Written to `<path>.partial` and renamed, like the file itself.
 */
export async function appendHoldoutColumns(path: string, columns: HoldoutColumns): Promise<void> {
  await writeFileAtomically(path, linesWithHoldoutColumns(path, columns));
}

async function* linesWithHoldoutColumns(path: string, columns: HoldoutColumns): AsyncIterable<string> {
  let row = -1; // -1: the header
  let quoted = false;
  for await (const chunk of createReadStream(path, { encoding: "utf8" }) as AsyncIterable<string>) {
    let text = "";
    let from = 0;
    for (let i = 0; i < chunk.length; i++) {
      const code = chunk.charCodeAt(i);
      if (code === 34 /* " */) quoted = !quoted;
      else if (code === 10 /* \n */ && !quoted) {
        text += chunk.slice(from, i) + (row === -1 ? `,${HOLDOUT_COLUMNS.join(",")}` : holdoutFields(columns, row));
        from = i;
        row++;
      }
    }
    text += chunk.slice(from);
    yield text;
  }
  if (row !== columns.predictedPurchases.length) throw new Error(`${path}: ${row} customer rows for ${columns.predictedPurchases.length} customers`);
}
