import { describe, expect, it } from "vitest";
import { testDb, uniqueShop, snapshot } from "../support/db";
import { orderPayload, refundPayload } from "../support/webhook-payloads";
import { type OrderBundle, mapOrderPayload } from "../../app/ingest/mappers";
import { TRANSACTION_OPTIONS } from "../../app/db/tx.server";
import { pgPool, pgTransaction } from "~/db/pg.server";
import { finishImport } from "~/integrations/bulk-orders.server";
import { upsertOrdersBatch } from "../../app/ingest/upsert-batch.server";
import { deleteCustomer, deleteOrder, upsertOrder } from "../../app/ingest/upsert.server";

// The batched upsert must leave exactly the rows the one-by-one path leaves.

function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Deliveries for a few customers: updates out of order, refunds, test, guest and cancelled orders, repeated states. */
function scenario(seed: number): { bundles: OrderBundle[]; deletedOrder: bigint; deletedCustomer: bigint } {
  const next = random(seed);
  const pick = (n: number) => Math.floor(next() * n);
  const base = Date.parse("2025-02-01T00:00:00Z");
  const bundles: OrderBundle[] = [];
  for (let i = 0; i < 120; i += 1) {
    const id = 1_000 + pick(40);
    const customerId = pick(8) === 0 ? null : 500 + pick(6);
    const updatedAt = new Date(base + pick(20) * 3_600_000);
    const payload = orderPayload({
      id,
      customerId,
      updatedAt,
      createdAt: new Date(base - (id % 7) * 86_400_000),
      totalCents: 1_000 + pick(5) * 250,
      test: pick(15) === 0,
      cancelledAt: pick(12) === 0 ? updatedAt : null,
      customerUpdatedAt: new Date(base + pick(5) * 86_400_000),
      customerEmail: `c${pick(3)}@example.com`,
    });
    if (pick(5) === 0) {
      const refundAt = new Date(updatedAt.getTime() + (pick(2) === 0 ? -1 : 1) * 3_600_000);
      payload.refunds = [refundPayload({ id: 90_000 + id * 10 + pick(2), orderId: id, createdAt: refundAt, amountCents: 300 })];
    }
    bundles.push(mapOrderPayload(payload));
  }
  return { bundles, deletedOrder: 1_000n + BigInt(pick(40)), deletedCustomer: 500n + BigInt(pick(6)) };
}

describe("upsertOrdersBatch", () => {
  it.each([1, 2, 3])("leaves the same rows as upsertOrder one by one (seed %i)", async (seed) => {
    const db = testDb();
    const { bundles, deletedOrder, deletedCustomer } = scenario(seed);
    const prefix = bundles.slice(0, 30);
    const rest = bundles.slice(30);
    const [oneByOne, batched] = [uniqueShop("one"), uniqueShop("batch")];
    for (const shop of [oneByOne, batched]) {
      for (const bundle of prefix) await upsertOrder(db, shop, bundle);
      await deleteOrder(db, shop, deletedOrder);
      await deleteCustomer(db, shop, deletedCustomer);
    }
    for (const bundle of rest) await upsertOrder(db, oneByOne, bundle);
    for (let start = 0; start < rest.length; start += 37) {
      await db.$transaction((tx) => upsertOrdersBatch(tx, batched, rest.slice(start, start + 37)), TRANSACTION_OPTIONS);
    }
    const expected = await snapshot(db, oneByOne);
    expect(expected.orders.length).toBeGreaterThan(20);
    expect(expected.refunds.length).toBeGreaterThan(0);
    expect(await snapshot(db, batched)).toEqual(expected);
  });

  it.each([
    [4, false],
    [5, true],
    [6, true],
  ])("deferred, as an import writes it (known customers skipped, summaries at the end), leaves the same rows (seed %i, summary pass on two connections: %s)", async (seed, split) => {
    const db = testDb();
    const { bundles, deletedOrder, deletedCustomer } = scenario(seed);
    const prefix = bundles.slice(0, 30);
    const rest = bundles.slice(30);
    // Customers known only by id (no profile on their orders): the rows are placeholders, which
    // a later batch must not try again for a known customer, nor skip for an unknown one.
    for (let i = 0; i < 10; i += 1) {
      const bundle = mapOrderPayload(orderPayload({ id: 5_000 + i, customerId: 600 + (i % 5), updatedAt: new Date(Date.UTC(2025, 2, 1 + i)), totalCents: 1_500 }));
      rest.splice(i * 9, 0, { ...bundle, customer: null });
    }
    const [oneByOne, imported] = [uniqueShop("one"), uniqueShop("import")];
    for (const shop of [oneByOne, imported]) {
      for (const bundle of prefix) await upsertOrder(db, shop, bundle);
      await deleteOrder(db, shop, deletedOrder);
      await deleteCustomer(db, shop, deletedCustomer);
    }
    for (const bundle of rest) await upsertOrder(db, oneByOne, bundle);
    // As the download does: customers of committed batches are known (a deleted one too: its tombstone wins).
    const known = new Set<bigint>();
    for (let start = 0; start < rest.length; start += 23) {
      const batch = rest.slice(start, start + 23);
      const result = await pgTransaction(pgPool(), (tx) => upsertOrdersBatch(tx, imported, batch, { summaries: "deferred", knownCustomers: known }));
      expect(result.customerIds).toEqual([]);
      for (const bundle of batch) if (bundle.order.customerId !== null) known.add(bundle.order.customerId);
    }
    const helper = split ? await pgPool().connect() : null;
    try {
      await pgTransaction(pgPool(), (tx) => finishImport(tx, imported, { helper }));
    } finally {
      helper?.release();
    }
    const expected = await snapshot(db, oneByOne);
    expect(expected.customers.some((c) => c.ordersCount > 0)).toBe(true);
    expect(await snapshot(db, imported)).toEqual(expected);
  });

  it("deferred: a stale copy of a stored order that brings a new refund lowers the stored order's net, and counts as not written", async () => {
    const db = testDb();
    const shop = uniqueShop();
    const [t1, t2, t3] = ["2025-03-01T00:00:00Z", "2025-03-02T00:00:00Z", "2025-03-03T00:00:00Z"].map((iso) => new Date(iso));
    // Stored from a webhook at t2; the import's copy is from t1 but carries a refund made at t3.
    await upsertOrder(db, shop, mapOrderPayload(orderPayload({ id: 7_001, customerId: 700, updatedAt: t2, totalCents: 5_000 })));
    const stale = orderPayload({ id: 7_001, customerId: 700, updatedAt: t1, totalCents: 5_000 });
    stale.refunds = [refundPayload({ id: 97_001, orderId: 7_001, createdAt: t3, amountCents: 1_200 })];
    const fresh = mapOrderPayload(orderPayload({ id: 7_002, customerId: 700, updatedAt: t1, totalCents: 2_000 }));
    const result = await pgTransaction(pgPool(), (tx) => upsertOrdersBatch(tx, shop, [mapOrderPayload(stale), fresh], { summaries: "deferred" }));
    expect(result.ordersWritten).toBe(1);
    const orders = await db.order.findMany({ where: { shop }, orderBy: { id: "asc" }, select: { id: true, shopifyUpdatedAt: true, netMinor: true } });
    expect(orders).toEqual([
      { id: 7_001n, shopifyUpdatedAt: t2, netMinor: 3_800n },
      { id: 7_002n, shopifyUpdatedAt: t1, netMinor: 2_000n },
    ]);
  });

  it("writes nothing when the same batch comes again", async () => {
    const db = testDb();
    const shop = uniqueShop();
    const { bundles } = scenario(9);
    await db.$transaction((tx) => upsertOrdersBatch(tx, shop, bundles), TRANSACTION_OPTIONS);
    const before = await snapshot(db, shop);
    const again = await db.$transaction((tx) => upsertOrdersBatch(tx, shop, bundles), TRANSACTION_OPTIONS);
    expect(again.ordersWritten).toBe(0);
    expect(await snapshot(db, shop)).toEqual(before);
  });

  it("holds one advisory lock however large the batch (the shop's import lock), and defers summaries when asked", async () => {
    const db = testDb();
    const shop = uniqueShop();
    const base = Date.parse("2025-01-01T00:00:00Z");
    const bundles = Array.from({ length: 3_000 }, (_, i) =>
      mapOrderPayload(orderPayload({ id: 100_000 + i, customerId: 20_000 + (i % 1_000), updatedAt: new Date(base + i * 60_000), totalCents: 1_000 + i })),
    );
    const locks = await pgTransaction(pgPool(), async (tx) => {
      await upsertOrdersBatch(tx, shop, bundles, { summaries: "deferred" });
      const [row] = await tx.$queryRaw<{ locks: number }[]>`
        SELECT count(*)::int AS locks FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()`;
      return row.locks;
    });
    expect(locks).toBe(1); // one per order and customer before: 4,000
    expect(await db.order.count({ where: { shop } })).toBe(3_000);
    // Deferred: the import's last step recomputes them.
    expect(await db.customer.count({ where: { shop, ordersCount: { gt: 0 } } })).toBe(0);
  });

  it("carries awkward text (quotes, backslashes, braces, commas, NULL, empty, unicode) exactly as the one-by-one path", async () => {
    const db = testDb();
    const awkward = ['say "hi"', "back\\slash", "{braced}", "a,b", "NULL", "", "naïve – ünïcode ☕", " padded "];
    const bundles = awkward.map((text, i) => {
      const bundle = mapOrderPayload(orderPayload({ id: 200 + i, customerId: 300 + i, updatedAt: new Date(Date.UTC(2025, 0, 1 + i)), totalCents: 1_000 }));
      bundle.order = { ...bundle.order, name: text, tags: [text, "plain"], discountCodes: [text], firstProductTitle: text, sourceName: i % 2 ? null : text };
      bundle.customer = { ...bundle.customer!, firstName: text, lastName: null, email: `${i}@example.com`, tags: [text] };
      return bundle;
    });
    const [oneByOne, batched] = [uniqueShop("one"), uniqueShop("batch")];
    for (const bundle of bundles) await upsertOrder(db, oneByOne, bundle);
    await pgTransaction(pgPool(), (tx) => upsertOrdersBatch(tx, batched, bundles));
    const expected = await snapshot(db, oneByOne);
    expect(expected.orders.map((o) => o.name)).toEqual(awkward);
    expect(await snapshot(db, batched)).toEqual(expected);
  });
});
