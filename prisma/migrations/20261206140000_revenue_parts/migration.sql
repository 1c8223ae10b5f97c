-- Revenue that matches Shopify (issue 13; docs/analytics/revenue.md). Each order keeps its
-- parts in shop money, integer minor units, and Tenure stores the two figures it can count:
-- "netMinor" (total sales: current total less refunds not yet reflected in it) and
-- "netSalesMinor" (net sales: gross sales - discounts - returns; no tax, shipping, duties or tips).
-- A null part means Shopify's figure was not seen (a row stored before this migration with no
-- payload to read it from): such an order counts at total sales until it is imported again.
ALTER TABLE "Order"
  ADD COLUMN "grossSalesMinor" BIGINT,
  ADD COLUMN "discountsMinor" BIGINT,
  ADD COLUMN "returnsMinor" BIGINT,
  ADD COLUMN "taxMinor" BIGINT,
  ADD COLUMN "shippingMinor" BIGINT,
  ADD COLUMN "dutiesMinor" BIGINT,
  ADD COLUMN "netSalesMinor" BIGINT;

-- What each refund returned, by part (refund_line_items subtotal = returns; refunded tax,
-- shipping and duties). Null where the source did not say (a GraphQL refund's total only).
ALTER TABLE "Refund"
  ADD COLUMN "returnsMinor" BIGINT,
  ADD COLUMN "taxMinor" BIGINT,
  ADD COLUMN "shippingMinor" BIGINT,
  ADD COLUMN "dutiesMinor" BIGINT;

ALTER TABLE "ShopSettings"
  ADD COLUMN "revenueBasis" TEXT NOT NULL DEFAULT 'net_sales',
  ADD COLUMN "excludedCustomerTags" TEXT[];

-- ---------------------------------------------------------------- backfill from stored payloads
-- A Shopify money bag's shop_money in minor units (the exponents of app/analytics/money.ts).
CREATE FUNCTION pg_temp.tenure_minor(bag jsonb) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT round((bag->'shop_money'->>'amount')::numeric * power(10::numeric, CASE
    WHEN bag->'shop_money'->>'currency_code' IN ('BIF','CLP','DJF','GNF','ISK','JPY','KMF','KRW','PYG','RWF','UGX','UYI','VND','VUV','XAF','XOF','XPF') THEN 0
    WHEN bag->'shop_money'->>'currency_code' IN ('BHD','IQD','JOD','KWD','LYD','OMR','TND') THEN 3
    WHEN bag->'shop_money'->>'currency_code' IN ('CLF','UYW') THEN 4
    ELSE 2 END))::bigint
  WHERE jsonb_typeof(bag) = 'object'
$$;

-- Refund parts, from refunds/create payloads and the refunds embedded in order payloads
-- (refunds are immutable: any copy will do).
WITH copies AS (
  SELECT d.shop, d.payload AS r FROM "WebhookDelivery" AS d
  WHERE d.topic = 'refunds/create' AND jsonb_typeof(d.payload) = 'object'
  UNION ALL
  SELECT d.shop, e.r FROM "WebhookDelivery" AS d, jsonb_array_elements(d.payload->'refunds') AS e(r)
  WHERE d.topic LIKE 'orders/%' AND jsonb_typeof(d.payload->'refunds') = 'array'
), one AS (
  SELECT DISTINCT ON (shop, r->>'id') shop, (r->>'id')::bigint AS id, r FROM copies
  WHERE r->>'id' ~ '^[0-9]+$' AND jsonb_typeof(r->'refund_line_items') = 'array'
), parts AS (
  SELECT one.shop, one.id,
    COALESCE((SELECT sum(pg_temp.tenure_minor(l->'subtotal_set')) FROM jsonb_array_elements(one.r->'refund_line_items') AS l), 0) AS returns,
    COALESCE((SELECT sum(pg_temp.tenure_minor(l->'total_tax_set')) FROM jsonb_array_elements(one.r->'refund_line_items') AS l), 0)
      + COALESCE((SELECT sum(pg_temp.tenure_minor(s->'tax_amount_set')) FROM jsonb_array_elements(CASE WHEN jsonb_typeof(one.r->'refund_shipping_lines') = 'array' THEN one.r->'refund_shipping_lines' ELSE '[]' END) AS s), 0) AS tax,
    CASE WHEN jsonb_array_length(CASE WHEN jsonb_typeof(one.r->'refund_shipping_lines') = 'array' THEN one.r->'refund_shipping_lines' ELSE '[]' END) > 0
      THEN (SELECT sum(pg_temp.tenure_minor(s->'subtotal_amount_set')) FROM jsonb_array_elements(one.r->'refund_shipping_lines') AS s)
      ELSE COALESCE((SELECT -sum(pg_temp.tenure_minor(a->'amount_set')) FROM jsonb_array_elements(CASE WHEN jsonb_typeof(one.r->'order_adjustments') = 'array' THEN one.r->'order_adjustments' ELSE '[]' END) AS a
                     WHERE a->>'kind' = 'shipping_refund'), 0) END AS shipping,
    COALESCE(pg_temp.tenure_minor(one.r->'total_duties_set'), 0) AS duties
  FROM one
)
UPDATE "Refund" AS rf
SET "returnsMinor" = parts.returns, "taxMinor" = parts.tax, "shippingMinor" = parts.shipping, "dutiesMinor" = parts.duties
FROM parts WHERE rf.shop = parts.shop AND rf.id = parts.id;

-- Order parts, from the newest order payload of each order, only when it is the version
-- stored (same updated_at): an older payload's parts would not match the stored totals.
-- Taxes-included orders (most EU shops) get gross sales, discounts and returns without the
-- tax inside their prices, as the mappers compute them (docs/analytics/revenue.md).
WITH newest AS (
  SELECT DISTINCT ON (d.shop, d.payload->>'id') d.shop, (d.payload->>'id')::bigint AS id,
         ((d.payload->>'updated_at')::timestamptz AT TIME ZONE 'UTC') AS updated_at, d.payload AS p
  FROM "WebhookDelivery" AS d
  WHERE d.topic LIKE 'orders/%' AND d.topic <> 'orders/delete' AND jsonb_typeof(d.payload) = 'object'
    AND d.payload->>'id' ~ '^[0-9]+$' AND jsonb_typeof(d.payload->'current_subtotal_price_set') = 'object'
    AND jsonb_typeof(d.payload->'total_line_items_price_set') = 'object'
  ORDER BY d.shop, d.payload->>'id', (d.payload->>'updated_at')::timestamptz DESC
), parts AS (
  SELECT n.shop, n.id, n.updated_at,
    pg_temp.tenure_minor(n.p->'total_line_items_price_set') AS gross,
    COALESCE((SELECT sum(pg_temp.tenure_minor(a->'amount_set'))
              FROM jsonb_array_elements(CASE WHEN jsonb_typeof(n.p->'line_items') = 'array' THEN n.p->'line_items' ELSE '[]' END) AS li,
                   jsonb_array_elements(CASE WHEN jsonb_typeof(li->'discount_allocations') = 'array' THEN li->'discount_allocations' ELSE '[]' END) AS a), 0) AS discounts,
    pg_temp.tenure_minor(n.p->'current_subtotal_price_set') AS current_subtotal,
    -- The current tax, shipping and duties (after refunds, edits and shipping discounts), as the
    -- mappers read them, so the parts add up to the current total; the original ones only where
    -- a payload lacks them.
    COALESCE(pg_temp.tenure_minor(CASE WHEN jsonb_typeof(n.p->'current_total_tax_set') = 'object' THEN n.p->'current_total_tax_set' ELSE n.p->'total_tax_set' END), 0) AS tax,
    COALESCE(pg_temp.tenure_minor(CASE WHEN jsonb_typeof(n.p->'current_shipping_price_set') = 'object' THEN n.p->'current_shipping_price_set' ELSE n.p->'total_shipping_price_set' END), 0) AS shipping,
    COALESCE(pg_temp.tenure_minor(CASE WHEN jsonb_typeof(n.p->'current_total_duties_set') = 'object' THEN n.p->'current_total_duties_set' ELSE n.p->'original_total_duties_set' END), 0) AS duties,
    COALESCE(n.p->>'taxes_included' = 'true', false) AS taxes_included
  FROM newest AS n
), taxed_lines AS (
  -- Taxes-included orders: each line's price x quantity, discounts and tax, all with the tax inside.
  SELECT n.shop, n.id,
    pg_temp.tenure_minor(li->'price_set') * CASE WHEN li->>'quantity' ~ '^[0-9]+$' THEN (li->>'quantity')::bigint END AS g,
    COALESCE((SELECT sum(pg_temp.tenure_minor(a->'amount_set'))
              FROM jsonb_array_elements(CASE WHEN jsonb_typeof(li->'discount_allocations') = 'array' THEN li->'discount_allocations' ELSE '[]' END) AS a), 0) AS d,
    COALESCE((SELECT sum(pg_temp.tenure_minor(t->'price_set'))
              FROM jsonb_array_elements(CASE WHEN jsonb_typeof(li->'tax_lines') = 'array' THEN li->'tax_lines' ELSE '[]' END) AS t), 0) AS t
  FROM newest AS n, jsonb_array_elements(CASE WHEN jsonb_typeof(n.p->'line_items') = 'array' THEN n.p->'line_items' ELSE '[]' END) AS li
  WHERE n.p->>'taxes_included' = 'true'
), untaxed AS (
  -- The tax taken out as withoutIncludedTax (app/ingest/mappers.ts) does: a line's gross and
  -- discount shrink by its own factor, returns by the order's; a line whose tax cannot be read
  -- that way keeps its figures. A line without its price leaves the order's parts unknown.
  SELECT shop, id, bool_and(g IS NOT NULL) AS known,
    sum(CASE WHEN g - d > 0 AND t BETWEEN 0 AND g - d THEN round(g * (g - d - t)::numeric / (g - d))::bigint ELSE g END) AS gross,
    sum(CASE WHEN g - d > 0 AND t BETWEEN 0 AND g - d THEN round(g * (g - d - t)::numeric / (g - d))::bigint - (g - d - t) ELSE d END) AS discounts,
    sum(g - d) AS net_with_tax,
    sum(CASE WHEN g - d > 0 AND t BETWEEN 0 AND g - d THEN g - d - t ELSE g - d END) AS net_without_tax
  FROM taxed_lines GROUP BY shop, id
), final AS (
  SELECT parts.shop, parts.id, parts.updated_at, parts.tax, parts.shipping, parts.duties,
    CASE WHEN parts.taxes_included THEN u.gross ELSE parts.gross END AS gross,
    CASE WHEN parts.taxes_included THEN u.discounts ELSE parts.discounts END AS discounts,
    CASE WHEN parts.taxes_included AND u.net_with_tax > 0
      THEN round((parts.gross - parts.discounts - parts.current_subtotal) * u.net_without_tax::numeric / u.net_with_tax)::bigint
      ELSE parts.gross - parts.discounts - parts.current_subtotal END AS returns
  FROM parts LEFT JOIN untaxed AS u ON u.shop = parts.shop AND u.id = parts.id
  WHERE NOT parts.taxes_included OR u.known
)
UPDATE "Order" AS o
SET "grossSalesMinor" = final.gross, "discountsMinor" = final.discounts, "returnsMinor" = final.returns,
    "taxMinor" = final.tax, "shippingMinor" = final.shipping, "dutiesMinor" = final.duties
FROM final
WHERE o.shop = final.shop AND o.id = final.id AND o."shopifyUpdatedAt" = final.updated_at;

-- Net sales where the parts are known (recomputeOrderNets in app/ingest/summary.server.ts).
UPDATE "Order" AS o
SET "netSalesMinor" = CASE WHEN o.test OR o."cancelledAt" IS NOT NULL THEN 0
  ELSE GREATEST(0, o."grossSalesMinor" - o."discountsMinor" - o."returnsMinor" - COALESCE((
    SELECT sum(COALESCE(r."returnsMinor", r."amountMinor")) FROM "Refund" AS r
    WHERE r.shop = o.shop AND r."orderId" = o.id AND r."createdAt" > o."shopifyUpdatedAt"), 0)) END
WHERE o."grossSalesMinor" IS NOT NULL;
