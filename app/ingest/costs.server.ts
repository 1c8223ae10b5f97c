import { Prisma } from "@prisma/client";
import { type RawTx } from "~/db/pg.server";
import { type UnitCostRow, type VariantRow } from "./cost-mappers";
import { distinctIds, lockShopExclusive } from "./locks.server";
import { type OrderLineRow, type RefundRow } from "./mappers";

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
  const rows = await tx.$queryRaw<{ customerId: bigint | null }[]>`${recostSql(shop, orderIds, Prisma.sql`"OrderLine"`)}`;
  return distinctIds(rows.map((row) => row.customerId));
}

/** recostOrders' statement, its orders' lines read from `lines`: the OrderLine table, or a CTE of the same columns holding every line of those orders. */
function recostSql(shop: string, orderIds: bigint[], lines: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
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
      LEFT JOIN ${lines} AS l ON l.shop = k.shop AND l."orderId" = k.id
      LEFT JOIN "ProductVariant" AS v ON v.shop = l.shop AND v.id = l."variantId"
      LEFT JOIN LATERAL (${COST_IN_FORCE}) AS cost ON v.id IS NOT NULL
      WHERE k.shop = ${shop} AND k.id = ANY(${orderIds}::bigint[])
      GROUP BY k.id, k.test, k."cancelledAt", k."netSalesMinor", k."netMinor"
    ) AS c
    WHERE o.shop = ${shop} AND o.id = c.id
      AND (o."costOfGoodsMinor", o."costedNetSalesMinor") IS DISTINCT FROM (c.cogs, c.costed)
    RETURNING o."customerId"`;
}

/** The lines' rows as replaceOrderLines inserts them: kept units less those of stored refunds created after the version (ADR 0023). */
function orderLineRowsSql(shop: string, orders: { id: bigint; shopifyUpdatedAt: Date; lines: OrderLineRow[] }[]): Prisma.Sql {
  // One pass, each order's id and time as text once: an import sends 10,000 lines a batch, twice (ADR 0023).
  const [orderIds, ids, variantIds, kept, net, at]: [string[], string[], (string | null)[], number[], string[], string[]] = [[], [], [], [], [], []];
  for (const o of orders) {
    if (o.lines.length === 0) continue;
    const orderId = o.id.toString();
    const version = o.shopifyUpdatedAt.toISOString();
    for (const line of o.lines) {
      orderIds.push(orderId);
      ids.push(line.id.toString());
      variantIds.push(line.variantId?.toString() ?? null);
      kept.push(line.keptQuantity);
      net.push(line.keptNetSalesMinor.toString());
      at.push(version);
    }
  }
  return Prisma.sql`
      SELECT DISTINCT ON (x."orderId", x.id) ${shop}, x."orderId", x.id, x."variantId", GREATEST(0, x.kept - COALESCE(u.units, 0)),
             CASE WHEN x.kept = 0 THEN x.net ELSE round(x.net::numeric * GREATEST(0, x.kept - COALESCE(u.units, 0)) / x.kept)::bigint END,
             x.kept, x.net, x.at
      FROM unnest(${orderIds}::bigint[], ${ids}::bigint[], ${variantIds}::bigint[], ${kept}::int[], ${net}::bigint[], ${at}::timestamp[])
           AS x("orderId", id, "variantId", kept, net, at)
      -- Refunds stored before this version arrived and created after it (a refund first, say):
      -- applyLaterRefunds' derivation, in the insert (no second statement per order write).
      LEFT JOIN LATERAL (${laterRefundUnits(shop, Prisma.sql`x."orderId"`, Prisma.sql`x.id`, Prisma.sql`x.at`)}) AS u ON true
      ORDER BY x."orderId", x.id`;
}

/**
 * Per order of `orders` (those whose bundle carries lines), the figures recostOrders would
 * compute once replaceOrderLines had stored these lines: "orderId", cogs (sum of kept units x
 * cost in force, null without one) and costed (the kept net sales of costed lines). Same line
 * rows (orderLineRowsSql) and cost rule (COST_IN_FORCE at the order's processedAt), read before
 * the order is written, so a bulk import's new orders are inserted with their cost instead of
 * being updated right after (ADR 0023). Variants and unit costs must be written first.
 */
export function orderLineCostsSql(shop: string, orders: { id: bigint; shopifyUpdatedAt: Date; processedAt: Date; lines: OrderLineRow[] }[]): Prisma.Sql {
  // processedAt as the order insert stores it (epoch milliseconds, upsert-batch.server.ts).
  return Prisma.sql`
    SELECT k."orderId", sum(k.kept::bigint * cost."costMinor") AS cogs,
           sum(k.net) FILTER (WHERE cost."costMinor" IS NOT NULL) AS costed
    FROM (SELECT l."orderId", l."variantId", l.kept, l.net, timestamp 'epoch' + p.ms * interval '1 millisecond' AS "processedAt"
          FROM (${orderLineRowsSql(shop, orders)}) AS l(shop, "orderId", id, "variantId", kept, net, "versionQuantity", "versionNetSalesMinor", "versionAt")
          JOIN unnest(${orders.map((o) => o.id.toString())}::bigint[], ${orders.map((o) => o.processedAt.getTime())}::bigint[]) AS p("orderId", ms)
            ON p."orderId" = l."orderId") AS k
    -- A probe per line: the planner, taking a shop's few variants for one row, joined them by
    -- scanning them all for every line (ADR 0023). LIMIT 1 (the key is
    -- unique) keeps the subquery from being flattened back into that join.
    LEFT JOIN LATERAL (SELECT pv.shop, pv.id, pv."inventoryItemId" FROM "ProductVariant" AS pv WHERE pv.shop = ${shop} AND pv.id = k."variantId" LIMIT 1) AS v ON true
    LEFT JOIN LATERAL (${COST_IN_FORCE}) AS cost ON v.id IS NOT NULL
    GROUP BY k."orderId"`;
}

const ORDER_LINE_COLUMNS = Prisma.sql`(shop, "orderId", id, "variantId", "keptQuantity", "keptNetSalesMinor", "versionQuantity", "versionNetSalesMinor", "versionAt")`;

/**
 * One order's lines and cost, for the caller that has just written this version of the order
 * (upsertOrder: its write path's newer-wins let it through, so the lines are this version's):
 * replaceOrderLines and recostOrders in one statement, a webhook's order being one statement
 * and round trip instead of four (the version check, delete, insert and recost). The lines are
 * upserted and the order's other stored lines deleted, so the order ends with exactly these
 * lines, as replaceOrderLines leaves it; the cost is recostOrders' over them (the statement's
 * CTE, which its later parts see, not the table, which they do not). The caller holds the order's lock.
 */
export async function replaceWrittenOrderLinesAndCost(tx: RawTx, shop: string, order: { id: bigint; shopifyUpdatedAt: Date; lines: OrderLineRow[] }): Promise<void> {
  const lineIds = order.lines.map((line) => line.id.toString());
  await tx.$queryRaw`
    WITH gone AS (
      DELETE FROM "OrderLine" WHERE shop = ${shop} AND "orderId" = ${order.id}::bigint AND id <> ALL(${lineIds}::bigint[])
    ), lines AS (
      INSERT INTO "OrderLine" ${ORDER_LINE_COLUMNS}
      ${orderLineRowsSql(shop, [order])}
      ON CONFLICT (shop, "orderId", id) DO UPDATE SET
        "variantId" = excluded."variantId", "keptQuantity" = excluded."keptQuantity", "keptNetSalesMinor" = excluded."keptNetSalesMinor",
        "versionQuantity" = excluded."versionQuantity", "versionNetSalesMinor" = excluded."versionNetSalesMinor", "versionAt" = excluded."versionAt"
      RETURNING shop, "orderId", "variantId", "keptQuantity", "keptNetSalesMinor"
    )
    ${recostSql(shop, [order.id], Prisma.sql`lines`)}`;
}

/**
 * Replaces the lines of the orders whose stored version is the one the lines came with (the
 * caller wrote it, or it was already stored at that updated_at): lines of an older version
 * never replace a newer one's. Set-based, for one order or a batch.
 */
export async function replaceOrderLines(
  tx: RawTx,
  shop: string,
  orders: { id: bigint; shopifyUpdatedAt: Date; lines: OrderLineRow[] }[],
  /** Orders the caller has just inserted at these versions: not looked up again. */
  inserted: ReadonlySet<bigint> = new Set(),
): Promise<bigint[]> {
  if (orders.length === 0) return [];
  const unknown = orders.filter((o) => !inserted.has(o.id));
  const current = unknown.length === 0 ? [] : await tx.$queryRaw<{ id: bigint }[]>`
    SELECT o.id FROM "Order" AS o
    JOIN unnest(${unknown.map((o) => o.id.toString())}::bigint[], ${unknown.map((o) => o.shopifyUpdatedAt.toISOString())}::timestamp[]) AS x(id, at)
      ON o.shop = ${shop} AND o.id = x.id AND o."shopifyUpdatedAt" = x.at`;
  const ids = new Set([...current.map((row) => row.id), ...orders.filter((o) => inserted.has(o.id)).map((o) => o.id)]);
  const kept = orders.filter((o) => ids.has(o.id));
  if (kept.length === 0) return [];
  const keptIds = kept.map((o) => o.id);
  await tx.$executeRaw`DELETE FROM "OrderLine" WHERE shop = ${shop} AND "orderId" = ANY(${keptIds}::bigint[])`;
  if (kept.some((o) => o.lines.length > 0)) await tx.$executeRaw`INSERT INTO "OrderLine" ${ORDER_LINE_COLUMNS} ${orderLineRowsSql(shop, kept)}`;
  return keptIds;
}

/** The units of `line` of `order` returned by the stored refunds created after `at` (`units`, null for none). */
function laterRefundUnits(shop: string, order: Prisma.Sql, line: Prisma.Sql, at: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
    SELECT sum(e.value::int) AS units
    FROM "Refund" AS r, jsonb_each_text(r."lineUnits") AS e
    WHERE r.shop = ${shop} AND r."orderId" = ${order} AND r."createdAt" > ${at} AND r."lineUnits" IS NOT NULL AND e.key = ${line}::text`;
}

/**
 * The refund's units per line as stored in "Refund"."lineUnits" ({line item id: units}, summed
 * per line); null when the source did not list them (a GraphQL refund).
 */
export function refundLineUnitsJson(refund: RefundRow): string | null {
  if (refund.lineQuantities === undefined) return null;
  const units = new Map<string, number>();
  for (const line of refund.lineQuantities) units.set(line.lineItemId.toString(), (units.get(line.lineItemId.toString()) ?? 0) + line.quantity);
  return JSON.stringify(Object.fromEntries(units));
}

/**
 * Derives the orders' kept units and net sales from the lines of the version they came with
 * less the units of the stored refunds created after that version's updated_at (which it does
 * not reflect, as for the order's net), each line's net sales pro rata to the units left. A
 * newer order version stored without lines (a source without them) leaves the lines' own version. Derived from
 * the same inputs whichever arrived first (a refund before its order, an order version older
 * than a refund already stored, the same refund twice), never decremented. A line stored before
 * the version columns takes its kept figures as its base, once (ADR 0023). Returns the orders
 * whose lines changed. The caller holds the orders' locks.
 */
export async function applyLaterRefunds(tx: RawTx, shop: string, orderIds: bigint[]): Promise<bigint[]> {
  if (orderIds.length === 0) return [];
  const rows = await tx.$queryRaw<{ orderId: bigint }[]>`
    UPDATE "OrderLine" AS l
    SET "versionQuantity" = x.base, "versionNetSalesMinor" = x."baseNet", "versionAt" = x.at, "keptQuantity" = x.kept, "keptNetSalesMinor" = x.net
    FROM (
      SELECT k.*, CASE WHEN k.base = 0 THEN k."baseNet" ELSE round(k."baseNet"::numeric * k.kept / k.base)::bigint END AS net
      FROM (
      SELECT b.shop, b."orderId", b.id, b.base, b."baseNet", b.at, GREATEST(0, b.base - COALESCE(u.units, 0))::int AS kept
      FROM (SELECT l2.shop, l2."orderId", l2.id, COALESCE(l2."versionQuantity", l2."keptQuantity") AS base,
                   COALESCE(l2."versionNetSalesMinor", l2."keptNetSalesMinor") AS "baseNet", COALESCE(l2."versionAt", o."shopifyUpdatedAt") AS at
            FROM "OrderLine" AS l2 JOIN "Order" AS o ON o.shop = l2.shop AND o.id = l2."orderId"
            WHERE l2.shop = ${shop} AND l2."orderId" = ANY(${orderIds}::bigint[])) AS b
      LEFT JOIN LATERAL (${laterRefundUnits(shop, Prisma.sql`b."orderId"`, Prisma.sql`b.id`, Prisma.sql`b.at`)}) AS u ON true
      ) AS k
    ) AS x
    WHERE l.shop = x.shop AND l."orderId" = x."orderId" AND l.id = x.id
      AND (l."versionQuantity", l."versionNetSalesMinor", l."versionAt", l."keptQuantity", l."keptNetSalesMinor")
          IS DISTINCT FROM (x.base, x."baseNet", x.at, x.kept, x.net)
    RETURNING l."orderId"`;
  return distinctIds(rows.map((row) => row.orderId));
}

/**
 * Variants: a newer updated_at wins (or different content at the same one). Returns the variants
 * whose inventory item changed (new ones included): a product edit that keeps the item changes no cost.
 */
export async function writeVariants(tx: RawTx, shop: string, variants: VariantRow[]): Promise<bigint[]> {
  if (variants.length === 0) return [];
  const ids = variants.map((v) => v.id.toString());
  // Both statements see the snapshot from before the upsert: "before" is the stored map.
  const rows = await tx.$queryRaw<{ id: bigint }[]>`
    WITH before AS (
      SELECT id, "inventoryItemId" FROM "ProductVariant" WHERE shop = ${shop} AND id = ANY(${ids}::bigint[])
    ), written AS (
      INSERT INTO "ProductVariant" AS cur (shop, id, "productId", "inventoryItemId", "shopifyUpdatedAt")
      SELECT DISTINCT ON (x.id) ${shop}, x.id, x."productId", x."inventoryItemId", x.at
      FROM unnest(${ids}::bigint[], ${variants.map((v) => v.productId?.toString() ?? null)}::bigint[],
                  ${variants.map((v) => v.inventoryItemId.toString())}::bigint[], ${variants.map((v) => v.shopifyUpdatedAt.toISOString())}::timestamp[])
           AS x(id, "productId", "inventoryItemId", at)
      ORDER BY x.id, x.at DESC, x."inventoryItemId" DESC
      ON CONFLICT (shop, id) DO UPDATE SET "productId" = excluded."productId", "inventoryItemId" = excluded."inventoryItemId",
                                          "shopifyUpdatedAt" = excluded."shopifyUpdatedAt"
      WHERE excluded."shopifyUpdatedAt" > cur."shopifyUpdatedAt"
         OR (excluded."shopifyUpdatedAt" = cur."shopifyUpdatedAt"
             AND (excluded."productId", excluded."inventoryItemId") IS DISTINCT FROM (cur."productId", cur."inventoryItemId")
             AND excluded."inventoryItemId" > cur."inventoryItemId")
      RETURNING id, "inventoryItemId"
    )
    SELECT w.id FROM written AS w LEFT JOIN before AS b ON b.id = w.id
    WHERE b."inventoryItemId" IS DISTINCT FROM w."inventoryItemId"`;
  return rows.map((row) => row.id);
}

/** A row of an item's cost history that was added or changed. */
export interface CostChange {
  inventoryItemId: bigint;
  validFrom: Date;
}

/**
 * Unit costs into the history: one row per item and updated_at, so a replay writes nothing
 * and an older cost arriving late takes its place in time. Two different costs at the same
 * updated_at (never seen from Shopify) keep the greater, whatever the order. Returns the rows added or changed.
 */
export async function writeUnitCosts(tx: RawTx, shop: string, costs: UnitCostRow[]): Promise<CostChange[]> {
  if (costs.length === 0) return [];
  return tx.$queryRaw<CostChange[]>`
    INSERT INTO "InventoryItemCost" AS cur (shop, "inventoryItemId", "validFrom", "costMinor")
    SELECT DISTINCT ON (x.item, x.at) ${shop}, x.item, x.at, x.cost
    FROM unnest(${costs.map((c) => c.inventoryItemId.toString())}::bigint[], ${costs.map((c) => c.validFrom.toISOString())}::timestamp[],
                ${costs.map((c) => c.costMinor?.toString() ?? null)}::bigint[]) AS x(item, at, cost)
    ORDER BY x.item, x.at, x.cost DESC NULLS LAST
    ON CONFLICT (shop, "inventoryItemId", "validFrom") DO UPDATE SET "costMinor" = excluded."costMinor"
    WHERE COALESCE(excluded."costMinor", -1) > COALESCE(cur."costMinor", -1)
    RETURNING "inventoryItemId", "validFrom"`;
}

/**
 * The stored orders whose cost can have moved: those with a line of a variant whose item
 * changed, and those whose cost in force (COST_IN_FORCE) is a changed history row: processedAt
 * from its validFrom up to the item's next one, or before it when no earlier one exists. An
 * order whose cost in force is an unchanged row keeps it (rows are only added or raised).
 */
async function ordersAffected(tx: RawTx, shop: string, variantIds: bigint[], costs: CostChange[]): Promise<bigint[]> {
  const rows = await tx.$queryRaw<{ orderId: bigint }[]>`
    SELECT l."orderId" FROM "OrderLine" AS l WHERE l.shop = ${shop} AND l."variantId" = ANY(${variantIds}::bigint[])
    UNION
    SELECT l."orderId"
    FROM unnest(${costs.map((c) => c.inventoryItemId.toString())}::bigint[], ${costs.map((c) => c.validFrom.toISOString())}::timestamp[]) AS c(item, "from")
    JOIN "ProductVariant" AS v ON v.shop = ${shop} AND v."inventoryItemId" = c.item
    JOIN "OrderLine" AS l ON l.shop = ${shop} AND l."variantId" = v.id
    JOIN "Order" AS o ON o.shop = ${shop} AND o.id = l."orderId"
    WHERE (o."processedAt" >= c."from"
           AND o."processedAt" < COALESCE((SELECT min(n."validFrom") FROM "InventoryItemCost" AS n
                                           WHERE n.shop = ${shop} AND n."inventoryItemId" = c.item AND n."validFrom" > c."from"), 'infinity'))
       OR (o."processedAt" < c."from"
           AND NOT EXISTS (SELECT 1 FROM "InventoryItemCost" AS e WHERE e.shop = ${shop} AND e."inventoryItemId" = c.item AND e."validFrom" < c."from"))`;
  return rows.map((row) => row.orderId);
}

/**
 * Recosts the orders a changed variant map or cost history touches. The caller holds the
 * shop's import lock EXCLUSIVE (lockShopExclusive): no order write of the shop runs meanwhile,
 * so no per-order lock is needed (thousands of them would fill PostgreSQL's shared lock table).
 * Returns the customers whose orders' cost changed.
 */
export async function recostAffected(tx: RawTx, shop: string, variantIds: bigint[], costs: CostChange[]): Promise<bigint[]> {
  if (variantIds.length === 0 && costs.length === 0) return [];
  return recostOrders(tx, shop, await ordersAffected(tx, shop, variantIds, costs));
}

/**
 * A product or cost delivery may touch every order of a product: it takes the shop's import
 * lock exclusive, as a batch does (no lock per order), and plans its set-based queries for
 * their actual arrays: the deliveries' generic plans (ADR 0012) are for key lookups, and one
 * over 10,000 order ids ran past 30 s in a test.
 */
async function lockForRecost(tx: RawTx, shop: string): Promise<void> {
  await lockShopExclusive(tx, shop);
  await tx.$executeRaw`SET LOCAL plan_cache_mode TO force_custom_plan`;
}

/** products/create, products/update: the variants' inventory items; orders of a variant whose item changed are recosted. */
export async function upsertProductVariants(tx: RawTx, shop: string, variants: VariantRow[]): Promise<CostWriteResult> {
  await lockForRecost(tx, shop);
  const written = await writeVariants(tx, shop, variants);
  const affectedCustomerIds = await recostAffected(tx, shop, written, []);
  return { changed: written.length > 0, affectedCustomerIds };
}

/** inventory_items/create, inventory_items/update: a unit cost into the history; the orders whose cost in force it is are recosted. */
export async function upsertUnitCost(tx: RawTx, shop: string, cost: UnitCostRow): Promise<CostWriteResult> {
  await lockForRecost(tx, shop);
  const changes = await writeUnitCosts(tx, shop, [cost]);
  const affectedCustomerIds = await recostAffected(tx, shop, [], changes);
  return { changed: changes.length > 0, affectedCustomerIds };
}

/**
 * Reconciliation (issue 17): the variants and unit costs read back from Shopify for items
 * updated since the last sweep, on the webhooks' rules and lock (a missed products/* or
 * inventory_items/* delivery is repaired as if it had arrived). Rows already stored write nothing.
 */
export async function upsertCostsBatch(tx: RawTx, shop: string, variants: VariantRow[], costs: UnitCostRow[]): Promise<CostWriteResult & { costsWritten: number }> {
  await lockForRecost(tx, shop);
  const written = await writeVariants(tx, shop, variants);
  const changes = await writeUnitCosts(tx, shop, costs);
  const affectedCustomerIds = await recostAffected(tx, shop, written, changes);
  return { changed: written.length > 0 || changes.length > 0, affectedCustomerIds, costsWritten: changes.length };
}
