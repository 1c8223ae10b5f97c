-- Tenure segments published as Shopify customer segments (issue 15, part 2).

-- One row per shop and Tenure segment the merchant published: the Shopify segment's id and
-- the name and query Shopify last accepted, so a re-publish sends segmentUpdate only when a
-- label or the query changed. shop/redact deletes the rows.
CREATE TABLE "ShopifySegment" (
  "shop" TEXT NOT NULL,
  "segmentKey" TEXT NOT NULL, -- a Tenure segment key (RFM or behavioural)
  "shopifySegmentId" TEXT NOT NULL, -- gid://shopify/Segment/<id>
  "name" TEXT NOT NULL, -- "Tenure: <segment name>", as Shopify accepted it
  "query" TEXT NOT NULL, -- the segment query, as Shopify accepted it
  "publishedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, -- the first segmentCreate
  "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, -- the last segmentCreate or segmentUpdate
  PRIMARY KEY ("shop", "segmentKey")
);
