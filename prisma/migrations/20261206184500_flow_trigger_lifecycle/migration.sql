-- Shopify Flow and Shopify metafields (issue 15).

-- Whether a shop has an enabled workflow that starts with one of Tenure's Flow triggers, as
-- Flow's trigger lifecycle callback last said (app/routes/flow.lifecycle.tsx); a trigger is
-- fired only where it is enabled. Callbacks may arrive out of order: the row keeps the one
-- with the newest Flow timestamp ("callbackAt", with Flow's precision), a replay changes nothing.
CREATE TABLE "FlowTriggerLifecycle" (
  "shop" TEXT NOT NULL,
  "handle" TEXT NOT NULL, -- the trigger extension's handle (app/destinations/flow/triggers.ts)
  "enabled" BOOLEAN NOT NULL, -- the callback's has_enabled_flow
  "callbackAt" TIMESTAMPTZ(6) NOT NULL, -- the callback's timestamp
  "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY ("shop", "handle")
);

-- The outcome of the last ensure of Tenure's customer metafield definitions on a shop (on
-- install and on every worker start): the namespace "$app" resolved to (app--<app id>), which
-- segment queries name, and why the last attempt left definitions missing, if it did.
CREATE TABLE "ShopMetafieldDefinitions" (
  "shop" TEXT PRIMARY KEY,
  "namespace" TEXT, -- null until Shopify has shown one definition of Tenure's
  "checkedAt" TIMESTAMP(3) NOT NULL, -- the last attempt
  "completeAt" TIMESTAMP(3), -- the last attempt that left every definition in place
  "problem" TEXT -- the last attempt's refusals or error; null when it was complete
);
