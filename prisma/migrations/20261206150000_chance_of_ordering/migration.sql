-- Chance of ordering (issue 13): P(at least one order in the next 90 days / 365 days |
-- history) from the shop's count model, the headline churn figure. Rows written before
-- this have null until the shop's next refit or the customer's next recompute.
ALTER TABLE "CustomerMetrics" ADD COLUMN "chanceOfOrder90d" DOUBLE PRECISION;
ALTER TABLE "CustomerMetrics" ADD COLUMN "chanceOfOrder365d" DOUBLE PRECISION;

-- The customer tables sort and filter by the 90-day chance instead of P(alive): its index
-- replaces P(alive)'s (one index each, since every index costs a large refit a write per
-- customer, ADR 0008). The shared partition's indexes start with shop; a shop's own
-- partition has the same without it (20261125000000_customer_metrics_partitions).
DROP INDEX "CustomerMetrics_shop_pAlive_customerId_idx";
CREATE INDEX "CustomerMetrics_shop_chanceOfOrder90d_customerId_idx" ON "CustomerMetrics_shared"("shop", "chanceOfOrder90d", "customerId");

DO $$
DECLARE
  part regclass;
  idx regclass;
BEGIN
  FOR part IN
    SELECT i.inhrelid::regclass FROM pg_inherits AS i
    WHERE i.inhparent = '"CustomerMetrics"'::regclass AND i.inhrelid <> '"CustomerMetrics_shared"'::regclass
  LOOP
    FOR idx IN
      SELECT x.indexrelid::regclass FROM pg_index AS x
      WHERE x.indrelid = part AND NOT x.indisprimary AND pg_get_indexdef(x.indexrelid) LIKE '%("pAlive", "customerId")'
    LOOP
      EXECUTE format('DROP INDEX %s', idx);
    END LOOP;
    EXECUTE format('CREATE INDEX ON %s ("chanceOfOrder90d", "customerId")', part);
  END LOOP;
END $$;
