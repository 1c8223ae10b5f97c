-- Customer rows are rewritten whenever their order summary changes (every order webhook,
-- and every customer once at the end of a bulk import). Nothing reads Customer by
-- lastOrderAt any more (the pages sort CustomerMetrics), and an index on a summary column
-- makes every such rewrite insert index entries. Without it, and with room left on each
-- page, the rewrite can stay on the row's page (a HOT update) and touch no index at all:
-- measured on a 1,000,000-order import, the closing summary pass went from 6.4 s to 2.1 s.
DROP INDEX IF EXISTS "Customer_shop_lastOrderAt_idx";

-- Applies to pages written from now on; existing pages keep their layout until rewritten.
ALTER TABLE "Customer" SET (fillfactor = 60);
