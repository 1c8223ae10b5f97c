import type pg from "pg";
import { pgQuery, type Queryable } from "~/db/pg.server";
import { type MetricsSettings } from "./settings.server";

// The counted orders: the orders metrics are computed from, read the same way by the live
// recompute, the refit, the customer page and the demo, so every reader counts alike.

/**
 * The orders that count for metrics, with their day index in the shop's time zone:
 * not test orders, with a customer, none of the excluded tags, not from an excluded
 * channel. Parameters: $1 shop, $2 time zone, $3 excluded tags, $4 excluded channels;
 * callers append their own conditions (`AND o."customerId" = ...`) and ordering.
 */
export const COUNTED_ORDERS_SQL = `
  SELECT o."customerId" AS customer_id,
         ((o."processedAt" AT TIME ZONE 'UTC') AT TIME ZONE $2::text)::date - DATE '1970-01-01' AS day,
         o."netMinor" AS net,
         cardinality(o."discountCodes") > 0 AS discounted,
         -- Acquisition dimensions of a customer's first order (the refit's retention filters).
         o."sourceName" AS channel,
         o."firstProductTitle" AS first_product,
         (array_remove(o."discountCodes", ''))[1] AS first_discount_code
  FROM "Order" AS o
  WHERE o.shop = $1 AND NOT o.test AND o."customerId" IS NOT NULL
    AND NOT (o.tags && $3::text[])
    AND (o."sourceName" IS NULL OR NOT (o."sourceName" = ANY($4::text[])))`;

export const countedOrdersParams = (shop: string, s: MetricsSettings) => [shop, s.timezone, s.excludedOrderTags, s.excludedSourceNames];

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
}

/** COUNTED_ORDERS_SQL's columns in order (rowMode "array"). */
export type CountedOrderArray = [
  customerId: bigint | string,
  day: number,
  net: bigint | string | number,
  discounted: boolean,
  channel: string | null,
  firstProduct: string | null,
  firstDiscountCode: string | null,
];

/**
 * Opens a cursor over the shop's counted orders, grouped by customer (inside the caller's
 * transaction): a cursor so memory holds the columns built from the rows, not the rows.
 */
export async function openCountedOrdersCursor(client: pg.PoolClient, cursor: string, shop: string, settings: MetricsSettings): Promise<void> {
  await client.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${COUNTED_ORDERS_SQL}${BY_CUSTOMER}`, countedOrdersParams(shop, settings));
}

/** The cursor's next `rows` orders, as arrays: no object per order (3 million orders are a lot of garbage). */
export function fetchCountedOrders(client: pg.PoolClient, cursor: string, rows: number) {
  return client.query<CountedOrderArray>({ text: `FETCH ${rows} FROM ${cursor}`, rowMode: "array" });
}

/** The counted orders of these customers as they are now, grouped by customer. */
export async function countedOrdersOf(db: Queryable, shop: string, settings: MetricsSettings, ids: readonly string[]): Promise<CountedOrderRow[]> {
  const result = await db.query<CountedOrderRow>(`${COUNTED_ORDERS_SQL} AND o."customerId" = ANY($5::bigint[])${BY_CUSTOMER}`, [
    ...countedOrdersParams(shop, settings),
    ids,
  ]);
  return result.rows;
}

/**
 * The live recompute's read: the customers that exist, with their counted orders, in one
 * statement (a customer without orders comes back once, with null order columns). KEY
 * SHARE on their rows: a redaction or deletion of one of them (which deletes the row, then
 * its metrics) waits for the caller's transaction, or this sees the row gone. Ingest's
 * summary updates do not conflict with it. A prepared statement (ADR 0010).
 */
export async function liveCustomersCountedOrders(db: Queryable, shop: string, settings: MetricsSettings, ids: readonly string[]) {
  const read = await db.query<{ live_id: bigint | string; day: number | null; net: bigint | string | null; discounted: boolean | null }>(
    pgQuery(
      `WITH live AS (SELECT id FROM "Customer" WHERE shop = $1 AND id = ANY($5::bigint[]) FOR KEY SHARE)
       SELECT live.id AS live_id, counted.day, counted.net, counted.discounted
       FROM live LEFT JOIN (${COUNTED_ORDERS_SQL} AND o."customerId" = ANY($5::bigint[])) AS counted ON counted.customer_id = live.id`,
      [...countedOrdersParams(shop, settings), ids],
      true,
    ),
  );
  return read.rows;
}
