-- The shop's own hosts (issue 17): its primary and other domains as Shopify lists them,
-- read at authentication. A referrer on one of them is the buyer moving within the store,
-- so its marketing source is "direct", not a referral (app/ingest/marketing-source.ts).
-- Empty until the shop's next authentication.
ALTER TABLE "Shop" ADD COLUMN "hosts" TEXT[] NOT NULL DEFAULT '{}';
