-- An order's checkout references are looked up by checkout id, token and cart token
-- (recordOrderCheckout, on every order webhook): without these, token and cart token were a
-- scan of every shop's checkouts.
CREATE INDEX "Checkout_shop_token_idx" ON "Checkout" (shop, token);
CREATE INDEX "Checkout_shop_cartToken_idx" ON "Checkout" (shop, "cartToken");
