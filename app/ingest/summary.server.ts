import { type Tx } from "./tx.server";

// Derived columns, recomputed from source rows in SQL (never incremented), so a replay,
// a duplicate or any delivery order ends in the same values. Callers hold the advisory
// locks of the orders and customers involved (tx.server.ts): under READ COMMITTED each
// statement below then sees every write committed before the lock was granted.

/**
 * Order.netMinor: 0 for test orders; otherwise the current total less refunds created
 * after the order's updated_at (the current total already reflects earlier ones), never
 * below zero.
 */
export async function recomputeOrderNets(tx: Tx, shop: string, orderIds: bigint[]): Promise<void> {
  if (orderIds.length === 0) return;
  await tx.$executeRaw`
    UPDATE "Order" AS o
    SET "netMinor" = CASE WHEN o.test THEN 0 ELSE GREATEST(0, o."currentTotalMinor" - COALESCE((
      SELECT sum(r."amountMinor") FROM "Refund" AS r
      WHERE r.shop = o.shop AND r."orderId" = o.id AND r."createdAt" > o."shopifyUpdatedAt"), 0)) END
    WHERE o.shop = ${shop} AND o.id = ANY(${orderIds}::bigint[])`;
}

/**
 * Customer order summary from the customer's orders. Test orders never count; cancelled
 * orders count, at their current total (normally 0).
 */
export async function recomputeCustomerSummaries(tx: Tx, shop: string, customerIds: bigint[]): Promise<void> {
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
