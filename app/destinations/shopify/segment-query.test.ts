import { describe, expect, it } from "vitest";
import { ALL_SEGMENT_KEYS } from "~/analytics/segments";
import { SegmentQueryError, metafieldAttribute, segmentTextLiteral, shopifySegmentQuery } from "./segment-query";

const NAMESPACE = "app--1234567";

describe("shopifySegmentQuery", () => {
  it("filters an RFM segment on the RFM segment metafield", () => {
    expect(shopifySegmentQuery("champions", NAMESPACE)).toBe("metafields.app--1234567.rfm_segment = 'champions'");
    expect(shopifySegmentQuery("cant-lose-them", NAMESPACE)).toBe("metafields.app--1234567.rfm_segment = 'cant-lose-them'");
  });

  it("filters a behaviour with CONTAINS on the behaviours list metafield", () => {
    expect(shopifySegmentQuery("vip", NAMESPACE)).toBe("metafields.app--1234567.behaviours CONTAINS 'vip'");
  });

  it("builds a query for every Tenure segment key", () => {
    for (const key of ALL_SEGMENT_KEYS) expect(shopifySegmentQuery(key, NAMESPACE)).toMatch(/^metafields\.app--1234567\.(rfm_segment = |behaviours CONTAINS )'[a-z-]+'$/);
  });

  it("refuses an unknown segment key and an unresolved namespace", () => {
    expect(() => shopifySegmentQuery("everyone", NAMESPACE)).toThrow(SegmentQueryError);
    expect(() => shopifySegmentQuery("champions", "$app")).toThrow(/resolved metafield namespace/);
    expect(() => shopifySegmentQuery("champions", "app--1 OR x")).toThrow(SegmentQueryError);
  });
});

describe("segmentTextLiteral", () => {
  it("single-quotes a value, spaces and non-ASCII letters included", () => {
    expect(segmentTextLiteral("at-risk")).toBe("'at-risk'");
    expect(segmentTextLiteral("Kundin Größe 2")).toBe("'Kundin Größe 2'");
  });

  it("refuses what the segment language has no documented escape for, so nothing can end the quote early", () => {
    expect(() => segmentTextLiteral("o'brien")).toThrow(SegmentQueryError);
    expect(() => segmentTextLiteral("x' OR metafields.a.b = 'y")).toThrow(SegmentQueryError);
    expect(() => segmentTextLiteral("back\\slash")).toThrow(SegmentQueryError);
    expect(() => segmentTextLiteral("two\nlines")).toThrow(SegmentQueryError);
    expect(() => segmentTextLiteral("")).toThrow(SegmentQueryError);
  });
});

describe("metafieldAttribute", () => {
  it("names a metafield by namespace and key", () => {
    expect(metafieldAttribute("app--42", "last_scored")).toBe("metafields.app--42.last_scored");
    expect(() => metafieldAttribute("app--42", "last scored")).toThrow(SegmentQueryError);
  });
});
