// Test support for the CLV tests (imported only by *.test.ts): the CDNOW and donations
// fixtures, read with csv-parse. Files come in through Vite's ?raw imports so that
// app/analytics stays free of fs, tests included.
import { parse } from "csv-parse/sync";
import cdnowSampleText from "../../../tests/fixtures/cdnow/CDNOW_sample.txt?raw";
import cdnowSummaryText from "../../../tests/fixtures/cdnow/cdnow_customers_summary.csv?raw";
import cdnowSpendText from "../../../tests/fixtures/cdnow/cdnow_customers_summary_with_transactions.csv?raw";
import donationsText from "../../../tests/fixtures/cdnow/donations.csv?raw";
import { dayIndex } from "~/analytics/dates";
import { type Transaction } from "~/analytics/summary";
import { type BgBbRow } from "./bgbb";
import { type LogLikelihood } from "./estimation";
import { compressRows, type RfRow } from "./rows";

export interface CdnowCustomer {
  id: number;
  frequency: number;
  recency: number;
  T: number;
}

export interface CdnowSpendCustomer {
  id: number;
  x: number;
  tx: number;
  T: number;
  zbar: number;
}

function numericCsv(text: string): Record<string, number>[] {
  const records: Record<string, string>[] = parse(text, { columns: true, skip_empty_lines: true, trim: true });
  return records.map((record) => Object.fromEntries(Object.entries(record).map(([key, value]) => [key, Number(value)])));
}

/** cdnow_customers_summary.csv: ID, frequency, recency, T (weeks). */
export function cdnowCustomers(): CdnowCustomer[] {
  return numericCsv(cdnowSummaryText).map((r) => ({ id: r.ID, frequency: r.frequency, recency: r.recency, T: r.T }));
}

export function cdnowRows(): RfRow[] {
  return compressRows(cdnowCustomers());
}

/** cdnow_customers_summary_with_transactions.csv: ID, x, t_x, T, zbar. */
export function cdnowSpendCustomers(): CdnowSpendCustomer[] {
  return numericCsv(cdnowSpendText).map((r) => ({ id: r.ID, x: r.x, tx: r.t_x, T: r.T, zbar: r.zbar }));
}

/** donations.csv: frequency, recency, periods, weights. */
export function donationRows(): BgBbRow[] {
  return numericCsv(donationsText).map((r) => ({ x: r.frequency, tx: r.recency, n: r.periods, weight: r.weights }));
}

/** CDNOW_sample.txt as transactions: sample id, purchase day, dollars (whitespace separated). */
export function cdnowTransactions(): Transaction[] {
  return cdnowSampleText
    .split(/\r?\n/)
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const [, sampleId, date, , dollars] = line.trim().split(/\s+/);
      return { customerId: sampleId, day: dayIndex(date), amount: Number(dollars) };
    });
}

/** Largest |analytic - central difference| / (1 + |numeric|) over the gradient components. */
export function gradientMismatch(logLikelihood: LogLikelihood, theta: number[], step = 1e-6): number {
  const { gradient } = logLikelihood(theta);
  let worst = 0;
  theta.forEach((_, i) => {
    const up = theta.slice();
    const down = theta.slice();
    up[i] += step;
    down[i] -= step;
    const numeric = (logLikelihood(up).value - logLikelihood(down).value) / (2 * step);
    worst = Math.max(worst, Math.abs(gradient[i] - numeric) / (1 + Math.abs(numeric)));
  });
  return worst;
}

/** Each published value matched to `digits` decimals (toBeCloseTo; the name says which one failed). */
export function expectCloseTo(actual: object, published: Record<string, number>, digits = 3): void {
  for (const [name, value] of Object.entries(published)) expect((actual as Record<string, number>)[name], name).toBeCloseTo(value, digits);
}

export function relativeError(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.abs(expected);
}
