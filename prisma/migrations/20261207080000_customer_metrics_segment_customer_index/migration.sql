-- A full destination pass reads an RFM segment's customers in id order, a batch at a time
-- (issue 14, app/data/destinations.server.ts groupSql). Segments are spread over the ids, so
-- walking the primary key visited every chosen segment's rows to find one group's; a
-- (shop, segment, customerId) index makes each batch a range of its own rows (ADR 0022). One
-- more index write per customer in a large refit and per changed metrics row (the benchmarks
-- rerun: docs/destinations/klaviyo.md, task K8).
-- As in 20261207061000: the shared partition's index starts with shop, a shop's own
-- partition gets the same without it, and later partitions copy the shared partition's
-- definitions (app/refit/partition-swap.server.ts indexStatements).
CREATE INDEX "CustomerMetrics_shop_segment_customerId_idx" ON "CustomerMetrics_shared"("shop", "segment", "customerId");

DO $$
DECLARE
  part regclass;
BEGIN
  FOR part IN
    SELECT i.inhrelid::regclass FROM pg_inherits AS i
    WHERE i.inhparent = '"CustomerMetrics"'::regclass AND i.inhrelid <> '"CustomerMetrics_shared"'::regclass
  LOOP
    EXECUTE format('CREATE INDEX ON %s ("segment", "customerId")', part);
  END LOOP;
END $$;
