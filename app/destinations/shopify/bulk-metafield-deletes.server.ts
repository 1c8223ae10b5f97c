import { type BulkMutationOptions, runBulkMutation } from "./bulk-mutation.server";
import { type AdminGraphqlClient } from "./definitions.server";
import { TENURE_METAFIELD_NAMESPACE, customerGid } from "./metafields";

// Deleting many customers' metafields through one bulk mutation (issue 15, review of the
// write-back): the first full pass (nothing known to be held: a first install or a reinstall)
// deletes every key a customer has no value for, about a million identifiers for a 1M shop.
// As live metafieldsDelete calls that is 40,000+ calls and an hour of the shop's cost bucket;
// as bulk operations it draws nothing from the bucket (bulk-mutation.server.ts).
//
// Each JSONL line is the variables of ONE metafieldsDelete call of whole customers, at most
// DELETES_PER_CALL identifiers. metafieldsDelete documents no limit per call; 25 is the one
// metafieldsSet has, kept here too. A metafield that does not exist comes back null in
// deletedMetafields, not as an error (https://shopify.dev/docs/api/admin-graphql/latest/mutations/metafieldsDelete),
// so a line answered without userErrors confirms its customers. A line with userErrors, with
// top-level errors or without a result (the operation failed or was canceled) confirms none of
// its customers: they are returned for the caller to resend one by one (the live path pins a
// refusal on its customer).

export const DELETES_PER_CALL = 25;

export const BULK_METAFIELDS_DELETE = `mutation TenureBulkMetafieldsDelete($metafields: [MetafieldIdentifierInput!]!) {
  metafieldsDelete(metafields: $metafields) { userErrors { field message } }
}`;

export interface CustomerMetafieldDeletes {
  /** Shopify's customer id (decimal). */
  customerId: string;
  keys: readonly string[];
}

/** Greedy packing in order: as many whole customers as fit in `limit` (a customer larger than it goes alone). */
export function packWhole<T>(items: readonly T[], sizeOf: (item: T) => number, limit: number): T[][] {
  const packs: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const item of items) {
    if (size + sizeOf(item) > limit && current.length > 0) {
      packs.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += sizeOf(item);
  }
  if (current.length > 0) packs.push(current);
  return packs;
}

/**
 * Deletes the customers' metafields as one bulk mutation operation and returns the customers
 * it could not confirm (to resend live). Transient trouble of the operation is thrown
 * (DestinationRetryableError from runBulkMutation).
 */
export async function deleteMetafieldsInBulk(
  admin: AdminGraphqlClient,
  shop: string,
  targets: readonly CustomerMetafieldDeletes[],
  options: Pick<BulkMutationOptions, "pollIntervalMs"> & { namespace?: string } = {},
): Promise<CustomerMetafieldDeletes[]> {
  const namespace = options.namespace ?? TENURE_METAFIELD_NAMESPACE;
  const lines = packWhole(targets.filter((target) => target.keys.length > 0), (target) => target.keys.length, DELETES_PER_CALL);
  if (lines.length === 0) return [];
  const result = await runBulkMutation(
    admin,
    shop,
    BULK_METAFIELDS_DELETE,
    lines.map((line) =>
      JSON.stringify({ metafields: line.flatMap((target) => target.keys.map((key) => ({ ownerId: customerGid(target.customerId), namespace, key }))) }),
    ),
    options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs },
  );
  return lines.flatMap((line, index) => {
    const answer = result.results.get(index);
    const payload = (answer?.data as { metafieldsDelete?: { userErrors?: unknown[] } | null } | null | undefined)?.metafieldsDelete;
    const confirmed = answer !== undefined && (answer.errors?.length ?? 0) === 0 && payload != null && (payload.userErrors?.length ?? 0) === 0;
    return confirmed ? [] : line;
  });
}
