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
