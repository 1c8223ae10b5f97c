-- Customer tables sort by one column then "customerId" (keyset pagination): index each
-- sort with the tie-breaker over the shop, and the two default sorts within a segment.

-- DropIndex
DROP INDEX "CustomerMetrics_shop_segment_netSpentMinor_idx";
DROP INDEX "CustomerMetrics_shop_segment_predictedClvMinor_idx";
DROP INDEX "CustomerMetrics_shop_netSpentMinor_idx";
DROP INDEX "CustomerMetrics_shop_predictedClvMinor_idx";
DROP INDEX "CustomerMetrics_shop_lastOrderDay_idx";
DROP INDEX "CustomerMetrics_shop_pAlive_idx";

-- CreateIndex
CREATE INDEX "CustomerMetrics_shop_netSpentMinor_customerId_idx" ON "CustomerMetrics"("shop", "netSpentMinor", "customerId");
CREATE INDEX "CustomerMetrics_shop_predictedClvMinor_customerId_idx" ON "CustomerMetrics"("shop", "predictedClvMinor", "customerId");
CREATE INDEX "CustomerMetrics_shop_pAlive_customerId_idx" ON "CustomerMetrics"("shop", "pAlive", "customerId");
CREATE INDEX "CustomerMetrics_shop_lastOrderDay_customerId_idx" ON "CustomerMetrics"("shop", "lastOrderDay", "customerId");
CREATE INDEX "CustomerMetrics_shop_orders_customerId_idx" ON "CustomerMetrics"("shop", "orders", "customerId");
CREATE INDEX "CustomerMetrics_shop_segment_netSpentMinor_customerId_idx" ON "CustomerMetrics"("shop", "segment", "netSpentMinor", "customerId");
CREATE INDEX "CustomerMetrics_shop_segment_predictedClvMinor_customerId_idx" ON "CustomerMetrics"("shop", "segment", "predictedClvMinor", "customerId");
