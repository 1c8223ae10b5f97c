-- The sync status page reads one shop's deliveries by status, newest first (failed ones with
-- their reasons, the pending count, the last one received) without scanning other shops' rows.
CREATE INDEX "WebhookDelivery_shop_status_receivedAt_idx" ON "WebhookDelivery"("shop", "status", "receivedAt");
