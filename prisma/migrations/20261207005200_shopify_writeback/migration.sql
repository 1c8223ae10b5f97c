-- The Shopify metafield write-back (issue 15 part 1) is one more destination (kind 'shopify').
-- "heldValues": the metafield values Shopify holds for the customer as Tenure last wrote them
-- (key -> value), so a pass sends only the keys whose value differs and deletes those that
-- became empty. NULL for the email tools, and for a customer never written.
ALTER TABLE "DestinationMember" ADD COLUMN "heldValues" JSONB;
-- Settings: tag customers in Shopify with their Tenure segment (tenure-<segment key>); off by
-- default because tags show up everywhere in Shopify admin.
ALTER TABLE "ShopSettings" ADD COLUMN "shopifyTags" BOOLEAN NOT NULL DEFAULT false;
