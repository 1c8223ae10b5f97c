// Behavioural segments, shown beside RFM. A customer can be in several at once (a repeat
// buyer who is also a discount shopper). Rules and defaults (docs/analytics/segments.md):
//   first-time buyer      exactly 1 order
//   repeat buyer          2 or more orders
//   big spender           top 10% by spent to date
//   high AOV              top 10% by average order value (AOV = spent to date / orders)
//   discount shopper      more than half of their orders used a discount code
//   full-price buyer      never used a discount code
//   VIP                   top 5% by expected spend over the horizon (only when predictions exist)
//   at-risk repeat buyer  2+ orders and P(alive) under 0.3
//   one-and-done lost     1 order and no order for longer than the larger of 180 days
//                         and 2 x the shop's median days from 1st to 2nd order
//   cart abandoner        an abandoned checkout started in the last 30 days (not completed,
//                         no order from it, no order of theirs since; app/data/checkouts.server.ts);
//                         the one behaviour a customer without orders can have
// "Top X%" is tie-consistent: a customer is in it when at most X% of customers have a value
// as high or higher. Customers with the same value are all in or all out, so the group can be
// smaller than X% (never larger), and is empty when one value covers more than X% at the top.
// Only positive values qualify (nobody is a big spender with nothing spent). Customers with
// no orders are in no behavioural segment but "cart abandoner".

import { civilFromDays } from "./dates";

export const BEHAVIOURAL_SEGMENT_KEYS = [
  "first-time-buyer",
  "repeat-buyer",
  "big-spender",
  "high-aov",
  "discount-shopper",
  "full-price-buyer",
  "vip",
  "at-risk-repeat-buyer",
  "one-and-done-lost",
  "due-to-reorder",
  "holiday-season-first-buyer",
  "cart-abandoner",
] as const;

export type BehaviouralSegmentKey = (typeof BEHAVIOURAL_SEGMENT_KEYS)[number];

export interface BehaviourInput {
  customerId: string;
  orders: number;
  /** Net spend: current order totals after refunds and edits, summed. */
  netSpent: number;
  /** Average order value; netSpent / orders when left out. */
  aov?: number | null;
  /** Orders that used at least one discount code. */
  discountedOrders: number;
  daysSinceLastOrder: number;
  /** Probability the customer is still active (from the shop's fitted model). */
  pAlive?: number | null;
  /** Predicted CLV (from the shop's fitted model). */
  predictedClv?: number | null;
  /** Days since their latest abandoned checkout started; null or absent: none. */
  daysSinceAbandonedCheckout?: number | null;
  /** The model's expected next order day minus today (negative: overdue); null or absent: none expected. */
  daysUntilExpectedNextOrder?: number | null;
  /** Day index of the first order (dates.ts), in the shop's time zone. */
  firstOrderDay?: number | null;
}

/** "Due to reorder": the expected next order falls within this many days from today. */
export const DUE_TO_REORDER_AHEAD_DAYS = 7;

/** The holiday season of "Holiday-season first buyers", month-day to month-day ("MM-DD"), both included. */
export interface HolidaySeason {
  start: string;
  end: string;
}

/** Default season: the Black Friday to year-end gifting weeks (docs/analytics/segments.md). */
export const DEFAULT_HOLIDAY_SEASON: HolidaySeason = { start: "11-15", end: "12-31" };

const MONTH_DAY = /^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Why a month-day ("MM-DD") is not one, or null when it is (Feb 29 is, for leap years). */
export function monthDayProblem(text: string): string | null {
  const match = MONTH_DAY.exec(text);
  if (!match) return `"${text}" is not a month and day such as 11-15`;
  if (Number(match[2]) > DAYS_IN_MONTH[Number(match[1]) - 1]) return `"${text}" is not a day of the year`;
  return null;
}

/** Whether a day index falls in the season (a season may run over the new year: 12-01 to 01-15). */
export function inHolidaySeason(day: number, season: HolidaySeason): boolean {
  const civil = civilFromDays(day);
  const at = civil.month * 100 + civil.day;
  const [startMonth, startDay] = season.start.split("-").map(Number);
  const [endMonth, endDay] = season.end.split("-").map(Number);
  const from = startMonth * 100 + startDay;
  const to = endMonth * 100 + endDay;
  return from <= to ? at >= from && at <= to : at >= from || at <= to;
}

/** "Cart abandoners (last 30 days)": an abandoned checkout started within this many days (today is day 0). */
export const CART_ABANDONMENT_WINDOW_DAYS = 30;

/**
 * Whether a customer whose latest abandoned checkout started `daysSince` days ago is a cart
 * abandoner. The live recompute applies it per customer and the refit in SQL
 * (refreshCartAbandoners) with the same window, so both agree.
 */
export function isCartAbandoner(daysSince: number | null | undefined): boolean {
  return daysSince !== null && daysSince !== undefined && daysSince < CART_ABANDONMENT_WINDOW_DAYS;
}

/** `behaviours` with "cart-abandoner" added or taken out as `daysSince` says (kept in key order). */
export function withCartAbandonment(behaviours: readonly BehaviouralSegmentKey[], daysSince: number | null | undefined): BehaviouralSegmentKey[] {
  const others = behaviours.filter((key) => key !== "cart-abandoner");
  return isCartAbandoner(daysSince) ? [...others, "cart-abandoner"] : others;
}

export interface BehaviourOptions {
  /** Share of customers in "big spender" (default 0.10). */
  bigSpenderShare?: number;
  /** Share of customers in "high AOV" (default 0.10). */
  highAovShare?: number;
  /** Share of customers with a prediction in "VIP" (default 0.05). */
  vipShare?: number;
  /** A discount shopper used codes on MORE than this share of orders (default 0.5). */
  discountShopperShare?: number;
  /** At-risk repeat buyers have P(alive) below this (default 0.3). */
  atRiskPAlive?: number;
  /** The shop's median days between 1st and 2nd orders (retentionSummary, step 1 to 2). */
  medianDaysToSecondOrder?: number | null;
  /** One-and-done lost after this many times the median days to a 2nd order (default 2). */
  oneAndDoneMultiplier?: number;
  /** ...and never sooner than this many days (default 180). */
  oneAndDoneFloorDays?: number;
  /** The shop's median days between orders (retentionSummary, all steps): how overdue "Due to reorder" may be. */
  medianDaysBetweenOrders?: number | null;
  /** The season of "Holiday-season first buyers" (default DEFAULT_HOLIDAY_SEASON). */
  holidaySeason?: HolidaySeason;
}

export const DEFAULT_BEHAVIOUR_OPTIONS = {
  bigSpenderShare: 0.1,
  highAovShare: 0.1,
  vipShare: 0.05,
  discountShopperShare: 0.5,
  atRiskPAlive: 0.3,
  oneAndDoneMultiplier: 2,
  oneAndDoneFloorDays: 180,
} as const;

/** The numbers the rules resolved to for this shop (shown next to each segment). */
export interface BehaviourThresholds {
  /** Big spenders spent at least this; null when nobody qualifies. */
  bigSpenderMinNetSpent: number | null;
  highAovMin: number | null;
  vipMinPredictedClv: number | null;
  discountShopperShare: number;
  atRiskPAlive: number;
  /** One-and-done customers are lost after MORE than this many days without an order. */
  oneAndDoneDays: number;
  /**
   * "Due to reorder" takes customers overdue by LESS than this many days (the shop's median
   * days between orders); null: no repeat orders to measure it by. Absent in fits stored
   * before issue 17: nobody is due until the next refit.
   */
  dueToReorderOverdueDays?: number | null;
  /** Absent in fits stored before issue 17: nobody is in the segment until the next refit. */
  holidaySeason?: HolidaySeason;
}

export interface BehaviouralSegmentDefinition {
  key: BehaviouralSegmentKey;
  name: string;
  description: string;
}

function percent(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}

/** Plain-words definitions with the configured shares and thresholds filled in. */
export function behaviouralSegmentDefinitions(
  opts: BehaviourOptions = {},
): Readonly<Record<BehaviouralSegmentKey, BehaviouralSegmentDefinition>> {
  const o = resolveOptions(opts);
  const discount = o.discountShopperShare === 0.5 ? "half" : percent(o.discountShopperShare);
  return {
    "first-time-buyer": { key: "first-time-buyer", name: "First-time buyers", description: "Placed exactly one order." },
    "repeat-buyer": { key: "repeat-buyer", name: "Repeat buyers", description: "Placed two or more orders." },
    "big-spender": {
      key: "big-spender",
      name: "Big spenders",
      description: `The top ${percent(o.bigSpenderShare)} of customers by spent to date (orders after refunds).`,
    },
    "high-aov": {
      key: "high-aov",
      name: "High order value",
      description: `The top ${percent(o.highAovShare)} of customers by average order value (spent to date divided by orders).`,
    },
    "discount-shopper": {
      key: "discount-shopper",
      name: "Discount shoppers",
      description: `Used a discount code on more than ${discount} of their orders.`,
    },
    "full-price-buyer": { key: "full-price-buyer", name: "Full-price buyers", description: "Never used a discount code." },
    vip: { key: "vip", name: "VIP", description: `The top ${percent(o.vipShare)} of customers by expected spend over your horizon.` },
    "at-risk-repeat-buyer": {
      key: "at-risk-repeat-buyer",
      name: "At-risk repeat buyers",
      description: `Ordered two or more times, but the model gives them less than a ${percent(o.atRiskPAlive)} chance of still being active.`,
    },
    "one-and-done-lost": {
      key: "one-and-done-lost",
      name: "One-and-done, lost",
      description:
        `Ordered once and not again for longer than ${o.oneAndDoneMultiplier} times the days your customers usually take ` +
        `to order a second time (the median), and at least ${o.oneAndDoneFloorDays} days.`,
    },
    "due-to-reorder": {
      key: "due-to-reorder",
      name: "Due to reorder",
      description:
        `The model expects their next order within the next ${DUE_TO_REORDER_AHEAD_DAYS} days, or it is overdue by less than ` +
        "the days your customers usually leave between orders (the median): the moment for a reminder.",
    },
    "holiday-season-first-buyer": {
      key: "holiday-season-first-buyer",
      name: "Holiday-season first buyers",
      description: `Placed their first order in the holiday season (${seasonWords(o.holidaySeason ?? DEFAULT_HOLIDAY_SEASON)}, any year; set in Settings).`,
    },
    "cart-abandoner": {
      key: "cart-abandoner",
      name: "Cart abandoners (last 30 days)",
      description:
        `Started a checkout in the last ${CART_ABANDONMENT_WINDOW_DAYS} days and did not complete it: ` +
        "no order came from it and they have not ordered since.",
    },
  };
}

function checkShare(value: number, name: string): void {
  if (!(value > 0 && value <= 1)) throw new RangeError(`${name} ${value} must be a share above 0 and at most 1`);
}

function resolveOptions(opts: BehaviourOptions) {
  const o = { ...DEFAULT_BEHAVIOUR_OPTIONS, ...stripUndefined(opts) };
  checkShare(o.bigSpenderShare, "bigSpenderShare");
  checkShare(o.highAovShare, "highAovShare");
  checkShare(o.vipShare, "vipShare");
  if (!(o.discountShopperShare >= 0 && o.discountShopperShare < 1)) {
    throw new RangeError(`discountShopperShare ${o.discountShopperShare} must be at least 0 and below 1`);
  }
  if (!(o.atRiskPAlive > 0 && o.atRiskPAlive <= 1)) throw new RangeError(`atRiskPAlive ${o.atRiskPAlive} must be above 0 and at most 1`);
  if (!(o.oneAndDoneMultiplier > 0)) throw new RangeError(`oneAndDoneMultiplier ${o.oneAndDoneMultiplier} must be positive`);
  if (!(o.oneAndDoneFloorDays >= 0)) throw new RangeError(`oneAndDoneFloorDays ${o.oneAndDoneFloorDays} must be 0 or more`);
  const median = opts.medianDaysToSecondOrder;
  if (median !== undefined && median !== null && !(median >= 0)) {
    throw new RangeError(`medianDaysToSecondOrder ${median} must be 0 or more`);
  }
  const between = opts.medianDaysBetweenOrders;
  if (between !== undefined && between !== null && !(between >= 0)) {
    throw new RangeError(`medianDaysBetweenOrders ${between} must be 0 or more`);
  }
  if (opts.holidaySeason) {
    for (const part of [opts.holidaySeason.start, opts.holidaySeason.end]) {
      const problem = monthDayProblem(part);
      if (problem) throw new RangeError(`holidaySeason: ${problem}`);
    }
  }
  return o;
}

const MONTH_WORDS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "Nov 15 to Dec 31". */
export function seasonWords(season: HolidaySeason): string {
  const words = (monthDay: string) => {
    const [month, day] = monthDay.split("-").map(Number);
    return `${MONTH_WORDS[month - 1]} ${day}`;
  };
  return `${words(season.start)} to ${words(season.end)}`;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function checkCustomer(c: BehaviourInput, index: number): void {
  const where = `customers[${index}]`;
  if (!Number.isInteger(c.orders) || c.orders < 0) throw new RangeError(`${where}.orders must be a whole number of 0 or more`);
  if (!Number.isInteger(c.discountedOrders) || c.discountedOrders < 0 || c.discountedOrders > c.orders) {
    throw new RangeError(`${where}.discountedOrders must be a whole number between 0 and orders`);
  }
  if (!Number.isFinite(c.netSpent)) throw new RangeError(`${where}.netSpent is not a finite number`);
  if (!Number.isFinite(c.daysSinceLastOrder)) throw new RangeError(`${where}.daysSinceLastOrder is not a finite number`);
  if (c.aov != null && !Number.isFinite(c.aov)) throw new RangeError(`${where}.aov is not a finite number`);
  if (c.pAlive != null && !(c.pAlive >= 0 && c.pAlive <= 1)) throw new RangeError(`${where}.pAlive must be between 0 and 1`);
  if (c.predictedClv != null && !Number.isFinite(c.predictedClv)) throw new RangeError(`${where}.predictedClv is not a finite number`);
}

function aovOf(c: BehaviourInput): number | null {
  if (c.orders === 0) return null;
  return c.aov ?? c.netSpent / c.orders;
}

/**
 * Least value of the top `share` of `values`, tie-consistent: the smallest observed value v
 * such that at most share x n values are >= v. Only positive values qualify. null when no
 * value does (e.g. a tie at the top bigger than the share).
 */
export function topShareThreshold(values: ArrayLike<number>, share: number): number | null {
  checkShare(share, "share");
  const n = values.length;
  // The epsilon keeps 0.57 x 100 (= 56.99999999999999 in floating point) at 57.
  const limit = Math.floor(share * n + 1e-9);
  if (limit === 0) return null;
  const sorted = Float64Array.from(values).sort().reverse(); // highest first
  let threshold: number | null = null;
  let position = 0;
  while (position < n) {
    const value = sorted[position];
    let end = position + 1;
    while (end < n && sorted[end] === value) end++;
    if (end > limit || !(value > 0)) break;
    threshold = value;
    position = end;
  }
  return threshold;
}

/** The thresholds the rules resolve to for these customers. */
export function behaviourThresholds(customers: readonly BehaviourInput[], opts: BehaviourOptions = {}): BehaviourThresholds {
  const o = resolveOptions(opts);
  const spend: number[] = [];
  const aov: number[] = [];
  const clv: number[] = [];
  customers.forEach((c, index) => {
    checkCustomer(c, index);
    if (c.orders === 0) return;
    spend.push(c.netSpent);
    aov.push(aovOf(c) as number);
    if (c.predictedClv != null) clv.push(c.predictedClv);
  });
  const median = opts.medianDaysToSecondOrder;
  const between = opts.medianDaysBetweenOrders;
  return {
    dueToReorderOverdueDays: between == null ? null : between,
    holidaySeason: o.holidaySeason ?? DEFAULT_HOLIDAY_SEASON,
    bigSpenderMinNetSpent: topShareThreshold(spend, o.bigSpenderShare),
    highAovMin: topShareThreshold(aov, o.highAovShare),
    vipMinPredictedClv: topShareThreshold(clv, o.vipShare),
    discountShopperShare: o.discountShopperShare,
    atRiskPAlive: o.atRiskPAlive,
    oneAndDoneDays: median == null ? o.oneAndDoneFloorDays : Math.max(o.oneAndDoneFloorDays, o.oneAndDoneMultiplier * median),
  };
}

/** The behavioural segments of one customer, given the shop's thresholds. */
export function behaviouralSegmentsOf(c: BehaviourInput, t: BehaviourThresholds): BehaviouralSegmentKey[] {
  if (c.orders === 0) return withCartAbandonment([], c.daysSinceAbandonedCheckout);
  const keys: BehaviouralSegmentKey[] = [];
  keys.push(c.orders === 1 ? "first-time-buyer" : "repeat-buyer");
  if (t.bigSpenderMinNetSpent !== null && c.netSpent >= t.bigSpenderMinNetSpent) keys.push("big-spender");
  const aov = aovOf(c) as number;
  if (t.highAovMin !== null && aov >= t.highAovMin) keys.push("high-aov");
  if (c.discountedOrders > t.discountShopperShare * c.orders) keys.push("discount-shopper");
  if (c.discountedOrders === 0) keys.push("full-price-buyer");
  if (t.vipMinPredictedClv !== null && c.predictedClv != null && c.predictedClv >= t.vipMinPredictedClv) keys.push("vip");
  if (c.orders >= 2 && c.pAlive != null && c.pAlive < t.atRiskPAlive) keys.push("at-risk-repeat-buyer");
  if (c.orders === 1 && c.daysSinceLastOrder > t.oneAndDoneDays) keys.push("one-and-done-lost");
  const until = c.daysUntilExpectedNextOrder;
  if (t.dueToReorderOverdueDays != null && until != null && until <= DUE_TO_REORDER_AHEAD_DAYS && until > -t.dueToReorderOverdueDays) {
    keys.push("due-to-reorder");
  }
  if (t.holidaySeason && c.firstOrderDay != null && inHolidaySeason(c.firstOrderDay, t.holidaySeason)) keys.push("holiday-season-first-buyer");
  if (isCartAbandoner(c.daysSinceAbandonedCheckout)) keys.push("cart-abandoner");
  return keys;
}

/** Behavioural segment keys per customer id (customers with no orders get none). */
export function behaviouralSegments(
  customers: readonly BehaviourInput[],
  opts: BehaviourOptions = {},
): Map<string, BehaviouralSegmentKey[]> {
  const thresholds = behaviourThresholds(customers, opts);
  const result = new Map<string, BehaviouralSegmentKey[]>();
  for (const c of customers) result.set(c.customerId, behaviouralSegmentsOf(c, thresholds));
  return result;
}
