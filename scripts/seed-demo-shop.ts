import { type PrismaClient } from "@prisma/client";
import type pg from "pg";
import { contextOf, renderCustomer } from "../demo/payload-basics";
import { renderOrder } from "../demo/payloads";
import { type DemoStore } from "../demo/store-model";
import { generateStore } from "../demo/store";
import { mapCustomerPayload, mapOrderPayload } from "../app/ingest/mappers";
import { upsertInstalledShop } from "../app/data/shop.server";
import { TRANSACTION_OPTIONS } from "../app/db/tx.server";
import { upsertOrdersBatch } from "../app/ingest/upsert-batch.server";
import { upsertCustomer } from "../app/ingest/upsert.server";
import { type RefitReport, refitShop } from "../app/refit/refit.server";

// A demo shop seeded quickly through the app's own write path, for browser tests and the
// web-vitals benchmark: the generated store's orders as they stand at the end of its
// history go through the batched upsert (the path the bulk backfill uses), customers who
// never ordered through upsertCustomer, then one shop refit scores every customer and
// writes the aggregates the pages read. Same seed and size, same rows.

export interface SeedDemoShopOptions {
  prisma: PrismaClient;
  pool: pg.Pool;
  shop: string;
  /** Customer accounts to generate (a few hundred keeps browser tests fast). */
  customers?: number;
  seed?: string;
  /** The end of the store's history, and the refit's clock. Default: now, to the minute. */
  endAt?: Date;
  /** Orders per upsert batch (the backfill's size). */
  batchSize?: number;
  /** Run the shop refit once the orders are in (default true). */
  refit?: boolean;
}

export interface SeededDemoShop {
  store: DemoStore;
  orders: number;
  customers: number;
  /** null when seeded with refit: false. */
  refit: RefitReport | null;
  durationMs: number;
}

export async function seedDemoShop(options: SeedDemoShopOptions): Promise<SeededDemoShop> {
  const startedAt = Date.now();
  const { prisma, pool, shop } = options;
  const endAt = options.endAt ?? new Date(Math.floor(Date.now() / 60_000) * 60_000);
  const store = generateStore({ seed: options.seed ?? "tenure-browser", shop, customers: options.customers ?? 300, endAt });
  const context = contextOf(store);

  await upsertInstalledShop(prisma, {
    shop,
    currency: context.currency,
    timezone: store.options.timezone,
    scopes: "read_orders,read_all_orders,read_customers,write_customers",
  });

  // Final state of every order (refunds embedded), as a backfill would read it.
  const bundles = store.orders.map((order) => mapOrderPayload(renderOrder(order, store.endAt, context), "orders/updated"));
  const batchSize = options.batchSize ?? 1_000;
  for (let start = 0; start < bundles.length; start += batchSize) {
    const batch = bundles.slice(start, start + batchSize);
    await prisma.$transaction((tx) => upsertOrdersBatch(tx, shop, batch), TRANSACTION_OPTIONS);
  }
  // Accounts without orders reach Tenure only as customers/create.
  const withoutOrders = store.customers.filter((customer) => customer.orders.length === 0);
  for (const customer of withoutOrders) {
    await upsertCustomer(prisma, shop, mapCustomerPayload(renderCustomer(customer, store.endAt, context), "customers/create"));
  }

  const refit = options.refit === false ? null : await refitShop(pool, shop, { trigger: "demo", now: new Date(store.endAt) });
  return { store, orders: bundles.length, customers: store.customers.length, refit, durationMs: Date.now() - startedAt };
}
