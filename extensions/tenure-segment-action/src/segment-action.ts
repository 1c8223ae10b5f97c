// The segment action's logic, kept out of the UI file so it is unit-tested
// (tests/extensions/segment-action.test.ts): which Shopify segment admin shows, whether it is
// one of Tenure's (its query is the one app/destinations/shopify/segment-query.ts builds),
// and where in Tenure to go with it. No Preact, no globals: the Admin API query is passed in.

export const SEGMENT_QUERY = `query TenureSegmentAction($id: ID!) {
  segment(id: $id) { name query }
}`;

// Exactly the two forms Tenure publishes: an RFM segment (=) or a behaviour (CONTAINS) on
// Tenure's own metafields (namespace app--<id>); anything else is not Tenure's segment.
const TENURE_SEGMENT_QUERY = /^metafields\.app--[A-Za-z0-9_-]+\.(?:rfm_segment = |behaviours CONTAINS )'([a-z0-9-]+)'$/;

/** The Tenure segment key a Shopify segment query filters on, or null for a segment Tenure did not publish. */
export function tenureSegmentKeyOf(query: string): string | null {
  return TENURE_SEGMENT_QUERY.exec(query.trim())?.[1] ?? null;
}

/** A page of Tenure: admin extensions link to a path of their app with the app: protocol. */
const appLink = (path: string) => `app:${path.replace(/^\/+/, "")}`;

export type ActionState =
  | { kind: "loading" }
  | { kind: "tenure"; segmentName: string; key: string; segmentLink: string; integrationsLink: string }
  | { kind: "other"; segmentName: string; segmentsLink: string }
  | { kind: "error"; message: string };

export const LOADING: ActionState = { kind: "loading" };

type Query = (query: string, options: { variables: { id: string } }) => Promise<{ data?: unknown; errors?: unknown[] }>;

/** Reads the segment admin shows and says what Tenure can do with it; never throws. */
export async function loadActionState(selectedGid: string | null | undefined, query: Query): Promise<ActionState> {
  if (!/^gid:\/\/shopify\/Segment\/\d+$/.test(selectedGid ?? "")) return { kind: "error", message: "This page shows no customer segment." };
  try {
    const result = await query(SEGMENT_QUERY, { variables: { id: selectedGid! } });
    const segment = (result.data as { segment?: { name?: unknown; query?: unknown } | null } | undefined)?.segment;
    if (!segment || typeof segment.name !== "string" || typeof segment.query !== "string") {
      return { kind: "error", message: "Shopify did not return this segment. Reload the page and try again." };
    }
    const key = tenureSegmentKeyOf(segment.query);
    if (!key) return { kind: "other", segmentName: segment.name, segmentsLink: appLink("/app/segments") };
    return { kind: "tenure", segmentName: segment.name, key, segmentLink: appLink(`/app/segments/${key}`), integrationsLink: appLink("/app/integrations") };
  } catch {
    return { kind: "error", message: "Shopify could not be reached. Check your connection and try again." };
  }
}
