import { Prisma } from "@prisma/client";
import { type RawTx } from "~/db/pg.server";

// Derived columns, recomputed from source rows in SQL (never incremented), so a replay,
// a duplicate or any delivery order ends in the same values. Callers hold the advisory
// locks of the orders and customers involved, or the shop's import lock exclusively
// (tx.server.ts): under READ COMMITTED each statement below then sees every write
// committed before the lock was granted.

/**
 * What a refund not yet reflected in the order's current subtotal takes off net sales: its
 * returned line items; the whole refund when its parts are unknown (the cautious side).
 */
export const NET_SALES_REFUND_RETURNS = Prisma.sql`COALESCE(r."returnsMinor", r."amountMinor")`;

/**
 * The order's two nets (docs/analytics/revenue.md), never below zero, 0 for test orders:
 * Order.netMinor (total sales): the current total less refunds created after the order's
 * updated_at (the current total already reflects earlier ones);
 * Order.netSalesMinor (net sales): gross - discounts - returns as of updated_at, less the
 * returns of later refunds; 0 for cancelled orders; null while the parts are unknown.
 */
export async function recomputeOrderNets(tx: RawTx, shop: string, orderIds: bigint[]): Promise<void> {
  if (orderIds.length === 0) return;
  await tx.$executeRaw`
    UPDATE "Order" AS o
    SET "netMinor" = CASE WHEN o.test THEN 0 ELSE GREATEST(0, o."currentTotalMinor" - later.amount) END,
        "netSalesMinor" = CASE WHEN o."grossSalesMinor" IS NULL THEN NULL
                               WHEN o.test OR o."cancelledAt" IS NOT NULL THEN 0
                               ELSE GREATEST(0, o."grossSalesMinor" - o."discountsMinor" - o."returnsMinor" - later.returns) END
    FROM "Order" AS k
    CROSS JOIN LATERAL (
      SELECT COALESCE(sum(r."amountMinor"), 0) AS amount, COALESCE(sum(${NET_SALES_REFUND_RETURNS}), 0) AS returns
      FROM "Refund" AS r
      WHERE r.shop = k.shop AND r."orderId" = k.id AND r."createdAt" > k."shopifyUpdatedAt"
    ) AS later
    WHERE k.shop = ${shop} AND k.id = ANY(${orderIds}::bigint[]) AND o.shop = k.shop AND o.id = k.id`;
}

/**
 * Customer order summary from the customer's orders. Test orders never count; cancelled
 * orders count, at their current total (normally 0).
 */
export async function recomputeCustomerSummaries(tx: RawTx, shop: string, customerIds: bigint[]): Promise<void> {
  if (customerIds.length === 0) return;
  await tx.$executeRaw`
    UPDATE "Customer" AS c
    SET "ordersCount" = s.orders, "netSpentMinor" = s.net, "firstOrderAt" = s.first_at, "lastOrderAt" = s.last_at,
        "summaryAt" = now() AT TIME ZONE 'UTC'
    FROM (
      SELECT wanted.id, count(o.id)::int AS orders, COALESCE(sum(o."netMinor"), 0)::bigint AS net,
             min(o."processedAt") AS first_at, max(o."processedAt") AS last_at
      FROM unnest(${customerIds}::bigint[]) AS wanted(id)
      LEFT JOIN "Order" AS o ON o.shop = ${shop} AND o."customerId" = wanted.id AND NOT o.test
      GROUP BY wanted.id
    ) AS s
    WHERE c.shop = ${shop} AND c.id = s.id`;
}

/**
 * Every customer summary of the shop in one set-based statement, after a bulk import (whose
 * batches leave summaries to this pass). Only rows whose summary differs are written. The
 * caller holds the shop's import lock exclusively, so no delivery writes orders meanwhile.
 */
export async function recomputeShopCustomerSummaries(
  tx: RawTx,
  shop: string,
  { part = 0, parts = 1 }: { part?: number; parts?: number } = {},
): Promise<number> {
  // `part` of `parts`: the customers whose id is `part` modulo `parts`, so that several
  // connections can share the pass (see finishImport).
  return tx.$executeRaw`
    UPDATE "Customer" AS c
    SET "ordersCount" = COALESCE(s.orders, 0), "netSpentMinor" = COALESCE(s.net, 0),
        "firstOrderAt" = s.first_at, "lastOrderAt" = s.last_at, "summaryAt" = now() AT TIME ZONE 'UTC'
    FROM "Customer" AS k
    LEFT JOIN (
      SELECT o."customerId" AS id, count(*)::int AS orders, sum(o."netMinor")::bigint AS net,
             min(o."processedAt") AS first_at, max(o."processedAt") AS last_at
      FROM "Order" AS o
      WHERE o.shop = ${shop} AND o."customerId" IS NOT NULL AND NOT o.test AND o."customerId" % ${parts}::int = ${part}::int
      GROUP BY o."customerId"
    ) AS s ON s.id = k.id
    WHERE k.shop = ${shop} AND c.shop = k.shop AND c.id = k.id AND k.id % ${parts}::int = ${part}::int
      AND (c."summaryAt" IS NULL
        OR (c."ordersCount", c."netSpentMinor", c."firstOrderAt", c."lastOrderAt")
           IS DISTINCT FROM (COALESCE(s.orders, 0), COALESCE(s.net, 0::bigint), s.first_at, s.last_at))`;
}
