import { readShopMetafieldDefinitions } from "~/data/shop-metafield-definitions.server";
import { loadMetricsSettings } from "~/data/settings.server";
import { type ShopifySegmentRow, readShopifySegment, readShopifySegments, recordShopifySegment, recordShopifySegmentError } from "~/data/shopify-segments.server";
import { type Queryable } from "~/db/pg.server";
import { destinationSegmentName } from "~/display/profile-properties";
import { segmentKindOf } from "~/display/segment-names";
import { enqueueDestination } from "~/queues/enqueue.server";
import { type AdminGraphqlClient } from "./definitions.server";
import { shopifySegmentQuery } from "./segment-query";

// Publishes a Tenure segment as a Shopify customer segment (issue 15, part 2): segmentCreate
// the first time, named "Tenure: <segment name>" (the merchant's label when set) with the
// query of shopifySegmentQuery on the namespace the shop's metafield definitions resolved to;
// segmentUpdate later when the name or the query differ from what Shopify last accepted;
// nothing when they are equal. Shopify's userErrors come back as one sentence and nothing is
// stored. The Admin client is passed in (destinations/ may not import integrations/).
//
// Docs: segmentCreate (name must be unique, else the userError "Name has already been
// taken" on field ["name"]), segmentUpdate (id, optional name and query), both answering
// { segment, userErrors { field message } }
// (https://shopify.dev/docs/api/admin-graphql/latest/mutations/segmentCreate).

/** The mutations Tenure sends (tests/destinations/shopify-segments.test.ts sends the same to the fake). */
export const SEGMENT_CREATE = `#graphql
  mutation TenureSegmentCreate($name: String!, $query: String!) {
    segmentCreate(name: $name, query: $query) { segment { id name query } userErrors { field message } }
  }`;

export const SEGMENT_UPDATE = `#graphql
  mutation TenureSegmentUpdate($id: ID!, $name: String, $query: String) {
    segmentUpdate(id: $id, name: $name, query: $query) { segment { id name query } userErrors { field message } }
  }`;

export interface SegmentPayload {
  segment: { id: string; name: string; query: string } | null;
  userErrors: { field?: string[] | null; message: string }[];
}

/** Publishing refused or failed; `message` is a sentence a merchant can act on. */
export class SegmentPublishError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SegmentPublishError";
  }
}

export type PublishOutcome = { action: "created" | "updated" | "unchanged"; shopifySegmentId: string; name: string; query: string };

function userErrorsSentence(name: string, errors: SegmentPayload["userErrors"]): string {
  const taken = errors.some((error) => error.field?.includes("name") && /already been taken/i.test(error.message));
  if (taken) {
    return `Shopify already has a customer segment named "${name}" that Tenure did not create. Rename or delete it in Shopify admin (Customers › Segments), or give this segment another label in Settings, then publish again.`;
  }
  return `Shopify refused the segment "${name}": ${errors.map((error) => error.message.replace(/\.$/, "")).join("; ")}.`;
}

/**
 * Publishes (or re-publishes) one Tenure segment of the shop as a Shopify customer segment.
 * `recreateDeleted: false` (the automatic update) refuses, rather than makes again, a segment
 * the merchant deleted in Shopify admin: only the merchant's own publish brings it back.
 */
export async function publishShopifySegment(
  deps: { db: Queryable; admin: AdminGraphqlClient },
  shop: string,
  segmentKey: string,
  options: { recreateDeleted?: boolean } = {},
): Promise<PublishOutcome> {
  if (!segmentKindOf(segmentKey)) throw new SegmentPublishError(`"${segmentKey}" is not a Tenure segment.`);
  const [definitions, settings, published] = await Promise.all([
    readShopMetafieldDefinitions(deps.db, shop),
    loadMetricsSettings(deps.db, shop),
    readShopifySegment(deps.db, shop, segmentKey),
  ]);
  if (!definitions?.namespace) {
    throw new SegmentPublishError(
      "Tenure's customer metafields are not set up in your Shopify store yet, so a Shopify segment would have nothing to filter on. They are made on install and whenever Tenure starts; try again in a few minutes.",
    );
  }
  const name = destinationSegmentName(segmentKey, settings.segmentLabels);
  const query = shopifySegmentQuery(segmentKey, definitions.namespace);

  if (published && published.name === name && published.query === query) {
    return { action: "unchanged", shopifySegmentId: published.shopifySegmentId, name, query };
  }
  const create = async () => (await deps.admin.request<{ segmentCreate: SegmentPayload }>(shop, SEGMENT_CREATE, { name, query })).segmentCreate;
  let action: PublishOutcome["action"] = published ? "updated" : "created";
  let payload = published
    ? (
        await deps.admin.request<{ segmentUpdate: SegmentPayload }>(shop, SEGMENT_UPDATE, {
          id: published.shopifySegmentId,
          name: published.name === name ? undefined : name,
          query: published.query === query ? undefined : query,
        })
      ).segmentUpdate
    : await create();
  // Deleted in Shopify admin since it was published: publishing makes it again.
  if (published && payload.userErrors.some((error) => error.field?.includes("id"))) {
    if (options.recreateDeleted === false) {
      throw new SegmentPublishError(
        `"${published.name}" was deleted in Shopify admin, so Tenure did not make it again. Publish it again here to bring it back under its new name.`,
      );
    }
    payload = await create();
    action = "created";
  }
  if (payload.userErrors.length > 0 || !payload.segment) throw new SegmentPublishError(userErrorsSentence(name, payload.userErrors));

  await recordShopifySegment(deps.db, shop, { segmentKey, shopifySegmentId: payload.segment.id, name, query });
  return { action, shopifySegmentId: payload.segment.id, name, query };
}

/** A published segment whose name or query differ from what Tenure would publish now, or which holds a refusal. */
export interface StaleShopifySegment {
  row: ShopifySegmentRow;
  name: string;
  query: string;
}

/**
 * The shop's published segments that an update would change (the merchant's label or the
 * query differ from what Shopify last accepted) or whose last update Shopify refused. None
 * while the metafield definitions' namespace is unknown: there is no query to compare with.
 */
export async function staleShopifySegments(db: Queryable, shop: string): Promise<StaleShopifySegment[]> {
  const rows = await readShopifySegments(db, shop);
  if (rows.length === 0) return [];
  const [definitions, settings] = await Promise.all([readShopMetafieldDefinitions(db, shop), loadMetricsSettings(db, shop)]);
  const namespace = definitions?.namespace;
  if (!namespace) return [];
  return rows
    .filter((row) => segmentKindOf(row.segmentKey))
    .map((row) => ({ row, name: destinationSegmentName(row.segmentKey, settings.segmentLabels), query: shopifySegmentQuery(row.segmentKey, namespace) }))
    .filter(({ row, name, query }) => row.name !== name || row.query !== query || row.lastError !== null);
}

export interface ShopifySegmentsUpdate {
  /** Keys whose Shopify segment was updated (or, holding a refusal that no longer applies, cleared). */
  updated: string[];
  /** Keys Shopify refused, the refusal kept on their row for the Segments page. */
  refused: string[];
}

/**
 * Brings every published segment of the shop up to date in Shopify (issue 15, part 2: renamed
 * or re-ruled segments are updated with segmentUpdate): after the merchant relabels segments
 * in Settings, after the definitions' namespace changes and after a deploy that changes the
 * query builder. Segments already equal cost no call. A refusal (the name is taken, the segment
 * was deleted in Shopify admin) is kept on its row, where the Segments page shows it and its
 * button tries again. Anything else (Shopify unreachable, 5xx after the client's own retries)
 * is thrown once the other segments were tried, so the job retries with backoff.
 */
export async function updatePublishedShopifySegments(deps: { db: Queryable; admin: AdminGraphqlClient }, shop: string): Promise<ShopifySegmentsUpdate> {
  const outcome: ShopifySegmentsUpdate = { updated: [], refused: [] };
  let failure: unknown = null;
  for (const { row, name, query } of await staleShopifySegments(deps.db, shop)) {
    if (row.name === name && row.query === query) {
      // Up to date again (relabelled back, say): the old refusal no longer applies.
      await recordShopifySegmentError(deps.db, shop, row.segmentKey, null);
      outcome.updated.push(row.segmentKey);
      continue;
    }
    try {
      await publishShopifySegment(deps, shop, row.segmentKey, { recreateDeleted: false });
      outcome.updated.push(row.segmentKey);
    } catch (error) {
      if (!(error instanceof SegmentPublishError)) {
        failure ??= error;
        continue;
      }
      await recordShopifySegmentError(deps.db, shop, row.segmentKey, error.message);
      outcome.refused.push(row.segmentKey);
    }
  }
  if (failure !== null) throw failure;
  return outcome;
}

/**
 * Asks the worker to update the shop's published segments (a `shopify-segments` job on the
 * destinations queue, one per shop at a time) when any is stale; nothing is queued otherwise.
 * Returns how many are stale. Throws when Redis cannot take the job.
 */
export async function requestShopifySegmentsUpdate(db: Queryable, shop: string): Promise<number> {
  const stale = await staleShopifySegments(db, shop);
  if (stale.length > 0) await enqueueDestination({ task: "shopify-segments", shop });
  return stale.length;
}

/** The segment's page in Shopify admin (https://admin.shopify.com/store/<store>/customers/segments/<id>). */
export function shopifySegmentAdminUrl(shop: string, shopifySegmentId: string): string {
  const store = shop.replace(/\.myshopify\.com$/, "");
  const numericId = shopifySegmentId.slice(shopifySegmentId.lastIndexOf("/") + 1);
  return `https://admin.shopify.com/store/${encodeURIComponent(store)}/customers/segments/${encodeURIComponent(numericId)}`;
}
