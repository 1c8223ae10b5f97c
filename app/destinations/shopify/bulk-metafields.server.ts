import { type AdminGraphqlClient } from "./definitions.server";
import { type TenureMetafieldValue } from "./metafields";

// The bulk-mutation path of the metafield write-back (issue 15, part 1): after a refit
// rewrites every customer, large batches go to Shopify as one bulk operation (a staged
// upload of JSONL, then bulkOperationRunMutation running metafieldsSet per line) instead of
// thousands of metafieldsSet calls. Being built: this file holds the agreed signature.

/** One customer's metafields to set (values already differing from what Shopify holds). */
export interface CustomerMetafieldWrite {
  /** Shopify's customer id (decimal). */
  customerId: string;
  set: readonly TenureMetafieldValue[];
}

/** Per customer: written, or refused for good with Shopify's reason (userErrors). Transient trouble is thrown. */
export type CustomerWriteOutcome = { customerId: string; ok: true } | { customerId: string; ok: false; reason: string };

export interface BulkWriteOptions {
  /** The namespace metafieldsSet writes under ("$app" by default). */
  namespace?: string;
  /** How often a running bulk operation is polled (ms). */
  pollIntervalMs?: number;
}

/**
 * Writes the customers' metafields through one or more bulk mutation operations (one running
 * per shop at a time) and returns one outcome per customer.
 */
export async function writeMetafieldsInBulk(
  _admin: AdminGraphqlClient,
  _shop: string,
  _writes: readonly CustomerMetafieldWrite[],
  _options: BulkWriteOptions = {},
): Promise<CustomerWriteOutcome[]> {
  throw new Error("writeMetafieldsInBulk: not built yet");
}
