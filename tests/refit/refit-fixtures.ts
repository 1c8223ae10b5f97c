import type pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { dayIndex } from "~/analytics/dates";
import { countedOrdersParams, countedOrdersSql } from "~/data/counted-orders.server";
import { loadMetricsSettings } from "~/data/settings.server";
import { createPgPool } from "~/db/pg.server";

// What the refit tests share: the store's clock, a pool, and reads of the rows a refit writes.

export const AS_OF_ISO = "2026-06-30";
export const AS_OF = dayIndex(AS_OF_ISO);
export const NOW = new Date(`${AS_OF_ISO}T15:00:00Z`);
export const nextDay = (days: number) => new Date(NOW.getTime() + days * 86_400_000);

/** This file's pool (a live binding: set before each test file runs). */
export let pool: pg.Pool;

beforeAll(() => {
  pool = createPgPool(process.env.DATABASE_URL!, { max: 4 });
});
afterAll(async () => {
  await pool.end();
});

export interface MetricsRow {
  customerId: string;
  orders: number;
  netSpentMinor: string;
  recencyDays: number | null;
  segment: string | null;
  behaviours: string[];
  pAlive: number | null;
  predictedClvMinor: string | null;
  modelVersion: number | null;
  asOfDay: number;
}

export async function metricsRows(shop: string): Promise<MetricsRow[]> {
  const result = await pool.query<MetricsRow>(
    `SELECT "customerId"::text AS "customerId", orders, "netSpentMinor"::text AS "netSpentMinor", "recencyDays", segment, behaviours,
            "pAlive", "predictedClvMinor"::text AS "predictedClvMinor", "modelVersion", "asOfDay"
     FROM "CustomerMetrics" WHERE shop = $1 ORDER BY "customerId"`,
    [shop],
  );
  return result.rows;
}

export async function aggregate<T>(shop: string, kind: string): Promise<T> {
  const result = await pool.query<{ data: T }>(`SELECT data FROM "ShopAggregate" WHERE shop = $1 AND kind = $2`, [shop, kind]);
  if (!result.rows[0]) throw new Error(`no ${kind} aggregate for ${shop}`);
  return result.rows[0].data;
}

/** What the database says the shop's counted orders add up to. */
export async function countedTotals(shop: string) {
  const settings = await loadMetricsSettings(pool, shop);
  const result = await pool.query<{ customers: string; orders: string; net: string }>(
    `SELECT count(DISTINCT customer_id)::text AS customers, count(*)::text AS orders, COALESCE(sum(net), 0)::text AS net
     FROM (${countedOrdersSql(settings)}) AS counted WHERE day <= $6`,
    [...countedOrdersParams(shop, settings), AS_OF],
  );
  const row = result.rows[0];
  return { customers: Number(row.customers), orders: Number(row.orders), net: Number(row.net) };
}

/** An order delivered as the ingest path stores it: the order, and the customer's summary row touched in the same change. */
export async function landOrder(shop: string, customerId: number, orderId: number, netMinor: number): Promise<void> {
  await pool.query(
    `INSERT INTO "Order" (shop, id, "customerId", "processedAt", "shopifyCreatedAt", "shopifyUpdatedAt", currency, "currentTotalMinor", "netMinor", "sourceName", "discountCodes", tags)
     VALUES ($1, $4, $2, $3::timestamp, $3::timestamp, $3::timestamp, 'USD', $5, $5, 'web', '{}', '{}')`,
    [shop, customerId, `${AS_OF_ISO}T10:00:00Z`, orderId, netMinor],
  );
  await pool.query(`UPDATE "Customer" SET "summaryAt" = now() AT TIME ZONE 'UTC' WHERE shop = $1 AND id = $2`, [shop, customerId]);
}

export async function fitRow(shop: string) {
  const result = await pool.query<{ version: number; status: string; reasonCode: string | null; reason: string | null; changesSinceFit: number }>(
    `SELECT version, status, "reasonCode", reason, "changesSinceFit" FROM "ShopFit" WHERE shop = $1`,
    [shop],
  );
  return result.rows[0];
}

// Both ways a refit writes the rows: replaced in place (small shops), and into a new table
// that becomes the shop's partition (large shops; here from the first customer).
export const WRITE_PATHS = [
  ["rows replaced in place", Number.POSITIVE_INFINITY],
  ["rows in a new partition", 0],
] as const;
