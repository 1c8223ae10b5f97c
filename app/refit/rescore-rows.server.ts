import type pg from "pg";
import { type CustomerMetricsValues, type ScoringContext, customerMetrics, predictionOf } from "~/analytics/customer-metrics";
import { type CustomerFactsColumns } from "~/analytics/customer-columns";
import { SegmentTally } from "~/analytics/segment-tally";
import { type MetricsWriteOptions } from "~/data/customer-metrics.server";
import { type MetricsSettings } from "~/data/settings.server";
import { type Queryable } from "~/db/pg.server";
import { type TableAggregates } from "./aggregates.server";
import { type scoreCustomers } from "./parallel-scoring.server";
import { freshFacts } from "./read-orders.server";

// What both rescoring strategies (rescore-in-place, rescore-partition) share: their
// inputs, the loop that scores every customer a batch at a time and hands the rows to a
// writer, rows scored from fresh orders, and the segment tally of the rows as written.

/** Metrics batches being written at once (each on its own pool connection). */
const WRITES_IN_FLIGHT = 2;

export interface RescoreInputs {
  pool: pg.Pool;
  shop: string;
  settings: MetricsSettings;
  asOfDay: number;
  batchSize: number;
  facts: CustomerFactsColumns;
  predictions: Awaited<ReturnType<typeof scoreCustomers>>["predictions"];
  ctx: ScoringContext;
  /** The orders' read snapshot. */
  snapshot: string;
  writeOptions: MetricsWriteOptions;
  /** Ends a timed phase (RefitReport.phasesMs). */
  phase: (name: string) => void;
  /** Node's share of the aggregates, run while PostgreSQL is busy without us where there is such a time. */
  tableAggregates: () => Promise<TableAggregates>;
}

export interface Rescored {
  tally: SegmentTally;
  tableAggregates: TableAggregates;
  rowsWritten: number;
  changedDuringRefit: number;
}

/**
 * Every customer's row, a batch at a time, handed to `write` while the next is scored (two
 * writes in flight: PostgreSQL's side costs more CPU than Node's, so two backends and this
 * thread all work at once). Customers whose orders changed since the snapshot are scored
 * from their orders as they are now. The tally counts the rows as written.
 */
export async function writeEveryRow(
  input: RescoreInputs,
  changed: ReadonlySet<string>,
  write: (rows: readonly CustomerMetricsValues[]) => Promise<number>,
): Promise<{ tally: RefitTally; rowsWritten: number }> {
  const { facts, asOfDay, ctx, predictions, batchSize } = input;
  const writing: Promise<void>[] = [];
  const tally = new RefitTally(input);
  let rowsWritten = 0;
  for (let from = 0; from < facts.length; from += batchSize) {
    const to = Math.min(facts.length, from + batchSize);
    const rows: CustomerMetricsValues[] = [];
    const fresh: string[] = [];
    for (let i = from; i < to; i++) {
      if (changed.has(facts.ids[i])) fresh.push(facts.ids[i]);
      else rows.push(customerMetrics(facts.factsAt(i, asOfDay), ctx, predictions.get(i)));
    }
    const freshOnes = fresh.length > 0 ? await freshRows(input, fresh) : [];
    rows.push(...freshOnes);
    if (writing.length >= WRITES_IN_FLIGHT) await writing.shift();
    // Counted in batch order, not as the writes finish (two connections, either first): the
    // tally's sums of doubles (P(alive), chance of ordering) then do not depend on which did.
    // A failed write fails the refit, tally and all.
    tally.countWritten(rows, freshOnes);
    const written = write(rows).then((count) => {
      rowsWritten += count;
    });
    written.catch(() => undefined); // a failure is thrown where the batch is awaited, not reported as unhandled meanwhile
    writing.push(written);
  }
  await Promise.all(writing);
  return { tally, rowsWritten };
}

/** Rows of these customers from their orders as they are now (read through `db`, default the pool). */
export async function freshRows(input: Pick<RescoreInputs, "pool" | "shop" | "settings" | "asOfDay" | "ctx">, ids: readonly string[], db: Queryable = input.pool) {
  const { shop, settings, asOfDay, ctx } = input;
  return (await freshFacts(db, shop, settings, ids, asOfDay)).map((f) => customerMetrics(f, ctx, predictionOf(f, ctx.model)));
}

/**
 * The segment tally of the rows as they end up. Most rows are the snapshot's (recomputed
 * from the facts when one must go); rows scored from fresh orders are kept by id, so a
 * customer rewritten again (changed while we wrote) is counted once, with its last row.
 */
export class RefitTally {
  private readonly segments = new SegmentTally();
  /** Rows counted that are not the snapshot's: customer id -> row. */
  private readonly freshCounted = new Map<string, CustomerMetricsValues>();
  private readonly replaced = new Map<string, CustomerMetricsValues>();

  constructor(private readonly input: Pick<RescoreInputs, "facts" | "asOfDay" | "ctx" | "predictions">) {}

  /** A batch as written: every row counts; `fresh` (scored from orders newer than the snapshot) are kept by id. */
  countWritten(rows: readonly CustomerMetricsValues[], fresh: readonly CustomerMetricsValues[]): void {
    for (const row of rows) this.segments.add(row);
    for (const row of fresh) this.freshCounted.set(row.customerId, row);
  }

  /** The customer's row now (whatever was counted for them, if anything, goes once `settle` runs). */
  replace(row: CustomerMetricsValues): void {
    this.replaced.set(row.customerId, row);
  }

  /** Applies the replacements: one pass over the facts for the snapshot rows that go. */
  settle(): SegmentTally {
    if (this.replaced.size === 0) return this.segments;
    const { facts, asOfDay, ctx, predictions } = this.input;
    const snapshotRowsGo = new Set<string>();
    for (const [id, row] of this.replaced) {
      const counted = this.freshCounted.get(id);
      if (counted) this.segments.remove(counted);
      else snapshotRowsGo.add(id);
      this.freshCounted.set(id, row);
      this.segments.add(row);
    }
    if (snapshotRowsGo.size > 0) {
      for (let i = 0; i < facts.length; i++) {
        if (snapshotRowsGo.has(facts.ids[i])) this.segments.remove(customerMetrics(facts.factsAt(i, asOfDay), ctx, predictions.get(i)));
      }
    }
    this.replaced.clear();
    return this.segments;
  }
}

