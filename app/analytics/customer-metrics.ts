// One customer's metrics row: RFM scores and segment, behavioural segments, historic and
// predicted CLV, P(alive), expected purchases and next order. The live worker (one
// customer) and the shop refit (every customer) both end here, so on the same orders, the
// same fit and the same as-of day they write the same values.
//
// Money is integer minor units of the shop currency throughout; predicted values are
// rounded to whole minor units here (not by the writers), so both paths round alike.
import { type BehaviourThresholds, type BehaviouralSegmentKey, behaviouralSegmentsOf } from "./behaviour";
import { type CustomerPrediction, type ShopModel } from "./clv/shop-model";
import { type AveragesEstimate } from "./estimate-from-averages";
import { type RfmCutPoints, type RfmScores, scoreRfm } from "./rfm";
import { DEFAULT_SEGMENT_RULES, SEGMENT_DEFINITIONS, type SegmentRule, segmentFor } from "./segments";
import { type CustomerSummary } from "./summary";
import { type TimeUnit, unitDays } from "./units";

/** The time unit shop models are fitted in (weeks, as in the BG/NBD literature). */
export const SHOP_MODEL_UNIT: TimeUnit = "week";

/** One counted order of a customer (test orders and excluded orders left out by the caller). */
export interface CustomerOrderFact {
  /** Day index of the order in the shop's time zone. */
  day: number;
  /** Net value, minor units (0 or more). */
  net: number;
  /** The order used at least one discount code. */
  discounted: boolean;
  /** Cancelled or refunded in full (issue 13): a customer with only such orders gets no prediction. */
  voided?: boolean;
  /** Net sales less cost of goods of the lines with a known cost (issue 17); may be negative. Default 0. */
  costedProfit?: number;
  /** Net sales without a known cost: their profit is the shop's fallback margin of them. Default 0. */
  uncostedNet?: number;
}

/**
 * Gross profit (docs/analytics/revenue.md, "Cost of goods"): the costed lines' net sales less
 * their cost, plus the fallback margin of the sales without a known cost; whole minor units.
 */
export function grossProfitOf(costedProfit: number, uncostedNet: number, fallbackMargin: number): number {
  return costedProfit + Math.round(uncostedNet * fallbackMargin);
}

/** What scoring needs to know about one customer, as of a day. */
export interface CustomerFacts {
  customerId: string;
  /** Orders on or before the as-of day (F counts orders, not purchase days). */
  orders: number;
  netSpent: number;
  discountedOrders: number;
  firstOrderDay: number | null;
  lastOrderDay: number | null;
  /** Σ CustomerOrderFact.costedProfit and .uncostedNet of the orders so far (absent: 0). */
  costedProfit?: number;
  uncostedNet?: number;
  /** The purchase-day summary the count model scores (summary.ts conventions); null without orders. */
  summary: CustomerSummary | null;
  /**
   * Every order so far was cancelled or refunded in full: the customer is left out of
   * predictions (no expected spend, no chance of ordering) and counted on the dashboard.
   */
  onlyVoidedOrders?: boolean;
}

/** The shop's current fit, as the scorer sees it. */
export interface ScoringContext {
  asOfDay: number;
  /** null: the shop has too little data to predict; metrics come without predictions. */
  model: ShopModel | null;
  /**
   * Without a model: the shop's estimate from averages, whose per-customer figures every
   * customer who ordered gets (expected spend, orders and order value; no P(alive) or chance).
   */
  averages?: AveragesEstimate | null;
  /** null: no cut points yet (no customer had an order at the last fit); no RFM scores. */
  cuts: RfmCutPoints | null;
  rules: readonly SegmentRule[];
  /** null: no behavioural segments yet. */
  thresholds: BehaviourThresholds | null;
  /** Gross margin of sales without a known unit cost (ShopSettings.costFallbackMargin); default 0.5. */
  costFallbackMargin?: number;
}

/** The fallback margin when Settings say nothing (docs/analytics/revenue.md). */
export const DEFAULT_COST_FALLBACK_MARGIN = 0.5;

export interface CustomerMetricsValues {
  customerId: string;
  orders: number;
  netSpent: number;
  /** Average order value, whole minor units; null without orders. */
  aov: number | null;
  discountedOrders: number;
  firstOrderDay: number | null;
  lastOrderDay: number | null;
  /** Gross profit to date (grossProfitOf), whole minor units; 0 without orders. */
  grossProfit: number;
  /** Net sales to date without a known cost (their profit is at the fallback margin). */
  uncostedSales: number;
  recencyDays: number | null;
  scores: RfmScores | null;
  /** RFM segment key (SEGMENT_DEFINITIONS[..].key); null when not scored. */
  segment: string | null;
  behaviours: BehaviouralSegmentKey[];
  pAlive: number | null;
  /** P(at least one order in the next 90 days | history): the headline churn figure. */
  chanceOfOrder90d: number | null;
  /** The same over the next 365 days. */
  chanceOfOrder365d: number | null;
  expectedPurchases90d: number | null;
  expectedPurchases365d: number | null;
  /** Whole minor units. */
  expectedOrderValue: number | null;
  /** Whole minor units. */
  predictedClv: number | null;
  expectedNextOrderDay: number | null;
}

/**
 * Facts of one customer from their counted orders (any order). Orders after `asOfDay` are
 * ignored. The summary follows summary.ts: same-day orders are one purchase day.
 */
export function customerFactsFromOrders(
  customerId: string,
  orders: readonly CustomerOrderFact[],
  asOfDay: number,
  unit: TimeUnit = SHOP_MODEL_UNIT,
): CustomerFacts {
  const kept = orders.filter((o) => o.day <= asOfDay).sort((a, b) => a.day - b.day);
  let netSpent = 0;
  let discountedOrders = 0;
  let costedProfit = 0;
  let uncostedNet = 0;
  for (const order of kept) {
    if (!(Number.isInteger(order.net) && order.net >= 0)) throw new RangeError(`customer ${customerId}: order net ${order.net} must be whole minor units, 0 or more`);
    netSpent += order.net;
    if (order.discounted) discountedOrders++;
    costedProfit += order.costedProfit ?? 0;
    uncostedNet += order.uncostedNet ?? 0;
  }
  if (kept.length === 0) {
    return { customerId, orders: 0, netSpent: 0, discountedOrders: 0, firstOrderDay: null, lastOrderDay: null, summary: null };
  }
  // Purchase days: same-day orders are summed into one purchase (summary.ts).
  const dayValues: number[] = [];
  const days: number[] = [];
  for (const order of kept) {
    if (days.length > 0 && days[days.length - 1] === order.day) dayValues[dayValues.length - 1] += order.net;
    else {
      days.push(order.day);
      dayValues.push(order.net);
    }
  }
  const firstDay = days[0];
  const lastDay = days[days.length - 1];
  const frequency = days.length - 1;
  let repeatValue = 0;
  for (let i = 1; i < dayValues.length; i++) repeatValue += dayValues[i];
  const length = unitDays[unit];
  return {
    customerId,
    orders: kept.length,
    netSpent,
    discountedOrders,
    firstOrderDay: firstDay,
    lastOrderDay: lastDay,
    costedProfit,
    uncostedNet,
    onlyVoidedOrders: kept.every((order) => order.voided === true),
    summary: {
      customerId,
      orders: days.length,
      frequency,
      recency: (lastDay - firstDay) / length,
      T: (asOfDay - firstDay) / length,
      monetaryValue: frequency > 0 ? repeatValue / frequency : 0,
      totalSpent: netSpent,
      firstDay,
      lastDay,
    },
  };
}

const SEGMENT_KEY = new Map<string, string>(Object.values(SEGMENT_DEFINITIONS).map((d) => [d.name, d.key]));

/** Segment key of a segment name. */
export function segmentKey(name: string): string {
  const key = SEGMENT_KEY.get(name);
  if (!key) throw new RangeError(`unknown segment "${name}"`);
  return key;
}

/** The prediction of one customer, or null without a model (or without orders, or with only voided ones). */
export function predictionOf(facts: CustomerFacts, model: ShopModel | null): CustomerPrediction | null {
  if (!model || !facts.summary || facts.onlyVoidedOrders === true) return null;
  return model.score(facts.summary);
}

const wholeOrNull = (value: number | null): number | null => (value === null || !Number.isFinite(value) ? null : Math.round(value));

/**
 * The metrics row values of one customer. `prediction` may be passed when the caller
 * already scored the customer (the refit scores everyone once to find the VIP threshold).
 */
export function customerMetrics(
  facts: CustomerFacts,
  ctx: ScoringContext,
  scored: CustomerPrediction | null = predictionOf(facts, ctx.model),
): CustomerMetricsValues {
  const hasOrders = facts.orders > 0 && facts.lastOrderDay !== null;
  // Only cancelled or fully refunded orders: nothing to predict from (the refit may pass a score anyway).
  const voided = facts.onlyVoidedOrders === true;
  const prediction = voided ? null : scored;
  const recencyDays = hasOrders ? ctx.asOfDay - (facts.lastOrderDay as number) : null;
  const scores =
    hasOrders && ctx.cuts
      ? scoreRfm({ customerId: facts.customerId, recencyDays: recencyDays as number, orders: facts.orders, netSpent: facts.netSpent }, ctx.cuts)
      : null;
  const segment = scores ? segmentKey(segmentFor(scores, ctx.rules.length > 0 ? ctx.rules : DEFAULT_SEGMENT_RULES)) : null;
  const predictedClv = wholeOrNull(prediction?.predictedClv ?? null);
  // The estimate is the same for everyone, so it never feeds the behaviours (VIP would be everyone).
  const estimate = !prediction && !ctx.model && hasOrders && !voided ? (ctx.averages ?? null) : null;
  const behaviours =
    hasOrders && ctx.thresholds
      ? behaviouralSegmentsOf(
          {
            customerId: facts.customerId,
            orders: facts.orders,
            netSpent: facts.netSpent,
            discountedOrders: facts.discountedOrders,
            daysSinceLastOrder: recencyDays as number,
            daysUntilExpectedNextOrder: prediction?.expectedNextOrderDay != null ? prediction.expectedNextOrderDay - ctx.asOfDay : null,
            firstOrderDay: facts.firstOrderDay,
            pAlive: prediction?.pAlive ?? null,
            predictedClv,
          },
          ctx.thresholds,
        )
      : [];
  return {
    customerId: facts.customerId,
    orders: facts.orders,
    netSpent: facts.netSpent,
    aov: hasOrders ? Math.round(facts.netSpent / facts.orders) : null,
    discountedOrders: facts.discountedOrders,
    firstOrderDay: facts.firstOrderDay,
    lastOrderDay: facts.lastOrderDay,
    grossProfit: grossProfitOf(facts.costedProfit ?? 0, facts.uncostedNet ?? 0, ctx.costFallbackMargin ?? DEFAULT_COST_FALLBACK_MARGIN),
    uncostedSales: facts.uncostedNet ?? 0,
    recencyDays,
    scores,
    segment,
    behaviours,
    pAlive: prediction?.pAlive ?? null,
    chanceOfOrder90d: prediction?.chanceOfOrder90d ?? null,
    chanceOfOrder365d: prediction?.chanceOfOrder365d ?? null,
    expectedPurchases90d: prediction?.expectedPurchases90d ?? estimate?.expectedPurchases90d ?? null,
    expectedPurchases365d: prediction?.expectedPurchases365d ?? estimate?.expectedPurchases365d ?? null,
    expectedOrderValue: wholeOrNull(prediction?.expectedOrderValue ?? estimate?.expectedOrderValue ?? null),
    predictedClv: predictedClv ?? wholeOrNull(estimate?.expectedSpend ?? null),
    expectedNextOrderDay: prediction?.expectedNextOrderDay ?? null,
  };
}
