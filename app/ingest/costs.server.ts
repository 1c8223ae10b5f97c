import { Prisma } from "@prisma/client";
import { type RawTx } from "~/db/pg.server";
import { type UnitCostRow, type VariantRow } from "./cost-mappers";
import { distinctIds, lockKeys, lockOrders } from "./locks.server";
import { type OrderLineRow } from "./mappers";

// Cost of goods (issue 17; docs/analytics/revenue.md, "Cost of goods"). Each order's cost is
// derived in SQL from its stored lines, the variant -> inventory item map and the unit cost
// history, never incremented: whichever of an order, a product or a cost arrives first, the
// last recompute sees them all, so the outcome does not depend on delivery order.

/** What a cost or product delivery changed: the customers whose orders' cost moved. */
export interface CostWriteResult {
  changed: boolean;
  affectedCustomerIds: bigint[];
}

/**
 * The cost in force for an order line: the latest cost from on or before the order's
 * processedAt; for an order older than every known cost, the earliest known one (a cost that
 * arrived after the order, e.g. read by the bulk import, is the best estimate there is).
 */
const COST_IN_FORCE = Prisma.sql`
  SELECT ic."costMinor" FROM "InventoryItemCost" AS ic
  WHERE ic.shop = v.shop AND ic."inventoryItemId" = v."inventoryItemId"
  ORDER BY (ic."validFrom" <= k."processedAt") DESC,
           CASE WHEN ic."validFrom" <= k."processedAt" THEN ic."validFrom" END DESC NULLS LAST,
           ic."validFrom" ASC
  LIMIT 1`;

/**
 * Recomputes the orders' cost of goods and costed net sales from their lines (0 for test and
 * cancelled orders, whose net sales are 0); the costed net sales never exceed the order's net
 * sales. Returns the customers of the orders whose figures changed. Callers hold the orders' locks.
 */
export async function recostOrders(tx: RawTx, shop: string, orderIds: bigint[]): Promise<bigint[]> {
  if (orderIds.length === 0) return [];
  const rows = await tx.$queryRaw<{ customerId: bigint | null }[]>`
    UPDATE "Order" AS o
    SET "costOfGoodsMinor" = c.cogs, "costedNetSalesMinor" = c.costed
    FROM (
      SELECT k.id,
             CASE WHEN k.test OR k."cancelledAt" IS NOT NULL THEN 0
                  ELSE COALESCE(sum(l."keptQuantity"::bigint * cost."costMinor"), 0) END::bigint AS cogs,
             CASE WHEN k.test OR k."cancelledAt" IS NOT NULL THEN 0
                  ELSE LEAST(COALESCE(sum(l."keptNetSalesMinor") FILTER (WHERE cost."costMinor" IS NOT NULL), 0),
                             GREATEST(0, COALESCE(k."netSalesMinor", k."netMinor"))) END::bigint AS costed
      FROM "Order" AS k
      LEFT JOIN "OrderLine" AS l ON l.shop = k.shop AND l."orderId" = k.id
      LEFT JOIN "ProductVariant" AS v ON v.shop = l.shop AND v.id = l."variantId"
      LEFT JOIN LATERAL (${COST_IN_FORCE}) AS cost ON v.id IS NOT NULL
      WHERE k.shop = ${shop} AND k.id = ANY(${orderIds}::bigint[])
      GROUP BY k.id, k.test, k."cancelledAt", k."netSalesMinor", k."netMinor"
    ) AS c
    WHERE o.shop = ${shop} AND o.id = c.id
      AND (o."costOfGoodsMinor", o."costedNetSalesMinor") IS DISTINCT FROM (c.cogs, c.costed)
    RETURNING o."customerId"`;
  return distinctIds(rows.map((row) => row.customerId));
}

/**
 * Replaces the lines of the orders whose stored version is the one the lines came with (the
 * caller wrote it, or it was already stored at that updated_at): lines of an older version
 * never replace a newer one's. Set-based, for one order or a batch.
 */
export async function replaceOrderLines(tx: RawTx, shop: string, orders: { id: bigint; shopifyUpdatedAt: Date; lines: OrderLineRow[] }[]): Promise<bigint[]> {
  if (orders.length === 0) return [];
  const current = await tx.$queryRaw<{ id: bigint }[]>`
    SELECT o.id FROM "Order" AS o
    JOIN unnest(${orders.map((o) => o.id.toString())}::bigint[], ${orders.map((o) => o.shopifyUpdatedAt.toISOString())}::timestamp[]) AS x(id, at)
      ON o.shop = ${shop} AND o.id = x.id AND o."shopifyUpdatedAt" = x.at`;
  const ids = new Set(current.map((row) => row.id));
  const kept = orders.filter((o) => ids.has(o.id));
  if (kept.length === 0) return [];
  const keptIds = kept.map((o) => o.id);
  await tx.$executeRaw`DELETE FROM "OrderLine" WHERE shop = ${shop} AND "orderId" = ANY(${keptIds}::bigint[])`;
  const lines = kept.flatMap((o) => o.lines.map((line) => ({ orderId: o.id, ...line })));
  if (lines.length > 0) {
    await tx.$executeRaw`
      INSERT INTO "OrderLine" (shop, "orderId", id, "variantId", "keptQuantity", "keptNetSalesMinor")
      SELECT DISTINCT ON (x."orderId", x.id) ${shop}, x."orderId", x.id, x."variantId", x.kept, x.net
      FROM unnest(${lines.map((l) => l.orderId.toString())}::bigint[], ${lines.map((l) => l.id.toString())}::bigint[],
                  ${lines.map((l) => l.variantId?.toString() ?? null)}::bigint[], ${lines.map((l) => l.keptQuantity)}::int[],
                  ${lines.map((l) => l.keptNetSalesMinor.toString())}::bigint[]) AS x("orderId", id, "variantId", kept, net)
      ORDER BY x."orderId", x.id`;
  }
  return keptIds;
}

/** Variants: a newer updated_at wins (or different content at the same one). Returns the variants written. */
export async function writeVariants(tx: RawTx, shop: string, variants: VariantRow[]): Promise<bigint[]> {
  if (variants.length === 0) return [];
  const rows = await tx.$queryRaw<{ id: bigint }[]>`
    INSERT INTO "ProductVariant" AS cur (shop, id, "productId", "inventoryItemId", "shopifyUpdatedAt")
    SELECT DISTINCT ON (x.id) ${shop}, x.id, x."productId", x."inventoryItemId", x.at
    FROM unnest(${variants.map((v) => v.id.toString())}::bigint[], ${variants.map((v) => v.productId?.toString() ?? null)}::bigint[],
                ${variants.map((v) => v.inventoryItemId.toString())}::bigint[], ${variants.map((v) => v.shopifyUpdatedAt.toISOString())}::timestamp[])
         AS x(id, "productId", "inventoryItemId", at)
    ORDER BY x.id, x.at DESC, x."inventoryItemId" DESC
    ON CONFLICT (shop, id) DO UPDATE SET "productId" = excluded."productId", "inventoryItemId" = excluded."inventoryItemId",
                                        "shopifyUpdatedAt" = excluded."shopifyUpdatedAt"
    WHERE excluded."shopifyUpdatedAt" > cur."shopifyUpdatedAt"
       OR (excluded."shopifyUpdatedAt" = cur."shopifyUpdatedAt"
           AND (excluded."productId", excluded."inventoryItemId") IS DISTINCT FROM (cur."productId", cur."inventoryItemId")
           AND excluded."inventoryItemId" > cur."inventoryItemId")
    RETURNING id`;
  return rows.map((row) => row.id);
}

/**
 * Unit costs into the history: one row per item and updated_at, so a replay writes nothing
 * and an older cost arriving late takes its place in time. Two different costs at the same
 * updated_at (never seen from Shopify) keep the greater, whatever the order. Returns the items whose history changed.
 */
export async function writeUnitCosts(tx: RawTx, shop: string, costs: UnitCostRow[]): Promise<bigint[]> {
  if (costs.length === 0) return [];
  const rows = await tx.$queryRaw<{ inventoryItemId: bigint }[]>`
    INSERT INTO "InventoryItemCost" AS cur (shop, "inventoryItemId", "validFrom", "costMinor")
    SELECT DISTINCT ON (x.item, x.at) ${shop}, x.item, x.at, x.cost
    FROM unnest(${costs.map((c) => c.inventoryItemId.toString())}::bigint[], ${costs.map((c) => c.validFrom.toISOString())}::timestamp[],
                ${costs.map((c) => c.costMinor?.toString() ?? null)}::bigint[]) AS x(item, at, cost)
    ORDER BY x.item, x.at, x.cost DESC NULLS LAST
    ON CONFLICT (shop, "inventoryItemId", "validFrom") DO UPDATE SET "costMinor" = excluded."costMinor"
    WHERE COALESCE(excluded."costMinor", -1) > COALESCE(cur."costMinor", -1)
    RETURNING "inventoryItemId"`;
  return distinctIds(rows.map((row) => row.inventoryItemId));
}

/** The stored orders with a line of these variants, or of a variant of these inventory items. */
async function ordersUsing(tx: RawTx, shop: string, variantIds: bigint[], itemIds: bigint[]): Promise<bigint[]> {
  const rows = await tx.$queryRaw<{ orderId: bigint }[]>`
    SELECT DISTINCT l."orderId" FROM "OrderLine" AS l
    WHERE l.shop = ${shop}
      AND (l."variantId" = ANY(${variantIds}::bigint[])
        OR l."variantId" IN (SELECT v.id FROM "ProductVariant" AS v WHERE v.shop = ${shop} AND v."inventoryItemId" = ANY(${itemIds}::bigint[])))`;
  return rows.map((row) => row.orderId);
}

/** Recosts the orders a changed variant map or cost history touches, under their locks (one-by-one deliveries). */
async function recostOrdersUsing(tx: RawTx, shop: string, variantIds: bigint[], itemIds: bigint[]): Promise<bigint[]> {
  if (variantIds.length === 0 && itemIds.length === 0) return [];
  const orderIds = await ordersUsing(tx, shop, variantIds, itemIds);
  if (orderIds.length === 0) return [];
  await lockOrders(tx, shop, orderIds);
  return recostOrders(tx, shop, orderIds);
}

/** products/create, products/update: the variants' inventory items; orders of a variant whose item changed are recosted. */
export async function upsertProductVariants(tx: RawTx, shop: string, variants: VariantRow[]): Promise<CostWriteResult> {
  await lockKeys(tx, shop, []); // the shop's import lock, shared: never inside a batch
  const written = await writeVariants(tx, shop, variants);
  const affectedCustomerIds = await recostOrdersUsing(tx, shop, written, []);
  return { changed: written.length > 0, affectedCustomerIds };
}

/** inventory_items/create, inventory_items/update: a unit cost into the history; the orders of the item's variants are recosted. */
export async function upsertUnitCost(tx: RawTx, shop: string, cost: UnitCostRow): Promise<CostWriteResult> {
  await lockKeys(tx, shop, []);
  const items = await writeUnitCosts(tx, shop, [cost]);
  const affectedCustomerIds = await recostOrdersUsing(tx, shop, [], items);
  return { changed: items.length > 0, affectedCustomerIds };
}
