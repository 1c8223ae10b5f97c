-- Issue 17 (acquisition drivers, seasonality).
-- The marketing source of an order: from Shopify's customer journey (the bulk import) or the
-- order's UTM parameters, landing site and referrer (webhooks); read from each customer's
-- first order by the refit's acquisition drivers (app/ingest/marketing-source.ts). NULL: unknown.
ALTER TABLE "Order" ADD COLUMN "marketingSource" TEXT;

-- The holiday season of the "Holiday-season first buyers" segment, month-day ("MM-DD") of its
-- first and last day in the shop's time zone; a season may run over the new year ("12-01" to "01-15").
ALTER TABLE "ShopSettings"
  ADD COLUMN "holidaySeasonStart" TEXT NOT NULL DEFAULT '11-15',
  ADD COLUMN "holidaySeasonEnd" TEXT NOT NULL DEFAULT '12-31';
