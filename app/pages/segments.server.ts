import { type ShopCosts } from "~/data/aggregates";
import { type BehaviourThresholds, type BehaviouralSegmentKey, behaviouralSegmentDefinitions } from "~/analytics/behaviour";
import { DEFAULT_SEGMENT_RULES, type SegmentRule, describeRule } from "~/analytics/segments";
import { money, percent } from "~/display/format";
import { type SegmentKind, rfmDefinitionOf, segmentKindOf, segmentName } from "~/display/segment-names";
import { AGGREGATE_KIND, type SegmentRow, type SegmentsAggregate } from "~/data/aggregates";
import { loadAggregates } from "~/data/aggregates.server";
import { type AbandonedCart, type AbandonedCartsSummary, abandonedCartsSummary, latestAbandonedCarts } from "~/data/checkouts.server";
import { todayInZone } from "~/data/customer-metrics.server";
import { loadMetricsSettings } from "~/data/settings.server";
import { readFitSegmentRules } from "~/data/shop-fit.server";
import { type Queryable } from "~/db/pg.server";
import { type FitState } from "./fit-state";
import { loadFitState } from "./fit-state.server";
import { type PublishedSegmentState } from "./segments-publish";
import { loadPublishedSegments } from "./segments-publish.server";

// The segments table (RFM and behavioural, one aggregate row) and one segment's page: its
// rule in plain words, a suggested action and its figures. The segment's customers come
// from listCustomers (customer-list.server.ts) with the segment as a filter.

export interface SegmentsOverview {
  currency: string;
  /** Settings' horizon (named in the expected spend column) and margin (the money basis toggle). */
  horizonDays: number;
  grossMargin: number;
  /** Product costs as of the last refit (issue 17): the money basis takes its profit margin from them. */
  costs?: ShopCosts | null;
  fit: FitState;
  segments: SegmentsAggregate | null;
  /** Segments published as Shopify customer segments, by key. */
  published: Record<string, PublishedSegmentState>;
}

export async function loadSegmentsOverview(db: Queryable, shop: string): Promise<SegmentsOverview> {
  const [settings, fit, aggregates] = await Promise.all([
    loadMetricsSettings(db, shop),
    loadFitState(db, shop),
    loadAggregates(db, shop, [AGGREGATE_KIND.segments]),
  ]);
  const segments = (aggregates.get(AGGREGATE_KIND.segments)?.data as SegmentsAggregate | undefined) ?? null;
  return {
    currency: segments?.currency ?? settings.currency,
    horizonDays: settings.horizonDays,
    grossMargin: settings.grossMargin,
    costs: settings.costs ?? null,
    fit,
    segments: segments && { ...segments, rows: segments.rows.map((row) => ({ ...row, name: segmentName(row.key, settings.segmentLabels) })) },
    published: await loadPublishedSegments(db, shop, settings.segmentLabels),
  };
}

/** Suggested actions for behavioural segments (RFM segments carry theirs in SEGMENT_DEFINITIONS). */
export const BEHAVIOUR_ACTIONS: Readonly<Record<BehaviouralSegmentKey, string>> = {
  "first-time-buyer": "Make the second order easy: a post-purchase series, product tips and a reason to come back within your usual repeat window.",
  "repeat-buyer": "Keep them close: loyalty points, early access and recommendations based on what they reorder.",
  "big-spender": "Treat them personally: thank-you notes, previews of new ranges and service that goes beyond the usual.",
  "high-aov": "Show premium and bundled products; they respond to quality more than to discounts.",
  "discount-shopper": "Time offers to your promotions and test whether smaller discounts still convert; avoid training others to wait for codes.",
  "full-price-buyer": "Leave discounts out of their campaigns; highlight new products, quality and service instead.",
  vip: "Protect these customers first: personal outreach, exclusive access, and alerts when any of them stops ordering.",
  "at-risk-repeat-buyer": "Win them back now with a personal message and what they used to buy, before they are lost.",
  "one-and-done-lost": "Try one reactivation offer, then leave them out of paid campaigns to save budget.",
  "due-to-reorder": "Send the reminder now, with what they usually buy: their next order is due this week or just overdue.",
  "holiday-season-first-buyer":
    "Bring them back before next season: a reason to order outside the holidays, and early access when the season comes round.",
  "cart-abandoner":
    "Send a reminder within a day with their recovery link (below, or Shopify's abandoned checkouts), then one with a small incentive if they still have not ordered.",
};

export interface SegmentDetail {
  kind: SegmentKind;
  key: string;
  name: string;
  description: string;
  /** The rule in plain words (RFM: the score ranges; behaviour: the definition with this shop's thresholds). */
  rule: string[];
  action: string;
  currency: string;
  fit: FitState;
  /** The segment's figures from the segments aggregate; null before the first refit. */
  row: SegmentRow | null;
  /** Customers with an order (the share's denominator). */
  shopCustomers: number | null;
  /** The day of the refit that counted `row` and `shopCustomers`; null before the first refit. */
  countedAsOfIso: string | null;
  /** The merchant's segment names, for the customer table. */
  labels: Record<string, string>;
  horizonDays: number;
  grossMargin: number;
  /** Product costs as of the last refit (issue 17): the money basis takes its profit margin from them. */
  costs?: ShopCosts | null;
}

const SCORE_LEGEND =
  "R is recency (5: ordered most recently), F is the number of orders and M the spent to date (5: most), each scored 1 to 5 among your own customers.";

function rfmRuleWords(name: string, rules: readonly SegmentRule[]): string[] {
  const matching = rules.map((rule, index) => ({ rule, index })).filter(({ rule }) => rule.segment === name);
  if (matching.length === 0) return ["No rule in your segment rules puts customers in this segment, so it stays empty."];
  const words = matching.map(({ rule }) => describeRule(rule)).join("; or ");
  const lines = [`Customers with ${words}.`, SCORE_LEGEND];
  if (matching[0].index > 0) lines.push("Rules are tried in order: a customer who also fits an earlier rule is in that rule's segment instead.");
  return lines;
}

function behaviourRuleWords(key: BehaviouralSegmentKey, t: BehaviourThresholds | null, currency: string): string[] {
  const definitions = behaviouralSegmentDefinitions({
    discountShopperShare: t?.discountShopperShare,
    atRiskPAlive: t?.atRiskPAlive,
    holidaySeason: t?.holidaySeason,
  });
  const lines = [definitions[key].description];
  if (!t) {
    if (!["first-time-buyer", "repeat-buyer", "discount-shopper", "full-price-buyer", "cart-abandoner"].includes(key)) {
      lines.push("The thresholds are worked out at the first refit of your shop.");
    }
    return lines;
  }
  const nobody = "Right now nobody qualifies: too many customers share the top value.";
  switch (key) {
    case "big-spender":
      lines.push(t.bigSpenderMinNetSpent === null ? nobody : `Right now that is a spent to date of at least ${money(t.bigSpenderMinNetSpent, currency)} (revenue).`);
      break;
    case "high-aov":
      lines.push(t.highAovMin === null ? nobody : `Right now that is an average order value of at least ${money(t.highAovMin, currency)}.`);
      break;
    case "vip":
      lines.push(
        t.vipMinPredictedClv === null
          ? "Right now nobody qualifies: your shop has no predictions yet, or too many customers share the top value."
          : `Right now that is an expected spend over your horizon of at least ${money(t.vipMinPredictedClv, currency)} (revenue).`,
      );
      break;
    case "at-risk-repeat-buyer":
      lines.push(
        `P(alive) below ${percent(t.atRiskPAlive, 0)}: the model's view that they may have stopped, which keeps their chance of ordering in the next 90 days low too.`,
      );
      break;
    case "one-and-done-lost":
      lines.push(`Right now that is more than ${Math.round(t.oneAndDoneDays)} days since their only order.`);
      break;
    case "due-to-reorder":
      lines.push(
        t.dueToReorderOverdueDays === undefined
          ? "Customers join at the next refit of your shop."
          : t.dueToReorderOverdueDays === null
            ? "Right now nobody qualifies: your shop has no repeat orders to measure the usual gap by."
            : `Right now that is up to ${Math.round(t.dueToReorderOverdueDays)} days overdue. Kept current as orders arrive and every night.`,
      );
      break;
    default:
      break;
  }
  return lines;
}

/** One segment's page data, or null for a key that names no segment (the route answers 404). */
export async function loadSegment(db: Queryable, shop: string, key: string): Promise<SegmentDetail | null> {
  const kind = segmentKindOf(key);
  if (!kind) return null;
  const [settings, fit, aggregates, stored] = await Promise.all([
    loadMetricsSettings(db, shop),
    loadFitState(db, shop),
    loadAggregates(db, shop, [AGGREGATE_KIND.segments]),
    readFitSegmentRules(db, shop),
  ]);
  const segments = (aggregates.get(AGGREGATE_KIND.segments)?.data as SegmentsAggregate | undefined) ?? null;
  const row = segments?.rows.find((r) => r.kind === kind && r.key === key) ?? null;
  const currency = segments?.currency ?? settings.currency;
  const name = segmentName(key, settings.segmentLabels);
  if (kind === "rfm") {
    const definition = rfmDefinitionOf(key)!;
    // The rules the current scores were made with (the fit's), else the settings' rules.
    const fitRules = stored?.segmentRules;
    const rules = fitRules && fitRules.length > 0 ? fitRules : settings.segmentRules.length > 0 ? settings.segmentRules : DEFAULT_SEGMENT_RULES;
    return {
      kind,
      key,
      name,
      description: definition.description,
      rule: rfmRuleWords(definition.name, rules),
      action: definition.action,
      currency,
      fit,
      row,
      shopCustomers: segments?.customers ?? null,
      countedAsOfIso: segments?.asOfIso ?? null,
      labels: settings.segmentLabels,
      horizonDays: settings.horizonDays,
      grossMargin: settings.grossMargin,
      costs: settings.costs ?? null,
    };
  }
  const behaviourKey = key as BehaviouralSegmentKey;
  return {
    kind,
    key,
    name,
    description: behaviouralSegmentDefinitions()[behaviourKey].description,
    rule: behaviourRuleWords(behaviourKey, stored?.behaviourThresholds ?? null, currency),
    action: BEHAVIOUR_ACTIONS[behaviourKey],
    currency,
    fit,
    row,
    shopCustomers: segments?.customers ?? null,
    countedAsOfIso: segments?.asOfIso ?? null,
    labels: settings.segmentLabels,
    horizonDays: settings.horizonDays,
    grossMargin: settings.grossMargin,
    costs: settings.costs ?? null,
  };
}

/** "Cart abandoners": what is left in their carts, and where to recover each (issue 17). */
export interface AbandonedCartsView {
  summary: AbandonedCartsSummary;
  /** The shown customers' latest abandoned checkouts, by customer id. */
  carts: Record<string, AbandonedCart>;
  /** Shopify admin's list of abandoned checkouts. */
  adminUrl: string;
}

/** The cart-abandoner page's extra figures: the members' carts summed, and the shown customers' carts. */
export async function loadAbandonedCarts(db: Queryable, shop: string, shownCustomerIds: readonly string[], now = new Date()): Promise<AbandonedCartsView> {
  const settings = await loadMetricsSettings(db, shop);
  const asOfDay = todayInZone(settings.timezone, now);
  const [summary, carts] = await Promise.all([
    abandonedCartsSummary(db, shop, settings.timezone, asOfDay),
    latestAbandonedCarts(db, shop, settings.timezone, asOfDay, shownCustomerIds),
  ]);
  const store = shop.replace(/\.myshopify\.com$/, "");
  return {
    summary,
    carts: Object.fromEntries(carts.map((cart) => [cart.customerId, cart])),
    adminUrl: `https://admin.shopify.com/store/${encodeURIComponent(store)}/checkouts`,
  };
}
