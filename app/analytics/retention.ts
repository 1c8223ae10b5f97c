// Kept whole (over 450 lines on purpose): the report is one kernel of passes over the same
// column copies, and splitting it would pass those copies between modules for no reader's gain.
//
// Retention report of a shop: repeat purchase rate, orders per customer, AOV, days between
// orders (overall and per step), monthly cohorts, LTV curves, splits by how customers were
// acquired, payback and LTV:CAC. docs/analytics/retention.md defines every number in plain
// words; the definitions below are the same.
//
// Input rows are orders: `net` is the order's current total after refunds and edits. A
// cancelled order still counts as an order, at its current total (normally 0): it was
// placed (docs/analytics/retention.md). A row with a NEGATIVE amount is a refund recorded on its own (the CLI's
// transaction files): it lowers revenue in the month it happened but is not an order.
// Rows after asOfDay are ignored.
//
// Speed: the day and amount columns are first copied into customer order by one counting
// sort (a sequential read and one scattered write per row), then each customer's run is
// put in day order (runs are short, and already in order when the input is in date order,
// as exports are). The report is then one sequential pass over those copies, allocating
// nothing per row; per customer it reads the acquisition dimensions of the first order
// only. Input in any order is fine: no pre-sorting is required. Order objects cost more
// than the table (one customer-id lookup each); see OrderTableBuilder for the fast shape.
import { dayToIso, monthToIso } from "./dates";
import { lastCompleteMonth, ltvToCac, monthsOfDays, paybackMonth, pooledLtvByMonth } from "./cohorts";
import { histogramOfCounts, meanOfCounts, quantileOfCounts, roundTo as round } from "./stats";
import { type CustomerGroups, TransactionTable } from "./summary";

export interface OrderFact {
  customerId: string;
  /** Day index of the order in the shop's time zone (dates.ts). */
  day: number;
  /** Net value of the order in the caller's money unit (current total after refunds and edits). */
  net: number;
  channel?: string | null;
  discountCodes?: string[];
  firstProduct?: string | null;
  /** The order's own gross profit, same unit as `net` (issue 17); given for every order, the report carries profit LTV curves. */
  profit?: number;
}

/** An acquisition dimension: the value of a row (used for each customer's first order). */
export interface OrderDimension {
  key: string;
  label: string;
  /** The dimension's value for a table row; null or "" for none. */
  valueAt(row: number): string | null | undefined;
}

export interface RetentionOptions {
  /** Last day counted (inclusive). */
  asOfDay: number;
  /** Customer acquisition cost, same money unit as `net`. Enables payback and LTV:CAC. */
  cac?: number | null;
  /** Share of net revenue kept as gross profit for payback and LTV:CAC (default 1). */
  grossMargin?: number;
  /** Cohorts and groups with fewer customers are flagged `small` (default 30). */
  smallCohortSize?: number;
  /** LTV horizons in days since each customer's first order (default 30, 60, 90, 180, 365). */
  horizonsDays?: readonly number[];
  /** Months after the first month shown in cohort tables and monthly LTV (default 24). */
  maxMonths?: number;
  /** Most recent cohorts listed (default 36); older cohorts still count in every pooled number. */
  maxCohorts?: number;
  /** Values listed per acquisition dimension before the rest are grouped as "Other" (default 10). */
  topDimensionValues?: number;
  /** Lower edges, in days, of the days-between-orders histogram buckets. */
  gapBucketEdges?: readonly number[];
  /**
   * Each table row's own gross profit (issue 17), same unit as the amounts. With it, cohort
   * and pooled LTV curves also come as profit, and payback and LTV:CAC use them instead of
   * grossMargin x revenue.
   */
  profits?: ArrayLike<number>;
}

export const DEFAULT_GAP_BUCKET_EDGES: readonly number[] = [0, 1, 8, 15, 31, 61, 91, 181, 366, 731];

export const DEFAULT_RETENTION_OPTIONS = {
  grossMargin: 1,
  smallCohortSize: 30,
  horizonsDays: [30, 60, 90, 180, 365] as readonly number[],
  maxMonths: 24,
  maxCohorts: 36,
  topDimensionValues: 10,
  gapBucketEdges: DEFAULT_GAP_BUCKET_EDGES,
};

/** Steps 1..5 (1st to 2nd ... 5th to 6th) are separate; later steps are grouped. */
export const SEPARATE_STEPS = 5;

export interface GapStats {
  /** Gaps counted. */
  count: number;
  median: number | null;
  p25: number | null;
  p75: number | null;
  p90: number | null;
  mean: number | null;
  /** Counts per bucket of `daysBetweenOrders.buckets`. */
  histogram: number[];
}

export interface HorizonValue {
  days: number;
  /** Cumulative net revenue per customer within `days` of the first order; null if no customer is that old yet. */
  value: number | null;
  /** Customers averaged over (those whose first order is at least `days` days before as-of, counting its day). */
  customers: number;
  /** grossMargin x value / CAC; null without a CAC. */
  ltvToCac: number | null;
}

export interface LtvCurve {
  atDays: HorizonValue[];
  /** Cumulative net revenue per customer by the end of month k (k = 0 is the month of the first order); null when not yet observable. */
  byMonth: (number | null)[];
  /** Customers behind each byMonth value. */
  byMonthCustomers: number[];
  /** First month k whose cumulative gross profit per customer covers CAC; null if not reached (or no CAC). */
  paybackMonth: number | null;
  /** With per-order profits (RetentionOptions.profits): cumulative gross profit per customer at each horizon of atDays. */
  profitAtDays?: (number | null)[];
  /** With per-order profits: cumulative gross profit per customer by the end of month k, like byMonth. */
  profitByMonth?: (number | null)[];
}

export interface CohortRow {
  /** "YYYY-MM" of the first orders. */
  month: string;
  size: number;
  /** Fewer customers than smallCohortSize: read its percentages with care. */
  small: boolean;
  orders: number;
  repeatPurchaseRate: number | null;
  /** Share of the cohort that ordered in month k (k = 0 is the cohort month); null = month not ended yet (month 0 is always shown). */
  activeShare: (number | null)[];
  /** Share that ordered again in at least one of months 1..k; null = month not ended yet (month 0, always 0, is always shown). */
  cumulativeReturnShare: (number | null)[];
  /** Cumulative net revenue per cohort customer by the end of month k. */
  ltvByMonth: (number | null)[];
  /** Per horizon; null until every customer of the cohort has had that many days. */
  ltvAtDays: (number | null)[];
  /** With per-order profits (RetentionOptions.profits): ltvByMonth and ltvAtDays as each order's own gross profit. */
  profitLtvByMonth?: (number | null)[];
  profitLtvAtDays?: (number | null)[];
  ltvToCacAtDays: (number | null)[];
  paybackMonth: number | null;
}

export interface DimensionRow {
  value: string;
  kind: "value" | "other" | "none";
  customers: number;
  share: number;
  small: boolean;
  repeatPurchaseRate: number | null;
  ordersPerCustomer: number | null;
  aov: number | null;
  /** Net revenue to date per customer (not censored: older customers have had longer). */
  netRevenuePerCustomer: number | null;
  ltv: LtvCurve;
}

export interface DimensionSplit {
  key: string;
  label: string;
  /** Distinct values seen, before grouping into "Other". */
  distinctValues: number;
  rows: DimensionRow[];
}

export interface RetentionReport {
  asOf: string;
  asOfDay: number;
  assumptions: {
    grossMargin: number;
    cac: number | null;
    smallCohortSize: number;
    horizonsDays: number[];
    maxMonths: number;
    /** "YYYY-MM" of the last month that had ended by as-of, or null. */
    lastCompleteMonth: string;
  };
  totals: {
    customers: number;
    orders: number;
    netRevenue: number;
    repeatCustomers: number;
    repeatPurchaseRate: number | null;
    ordersPerCustomer: number | null;
    aov: number | null;
    /** Rows after as-of, ignored. */
    rowsAfterAsOf: number;
    /** Refund rows dated before the customer's first order, ignored. */
    refundsBeforeFirstOrder: number;
    /** With per-order profits: gross profit of every counted order (the netRevenue counterpart). */
    grossProfit?: number;
  };
  daysBetweenOrders: {
    buckets: { label: string; fromDays: number; toDays: number | null }[];
    overall: GapStats;
    bySteps: (GapStats & { step: string; fromOrder: number; toOrder: number | null })[];
  };
  cohorts: {
    rows: CohortRow[];
    /** Earlier cohorts not listed (still in the pooled numbers). */
    olderCohortsNotListed: number;
  };
  /** All customers pooled. */
  ltv: LtvCurve;
  byDimension: DimensionSplit[];
}

const OTHER = "Other";
const NONE = "(none)";

const money = (value: number | null) => round(value, 2);
const share = (value: number | null) => round(value, 4);
const ratio = (numerator: number, denominator: number) => (denominator > 0 ? numerator / denominator : null);

function ordinal(n: number): string {
  const suffix = n % 10 === 1 && n % 100 !== 11 ? "st" : n % 10 === 2 && n % 100 !== 12 ? "nd" : n % 10 === 3 && n % 100 !== 13 ? "rd" : "th";
  return `${n}${suffix}`;
}

function resolveOptions(opts: RetentionOptions) {
  if (!Number.isInteger(opts.asOfDay)) throw new RangeError(`asOfDay ${opts.asOfDay} is not a day index`);
  const d = DEFAULT_RETENTION_OPTIONS;
  const o = {
    asOfDay: opts.asOfDay,
    cac: opts.cac ?? null,
    grossMargin: opts.grossMargin ?? d.grossMargin,
    smallCohortSize: opts.smallCohortSize ?? d.smallCohortSize,
    horizonsDays: [...(opts.horizonsDays ?? d.horizonsDays)],
    maxMonths: opts.maxMonths ?? d.maxMonths,
    maxCohorts: opts.maxCohorts ?? d.maxCohorts,
    topDimensionValues: opts.topDimensionValues ?? d.topDimensionValues,
    gapBucketEdges: [...(opts.gapBucketEdges ?? d.gapBucketEdges)],
  };
  if (o.cac !== null && !(o.cac >= 0 && Number.isFinite(o.cac))) throw new RangeError(`cac ${o.cac} must be a number of 0 or more`);
  if (!(o.grossMargin > 0 && o.grossMargin <= 1)) throw new RangeError(`grossMargin ${o.grossMargin} must be above 0 and at most 1`);
  for (const [name, value] of [
    ["smallCohortSize", o.smallCohortSize],
    ["maxMonths", o.maxMonths],
    ["maxCohorts", o.maxCohorts],
    ["topDimensionValues", o.topDimensionValues],
  ] as const) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} ${value} must be a whole number of 0 or more`);
  }
  o.horizonsDays.forEach((h, i) => {
    if (!Number.isInteger(h) || h < 1 || (i > 0 && h <= o.horizonsDays[i - 1])) {
      throw new RangeError("horizonsDays must be whole numbers of days, increasing, from 1");
    }
  });
  o.gapBucketEdges.forEach((edge, i) => {
    if (!Number.isInteger(edge) || edge < 0 || (i > 0 && edge <= o.gapBucketEdges[i - 1])) {
      throw new RangeError("gapBucketEdges must be whole numbers of days, increasing, from 0");
    }
  });
  if (o.gapBucketEdges.length === 0 || o.gapBucketEdges[0] !== 0) throw new RangeError("gapBucketEdges must start at 0");
  return o;
}

/**
 * Builds the columnar table and the three acquisition dimensions one order at a time, so a
 * caller can stream orders (a database cursor) without keeping an object per order: only
 * each customer's first order's channel, product and code are kept.
 *
 * Speed: with orders in date order, every customer id lookup is a cache miss, and those
 * dominate on large shops. Stream orders grouped by customer (ORDER BY customer, then
 * anything) and the lookup happens once per customer (figures: docs/analytics/retention.md,
 * bench/retention.bench.ts).
 */
export class OrderTableBuilder {
  readonly table: TransactionTable;
  // Consecutive orders of one customer skip the id lookup, so orders streamed grouped by
  // customer cost one lookup per customer instead of one per order.
  private previousId = "";
  private previousIndex = -1;
  private readonly firstRow: number[] = [];
  private readonly firstDay: number[] = [];
  private readonly channel: (string | null)[] = [];
  private readonly product: (string | null)[] = [];
  private readonly code: (string | null)[] = [];
  // Each row's own gross profit, while every row so far has one (issue 17); a typed column
  // grown by doubling, as the table's own, so ten million orders cost 80 MB, not boxed numbers.
  private profits = new Float64Array(1024);
  private profitRows = 0;

  constructor(expectedRows?: number) {
    this.table = new TransactionTable(expectedRows);
  }

  add(order: OrderFact): void {
    const row = this.table.length;
    if (typeof order.customerId !== "string" || order.customerId === "") {
      throw new RangeError(`orders[${row}].customerId must be a non-empty string`);
    }
    if (!Number.isInteger(order.day) || Math.abs(order.day) > 1e7) {
      throw new RangeError(`orders[${row}].day must be a day index (got ${String(order.day)})`);
    }
    if (typeof order.net !== "number" || !Number.isFinite(order.net)) {
      throw new RangeError(`orders[${row}].net is not a finite number (got ${String(order.net)})`);
    }
    let customer = this.previousIndex;
    if (order.customerId !== this.previousId) {
      const before = this.table.index.size;
      customer = this.table.index.intern(order.customerId);
      if (customer === before) {
        this.firstRow.push(-1);
        this.firstDay.push(0);
        this.channel.push(null);
        this.product.push(null);
        this.code.push(null);
      }
      this.previousId = order.customerId;
      this.previousIndex = customer;
    }
    if (order.profit !== undefined && (typeof order.profit !== "number" || !Number.isFinite(order.profit))) {
      throw new RangeError(`orders[${row}].profit is not a finite number (got ${String(order.profit)})`);
    }
    this.table.addForCustomer(customer, order.day, order.net);
    if (order.profit !== undefined && this.profitRows === row) {
      if (row === this.profits.length) {
        const grown = new Float64Array(this.profits.length * 2);
        grown.set(this.profits);
        this.profits = grown;
      }
      this.profits[row] = order.profit;
      this.profitRows++;
    }
    // The first order: earliest day, the earlier row on a tie; refunds (net < 0) are not orders.
    if (order.net >= 0 && (this.firstRow[customer] < 0 || order.day < this.firstDay[customer])) {
      this.firstRow[customer] = row;
      this.firstDay[customer] = order.day;
      this.channel[customer] = order.channel || null;
      this.product[customer] = order.firstProduct || null;
      this.code[customer] = order.discountCodes?.find((code) => code !== "") ?? null;
    }
  }

  /** profits: each row's own gross profit when every order came with one (RetentionOptions.profits). */
  build(): { table: TransactionTable; dimensions: OrderDimension[]; profits?: Float64Array } {
    const customers = this.table.customers;
    const valueAt = (values: (string | null)[]) => (row: number) => {
      const customer = customers[row];
      if (this.firstRow[customer] !== row) throw new RangeError(`row ${row} is not a customer's first order`);
      return values[customer];
    };
    return {
      table: this.table,
      dimensions: [
        { key: "channel", label: "Channel of the first order", valueAt: valueAt(this.channel) },
        { key: "firstProduct", label: "Product of the first order", valueAt: valueAt(this.product) },
        { key: "discountCode", label: "Discount code of the first order", valueAt: valueAt(this.code) },
      ],
      ...(this.table.length > 0 && this.profitRows === this.table.length ? { profits: this.profits.subarray(0, this.profitRows) } : {}),
    };
  }
}

/** The table and acquisition dimensions of an array of orders. */
export function orderTableFrom(orders: Iterable<OrderFact>, expectedRows?: number): ReturnType<OrderTableBuilder["build"]> {
  const builder = new OrderTableBuilder(expectedRows ?? (Array.isArray(orders) ? orders.length : undefined));
  for (const order of orders) builder.add(order);
  return builder.build();
}

/**
 * Retention report from orders (see the file comment for what counts). Any iterable works,
 * e.g. a generator over a database cursor. For millions of orders, pass them grouped by
 * customer (OrderTableBuilder explains why).
 */
export function retentionSummary(orders: Iterable<OrderFact>, opts: RetentionOptions): RetentionReport {
  const { table, dimensions, profits } = orderTableFrom(orders);
  return retentionSummaryFromTable(table, { ...opts, dimensions, ...(profits ? { profits } : {}) });
}

/** Per-group accumulators for the acquisition splits. */
interface GroupAccumulator {
  labels: string[];
  kinds: DimensionRow["kind"][];
  /** Group of each customer (-1: no orders). */
  groupOf: Int32Array;
  customers: Float64Array;
  orders: Float64Array;
  revenue: Float64Array;
  repeaters: Float64Array;
  horizonSum: Float64Array; // [g * H + h]
  horizonCount: Float64Array;
  cohortSize: Float64Array; // [g * C + c]
  cohortRevenue: Float64Array; // [(g * C + c) * M + k]
  distinctValues: number;
}

function buildGroups(
  dimension: OrderDimension,
  firstOrderRow: Int32Array,
  topValues: number,
  cohorts: number,
  months: number,
  horizons: number,
): GroupAccumulator {
  const valueOf = new Array<string | null>(firstOrderRow.length).fill(null);
  const counts = new Map<string, number>();
  let noneCount = 0;
  for (let c = 0; c < firstOrderRow.length; c++) {
    if (firstOrderRow[c] < 0) continue;
    const raw = dimension.valueAt(firstOrderRow[c]);
    const value = raw === undefined || raw === null || raw === "" ? null : String(raw);
    valueOf[c] = value;
    if (value === null) noneCount++;
    else counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  // Most customers first; equal counts by value so the report does not depend on row order.
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const listed = ranked.slice(0, topValues);
  const labels = listed.map(([value]) => value);
  const kinds: DimensionRow["kind"][] = labels.map(() => "value");
  const indexOf = new Map(labels.map((value, g) => [value, g]));
  const otherGroup = ranked.length > listed.length ? labels.push(OTHER) - 1 : -1;
  if (otherGroup >= 0) kinds.push("other");
  const noneGroup = noneCount > 0 ? labels.push(NONE) - 1 : -1;
  if (noneGroup >= 0) kinds.push("none");

  const groupOf = new Int32Array(firstOrderRow.length).fill(-1);
  for (let c = 0; c < firstOrderRow.length; c++) {
    if (firstOrderRow[c] < 0) continue;
    const value = valueOf[c];
    groupOf[c] = value === null ? noneGroup : (indexOf.get(value) ?? otherGroup);
  }
  const g = labels.length;
  return {
    labels,
    kinds,
    groupOf,
    customers: new Float64Array(g),
    orders: new Float64Array(g),
    revenue: new Float64Array(g),
    repeaters: new Float64Array(g),
    horizonSum: new Float64Array(g * horizons),
    horizonCount: new Float64Array(g * horizons),
    cohortSize: new Float64Array(g * cohorts),
    cohortRevenue: new Float64Array(g * cohorts * months),
    distinctValues: counts.size,
  };
}

/** Orders grouped by customer: rows start[c] .. start[c + 1] - 1 of day/amount are customer c's, by day. */
export interface GroupedOrders {
  start: Int32Array;
  day: Int32Array;
  amount: Float64Array;
  /** Rows dropped because they fall after lastDay. */
  rowsAfterAsOf: number;
}

/** Runs longer than this are sorted with a key sort instead of insertion sort. */
const INSERTION_SORT_MAX = 32;
/** Positions within one customer's run encoded in a sort key (see sortRunByDay). */
const POSITION_RANGE = 2 ** 28;

/**
 * Copies the rows with day <= lastDay into customer order (a stable counting sort), then
 * sorts each customer's run by day; rows on the same day keep their input order.
 */
export function groupOrdersByCustomer(
  customers: Int32Array,
  days: Int32Array,
  amounts: Float64Array,
  customerCount: number,
  lastDay: number,
): GroupedOrders {
  const n = customers.length;
  const start = new Int32Array(customerCount + 1);
  let kept = 0;
  for (let row = 0; row < n; row++) {
    if (days[row] > lastDay) continue;
    start[customers[row] + 1]++;
    kept++;
  }
  for (let c = 0; c < customerCount; c++) start[c + 1] += start[c];
  const cursor = start.slice(0, customerCount);
  const day = new Int32Array(kept);
  const amount = new Float64Array(kept);
  for (let row = 0; row < n; row++) {
    const d = days[row];
    if (d > lastDay) continue;
    const at = cursor[customers[row]]++;
    day[at] = d;
    amount[at] = amounts[row];
  }
  for (let c = 0; c < customerCount; c++) sortRunByDay(day, amount, start[c], start[c + 1]);
  return { start, day, amount, rowsAfterAsOf: n - kept };
}

/**
 * groupOrdersByCustomer's result from groupByCustomer's grouping of the same table at the
 * same last day: both keep the rows with day <= lastDay, by customer, by day, same-day rows
 * in table order, so gathering the rows in `groups.order` gives the same arrays without
 * sorting the table a second time.
 */
export function groupedOrdersFromGroups(table: TransactionTable, groups: CustomerGroups): GroupedOrders {
  const { order, start } = groups;
  const days = table.days;
  const amounts = table.amounts;
  const kept = order.length;
  const day = new Int32Array(kept);
  const amount = new Float64Array(kept);
  for (let i = 0; i < kept; i++) {
    const row = order[i];
    day[i] = days[row];
    amount[i] = amounts[row];
  }
  return { start, day, amount, rowsAfterAsOf: table.length - kept };
}

/** Stable sort of day[from..to) by day, moving amount along. */
function sortRunByDay(day: Int32Array, amount: Float64Array, from: number, to: number): void {
  let sorted = true;
  for (let i = from + 1; i < to; i++) {
    if (day[i] < day[i - 1]) {
      sorted = false;
      break;
    }
  }
  if (sorted) return;
  if (to - from <= INSERTION_SORT_MAX) {
    for (let i = from + 1; i < to; i++) {
      const d = day[i];
      const a = amount[i];
      let j = i - 1;
      while (j >= from && day[j] > d) {
        day[j + 1] = day[j];
        amount[j + 1] = amount[j];
        j--;
      }
      day[j + 1] = d;
      amount[j + 1] = a;
    }
    return;
  }
  // Long runs: sort numeric keys (day offset, then position) with the native typed-array
  // sort. Offsets < 2^25 (days are within +-1e7) times 2^28 positions stay below 2^53.
  const length = to - from;
  if (length > POSITION_RANGE) throw new RangeError(`one customer has ${length} orders; at most ${POSITION_RANGE} are supported`);
  let minDay = day[from];
  for (let i = from + 1; i < to; i++) if (day[i] < minDay) minDay = day[i];
  const keys = new Float64Array(length);
  for (let i = 0; i < length; i++) keys[i] = (day[from + i] - minDay) * POSITION_RANGE + i;
  keys.sort();
  const runDays = day.slice(from, to);
  const runAmounts = amount.slice(from, to);
  for (let i = 0; i < length; i++) {
    const position = keys[i] % POSITION_RANGE;
    day[from + i] = runDays[position];
    amount[from + i] = runAmounts[position];
  }
}


/** Table row of each customer's first order on or before lastDay (-1: none); same-day ties: the earlier row. */
function firstOrderRows(table: TransactionTable, lastDay: number): Int32Array {
  const customers = table.customers;
  const days = table.days;
  const amounts = table.amounts;
  const firstRow = new Int32Array(table.customerCount).fill(-1);
  const firstDay = new Int32Array(table.customerCount);
  for (let row = 0; row < customers.length; row++) {
    const d = days[row];
    if (d > lastDay || amounts[row] < 0) continue;
    const c = customers[row];
    if (firstRow[c] < 0 || d < firstDay[c]) {
      firstRow[c] = row;
      firstDay[c] = d;
    }
  }
  return firstRow;
}

function gapStats(counts: Int32Array, edges: readonly number[]): GapStats {
  let count = 0;
  for (let i = 0; i < counts.length; i++) count += counts[i];
  return {
    count,
    median: round(quantileOfCounts(counts, 0.5), 1),
    p25: round(quantileOfCounts(counts, 0.25), 1),
    p75: round(quantileOfCounts(counts, 0.75), 1),
    p90: round(quantileOfCounts(counts, 0.9), 1),
    mean: round(meanOfCounts(counts), 1),
    histogram: histogramOfCounts(counts, edges),
  };
}

/**
 * Retention report from a columnar table (rows = orders, amount = net value) and optional
 * acquisition dimensions read by row. The CLI passes the table it already built.
 */
export function retentionSummaryFromTable(
  table: TransactionTable,
  opts: RetentionOptions & {
    dimensions?: readonly OrderDimension[];
    /** groupByCustomer(table, opts.asOfDay), when the caller has it, or its rows gathered (groupedOrdersFromGroups): the rows are not sorted again. */
    groups?: CustomerGroups | GroupedOrders;
  },
): RetentionReport {
  const o = resolveOptions(opts);
  const asOfDay = o.asOfDay;
  const horizons = Int32Array.from(o.horizonsDays);
  const H = horizons.length;
  const M = o.maxMonths + 1; // month columns k = 0..maxMonths
  const lastComplete = lastCompleteMonth(asOfDay);

  const customerCount = table.customerCount;
  const grouped = opts.groups ? ("order" in opts.groups ? groupedOrdersFromGroups(table, opts.groups) : opts.groups) : groupOrdersByCustomer(table.customers, table.days, table.amounts, customerCount, asOfDay);
  const { start, day: days, amount: amounts, rowsAfterAsOf } = grouped;

  // Position of each customer's first order (first row with amount >= 0), and the first day.
  const firstPosition = new Int32Array(customerCount).fill(-1);
  let refundsBeforeFirstOrder = 0;
  let minDay = Number.POSITIVE_INFINITY;
  for (let c = 0; c < customerCount; c++) {
    for (let p = start[c]; p < start[c + 1]; p++) {
      if (amounts[p] >= 0) {
        firstPosition[c] = p;
        if (days[p] < minDay) minDay = days[p];
        break;
      }
      refundsBeforeFirstOrder++;
    }
  }
  const hasOrders = Number.isFinite(minDay);
  const firstDayOfData = hasOrders ? minDay : asOfDay;
  const monthOf = monthsOfDays(firstDayOfData, asOfDay);
  const firstMonth = monthOf[0];
  const C = hasOrders ? monthOf[monthOf.length - 1] - firstMonth + 1 : 0; // cohorts: first month .. as-of month
  const span = asOfDay - firstDayOfData + 1; // possible gaps 0..span-1

  // Cohort accumulators, [c * M + k] or [c * H + h].
  const cohortSize = new Float64Array(C);
  const cohortOrders = new Float64Array(C);
  const cohortRepeaters = new Float64Array(C);
  const cohortLastFirstDay = new Float64Array(C).fill(Number.NEGATIVE_INFINITY);
  const cohortActive = new Float64Array(C * M);
  const cohortFirstReturn = new Float64Array(C * M);
  const cohortRevenue = new Float64Array(C * M);
  const cohortHorizonRevenue = new Float64Array(C * H);
  const pooledHorizonSum = new Float64Array(H);
  const pooledHorizonCount = new Float64Array(H);
  const stepGaps = new Int32Array((SEPARATE_STEPS + 1) * span); // [stepIndex * span + gap]
  const allGaps = new Int32Array(span);

  const dimensions = opts.dimensions ?? [];
  const firstOrderRow = dimensions.length > 0 ? firstOrderRows(table, asOfDay) : new Int32Array(0);
  const groups = dimensions.map((dimension) => buildGroups(dimension, firstOrderRow, o.topDimensionValues, C, M, H));
  const G = groups.length;
  const groupIndex = new Int32Array(G);
  const horizonRevenue = new Float64Array(H);

  let customers = 0;
  let totalOrders = 0;
  let totalRevenue = 0;
  let repeatCustomers = 0;

  for (let c = 0; c < customerCount; c++) {
    const first = firstPosition[c];
    if (first < 0) continue;
    const firstDay = days[first];
    const cohortMonth = monthOf[firstDay - firstDayOfData];
    const cohort = cohortMonth - firstMonth;
    const cohortBase = cohort * M;
    for (let d = 0; d < G; d++) groupIndex[d] = groups[d].groupOf[c];
    horizonRevenue.fill(0);

    let orders = 0;
    let revenue = 0;
    let previousOrderDay = 0;
    let lastActiveMonth = -1;
    let returned = false;
    // From the first order: refunds before it were counted above and are ignored.
    for (let p = first, end = start[c + 1]; p < end; p++) {
      const day = days[p];
      const amount = amounts[p];
      const k = monthOf[day - firstDayOfData] - cohortMonth;
      revenue += amount;
      if (k < M) {
        cohortRevenue[cohortBase + k] += amount;
        for (let d = 0; d < G; d++) {
          const group = groups[d];
          group.cohortRevenue[(groupIndex[d] * C + cohort) * M + k] += amount;
        }
      }
      const sinceFirst = day - firstDay;
      for (let h = H - 1; h >= 0 && sinceFirst < horizons[h]; h--) horizonRevenue[h] += amount;
      if (amount < 0) continue; // a refund: revenue only
      if (orders > 0) {
        const gap = day - previousOrderDay;
        const stepIndex = orders <= SEPARATE_STEPS ? orders - 1 : SEPARATE_STEPS;
        stepGaps[stepIndex * span + gap]++;
        allGaps[gap]++;
      }
      previousOrderDay = day;
      orders++;
      if (k !== lastActiveMonth) {
        lastActiveMonth = k;
        if (k < M) cohortActive[cohortBase + k]++;
        if (k >= 1 && !returned) {
          returned = true;
          if (k < M) cohortFirstReturn[cohortBase + k]++;
        }
      }
    }

    customers++;
    totalOrders += orders;
    totalRevenue += revenue;
    const repeater = orders >= 2 ? 1 : 0;
    repeatCustomers += repeater;
    cohortSize[cohort]++;
    cohortOrders[cohort] += orders;
    cohortRepeaters[cohort] += repeater;
    if (firstDay > cohortLastFirstDay[cohort]) cohortLastFirstDay[cohort] = firstDay;
    for (let h = 0; h < H; h++) {
      cohortHorizonRevenue[cohort * H + h] += horizonRevenue[h];
      // Only customers who have had the whole horizon (their first-order day is day 1).
      if (firstDay + horizons[h] - 1 <= asOfDay) {
        pooledHorizonSum[h] += horizonRevenue[h];
        pooledHorizonCount[h]++;
      }
    }
    for (let d = 0; d < G; d++) {
      const group = groups[d];
      const g = groupIndex[d];
      group.customers[g]++;
      group.orders[g] += orders;
      group.revenue[g] += revenue;
      group.repeaters[g] += repeater;
      group.cohortSize[g * C + cohort]++;
      for (let h = 0; h < H; h++) {
        if (firstDay + horizons[h] - 1 <= asOfDay) {
          group.horizonSum[g * H + h] += horizonRevenue[h];
          group.horizonCount[g * H + h]++;
        }
      }
    }
  }

  const profit = opts.profits ? profitCells(table, opts.profits, { firstPosition, days, monthOf, firstDayOfData, firstMonth, asOfDay, horizons, C, M }) : null;

  const cohortMonths = Int32Array.from({ length: C }, (_, c) => firstMonth + c);
  const curve = (
    sizes: ArrayLike<number>,
    revenueByMonth: ArrayLike<number>,
    horizonSum: ArrayLike<number>,
    horizonCount: ArrayLike<number>,
    profitByMonth?: ArrayLike<number>,
    profitHorizonSum?: ArrayLike<number>,
  ): LtvCurve => {
    const pooled = pooledLtvByMonth(cohortMonths, sizes, revenueByMonth, M, lastComplete);
    // With each order's own profit, payback and LTV:CAC read the profit curve as it is (margin 1).
    const pooledProfit = profitByMonth ? pooledLtvByMonth(cohortMonths, sizes, profitByMonth, M, lastComplete).ltv : null;
    const profitAt = profitHorizonSum ? o.horizonsDays.map((_, h) => ratio(profitHorizonSum[h], horizonCount[h])) : null;
    const atDays = o.horizonsDays.map((days, h) => {
      const value = ratio(horizonSum[h], horizonCount[h]);
      const cacRatio = profitAt ? ltvToCac(profitAt[h], o.cac, 1) : ltvToCac(value, o.cac, o.grossMargin);
      return { days, value: money(value), customers: horizonCount[h], ltvToCac: share(cacRatio) };
    });
    return {
      atDays,
      byMonth: pooled.ltv.map(money),
      byMonthCustomers: pooled.customers,
      paybackMonth: pooledProfit ? paybackMonth(pooledProfit, o.cac, 1) : paybackMonth(pooled.ltv, o.cac, o.grossMargin),
      ...(profitAt && pooledProfit ? { profitAtDays: profitAt.map(money), profitByMonth: pooledProfit.map(money) } : {}),
    };
  };

  const cohortRows: CohortRow[] = [];
  const firstListed = Math.max(0, C - o.maxCohorts);
  for (let c = firstListed; c < C; c++) {
    const size = cohortSize[c];
    const observed = Math.min(M, lastComplete - (firstMonth + c) + 1); // months k < observed have ended
    const activeShare: (number | null)[] = [];
    const cumulativeReturnShare: (number | null)[] = [];
    const ltvByMonth: (number | null)[] = [];
    const profitLtvByMonth: (number | null)[] = [];
    let returnedSoFar = 0;
    let revenueSoFar = 0;
    let profitSoFar = 0;
    for (let k = 0; k < M; k++) {
      returnedSoFar += cohortFirstReturn[c * M + k];
      revenueSoFar += cohortRevenue[c * M + k];
      if (profit) profitSoFar += profit.cohort[c * M + k];
      const visible = k < observed && size > 0;
      // Month 0's shares are settled as soon as the cohort has a customer, even while the month runs: every
      // customer ordered in it (in-month), and coming back counts from month 1 (cumulative). Its revenue is not.
      const sharesKnown = visible || (k === 0 && size > 0);
      activeShare.push(sharesKnown ? share(cohortActive[c * M + k] / size) : null);
      cumulativeReturnShare.push(sharesKnown ? share(returnedSoFar / size) : null);
      ltvByMonth.push(visible ? revenueSoFar / size : null);
      profitLtvByMonth.push(visible ? profitSoFar / size : null);
    }
    const horizonKnown = (days: number) => size > 0 && cohortLastFirstDay[c] + days - 1 <= asOfDay;
    const ltvAtDays = o.horizonsDays.map((days, h) => (horizonKnown(days) ? cohortHorizonRevenue[c * H + h] / size : null));
    const profitLtvAtDays = profit ? o.horizonsDays.map((days, h) => (horizonKnown(days) ? profit.cohortHorizon[c * H + h] / size : null)) : null;
    cohortRows.push({
      month: monthToIso(firstMonth + c),
      size,
      small: size < o.smallCohortSize,
      orders: cohortOrders[c],
      repeatPurchaseRate: share(ratio(cohortRepeaters[c], size)),
      activeShare,
      cumulativeReturnShare,
      ltvByMonth: ltvByMonth.map(money),
      ltvAtDays: ltvAtDays.map(money),
      ltvToCacAtDays: profitLtvAtDays
        ? profitLtvAtDays.map((ltv) => share(ltvToCac(ltv, o.cac, 1)))
        : ltvAtDays.map((ltv) => share(ltvToCac(ltv, o.cac, o.grossMargin))),
      paybackMonth: profit ? paybackMonth(profitLtvByMonth, o.cac, 1) : paybackMonth(ltvByMonth, o.cac, o.grossMargin),
      ...(profitLtvAtDays ? { profitLtvByMonth: profitLtvByMonth.map(money), profitLtvAtDays: profitLtvAtDays.map(money) } : {}),
    });
  }

  const byDimension: DimensionSplit[] = groups.map((group, d) => {
    const dimension = dimensions[d];
    const rows: DimensionRow[] = group.labels.map((value, g) => {
      const n = group.customers[g];
      return {
        value,
        kind: group.kinds[g],
        customers: n,
        share: share(ratio(n, customers)) ?? 0,
        small: n < o.smallCohortSize,
        repeatPurchaseRate: share(ratio(group.repeaters[g], n)),
        ordersPerCustomer: round(ratio(group.orders[g], n), 3),
        aov: money(ratio(group.revenue[g], group.orders[g])),
        netRevenuePerCustomer: money(ratio(group.revenue[g], n)),
        ltv: curve(
          group.cohortSize.subarray(g * C, (g + 1) * C),
          group.cohortRevenue.subarray(g * C * M, (g + 1) * C * M),
          group.horizonSum.subarray(g * H, (g + 1) * H),
          group.horizonCount.subarray(g * H, (g + 1) * H),
        ),
      };
    });
    return { key: dimension.key, label: dimension.label, distinctValues: group.distinctValues, rows };
  });

  const edges = o.gapBucketEdges;
  const buckets = edges.map((from, i) => {
    const to = i + 1 < edges.length ? edges[i + 1] - 1 : null;
    const label =
      to === null ? `${from}+ days` : from === to ? (from === 0 ? "same day" : `${from} day${from === 1 ? "" : "s"}`) : `${from}-${to} days`;
    return { label, fromDays: from, toDays: to };
  });
  const bySteps = Array.from({ length: SEPARATE_STEPS + 1 }, (_, s) => {
    const counts = stepGaps.subarray(s * span, (s + 1) * span);
    const fromOrder = s + 1;
    const grouped = s === SEPARATE_STEPS;
    return {
      step: grouped
        ? `${ordinal(fromOrder)} to ${ordinal(fromOrder + 1)} order and later`
        : `${ordinal(fromOrder)} to ${ordinal(fromOrder + 1)} order`,
      fromOrder,
      toOrder: grouped ? null : fromOrder + 1,
      ...gapStats(counts, edges),
    };
  });

  return {
    asOf: dayToIso(asOfDay),
    asOfDay,
    assumptions: {
      grossMargin: o.grossMargin,
      cac: o.cac,
      smallCohortSize: o.smallCohortSize,
      horizonsDays: o.horizonsDays,
      maxMonths: o.maxMonths,
      lastCompleteMonth: monthToIso(lastComplete),
    },
    totals: {
      customers,
      orders: totalOrders,
      netRevenue: money(totalRevenue) ?? 0,
      repeatCustomers,
      repeatPurchaseRate: share(ratio(repeatCustomers, customers)),
      ordersPerCustomer: round(ratio(totalOrders, customers), 3),
      aov: money(ratio(totalRevenue, totalOrders)),
      rowsAfterAsOf,
      refundsBeforeFirstOrder,
      ...(profit ? { grossProfit: money(profit.total) ?? 0 } : {}),
    },
    daysBetweenOrders: { buckets, overall: gapStats(allGaps, edges), bySteps },
    cohorts: { rows: cohortRows, olderCohortsNotListed: firstListed },
    ltv: profit
      ? curve(cohortSize, cohortRevenue, pooledHorizonSum, pooledHorizonCount, profit.cohort, profit.pooledHorizon)
      : curve(cohortSize, cohortRevenue, pooledHorizonSum, pooledHorizonCount),
    byDimension,
  };
}

/**
 * Gross profit per cohort cell and horizon from each row's own profit (issue 17): the same
 * cells as the revenue ones (cohort of the customer's first order, month since it, days
 * since it), summed in one pass over the table rows; the order within a customer does not
 * matter for sums. Rows after as-of and refunds dated before the first order are left out,
 * as for revenue.
 */
function profitCells(
  table: TransactionTable,
  profits: ArrayLike<number>,
  at: {
    firstPosition: Int32Array;
    days: Int32Array;
    monthOf: Int32Array;
    firstDayOfData: number;
    firstMonth: number;
    asOfDay: number;
    horizons: Int32Array;
    C: number;
    M: number;
  },
): { cohort: Float64Array; cohortHorizon: Float64Array; pooledHorizon: Float64Array; total: number } {
  if (profits.length !== table.length) throw new RangeError(`profits has ${profits.length} rows; the table has ${table.length}`);
  const { firstPosition, days, monthOf, firstDayOfData, firstMonth, asOfDay, horizons, C, M } = at;
  const H = horizons.length;
  const cohort = new Float64Array(C * M);
  const cohortHorizon = new Float64Array(C * H);
  const pooledHorizon = new Float64Array(H);
  let total = 0;
  const rowCustomers = table.customers;
  const rowDays = table.days;
  for (let row = 0; row < rowCustomers.length; row++) {
    const day = rowDays[row];
    const first = firstPosition[rowCustomers[row]];
    if (day > asOfDay || first < 0) continue;
    const firstDay = days[first];
    if (day < firstDay) continue;
    const value = profits[row];
    if (!Number.isFinite(value)) throw new RangeError(`profits[${row}] is not a finite number (got ${String(value)})`);
    const cohortMonth = monthOf[firstDay - firstDayOfData];
    const c = cohortMonth - firstMonth;
    const k = monthOf[day - firstDayOfData] - cohortMonth;
    total += value;
    if (k < M) cohort[c * M + k] += value;
    const sinceFirst = day - firstDay;
    for (let h = H - 1; h >= 0 && sinceFirst < horizons[h]; h--) {
      cohortHorizon[c * H + h] += value;
      // Pooled horizons count only customers who have had the whole horizon, as for revenue.
      if (firstDay + horizons[h] - 1 <= asOfDay) pooledHorizon[h] += value;
    }
  }
  return { cohort, cohortHorizon, pooledHorizon, total };
}
