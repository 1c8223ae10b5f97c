// The segment templates' logic and data, kept out of the extension's entry so it is
// unit-tested (tests/extensions/segment-templates.test.ts): Tenure's segments, the query of
// each, and the namespace Shopify gave Tenure's metafields on this shop.
//
// The extension is bundled on its own and cannot import app/, so the segments' names and
// descriptions (app/analytics, the glossary) and the query grammar
// (app/destinations/shopify/segment-query.ts) are repeated here; the test asserts they
// equal the app's, query for query, so a change there fails until this file follows.

export interface TenureSegment {
  key: string;
  /** RFM segments filter on the RFM segment metafield (=), behaviours on the behaviours list (CONTAINS). */
  kind: "rfm" | "behaviour";
  name: string;
  description: string;
}

export const TENURE_SEGMENTS: readonly TenureSegment[] = [
  { key: "champions", kind: "rfm", name: "Champions", description: "Ordered very recently, order often and spend the most." },
  { key: "loyal", kind: "rfm", name: "Loyal", description: "Order often and spend well, though their last order was not the most recent." },
  { key: "potential-loyalist", kind: "rfm", name: "Potential loyalist", description: "Ordered recently, with a few orders or a good-sized basket so far." },
  { key: "new", kind: "rfm", name: "New", description: "Placed their first order very recently." },
  { key: "promising", kind: "rfm", name: "Promising", description: "Ordered fairly recently, once or rarely, and spent little so far." },
  { key: "need-attention", kind: "rfm", name: "Need attention", description: "Middle of the road on recency, orders and spend." },
  { key: "about-to-sleep", kind: "rfm", name: "About to sleep", description: "Have not ordered for a while and ordered or spent little: slipping away." },
  { key: "at-risk", kind: "rfm", name: "At risk", description: "Ordered several times and spent well, but not for a long time. By scores. At-risk repeat buyers is by the model: any repeat buyer it thinks has likely stopped, whatever their scores." },
  { key: "cant-lose-them", kind: "rfm", name: "Can't lose them", description: "Among your best customers by orders and spend, but they have not ordered for a long time. The best of those At risk by orders and spend." },
  { key: "hibernating", kind: "rfm", name: "Hibernating", description: "Last order long ago, few orders and low spend. Not as long gone as Lost." },
  { key: "lost", kind: "rfm", name: "Lost", description: "Longest since their last order, with few orders and low spend. By scores. One-and-done, lost is any one-order customer gone long, whatever their spend." },
  { key: "first-time-buyer", kind: "behaviour", name: "First-time buyers", description: "Placed exactly one order." },
  { key: "repeat-buyer", kind: "behaviour", name: "Repeat buyers", description: "Placed two or more orders." },
  { key: "big-spender", kind: "behaviour", name: "Big spenders", description: "The top 10% of customers by spent to date (orders after refunds)." },
  { key: "high-aov", kind: "behaviour", name: "High order value", description: "The top 10% of customers by average order value (spent to date divided by orders)." },
  { key: "discount-shopper", kind: "behaviour", name: "Discount shoppers", description: "Used a discount code on more than half of their orders." },
  { key: "full-price-buyer", kind: "behaviour", name: "Full-price buyers", description: "Never used a discount code." },
  { key: "vip", kind: "behaviour", name: "VIP", description: "The top 5% of customers by expected spend over your horizon." },
  { key: "at-risk-repeat-buyer", kind: "behaviour", name: "At-risk repeat buyers", description: "Ordered two or more times, but the model gives them less than a 30% chance of still being active. By the model, whatever their RFM segment; At risk is by scores." },
  { key: "one-and-done-lost", kind: "behaviour", name: "One-and-done, lost", description: "Ordered once and not again for longer than 2 times the days your customers usually take to order a second time (the median), and at least 180 days. Can overlap Lost, which is by scores and also needs low spend." },
  { key: "due-to-reorder", kind: "behaviour", name: "Due to reorder", description: "The model expects their next order within the next 7 days, or it is overdue by less than the days your customers usually leave between orders (the median): the moment for a reminder." },
  { key: "holiday-season-first-buyer", kind: "behaviour", name: "Holiday-season first buyers", description: "Placed their first order in the holiday season (Nov 15 to Dec 31, any year; set in Settings)." },
  { key: "cart-abandoner", kind: "behaviour", name: "Cart abandoners (last 30 days)", description: "Started a checkout in the last 30 days and did not complete it: no order came from it and they have not ordered since. From Shopify's checkouts, kept current as checkouts and orders arrive, and as the 30 days pass (nightly). The only behaviour a customer without orders can have." },
];

/** Tenure's metafield keys (app/destinations/shopify/metafields.ts TENURE_METAFIELD_KEYS). */
export const RFM_SEGMENT_KEY = "rfm_segment";
export const BEHAVIOURS_KEY = "behaviours";

/** When the templates were published: admin marks templates younger than a month "New". */
export const TEMPLATES_CREATED_ON = "2026-12-06T00:00:00.000Z";

/**
 * Reads the namespace "$app" resolved to on this shop (app--<id>): segment queries name the
 * resolved namespace. Runs with the app's own access, through admin's direct API.
 */
export const NAMESPACE_QUERY = `query TenureSegmentTemplatesNamespace {
  metafieldDefinitions(first: 1, ownerType: CUSTOMER, namespace: "$app", key: "${RFM_SEGMENT_KEY}") {
    nodes { namespace }
  }
}`;

// The namespace as the segment query grammar takes it (segment-query.ts: letters, digits, hyphens, underscores).
const NAMESPACE = /^[A-Za-z0-9_-]{2,255}$/;

/** The resolved namespace from NAMESPACE_QUERY's answer; null when Tenure has not created its definitions on this shop yet. */
export function namespaceOf(result: { data?: unknown } | null | undefined): string | null {
  const data = result?.data as { metafieldDefinitions?: { nodes?: { namespace?: unknown }[] } } | undefined;
  const namespace = data?.metafieldDefinitions?.nodes?.[0]?.namespace;
  return typeof namespace === "string" && NAMESPACE.test(namespace) && namespace !== "$app" ? namespace : null;
}

/** The Shopify segment query of one Tenure segment, as segmentQuery in app/ builds it. */
export function templateQuery(segment: TenureSegment, namespace: string): string {
  return segment.kind === "rfm"
    ? `metafields.${namespace}.${RFM_SEGMENT_KEY} = '${segment.key}'`
    : `metafields.${namespace}.${BEHAVIOURS_KEY} CONTAINS '${segment.key}'`;
}

export interface SegmentTemplate {
  title: string;
  description: string | string[];
  query: string;
  queryToInsert: string;
  createdOn: string;
}

/** One template per Tenure segment, named as Tenure publishes segments ("Tenure: <name>"). */
export function segmentTemplates(namespace: string): SegmentTemplate[] {
  return TENURE_SEGMENTS.map((segment) => {
    const query = templateQuery(segment, namespace);
    return {
      title: `Tenure: ${segment.name}`,
      description: [segment.description, "Kept current by Tenure from each customer's orders."],
      query,
      queryToInsert: query,
      createdOn: TEMPLATES_CREATED_ON,
    };
  });
}

type Query = (query: string) => Promise<{ data?: unknown }>;

/** The templates for this shop; none (never an error in the segment editor) until Tenure's metafields exist or when the lookup fails. */
export async function loadSegmentTemplates(query: Query): Promise<SegmentTemplate[]> {
  try {
    const namespace = namespaceOf(await query(NAMESPACE_QUERY));
    return namespace ? segmentTemplates(namespace) : [];
  } catch {
    return [];
  }
}
