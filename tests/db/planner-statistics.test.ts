import type { Job } from "bullmq";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createPgPool } from "../../app/db/pg.server";
import { refreshPlannerStatistics } from "../../app/db/planner-statistics.server";
import { maintenanceProcessor } from "../../app/worker/registry.server";
import { cloneTemplate } from "../support/databases";
import { testDb } from "../support/db";
import { isolatedIngestQueue } from "../support/queues";
import { waitFor } from "../support/wait-for";

// A freshly migrated database of its own: its tables are empty and were never analyzed, as
// on a new deployment, which the shared worker database (analyzed by earlier tests) is not.
const runId = inject("testRunId");
const name = `tenure_test_${runId}_planner_statistics_${process.env.VITEST_POOL_ID ?? "0"}`;
const shop = "planner-statistics.myshopify.com";
let pool: pg.Pool;
const ingestQueue = isolatedIngestQueue("planner-statistics");

beforeAll(async () => {
  pool = createPgPool(await cloneTemplate(runId, name), { max: 2 });
});

afterAll(async () => {
  await pool.end();
});

async function insertOrders(client: pg.ClientBase, from: number, count: number): Promise<void> {
  await client.query(
    `INSERT INTO "Order" (shop, id, "customerId", "processedAt", "shopifyCreatedAt", "shopifyUpdatedAt", currency,
                          "currentTotalMinor", "netMinor", test, "discountCodes", tags, "lineItemCount")
     SELECT $1, g, g, now(), now(), now(), 'USD', 1000, 1000, false, '{}', '{}', 1 FROM generate_series($2::bigint, $3::bigint) AS g`,
    [shop, from, from + count - 1],
  );
  // The counters refreshPlannerStatistics reads are sent when this session is next idle.
  await client.query("SELECT pg_stat_force_next_flush()");
}

const plan = async (client: pg.ClientBase) =>
  (await client.query<{ "QUERY PLAN": string }>(`EXPLAIN EXECUTE order_customer('${shop}', 42)`)).rows.map((row) => row["QUERY PLAN"]).join("\n");

describe("refreshPlannerStatistics", () => {
  it("replaces a key lookup's plan cached while the table was tiny with the primary key's, once the table has grown", async () => {
    const client = await pool.connect();
    try {
      await insertOrders(client, 1, 3);
      // The live path's order lookup (upsert.server.ts), prepared and run as a worker's connection runs it.
      await client.query(`PREPARE order_customer(text, bigint) AS SELECT "customerId" FROM "Order" WHERE shop = $1 AND id = $2`);
      for (let i = 0; i < 6; i += 1) await client.query(`EXECUTE order_customer('${shop}', ${i})`);
      await insertOrders(client, 100, 5_000);
      // The generic plan made on three rows: every index starting with shop looked as good,
      // so a lookup reads every order of the shop.
      expect(await plan(client)).not.toMatch(/Order_pkey/);

      const analyzed = await waitFor(async () => {
        const tables = await refreshPlannerStatistics(pool);
        return tables.length > 0 && tables;
      }, 10_000, "the Order table's changes to be counted");
      expect(analyzed).toEqual(["Order"]);
      expect(await plan(client)).toMatch(/Index Cond: \(\(shop = .*\) AND \(id = .*\)\)/);
      expect(await plan(client)).toMatch(/Order_pkey/);
    } finally {
      client.release(true);
    }
  });

  it("leaves a table alone until it has changed by as many rows as it held when analyzed", async () => {
    await pool.query(`ANALYZE "Order"`);
    expect(await refreshPlannerStatistics(pool)).toEqual([]);
    const client = await pool.connect();
    try {
      await insertOrders(client, 10_000, 2_000);
    } finally {
      client.release();
    }
    // 2,000 changes on about 5,000 rows: autovacuum's business, not ours.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await refreshPlannerStatistics(pool)).toEqual([]);
  });
});

describe("refreshPlannerStatistics on tables never analyzed", () => {
  it("analyzes a never-analyzed table as soon as it has rows: the order's checkout lookup, planned on the empty table, gets its indexes", async () => {
    const client = await pool.connect();
    const lookup = (id: number) => `EXECUTE checkout_owners('${shop}', ${id}, 'token-${id}', 'cart-${id}')`;
    try {
      // recordOrderCheckout's probes (upsert-checkout.server.ts), prepared while Checkout is empty, as on a new deployment.
      await client.query(`PREPARE checkout_owners(text, bigint, text, text) AS
        SELECT "customerId" FROM "Checkout" WHERE shop = $1 AND id = $2 AND "customerId" IS NOT NULL
        UNION SELECT "customerId" FROM "Checkout" WHERE shop = $1 AND token = $3 AND "customerId" IS NOT NULL
        UNION SELECT "customerId" FROM "Checkout" WHERE shop = $1 AND "cartToken" = $4 AND "customerId" IS NOT NULL`);
      await client.query(`SET plan_cache_mode TO force_generic_plan`);
      for (let i = 0; i < 6; i += 1) await client.query(lookup(i));
      await client.query(
        `INSERT INTO "Checkout" (shop, id, token, "cartToken", "customerId", "shopifyCreatedAt", "shopifyUpdatedAt")
         SELECT $1, g, 'token-' || g, 'cart-' || g, g, now(), now() FROM generate_series(1, 400) AS g`,
        [shop],
      );
      await client.query("SELECT pg_stat_force_next_flush()");
      const checkoutPlan = async () => (await client.query<{ "QUERY PLAN": string }>(`EXPLAIN ${lookup(7)}`)).rows.map((row) => row["QUERY PLAN"]).join("\n");
      // Planned on the empty table, every index starting with shop looked as good: a probe reads
      // every checkout of the shop through another column's index.
      expect(await checkoutPlan()).not.toMatch(/Checkout_pkey/);

      // 400 rows: below the changes threshold, but the table was never analyzed.
      const analyzed = await waitFor(async () => {
        const tables = await refreshPlannerStatistics(pool);
        return tables.includes("Checkout") && tables;
      }, 10_000, "the Checkout table's changes to be counted");
      expect(analyzed).toContain("Checkout");
      const plan = await checkoutPlan();
      expect(plan).toMatch(/Checkout_pkey/);
      expect(plan).toMatch(/Checkout_shop_token_idx/);
      expect(plan).toMatch(/Checkout_shop_cartToken_idx/);
      // Analyzed once: the changes rule applies from then on.
      expect(await refreshPlannerStatistics(pool)).not.toContain("Checkout");
    } finally {
      client.release(true);
    }
  });

  it("analyzes CustomerMetrics by its partitions", async () => {
    const client = await pool.connect();
    try {
      await client.query(
        `INSERT INTO "CustomerMetrics" (shop, "customerId", orders, "netSpentMinor", "asOfDay")
         SELECT $1, g, 1, 1000, 20000 FROM generate_series(1, 50) AS g`,
        [shop],
      );
      await client.query("SELECT pg_stat_force_next_flush()");
    } finally {
      client.release();
    }
    const analyzed = await waitFor(async () => {
      const tables = await refreshPlannerStatistics(pool);
      return tables.includes("CustomerMetrics_shared") && tables;
    }, 10_000, "the CustomerMetrics partition's changes to be counted");
    expect(analyzed).toEqual(["CustomerMetrics_shared"]);
  });
});

describe("the maintenance job", () => {
  it("refreshes the live path's statistics on the sweeper's round", async () => {
    const client = await pool.connect();
    try {
      await insertOrders(client, 100_000, 12_000);
    } finally {
      client.release();
    }
    // The sweep itself runs on the worker database (testDb); the statistics on this one.
    const maintenance = maintenanceProcessor(testDb(), pool, ingestQueue, { olderThanSeconds: 3_600, batchSize: 10 });
    const report = await waitFor(async () => {
      const result = await maintenance({ data: { task: "sweep-deliveries" } } as Job);
      return result.analyzed?.length ? result : null;
    }, 30_000, "the maintenance job to analyze Order"); // ANALYZE of 100,000 new rows takes seconds on a busy machine
    expect(report.analyzed).toEqual(["Order"]);
  }, 60_000);
});
