import { type BackfillRun, type PrismaClient } from "@prisma/client";
import type pg from "pg";
import { LINE_ITEM_COST_FIELDS, LINE_ITEM_FIELDS, ORDER_FIELDS } from "~/ingest/graphql-mappers";
import { type OrderBundle } from "~/ingest/mappers";
import { ACTIVE_BACKFILL_STATUSES as ACTIVE } from "~/data/backfill-runs.server";
import { type RawTx, checkOut, clientTransaction, pgPool, pgTransaction } from "~/db/pg.server";
import { recomputeShopCustomerSummaries } from "~/ingest/summary.server";
import { lockShopExclusive } from "~/ingest/locks.server";
import { upsertOrdersBatch } from "~/ingest/upsert-batch.server";
import { type Logger, consoleLogger } from "~/lib/log.server";
import { backfillPollJobId } from "~/queues/contract";
import { requestRefit } from "~/refit/request-refit.server";
import { importAbandonedCheckoutsStep } from "./abandoned-checkouts.server";
import { openBulkResult } from "./bulk-result.server";
import { type AdminGraphql } from "./shopify-admin.server";

// The backfill: every past order of a shop, through a Shopify bulk operation.
//
//   startBackfill ──bulkOperationRunQuery──▶ BackfillRun (RUNNING) ──poll job (delayed)──┐
//   bulk_operations/finish webhook ──▶ handleBulkOperationFinished ──advance job──────────┤
//                                                                                        ▼
//   advanceBackfill: bulkOperation(id) RUNNING? poll again later. COMPLETED? store the url,
//   DOWNLOADING: stream the JSONL line by line, join line items to their order by
//   __parentId, map (graphql-mappers) and write batches with upsertOrdersBatch; then the
//   last 30 days of abandoned checkouts (abandoned-checkouts.server.ts), before the run is
//   marked COMPLETED, so a retry of a failed step reads them again and the refit sees them.
//
// Each batch commits together with the run's new line offset (`linesProcessed`), guarded
// by the offset it started from: a crashed download resumes after the last committed line,
// and two downloads of one run (webhook and poll at once) cannot both commit a batch.
//
// Batches are written on plain pg under the shop's import lock (exclusive, one lock per
// batch instead of one per row) and leave customer summaries alone; the step that marks
// the run COMPLETED recomputes every summary of the shop in one set-based statement, then
// asks for a shop refit (which rescores every customer: no metrics job per customer).


export const NO_READ_ALL_ORDERS_NOTICE =
  "Only orders from the last 60 days were imported: the app was not granted read_all_orders. " +
  "Grant it and run the import again to include older orders.";

/** The bulk import's query; with `costs` (read_products and read_inventory granted), each line's variant and unit cost too (issue 17). */
export const bulkOrdersQuery = (costs: boolean) => `{
  orders {
    edges {
      node {
        ${ORDER_FIELDS}
        lineItems { edges { node { ${LINE_ITEM_FIELDS}${costs ? ` ${LINE_ITEM_COST_FIELDS}` : ""} } } }
      }
    }
  }
}`;
export const BULK_ORDERS_QUERY = bulkOrdersQuery(true);

const RUN_BULK_QUERY = `#graphql
  mutation TenureBackfillStart($query: String!) {
    bulkOperationRunQuery(query: $query) {
      bulkOperation { id status }
      userErrors { field message code }
    }
  }`;

const BULK_OPERATION_QUERY = `#graphql
  query TenureBackfillPoll($id: ID!) {
    bulkOperation(id: $id) { id status errorCode objectCount url partialDataUrl completedAt }
  }`;

const ORDERS_COUNT_QUERY = `#graphql
  query TenureOrdersCount { ordersCount(limit: null) { count precision } }`;

export type BackfillJob = { task: "start"; shop: string; force: boolean } | { task: "advance"; runId: string };

export interface BackfillDeps {
  db: PrismaClient;
  admin: AdminGraphql;
  /** The pg pool batches are written on (default pgPool(), on DATABASE_URL). */
  pool?: pg.Pool;
  /** Asks for the shop's refit once its import completed; throws when it cannot (default requestRefit). */
  requestRefit?: (shop: string) => Promise<void>;
  /** Puts a backfill job on the queue (delay in ms; jobId dedups). */
  enqueue: (job: BackfillJob, options: { jobId: string; delay?: number }) => Promise<void>;
  /**
   * Orders per committed batch (default 5,000). A batch holds the shop's import lock, so a
   * webhook for the shop waits at most one batch (well under a second at ADR 0009's rate);
   * smaller batches cost more round trips per order (bench/backfill).
   */
  batchSize?: number;
  /**
   * Parse the result on a worker thread (default "auto": from PARSE_ON_THREAD_MIN_ORDERS
   * expected orders, given a second core). The rows written are the same either way.
   */
  parseOnThread?: boolean | "auto";
  /** Where a fallback from the parsing thread is reported (default the workers' console log). */
  log?: Logger;
  /** How long to wait between polls of a running bulk operation (default 20 s). */
  pollEveryMs?: number;
  /** Read the last 30 days of abandoned checkouts before completing (default true; off where no Admin API answers, e.g. bench/backfill). */
  abandonedCheckouts?: boolean;
}

interface BulkOperationView {
  id: string;
  status: string;
  errorCode: string | null;
  objectCount: string | null;
  url: string | null;
  partialDataUrl: string | null;
}

/**
 * Starts a backfill for `shop` unless one is under way (or, without `force`, unless one
 * already completed: the install hook runs again whenever an offline token is renewed).
 * Returns the run that now stands for the shop's import.
 */
export async function startBackfill(deps: BackfillDeps, shop: string, options: { force?: boolean } = {}): Promise<BackfillRun> {
  const { db, admin } = deps;
  const run = await db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`tenure:backfill:${shop}`}, 0))::text AS locked`;
    const existing = await tx.backfillRun.findFirst({
      where: { shop, status: { in: options.force ? ACTIVE : [...ACTIVE, "COMPLETED"] } },
      orderBy: { startedAt: "desc" },
    });
    if (existing) return { run: existing, created: false };

    const scopes = await admin.grantedScopes(shop);
    const notice = scopes.includes("read_all_orders") ? null : NO_READ_ALL_ORDERS_NOTICE;
    const count = await admin.request<{ ordersCount: { count: number } | null }>(shop, ORDERS_COUNT_QUERY);
    const started = await admin.request<{
      bulkOperationRunQuery: { bulkOperation: { id: string; status: string } | null; userErrors: { message: string; code?: string | null }[] };
    }>(shop, RUN_BULK_QUERY, { query: bulkOrdersQuery(scopes.includes("read_products") && scopes.includes("read_inventory")) });
    const { bulkOperation, userErrors } = started.bulkOperationRunQuery;
    if (!bulkOperation || userErrors.length > 0) {
      const error = `bulkOperationRunQuery refused: ${userErrors.map((e) => `${e.code ?? "ERROR"}: ${e.message}`).join("; ") || "no operation returned"}`;
      return {
        run: await tx.backfillRun.create({
          data: { shop, status: "FAILED", error, notice, expectedCount: count.ordersCount?.count ?? null, finishedAt: new Date() },
        }),
        created: false,
      };
    }
    return {
      run: await tx.backfillRun.create({
        data: {
          shop,
          bulkOperationId: bulkOperation.id,
          status: bulkOperation.status === "CREATED" ? "CREATED" : "RUNNING",
          expectedCount: count.ordersCount?.count ?? null,
          notice,
        },
      }),
      created: true,
    };
  }, { maxWait: 30_000, timeout: 120_000 });
  if (run.created) await schedulePoll(deps, run.run.id);
  return run.run;
}

async function schedulePoll(deps: BackfillDeps, runId: bigint): Promise<void> {
  const delay = deps.pollEveryMs ?? 20_000;
  await deps.enqueue({ task: "advance", runId: runId.toString() }, { jobId: backfillPollJobId(runId.toString(), Date.now()), delay });
}

export type AdvanceOutcome =
  | { state: "running" }
  | { state: "completed"; ordersProcessed: number }
  | { state: "failed"; error: string }
  | { state: "finished-elsewhere" };

/**
 * One step of a run: poll the operation, or download (resuming) its result. Safe to call any
 * number of times. `retry`: this is a retry of a failed attempt (which may have completed
 * the run but not handed it to the refit).
 */
export async function advanceBackfill(deps: BackfillDeps, runId: bigint, options: { retry?: boolean } = {}): Promise<AdvanceOutcome> {
  const { db, admin } = deps;
  let run = await db.backfillRun.findUniqueOrThrow({ where: { id: runId } });
  if (run.status === "COMPLETED") {
    // A job retried after Redis refused the refit lands here: ask again. (A late poll of a
    // finished run does not: the run's own completion asked already.)
    if (options.retry) await refitAfterImport(deps, run.shop);
    return { state: "completed", ordersProcessed: run.ordersProcessed };
  }
  if (run.status === "FAILED") return { state: "failed", error: run.error ?? "failed" };

  if (run.status === "CREATED" || run.status === "RUNNING") {
    const { bulkOperation: operation } = await admin.request<{ bulkOperation: BulkOperationView | null }>(
      run.shop, BULK_OPERATION_QUERY, { id: run.bulkOperationId },
    );
    if (!operation) return fail(db, run, `bulk operation ${run.bulkOperationId} is unknown to Shopify`);
    if (operation.status === "CREATED" || operation.status === "RUNNING" || operation.status === "CANCELING") {
      if (run.status !== "RUNNING") await db.backfillRun.updateMany({ where: { id: run.id, status: "CREATED" }, data: { status: "RUNNING" } });
      await schedulePoll(deps, run.id);
      return { state: "running" };
    }
    if (operation.status !== "COMPLETED") {
      return fail(db, run, `bulk operation ${operation.status}${operation.errorCode ? ` (${operation.errorCode})` : ""}`);
    }
    // A shop without orders: Shopify returns no file at all.
    if (!operation.url) {
      const checkoutsNote = deps.abandonedCheckouts === false ? null : await importAbandonedCheckoutsStep({ admin, pool: deps.pool }, run.shop);
      const done = await db.backfillRun.updateMany({
        where: { id: run.id, status: { in: ["CREATED", "RUNNING"] } },
        data: { status: "COMPLETED", finishedAt: new Date(), error: checkoutsNote },
      });
      if (done.count === 1) await refitAfterImport(deps, run.shop);
      return { state: "completed", ordersProcessed: 0 };
    }
    await db.backfillRun.updateMany({
      where: { id: run.id, status: { in: ["CREATED", "RUNNING"] } },
      data: { status: "DOWNLOADING", url: operation.url },
    });
    run = await db.backfillRun.findUniqueOrThrow({ where: { id: runId } });
    if (run.status !== "DOWNLOADING") return { state: "finished-elsewhere" };
  }
  return download(deps, run);
}

async function refitAfterImport(deps: BackfillDeps, shop: string): Promise<void> {
  await (deps.requestRefit ?? ((target: string) => requestRefit(target, "backfill")))(shop);
}

async function fail(db: PrismaClient, run: BackfillRun, error: string): Promise<AdvanceOutcome> {
  await db.backfillRun.update({ where: { id: run.id }, data: { status: "FAILED", error, finishedAt: new Date() } });
  return { state: "failed", error };
}

/**
 * One batch of an import's orders; the caller's transaction also moves the run's offset.
 * Summaries wait for finishImport. `knownCustomers`: customers the import's committed
 * batches wrote (no placeholder row is tried for them).
 */
export async function writeImportBatch(tx: RawTx, shop: string, bundles: OrderBundle[], knownCustomers?: ReadonlySet<bigint>): Promise<void> {
  if (bundles.length > 0) await upsertOrdersBatch(tx, shop, bundles, { summaries: "deferred", knownCustomers });
}

/**
 * An import's last step: every customer summary of the shop, once, under the exclusive import
 * lock. With `helper` (a second connection, taken before this transaction took the lock: one
 * awaited under it could wait on deliveries that wait on the lock), half of the customers are
 * recomputed there meanwhile: the pass is one backend's CPU with Node idle, and PostgreSQL
 * runs no writing statement in parallel itself. The helper's transaction needs no lock of its
 * own (this one holds the shop's exclusively, so no delivery writes orders until both are
 * done) and commits first; if this one then fails, the summaries it left are right anyway
 * (derived, recomputed from the orders) and the retry recomputes them all.
 */
export async function finishImport(tx: RawTx, shop: string, { helper }: { helper?: pg.PoolClient | null } = {}): Promise<void> {
  await lockShopExclusive(tx, shop);
  // One aggregate over every order of the shop: let its hash tables stay in memory (the 4 MB
  // default spills a million orders' groups to disk). This transaction only.
  const roomy = (on: RawTx) => on.$executeRaw`SET LOCAL work_mem = '256MB'`;
  await roomy(tx);
  // Statistics as the import left the tables: it took them from few rows to many within
  // minutes, faster than autovacuum's analyze follows, and the summary pass planned on the
  // old counts (a nested loop over the orders) ran for minutes at 100,000-200,000 orders.
  // On the helper (committed at once, so both passes plan on it), else in this transaction.
  // A sample of each table: well under a second at 1,000,000 orders.
  if (helper) await helper.query(`ANALYZE "Order", "Customer"`);
  else await tx.$executeRaw`ANALYZE "Order", "Customer"`;
  if (!helper) {
    await recomputeShopCustomerSummaries(tx, shop);
    return;
  }
  await Promise.all([
    recomputeShopCustomerSummaries(tx, shop, { part: 0, parts: 2 }),
    clientTransaction(helper, async (other) => {
      await roomy(other);
      await recomputeShopCustomerSummaries(other, shop, { part: 1, parts: 2 });
    }),
  ]);
}

/** Another download of the same run committed first: this one stops, its batch rolled back. */
class OffsetMoved extends Error {}

async function download(deps: BackfillDeps, run: BackfillRun): Promise<AdvanceOutcome> {
  const { db } = deps;
  const pool = deps.pool ?? pgPool();
  const batchSize = deps.batchSize ?? 5_000;
  if (!run.url) return fail(db, run, "no result url");
  const result = await openBulkResult(run.url, {
    fromLine: run.linesProcessed,
    batchSize,
    onThread: deps.parseOnThread ?? "auto",
    expectedOrders: run.expectedCount,
    onFallback: (reason) => (deps.log ?? consoleLogger).error("backfill: parsing on the download's own thread", { shop: run.shop, runId: run.id, reason }),
  });
  if (result.status === 403 || result.status === 404 || result.status === 410) {
    await result.close();
    return fail(db, run, `the bulk result is no longer available (HTTP ${result.status}): start the import again`);
  }
  if (result.status < 200 || result.status >= 300) {
    await result.close();
    throw new Error(`downloading the bulk result failed: HTTP ${result.status}`);
  }

  let committedLines = run.linesProcessed;
  const skipped: string[] = [];
  let skippedCount = 0;

  // Customers whose rows committed batches of this download wrote (profile or placeholder;
  // a deleted one has a tombstone, which the batch checks first). Grows only after a commit.
  const committedCustomers = new Set<bigint>();
  const write = async (bundles: OrderBundle[], upToLine: number) => {
    const from = committedLines;
    await pgTransaction(pool, async (tx) => {
      // The batch and its offset commit together, so a commit lost in a database crash
      // loses both and the resume reads those lines again: no need to wait for the WAL flush.
      await tx.$executeRaw`SET LOCAL synchronous_commit = off`;
      await writeImportBatch(tx, run.shop, bundles, committedCustomers);
      const moved = await tx.$executeRaw`
        UPDATE "BackfillRun" SET "linesProcessed" = ${upToLine}::int, "ordersProcessed" = "ordersProcessed" + ${bundles.length}::int,
               "updatedAt" = now() AT TIME ZONE 'UTC'
        WHERE id = ${run.id}::bigint AND status = 'DOWNLOADING' AND "linesProcessed" = ${from}::int`;
      if (moved !== 1) throw new OffsetMoved();
    });
    committedLines = upToLine;
    for (const bundle of bundles) if (bundle.order.customerId !== null) committedCustomers.add(bundle.order.customerId);
  };

  // One batch is written while the next is read and mapped: the database and the parser
  // overlap, and memory stays bounded (two batches here, and on a parsing thread at most two
  // more parsed ahead). Batches still commit in file order.
  let inFlight: Promise<void> | null = null;
  try {
    for await (const batch of result.batches) {
      skippedCount += batch.skipped.length;
      for (const { line, message } of batch.skipped) if (skipped.length < 5) skipped.push(`line ${line}: ${message}`);
      if (inFlight) await inFlight;
      const pending = write(batch.bundles, batch.upToLine);
      pending.catch(() => {}); // observed by the next batch or the final wait
      inFlight = pending;
    }
    await inFlight;
  } catch (error) {
    // Leave nothing running: the in-flight batch commits or rolls back before we report.
    const settled = inFlight ? await (inFlight as Promise<void>).then(() => null, (e: unknown) => e) : null;
    if (error instanceof OffsetMoved || settled instanceof OffsetMoved) return { state: "finished-elsewhere" };
    throw error;
  } finally {
    await result.close(); // stops the download if we left early
  }
  const ordersNote = skippedCount > 0 ? `${skippedCount} malformed orders skipped: ${skipped.join(" | ")}` : null;
  // Past abandoned checkouts (issue 17), after every order line committed: a failure here
  // (database) retries the job, which resumes after the last line and reads them again.
  const checkoutsNote = deps.abandonedCheckouts === false ? null : await importAbandonedCheckoutsStep({ admin: deps.admin, pool }, run.shop);
  const error = [ordersNote, checkoutsNote].filter((note) => note !== null).join(" | ") || null;
  // The summary pass's second connection, taken before the exclusive lock (see finishImport);
  // without one the pass runs whole on the finishing transaction.
  const helper = await checkOut(pool).catch(() => null);
  const finished = await pgTransaction(pool, async (tx) => {
    // Exclusive: no delivery of the shop writes orders while the summaries are recomputed.
    await lockShopExclusive(tx, run.shop);
    const [row] = await tx.$queryRaw<{ ordersProcessed: number }[]>`
      UPDATE "BackfillRun" SET status = 'COMPLETED', "finishedAt" = ${new Date()}::timestamp, error = ${error}::text, "updatedAt" = now() AT TIME ZONE 'UTC'
      WHERE id = ${run.id}::bigint AND status = 'DOWNLOADING' AND "linesProcessed" = ${committedLines}::int
      RETURNING "ordersProcessed"`;
    if (row) await finishImport(tx, run.shop, { helper });
    return row;
  }).finally(() => helper?.release());
  if (!finished) return { state: "finished-elsewhere" };
  await refitAfterImport(deps, run.shop);
  return { state: "completed", ordersProcessed: finished.ordersProcessed };
}

