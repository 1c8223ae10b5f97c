-- The customer table's expected next order filter and its gross profit sort (issue 17): each
-- gets a (shop, column, customerId) index like the other sort columns, so a week's window is
-- an index range (not a scan of the shop's rows to find few or none) and a gross profit page
-- is a keyset seek. Two more index writes per customer in a large refit (ADR 0008, ADR 0021).
-- The shared partition's indexes start with shop; a shop's own partition has the same
-- without it (20261125000000_customer_metrics_partitions), and later partitions copy the
-- shared partition's definitions (app/refit/partition-swap.server.ts indexStatements).
CREATE INDEX "CustomerMetrics_shop_expectedNextOrderDay_customerId_idx" ON "CustomerMetrics_shared"("shop", "expectedNextOrderDay", "customerId");
CREATE INDEX "CustomerMetrics_shop_grossProfitMinor_customerId_idx" ON "CustomerMetrics_shared"("shop", "grossProfitMinor", "customerId");

DO $$
DECLARE
  part regclass;
BEGIN
  FOR part IN
    SELECT i.inhrelid::regclass FROM pg_inherits AS i
    WHERE i.inhparent = '"CustomerMetrics"'::regclass AND i.inhrelid <> '"CustomerMetrics_shared"'::regclass
  LOOP
    EXECUTE format('CREATE INDEX ON %s ("expectedNextOrderDay", "customerId")', part);
    EXECUTE format('CREATE INDEX ON %s ("grossProfitMinor", "customerId")', part);
  END LOOP;
END $$;
