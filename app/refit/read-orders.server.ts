import type pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import { type CustomerFacts, type CustomerOrderFact, customerFactsFromOrders, grossProfitOf } from "~/analytics/customer-metrics";
import { CustomerFactsColumns } from "~/analytics/customer-columns";
import { DimensionValues } from "~/analytics/dimension-values";
import { OrderTableBuilder } from "~/analytics/retention";
import { type RetentionDimension } from "~/data/aggregates";
import { countedOrdersCopySql, countedOrdersOf } from "~/data/counted-orders.server";
import { type MetricsSettings } from "~/data/settings.server";
import { snapshotAndChangesSinceFit } from "~/data/shop-fit.server";
import { type Queryable, pgTransaction } from "~/db/pg.server";
import { Col, CopiedOrdersReader } from "./copied-orders";

// The refit's step 1: the shop's counted orders, streamed grouped by customer through COPY
// (read from its bytes: copied-orders.ts) into per-customer fact columns and the retention
// table, in one snapshot that later steps compare customer rows with (rows changed outside
// it get fresh orders).

/** The first order's values the dimensions read. */
interface FirstOrderValues {
  channel: string | null;
  firstProduct: string | null;
  discountCode: string | null;
  marketingSource: string | null;
}

/** Everything read from the orders, in columns. */
export interface ShopData {
  facts: CustomerFactsColumns;
  /** Retention table (rows = orders up to as-of); its customer index = facts index of customers with orders. */
  builder: OrderTableBuilder;
  /** facts index -> table customer index (-1: no orders up to as-of). */
  tableIndexOf: Int32Array;
  dimensions: Record<RetentionDimension, DimensionValues>;
  /** The first order's marketing source per table customer (the acquisition drivers; not a retention filter). */
  marketingSources: DimensionValues;
  orders: number;
  customersWithOrders: number;
  /** Customers whose every order was cancelled or refunded in full: left out of predictions (issue 13). */
  onlyVoidedCustomers: number;
  /** The read's snapshot (pg_current_snapshot): a customer row changed outside it is newer than our orders. */
  snapshot: string;
  changesAtSnapshot: number;
}

/** Streams the shop's counted orders, grouped by customer, into columns. */
export async function readShop(pool: pg.Pool, shop: string, settings: MetricsSettings, asOfDay: number): Promise<ShopData> {
  // One snapshot for the orders and the change counter; read-only, so it blocks nobody.
  return pgTransaction(
    pool,
    async (_tx, client) => {
      const clock = await snapshotAndChangesSinceFit(client, shop);
      const facts = new CustomerFactsColumns();
      const builder = new OrderTableBuilder();
      const dimensions: Record<RetentionDimension, DimensionValues> = {
        channel: new DimensionValues(),
        firstProduct: new DimensionValues(),
        discountCode: new DimensionValues(),
      };
      const marketingSources = new DimensionValues();
      const tableIndex: number[] = [];
      let orders = 0;
      let customersWithOrders = 0;
      let onlyVoidedCustomers = 0;
      let currentId = "";
      let current: CustomerOrderFact[] = [];
      let first: FirstOrderValues | null = null;
      const finish = () => {
        if (currentId === "") return;
        const f = customerFactsFromOrders(currentId, current, asOfDay);
        facts.add(f);
        if (f.orders > 0 && f.onlyVoidedOrders) onlyVoidedCustomers++;
        if (f.orders > 0 && first) {
          tableIndex.push(customersWithOrders++);
          orders += f.orders;
          // Interned values: a million customers share a few hundred strings.
          dimensions.channel.push(first.channel);
          dimensions.firstProduct.push(first.firstProduct);
          dimensions.discountCode.push(first.discountCode);
          marketingSources.push(first.marketingSource);
          // The customer's values once, not per order (three lookups and an array an order).
          const channel = dimensions.channel.valueOf(customersWithOrders - 1);
          const firstProduct = dimensions.firstProduct.valueOf(customersWithOrders - 1);
          const discountCodes = codeList(dimensions.discountCode.valueOf(customersWithOrders - 1));
          for (const order of current) {
            if (order.day > asOfDay) continue;
            builder.add({
              customerId: currentId,
              day: order.day,
              net: order.net,
              channel,
              firstProduct,
              discountCodes,
              // The order's own gross profit (issue 17), for the cohorts' profit curves and payback.
              profit: grossProfitOf(order.costedProfit ?? 0, order.uncostedNet ?? 0, settings.costFallbackMargin),
            });
          }
        } else {
          tableIndex.push(-1);
        }
      };
      const reader = new CopiedOrdersReader((row) => {
        if (row.newCustomer) {
          finish();
          currentId = row.customerId;
          current = [];
          first = null;
        }
        const order = {
          day: row.number(Col.Day),
          net: row.number(Col.Net),
          // Null (no discount codes array, no financial status) counts as false, as it did.
          discounted: row.boolean(Col.Discounted) === true,
          voided: row.boolean(Col.Voided) === true,
          costedProfit: row.number(Col.CostedProfit),
          uncostedNet: row.number(Col.UncostedNet),
        };
        // Rows come in day order: the first row on or before as-of is the first order; only its
        // text columns are read.
        if (!first && order.day <= asOfDay) {
          first = {
            channel: row.text(Col.Channel),
            firstProduct: row.text(Col.FirstProduct),
            discountCode: row.text(Col.FirstDiscountCode),
            marketingSource: row.text(Col.MarketingSource),
          };
        }
        current.push(order);
      });
      await copyOut(client, countedOrdersCopySql(shop, settings), (chunk) => reader.push(chunk));
      reader.end();
      finish();
      return {
        facts,
        builder,
        tableIndexOf: Int32Array.from(tableIndex),
        dimensions,
        marketingSources,
        orders,
        customersWithOrders,
        onlyVoidedCustomers,
        snapshot: clock.snapshot,
        changesAtSnapshot: clock.changes,
      };
    },
    { repeatableRead: true, readOnly: true },
  );
}

/**
 * Runs a `COPY ... TO STDOUT` on `client`, handing each chunk of its output to `onChunk` as
 * it arrives (PostgreSQL writes ahead while we read, up to the socket's buffers). A COPY
 * cannot be left half-read on a connection: on a failure here the connection is closed,
 * which ends the query on the server (and the pool drops the client).
 */
async function copyOut(client: pg.PoolClient, sql: string, onChunk: (chunk: Buffer) => void): Promise<void> {
  const stream = client.query(copyTo(sql));
  try {
    for await (const chunk of stream) onChunk(chunk as Buffer);
  } catch (error) {
    stream.destroy();
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    throw error;
  }
}

// Only the first non-empty code matters for the dimension (OrderTableBuilder reads the first).
const codeList = (code: string | null) => (code ? [code] : []);

/** Facts of these customers from their orders as they are now (for rows written live during the refit). */
export async function freshFacts(db: Queryable, shop: string, settings: MetricsSettings, ids: readonly string[], asOfDay: number): Promise<CustomerFacts[]> {
  if (ids.length === 0) return [];
  const rows = await countedOrdersOf(db, shop, settings, ids);
  const byCustomer = new Map<string, CustomerOrderFact[]>(ids.map((id) => [id, []]));
  for (const row of rows) {
    byCustomer.get(String(row.customer_id))?.push({
      day: Number(row.day),
      net: Number(row.net),
      discounted: row.discounted,
      voided: row.voided,
      costedProfit: Number(row.costed_profit),
      uncostedNet: Number(row.uncosted_net),
    });
  }
  return [...byCustomer].map(([id, orders]) => customerFactsFromOrders(id, orders, asOfDay));
}
