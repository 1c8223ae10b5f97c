-- Firing Tenure's Shopify Flow triggers (issue 15, app/destinations/flow/fire.server.ts).
-- A shop with at least one enabled Flow trigger has a Destination row of kind 'flow'; every
-- table below hangs off it (ON DELETE CASCADE), so disabling the last workflow, uninstalling
-- and shop/redact clear them with the destination.

-- The chance of ordering in 90 days below which a customer is "at risk of churning" (the
-- churn-risk trigger); null: the default (app/data/flow-triggers.server.ts).
ALTER TABLE "ShopSettings" ADD COLUMN "churnRiskThreshold" DOUBLE PRECISION;

-- What Flow was last told about each customer (state-based, as the email tools' members):
-- a pass compares the customer's current metrics with this row and fires on a difference.
CREATE TABLE "FlowCustomerState" (
  "destinationId" BIGINT NOT NULL REFERENCES "Destination"("id") ON DELETE CASCADE,
  "customerId" BIGINT NOT NULL,
  "segment" TEXT, -- the RFM segment key last recorded (null: none)
  "atRisk" BOOLEAN NOT NULL DEFAULT false, -- below the churn-risk threshold when last compared
  "dueFiredOn" DATE, -- the last local day the due-to-reorder trigger fired for the customer
  "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY ("destinationId", "customerId")
);

-- Trigger events to send with flowTriggerReceive: written in the transaction that updates the
-- state, deleted once Flow accepted them. A failed send keeps the row (attempts, lastError);
-- one Flow refused (userErrors: retrying cannot help) keeps it with refusedAt and is not sent again.
CREATE TABLE "FlowTriggerEvent" (
  "id" BIGSERIAL PRIMARY KEY,
  "destinationId" BIGINT NOT NULL REFERENCES "Destination"("id") ON DELETE CASCADE,
  "handle" TEXT NOT NULL,
  "customerId" BIGINT NOT NULL,
  "payload" JSONB NOT NULL,
  "dedupeKey" TEXT NOT NULL, -- one event per change: the same change compared twice inserts nothing
  "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "attempts" INTEGER NOT NULL DEFAULT 0,
  "lastError" TEXT,
  "refusedAt" TIMESTAMP(3)
);
CREATE UNIQUE INDEX "FlowTriggerEvent_destinationId_dedupeKey_key" ON "FlowTriggerEvent" ("destinationId", "dedupeKey");
CREATE INDEX "FlowTriggerEvent_customer_idx" ON "FlowTriggerEvent" ("destinationId", "customerId");

-- The due-to-reorder runs done: one per destination and local day of the shop.
CREATE TABLE "FlowDueRun" (
  "destinationId" BIGINT NOT NULL REFERENCES "Destination"("id") ON DELETE CASCADE,
  "localDay" DATE NOT NULL,
  "fired" INTEGER NOT NULL,
  "ranAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY ("destinationId", "localDay")
);
