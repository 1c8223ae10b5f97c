import type pg from "pg";
import type { OrderFact } from "~/analytics/retention";
import { seededRandom } from "~/analytics/random";
import { testPool } from "./db";

// Shared by the page data tests: a pg pool on this worker's database, a reproducible store's
// orders (minor units, mulberry32 seededRandom), and the precomputed rows the refit would write.

/** This worker's pg pool (db.ts testPool), as a getter. */
export function poolForTests(): () => pg.Pool {
  return testPool;
}

const CHANNELS = ["web", "pos", "web", "web", "instagram"];

/**
 * A store: customers join over `spanDays` before asOfDay; each orders again after
 * exponential gaps (their own mean, 10 to 200 days) until they drop out (their own chance
 * after each order, 5 % to 65 %): customers differ, as the CLV models assume.
 */
export function syntheticOrders(options: { seed: number; customers: number; asOfDay: number; spanDays: number }): OrderFact[] {
  const next = seededRandom(options.seed);
  const orders: OrderFact[] = [];
  for (let c = 0; c < options.customers; c++) {
    const customerId = String(c + 1);
    let day = options.asOfDay - Math.floor(next() * options.spanDays);
    const channel = CHANNELS[Math.floor(next() * CHANNELS.length)];
    const meanGap = 10 * Math.exp(next() * 3);
    const dropOut = 0.05 + 0.6 * next();
    let first = true;
    while (day <= options.asOfDay) {
      orders.push({
        customerId,
        day,
        net: 1_000 + Math.floor(next() * 9_000),
        channel: first ? channel : "web",
        firstProduct: first ? (next() < 0.5 ? "Tea" : "Mug") : null,
        discountCodes: first && next() < 0.2 ? ["WELCOME10"] : [],
      });
      first = false;
      if (next() < dropOut) break;
      day += 1 + Math.floor(-Math.log(1 - next()) * meanGap);
    }
  }
  return orders;
}

export async function insertShop(pool: pg.Pool, shop: string, values: { currency?: string; timezone?: string; reconciledAt?: Date | null } = {}) {
  await pool.query(`INSERT INTO "Shop" (domain, currency, timezone, "reconciledAt", "updatedAt") VALUES ($1, $2, $3, $4, now())`, [
    shop,
    values.currency ?? "USD",
    values.timezone ?? "UTC",
    values.reconciledAt ? values.reconciledAt.toISOString() : null,
  ]);
}

export async function insertAggregate(pool: pg.Pool, shop: string, kind: string, asOfDay: number, data: unknown) {
  await pool.query(
    `INSERT INTO "ShopAggregate" (shop, kind, "asOfDay", data) VALUES ($1, $2, $3, $4::jsonb)
     ON CONFLICT (shop, kind) DO UPDATE SET data = EXCLUDED.data, "asOfDay" = EXCLUDED."asOfDay", "computedAt" = now()`,
    [shop, kind, asOfDay, JSON.stringify(data)],
  );
}
