import type pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { dayIndex } from "~/analytics/dates";
import { DEFAULT_METRICS_SETTINGS, type MetricsSettings } from "~/data/settings.server";
import { createPgPool } from "~/db/pg.server";
import { readShop } from "../../app/refit/read-orders.server";
import { createShop, order } from "../support/ingested-shops";
import { uniqueShop } from "../support/db";

// The refit reads a shop's orders by COPY (read-orders.server.ts). A COPY that PostgreSQL fails
// midway must reject the read with PostgreSQL's error and leave the pool whole: the next reads
// are answered on the same two connections. (A failure on our side while PostgreSQL still sends,
// which copyOut answers by closing the connection, is not injected here.)

let pool: pg.Pool;
beforeAll(() => {
  pool = createPgPool(process.env.DATABASE_URL!, { max: 2 });
});
afterAll(async () => {
  await pool.end();
});

it("rejects with PostgreSQL's error when the COPY fails, and the pool serves the next reads", async () => {
  const shop = uniqueShop("copy-fails");
  await createShop(shop);
  await order(shop, 1, 1_000, new Date("2026-05-01T10:00:00Z"));
  await order(shop, 2, 2_000, new Date("2026-05-02T10:00:00Z"));
  const asOf = dayIndex("2026-06-30");
  const settings: MetricsSettings = { ...DEFAULT_METRICS_SETTINGS, timezone: "UTC", currency: "USD" };
  // A zone PostgreSQL does not know fails the COPY on its first row.
  await expect(readShop(pool, shop, { ...settings, timezone: "Mars/Olympus_Mons" }, asOf)).rejects.toThrow(/time zone "Mars\/Olympus_Mons" not recognized/);
  for (let i = 0; i < 3; i++) {
    const data = await readShop(pool, shop, settings, asOf);
    expect(data.orders).toBe(2);
    expect(data.customersWithOrders).toBe(2);
  }
  expect(pool.totalCount).toBeLessThanOrEqual(2);
});
