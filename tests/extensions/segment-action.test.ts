import { existsSync } from "node:fs";
import { BEHAVIOUR_VALUES, RFM_SEGMENT_VALUES } from "~/destinations/shopify/metafields";
import { shopifySegmentQuery } from "~/destinations/shopify/segment-query";
import { loadActionState, SEGMENT_QUERY, tenureSegmentKeyOf } from "../../extensions/tenure-segment-action/src/segment-action";

// The action on a Shopify segment's page (extensions/tenure-segment-action): it recognises
// exactly the segments Tenure publishes (their queries from shopifySegmentQuery), offers
// Tenure's pages for them, and never throws.

const route = (file: string) => existsSync(new URL(`../../app/routes/${file}`, import.meta.url));

describe("the segment action's logic", () => {
  it("reads back the Tenure segment of every query Tenure publishes, and of nothing else", () => {
    for (const key of [...RFM_SEGMENT_VALUES, ...BEHAVIOUR_VALUES]) {
      for (const namespace of ["app--123456", "app--9876543210"]) expect(tenureSegmentKeyOf(shopifySegmentQuery(key, namespace)), key).toBe(key);
    }
    for (const other of [
      "number_of_orders > 3",
      "metafields.custom.rfm_segment = 'champions'",
      "metafields.app--1.rfm_segment = 'champions' AND number_of_orders > 3",
      "metafields.app--1.behaviours = 'vip'",
      "metafields.app--1.rfm_segment CONTAINS 'champions'",
    ]) {
      expect(tenureSegmentKeyOf(other), other).toBeNull();
    }
  });

  it("offers a Tenure segment's page in Tenure and Integrations, and Tenure's segments for another segment, on routes the app has", async () => {
    const asked: unknown[] = [];
    const tenure = await loadActionState("gid://shopify/Segment/77", async (query, options) => {
      asked.push([query, options]);
      return { data: { segment: { name: "Tenure: At risk", query: shopifySegmentQuery("at-risk", "app--123456") } } };
    });
    expect(asked).toEqual([[SEGMENT_QUERY, { variables: { id: "gid://shopify/Segment/77" } }]]);
    expect(tenure).toEqual({ kind: "tenure", segmentName: "Tenure: At risk", key: "at-risk", segmentLink: "app:app/segments/at-risk", integrationsLink: "app:app/integrations" });
    expect(route("app.segments.$key.tsx") && route("app.integrations.tsx") && route("app.segments._index.tsx")).toBe(true);
    expect(await loadActionState("gid://shopify/Segment/78", async () => ({ data: { segment: { name: "Big spenders", query: "amount_spent > 500" } } }))).toEqual({
      kind: "other",
      segmentName: "Big spenders",
      segmentsLink: "app:app/segments",
    });
  });

  it("shows an error for no segment, a segment Shopify does not return, and a failed request", async () => {
    let called = false;
    expect(await loadActionState("gid://shopify/Customer/1", async () => ((called = true), { data: {} }))).toMatchObject({ kind: "error" });
    expect(called).toBe(false);
    expect(await loadActionState("gid://shopify/Segment/1", async () => ({ data: { segment: null } }))).toMatchObject({ kind: "error" });
    expect(await loadActionState("gid://shopify/Segment/1", async () => ({ errors: [{ message: "Access denied" }] }))).toMatchObject({ kind: "error" });
    expect(await loadActionState("gid://shopify/Segment/1", async () => Promise.reject(new Error("network")))).toMatchObject({ kind: "error" });
  });
});
