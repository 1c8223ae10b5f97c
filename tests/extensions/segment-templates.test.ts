import { type Output } from "@shopify/ui-extensions/admin.customers.segmentation-templates.data";
import { BEHAVIOURAL_SEGMENT_KEYS, behaviouralSegmentDefinitions } from "~/analytics/behaviour";
import { SEGMENT_DEFINITIONS } from "~/analytics/segments";
import { glossaryTerm } from "~/display/glossary";
import { BEHAVIOUR_VALUES, RFM_SEGMENT_VALUES, TENURE_METAFIELD_KEYS } from "~/destinations/shopify/metafields";
import { shopifySegmentQuery } from "~/destinations/shopify/segment-query";
import {
  BEHAVIOURS_KEY,
  loadSegmentTemplates,
  NAMESPACE_QUERY,
  namespaceOf,
  RFM_SEGMENT_KEY,
  segmentTemplates,
  TENURE_SEGMENTS,
  templateQuery,
} from "../../extensions/tenure-segment-templates/src/segment-templates";

// The segment templates extension repeats Tenure's segments and the segment query grammar
// (it cannot import app/): here they must equal the app's, name for name and query for
// query, and the extension offers no templates (never an error) until it can name Tenure's
// resolved metafield namespace.

const NAMESPACES = ["app--123456", "app--9876543210"];
const behaviours = behaviouralSegmentDefinitions();

describe("the segment templates extension", () => {
  it("lists every Tenure segment, RFM first, with the names and glossary definitions Tenure shows", () => {
    expect(TENURE_SEGMENTS.map((s) => s.key)).toEqual([...RFM_SEGMENT_VALUES, ...BEHAVIOUR_VALUES]);
    const expected = [
      ...Object.values(SEGMENT_DEFINITIONS).map((d) => ({ key: d.key, kind: "rfm", name: d.name })),
      ...BEHAVIOURAL_SEGMENT_KEYS.map((key) => ({ key, kind: "behaviour", name: behaviours[key].name })),
    ].map((s) => ({ ...s, description: glossaryTerm(`segment-${s.key}`).definition }));
    expect(TENURE_SEGMENTS).toEqual(expected);
  });

  it("builds each template's query exactly as app/destinations/shopify/segment-query.ts does, on Tenure's metafield keys", () => {
    expect({ rfm: RFM_SEGMENT_KEY, behaviours: BEHAVIOURS_KEY }).toEqual({ rfm: TENURE_METAFIELD_KEYS.rfmSegment, behaviours: TENURE_METAFIELD_KEYS.behaviours });
    for (const namespace of NAMESPACES) {
      for (const segment of TENURE_SEGMENTS) expect(templateQuery(segment, namespace), segment.key).toBe(shopifySegmentQuery(segment.key, namespace));
      const templates = segmentTemplates(namespace);
      expect(templates.map((t) => t.query)).toEqual(TENURE_SEGMENTS.map((s) => shopifySegmentQuery(s.key, namespace)));
    }
  });

  it("returns the target's output: titled as Tenure publishes segments, the query also the one inserted", () => {
    const output: Output = { templates: segmentTemplates("app--123456") };
    expect(output.templates[0]).toEqual({
      title: "Tenure: Champions",
      description: ["Ordered very recently, order often and spend the most.", "Kept current by Tenure from each customer's orders."],
      query: "metafields.app--123456.rfm_segment = 'champions'",
      queryToInsert: "metafields.app--123456.rfm_segment = 'champions'",
      createdOn: "2026-12-06T00:00:00.000Z",
    });
    expect(output.templates.find((t) => t.title === "Tenure: VIP")?.query).toBe("metafields.app--123456.behaviours CONTAINS 'vip'");
    expect(new Set(output.templates.map((t) => t.title)).size).toBe(output.templates.length);
  });

  it("reads the namespace '$app' resolved to on the shop, and offers nothing until Tenure's definitions exist or when the lookup fails", async () => {
    expect(NAMESPACE_QUERY).toContain(`namespace: "$app", key: "${TENURE_METAFIELD_KEYS.rfmSegment}"`);
    const answer = (nodes: unknown[]) => ({ data: { metafieldDefinitions: { nodes } } });
    expect(namespaceOf(answer([{ namespace: "app--123456" }]))).toBe("app--123456");
    for (const unusable of [answer([]), answer([{ namespace: "$app" }]), answer([{ namespace: "app--1 OR x" }]), { data: null }, {}, null]) {
      expect(namespaceOf(unusable as { data?: unknown }), JSON.stringify(unusable)).toBeNull();
    }
    const asked: string[] = [];
    const templates = await loadSegmentTemplates(async (query) => (asked.push(query), answer([{ namespace: "app--123456" }])));
    expect(asked).toEqual([NAMESPACE_QUERY]);
    expect(templates).toHaveLength(RFM_SEGMENT_VALUES.length + BEHAVIOUR_VALUES.length);
    expect(await loadSegmentTemplates(async () => answer([]))).toEqual([]);
    expect(await loadSegmentTemplates(async () => Promise.reject(new Error("network")))).toEqual([]);
  });
});
