import type pg from "pg";
import { createPgPool, pgTransaction } from "~/db/pg.server";
import { writeVariants } from "~/ingest/costs.server";
import { processDelivery } from "~/ingest/deliveries.server";
import { loadMetricsSettings } from "~/data/settings.server";
import { recomputeCustomerMetrics } from "~/metrics/recompute.server";
import { listCustomers } from "~/pages/customer-list.server";
import { loadCustomer } from "~/pages/customer.server";
import { loadDriversPage } from "~/pages/drivers.server";
import { moneyBasisOf } from "~/pages/money-basis";
import { refitShop } from "~/refit/refit.server";
import { insertDelivery, testDb, testPool, uniqueShop } from "../support/db";
import { at, orderPayload } from "../support/webhook-payloads";
import { fixture, type Json } from "../support/webhook-fixtures";

// Profit per customer from product costs (issue 17, part 1; docs/analytics/revenue.md, "Cost of
// goods"). Real-shape products/update, inventory_items/update and order payloads go through the
// real write path; each order's cost of goods and each customer's gross profit are checked
// against figures worked out by hand. The sock line of the orders-create fixture is variant
// 44123456789012 on inventory item 45900000000512 (products-update.json); the fixture's second
// line (a different, unmapped variant) is priced 0 by orderPayload.

const db = () => testDb();
const SOCK_LINE = 15312345678901;
const ITEM = 45900000000512;
const CUSTOMER = 7_700_001;

async function deliver(shop: string, topic: string, payload: unknown) {
  const id = await insertDelivery(db(), { shop, topic, payload });
  const outcome = await processDelivery(db(), id);
  expect(outcome, `${topic} ${JSON.stringify(outcome)}`).toMatchObject({ status: "processed" });
  return outcome;
}

/** inventory_items/update of the real shape: the sock's item at this cost from `updatedAt`. */
const costPayload = (cost: string | null, updatedAt: string): Json => ({ ...fixture("inventory-items-update"), cost, updated_at: updatedAt });

/** An order of the sock: `quantity` units at `unitCents` each (the whole total is goods). */
function sockOrder(id: number, processedAt: string, unitCents: number, quantity = 1, extra: { updatedAt?: string; refundedUnits?: number } = {}): Json {
  const total = unitCents * quantity;
  const refunded = extra.refundedUnits ?? 0;
  const payload = orderPayload({ id, customerId: CUSTOMER, processedAt: at(processedAt), createdAt: at(processedAt), updatedAt: at(extra.updatedAt ?? processedAt), totalCents: total });
  const money = (cents: number) => {
    const amount = `${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;
    return { shop_money: { amount, currency_code: "USD" }, presentment_money: { amount, currency_code: "USD" } };
  };
  const lines = payload.line_items as Json[];
  Object.assign(lines[0], { price: money(unitCents).shop_money.amount, price_set: money(unitCents), quantity, current_quantity: quantity - refunded });
  if (refunded > 0) {
    const kept = unitCents * (quantity - refunded);
    const refund = fixture("refunds-create");
    const refundLine = (refund.refund_line_items as Json[])[0];
    Object.assign(refund, {
      id: id + 1,
      admin_graphql_api_id: `gid://shopify/Refund/${id + 1}`,
      order_id: id,
      created_at: extra.updatedAt,
      processed_at: extra.updatedAt,
      refund_line_items: [{ ...refundLine, line_item_id: SOCK_LINE, quantity: refunded, subtotal: (unitCents * refunded) / 100, subtotal_set: money(unitCents * refunded), total_tax: 0, total_tax_set: money(0) }],
      refund_shipping_lines: [],
      order_adjustments: [],
      transactions: [],
    });
    Object.assign(payload, {
      refunds: [refund],
      current_subtotal_price: money(kept).shop_money.amount,
      current_subtotal_price_set: money(kept),
      current_total_price: money(kept).shop_money.amount,
      current_total_price_set: money(kept),
    });
  }
  return payload;
}

async function orderCost(shop: string, id: number) {
  const o = await db().order.findUniqueOrThrow({ where: { shop_id: { shop, id: BigInt(id) } } });
  return { cogs: Number(o.costOfGoodsMinor), costed: Number(o.costedNetSalesMinor), netSales: Number(o.netSalesMinor) };
}

async function customerProfit(shop: string) {
  await recomputeCustomerMetrics(testPool(), shop, [String(CUSTOMER)]);
  const m = await db().customerMetrics.findUniqueOrThrow({ where: { shop_customerId: { shop, customerId: BigInt(CUSTOMER) } } });
  return { netSpent: Number(m.netSpentMinor), grossProfit: Number(m.grossProfitMinor), uncosted: Number(m.uncostedSalesMinor) };
}

describe("cost of goods", () => {
  it("gives each order the unit cost in force at its time, whatever order the costs arrive in", async () => {
    const shop = uniqueShop("costs-time");
    await deliver(shop, "products/update", fixture("products-update"));
    await deliver(shop, "inventory_items/update", costPayload("6.40", "2025-03-01T13:05:00Z"));
    await deliver(shop, "orders/create", sockOrder(9001, "2025-03-10T12:00:00Z", 2000));
    // The second order arrives before the cost change that preceded it (webhooks are not ordered).
    await deliver(shop, "orders/create", sockOrder(9002, "2025-04-10T12:00:00Z", 2000));
    expect(await orderCost(shop, 9002)).toEqual({ cogs: 640, costed: 2000, netSales: 2000 });

    await deliver(shop, "inventory_items/update", costPayload("8.00", "2025-04-01T09:00:00Z"));
    expect(await orderCost(shop, 9001)).toEqual({ cogs: 640, costed: 2000, netSales: 2000 });
    expect(await orderCost(shop, 9002)).toEqual({ cogs: 800, costed: 2000, netSales: 2000 });

    // A duplicate (another webhook id, same body) and an older copy arriving late change nothing.
    await deliver(shop, "inventory_items/update", costPayload("8.00", "2025-04-01T09:00:00Z"));
    await deliver(shop, "inventory_items/update", costPayload("6.40", "2025-03-01T13:05:00Z"));
    expect(await orderCost(shop, 9002)).toEqual({ cogs: 800, costed: 2000, netSales: 2000 });

    // Gross profit to date: (20.00 - 6.40) + (20.00 - 8.00); every sale had a cost.
    expect(await customerProfit(shop)).toEqual({ netSpent: 4000, grossProfit: 2560, uncosted: 0 });
    expect(await db().inventoryItemCost.count({ where: { shop } })).toBe(2);
  });

  it("costs an order whose product and cost arrive after it (the earliest known cost for an older order)", async () => {
    const shop = uniqueShop("costs-late");
    await deliver(shop, "orders/create", sockOrder(9101, "2025-02-01T12:00:00Z", 2500));
    expect(await orderCost(shop, 9101)).toEqual({ cogs: 0, costed: 0, netSales: 2500 });
    await deliver(shop, "inventory_items/update", costPayload("6.40", "2025-03-01T13:05:00Z"));
    expect(await orderCost(shop, 9101)).toEqual({ cogs: 0, costed: 0, netSales: 2500 }); // no variant map yet
    await deliver(shop, "products/update", fixture("products-update"));
    expect(await orderCost(shop, 9101)).toEqual({ cogs: 640, costed: 2500, netSales: 2500 });
    await deliver(shop, "inventory_items/update", costPayload("5.00", "2025-05-01T13:05:00Z"));
    expect(await orderCost(shop, 9101)).toEqual({ cogs: 640, costed: 2500, netSales: 2500 });
  });

  it("falls back to the shop's margin for sales without a cost, and keeps the share that fell back", async () => {
    // No product or cost known: 50 % by default.
    const byDefault = uniqueShop("costs-default");
    await deliver(byDefault, "orders/create", sockOrder(9201, "2025-03-10T12:00:00Z", 5000));
    expect(await customerProfit(byDefault)).toEqual({ netSpent: 5000, grossProfit: 2500, uncosted: 5000 });
    // The margin from Settings.
    const shop = uniqueShop("costs-missing");
    await db().shopSettings.create({ data: { shop, costFallbackMargin: 0.6 } });
    await deliver(shop, "orders/create", sockOrder(9201, "2025-03-10T12:00:00Z", 5000));
    expect(await customerProfit(shop)).toEqual({ netSpent: 5000, grossProfit: 3000, uncosted: 5000 });

    // The item's cost removed (null) from before the order: still no cost for it.
    await deliver(shop, "products/update", fixture("products-update"));
    await deliver(shop, "inventory_items/update", costPayload(null, "2025-03-01T13:05:00Z"));
    expect(await orderCost(shop, 9201)).toEqual({ cogs: 0, costed: 0, netSales: 5000 });
    // A cost from then on: one costed order beside one without (a custom line has no variant).
    await deliver(shop, "inventory_items/update", costPayload("10.00", "2025-03-05T00:00:00Z"));
    const custom = sockOrder(9202, "2025-03-11T12:00:00Z", 3000);
    (custom.line_items as Json[])[0].variant_id = null;
    await deliver(shop, "orders/create", custom);
    expect(await orderCost(shop, 9201)).toEqual({ cogs: 1000, costed: 5000, netSales: 5000 });
    expect(await orderCost(shop, 9202)).toEqual({ cogs: 0, costed: 0, netSales: 3000 });
    // (50.00 - 10.00) + 30.00 x 60 %; 30.00 of 80.00 fell back.
    expect(await customerProfit(shop)).toEqual({ netSpent: 8000, grossProfit: 5800, uncosted: 3000 });
  });

  it("takes returned units' cost off the order (refunds of lines with costs)", async () => {
    const shop = uniqueShop("costs-refund");
    await deliver(shop, "products/update", fixture("products-update"));
    await deliver(shop, "inventory_items/update", costPayload("6.40", "2025-03-01T13:05:00Z"));
    await deliver(shop, "orders/create", sockOrder(9301, "2025-03-10T12:00:00Z", 2000, 3));
    expect(await orderCost(shop, 9301)).toEqual({ cogs: 1920, costed: 6000, netSales: 6000 });
    // One of the three socks returned: Shopify sends the order again with the refund embedded.
    await deliver(shop, "orders/updated", sockOrder(9301, "2025-03-10T12:00:00Z", 2000, 3, { updatedAt: "2025-03-20T12:00:00Z", refundedUnits: 1 }));
    expect(await orderCost(shop, 9301)).toEqual({ cogs: 1280, costed: 4000, netSales: 4000 });
    expect(await db().orderLine.findMany({ where: { shop, orderId: 9301n }, select: { id: true, keptQuantity: true, keptNetSalesMinor: true }, orderBy: { id: "asc" } })).toEqual([
      { id: BigInt(SOCK_LINE), keptQuantity: 2, keptNetSalesMinor: 4000n },
      { id: 15312345678902n, keptQuantity: 1, keptNetSalesMinor: 0n },
    ]);
    expect(await customerProfit(shop)).toEqual({ netSpent: 4000, grossProfit: 2720, uncosted: 0 });
    // The older version arriving late does not bring the returned unit's cost back.
    await deliver(shop, "orders/create", sockOrder(9301, "2025-03-10T12:00:00Z", 2000, 3));
    expect(await orderCost(shop, 9301)).toEqual({ cogs: 1280, costed: 4000, netSales: 4000 });
  });

  it("takes off the units an order edit removed (current_quantity) and those of a refund that arrives before the order's new version (review finding 8)", async () => {
    const shop = uniqueShop("costs-removed");
    await deliver(shop, "products/update", fixture("products-update"));
    await deliver(shop, "inventory_items/update", costPayload("6.40", "2025-03-01T13:05:00Z"));
    // An order edit removed one of three socks: no refund, current_quantity 2.
    const edited = sockOrder(9501, "2025-03-10T12:00:00Z", 2000, 3);
    (edited.line_items as Json[])[0].current_quantity = 2;
    await deliver(shop, "orders/create", edited);
    expect(await orderCost(shop, 9501)).toMatchObject({ cogs: 1280, costed: 4000 });

    // refunds/create for one of three socks, before the order's version with the refund.
    await deliver(shop, "orders/create", sockOrder(9502, "2025-03-10T12:00:00Z", 2000, 3));
    const withRefund = sockOrder(9502, "2025-03-10T12:00:00Z", 2000, 3, { updatedAt: "2025-03-20T12:00:00Z", refundedUnits: 1 });
    const refund = (withRefund.refunds as Json[])[0];
    await deliver(shop, "refunds/create", refund);
    expect(await orderCost(shop, 9502)).toEqual({ cogs: 1280, costed: 4000, netSales: 4000 });
    // The same refund again, then the order's version with it: the unit is taken off once.
    await deliver(shop, "refunds/create", refund);
    await deliver(shop, "orders/updated", withRefund);
    expect(await orderCost(shop, 9502)).toEqual({ cogs: 1280, costed: 4000, netSales: 4000 });
  });

  it("takes a refund's units off as soon as its order arrives, whatever the arrival order (refund before order, issue 17 gap)", async () => {
    // Order 9601: three socks (v1); one returned by refund 9602 on 2025-03-20 (v2 carries it).
    const v1 = sockOrder(9601, "2025-03-10T12:00:00Z", 2000, 3);
    const v2 = sockOrder(9601, "2025-03-10T12:00:00Z", 2000, 3, { updatedAt: "2025-03-20T12:00:00Z", refundedUnits: 1 });
    const refund = (v2.refunds as Json[])[0];
    const deliveries: [string, string, Json][] = [["v1", "orders/create", v1], ["refund", "refunds/create", refund], ["v2", "orders/updated", v2]];
    // What each set of deliveries must leave, whatever their order: the sock's units and net sales kept, and the cost.
    const expected: Record<string, { sock: [number, number]; cogs: number; costed: number } | null> = {
      v1: { sock: [3, 6000], cogs: 1920, costed: 6000 },
      refund: null,
      v2: { sock: [2, 4000], cogs: 1280, costed: 4000 },
      "refund,v1": { sock: [2, 4000], cogs: 1280, costed: 4000 },
      "v1,v2": { sock: [2, 4000], cogs: 1280, costed: 4000 },
      "refund,v2": { sock: [2, 4000], cogs: 1280, costed: 4000 },
      "refund,v1,v2": { sock: [2, 4000], cogs: 1280, costed: 4000 },
    };
    const permutations = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    for (const order of permutations) {
      const shop = uniqueShop("costs-refund-first");
      await deliver(shop, "products/update", fixture("products-update"));
      await deliver(shop, "inventory_items/update", costPayload("6.40", "2025-03-01T13:05:00Z"));
      const delivered: string[] = [];
      for (const i of [...order, 1]) { // the refund's copy again at the end: nothing taken off twice
        const [name, topic, payload] = deliveries[i];
        await deliver(shop, topic, payload);
        if (!delivered.includes(name)) delivered.push(name);
        const key = [...delivered].sort().join(",");
        const stored = await db().order.findUnique({ where: { shop_id: { shop, id: 9601n } } });
        const sock = await db().orderLine.findUnique({ where: { shop_orderId_id: { shop, orderId: 9601n, id: BigInt(SOCK_LINE) } } });
        const state = stored && sock ? { sock: [sock.keptQuantity, Number(sock.keptNetSalesMinor)], cogs: Number(stored.costOfGoodsMinor), costed: Number(stored.costedNetSalesMinor) } : null;
        expect(state, `${order.map((j) => deliveries[j][0]).join(" -> ")}: after ${key}`).toEqual(expected[key]);
      }
    }
  });

  it("rounds a unit cost finer than the currency half to even instead of failing the delivery", async () => {
    const shop = uniqueShop("costs-fine");
    await deliver(shop, "products/update", fixture("products-update"));
    // Shopify keeps costs to more decimals than USD: 6.405 -> 6.40 (half to even), 6.415 -> 6.42.
    await deliver(shop, "inventory_items/update", costPayload("6.405", "2025-03-01T13:05:00Z"));
    await deliver(shop, "orders/create", sockOrder(9401, "2025-03-10T12:00:00Z", 2000));
    expect(await orderCost(shop, 9401)).toEqual({ cogs: 640, costed: 2000, netSales: 2000 });
    await deliver(shop, "inventory_items/update", costPayload("6.415", "2025-03-01T13:05:00Z"));
    expect(await db().inventoryItemCost.findMany({ where: { shop }, select: { costMinor: true } })).toEqual([{ costMinor: 642n }]);
    expect(await orderCost(shop, 9401)).toEqual({ cogs: 642, costed: 2000, netSales: 2000 });
  });

  it("refuses a cost that is not a decimal amount, with the value named, and keeps the delivery", async () => {
    const shop = uniqueShop("costs-bad");
    const id = await insertDelivery(db(), { shop, topic: "inventory_items/update", payload: costPayload("6,40", "2025-03-01T13:05:00Z") });
    const outcome = await processDelivery(db(), id);
    expect(outcome).toMatchObject({ status: "failed" });
    expect(outcome.status === "failed" && outcome.error).toMatch(/6,40/);
    expect(await db().webhookDelivery.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: "FAILED" });
    expect(await db().inventoryItemCost.count({ where: { shop } })).toBe(0);
    expect(ITEM).toBe(45900000000512);
  });
});

describe("a product sold thousands of times (review of issue 17, finding 1)", () => {
  const VARIANT = 44123456789012n;
  const ORDERS = 10_000; // more advisory locks than PostgreSQL's shared lock table holds by default (64 x 100 connections)

  /** `ORDERS` orders of one sock each, a day apart from 1999-01-01, for 50 customers: stored directly (the webhook path is not what is measured). */
  async function storeManyOrders(shop: string) {
    await testPool().query(
      `INSERT INTO "Order" (shop, id, "customerId", "processedAt", "shopifyCreatedAt", "shopifyUpdatedAt", currency, "currentTotalMinor", "netMinor", "netSalesMinor", "discountCodes", tags)
       SELECT $1, 100000 + n, 7800000 + n % 50, t, t, t, 'USD', 2000, 2000, 2000, '{}', '{}'
       FROM generate_series(1, $2::int) AS n, LATERAL (SELECT timestamp '1999-01-01' + n * interval '1 day' AS t) AS x`,
      [shop, ORDERS],
    );
    await testPool().query(
      `INSERT INTO "OrderLine" (shop, "orderId", id, "variantId", "keptQuantity", "keptNetSalesMinor")
       SELECT $1, 100000 + n, 200000 + n, $3, 1, 2000 FROM generate_series(1, $2::int) AS n`,
      [shop, ORDERS, VARIANT.toString()],
    );
  }

  /** Advisory locks each delivery transaction held at its COMMIT (read on its own connection). */
  const locksAtCommit: number[] = [];
  let countingPool: pg.Pool | undefined;
  afterAll(() => countingPool?.end());
  function lockCountingPool(): pg.Pool {
    if (countingPool) return countingPool;
    countingPool = createPgPool(process.env.DATABASE_URL!, { max: 2 });
    countingPool.on("connect", (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
      (client as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = async (...args: unknown[]) => {
        if (args[0] === "COMMIT") {
          const held = (await query(`SELECT count(*)::int AS n FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory'`)) as { rows: { n: number }[] };
          locksAtCommit.push(held.rows[0].n);
        }
        return query(...args);
      };
    });
    return countingPool;
  }

  async function deliverCounting(shop: string, topic: string, payload: unknown) {
    const enqueued: bigint[] = [];
    const id = await insertDelivery(db(), { shop, topic, payload });
    const outcome = await processDelivery(db(), id, { pool: lockCountingPool(), enqueueMetrics: async (_shop, ids) => void enqueued.push(...ids) });
    expect(outcome, `${topic} ${JSON.stringify(outcome)}`).toMatchObject({ status: "processed" });
    return enqueued;
  }

  const costs = async (shop: string) =>
    (await testPool().query<{ cogs: string; orders: number }>(`SELECT "costOfGoodsMinor"::text AS cogs, count(*)::int AS orders FROM "Order" WHERE shop = $1 GROUP BY 1 ORDER BY 1`, [shop])).rows;

  it("reports a variant as changed only when its inventory item changed, not on every newer product edit", async () => {
    const shop = uniqueShop("costs-variant-edit");
    const write = (item: bigint, updatedAt: string) =>
      pgTransaction(testPool(), (tx) => writeVariants(tx, shop, [{ id: VARIANT, productId: 8012345678901n, inventoryItemId: item, shopifyUpdatedAt: at(updatedAt) }]));
    expect(await write(45900000000512n, "2025-03-01T13:00:00Z")).toEqual([VARIANT]);
    expect(await write(45900000000512n, "2025-06-01T13:00:00Z")).toEqual([]); // price edited, same item: no order to recost
    expect(await write(45900000000999n, "2025-07-01T13:00:00Z")).toEqual([VARIANT]);
    expect(await db().productVariant.findUniqueOrThrow({ where: { shop_id: { shop, id: VARIANT } } })).toMatchObject({ inventoryItemId: 45900000000999n, shopifyUpdatedAt: at("2025-07-01T13:00:00Z") });
  });

  it("recosts all its orders on a product and a cost webhook without one lock per order", async () => {
    const shop = uniqueShop("costs-many");
    await storeManyOrders(shop);
    expect(await deliverCounting(shop, "inventory_items/update", costPayload("6.40", "1999-01-01T00:00:00Z"))).toEqual([]); // no variant map yet
    expect(await deliverCounting(shop, "products/update", fixture("products-update"))).toHaveLength(50);
    expect(await costs(shop)).toEqual([{ cogs: "640", orders: ORDERS }]);

    // A cost change reaches only the orders from its time on (day 4,001 onwards)...
    expect(await deliverCounting(shop, "inventory_items/update", costPayload("7.00", "2009-12-14T12:00:00Z"))).toHaveLength(50);
    expect(await costs(shop)).toEqual([{ cogs: "640", orders: 4_000 }, { cogs: "700", orders: 6_000 }]);
    // ...a replay and a product edit that keeps the inventory item recost nothing.
    expect(await deliverCounting(shop, "inventory_items/update", costPayload("7.00", "2009-12-14T12:00:00Z"))).toEqual([]);
    const edited = fixture("products-update");
    Object.assign((edited.variants as Json[])[0], { updated_at: "2025-06-01T08:00:00-05:00", price: "19.00" });
    expect(await deliverCounting(shop, "products/update", { ...edited, updated_at: "2025-06-01T08:00:00-05:00" })).toEqual([]);
    expect(await costs(shop)).toEqual([{ cogs: "640", orders: 4_000 }, { cogs: "700", orders: 6_000 }]);
    // One advisory lock per delivery (the shop's import lock), never one per order.
    expect(locksAtCommit).toEqual([1, 1, 1, 1, 1]);
  });
});

describe("gross profit in the refit (issue 17)", () => {
  it("writes each customer's gross profit as the live recompute does, per segment, and the shop's cost coverage", async () => {
    const shop = uniqueShop("costs-refit");
    await deliver(shop, "products/update", fixture("products-update"));
    await deliver(shop, "inventory_items/update", costPayload("6.40", "2025-03-01T13:05:00Z"));
    await deliver(shop, "orders/create", sockOrder(9401, "2025-03-10T12:00:00Z", 2000, 3));
    const custom = sockOrder(9402, "2025-04-10T12:00:00Z", 1000);
    (custom.line_items as Json[])[0].variant_id = null;
    await deliver(shop, "orders/create", custom);
    const live = await customerProfit(shop);
    // (60.00 - 3 x 6.40) + 10.00 x 50 %; 10.00 of 70.00 without a cost.
    expect(live).toEqual({ netSpent: 7000, grossProfit: 4580, uncosted: 1000 });

    await refitShop(testPool(), shop, { trigger: "manual", now: at("2025-06-30T12:00:00Z") });
    const m = await db().customerMetrics.findUniqueOrThrow({ where: { shop_customerId: { shop, customerId: BigInt(CUSTOMER) } } });
    expect({ netSpent: Number(m.netSpentMinor), grossProfit: Number(m.grossProfitMinor), uncosted: Number(m.uncostedSalesMinor) }).toEqual(live);
    const kpis = await db().shopAggregate.findUniqueOrThrow({ where: { shop_kind: { shop, kind: "kpis" } } });
    expect((kpis.data as { costs: unknown }).costs).toEqual({ grossProfitMinor: 4580, uncostedSalesMinor: 1000, coverage: 1 - 1000 / 7000, profitMargin: 4580 / 7000 });
    const segments = await db().shopAggregate.findUniqueOrThrow({ where: { shop_kind: { shop, kind: "segments" } } });
    const rows = (segments.data as { rows: { kind: string; customers: number; grossProfitMinor: number }[] }).rows.filter((r) => r.kind === "rfm" && r.customers > 0);
    expect(rows.map((r) => r.grossProfitMinor)).toEqual([4580]);
    // Costs cover 86 % of net sales: the pages' money basis is profit by default, at the shop's own margin.
    const settings = await loadMetricsSettings(testPool(), shop);
    expect(moneyBasisOf(new URLSearchParams(), settings.grossMargin, settings.costs)).toMatchObject({ basis: "profit", grossMargin: 4580 / 7000 });
    // The drivers page carries the same costs, so its money basis follows them as the other pages' do.
    const drivers = await loadDriversPage(testPool(), shop);
    expect(drivers.costs).toEqual(settings.costs);
    expect(moneyBasisOf(new URLSearchParams(), drivers.grossMargin, drivers.costs)).toMatchObject({ basis: "profit", grossMargin: 4580 / 7000 });
    // The customer page and the customer table show the customer's gross profit to date as stored.
    const customer = await loadCustomer(testPool(), shop, String(CUSTOMER));
    expect(customer?.metrics).toMatchObject({ netSpentMinor: 7000, grossProfitMinor: 4580, uncostedSalesMinor: 1000 });
    const table = await listCustomers(testPool(), shop, { sort: "netSpent", direction: "desc" });
    expect(table.rows.map((r) => [r.id, r.netSpentMinor, r.grossProfitMinor])).toEqual([[String(CUSTOMER), 7000, 4580]]);
  });
});
