-- CustomerMetrics becomes a table partitioned by shop. Small shops share the default
-- partition ("CustomerMetrics_shared"); a shop's refit above a size (see shop-refit.ts)
-- writes every row into a table of its own without indexes, builds the indexes in bulk
-- and swaps that table in as the shop's partition. Building an index in one sort costs a
-- fraction of inserting a million rows into eight indexes one by one (ADR 0008).
-- Queries are unchanged: they name "CustomerMetrics" and a shop, and PostgreSQL reads
-- only that shop's partition.

-- The existing table becomes the default partition, its indexes renamed so the parent's
-- keep the names Prisma gives them (ATTACH adopts matching indexes instead of building).
ALTER TABLE "CustomerMetrics" RENAME TO "CustomerMetrics_shared";
ALTER TABLE "CustomerMetrics_shared" RENAME CONSTRAINT "CustomerMetrics_pkey" TO "CustomerMetrics_shared_pkey";
ALTER INDEX "CustomerMetrics_shop_netSpentMinor_customerId_idx" RENAME TO "CustomerMetrics_shared_net_idx";
ALTER INDEX "CustomerMetrics_shop_predictedClvMinor_customerId_idx" RENAME TO "CustomerMetrics_shared_clv_idx";
ALTER INDEX "CustomerMetrics_shop_pAlive_customerId_idx" RENAME TO "CustomerMetrics_shared_palive_idx";
ALTER INDEX "CustomerMetrics_shop_lastOrderDay_customerId_idx" RENAME TO "CustomerMetrics_shared_last_idx";
ALTER INDEX "CustomerMetrics_shop_orders_customerId_idx" RENAME TO "CustomerMetrics_shared_orders_idx";
ALTER INDEX "CustomerMetrics_shop_segment_netSpentMinor_customerId_idx" RENAME TO "CustomerMetrics_shared_segment_net_idx";
ALTER INDEX "CustomerMetrics_shop_segment_predictedClvMinor_customerId_idx" RENAME TO "CustomerMetrics_shared_segment_clv_idx";

CREATE TABLE "CustomerMetrics" (LIKE "CustomerMetrics_shared" INCLUDING DEFAULTS) PARTITION BY LIST ("shop");
ALTER TABLE "CustomerMetrics" ADD CONSTRAINT "CustomerMetrics_pkey" PRIMARY KEY ("shop", "customerId");
CREATE INDEX "CustomerMetrics_shop_netSpentMinor_customerId_idx" ON "CustomerMetrics"("shop", "netSpentMinor", "customerId");
CREATE INDEX "CustomerMetrics_shop_predictedClvMinor_customerId_idx" ON "CustomerMetrics"("shop", "predictedClvMinor", "customerId");
CREATE INDEX "CustomerMetrics_shop_pAlive_customerId_idx" ON "CustomerMetrics"("shop", "pAlive", "customerId");
CREATE INDEX "CustomerMetrics_shop_lastOrderDay_customerId_idx" ON "CustomerMetrics"("shop", "lastOrderDay", "customerId");
CREATE INDEX "CustomerMetrics_shop_orders_customerId_idx" ON "CustomerMetrics"("shop", "orders", "customerId");
CREATE INDEX "CustomerMetrics_shop_segment_netSpentMinor_customerId_idx" ON "CustomerMetrics"("shop", "segment", "netSpentMinor", "customerId");
CREATE INDEX "CustomerMetrics_shop_segment_predictedClvMinor_customerId_idx" ON "CustomerMetrics"("shop", "segment", "predictedClvMinor", "customerId");

ALTER TABLE "CustomerMetrics" ATTACH PARTITION "CustomerMetrics_shared" DEFAULT;
