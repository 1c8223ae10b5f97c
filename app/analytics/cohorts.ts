// Cohort arithmetic shared by the retention report: calendar months from day indices,
// which months a cohort has fully observed, LTV curves pooled over cohorts, payback.
//
// A cohort is the customers whose first order fell in one calendar month. Days are
// already calendar days in the shop's time zone (dates.ts), so a month is a pure function
// of the day index: no Date objects and no time zone are involved here.
//
// Censoring: month k after the cohort month counts only once that month has ENDED by the
// as-of day; a month still running would under-count, so it is reported as null ("not yet
// observable"), never as a low number.
import { monthIndex, monthStartDay } from "./dates";

/** Month index (months since January 1970) of every day from firstDay to lastDay. */
export function monthsOfDays(firstDay: number, lastDay: number): Int32Array {
  const table = new Int32Array(Math.max(0, lastDay - firstDay + 1));
  if (table.length === 0) return table;
  let month = monthIndex(firstDay);
  let nextMonthStart = monthStartDay(month + 1);
  for (let day = firstDay; day <= lastDay; day++) {
    if (day >= nextMonthStart) {
      month++;
      nextMonthStart = monthStartDay(month + 1);
    }
    table[day - firstDay] = month;
  }
  return table;
}

/** The last month that has fully ended on or before asOfDay (the as-of month if asOfDay is its last day). */
export function lastCompleteMonth(asOfDay: number): number {
  const month = monthIndex(asOfDay);
  return monthStartDay(month + 1) - 1 === asOfDay ? month : month - 1;
}

/**
 * Cumulative net revenue per customer by the end of month k (k = 0..months-1) pooled over
 * cohorts: each month k uses only the cohorts that have fully observed it.
 *   cohortMonths[c]                month index of cohort c
 *   sizes[c]                       customers in cohort c
 *   revenueByMonth[c * months + k] net revenue of cohort c in month k after its first month
 * Returns per k the LTV (null when no cohort has observed month k) and how many customers
 * it is averaged over.
 */
export function pooledLtvByMonth(
  cohortMonths: ArrayLike<number>,
  sizes: ArrayLike<number>,
  revenueByMonth: ArrayLike<number>,
  months: number,
  lastComplete: number,
): { ltv: (number | null)[]; customers: number[] } {
  const ltv: (number | null)[] = [];
  const customers: number[] = [];
  const cumulative = new Float64Array(cohortMonths.length);
  for (let k = 0; k < months; k++) {
    let revenue = 0;
    let count = 0;
    for (let c = 0; c < cohortMonths.length; c++) {
      cumulative[c] += revenueByMonth[c * months + k];
      if (cohortMonths[c] + k <= lastComplete && sizes[c] > 0) {
        revenue += cumulative[c];
        count += sizes[c];
      }
    }
    ltv.push(count > 0 ? revenue / count : null);
    customers.push(count);
  }
  return { ltv, customers };
}

/**
 * Payback month: the first month k (0 = the month of the first order) by whose end the
 * cumulative gross profit per customer, grossMargin x LTV, covers CAC. null when the
 * observed months never reach it (or no CAC is given).
 */
export function paybackMonth(ltvByMonth: readonly (number | null)[], cac: number | null, grossMargin: number): number | null {
  if (cac === null) return null;
  for (let k = 0; k < ltvByMonth.length; k++) {
    const ltv = ltvByMonth[k];
    if (ltv !== null && grossMargin * ltv >= cac) return k;
  }
  return null;
}

/** Gross profit per customer over CAC; null without both. */
export function ltvToCac(ltv: number | null, cac: number | null, grossMargin: number): number | null {
  if (ltv === null || cac === null || cac <= 0) return null;
  return (grossMargin * ltv) / cac;
}
