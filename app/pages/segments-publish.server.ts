import { readShopifySegments } from "~/data/shopify-segments.server";
import { type Queryable } from "~/db/pg.server";
import { type AdminGraphqlClient } from "~/destinations/shopify/definitions.server";
import { SegmentPublishError, publishShopifySegment, shopifySegmentAdminUrl } from "~/destinations/shopify/segments.server";
import { destinationSegmentName } from "~/display/profile-properties";
import { segmentKindOf } from "~/display/segment-names";
import { consoleLogger, errorMessage } from "~/lib/log.server";
import { crossSiteRefusal } from "./integrations.server";
import { PUBLISH_INTENT, type PublishedSegmentState, type SegmentPublishResult } from "./segments-publish";

// The Segments page's "Publish to Shopify" (issue 15, part 2): the action publishes one Tenure
// segment as a Shopify customer segment through the request's own Admin API context, then and
// there (one mutation, the merchant waits for its answer); the loader shows each published
// segment's link in Shopify admin, whether its name still matches the merchant's label (a
// relabel is followed automatically: updatePublishedShopifySegments) and Shopify's refusal of
// the last automatic update, which the same button tries again.

/** The shop's published segments by key, for the Segments page. */
export async function loadPublishedSegments(db: Queryable, shop: string, labels: Readonly<Record<string, string>>): Promise<Record<string, PublishedSegmentState>> {
  const rows = await readShopifySegments(db, shop);
  return Object.fromEntries(
    rows.map((row) => [
      row.segmentKey,
      {
        name: row.name,
        adminUrl: shopifySegmentAdminUrl(shop, row.shopifySegmentId),
        updatedAtIso: row.updatedAt.toISOString(),
        nameCurrent: row.name === destinationSegmentName(row.segmentKey, labels),
        lastError: row.lastError,
      },
    ]),
  );
}

/** What the Remix admin context offers: `admin.graphql(query, { variables })` answering a Response. */
export type RequestGraphql = (query: string, options?: { variables?: Record<string, unknown> }) => Promise<Response>;

/** The request's Admin API context as the client destinations/ expect. */
export function requestAdminClient(graphql: RequestGraphql): AdminGraphqlClient {
  return {
    async request<T>(_shop: string, query: string, variables?: Record<string, unknown>): Promise<T> {
      const response = await graphql(query, { variables });
      const body = (await response.json()) as { data?: T; errors?: unknown };
      if (!body.data) throw new Error(`Shopify answered without data: ${JSON.stringify(body.errors ?? body)}`);
      return body.data;
    },
  };
}

const SUCCESS: Record<"created" | "updated" | "unchanged", (name: string) => string> = {
  created: (name) => `"${name}" is now a customer segment in Shopify. Shopify Email, discounts and marketing apps can target it.`,
  updated: (name) => `Updated "${name}" in Shopify.`,
  unchanged: (name) => `"${name}" is already up to date in Shopify.`,
};

/** The action: method, origin, form and key checked; `admin` null in demo mode without the demo's fake Shopify (SHOPIFY_ADMIN_API_URL). */
export async function submitSegmentPublish(
  deps: { db: Queryable; admin: AdminGraphqlClient | null },
  shop: string,
  request: Request,
  appUrl: string | null,
): Promise<{ status: number; result: SegmentPublishResult }> {
  const refuse = (status: number, message: string, segmentKey: string | null = null) => ({ status, result: { ok: false, segmentKey, message } });
  if (request.method.toUpperCase() !== "POST") return refuse(405, `${request.method} is not how this page changes anything: use its buttons.`);
  const crossSite = crossSiteRefusal(request, appUrl);
  if (crossSite) return refuse(403, crossSite);
  let form: FormData;
  try {
    form = await request.formData();
  } catch {
    return refuse(400, "The form could not be read. Reload the page and try again.");
  }
  if (form.get("intent") !== PUBLISH_INTENT) return refuse(400, "Unknown action.");
  const segmentKey = String(form.get("segmentKey") ?? "");
  if (!segmentKindOf(segmentKey)) return refuse(400, `There is no segment called "${segmentKey}".`);
  if (!deps.admin) {
    return refuse(
      400,
      "Publishing to Shopify is not available in demo mode here: there is no Shopify store behind the demo shop (npm run demo starts a local fake of Shopify for it).",
      segmentKey,
    );
  }
  try {
    const outcome = await publishShopifySegment({ db: deps.db, admin: deps.admin }, shop, segmentKey);
    return { status: 200, result: { ok: true, segmentKey, message: SUCCESS[outcome.action](outcome.name) } };
  } catch (error) {
    if (error instanceof SegmentPublishError) return refuse(422, error.message, segmentKey);
    consoleLogger.error("segment publish failed", { shop, segmentKey, error: errorMessage(error) });
    return refuse(502, "Shopify did not answer, so the segment was not published. Try again in a minute.", segmentKey);
  }
}
