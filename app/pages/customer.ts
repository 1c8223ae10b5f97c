import { type ShopCosts } from "~/data/aggregates";
import { type ShopModelAssumptions } from "~/analytics/clv/shop-model";

// One customer's page as the loader and the route see it (no server code); the loader is
// customer.server.ts.

export const TIMELINE_ORDER_LIMIT = 100;
export const TRANSITION_LIMIT = 50;
/** Points of the P(alive) curve at most (weekly, or sparser for long histories). */
export const P_ALIVE_POINTS = 104;

export interface TimelineOrder {
  id: string;
  name: string | null;
  processedAtIso: string;
  netMinor: number;
  currentTotalMinor: number;
  test: boolean;
  /** Left out by Settings (order tag, channel or customer tag): counts as nothing. */
  excludedBySettings: boolean;
  cancelled: boolean;
  financialStatus: string | null;
  sourceName: string | null;
  discountCodes: string[];
  lineItemCount: number;
  firstProductTitle: string | null;
}

export interface CustomerDetail {
  id: string;
  name: string;
  email: string | null;
  currency: string;
  /** Settings' horizon (named in expected spend) and margin (the money basis toggle). */
  horizonDays: number;
  grossMargin: number;
  /** Product costs as of the last refit (issue 17): the money basis takes its profit margin from them. */
  costs?: ShopCosts | null;
  tags: string[];
  shopifyOrdersCount: number;
  metrics: {
    orders: number;
    netSpentMinor: number;
    /** Gross profit to date and the net sales in it whose cost is unknown (fell back to the margin): issue 17. */
    grossProfitMinor: number;
    uncostedSalesMinor: number;
    aovMinor: number | null;
    discountedOrders: number;
    firstOrderIso: string | null;
    lastOrderIso: string | null;
    recencyDays: number | null;
    scores: { r: number; f: number; m: number } | null;
    segment: string | null;
    segmentName: string;
    behaviours: { key: string; name: string }[];
    pAlive: number | null;
    /** Chance of at least one order in the next 90 days / 365 days, 0..1. */
    chanceOfOrder90d: number | null;
    chanceOfOrder365d: number | null;
    expectedPurchases90d: number | null;
    expectedPurchases365d: number | null;
    expectedOrderValueMinor: number | null;
    predictedClvMinor: number | null;
    expectedNextOrderIso: string | null;
    asOfIso: string;
    computedAtIso: string;
  } | null;
  orders: TimelineOrder[];
  /** Orders stored for the customer (the timeline shows the latest TIMELINE_ORDER_LIMIT). */
  storedOrders: number;
  transitions: { fromName: string; toName: string; from: string | null; to: string | null; atIso: string; source: string }[];
  /** P(alive) by day from the stored model; empty without a model or orders. */
  pAliveHistory: { dayIso: string; pAlive: number }[];
  prediction: {
    /** "ready" | "no-predictions" | "failed" | "none" (not fitted yet). */
    status: string;
    reason: string | null;
    /** Where the predicted figures come from: "model", "averages" (the estimate from averages, the same for everyone) or null. */
    source: "model" | "averages" | null;
    modelName: string | null;
    assumptions: ShopModelAssumptions | null;
    fitAsOfIso: string | null;
  };
}
