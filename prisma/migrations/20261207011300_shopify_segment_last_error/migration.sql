-- Published Shopify segments follow relabels and query changes automatically (issue 15, part 2):
-- when Shopify refuses such an update (a name already taken, the segment deleted in Shopify
-- admin), the refusal is kept on the row in the merchant's words for the Segments page, and
-- cleared by the next update Shopify accepts.
ALTER TABLE "ShopifySegment"
  ADD COLUMN "lastError" TEXT, -- a sentence a merchant can act on; NULL: Shopify accepted the last update
  ADD COLUMN "lastErrorAt" TIMESTAMP(3); -- when Shopify refused it
