import { type MetricsSettings } from "~/data/settings.server";
import { countedOrdersParams, countedOrdersSql, excludedBySettingsSql, revenueSql } from "~/data/counted-orders.server";
import { type Queryable } from "~/db/pg.server";

// Reads of one customer's Order rows for the customer page, each on the (shop, customerId)
// index. `id`: the customer id as decimal text.

/**
 * The customer's latest `limit` orders, newest first, as stored (test, cancelled and excluded
 * orders included); `countedMinor` is what the order counts as: its revenue on the shop's
 * basis (revenueSql), 0 for an order Settings exclude (`excludedBySettings`).
 */
export async function readCustomerOrders(db: Queryable, shop: string, id: string, limit: number, settings: MetricsSettings) {
  const result = await db.query<{
    id: bigint;
    name: string | null;
    processedAt: Date;
    netMinor: bigint;
    countedMinor: bigint;
    currentTotalMinor: bigint;
    test: boolean;
    excludedBySettings: boolean;
    cancelledAt: Date | null;
    financialStatus: string | null;
    sourceName: string | null;
    discountCodes: string[];
    lineItemCount: number;
    firstProductTitle: string | null;
  }>(
    `SELECT id, name, "processedAt", "netMinor", CASE WHEN excluded THEN 0 ELSE ${revenueSql(settings.revenueBasis)} END AS "countedMinor",
              "currentTotalMinor", test, excluded AS "excludedBySettings", "cancelledAt", "financialStatus", "sourceName",
              "discountCodes", "lineItemCount", "firstProductTitle"
       FROM (SELECT o.*, ${excludedBySettingsSql("$3", "$4", "$5")} AS excluded
             FROM "Order" AS o WHERE o.shop = $1 AND o."customerId" = $2::bigint
             ORDER BY o."processedAt" DESC, o.id DESC LIMIT ${limit}) AS o
       ORDER BY "processedAt" DESC, id DESC`,
    [shop, id, settings.excludedOrderTags, settings.excludedSourceNames, settings.excludedCustomerTags],
  );
  return result.rows;
}

/** How many orders are stored for the customer. */
export async function countCustomerOrders(db: Queryable, shop: string, id: string): Promise<number> {
  const result = await db.query<{ n: string }>(`SELECT count(*) AS n FROM "Order" WHERE shop = $1 AND "customerId" = $2::bigint`, [shop, id]);
  return Number(result.rows[0]?.n ?? 0);
}

/** The customer's counted orders, oldest first, through the one definition both workers use. */
export async function readCustomerCountedOrders(db: Queryable, shop: string, settings: MetricsSettings, id: string) {
  const result = await db.query<{ day: number; net: bigint; discounted: boolean; voided: boolean }>(
    `${countedOrdersSql(settings)} AND o."customerId" = $6::bigint ORDER BY o."processedAt"`,
    [...countedOrdersParams(shop, settings), id],
  );
  return result.rows;
}
