import { describe, expect, it } from "vitest";
import { type SegmentsAggregate } from "~/data/aggregates";
import { recomputeCustomerMetrics } from "~/metrics/recompute.server";
import { refitShop } from "~/refit/refit.server";
import { uniqueShop } from "../support/db";
import { AS_OF, NOW, aggregate, landOrder, metricsRows, nextDay, pool } from "./refit-fixtures";
import { insertSyntheticShop } from "./synthetic-shop";

// A large shop's refit writes a new table and swaps it in as the shop's partition of
// CustomerMetrics (ADR 0008): a live write just before the swap survives it, and a refit
// that fails before the swap leaves the rows as they were.

describe("a refit into a new partition", () => {
  const partitionOf = async (shop: string) =>
    (
      await pool.query<{ name: string | null }>(
        `SELECT (SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
                 WHERE i.inhparent = '"CustomerMetrics"'::regclass AND pg_get_expr(c.relpartbound, c.oid) = format('FOR VALUES IN (%L)', $1::text)) AS name`,
        [shop],
      )
    ).rows[0].name;

  it("keeps a row a live job wrote just before the swap (scored again from the orders under the swap's lock)", async () => {
    const shop = uniqueShop("swap-live");
    await insertSyntheticShop(pool, { shop, customers: 150, asOfDay: AS_OF, seed: 11 });
    await refitShop(pool, shop, { trigger: "manual", now: NOW });
    expect(await partitionOf(shop)).toBeNull(); // below the default size: in place, in the shared partition
    const before = (await metricsRows(shop)).find((r) => r.orders > 0 && r.recencyDays! > 0)!;
    const customerId = Number(before.customerId);
    // After the refit's last look at the orders: a delivery lands and its live job rewrites
    // the customer's row, in the rows the swap is about to replace.
    const liveWrite = async () => {
      await landOrder(shop, customerId, 999998, 5000);
      await recomputeCustomerMetrics(pool, shop, [String(customerId)], { now: NOW });
    };
    const report = await refitShop(pool, shop, { trigger: "manual", now: NOW, rebuildFromCustomers: 0, beforeSwap: liveWrite });
    expect(await partitionOf(shop)).not.toBeNull();
    const row = (await metricsRows(shop)).find((r) => r.customerId === String(customerId))!;
    expect(row).toMatchObject({ recencyDays: 0, orders: before.orders + 1, netSpentMinor: String(Number(before.netSpentMinor) + 5000), modelVersion: 2 });
    expect(report.changedDuringRefit).toBe(1);
    // The segments aggregate counts the customer's final row.
    const segments = await aggregate<SegmentsAggregate>(shop, "segments");
    const net = (await metricsRows(shop)).reduce((sum, r) => sum + Number(r.netSpentMinor), 0);
    expect(segments.netSpentMinor).toBe(net);
    // And the table's rows are counted in the swapped-in partition, after the swap.
    expect(segments.tableCustomers).toBe((await metricsRows(shop)).length);
  });

  it("a refit that fails before the swap leaves the rows as they were; the next one clears its table and swaps", async () => {
    const shop = uniqueShop("swap-retry");
    await insertSyntheticShop(pool, { shop, customers: 120, asOfDay: AS_OF, seed: 12 });
    await refitShop(pool, shop, { trigger: "manual", now: NOW, rebuildFromCustomers: 0 });
    const first = await partitionOf(shop);
    const rowsBefore = await metricsRows(shop);
    const fail = async () => {
      throw new Error("worker killed");
    };
    await expect(refitShop(pool, shop, { trigger: "nightly", now: nextDay(1), rebuildFromCustomers: 0, beforeSwap: fail })).rejects.toThrow("worker killed");
    expect(await partitionOf(shop)).toBe(first);
    expect(await metricsRows(shop)).toEqual(rowsBefore);
    const leftOver = await pool.query(`SELECT relname FROM pg_class WHERE relname LIKE $1 AND relkind = 'r' AND NOT relispartition`, [
      `${first!.slice(0, first!.lastIndexOf("_") + 1)}%`,
    ]);
    expect(leftOver.rows).toHaveLength(1);

    await refitShop(pool, shop, { trigger: "nightly", now: nextDay(1), rebuildFromCustomers: 0 });
    const second = await partitionOf(shop);
    expect(second).not.toBe(first);
    const stillThere = await pool.query(`SELECT relname FROM pg_class WHERE relname LIKE $1 AND relkind = 'r'`, [`${first!.slice(0, first!.lastIndexOf("_") + 1)}%`]);
    expect(stillThere.rows.map((r) => r.relname)).toEqual([second]);
    const rowsAfter = await metricsRows(shop);
    expect(rowsAfter.map((r) => r.customerId)).toEqual(rowsBefore.map((r) => r.customerId));
    expect(rowsAfter.every((r) => r.asOfDay === AS_OF + 1)).toBe(true);
  });
});
