// What brings customers back (issue 17): the acquisition drivers (first product, first
// discount code, sales channel, marketing source and month of the year of the first order,
// each value ranked by its customers' repeat rate, LTV, AOV, days to a second order and
// chance of ordering) and the reorder timing (days between orders per step, and the share
// who reorder within 30, 60 and 90 days). docs/analytics/acquisition.md defines every figure;
// the definitions below are the same. Pure: the refit reads the orders and the predictions.
//
// What counts is what the retention report counts (retention.ts): rows are orders at their
// net value, a negative row is a refund (revenue, not an order), rows after as-of are ignored,
// and a customer's first order is their earliest non-refund row.
import { civilFromDays, dayToIso } from "./dates";
import { DEFAULT_GAP_BUCKET_EDGES, groupOrdersByCustomer } from "./retention";
import { histogramOfCounts, quantileOfCounts, quantileSorted, roundTo as round, wilsonInterval } from "./stats";
import { type TransactionTable } from "./summary";

/** The acquisition dimensions, keyed as the customer table's `acquired` filter names them. */
export const DRIVER_DIMENSIONS = ["firstProduct", "discountCode", "channel", "marketingSource", "firstOrderMonth"] as const;
export type DriverDimension = (typeof DRIVER_DIMENSIONS)[number];

export type DriverDimensionInput = DriverDimensionBase &
  (
    | {
        /** The value of a table customer's first order; null or "" for none. */
        valueOf(customer: number): string | null;
      }
    | {
        /**
         * The same as interned codes (no string per customer: a million customers, five
         * dimensions): table customer c's value is values[ofCustomer[c]]; none below 0 or past the end.
         */
        codes: { ofCustomer: ArrayLike<number>; values: readonly string[] };
      }
  );

interface DriverDimensionBase {
  key: DriverDimension;
  label: string;
  /** What a customer without a value is listed as ("No code"). */
  noneLabel: string;
}

export interface DriverOptions {
  /** Last day counted (inclusive). */
  asOfDay: number;
  /** Groups with fewer customers are flagged `small` (default 30). */
  smallGroupSize?: number;
  /** Values listed per dimension before the rest are grouped as "Other" (default 25). */
  topValues?: number;
}

export const DRIVER_LTV_DAYS = [90, 365] as const;
/** Horizons of the repeat rate counted only over customers old enough (the same as the LTV's). */
export const DRIVER_REPEAT_DAYS = DRIVER_LTV_DAYS;
export const REORDER_WITHIN_DAYS = [30, 60, 90] as const;
export const MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

export interface DriverRow {
  /** As shown: the value, the none label, or "Other". */
  label: string;
  /** The customer table's filter value: the value, "" for none; null for "Other" (many values). */
  filterValue: string | null;
  kind: "value" | "none" | "other";
  customers: number;
  /** Share of the shop's customers with an order, 0..1. */
  share: number;
  /** Fewer customers than smallGroupSize: every figure of the row is uncertain. */
  small: boolean;
  repeatCustomers: number;
  /** Customers with 2+ orders / customers, whatever their age: a value won lately looks worse (see repeatWithin). */
  repeatRate: number | null;
  /** Wilson 95 % interval of the repeat rate. */
  repeatRateLow: number | null;
  repeatRateHigh: number | null;
  /**
   * Of the customers who have had 90 / 365 days since their first order (that day is day 1),
   * the share who placed a second order within them, with its Wilson 95 % interval. Absent from
   * an aggregate computed before it existed.
   */
  repeatWithin?: { days: number; rate: number | null; low: number | null; high: number | null; repeaters: number; customers: number; small: boolean }[];
  /** Net revenue per customer within 90 and 365 days of the first order (that day is day 1), over the customers who have had that long. */
  ltv: { days: number; value: number | null; customers: number; small: boolean }[];
  /** Net revenue / orders. */
  aov: number | null;
  orders: number;
  /** Median days from the first to the second order, over the customers who placed one. */
  medianDaysToSecondOrder: number | null;
  secondOrders: number;
  /** Mean chance of at least one order in the next 90 days, over the customers with a prediction. */
  chanceOfOrder90d: number | null;
  predictedCustomers: number;
}

export interface DriverTable {
  key: DriverDimension;
  label: string;
  /** Distinct values seen, before grouping into "Other". */
  distinctValues: number;
  rows: DriverRow[];
}

export interface ReorderStep {
  step: string;
  /** 1: 1st to 2nd order; 2: 2nd to 3rd; 3: every later step pooled. */
  fromOrder: number;
  gaps: number;
  median: number | null;
  p25: number | null;
  p75: number | null;
  /** Gaps per bucket of ReorderTiming.buckets. */
  histogram: number[];
  /**
   * Orders at this step that had at least `days` days to be followed (as-of minus their day),
   * and the share of them followed by the next order within `days` days.
   */
  within: { days: number; share: number | null; orders: number }[];
}

export interface ReorderTiming {
  buckets: { label: string; fromDays: number; toDays: number | null }[];
  steps: ReorderStep[];
}

export interface DriversReport {
  asOfIso: string;
  smallGroupSize: number;
  customers: number;
  tables: DriverTable[];
  reorder: ReorderTiming;
}

const OTHER = "Other";

const ratio = (numerator: number, denominator: number) => (denominator > 0 ? numerator / denominator : null);

/** The month-of-the-year dimension: a customer's first order's month, by name. */
export function firstOrderMonthName(day: number): string {
  return MONTH_NAMES[civilFromDays(day).month - 1];
}

/**
 * The drivers and reorder timing of a shop. `chanceOfOrder90d[c]` is table customer c's
 * chance of ordering in the next 90 days, NaN without a prediction (or pass none).
 */
export function acquisitionDrivers(
  table: TransactionTable,
  dimensions: readonly DriverDimensionInput[],
  opts: DriverOptions,
  chanceOfOrder90d?: Float64Array,
): DriversReport {
  const asOfDay = opts.asOfDay;
  if (!Number.isInteger(asOfDay)) throw new RangeError(`asOfDay ${asOfDay} is not a day index`);
  const smallGroupSize = opts.smallGroupSize ?? 30;
  const topValues = opts.topValues ?? 25;
  if (!Number.isInteger(smallGroupSize) || smallGroupSize < 0) throw new RangeError(`smallGroupSize ${smallGroupSize} must be a whole number of 0 or more`);
  if (!Number.isInteger(topValues) || topValues < 1) throw new RangeError(`topValues ${topValues} must be a whole number of 1 or more`);
  const customerCount = table.customerCount;
  if (chanceOfOrder90d && chanceOfOrder90d.length !== customerCount) {
    throw new RangeError(`chanceOfOrder90d has ${chanceOfOrder90d.length} values for ${customerCount} customers`);
  }
  const { start, day: days, amount: amounts } = groupOrdersByCustomer(table.customers, table.days, table.amounts, customerCount, asOfDay);

  // Per customer, one pass: orders, revenue, revenue within each LTV horizon, first and second order days.
  const H = DRIVER_LTV_DAYS.length;
  const orders = new Int32Array(customerCount);
  const revenue = new Float64Array(customerCount);
  const horizonRevenue = new Float64Array(customerCount * H);
  const firstDay = new Int32Array(customerCount);
  const secondGap = new Int32Array(customerCount).fill(-1);
  let maxGap = 0;
  for (let c = 0; c < customerCount; c++) {
    for (let p = start[c]; p < start[c + 1]; p++) {
      if (orders[c] === 0 && amounts[p] < 0) continue; // a refund before the first order: ignored, as in retention.ts
      const d = days[p];
      if (orders[c] === 0) firstDay[c] = d;
      revenue[c] += amounts[p];
      for (let h = 0; h < H; h++) if (d - firstDay[c] < DRIVER_LTV_DAYS[h]) horizonRevenue[c * H + h] += amounts[p];
      if (amounts[p] < 0) continue;
      orders[c]++;
      if (orders[c] === 2) secondGap[c] = d - firstDay[c];
    }
    if (orders[c] > 0 && asOfDay - firstDay[c] > maxGap) maxGap = asOfDay - firstDay[c];
  }
  let customers = 0;
  for (let c = 0; c < customerCount; c++) if (orders[c] > 0) customers++;

  const tables = dimensions.map((dimension): DriverTable => {
    // Customers per value, then the top values; the rest are "Other".
    const codeOf = new Int32Array(customerCount).fill(-1);
    const codes = new Map<string, number>();
    const values: string[] = [];
    const counts: number[] = [];
    // One code per distinct value, in order of first appearance.
    const codeOfValue = (value: string): number => {
      let code = codes.get(value);
      if (code === undefined) {
        code = values.length;
        codes.set(value, code);
        values.push(value);
        counts.push(0);
      }
      return code;
    };
    // Codes as first seen among the customers with an order, as valueOf would number them.
    const given = "codes" in dimension ? dimension.codes : null;
    const named = "codes" in dimension ? null : dimension;
    const localOfGiven = given ? new Int32Array(given.values.length).fill(-1) : null;
    for (let c = 0; c < customerCount; c++) {
      if (orders[c] === 0) continue;
      let code: number | undefined;
      if (given && localOfGiven) {
        const g = given.ofCustomer[c];
        if (g === undefined || g < 0 || !given.values[g]) continue;
        code = localOfGiven[g];
        if (code < 0) {
          // Once per distinct code: two codes of one value are one value.
          code = codeOfValue(given.values[g]);
          localOfGiven[g] = code;
        }
      } else {
        const value = named!.valueOf(c);
        if (!value) continue;
        code = codeOfValue(value);
      }
      counts[code]++;
      codeOf[c] = code;
    }
    const monthly = dimension.key === "firstOrderMonth";
    const ranked = values.map((_, code) => code);
    // Months keep the calendar's order, all twelve; other values go by customers, then by value.
    if (monthly) ranked.sort((a, b) => MONTH_NAMES.indexOf(values[a]) - MONTH_NAMES.indexOf(values[b]));
    else ranked.sort((a, b) => counts[b] - counts[a] || (values[a] < values[b] ? -1 : values[a] > values[b] ? 1 : 0));
    const listed = monthly ? ranked : ranked.slice(0, topValues);
    // Group of each code: its place among the listed values, else "Other"; then "none".
    const groupOfCode = new Int32Array(values.length).fill(listed.length);
    listed.forEach((code, g) => (groupOfCode[code] = g));
    const hasOther = ranked.length > listed.length;
    const otherGroup = listed.length;
    const noneGroup = listed.length + 1;
    const G = listed.length + 2;
    const acc = {
      customers: new Float64Array(G),
      repeaters: new Float64Array(G),
      orders: new Float64Array(G),
      revenue: new Float64Array(G),
      horizonSum: new Float64Array(G * H),
      horizonCount: new Float64Array(G * H),
      horizonRepeaters: new Float64Array(G * H),
      chanceSum: new Float64Array(G),
      chanceCount: new Float64Array(G),
      secondGaps: Array.from({ length: G }, () => [] as number[]),
    };
    for (let c = 0; c < customerCount; c++) {
      if (orders[c] === 0) continue;
      const g = codeOf[c] < 0 ? noneGroup : groupOfCode[codeOf[c]];
      acc.customers[g]++;
      if (orders[c] >= 2) acc.repeaters[g]++;
      acc.orders[g] += orders[c];
      acc.revenue[g] += revenue[c];
      for (let h = 0; h < H; h++) {
        // Only customers who have had the whole horizon (their first-order day is day 1).
        if (firstDay[c] + DRIVER_LTV_DAYS[h] - 1 <= asOfDay) {
          acc.horizonSum[g * H + h] += horizonRevenue[c * H + h];
          acc.horizonCount[g * H + h]++;
          if (secondGap[c] >= 0 && secondGap[c] < DRIVER_REPEAT_DAYS[h]) acc.horizonRepeaters[g * H + h]++;
        }
      }
      const chance = chanceOfOrder90d ? chanceOfOrder90d[c] : Number.NaN;
      if (!Number.isNaN(chance)) {
        acc.chanceSum[g] += chance;
        acc.chanceCount[g]++;
      }
      if (secondGap[c] >= 0) acc.secondGaps[g].push(secondGap[c]);
    }
    const row = (g: number, label: string, filterValue: string | null, kind: DriverRow["kind"]): DriverRow => {
      const n = acc.customers[g];
      const interval = wilsonInterval(acc.repeaters[g], n);
      const gaps = Float64Array.from(acc.secondGaps[g]).sort();
      return {
        label,
        filterValue,
        kind,
        customers: n,
        share: round(ratio(n, customers), 4) ?? 0,
        small: n < smallGroupSize,
        repeatCustomers: acc.repeaters[g],
        repeatRate: round(ratio(acc.repeaters[g], n), 4),
        repeatRateLow: interval ? round(interval.low, 4) : null,
        repeatRateHigh: interval ? round(interval.high, 4) : null,
        repeatWithin: DRIVER_REPEAT_DAYS.map((d, h) => {
          const eligible = acc.horizonCount[g * H + h];
          const repeaters = acc.horizonRepeaters[g * H + h];
          const within = wilsonInterval(repeaters, eligible);
          return {
            days: d,
            rate: round(ratio(repeaters, eligible), 4),
            low: within ? round(within.low, 4) : null,
            high: within ? round(within.high, 4) : null,
            repeaters,
            customers: eligible,
            small: eligible < smallGroupSize,
          };
        }),
        ltv: DRIVER_LTV_DAYS.map((d, h) => ({
          days: d,
          value: round(ratio(acc.horizonSum[g * H + h], acc.horizonCount[g * H + h]), 2),
          customers: acc.horizonCount[g * H + h],
          small: acc.horizonCount[g * H + h] < smallGroupSize,
        })),
        aov: round(ratio(acc.revenue[g], acc.orders[g]), 2),
        orders: acc.orders[g],
        medianDaysToSecondOrder: round(quantileSorted(gaps, 0.5), 1),
        secondOrders: gaps.length,
        chanceOfOrder90d: round(ratio(acc.chanceSum[g], acc.chanceCount[g]), 4),
        predictedCustomers: acc.chanceCount[g],
      };
    };
    const rows = listed.map((code, g) => row(g, values[code], values[code], "value"));
    if (hasOther) rows.push(row(otherGroup, OTHER, null, "other"));
    if (acc.customers[noneGroup] > 0) rows.push(row(noneGroup, dimension.noneLabel, "", "none"));
    return { key: dimension.key, label: dimension.label, distinctValues: values.length, rows };
  });

  return { asOfIso: dayToIso(asOfDay), smallGroupSize, customers, tables, reorder: reorderTiming(start, days, amounts, customerCount, asOfDay, maxGap) };
}

const STEP_NAMES = ["1st to 2nd order", "2nd to 3rd order", "3rd to 4th order and later"];

/** Days between consecutive orders per step, and the share reordering within 30/60/90 days. */
function reorderTiming(
  start: Int32Array,
  days: Int32Array,
  amounts: Float64Array,
  customerCount: number,
  asOfDay: number,
  maxGap: number,
): ReorderTiming {
  const S = STEP_NAMES.length;
  const W = REORDER_WITHIN_DAYS.length;
  const span = maxGap + 1;
  const gapCounts = new Int32Array(S * span);
  const followed = new Float64Array(S * W);
  const observable = new Float64Array(S * W);
  const orderDays: number[] = [];
  for (let c = 0; c < customerCount; c++) {
    orderDays.length = 0;
    for (let p = start[c]; p < start[c + 1]; p++) if (amounts[p] >= 0) orderDays.push(days[p]);
    for (let i = 0; i < orderDays.length; i++) {
      const s = Math.min(i, S - 1);
      const next = i + 1 < orderDays.length ? orderDays[i + 1] - orderDays[i] : -1;
      if (next >= 0) gapCounts[s * span + next]++;
      for (let w = 0; w < W; w++) {
        const within = REORDER_WITHIN_DAYS[w];
        if (asOfDay - orderDays[i] < within) continue; // not yet had that long
        observable[s * W + w]++;
        if (next >= 0 && next <= within) followed[s * W + w]++;
      }
    }
  }
  const edges = DEFAULT_GAP_BUCKET_EDGES;
  const buckets = edges.map((from, i) => {
    const to = i + 1 < edges.length ? edges[i + 1] - 1 : null;
    const label = to === null ? `${from}+ days` : from === to ? (from === 0 ? "same day" : `${from} day${from === 1 ? "" : "s"}`) : `${from}-${to} days`;
    return { label, fromDays: from, toDays: to };
  });
  const steps = STEP_NAMES.map((step, s): ReorderStep => {
    const counts = gapCounts.subarray(s * span, (s + 1) * span);
    let gaps = 0;
    for (let i = 0; i < counts.length; i++) gaps += counts[i];
    return {
      step,
      fromOrder: s + 1,
      gaps,
      median: round(quantileOfCounts(counts, 0.5), 1),
      p25: round(quantileOfCounts(counts, 0.25), 1),
      p75: round(quantileOfCounts(counts, 0.75), 1),
      histogram: histogramOfCounts(counts, edges),
      within: REORDER_WITHIN_DAYS.map((d, w) => ({ days: d, share: round(ratio(followed[s * W + w], observable[s * W + w]), 4), orders: observable[s * W + w] })),
    };
  });
  return { buckets, steps };
}
