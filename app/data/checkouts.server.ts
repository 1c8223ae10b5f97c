import { CART_ABANDONMENT_WINDOW_DAYS } from "~/analytics/behaviour";
import { type Tally } from "~/analytics/segment-tally";
import { type Queryable } from "~/db/pg.server";

// Abandoned checkouts (issue 17, cart abandoners): the one definition, read by the live
// recompute (one customer's latest), the refit (every customer's membership, set-based) and
// the segment page (value left in carts, recovery links). A checkout `c` is abandoned when
//   - it has a customer (a guest checkout belongs to no customer row),
//   - Shopify did not mark it completed,
//   - no order names it (OrderCheckout: the order's checkout_id, checkout_token or cart_token),
//   - and its customer placed no order (test orders aside) since it started.

export const ABANDONED_CHECKOUT_SQL = `c."customerId" IS NOT NULL AND c."completedAt" IS NULL
  AND NOT EXISTS (SELECT 1 FROM "OrderCheckout" AS oc WHERE oc.shop = c.shop AND oc."checkoutId" = c.id)
  AND NOT EXISTS (SELECT 1 FROM "OrderCheckout" AS oc WHERE oc.shop = c.shop AND oc."checkoutToken" = c.token)
  AND NOT EXISTS (SELECT 1 FROM "OrderCheckout" AS oc WHERE oc.shop = c.shop AND oc."cartToken" = c."cartToken")
  AND NOT EXISTS (SELECT 1 FROM "Order" AS o
                  WHERE o.shop = c.shop AND o."customerId" = c."customerId" AND NOT o.test AND o."processedAt" >= c."shopifyCreatedAt")`;

/** The day a checkout started in the shop's time zone (`tz` names the parameter), as the counted orders' days are. */
const checkoutDaySql = (tz: string) => `(((c."shopifyCreatedAt" AT TIME ZONE 'UTC') AT TIME ZONE ${tz}::text)::date - DATE '1970-01-01')`;

/**
 * Each listed customer's latest abandoned checkout's day (shop time zone) as ("customerId",
 * day); customers without one are absent. The placeholders name the caller's parameters: the
 * shop, the time zone and the customers' ids (bigint[]). The live recompute reads it in the
 * statement that reads the customers' orders (liveCustomersCountedOrders, counted-orders.server.ts).
 */
export const lastAbandonedCheckoutDaysSql = (shop: string, timezone: string, customerIds: string) =>
  `SELECT c."customerId", max(${checkoutDaySql(timezone)})::int AS day
   FROM "Checkout" AS c
   WHERE c.shop = ${shop} AND c."customerId" = ANY(${customerIds}::bigint[]) AND ${ABANDONED_CHECKOUT_SQL}
   GROUP BY c."customerId"`;


/**
 * Checkouts started in the window ending on day `asOfDay` (shop time zone; `$2` the zone, `$3`
 * the day). The first condition is the same window widened by a day, on the column itself, so
 * the (shop, shopifyCreatedAt) index finds the window without reading older checkouts (a time
 * zone is less than a day from UTC); the second is exact.
 */
const IN_WINDOW_SQL = `c."shopifyCreatedAt" >= (DATE '1970-01-01' + ($3::int - ${CART_ABANDONMENT_WINDOW_DAYS}))::timestamp
  AND ${checkoutDaySql("$2")} > $3::int - ${CART_ABANDONMENT_WINDOW_DAYS}`;

/** The customers of `shop` with an abandoned checkout in the window ending on `asOfDay` (the SQL side of isCartAbandoner). */
const MEMBERS_SQL = `SELECT DISTINCT c."customerId" FROM "Checkout" AS c
  WHERE c.shop = $1 AND ${IN_WINDOW_SQL} AND ${ABANDONED_CHECKOUT_SQL}`;

/** The cart abandoners' figures, summed as the segment tally sums a segment's (every field counted). */
export type CartAbandonerFigures = Required<Tally>;

/**
 * The refit's pass: every metrics row of the shop gets "cart-abandoner" exactly when its
 * customer has an abandoned checkout in the window ending on `asOfDay` (the refit's rows are
 * scored from orders alone). Returns the customers whose membership changed (for the
 * destinations' outboxes) and the segment's figures for the segments aggregate.
 */
export async function refreshCartAbandoners(
  db: Queryable,
  shop: string,
  timezone: string,
  asOfDay: number,
): Promise<{ changed: string[]; figures: CartAbandonerFigures }> {
  const changed = await db.query<{ customerId: string }>(
    `WITH members AS (${MEMBERS_SQL}),
     joined AS (
       UPDATE "CustomerMetrics" AS cm SET behaviours = array_append(cm.behaviours, 'cart-abandoner')
       FROM members AS m
       WHERE cm.shop = $1 AND cm."customerId" = m."customerId" AND NOT (COALESCE(cm.behaviours, '{}') @> ARRAY['cart-abandoner'])
       RETURNING cm."customerId"
     ),
     left_ AS (
       UPDATE "CustomerMetrics" AS cm SET behaviours = array_remove(cm.behaviours, 'cart-abandoner')
       WHERE cm.shop = $1 AND cm.behaviours @> ARRAY['cart-abandoner']
         AND cm."customerId" NOT IN (SELECT "customerId" FROM members)
       RETURNING cm."customerId"
     )
     SELECT "customerId"::text AS "customerId" FROM joined UNION ALL SELECT "customerId"::text FROM left_`,
    [shop, timezone, asOfDay],
  );
  const figures = await db.query<Record<keyof CartAbandonerFigures, string | null>>(
    `SELECT count(*) AS customers, COALESCE(sum("netSpentMinor"), 0) AS "netSpent",
            COALESCE(sum("predictedClvMinor"), 0) AS "clvSum", count("predictedClvMinor") AS "clvCount",
            COALESCE(sum("pAlive"), 0) AS "pAliveSum", count("pAlive") AS "pAliveCount",
            COALESCE(sum("chanceOfOrder90d"), 0) AS "chance90Sum", count("chanceOfOrder90d") AS "chance90Count",
            COALESCE(sum("grossProfitMinor"), 0) AS "grossProfit", COALESCE(sum("uncostedSalesMinor"), 0) AS "uncostedSales"
     FROM "CustomerMetrics" WHERE shop = $1 AND behaviours @> ARRAY['cart-abandoner']`,
    [shop],
  );
  const row = figures.rows[0];
  const n = (key: keyof CartAbandonerFigures) => Number(row?.[key] ?? 0);
  return {
    changed: changed.rows.map((r) => r.customerId),
    figures: {
      customers: n("customers"),
      netSpent: n("netSpent"),
      clvSum: n("clvSum"),
      clvCount: n("clvCount"),
      pAliveSum: n("pAliveSum"),
      pAliveCount: n("pAliveCount"),
      chance90Sum: n("chance90Sum"),
      chance90Count: n("chance90Count"),
      grossProfit: n("grossProfit"),
      uncostedSales: n("uncostedSales"),
    },
  };
}

/** Days past the abandonment window a checkout is kept (a late delivery of it still finds its row). */
export const CHECKOUT_RETENTION_MARGIN_DAYS = 7;
/**
 * Days after its last update a completed or guest checkout is kept: longer than Shopify retries
 * a delivery (48 hours), so a late, older version of a completed checkout still finds its
 * completion stored instead of coming back as abandoned.
 */
export const SETTLED_CHECKOUT_KEEP_DAYS = 3;

/**
 * The refit's pruning: deletes the checkouts that can no longer make anyone a cart abandoner
 * (and the guest emails with them): those started before the window plus a margin, and the
 * completed and guest ones (a guest checkout belongs to no customer) settled a few days ago.
 * Returns the number deleted.
 */
export async function pruneCheckouts(db: Queryable, shop: string, asOfDay: number): Promise<number> {
  const result = await db.query(
    `DELETE FROM "Checkout" AS c
     WHERE c.shop = $1
       AND (c."shopifyCreatedAt" < (DATE '1970-01-01' + ($2::int - $3::int))::timestamp
            OR ((c."completedAt" IS NOT NULL OR c."customerId" IS NULL)
                AND c."shopifyUpdatedAt" < (DATE '1970-01-01' + ($2::int - $4::int))::timestamp))`,
    [shop, asOfDay, CART_ABANDONMENT_WINDOW_DAYS + CHECKOUT_RETENTION_MARGIN_DAYS, SETTLED_CHECKOUT_KEEP_DAYS],
  );
  return result.rowCount ?? 0;
}

/** One cart abandoner's latest abandoned checkout. */
export interface AbandonedCart {
  customerId: string;
  /** Shop-currency minor units; null when priced in another currency. */
  totalPriceMinor: number | null;
  abandonedCheckoutUrl: string | null;
  startedAt: string;
  lineItemCount: number;
}

export interface AbandonedCartsSummary {
  /** Members of the segment (as the metrics rows say now). */
  customers: number;
  /** Σ of each member's latest abandoned checkout's total (one cart per customer: a restarted checkout is the same cart). */
  valueMinor: number;
  /** Members whose cart was priced in another currency: not in valueMinor. */
  unpricedCustomers: number;
}

/**
 * The segment page's figures: the members' latest abandoned checkouts in the window, summed.
 * Read from the window's checkouts (the index finds them), each checked against its
 * customer's metrics row by key: no scan of the shop's metrics rows on a page load.
 */
export async function abandonedCartsSummary(db: Queryable, shop: string, timezone: string, asOfDay: number): Promise<AbandonedCartsSummary> {
  const result = await db.query<{ customers: string; value: string | null; unpriced: string }>(
    `WITH latest AS (
       SELECT DISTINCT ON (c."customerId") c."customerId", c."totalPriceMinor"
       FROM "Checkout" AS c
       WHERE c.shop = $1 AND ${IN_WINDOW_SQL} AND ${ABANDONED_CHECKOUT_SQL}
       ORDER BY c."customerId", c."shopifyCreatedAt" DESC, c.id DESC
     )
     SELECT count(*) AS customers, sum(l."totalPriceMinor") AS value, count(*) FILTER (WHERE l."totalPriceMinor" IS NULL) AS unpriced
     FROM latest AS l
     JOIN "CustomerMetrics" AS cm ON cm.shop = $1 AND cm."customerId" = l."customerId" AND cm.behaviours @> ARRAY['cart-abandoner']`,
    [shop, timezone, asOfDay],
  );
  const row = result.rows[0];
  return { customers: Number(row?.customers ?? 0), valueMinor: Number(row?.value ?? 0), unpricedCustomers: Number(row?.unpriced ?? 0) };
}

/** These customers' latest abandoned checkouts in the window (the segment page's rows link to them). */
export async function latestAbandonedCarts(
  db: Queryable,
  shop: string,
  timezone: string,
  asOfDay: number,
  customerIds: readonly string[],
): Promise<AbandonedCart[]> {
  if (customerIds.length === 0) return [];
  const result = await db.query<{ customerId: string; total: string | null; url: string | null; startedAt: Date; lines: number }>(
    `SELECT DISTINCT ON (c."customerId") c."customerId"::text AS "customerId", c."totalPriceMinor"::text AS total,
            c."abandonedCheckoutUrl" AS url, c."shopifyCreatedAt" AS "startedAt", c."lineItemCount" AS lines
     FROM "Checkout" AS c
     WHERE c.shop = $1 AND c."customerId" = ANY($4::bigint[])
       AND ${IN_WINDOW_SQL} AND ${ABANDONED_CHECKOUT_SQL}
     ORDER BY c."customerId", c."shopifyCreatedAt" DESC, c.id DESC`,
    [shop, timezone, asOfDay, customerIds],
  );
  return result.rows.map((row) => ({
    customerId: row.customerId,
    totalPriceMinor: row.total === null ? null : Number(row.total),
    abandonedCheckoutUrl: row.url,
    startedAt: new Date(row.startedAt).toISOString(),
    lineItemCount: row.lines,
  }));
}
