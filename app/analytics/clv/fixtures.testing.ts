// Test support for the CLV tests (imported only by *.test.ts): the CDNOW and donations
// fixtures, read with csv-parse. Files come in through Vite's ?raw imports so that
// app/analytics stays free of fs, tests included.
import { parse } from "csv-parse/sync";
import cdnowSampleText from "../../../tests/fixtures/cdnow/CDNOW_sample.txt?raw";
import cdnowSummaryText from "../../../tests/fixtures/cdnow/cdnow_customers_summary.csv?raw";
import cdnowSpendText from "../../../tests/fixtures/cdnow/cdnow_customers_summary_with_transactions.csv?raw";
import donationsText from "../../../tests/fixtures/cdnow/donations.csv?raw";
import { dayIndex } from "~/analytics/dates";
import { type CustomerSummary, type Transaction } from "~/analytics/summary";
import { type BgBbRow } from "./bgbb";
import { type FitOptions, type FitResult, type LogLikelihood } from "./estimation";
import { compressRows, type RfRow } from "./rows";
import { type SimulatedCustomer } from "./simulate";

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

/** A count model fitted on the CDNOW customers in weeks and on the same customers in days. */
export function fitInWeeksAndDays<P>(fit: (rows: RfRow[], options: FitOptions) => FitResult<P>) {
  const weeks = cdnowCustomers();
  const days = weeks.map((c) => ({ ...c, recency: c.recency * 7, T: c.T * 7 }));
  const options = { standardErrors: false };
  return { weeks, inWeeks: fit(compressRows(weeks), options), inDays: fit(compressRows(days), options) };
}

/**
 * Largest |E[Y(39 weeks)] - E[Y(273 days)]| over the first 50 CDNOW customers, with `weekly`
 * and `daily` the (t, x, t_x, T) predictions of fits in weeks and in days.
 */
export function calendarHorizonGap(
  weekly: (t: number, x: number, tx: number, T: number) => number,
  daily: (t: number, x: number, tx: number, T: number) => number,
): number {
  let worst = 0;
  for (const c of cdnowCustomers().slice(0, 50)) {
    worst = Math.max(worst, Math.abs(weekly(39, c.frequency, c.recency, c.T) - daily(273, c.frequency, c.recency * 7, c.T * 7)));
  }
  return worst;
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

/** Sums of P(X = n) and n P(X = n) over n = 0 .. count - 1, to check a distribution and its mean. */
export function distributionMoments(probability: (n: number) => number, count: number): { total: number; mean: number } {
  let total = 0;
  let mean = 0;
  for (let n = 0; n < count; n++) {
    const p = probability(n);
    total += p;
    mean += n * p;
  }
  return { total, mean };
}

/** A fit on simulated customers: converged, every parameter within `n` standard errors of the truth. */
export function expectRecovered<P extends Record<keyof P, number>>(fit: FitResult<P>, truth: P, n = 4): void {
  expect(fit.converged).toBe(true);
  for (const key of Object.keys(truth) as (keyof P & string)[]) {
    const se = fit.standardErrors![key];
    expect(se, key).toBeGreaterThan(0);
    expect(Math.abs(fit.params[key] - truth[key]), key).toBeLessThan(n * se);
  }
}

/** Each published value matched to `digits` decimals (toBeCloseTo; the name says which one failed). */
export function expectCloseTo(actual: object, published: Record<string, number>, digits = 3): void {
  for (const [name, value] of Object.entries(published)) expect((actual as Record<string, number>)[name], name).toBeCloseTo(value, digits);
}

export function relativeError(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.abs(expected);
}

/**
 * Simulated customers as the summaries a shop's fit reads: spend 20 to 26 by position, first
 * order on day 10,000, the last `recency` units of `daysPerUnit` days later.
 */
export function summariesOfSimulated(
  customers: readonly SimulatedCustomer[],
  { id, daysPerUnit }: { id: (index: number) => string; daysPerUnit: number },
): CustomerSummary[] {
  return customers.map((c, i) => ({
    customerId: id(i),
    orders: c.frequency + 1,
    frequency: c.frequency,
    recency: c.recency,
    T: c.T,
    monetaryValue: c.frequency > 0 ? 20 + (i % 7) : 0,
    totalSpent: (c.frequency + 1) * (20 + (i % 7)),
    firstDay: 10_000,
    lastDay: 10_000 + Math.round(c.recency * daysPerUnit),
  }));
}
