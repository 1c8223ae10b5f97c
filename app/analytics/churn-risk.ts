// A customer "at risk of churning", as Shopify Flow's churn-risk trigger fires it
// (app/destinations/flow): their chance of ordering in the next 90 days is below the shop's
// threshold (Settings, "Shopify Flow"). Pure.

/** The threshold when Settings has none: below a 20 % chance of ordering in 90 days. */
export const DEFAULT_CHURN_RISK_THRESHOLD = 0.2;

/** Below the threshold; null when there is no prediction (neither at risk nor safe). */
export function isAtRisk(chanceOfOrder90d: number | null, threshold: number): boolean | null {
  return chanceOfOrder90d === null ? null : chanceOfOrder90d < threshold;
}
