import { type MetricsSettings } from "~/data/settings.server";
import { countedOrdersParams, countedOrdersSql, type RevenueBasis, revenueSql } from "~/data/counted-orders.server";
import { type Queryable } from "~/db/pg.server";

// Reads of one customer's Order rows for the customer page, each on the (shop, customerId)
// index. `id`: the customer id as decimal text.

/**
 * The customer's latest `limit` orders, newest first, as stored (test and cancelled orders
 * included); `countedMinor` is the order's revenue on the shop's basis (revenueSql).
 */
export async function readCustomerOrders(db: Queryable, shop: string, id: string, limit: number, basis: RevenueBasis) {
  const result = await db.query<{
    id: bigint;
    name: string | null;
    processedAt: Date;
    netMinor: bigint;
    countedMinor: bigint;
    currentTotalMinor: bigint;
    test: boolean;
    cancelledAt: Date | null;
    financialStatus: string | null;
    sourceName: string | null;
    discountCodes: string[];
    lineItemCount: number;
    firstProductTitle: string | null;
  }>(
    `SELECT id, name, "processedAt", "netMinor", ${revenueSql(basis)} AS "countedMinor", "currentTotalMinor", test, "cancelledAt", "financialStatus", "sourceName",
              "discountCodes", "lineItemCount", "firstProductTitle"
       FROM "Order" AS o WHERE shop = $1 AND "customerId" = $2::bigint
       ORDER BY "processedAt" DESC, id DESC LIMIT ${limit}`,
    [shop, id],
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
