import { pgQuery, type Queryable } from "~/db/pg.server";
import { inlineSqlParameters } from "~/db/sql-literal";
import { lastAbandonedCheckoutDaysSql } from "./checkouts.server";
import { type MetricsSettings } from "./settings.server";

// The counted orders: the orders metrics are computed from, read the same way by the live
// recompute, the refit, the customer page and the demo, so every reader counts alike.

/** What Tenure counts as an order's revenue (ShopSettings.revenueBasis; docs/analytics/revenue.md). */
export type RevenueBasis = "net_sales" | "total_sales";

/**
 * The order column the basis counts. Net sales falls back to total sales for an order whose
 * parts are unknown (stored before they were read, until it is imported again).
 */
export function revenueSql(basis: RevenueBasis): string {
  return basis === "total_sales" ? `o."netMinor"` : `COALESCE(o."netSalesMinor", o."netMinor")`;
}

/**
 * The orders that count for metrics, with their day index in the shop's time zone:
 * not test orders, with a customer, none of the excluded tags, not from an excluded
 * channel, not of a customer with an excluded tag; `net` is the order's revenue on the
 * shop's basis. Parameters: $1 shop, $2 time zone, $3 excluded order tags, $4 excluded
 * channels, $5 excluded customer tags (countedOrdersParams); callers append their own
 * conditions (`AND o."customerId" = $6`) and ordering. The customer-tag exclusion is written
 * only when there is one: the refit reads every order through this, and an anti-join to
 * Customer is a cost a shop without customer exclusions should not pay.
 */
export function countedOrdersSql(settings: Pick<MetricsSettings, "revenueBasis" | "excludedCustomerTags">): string {
  const customerTags = settings.excludedCustomerTags.length === 0 ? `AND cardinality($5::text[]) = 0` : `AND NOT ${customerTagExcluded("$5")}`;
  return `
  SELECT o."customerId" AS customer_id,
         ((o."processedAt" AT TIME ZONE 'UTC') AT TIME ZONE $2::text)::date - DATE '1970-01-01' AS day,
         ${revenueSql(settings.revenueBasis)} AS net,
         cardinality(o."discountCodes") > 0 AS discounted,
         -- Acquisition dimensions of a customer's first order (the refit's retention filters).
         o."sourceName" AS channel,
         o."firstProductTitle" AS first_product,
         (array_remove(o."discountCodes", ''))[1] AS first_discount_code,
         -- Cancelled or refunded in full: a customer with only such orders gets no prediction.
         (o."cancelledAt" IS NOT NULL OR o."financialStatus" IN ('refunded', 'voided')) AS voided,
         -- Gross profit's parts, on net sales whatever the revenue basis (docs/analytics/revenue.md,
         -- "Cost of goods"): the costed lines' sales less their cost, and the sales without a cost.
         ${COSTED_PROFIT_SQL} AS costed_profit,
         ${UNCOSTED_NET_SQL} AS uncosted_net,
         -- The first order's marketing source (the refit's acquisition drivers).
         o."marketingSource" AS marketing_source
  FROM "Order" AS o
  WHERE o.shop = $1 AND NOT o.test AND o."customerId" IS NOT NULL
    AND NOT ${orderTagExcluded("$3")}
    AND NOT ${channelExcluded("$4")}
    ${customerTags}`;
}

// Each exclusion of Settings once, over the order `o`; the placeholders name the caller's
// parameters holding excludedOrderTags, excludedSourceNames and excludedCustomerTags.
// Shopify treats tags without regard to case: "Wholesale" on the order or the customer is
// "wholesale" in Settings. Lowered only when Settings name a tag, so a shop without
// exclusions pays nothing per order.
const orderTagExcluded = (tags: string) =>
  `(cardinality(${tags}::text[]) > 0 AND lower(o.tags::text)::text[] && lower(${tags}::text)::text[])`;
const channelExcluded = (channels: string) => `(o."sourceName" IS NOT NULL AND o."sourceName" = ANY(${channels}::text[]))`;
const customerTagExcluded = (tags: string) => `EXISTS (SELECT 1 FROM "Customer" AS c
  WHERE c.shop = o.shop AND c.id = o."customerId" AND lower(c.tags::text)::text[] && lower(${tags}::text)::text[])`;

/**
 * True for an order Settings leave out (an excluded order tag or channel, or a customer with
 * an excluded tag): the exclusions of countedOrdersSql as one expression over `o`, for pages
 * that list every stored order and mark these as not counted. The placeholders name the
 * caller's parameters holding excludedOrderTags, excludedSourceNames and excludedCustomerTags.
 */
export function excludedBySettingsSql(orderTags: string, channels: string, customerTags: string): string {
  return `(${orderTagExcluded(orderTags)} OR ${channelExcluded(channels)}
    OR (cardinality(${customerTags}::text[]) > 0 AND ${customerTagExcluded(customerTags)}))`;
}

/** Net sales of the order's lines with a known cost, less that cost (issue 17). */
export const COSTED_PROFIT_SQL = `(o."costedNetSalesMinor" - o."costOfGoodsMinor")`;
/** The order's net sales without a known cost, whose profit is the shop's fallback margin of them. */
export const UNCOSTED_NET_SQL = `GREATEST(0, COALESCE(o."netSalesMinor", o."netMinor") - o."costedNetSalesMinor")`;

export const countedOrdersParams = (shop: string, s: MetricsSettings) => [
  shop,
  s.timezone,
  s.excludedOrderTags,
  s.excludedSourceNames,
  s.excludedCustomerTags,
];

/** Grouped by customer, each customer's orders in day order (the refit reads the first order's dimensions). */
const BY_CUSTOMER = ` ORDER BY o."customerId", day, o."processedAt", o.id`;

export interface CountedOrderRow {
  customer_id: bigint | string;
  day: number;
  net: bigint | string | number;
  discounted: boolean;
  channel: string | null;
  first_product: string | null;
  first_discount_code: string | null;
  voided: boolean;
  costed_profit: bigint | string | number;
  uncosted_net: bigint | string | number;
  marketing_source: string | null;
}

/**
 * The shop's counted orders grouped by customer, each customer's in day order, as one
 * `COPY ... TO STDOUT` statement, in COPY's text format. COPY takes no parameters: the
 * values of countedOrdersParams are written into the statement as literals.
 */
export function countedOrdersCopySql(shop: string, settings: MetricsSettings): string {
  const query = inlineSqlParameters(`${countedOrdersSql(settings)}${BY_CUSTOMER}`, countedOrdersParams(shop, settings));
  return `COPY (${query}) TO STDOUT`;
}

/** The counted orders of these customers as they are now, grouped by customer. */
export async function countedOrdersOf(db: Queryable, shop: string, settings: MetricsSettings, ids: readonly string[]): Promise<CountedOrderRow[]> {
  const result = await db.query<CountedOrderRow>(`${countedOrdersSql(settings)} AND o."customerId" = ANY($6::bigint[])${BY_CUSTOMER}`, [
    ...countedOrdersParams(shop, settings),
    ids,
  ]);
  return result.rows;
}

/**
 * The live recompute's read: the customers that exist, with their counted orders and their
 * latest abandoned checkout's day (`abandoned_day`, on each of their rows; null without one:
 * lastAbandonedCheckoutDaysSql), in one statement (a customer without orders comes back once,
 * with null order columns). KEY SHARE on their rows: a redaction or deletion of one of them
 * (which deletes the row, then its metrics) waits for the caller's transaction, or this sees
 * the row gone. Ingest's summary updates do not conflict with it. A prepared statement (ADR 0010).
 */
export async function liveCustomersCountedOrders(db: Queryable, shop: string, settings: MetricsSettings, ids: readonly string[]) {
  const read = await db.query<{
    live_id: bigint | string;
    day: number | null;
    net: bigint | string | null;
    discounted: boolean | null;
    voided: boolean | null;
    costed_profit: bigint | string | null;
    uncosted_net: bigint | string | null;
    abandoned_day: number | null;
  }>(
    pgQuery(
      `WITH live AS (SELECT id FROM "Customer" WHERE shop = $1 AND id = ANY($6::bigint[]) FOR KEY SHARE),
       abandoned AS (${lastAbandonedCheckoutDaysSql("$1", "$2", "$6")})
       SELECT live.id AS live_id, counted.day, counted.net, counted.discounted, counted.voided, counted.costed_profit, counted.uncosted_net,
              abandoned.day AS abandoned_day
       FROM live LEFT JOIN (${countedOrdersSql(settings)} AND o."customerId" = ANY($6::bigint[])) AS counted ON counted.customer_id = live.id
       LEFT JOIN abandoned ON abandoned."customerId" = live.id`,
      [...countedOrdersParams(shop, settings), ids],
      true,
    ),
  );
  return read.rows;
}
