import { changedOutside, writeCustomerMetricsInto, writeTransitionsFrom } from "~/data/customer-metrics.server";
import { checkOut } from "~/db/pg.server";
import { copyMetricsInto } from "./copy-metrics.server";
import { createRebuildTable, prepareIndexBuild, dropAbandonedTables, rebuildTableName, swapInPartition } from "./partition-swap.server";
import { type RescoreInputs, type Rescored, freshRows, writeEveryRow } from "./rescore-rows.server";

// The refit's step 4 for large shops: the rows written into a table of their own that
// replaces the shop's CustomerMetrics partition (ADR 0008; the tables' life is in
// partition-swap.server.ts).

/**
 * The rows written into a new table, which then replaces the shop's partition (large
 * shops; ADR 0008): COPY into a table without indexes, the indexes built in bulk,
 * then what changed meanwhile, then the swap. Live jobs keep writing the old rows until the
 * swap; the swap's transaction rewrites every customer they wrote since the refit started.
 */
export async function rescoreIntoNewPartition(input: RescoreInputs & { beforeSwap?: () => Promise<void> }): Promise<Rescored> {
  const { pool, shop, snapshot, batchSize, writeOptions } = input;
  const lock = await checkOut(pool);
  try {
    // One rebuild of a shop at a time; a table left by a killed one is dropped here.
    await lock.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [`refit-partition:${shop}`]);
    await dropAbandonedTables(pool, shop);
    const table = rebuildTableName(shop);
    await createRebuildTable(pool, table);
    const changed = await changedOutside(pool, shop, snapshot);
    const written = await writeEveryRow(input, changed, (rows) => copyMetricsInto(pool, table, shop, rows, writeOptions));
    const { tally } = written;
    let { rowsWritten } = written;
    input.phase("rescore and write rows");
    // The index builds' connections are checked out before Node's aggregates hold the event loop.
    const indexBuild = await prepareIndexBuild(pool, table);
    const [, aggregates] = await Promise.all([indexBuild.run(), input.tableAggregates()]);
    input.phase("build indexes (and the aggregates from the orders)");

    // Changed while we wrote, and rows of the shop this refit did not write (customers with
    // no counted order left, or a first order since the snapshot): from their orders now.
    const late = [...(await changedOutside(pool, shop, snapshot))].filter((id) => !changed.has(id));
    const replace = { ...writeOptions, replace: true };
    for (let from = 0; from < late.length; from += batchSize) {
      const rows = await freshRows(input, late.slice(from, from + batchSize));
      await writeCustomerMetricsInto(pool, table, shop, rows, replace);
      for (const row of rows) tally.replace(row);
    }
    // One pass over the current rows: transitions to the new rows, and the customers with no
    // new row (scored from their orders now, their transitions written with them).
    const missing = await writeTransitionsFrom(pool, table, shop, writeOptions.computedAt!, "refit", { reportMissing: true });
    for (let from = 0; from < missing.length; from += batchSize) {
      const ids = missing.slice(from, from + batchSize);
      const rows = await freshRows(input, ids);
      for (const row of rows) tally.replace(row);
      rowsWritten += await writeCustomerMetricsInto(pool, table, shop, rows, replace);
      await writeTransitionsFrom(pool, table, shop, writeOptions.computedAt!, "refit", { customerIds: ids });
    }
    input.phase("catch up and transitions");
    await input.beforeSwap?.();

    const rescored = new Set([...changed, ...late]);
    await swapInPartition(pool, shop, table, async (client) => {
      // Rows live jobs wrote since the orders were read would be lost with the old rows:
      // their customers are scored again from their orders now (nothing writes now).
      const ids = [...(await changedOutside(client, shop, snapshot, "CustomerMetrics"))];
      for (const id of ids) rescored.add(id);
      for (let from = 0; from < ids.length; from += batchSize) {
        const batch = ids.slice(from, from + batchSize);
        const rows = await freshRows(input, batch, client);
        await writeCustomerMetricsInto(client, table, shop, rows, replace);
        for (const row of rows) tally.replace(row);
        await writeTransitionsFrom(client, table, shop, writeOptions.computedAt!, "refit", { customerIds: batch });
      }
    });
    const settled = tally.settle();
    input.phase("swap");
    return { tally: settled, tableAggregates: aggregates, rowsWritten, changedDuringRefit: rescored.size };
  } finally {
    await lock.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [`refit-partition:${shop}`]).catch(() => {});
    lock.release();
  }
}

