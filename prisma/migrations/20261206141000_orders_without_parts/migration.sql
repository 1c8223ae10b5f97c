-- The settings page says how many orders still count at total sales because their parts
-- are unknown (issue 13). A partial index keeps that count a probe of the few such rows
-- (none after a re-import) instead of a scan of every order of the shop.
CREATE INDEX "Order_shop_parts_unknown_idx" ON "Order" (shop) WHERE "grossSalesMinor" IS NULL AND NOT test;
