import { readFile } from "node:fs/promises";
import { recomputeCustomerMetrics } from "~/metrics/recompute.server";
import { REFIT_DEBOUNCE, type FitState, refitDue, refitThreshold } from "~/refit/debounce";
import { refitShop } from "~/refit/refit.server";
import { Random } from "~/analytics/random";
import { lockCustomersForRecompute } from "~/data/customer-metrics.server";
import { pgTransaction } from "~/db/pg.server";
import { testDb, uniqueShop, testPool } from "../support/db";
import { waitFor } from "../support/wait-for";
import { customerPayload } from "../support/webhook-payloads";
import { createShop, daysBefore, deliver, dropQueues, metricsRow, metricsRows, order, transitions } from "../support/ingested-shops";

// recomputeCustomerMetrics on real rows written by the real ingest path: what a live
// recompute writes, removes and counts, and that it agrees with the shop refit.

const NOW = new Date("2026-11-20T12:00:00Z");
const pool = () => testPool();

beforeAll(() => {
  // processDelivery hands customers to the metrics queue: this file's own queues.
  process.env.TENURE_QUEUE_PREFIX = `tenure-test-metrics-recompute-${process.pid}-${Date.now()}`;
});

afterAll(async () => {
  await dropQueues();
});

async function fitRow(shop: string) {
  const result = await pool().query<{ version: number; changesSinceFit: number; firstChangeAt: Date | null }>(
    `SELECT version, "changesSinceFit", "firstChangeAt" FROM "ShopFit" WHERE shop = $1`,
    [shop],
  );
  return result.rows[0];
}

/**
 * A shop of `customers` buyers who buy as BG/NBD assumes (each at a rate of their own
 * until they drop out), over the year before NOW; deterministic (seeded).
 */
async function populatedShop(customers: number): Promise<string> {
  const shop = uniqueShop("metrics");
  await createShop(shop);
  const random = new Random(`metrics-test-${customers}`);
  for (let c = 1; c <= customers; c++) {
    const perDay = random.uniform(0.004, 0.06);
    let daysAgo = random.uniform(1, 365);
    do {
      await order(shop, 1_000 + c, random.int(1_500, 12_000), daysBefore(NOW, Math.floor(daysAgo)));
      daysAgo -= -Math.log(1 - random.next()) / perDay;
    } while (daysAgo > 0 && !random.chance(0.25));
  }
  return shop;
}

describe("recomputeCustomerMetrics", () => {
  it("scores a customer of a shop never fitted without predictions or segment, creates no fit row, and asks for a first refit", async () => {
    const shop = uniqueShop("metrics");
    await createShop(shop, "America/New_York");
    await order(shop, 101, 2_500, daysBefore(NOW, 40));
    await order(shop, 101, 1_500, daysBefore(NOW, 10));
    await order(shop, 101, 9_900, daysBefore(NOW, 3), { test: true });

    const result = await recomputeCustomerMetrics(pool(), shop, [101n], { now: NOW });
    expect(result).toEqual({
      written: 1,
      transitions: 0,
      removed: 0,
      refit: { trigger: "debounce", delayMs: REFIT_DEBOUNCE.firstFitDelayMs, reason: "first-fit" },
      destinations: [],
    });
    const [row] = await metricsRows(shop);
    // The test order does not count; no fit: no scores, segment or predictions.
    expect(row).toMatchObject({ orders: 2, netSpentMinor: 4_000n, aovMinor: 2_000n, recencyDays: 10, segment: null, rScore: null, pAlive: null, modelVersion: null });
    expect(await fitRow(shop)).toBeUndefined();
    expect(await transitions(shop)).toEqual([]);
  });

  // Issue 12: two recomputes of one customer (a retried job beside a new one, two worker
  // processes) committed an older state after a newer one (`npm run bench -- faults`).
  it("waits for a recompute of the same customer in progress and reads what it committed: never an older state after a newer one", async () => {
    const shop = uniqueShop("metrics");
    await createShop(shop);
    await order(shop, 301, 2_000, daysBefore(NOW, 20));
    const moved = await order(shop, 302, 3_000, daysBefore(NOW, 10));

    let settled = false;
    let recompute: Promise<unknown> | undefined;
    // Another recompute of customer 301 holds its turn while its transaction changes what 301 has.
    await pgTransaction(pool(), async (_tx, other) => {
      await lockCustomersForRecompute(other, shop, ["301"]);
      recompute = recomputeCustomerMetrics(pool(), shop, [301n], { now: NOW }).finally(() => (settled = true));
      await waitFor(
        // Read on another connection: inside a transaction pg_stat_activity is a snapshot.
        async () => settled || ((await pool().query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'`)).rowCount ?? 0) > 0,
        20_000,
        "the recompute to finish or wait for its turn",
      );
      await other.query(`UPDATE "Order" SET "customerId" = 301 WHERE shop = $1 AND id = $2`, [shop, moved]);
    });
    await recompute;
    expect(await metricsRow(shop, 301)).toMatchObject({ orders: 2 });
  });

  it("gives a customer whose only order moved to someone else a row with 0 orders, and the new owner the order", async () => {
    const shop = uniqueShop("metrics");
    await createShop(shop);
    const moved = await order(shop, 201, 4_000, daysBefore(NOW, 20));
    await recomputeCustomerMetrics(pool(), shop, [201n], { now: NOW });
    expect(await metricsRow(shop, 201)).toMatchObject({ orders: 1, netSpentMinor: 4_000n });

    // orders/updated: the same order, now attributed to customer 202.
    await order(shop, 202, 4_000, daysBefore(NOW, 20), { id: moved, updatedAt: daysBefore(NOW, 1) });
    const result = await recomputeCustomerMetrics(pool(), shop, ["201", "202", "201"], { now: NOW });
    expect(result).toMatchObject({ written: 2, removed: 0 });
    expect(await metricsRow(shop, 201)).toMatchObject({ orders: 0, netSpentMinor: 0n, segment: null });
    expect(await metricsRow(shop, 202)).toMatchObject({ orders: 1, netSpentMinor: 4_000n });
  });

  it("removes the row of a customer deleted since, and writes nothing for an id never seen", async () => {
    const shop = uniqueShop("metrics");
    await createShop(shop);
    await deliver(shop, "customers/create", customerPayload(301, daysBefore(NOW, 2)));
    expect(await recomputeCustomerMetrics(pool(), shop, [301n, 302n], { now: NOW })).toMatchObject({ written: 1, removed: 0 });
    expect(await metricsRow(shop, 301)).toMatchObject({ orders: 0, segment: null });

    await deliver(shop, "customers/delete", { id: 301 });
    // (The shop was never fitted: with no customer left to score, it does not ask for a first fit.)
    expect(await recomputeCustomerMetrics(pool(), shop, [301n, 302n], { now: NOW })).toEqual({ written: 0, transitions: 0, removed: 1, refit: null, destinations: [] });
    expect(await metricsRows(shop)).toEqual([]);
  });

  it("rejects an id that is not a decimal id and writes nothing", async () => {
    const shop = uniqueShop("metrics");
    await createShop(shop);
    await order(shop, 401, 1_000, daysBefore(NOW, 5));
    await expect(recomputeCustomerMetrics(pool(), shop, ["401", "4e2"], { now: NOW })).rejects.toThrow(/"4e2" is not a decimal id/);
    expect(await metricsRows(shop)).toEqual([]);
  });

  it("writes the same rows as the refit on the same data, records a transition when a customer changes segment, and redaction removes both", async () => {
    const shop = await populatedShop(80);
    const report = await refitShop(pool(), shop, { trigger: "manual", now: NOW });
    const strip = (rows: Record<string, unknown>[]) => rows.map(({ computedAt: _at, ...rest }) => rest);
    const refitRows = await metricsRows(shop);
    expect(refitRows).toHaveLength(80);
    expect(refitRows.every((row) => row.segment !== null)).toBe(true);

    const ids = refitRows.map((row) => row.customerId as bigint);
    const live = await recomputeCustomerMetrics(pool(), shop, ids, { now: NOW });
    expect(live).toMatchObject({ written: 80, transitions: 0, removed: 0 });
    expect(strip(await metricsRows(shop))).toEqual(strip(refitRows));
    // The shop has enough customers and repeat buyers for a model: the rows carry predictions too.
    expect({ status: report.status, reasonCode: report.reasonCode }).toEqual({ status: "ready", reasonCode: null });
    expect(refitRows.every((row) => row.modelVersion === report.version && row.pAlive !== null)).toBe(true);

    // A one-order customer from long ago comes back with five large orders: another segment.
    const quiet = refitRows.filter((row) => row.orders === 1).sort((a, b) => Number(b.recencyDays) - Number(a.recencyDays))[0];
    const customer = Number(quiet.customerId);
    for (let k = 1; k <= 5; k++) await order(shop, customer, 20_000, daysBefore(NOW, k));
    const moved = await recomputeCustomerMetrics(pool(), shop, [BigInt(customer)], { now: NOW });
    const after = await metricsRow(shop, customer);
    expect(after).toMatchObject({ orders: 6 });
    expect(after?.segment).not.toBe(quiet.segment);
    expect(moved).toMatchObject({ written: 1, transitions: 1 });
    expect(await transitions(shop)).toEqual([{ customerId: BigInt(customer), fromSegment: quiet.segment, toSegment: after?.segment, source: "live" }]);

    await deliver(shop, "customers/redact", { shop_domain: shop, customer: { id: customer, email: `customer-${customer}@example.com`, phone: null }, orders_to_redact: [] });
    expect(await metricsRow(shop, customer)).toBeUndefined();
    expect(await transitions(shop)).toEqual([]);
    expect(await metricsRows(shop)).toHaveLength(79);
    // A recompute asked for before the redaction, running after it, does not bring the row back.
    expect(await recomputeCustomerMetrics(pool(), shop, [BigInt(customer)], { now: NOW })).toMatchObject({ written: 0 });
    expect(await metricsRow(shop, customer)).toBeUndefined();
  });

  it("counts recomputed customers towards the refit and asks for it at the threshold, after the wait, or later for a first change", async () => {
    const shop = await populatedShop(8);
    // The real clock here: the refit stamps finishedAt with the database's, and spacing counts from it.
    const start = new Date();
    await refitShop(pool(), shop, { trigger: "manual", now: start });
    expect(await fitRow(shop)).toMatchObject({ changesSinceFit: 0, firstChangeAt: null });
    const debounce = { ...REFIT_DEBOUNCE, minChanges: 3, minSpacingMs: 0 };

    const first = await recomputeCustomerMetrics(pool(), shop, [1_001n], { now: start, debounce });
    expect(first.refit).toEqual({ trigger: "debounce", reason: "first-change", delayMs: debounce.maxWaitMs });
    expect(await fitRow(shop)).toMatchObject({ changesSinceFit: 1, firstChangeAt: start });

    const later = new Date(start.getTime() + 60_000);
    expect((await recomputeCustomerMetrics(pool(), shop, [1_002n], { now: later, debounce })).refit).toBeNull();
    expect(await recomputeCustomerMetrics(pool(), shop, [1_003n, 1_004n], { now: later, debounce })).toMatchObject({
      refit: { reason: "threshold", delayMs: 0 },
    });
    expect(await fitRow(shop)).toMatchObject({ changesSinceFit: 4, firstChangeAt: start });

    // The refit takes the changes it covered off the counter.
    await refitShop(pool(), shop, { trigger: "debounce", now: later });
    expect(await fitRow(shop)).toMatchObject({ changesSinceFit: 0, firstChangeAt: null });
    const lone = new Date(start.getTime() + 120_000);
    await recomputeCustomerMetrics(pool(), shop, [1_005n], { now: lone, debounce });
    const waited = new Date(lone.getTime() + debounce.maxWaitMs);
    expect((await recomputeCustomerMetrics(pool(), shop, [1_005n], { now: waited, debounce })).refit).toMatchObject({ reason: "waited", delayMs: 0 });
  });
});

describe("the issue 13 migration that refits every shop once", () => {
  it("makes the next live recompute of a shop fitted before it ask for a refit at once", async () => {
    const shop = await populatedShop(4);
    const start = new Date();
    await refitShop(pool(), shop, { trigger: "manual", now: start });
    const later = new Date(start.getTime() + REFIT_DEBOUNCE.minSpacingMs + 60_000);
    // Without the migration a lone change waits (first-change, maxWaitMs later).
    const sql = await readFile("prisma/migrations/20261206170000_refit_after_revenue_basis/migration.sql", "utf8");
    await pool().query(sql);
    expect((await recomputeCustomerMetrics(pool(), shop, [1_001n], { now: later })).refit).toEqual({ trigger: "debounce", reason: "waited", delayMs: 0 });
    // The refit covers the mark: the counter is back to zero.
    await refitShop(pool(), shop, { trigger: "debounce", now: later });
    expect(await fitRow(shop)).toMatchObject({ changesSinceFit: 0, firstChangeAt: null });
  });
});

describe("refitDue", () => {
  const state = (over: Partial<FitState>): FitState => ({
    fitted: true,
    customers: 10_000,
    changes: 1,
    added: 1,
    firstChangeAt: NOW,
    lastFitFinishedAt: null,
    ...over,
  });

  it("uses max(50, 2% of customers) as the threshold", () => {
    expect(refitThreshold(0)).toBe(50);
    expect(refitThreshold(2_000)).toBe(50);
    expect(refitThreshold(10_000)).toBe(200);
    expect(refitDue(state({ changes: 199, added: 1 }), NOW)).toBeNull();
    expect(refitDue(state({ changes: 200, added: 1 }), NOW)).toMatchObject({ reason: "threshold", delayMs: 0 });
  });

  it("keeps debounced refits of a shop at least minSpacingMs apart", () => {
    const finished = new Date(NOW.getTime() - 60_000);
    expect(refitDue(state({ changes: 500, lastFitFinishedAt: finished }), NOW)).toMatchObject({
      reason: "threshold",
      delayMs: REFIT_DEBOUNCE.minSpacingMs - 60_000,
    });
  });

  it("asks a shop never fitted for its first refit shortly, and says nothing when the count could not be taken", () => {
    expect(refitDue(state({ fitted: false, changes: null }), NOW)).toMatchObject({ reason: "first-fit", delayMs: REFIT_DEBOUNCE.firstFitDelayMs });
    expect(refitDue(state({ changes: null }), NOW)).toBeNull();
  });
});

afterAll(async () => {
  await testDb().$disconnect();
});
