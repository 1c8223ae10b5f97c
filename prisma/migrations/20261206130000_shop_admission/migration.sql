-- Shop admission (ADR 0013). "ShopRedaction" remembers that shop/redact ran for a shop:
-- redactShop deletes every other row of the shop, the duplicate checks with them, so
-- without it a retried delivery would bring the shop's data back. It holds no personal
-- data and outlives the redaction; a reinstall removes it.
CREATE TABLE "ShopRedaction" (
  "domain" TEXT NOT NULL,
  "redactedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "ShopRedaction_pkey" PRIMARY KEY ("domain")
);

-- Deliveries acknowledged but not applied (shop redacted or not installed), counted per
-- shop, topic and reason: one upserted row each, never a row per delivery.
CREATE TABLE "DroppedDelivery" (
  "shop" TEXT NOT NULL,
  "topic" TEXT NOT NULL,
  "reason" TEXT NOT NULL,
  "count" BIGINT NOT NULL DEFAULT 0,
  "lastAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "DroppedDelivery_pkey" PRIMARY KEY ("shop", "topic", "reason")
);
