// Every customer's facts and prediction kept in columns, for the shop refit: a million
// customers as objects would cost gigabytes. Pure: the refit (app/refit/) does the I/O and
// hands slices of these columns to scoring threads.
import { type CustomerPrediction, type HistoryScore, type ShopModel } from "./clv/shop-model";
import { type CustomerFacts, SHOP_MODEL_UNIT } from "./customer-metrics";
import { type CustomerSummary } from "./summary";
import { type TimeUnit, unitDays } from "./units";

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
  /** 1: every order cancelled or refunded in full (CustomerFacts.onlyVoidedOrders). */
  private readonly onlyVoided: number[] = [];
  /** CustomerFacts.costedProfit and .uncostedNet (issue 17). */
  private readonly costedProfit: number[] = [];
  private readonly uncostedNet: number[] = [];

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
    this.onlyVoided.push(facts.onlyVoidedOrders === true ? 1 : 0);
    this.costedProfit.push(facts.costedProfit ?? 0);
    this.uncostedNet.push(facts.uncostedNet ?? 0);
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

  /** Every order of customer i was cancelled or refunded in full. */
  onlyVoidedOrders(i: number): boolean {
    return this.onlyVoided[i] === 1;
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
      onlyVoided: Uint8Array.from(this.onlyVoided.slice(from, to)),
      costedProfit: Float64Array.from(this.costedProfit.slice(from, to)),
      uncostedNet: Float64Array.from(this.uncostedNet.slice(from, to)),
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
      columns.onlyVoided.push(slice.onlyVoided[i]);
      columns.costedProfit.push(slice.costedProfit[i]);
      columns.uncostedNet.push(slice.uncostedNet[i]);
    }
    return columns;
  }

  /** Fills `target` with customer i's summary exactly as factsAt(i, asOfDay, unit).summary (customer i has orders); returns it. */
  summaryInto(target: CustomerSummary, i: number, asOfDay: number, unit: TimeUnit = SHOP_MODEL_UNIT): CustomerSummary {
    const firstDay = this.firstDay[i];
    const lastDay = this.lastDay[i];
    const frequency = this.purchaseDays[i] - 1;
    const length = unitDays[unit];
    target.customerId = this.ids[i];
    target.orders = this.purchaseDays[i];
    target.frequency = frequency;
    target.recency = (lastDay - firstDay) / length;
    target.T = (asOfDay - firstDay) / length;
    target.monetaryValue = frequency > 0 ? this.repeatValue[i] / frequency : 0;
    target.totalSpent = this.netSpent[i];
    target.firstDay = firstDay;
    target.lastDay = lastDay;
    return target;
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
      costedProfit: this.costedProfit[i],
      uncostedNet: this.uncostedNet[i],
      onlyVoidedOrders: this.onlyVoided[i] === 1,
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
  onlyVoided: Uint8Array;
  costedProfit: Float64Array;
  uncostedNet: Float64Array;
}

/** PredictionColumns' arrays (transferable between threads). */
export interface PredictionParts {
  flags: Uint8Array;
  pAlive: Float64Array;
  chance90: Float64Array;
  chance365: Float64Array;
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
  private readonly chance90: Float64Array;
  private readonly chance365: Float64Array;
  private readonly e90: Float64Array;
  private readonly e365: Float64Array;
  private readonly orderValue: Float64Array;
  private readonly clv: Float64Array;
  private readonly nextOrderDay: Float64Array;

  constructor(readonly length: number) {
    this.flags = new Uint8Array(length);
    this.pAlive = new Float64Array(length);
    this.chance90 = new Float64Array(length);
    this.chance365 = new Float64Array(length);
    this.e90 = new Float64Array(length);
    this.e365 = new Float64Array(length);
    this.orderValue = new Float64Array(length);
    this.clv = new Float64Array(length);
    this.nextOrderDay = new Float64Array(length);
  }

  parts(): PredictionParts {
    const { flags, pAlive, chance90, chance365, e90, e365, orderValue, clv, nextOrderDay } = this;
    return { flags, pAlive, chance90, chance365, e90, e365, orderValue, clv, nextOrderDay };
  }

  /** The columns of consecutive runs of customers, in order. */
  static concat(runs: readonly PredictionParts[]): PredictionColumns {
    const length = runs.reduce((sum, run) => sum + run.flags.length, 0);
    const columns = new PredictionColumns(length);
    let offset = 0;
    for (const run of runs) {
      columns.flags.set(run.flags, offset);
      columns.pAlive.set(run.pAlive, offset);
      columns.chance90.set(run.chance90, offset);
      columns.chance365.set(run.chance365, offset);
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
    this.chance90[i] = p.chanceOfOrder90d;
    this.chance365[i] = p.chanceOfOrder365d;
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
      chanceOfOrder90d: this.chance90[i],
      chanceOfOrder365d: this.chance365[i],
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
 * Customers with the same purchase history (x, t_x, T: frequency, days from the first to
 * the last purchase day, days since the first) share everything but the spend part, so
 * the history part is computed once per history (model.scoreHistory) and only the
 * Gamma-Gamma step per customer: most of a large shop's customers are one-time buyers,
 * who differ only by age, and many repeat buyers share a history too.
 */
export function predictAll(facts: CustomerFactsColumns, model: ShopModel | null, asOfDay: number, unit: TimeUnit = SHOP_MODEL_UNIT): PredictionColumns {
  const predictions = new PredictionColumns(facts.length);
  if (!model) return predictions;
  const byHistory = new Map<number | string, HistoryScore>();
  // One summary object refilled per customer (the model keeps none of it).
  const summary: CustomerSummary = { customerId: "", orders: 0, frequency: 0, recency: 0, T: 0, monetaryValue: 0, totalSpent: 0, firstDay: 0, lastDay: 0 };
  for (let i = 0; i < facts.length; i++) {
    // Only cancelled or refunded orders: no prediction (customerMetrics), so none is worked out.
    if (!facts.hasOrders(i) || facts.onlyVoidedOrders(i)) continue;
    const s = facts.summaryInto(summary, i, asOfDay, unit);
    const key = historyKey(s.frequency, s.lastDay - s.firstDay, asOfDay - s.firstDay);
    let history = byHistory.get(key);
    if (history === undefined) {
      history = model.scoreHistory(s);
      byHistory.set(key, history);
    }
    predictions.set(i, model.scoreWithSpend(history, s));
  }
  return predictions;
}

/** An exact key of a history: a number while its parts fit in 53 bits (as a day span always does), else a string. */
export function historyKey(frequency: number, recencyDays: number, ageDays: number): number | string {
  return frequency >= 0 && frequency < 8192 && recencyDays >= 0 && recencyDays < 1_048_576 && ageDays >= 0 && ageDays < 1_048_576
    ? (frequency * 1_048_576 + recencyDays) * 1_048_576 + ageDays
    : `${frequency},${recencyDays},${ageDays}`;
}
