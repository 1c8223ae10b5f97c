-- CustomerMetrics becomes a table partitioned by shop. Small shops share the default
-- partition ("CustomerMetrics_shared"); a shop's refit above a size (see shop-refit.ts)
-- writes every row into a table of its own without indexes, builds the indexes in bulk
-- and swaps that table in as the shop's partition. Building an index in one sort costs a
-- fraction of inserting a million rows into eight indexes one by one (ADR 0008).
-- Queries are unchanged: they name "CustomerMetrics" and a shop, and PostgreSQL reads
-- only that shop's partition.
--
-- Only the primary key is declared on the parent (upserts need it). The sort indexes are
-- the partitions' own: the shared partition keeps the existing ones, which start with
-- shop; a shop's own partition has the same indexes without the shop column (one value
-- there), smaller and built faster. A migration that adds a sort index adds it to the
-- shared partition and to each shop's partition (metrics-partitions.server.ts copies the
-- shared partition's list for the next swap).
ALTER TABLE "CustomerMetrics" RENAME TO "CustomerMetrics_shared";
ALTER TABLE "CustomerMetrics_shared" RENAME CONSTRAINT "CustomerMetrics_pkey" TO "CustomerMetrics_shared_pkey";

CREATE TABLE "CustomerMetrics" (LIKE "CustomerMetrics_shared" INCLUDING DEFAULTS) PARTITION BY LIST ("shop");
ALTER TABLE "CustomerMetrics" ADD CONSTRAINT "CustomerMetrics_pkey" PRIMARY KEY ("shop", "customerId");
ALTER TABLE "CustomerMetrics" ATTACH PARTITION "CustomerMetrics_shared" DEFAULT;
