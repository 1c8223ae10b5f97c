-- Issue 17 review, finding 6: the marketing source is the journey's first visit once known.
-- TRUE: "marketingSource" came from Shopify's customer journey (bulk import, reconciliation); a
-- webhook's landing_site/referring_site (the order's last arrival) never replaces it, while a
-- journey source replaces a webhook-derived one. Rows stored before this are treated as webhook-derived.
ALTER TABLE "Order" ADD COLUMN "marketingSourceFromJourney" BOOLEAN NOT NULL DEFAULT false;
