import pg from "pg";
import { type CustomerMetricsValues } from "~/analytics/customer-metrics";
import { type MetricsWriteOptions } from "~/data/customer-metrics.server";
import { BinaryRows, copyBinary } from "~/db/copy-binary.server";
import { checkOut } from "~/db/pg.server";

// The rescore's rows into the new partition's table (no index yet, nothing to replace) by
// `COPY ... FROM STDIN (FORMAT binary)`: the insert (writeCustomerMetricsInto) had Node write
// every value as text into 23 array literals and PostgreSQL parse and unnest them, which cost
// both sides more CPU than the rows themselves (ADR 0024). The values are the ones the
// insert stored (tests/refit/copy-metrics.test.ts).

const { escapeIdentifier } = pg;

const COLUMNS = [
  "shop", "customerId", "orders", "netSpentMinor", "aovMinor", "discountedOrders", "firstOrderDay", "lastOrderDay", "recencyDays",
  "rScore", "fScore", "mScore", "segment", "behaviours", "pAlive", "expectedPurchases90d", "expectedPurchases365d",
  "expectedOrderValueMinor", "predictedClvMinor", "expectedNextOrderDay", "chanceOfOrder90d", "chanceOfOrder365d",
  "modelVersion", "asOfDay", "computedAt", "grossProfitMinor", "uncostedSalesMinor",
].map((column) => escapeIdentifier(column)).join(", ");

const FIELDS = 27;

/** The insert's behaviours: string_to_array of the names joined by commas (none: the empty array). */
const behaviourNames = (names: readonly string[]) => {
  const joined = names.join(",");
  return joined === "" ? [] : joined.split(",");
};

/** The rows in COPY's binary format, columns as COLUMNS. */
export function metricsCopyData(shop: string, rows: readonly CustomerMetricsValues[], options: MetricsWriteOptions, computedAt: Date): Buffer {
  const out = new BinaryRows(19 + rows.length * 300);
  out.header();
  for (const r of rows) {
    out.int16(FIELDS);
    out.text(shop);
    out.int8Text(r.customerId);
    out.int4(r.orders);
    out.int8(r.netSpent);
    out.int8(r.aov);
    out.int4(r.discountedOrders);
    out.date(r.firstOrderDay);
    out.date(r.lastOrderDay);
    out.int4(r.recencyDays);
    out.int4(r.scores?.r ?? null);
    out.int4(r.scores?.f ?? null);
    out.int4(r.scores?.m ?? null);
    out.text(r.segment);
    out.textArray(behaviourNames(r.behaviours));
    out.float8(r.pAlive);
    out.float8(r.expectedPurchases90d);
    out.float8(r.expectedPurchases365d);
    out.int8(r.expectedOrderValue);
    out.int8(r.predictedClv);
    out.date(r.expectedNextOrderDay);
    out.float8(r.chanceOfOrder90d);
    out.float8(r.chanceOfOrder365d);
    out.int4(options.modelVersion);
    out.int4(options.asOfDay);
    out.timestamp(computedAt);
    out.int8(r.grossProfit);
    out.int8(r.uncostedSales);
  }
  out.trailer();
  return out.done();
}

/** Inserts the rows into `table` (shaped like CustomerMetrics) by COPY, on a client of its own; returns the rows written. */
export async function copyMetricsInto(
  pool: pg.Pool,
  table: string,
  shop: string,
  rows: readonly CustomerMetricsValues[],
  options: MetricsWriteOptions,
): Promise<number> {
  if (rows.length === 0) return 0;
  const data = metricsCopyData(shop, rows, options, options.computedAt ?? new Date());
  const client = await checkOut(pool);
  let failure: Error | undefined;
  try {
    return await copyBinary(client, `COPY ${escapeIdentifier(table)} (${COLUMNS}) FROM STDIN (FORMAT binary)`, data);
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.release(failure);
  }
}
