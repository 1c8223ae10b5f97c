// The Segments page's "Publish to Shopify": what the browser and the server share.

export const PUBLISH_INTENT = "publish-shopify";

export interface SegmentPublishResult {
  ok: boolean;
  segmentKey: string | null;
  message: string;
}

export interface PublishedSegmentState {
  /** The name Shopify has. */
  name: string;
  adminUrl: string;
  updatedAtIso: string;
  /** False when the merchant relabelled the segment since and Shopify has not taken the new name yet (the worker renames it). */
  nameCurrent: boolean;
  /** Shopify's refusal of the last automatic update, in the merchant's words (publishing again is the retry); null: none. */
  lastError: string | null;
}

/**
 * What a merchant should know before publishing a segment whose rule Shopify's own segment
 * filters cannot state; the published segment filters on Tenure's behaviours metafield, as
 * every published segment does.
 */
export const PUBLISH_NOTES: Readonly<Record<string, string>> = {
  "due-to-reorder":
    "Shopify's own filters cannot compare a customer's expected next order with today, so in Shopify this segment filters on Tenure's " +
    "behaviours metafield: customers move in and out as Tenure rescores them, after each order and every night.",
  "cart-abandoner":
    "Shopify's own filters cannot say “and has not ordered since” (abandoned_checkout_date counts customers who came back and bought), " +
    "so in Shopify this segment filters on Tenure's behaviours metafield: it follows Tenure within minutes, and the 30-day window after each nightly analysis.",
};
