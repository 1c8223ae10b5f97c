import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type AdapterFactory } from "~/destinations/adapters.server";
import { type SyncDeps, runDestinationPass } from "~/destinations/sync.server";
import { readCustomerSyncStates, readFullBatch, readFullBatchStates } from "~/data/destinations.server";
import { createPgPool } from "~/db/pg.server";
import { connectDestination, setDestinationSegments } from "~/destinations/connections.server";
import { redactCustomer } from "~/ingest/gdpr.server";
import { deleteCustomer } from "~/ingest/upsert.server";
import { type FakeKlaviyo, startFakeKlaviyo } from "../../demo/fakes/klaviyo";
import { installedShop, testDb, testPool } from "../support/db";
import { destinationOf, fakeAdapters, insertCustomers, writeAndMark } from "../support/destinations";
import { metricsRow } from "../support/customer-metrics-rows";
import { dropQueues } from "../support/ingested-shops";
import { FakeShopify } from "../support/fake-shopify";
import { AdminGraphql } from "~/integrations/shopify-admin.server";
import { scoreAndMark, writebackShop } from "../support/shopify-writeback";

// Two of the full pass's statements made cheaper for PostgreSQL (task K6), and what guards
// them. A pass's commit inserts its first writes without probing each customer's row while
// the shop's customer deletions are still counted as when its run began (ADR 0022).
// A customer deleted between the batch's read and its commit, by either path that deletes
// Customer rows, must still end as an erasure, not a member: these fail if the commit skips
// the probes anyway, or if a deletion path does not count (countCustomerDeletion).

let fake: FakeKlaviyo;
let adapters: AdapterFactory;

beforeAll(async () => {
  fake = await startFakeKlaviyo({ jobTiming: { queuedMs: 0, processingMs: 1 } });
  process.env.KLAVIYO_API_URL = fake.url;
  process.env.TENURE_QUEUE_PREFIX = `tenure-test-full-pass-statements-${process.pid}-${Date.now().toString(36)}`;
  adapters = fakeAdapters({ klaviyo: fake.url });
});
afterEach(async () => dropQueues());
afterAll(async () => {
  await fake.close();
  delete process.env.KLAVIYO_API_URL;
});

async function rowsOf(table: "DestinationMember" | "DestinationErasure", destinationId: string): Promise<string[]> {
  const result = await testPool().query<{ id: string }>(`SELECT "customerId"::text AS id FROM "${table}" WHERE "destinationId" = $1 ORDER BY 1`, [destinationId]);
  return result.rows.map((r) => r.id);
}

/** A shop syncing Champions to Klaviyo, three subscribed champions, none synced yet. */
async function shopToSync(key: string): Promise<{ shop: string; id: string }> {
  const shop = await installedShop("deletion-count");
  expect(await connectDestination(testPool(), shop, "klaviyo", { apiKey: key })).toEqual({ ok: true });
  await setDestinationSegments(testPool(), shop, "klaviyo", ["champions"]);
  const id = (await destinationOf(shop, "klaviyo"))!.id;
  await insertCustomers(shop, [{ id: 1 }, { id: 2 }, { id: 3 }]);
  await writeAndMark(shop, [1, 2, 3].map((n) => metricsRow(n, { segment: "champions" })));
  return { shop, id };
}

/** The adapter, with `meanwhile` run before its first push: after the batch's read, before its commit. */
function deletingBeforeFirstPush(meanwhile: () => Promise<unknown>): AdapterFactory {
  let done = false;
  return (kind, apiKey, account) => {
    const adapter = adapters(kind, apiKey, account);
    return {
      ...adapter,
      async push(changes, targets) {
        if (!done) {
          done = true;
          await meanwhile();
        }
        return adapter.push(changes, targets);
      },
    };
  };
}

describe("a customer deleted between a first pass's read and its commit", () => {
  it.each([
    { path: "customers/delete", remove: (shop: string) => deleteCustomer(testDb(), shop, 1n) },
    { path: "customers/redact", remove: (shop: string) => redactCustomer(testDb(), shop, { customerId: 1n, email: null, phone: null, orderIds: [] }) },
  ])("by $path ends as an erasure, not a member; the others are written", async ({ path, remove }) => {
    const { shop, id } = await shopToSync(`pk_test_deletion_count_${path.replace("/", "_")}`);
    const deps: SyncDeps = { pool: testPool(), adapterFor: deletingBeforeFirstPush(() => remove(shop)) };
    expect(await runDestinationPass(deps, id, "full", "initial")).toMatchObject({ status: "done" });
    // Without the probe (the count not compared, or not bumped by this path): customer 1 a member.
    expect(await rowsOf("DestinationMember", id)).toEqual(["2", "3"]);
    // A redaction records its own erasure too (by the stored email): one id, perhaps twice.
    expect([...new Set(await rowsOf("DestinationErasure", id))]).toEqual(["1"]);
  });

  it("a Shopify write-back pass probes even with no deletion since its run began: a scored customer deleted before it is no member", async () => {
    // The write-back writes every scored customer, Customer row or not (no email needed), so
    // its first writes are probed whatever the count: customer 1 was deleted before the run
    // (counted then), their metrics row not yet gone.
    // The Shopify fake takes every fetch of the process while it runs: this test's only.
    const shopify = await new FakeShopify({ appId: "5152" }).start();
    try {
      const admin = new AdminGraphql({ db: testDb(), backoffMs: 5, maxRetries: 2 });
      const { shop, destinationId } = await writebackShop(shopify, admin, "k6-writeback");
      await insertCustomers(shop, [{ id: 1 }, { id: 2 }]);
      await scoreAndMark(shop, [metricsRow(1), metricsRow(2)]);
      await deleteCustomer(testDb(), shop, 1n);
      const deps: SyncDeps = { pool: testPool(), shopifyAdmin: admin };
      expect(await runDestinationPass(deps, destinationId, "changes")).toMatchObject({ status: "done" });
      // Without the probe: customer 1 a member.
      expect(await rowsOf("DestinationMember", destinationId)).toEqual(["2"]);
    } finally {
      await shopify.close();
    }
  });

  it("a pass with no deletion writes every member (the unprobed insert)", async () => {
    const { id } = await shopToSync("pk_test_deletion_count_none");
    const deps: SyncDeps = { pool: testPool(), adapterFor: adapters };
    expect(await runDestinationPass(deps, id, "full", "initial")).toMatchObject({ status: "done" });
    expect(await rowsOf("DestinationMember", id)).toEqual(["1", "2", "3"]);
    expect(await rowsOf("DestinationErasure", id)).toEqual([]);
  });
});

// The state reads take dates and timestamps as their own text (no to_char): the shape
// DateStyle ISO gives, which createPgPool pins on its connections.
describe("the state reads' dates", () => {
  it("come as YYYY-MM-DD and ISO 8601 UTC to the second from a pool's connection", async () => {
    const { shop, id } = await shopToSync("pk_test_full_pass_dates");
    await testPool().query(`UPDATE "CustomerMetrics" SET "expectedNextOrderDay" = DATE '2027-03-04', "computedAt" = TIMESTAMP '2026-12-07 08:09:10.654321' WHERE shop = $1 AND "customerId" = 1`, [shop]);
    const [state] = await readCustomerSyncStates(testPool(), shop, id, "subscribed", ["1"]);
    expect(state).toMatchObject({ expectedNextOrderDay: "2027-03-04", scoredAt: "2026-12-07T08:09:10Z" });
  });

  it("pins DateStyle ISO on a pool's connections", async () => {
    const pool = createPgPool(process.env.DATABASE_URL!, { max: 1 });
    try {
      expect((await pool.query<{ DateStyle: string }>("SHOW DateStyle")).rows[0]!.DateStyle).toBe("ISO, MDY");
    } finally {
      await pool.end();
    }
  });

  it("refuse a session in another DateStyle rather than send a date of another shape", async () => {
    const { shop, id } = await shopToSync("pk_test_full_pass_datestyle");
    const client = await testPool().connect();
    try {
      await client.query("SET DateStyle = 'SQL, DMY'");
      await expect(readCustomerSyncStates(client, shop, id, "subscribed", ["1"])).rejects.toThrow(/DateStyle ISO/);
    } finally {
      await client.query("RESET DateStyle");
      client.release();
    }
  });
});

// The full pass's read (one statement for a batch's candidates, states and outbox rows) must
// give what the per-customer reads give, with member and outbox rows scattered over the ids
// around the batch (other groups', another destination's, before the keyset and after the
// batch's last id) left out. Written for task K7's range read (tried and dropped:
// docs/destinations/klaviyo.md); it holds for any way the read finds those rows.
describe("the full pass's read", () => {
  it("gives each candidate's own member row and outbox entry, and nothing else of the range", async () => {
    const shop = await installedShop("full-read-range");
    expect(await connectDestination(testPool(), shop, "klaviyo", { apiKey: "pk_test_full_read_range" })).toEqual({ ok: true });
    const chosen = ["at-risk", "big-spender", "champions", "loyal"];
    await setDestinationSegments(testPool(), shop, "klaviyo", chosen);
    const id = (await destinationOf(shop, "klaviyo"))!.id;
    const other = await installedShop("full-read-other");
    expect(await connectDestination(testPool(), other, "klaviyo", { apiKey: "pk_test_full_read_other" })).toEqual({ ok: true });
    const otherId = (await destinationOf(other, "klaviyo"))!.id;
    const ids = Array.from({ length: 120 }, (_, i) => i + 1);
    await insertCustomers(shop, ids.map((n) => ({ id: n, consent: n % 7 === 0 ? null : "SUBSCRIBED" })));
    await writeAndMark(shop, ids.map((n) => metricsRow(n, { segment: ["champions", "loyal", "at-risk"][n % 3]!, behaviours: n % 10 === 0 ? ["big-spender"] : [] })));
    await testPool().query(`DELETE FROM "DestinationOutbox" WHERE "destinationId" = $1`, [id]);
    // Members and outbox rows scattered over every id, in this destination and another one.
    await testPool().query(
      `INSERT INTO "DestinationMember" ("destinationId", "customerId", email, "remoteProfileId", segments, "syncedHash", "heldValues")
       SELECT d, g, 'held-' || g || '@example.com', CASE WHEN g % 4 = 0 THEN 'rp' || g END, ARRAY['champions'], 'h' || g,
              CASE WHEN g % 5 = 0 THEN jsonb_build_object('k', g::text) END
       FROM unnest(ARRAY[$1::bigint, $2::bigint]) AS d, generate_series(1, 130) AS g WHERE g % 2 = 0 OR (d = $2 AND g % 2 = 1)`,
      [id, otherId],
    );
    await testPool().query(
      `INSERT INTO "DestinationOutbox" ("destinationId", "customerId", "changedAt")
       SELECT d, g, TIMESTAMP '2026-12-07 10:00:00' + g * interval '1.5 second'
       FROM unnest(ARRAY[$1::bigint, $2::bigint]) AS d, generate_series(1, 130) AS g WHERE d = $2 OR g % 5 IN (0, 3)`,
      [id, otherId],
    );
    let batches = 0;
    for (const [after, limit] of [["0", 7], ["20", 9], ["61", 50], ["100", 50]] as const) {
      const expectedIds = await readFullBatch(testPool(), shop, id, chosen, "champions", after, limit);
      const { states, outbox } = await readFullBatchStates(testPool(), shop, id, "subscribed", chosen, "champions", after, limit);
      expect(states).toEqual(await readCustomerSyncStates(testPool(), shop, id, "subscribed", expectedIds));
      const expectedOutbox = await testPool().query<{ customerId: string; changedAt: string }>(
        `SELECT o."customerId"::text AS "customerId", o."changedAt"::text AS "changedAt" FROM "DestinationOutbox" AS o
         WHERE o."destinationId" = $1 AND o."customerId" = ANY($2::bigint[]) ORDER BY o."customerId"`,
        [id, expectedIds],
      );
      expect(outbox).toEqual(expectedOutbox.rows);
      if (states.some((state) => state.member) && outbox.length > 0) batches += 1;
    }
    expect(batches).toBeGreaterThan(2);
  });
});
