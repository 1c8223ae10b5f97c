-- Profit per customer from product costs (issue 17, part 1; docs/analytics/revenue.md, "Cost of goods").
-- Unit costs per inventory item as a history (each cost in force from its Shopify updated_at),
-- the variant -> inventory item map from product payloads and the bulk import, each order's
-- lines (what their cost applies to), and per order the cost of goods of its costed lines and
-- the net sales those lines make up. The rest of an order's net sales falls back to the
-- shop's margin (ShopSettings.costFallbackMargin).

CREATE TABLE "InventoryItemCost" (
  shop              TEXT NOT NULL,
  "inventoryItemId" BIGINT NOT NULL,
  "validFrom"       TIMESTAMP(3) NOT NULL, -- the inventory item's updated_at when Shopify said this cost
  "costMinor"       BIGINT, -- unit cost, shop currency minor units; NULL: the item had no cost from then
  PRIMARY KEY (shop, "inventoryItemId", "validFrom")
);

CREATE TABLE "ProductVariant" (
  shop              TEXT NOT NULL,
  id                BIGINT NOT NULL, -- the variant id order lines carry (variant_id)
  "productId"       BIGINT,
  "inventoryItemId" BIGINT NOT NULL,
  "shopifyUpdatedAt" TIMESTAMP(3) NOT NULL, -- the product's (or variant's) updated_at this map is as of
  PRIMARY KEY (shop, id)
);
CREATE INDEX "ProductVariant_shop_inventoryItemId_idx" ON "ProductVariant" (shop, "inventoryItemId");

CREATE TABLE "OrderLine" (
  shop               TEXT NOT NULL,
  "orderId"          BIGINT NOT NULL,
  id                 BIGINT NOT NULL, -- line item id
  "variantId"        BIGINT, -- NULL: a custom line (no variant), never costed
  "keptQuantity"     INTEGER NOT NULL, -- quantity less the units refunded
  "keptNetSalesMinor" BIGINT NOT NULL, -- the line's net sales (after discounts, without included tax) for the kept units
  PRIMARY KEY (shop, "orderId", id)
);
CREATE INDEX "OrderLine_shop_variantId_idx" ON "OrderLine" (shop, "variantId");

ALTER TABLE "Order"
  ADD COLUMN "costOfGoodsMinor" BIGINT NOT NULL DEFAULT 0, -- Σ unit cost in force at processedAt x kept units, costed lines only
  ADD COLUMN "costedNetSalesMinor" BIGINT NOT NULL DEFAULT 0; -- the net sales of those lines (at most the order's net sales)

ALTER TABLE "CustomerMetrics"
  ADD COLUMN "grossProfitMinor" BIGINT NOT NULL DEFAULT 0, -- net sales - cost of goods to date (uncosted sales at the fallback margin)
  ADD COLUMN "uncostedSalesMinor" BIGINT NOT NULL DEFAULT 0; -- net sales to date whose cost is unknown (fell back to the margin)

ALTER TABLE "ShopSettings"
  ADD COLUMN "costFallbackMargin" DOUBLE PRECISION NOT NULL DEFAULT 0.5; -- gross margin of goods without a known cost
