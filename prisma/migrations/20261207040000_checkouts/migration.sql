-- Cart abandoners (issue 17, part 4). Checkouts from checkouts/create and checkouts/update,
-- through the same intake and write path as orders: newer updated_at wins, redacted with
-- the customer. Money is the shop currency's minor units; NULL when the checkout was priced
-- in another (presentment) currency, whose shop-money figure the webhook does not carry.
CREATE TABLE "Checkout" (
  shop                   TEXT NOT NULL,
  id                     BIGINT NOT NULL,
  token                  TEXT,
  "cartToken"            TEXT,
  "customerId"           BIGINT, -- NULL: a guest checkout (no customer account)
  email                  TEXT,
  currency               TEXT,
  "totalPriceMinor"      BIGINT, -- total_price (taxes, shipping and discounts included)
  "subtotalPriceMinor"   BIGINT, -- subtotal_price (line items after discounts)
  "abandonedCheckoutUrl" TEXT, -- the buyer's recovery link
  "lineItemCount"        INTEGER NOT NULL DEFAULT 0,
  "shopifyCreatedAt"     TIMESTAMP(3) NOT NULL,
  "shopifyUpdatedAt"     TIMESTAMP(3) NOT NULL,
  "completedAt"          TIMESTAMP(3), -- set when the checkout became an order
  CONSTRAINT "Checkout_pkey" PRIMARY KEY (shop, id)
);
CREATE INDEX "Checkout_shop_customerId_shopifyCreatedAt_idx" ON "Checkout" (shop, "customerId", "shopifyCreatedAt");
CREATE INDEX "Checkout_shop_shopifyCreatedAt_idx" ON "Checkout" (shop, "shopifyCreatedAt");

-- The checkout an order came from (the order's checkout_id, checkout_token and cart_token),
-- written when the order arrives, whichever of the two comes first: a checkout with a
-- matching order is not abandoned. Facts that never change, so written once.
CREATE TABLE "OrderCheckout" (
  shop            TEXT NOT NULL,
  "orderId"       BIGINT NOT NULL,
  "checkoutId"    BIGINT,
  "checkoutToken" TEXT,
  "cartToken"     TEXT,
  CONSTRAINT "OrderCheckout_pkey" PRIMARY KEY (shop, "orderId")
);
CREATE INDEX "OrderCheckout_shop_checkoutId_idx" ON "OrderCheckout" (shop, "checkoutId");
CREATE INDEX "OrderCheckout_shop_checkoutToken_idx" ON "OrderCheckout" (shop, "checkoutToken");
CREATE INDEX "OrderCheckout_shop_cartToken_idx" ON "OrderCheckout" (shop, "cartToken");
