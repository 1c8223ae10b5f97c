// Whole-shop scoring for the refit: every customer's facts and prediction kept in columns
// (a million customers as objects would cost gigabytes), the segment tallies behind the
// segments aggregate and the daily counts, the KPI comparison and the backtest window.
// Pure: the refit (app/refit/refit.server.ts) does the I/O.
import { type BehaviouralSegmentKey, BEHAVIOURAL_SEGMENT_KEYS, behaviouralSegmentDefinitions } from "./behaviour";
import { type CustomerPrediction, type ShopModel } from "./clv/shop-model";
import { type CustomerFacts, type CustomerMetricsValues, SHOP_MODEL_UNIT } from "./customer-metrics";
import { type RetentionReport } from "./retention";
import { SEGMENT_DEFINITIONS } from "./segments";
import { TransactionTable } from "./summary";
import { type TimeUnit, unitDays } from "./units";

/** One segment's line on the Segments page (ShopAggregate "segments"). */
export interface SegmentRow {
  kind: SegmentKind;
  /** Segment key (RFM: SEGMENT_DEFINITIONS[..].key; behaviour: BehaviouralSegmentKey). */
  key: string;
  /** Display name (the merchant's label when set in settings). */
  name: string;
  customers: number;
  /** Of customers with an order. */
  share: number;
  netSpentMinor: number;
  /** Of the shop's net revenue. */
  revenueShare: number;
  averageHistoricClvMinor: number | null;
  averagePredictedClvMinor: number | null;
  averagePAlive: number | null;
  /** Customers 7 and 30 days ago (SegmentDailyCount); null when there is no count for that day. */
  customers7dAgo: number | null;
  customers30dAgo: number | null;
}

/**
 * CustomerFacts of every customer in columns. `factsAt(i, asOfDay)` gives back exactly
 * what customerFactsFromOrders gave for the customer's orders (the summary's T is the only
 * part that depends on the as-of day).
 */
export class CustomerFactsColumns {
  readonly ids: string[] = [];
  private readonly orders: number[] = [];
  private readonly netSpent: number[] = [];
  private readonly discountedOrders: number[] = [];
  private readonly firstDay: number[] = [];
  private readonly lastDay: number[] = [];
  /** Distinct purchase days (summary.orders). */
  private readonly purchaseDays: number[] = [];
  /** Value of the purchase days after the first (summary.monetaryValue x frequency). */
  private readonly repeatValue: number[] = [];

  get length(): number {
    return this.ids.length;
  }

  /** Adds one customer's facts; returns their index. */
  add(facts: CustomerFacts): number {
    const s = facts.summary;
    this.ids.push(facts.customerId);
    this.orders.push(facts.orders);
    this.netSpent.push(facts.netSpent);
    this.discountedOrders.push(facts.discountedOrders);
    this.firstDay.push(facts.firstOrderDay ?? 0);
    this.lastDay.push(facts.lastOrderDay ?? 0);
    this.purchaseDays.push(s ? s.orders : 0);
    // monetaryValue = repeatValue / frequency in customerFactsFromOrders; the sum of whole
    // minor units is exact, so dividing again gives the same number.
    this.repeatValue.push(s && s.frequency > 0 ? Math.round(s.monetaryValue * s.frequency) : 0);
    return this.ids.length - 1;
  }

  hasOrders(i: number): boolean {
    return this.orders[i] > 0;
  }

  orderCount(i: number): number {
    return this.orders[i];
  }

  netSpentOf(i: number): number {
    return this.netSpent[i];
  }

  lastOrderDayOf(i: number): number | null {
    return this.orders[i] > 0 ? this.lastDay[i] : null;
  }

  /** Customers from..to-1 as typed arrays (to hand to a scoring thread). */
  slice(from: number, to: number): FactsSlice {
    return {
      ids: this.ids.slice(from, to),
      orders: Int32Array.from(this.orders.slice(from, to)),
      netSpent: Float64Array.from(this.netSpent.slice(from, to)),
      discountedOrders: Int32Array.from(this.discountedOrders.slice(from, to)),
      firstDay: Int32Array.from(this.firstDay.slice(from, to)),
      lastDay: Int32Array.from(this.lastDay.slice(from, to)),
      purchaseDays: Int32Array.from(this.purchaseDays.slice(from, to)),
      repeatValue: Float64Array.from(this.repeatValue.slice(from, to)),
    };
  }

  static fromSlice(slice: FactsSlice): CustomerFactsColumns {
    const columns = new CustomerFactsColumns();
    for (let i = 0; i < slice.ids.length; i++) {
      columns.ids.push(slice.ids[i]); // one by one: spreading a million ids overflows the stack
      columns.orders.push(slice.orders[i]);
      columns.netSpent.push(slice.netSpent[i]);
      columns.discountedOrders.push(slice.discountedOrders[i]);
      columns.firstDay.push(slice.firstDay[i]);
      columns.lastDay.push(slice.lastDay[i]);
      columns.purchaseDays.push(slice.purchaseDays[i]);
      columns.repeatValue.push(slice.repeatValue[i]);
    }
    return columns;
  }

  factsAt(i: number, asOfDay: number, unit: TimeUnit = SHOP_MODEL_UNIT): CustomerFacts {
    const customerId = this.ids[i];
    if (this.orders[i] === 0) {
      return { customerId, orders: 0, netSpent: 0, discountedOrders: 0, firstOrderDay: null, lastOrderDay: null, summary: null };
    }
    const firstDay = this.firstDay[i];
    const lastDay = this.lastDay[i];
    const frequency = this.purchaseDays[i] - 1;
    const length = unitDays[unit];
    return {
      customerId,
      orders: this.orders[i],
      netSpent: this.netSpent[i],
      discountedOrders: this.discountedOrders[i],
      firstOrderDay: firstDay,
      lastOrderDay: lastDay,
      summary: {
        customerId,
        orders: this.purchaseDays[i],
        frequency,
        recency: (lastDay - firstDay) / length,
        T: (asOfDay - firstDay) / length,
        monetaryValue: frequency > 0 ? this.repeatValue[i] / frequency : 0,
        totalSpent: this.netSpent[i],
        firstDay,
        lastDay,
      },
    };
  }
}

/** A run of customers' facts in typed arrays (structured-cloneable). */
export interface FactsSlice {
  ids: string[];
  orders: Int32Array;
  netSpent: Float64Array;
  discountedOrders: Int32Array;
  firstDay: Int32Array;
  lastDay: Int32Array;
  purchaseDays: Int32Array;
  repeatValue: Float64Array;
}

/** PredictionColumns' arrays (transferable between threads). */
export interface PredictionParts {
  flags: Uint8Array;
  pAlive: Float64Array;
  e90: Float64Array;
  e365: Float64Array;
  orderValue: Float64Array;
  clv: Float64Array;
  nextOrderDay: Float64Array;
}

const HAS_PREDICTION = 1;
const HAS_ORDER_VALUE = 2;
const HAS_CLV = 4;
const HAS_NEXT_ORDER = 8;

/** One prediction per customer, in columns (null kept apart from any number). */
export class PredictionColumns {
  private readonly flags: Uint8Array;
  private readonly pAlive: Float64Array;
  private readonly e90: Float64Array;
  private readonly e365: Float64Array;
  private readonly orderValue: Float64Array;
  private readonly clv: Float64Array;
  private readonly nextOrderDay: Float64Array;

  constructor(readonly length: number) {
    this.flags = new Uint8Array(length);
    this.pAlive = new Float64Array(length);
    this.e90 = new Float64Array(length);
    this.e365 = new Float64Array(length);
    this.orderValue = new Float64Array(length);
    this.clv = new Float64Array(length);
    this.nextOrderDay = new Float64Array(length);
  }

  parts(): PredictionParts {
    const { flags, pAlive, e90, e365, orderValue, clv, nextOrderDay } = this;
    return { flags, pAlive, e90, e365, orderValue, clv, nextOrderDay };
  }

  /** The columns of consecutive runs of customers, in order. */
  static concat(runs: readonly PredictionParts[]): PredictionColumns {
    const length = runs.reduce((sum, run) => sum + run.flags.length, 0);
    const columns = new PredictionColumns(length);
    let offset = 0;
    for (const run of runs) {
      columns.flags.set(run.flags, offset);
      columns.pAlive.set(run.pAlive, offset);
      columns.e90.set(run.e90, offset);
      columns.e365.set(run.e365, offset);
      columns.orderValue.set(run.orderValue, offset);
      columns.clv.set(run.clv, offset);
      columns.nextOrderDay.set(run.nextOrderDay, offset);
      offset += run.flags.length;
    }
    return columns;
  }

  set(i: number, p: CustomerPrediction | null): void {
    if (!p) {
      this.flags[i] = 0;
      return;
    }
    let flags = HAS_PREDICTION;
    this.pAlive[i] = p.pAlive;
    this.e90[i] = p.expectedPurchases90d;
    this.e365[i] = p.expectedPurchases365d;
    if (p.expectedOrderValue !== null) {
      flags |= HAS_ORDER_VALUE;
      this.orderValue[i] = p.expectedOrderValue;
    }
    if (p.predictedClv !== null) {
      flags |= HAS_CLV;
      this.clv[i] = p.predictedClv;
    }
    if (p.expectedNextOrderDay !== null) {
      flags |= HAS_NEXT_ORDER;
      this.nextOrderDay[i] = p.expectedNextOrderDay;
    }
    this.flags[i] = flags;
  }

  get(i: number): CustomerPrediction | null {
    const flags = this.flags[i];
    if (!(flags & HAS_PREDICTION)) return null;
    return {
      pAlive: this.pAlive[i],
      expectedPurchases90d: this.e90[i],
      expectedPurchases365d: this.e365[i],
      expectedOrderValue: flags & HAS_ORDER_VALUE ? this.orderValue[i] : null,
      predictedClv: flags & HAS_CLV ? this.clv[i] : null,
      expectedNextOrderDay: flags & HAS_NEXT_ORDER ? this.nextOrderDay[i] : null,
    };
  }

  /** The predicted CLV as customerMetrics stores it (whole minor units), or null. */
  predictedClvOf(i: number): number | null {
    return this.flags[i] & HAS_CLV && Number.isFinite(this.clv[i]) ? Math.round(this.clv[i]) : null;
  }
}

/**
 * Every customer's prediction as of `asOfDay`, each exactly as model.score gives it.
 * One-time buyers with the same age share a prediction (their history is only T), so it is
 * computed once per age: most of a large shop's customers are one-time buyers.
 */
export function predictAll(facts: CustomerFactsColumns, model: ShopModel | null, asOfDay: number, unit: TimeUnit = SHOP_MODEL_UNIT): PredictionColumns {
  const predictions = new PredictionColumns(facts.length);
  if (!model) return predictions;
  const oneTimeByAge = new Map<number, CustomerPrediction>();
  for (let i = 0; i < facts.length; i++) {
    if (!facts.hasOrders(i)) continue;
    const f = facts.factsAt(i, asOfDay, unit);
    const s = f.summary!;
    if (s.frequency === 0) {
      const age = asOfDay - s.firstDay;
      let p = oneTimeByAge.get(age);
      if (!p) {
        p = model.score(s);
        oneTimeByAge.set(age, p);
      }
      predictions.set(i, p);
    } else {
      predictions.set(i, model.score(s));
    }
  }
  return predictions;
}

/** Customers, spend and predictions per segment, tallied from the metrics rows as they are written. */
interface Tally {
  customers: number;
  netSpent: number;
  clvSum: number;
  clvCount: number;
  pAliveSum: number;
  pAliveCount: number;
}

const emptyTally = (): Tally => ({ customers: 0, netSpent: 0, clvSum: 0, clvCount: 0, pAliveSum: 0, pAliveCount: 0 });

export type SegmentKind = "rfm" | "behaviour";

export interface SegmentCount {
  kind: SegmentKind;
  key: string;
  customers: number;
  netSpentMinor: number;
  /** Sum of the customers' predicted CLV; null when none has one. */
  predictedClvMinor: number | null;
}

/** The segments' names, the merchant's labels first. */
export function segmentNames(labels: Record<string, string>): { rfm: Map<string, string>; behaviour: Map<string, string> } {
  const rfm = new Map<string, string>();
  for (const definition of Object.values(SEGMENT_DEFINITIONS)) rfm.set(definition.key, labels[definition.key] || definition.name);
  const behaviour = new Map<string, string>();
  const definitions = behaviouralSegmentDefinitions();
  for (const key of BEHAVIOURAL_SEGMENT_KEYS) behaviour.set(key, labels[key] || definitions[key].name);
  return { rfm, behaviour };
}

export class SegmentTally {
  /** Customers with at least one order. */
  customers = 0;
  netSpent = 0;
  clvSum = 0;
  clvCount = 0;
  private readonly rfm = new Map<string, Tally>();
  private readonly behaviour = new Map<BehaviouralSegmentKey, Tally>();

  constructor() {
    for (const definition of Object.values(SEGMENT_DEFINITIONS)) this.rfm.set(definition.key, emptyTally());
    for (const key of BEHAVIOURAL_SEGMENT_KEYS) this.behaviour.set(key, emptyTally());
  }

  add(row: CustomerMetricsValues): void {
    this.count(row, 1);
  }

  /** Takes back a row added before (it was replaced by a fresher one). */
  remove(row: CustomerMetricsValues): void {
    this.count(row, -1);
  }

  private count(row: CustomerMetricsValues, sign: 1 | -1): void {
    if (row.orders === 0) return;
    this.customers += sign;
    this.netSpent += sign * row.netSpent;
    if (row.predictedClv !== null) {
      this.clvSum += sign * row.predictedClv;
      this.clvCount += sign;
    }
    if (row.segment !== null) addTo(this.rfm.get(row.segment), row, sign);
    for (const key of row.behaviours) addTo(this.behaviour.get(key), row, sign);
  }

  /** Per segment, for SegmentDailyCount. */
  counts(): SegmentCount[] {
    const rows: SegmentCount[] = [];
    const push = (kind: SegmentKind, key: string, t: Tally) =>
      rows.push({ kind, key, customers: t.customers, netSpentMinor: t.netSpent, predictedClvMinor: t.clvCount > 0 ? t.clvSum : null });
    for (const [key, t] of this.rfm) push("rfm", key, t);
    for (const [key, t] of this.behaviour) push("behaviour", key, t);
    return rows;
  }

  /**
   * Segment rows for the segments aggregate. `history(kind, key, daysAgo)` gives the
   * customers counted that many days before (null when there is no count for that day).
   */
  rows(
    labels: Record<string, string>,
    history: (kind: SegmentKind, key: string, daysAgo: number) => number | null,
  ): SegmentRow[] {
    const names = segmentNames(labels);
    const row = (kind: SegmentKind, key: string, name: string, t: Tally) => ({
      kind,
      key,
      name,
      customers: t.customers,
      share: this.customers > 0 ? t.customers / this.customers : 0,
      netSpentMinor: t.netSpent,
      revenueShare: this.netSpent > 0 ? t.netSpent / this.netSpent : 0,
      averageHistoricClvMinor: t.customers > 0 ? Math.round(t.netSpent / t.customers) : null,
      averagePredictedClvMinor: t.clvCount > 0 ? Math.round(t.clvSum / t.clvCount) : null,
      averagePAlive: t.pAliveCount > 0 ? t.pAliveSum / t.pAliveCount : null,
      customers7dAgo: history(kind, key, 7),
      customers30dAgo: history(kind, key, 30),
    });
    return [
      ...[...this.rfm].map(([key, t]) => row("rfm", key, names.rfm.get(key) ?? key, t)),
      ...[...this.behaviour].map(([key, t]) => row("behaviour", key, names.behaviour.get(key) ?? key, t)),
    ];
  }
}

function addTo(t: Tally | undefined, row: CustomerMetricsValues, sign: 1 | -1): void {
  if (!t) return; // a segment key the rules no longer name: counted in the totals only
  t.customers += sign;
  t.netSpent += sign * row.netSpent;
  if (row.predictedClv !== null) {
    t.clvSum += sign * row.predictedClv;
    t.clvCount += sign;
  }
  if (row.pAlive !== null) {
    t.pAliveSum += sign * row.pAlive;
    t.pAliveCount += sign;
  }
}

/** Orders and net revenue in the last `periodDays` days up to asOfDay, and in the period before. */
export function periodTotals(table: TransactionTable, asOfDay: number, periodDays: number) {
  const days = table.days;
  const amounts = table.amounts;
  let orders = 0;
  let revenue = 0;
  let previousOrders = 0;
  let previousRevenue = 0;
  for (let row = 0; row < table.length; row++) {
    const age = asOfDay - days[row];
    if (age < 0 || age >= 2 * periodDays) continue;
    const orderCount = amounts[row] >= 0 ? 1 : 0;
    if (age < periodDays) {
      orders += orderCount;
      revenue += amounts[row];
    } else {
      previousOrders += orderCount;
      previousRevenue += amounts[row];
    }
  }
  return { orders, revenue, previousOrders, previousRevenue };
}

export interface KpiInputs {
  currency: string;
  asOfIso: string;
  periodDays: number;
  now: RetentionReport;
  /** The retention report as of periodDays earlier. */
  before: RetentionReport;
  /** Average predicted CLV now and periodDays earlier (from the daily counts); null when unknown. */
  averagePredictedClv: { value: number | null; previous: number | null };
  period: ReturnType<typeof periodTotals>;
}

const wholeOrNull = (value: number | null) => (value === null ? null : Math.round(value));

/** The KPI cards: each value now and `periodDays` earlier, from the two retention reports. */
export function kpisOf(k: KpiInputs) {
  const pair = <T>(pick: (r: RetentionReport) => T) => ({ value: pick(k.now), previous: pick(k.before) });
  const historic = (r: RetentionReport) => (r.totals.customers > 0 ? Math.round(r.totals.netRevenue / r.totals.customers) : null);
  return {
    currency: k.currency,
    asOfIso: k.asOfIso,
    periodDays: k.periodDays,
    customers: pair((r) => r.totals.customers),
    orders: pair((r) => r.totals.orders),
    netRevenueMinor: pair((r) => Math.round(r.totals.netRevenue)),
    repeatPurchaseRate: pair((r) => r.totals.repeatPurchaseRate),
    aovMinor: pair((r) => wholeOrNull(r.totals.aov)),
    ordersPerCustomer: pair((r) => r.totals.ordersPerCustomer),
    medianDaysBetweenOrders: pair((r) => r.daysBetweenOrders.overall.median),
    averageHistoricClvMinor: pair(historic),
    averagePredictedClvMinor: {
      value: wholeOrNull(k.averagePredictedClv.value),
      previous: wholeOrNull(k.averagePredictedClv.previous),
    },
    periodOrders: { value: k.period.orders, previous: k.period.previousOrders },
    periodNetRevenueMinor: { value: Math.round(k.period.revenue), previous: Math.round(k.period.previousRevenue) },
  };
}

/** Longest holdout the backtest uses, and the least calibration history it needs. */
export const BACKTEST_MAX_HOLDOUT_DAYS = 180;
export const BACKTEST_MIN_HOLDOUT_DAYS = 28;
export const BACKTEST_MIN_CALIBRATION_DAYS = 90;

/**
 * The backtest's holdout: a third of the history, at most 180 days; null with the reason
 * when the history is too short for a calibration period and a holdout worth reading.
 */
export function backtestWindow(firstOrderDay: number | null, asOfDay: number): { holdoutDays: number; calibrationEndDay: number } | { note: string } {
  if (firstOrderDay === null || firstOrderDay > asOfDay) return { note: "no orders yet" };
  const historyDays = asOfDay - firstOrderDay + 1;
  const holdoutDays = Math.min(BACKTEST_MAX_HOLDOUT_DAYS, Math.floor(historyDays / 3));
  if (holdoutDays < BACKTEST_MIN_HOLDOUT_DAYS || historyDays - holdoutDays < BACKTEST_MIN_CALIBRATION_DAYS) {
    return {
      note:
        `${historyDays} days of order history; a backtest needs at least ${BACKTEST_MIN_CALIBRATION_DAYS} days to fit on ` +
        `and ${BACKTEST_MIN_HOLDOUT_DAYS} days to check against`,
    };
  }
  return { holdoutDays, calibrationEndDay: asOfDay - holdoutDays };
}

/**
 * A table of the rows of the customers `keep` selects (by the table's customer index),
 * for a filtered retention report. Row order is kept, so customers stay grouped.
 */
export function customersTable(table: TransactionTable, keep: (customer: number) => boolean): TransactionTable {
  const customers = table.customers;
  const days = table.days;
  const amounts = table.amounts;
  const ids = table.customerIds;
  let rows = 0;
  for (let row = 0; row < table.length; row++) if (keep(customers[row])) rows++;
  const subset = new TransactionTable(rows);
  // Each kept customer's id is interned once, not once per order.
  const subsetIndex = new Int32Array(table.customerCount).fill(-1);
  for (let row = 0; row < table.length; row++) {
    const customer = customers[row];
    if (!keep(customer)) continue;
    if (subsetIndex[customer] < 0) subsetIndex[customer] = subset.index.intern(ids[customer]);
    subset.addForCustomer(subsetIndex[customer], days[row], amounts[row]);
  }
  return subset;
}

/**
 * customersTable for several groups at once: the table of each of `codes`, where
 * `codeOfCustomer` gives each customer's group (by the table's customer index; a customer
 * is in one group at most). Two passes over the rows however many groups, where one
 * customersTable per group would take two each.
 */
export function customersTablesByCode(table: TransactionTable, codeOfCustomer: ArrayLike<number>, codes: readonly number[]): Map<number, TransactionTable> {
  const slotOfCode = new Map(codes.map((code, slot) => [code, slot]));
  const customerSlot = new Int32Array(table.customerCount);
  for (let customer = 0; customer < customerSlot.length; customer++) customerSlot[customer] = slotOfCode.get(codeOfCustomer[customer]) ?? -1;
  const customers = table.customers;
  const rows = new Array<number>(codes.length).fill(0);
  for (let row = 0; row < table.length; row++) {
    const slot = customerSlot[customers[row]];
    if (slot >= 0) rows[slot]++;
  }
  const subsets = rows.map((count) => new TransactionTable(count));
  const days = table.days;
  const amounts = table.amounts;
  const ids = table.customerIds;
  // Each kept customer's id is interned once, not once per order.
  const subsetIndex = new Int32Array(table.customerCount).fill(-1);
  for (let row = 0; row < table.length; row++) {
    const customer = customers[row];
    const slot = customerSlot[customer];
    if (slot < 0) continue;
    const subset = subsets[slot];
    if (subsetIndex[customer] < 0) subsetIndex[customer] = subset.index.intern(ids[customer]);
    subset.addForCustomer(subsetIndex[customer], days[row], amounts[row]);
  }
  return new Map(codes.map((code, slot) => [code, subsets[slot]]));
}

/**
 * Interns the values of one acquisition dimension (few distinct values, one per customer):
 * customers hold a small integer, and the top values are found by counting.
 */
export class DimensionValues {
  private readonly codes = new Map<string, number>();
  readonly values: string[] = [];
  readonly ofCustomer: number[] = [];

  /** Records the value of the next customer (customers are added in table order); -1 for none. */
  push(value: string | null | undefined): void {
    if (!value) {
      this.ofCustomer.push(-1);
      return;
    }
    let code = this.codes.get(value);
    if (code === undefined) {
      code = this.values.length;
      this.codes.set(value, code);
      this.values.push(value);
    }
    this.ofCustomer.push(code);
  }

  /** The value of a customer, or null. */
  valueOf(customer: number): string | null {
    const code = this.ofCustomer[customer];
    return code === undefined || code < 0 ? null : this.values[code];
  }

  /** The `limit` values with the most customers (ties by value), with their customers. */
  top(limit: number, counted: (customer: number) => boolean = () => true): { value: string; code: number; customers: number }[] {
    const counts = new Float64Array(this.values.length);
    this.ofCustomer.forEach((code, customer) => {
      if (code >= 0 && counted(customer)) counts[code]++;
    });
    return this.values
      .map((value, code) => ({ value, code, customers: counts[code] }))
      .filter((v) => v.customers > 0)
      .sort((a, b) => b.customers - a.customers || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
      .slice(0, limit);
  }
}
