import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPgPool } from "~/db/pg.server";
import { uniqueShop } from "../support/db";
import {
  SHARED_PARTITION,
  SwapLockTimeout,
  buildIndexes,
  createRebuildTable,
  dropAbandonedTables,
  indexStatements,
  rebuildTableName,
  shopPartition,
  swapInPartition,
} from "../../app/refit/partition-swap.server";

// The partition life cycle on the real catalog: a table built beside the live rows, swapped
// in with the indexes the parent has, without touching other shops' rows.

let pool: pg.Pool;
beforeAll(() => {
  pool = createPgPool(process.env.DATABASE_URL!, { max: 6 });
});
afterAll(async () => {
  await pool.end();
});

async function insertRows(table: string, shop: string, ids: number[], orders: number): Promise<void> {
  await pool.query(
    `INSERT INTO ${pg.escapeIdentifier(table)} (shop, "customerId", orders, "netSpentMinor", behaviours, "asOfDay")
     SELECT $1, id, $3, 100 * id, '{}', 1 FROM unnest($2::bigint[]) AS id`,
    [shop, ids, orders],
  );
}

async function rowsOf(shop: string): Promise<{ id: string; orders: number }[]> {
  const result = await pool.query<{ id: string; orders: number }>(
    `SELECT "customerId"::text AS id, orders FROM "CustomerMetrics" WHERE shop = $1 ORDER BY "customerId"`,
    [shop],
  );
  return result.rows;
}

async function tableExists(name: string): Promise<boolean> {
  return (await pool.query(`SELECT to_regclass($1) AS oid`, [pg.escapeIdentifier(name)])).rows[0].oid !== null;
}

/** A table holding `ids` with every index built: ready to swap in. */
async function readyTable(shop: string, ids: number[], orders: number): Promise<string> {
  const table = rebuildTableName(shop);
  await createRebuildTable(pool, table);
  await insertRows(table, shop, ids, orders);
  await buildIndexes(pool, table);
  return table;
}

describe("CustomerMetrics partitions", () => {
  const byColumns = (a: { columns: string }, b: { columns: string }) => (a.columns < b.columns ? -1 : a.columns > b.columns ? 1 : 0);

  it("a new table gets the primary key as a constraint and the shared partition's sort indexes without shop", async () => {
    const table = rebuildTableName(uniqueShop("indexes"));
    await createRebuildTable(pool, table);
    const statements = await indexStatements(pool, table);
    expect(statements[0]).toMatch(/ADD PRIMARY KEY \(shop, "customerId"\)$/);
    await buildIndexes(pool, table);
    const indexesOf = async (relation: string) =>
      (
        await pool.query<{ columns: string; primary: boolean }>(
          `SELECT regexp_replace(pg_get_indexdef(indexrelid), '^.* USING ', '') AS columns, indisprimary AS primary
           FROM pg_index WHERE indrelid = $1::regclass`,
          [pg.escapeIdentifier(relation)],
        )
      ).rows.sort(byColumns);
    const shared = await indexesOf(SHARED_PARTITION);
    expect(shared.length).toBeGreaterThan(5);
    expect(shared.every((index) => index.columns.startsWith("btree (shop, "))).toBe(true);
    const expected = shared.map((index) => (index.primary ? index : { ...index, columns: index.columns.replace("(shop, ", "(") }));
    expect(await indexesOf(table)).toEqual(expected.sort(byColumns));
    await pool.query(`DROP TABLE ${pg.escapeIdentifier(table)}`);
  });

  it("swaps a shop's rows out of the shared partition, then replaces its own partition, leaving other shops alone", async () => {
    const shop = uniqueShop("swap");
    const neighbour = uniqueShop("neighbour");
    await insertRows("CustomerMetrics", shop, [1, 2, 3], 1);
    await insertRows("CustomerMetrics", neighbour, [1, 2], 7);
    expect(await shopPartition(pool, shop)).toBeNull();

    const first = await readyTable(shop, [2, 3, 4], 2);
    const swapped = await swapInPartition(pool, shop, first, async () => {});
    expect(swapped.replaced).toBeNull();
    expect(await shopPartition(pool, shop)).toBe(first);
    expect(await rowsOf(shop)).toEqual([
      { id: "2", orders: 2 },
      { id: "3", orders: 2 },
      { id: "4", orders: 2 },
    ]);
    const shared = await pool.query(`SELECT count(*)::int AS n FROM ${pg.escapeIdentifier(SHARED_PARTITION)} WHERE shop = $1`, [shop]);
    expect(shared.rows[0].n).toBe(0);

    // beforeSwap runs inside the swap, before the old rows leave.
    const second = await readyTable(shop, [5], 3);
    const seen: string[][] = [];
    const again = await swapInPartition(pool, shop, second, async (client) => {
      seen.push((await client.query<{ id: string }>(`SELECT "customerId"::text AS id FROM "CustomerMetrics" WHERE shop = $1 ORDER BY 1`, [shop])).rows.map((r) => r.id));
    });
    expect(seen).toEqual([["2", "3", "4"]]);
    expect(again.replaced).toBe(first);
    expect(await tableExists(first)).toBe(false);
    expect(await rowsOf(shop)).toEqual([{ id: "5", orders: 3 }]);
    // Writes through the parent land in the new partition, and upserts see its rows.
    await pool.query(
      `INSERT INTO "CustomerMetrics" (shop, "customerId", orders, "netSpentMinor", behaviours, "asOfDay") VALUES ($1, 5, 9, 0, '{}', 1)
       ON CONFLICT (shop, "customerId") DO UPDATE SET orders = EXCLUDED.orders`,
      [shop],
    );
    expect(await rowsOf(shop)).toEqual([{ id: "5", orders: 9 }]);
    expect(await rowsOf(neighbour)).toEqual([
      { id: "1", orders: 7 },
      { id: "2", orders: 7 },
    ]);
  });

  it("a failing beforeSwap changes nothing", async () => {
    const shop = uniqueShop("swap-fails");
    await insertRows("CustomerMetrics", shop, [1], 1);
    const table = await readyTable(shop, [1], 2);
    await expect(
      swapInPartition(pool, shop, table, async () => {
        throw new Error("catch-up failed");
      }),
    ).rejects.toThrow("catch-up failed");
    expect(await shopPartition(pool, shop)).toBeNull();
    expect(await rowsOf(shop)).toEqual([{ id: "1", orders: 1 }]);
    expect(await dropAbandonedTables(pool, shop)).toEqual([table]);
  });

  it("gives up with SwapLockTimeout while a reader holds CustomerMetrics, and leaves the old rows", async () => {
    const shop = uniqueShop("swap-locked");
    await insertRows("CustomerMetrics", shop, [1], 1);
    const table = await readyTable(shop, [1], 2);
    const reader = await pool.connect();
    try {
      await reader.query("BEGIN");
      await reader.query(`SELECT count(*) FROM "CustomerMetrics" WHERE shop = $1`, [shop]);
      await expect(swapInPartition(pool, shop, table, async () => {}, { lockTimeoutMs: 50, attempts: 2 })).rejects.toThrow(SwapLockTimeout);
    } finally {
      await reader.query("ROLLBACK");
      reader.release();
    }
    expect(await rowsOf(shop)).toEqual([{ id: "1", orders: 1 }]);
    // Once the reader is done the same table swaps in.
    await swapInPartition(pool, shop, table, async () => {});
    expect(await rowsOf(shop)).toEqual([{ id: "1", orders: 2 }]);
  });

  it("drops only the shop's tables that are not its partition", async () => {
    const shop = uniqueShop("abandoned");
    const other = uniqueShop("other");
    const live = await readyTable(shop, [1], 1);
    await swapInPartition(pool, shop, live, async () => {});
    const leftOver = rebuildTableName(shop);
    await createRebuildTable(pool, leftOver);
    const othersTable = rebuildTableName(other);
    await createRebuildTable(pool, othersTable);
    expect(await dropAbandonedTables(pool, shop)).toEqual([leftOver]);
    expect(await tableExists(live)).toBe(true);
    expect(await tableExists(othersTable)).toBe(true);
    expect(await rowsOf(shop)).toEqual([{ id: "1", orders: 1 }]);
  });
});
