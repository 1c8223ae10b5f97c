import type pg from "pg";
import { type CustomerMetricsValues } from "~/analytics/customer-metrics";
import { type MetricsWriteOptions, changedOutside, metricsComputedBefore, writeCustomerMetrics } from "~/data/customer-metrics.server";
import { pgTransaction } from "~/db/pg.server";
import { type RescoreInputs, type Rescored, freshRows, writeEveryRow } from "./rescore-rows.server";

// The refit's step 4 for shops below rebuildFromCustomers: every customer's row replaced in
// place in CustomerMetrics, batch by batch (cheaper than a partition of their own there).

/**
 * One batch of metrics rows. The commit does not wait for the WAL flush: a refit is
 * recomputed from source rows, so a crash losing its last batches only means the retry
 * (or the next refit) writes them again.
 */
async function writeBatch(pool: pg.Pool, shop: string, rows: readonly CustomerMetricsValues[], options: MetricsWriteOptions) {
  // keepNewer: a live recompute since the refit's stamp read newer orders than its snapshot.
  return pgTransaction(pool, async (_tx, client) => writeCustomerMetrics(client, shop, rows, { ...options, keepNewer: true }), { asyncCommit: true });
}

/** The rows replaced in place in CustomerMetrics, batch by batch (shops below rebuildFromCustomers). */
export async function rescoreInPlace(input: RescoreInputs): Promise<Rescored> {
  const { pool, shop, snapshot, batchSize, writeOptions } = input;
  // Customers whose orders changed since the snapshot are scored from their orders as they
  // are now. Checking again once every batch is written catches a change that landed
  // meanwhile (its live job may have run before our write); a change after that check has
  // its live job run after our writes.
  const changed = await changedOutside(pool, shop, snapshot);
  const written = await writeEveryRow(input, changed, async (rows) => (await writeBatch(pool, shop, rows, writeOptions)).written);
  const { tally } = written;
  let { rowsWritten } = written;
  // Changed while we wrote: rewritten from their orders now, and the tally follows.
  const late = [...(await changedOutside(pool, shop, snapshot))].filter((id) => !changed.has(id));
  for (let from = 0; from < late.length; from += batchSize) {
    const rows = await freshRows(input, late.slice(from, from + batchSize));
    await writeBatch(pool, shop, rows, writeOptions);
    for (const row of rows) tally.replace(row);
  }

  // Rows this refit did not write: customers with no counted order left (deleted or now
  // excluded orders), or a first order since the snapshot. Recomputed from their orders now.
  const refitAt = writeOptions.computedAt!;
  for (;;) {
    const left = await metricsComputedBefore(pool, shop, refitAt, batchSize);
    if (left.length === 0) break;
    const rows = await freshRows(input, left);
    for (const row of rows) tally.replace(row);
    rowsWritten += (await writeBatch(pool, shop, rows, writeOptions)).written;
    if (left.length < batchSize) break;
  }
  input.phase("rescore and write");
  const aggregates = await input.tableAggregates();
  return { tally: tally.settle(), tableAggregates: aggregates, rowsWritten, changedDuringRefit: changed.size + late.length };
}

