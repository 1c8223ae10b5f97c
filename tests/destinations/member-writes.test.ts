import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type MemberWrite, countFullCandidates, recordDestinationFailures, startDestinationRun, writeMembers } from "~/data/destinations.server";
import { connectDestination, disconnectDestination, setDestinationSegments } from "~/destinations/connections.server";
import { type SyncDeps, runDestinationPass } from "~/destinations/sync.server";
import { redactCustomer, redactShop } from "~/ingest/gdpr.server";
import { type FakeKlaviyo, startFakeKlaviyo } from "../../demo/fakes/klaviyo";
import { installedShop, testDb, testPool } from "../support/db";
import { destinationOf, fakeAdapters, insertCustomers, writeAndMark } from "../support/destinations";
import { metricsRow } from "../support/customer-metrics-rows";
import { deliver, dropQueues } from "../support/ingested-shops";
import { fixtureTextFor } from "../support/webhook-fixtures";
import { type ClientQueryable } from "~/db/pg.server";
import { inOwnTransaction, openTransaction, untilBlockedBy } from "../support/lock-interleavings";

// A pass's member writes against the deletions that race them (ADR 0022): a redaction
// (the shop's member lock), and a destination's deletion (no foreign key: the destination's
// row held by the commit, members deleted by each deletion path).

let fake: FakeKlaviyo;
let deps: SyncDeps;

beforeAll(async () => {
  fake = await startFakeKlaviyo({ jobTiming: { queuedMs: 0, processingMs: 1 } });
  process.env.KLAVIYO_API_URL = fake.url;
  process.env.TENURE_QUEUE_PREFIX = `tenure-test-member-writes-${process.pid}-${Date.now().toString(36)}`;
  deps = { pool: testPool(), adapterFor: fakeAdapters({ klaviyo: fake.url }) };
});
afterEach(async () => dropQueues());
afterAll(async () => {
  await fake.close();
  delete process.env.KLAVIYO_API_URL;
});

/** A shop connected to Klaviyo syncing Champions, two subscribed champions synced (member rows). */
async function syncedShop(key: string): Promise<{ shop: string; id: string }> {
  const shop = await installedShop("members");
  expect(await connectDestination(testPool(), shop, "klaviyo", { apiKey: key })).toEqual({ ok: true });
  await setDestinationSegments(testPool(), shop, "klaviyo", ["champions"]);
  const id = (await destinationOf(shop, "klaviyo"))!.id;
  await insertCustomers(shop, [{ id: 1 }, { id: 2 }]);
  await writeAndMark(shop, [metricsRow(1, { segment: "champions" }), metricsRow(2, { segment: "champions" })]);
  expect(await runDestinationPass(deps, id, "full", "initial")).toMatchObject({ status: "done" });
  expect(await membersOf(id)).toEqual(["1", "2"]);
  return { shop, id };
}

async function membersOf(destinationId: string): Promise<string[]> {
  const result = await testPool().query<{ id: string }>(`SELECT "customerId"::text AS id FROM "DestinationMember" WHERE "destinationId" = $1 ORDER BY 1`, [destinationId]);
  return result.rows.map((r) => r.id);
}

async function erasuresOf(destinationId: string): Promise<string[]> {
  const result = await testPool().query<{ id: string }>(`SELECT "customerId"::text AS id FROM "DestinationErasure" WHERE "destinationId" = $1 ORDER BY 1`, [destinationId]);
  return result.rows.map((r) => r.id);
}

/** Member rows of destinations that no longer exist. */
async function orphanMembers(ids: readonly string[]): Promise<number> {
  const result = await testPool().query<{ n: string }>(
    `SELECT count(*)::text AS n FROM "DestinationMember" AS m
     WHERE m."destinationId" = ANY($1::bigint[]) AND NOT EXISTS (SELECT 1 FROM "Destination" AS d WHERE d.id = m."destinationId")`,
    [ids],
  );
  return Number(result.rows[0]!.n);
}



const write = (customerId: string, first = false): MemberWrite => ({
  customerId,
  email: `customer-${customerId}@example.com`,
  remoteProfileId: null,
  segments: ["champions"],
  syncedHash: "a-new-hash",
  first,
});

// Each race for both statements: any write (ON CONFLICT), and a first write (a plain insert).
describe.each([
  { label: "any write", first: false },
  { label: "a first write", first: true },
])("a pass's member writes and a redaction ($label)", ({ first }) => {
  const write1 = (customerId: string) => write(customerId, first);

  it("a redaction waits for a pass's commit that is writing the customer, then erases the member it wrote", async () => {
    const { shop, id } = await syncedShop("pk_test_members_redact_after");
    // A first write (an insert: a member row rewritten would be row-locked and waited for anyway).
    await testPool().query(`DELETE FROM "DestinationMember" WHERE "destinationId" = $1`, [id]);
    // The pass's commit, half done: customer 1's member row written, not yet committed.
    const commit = await openTransaction();
    await writeMembers(commit.client, shop, id, [write1("1")], []);
    const redaction = redactCustomer(testDb(), shop, { customerId: 1n, email: null, phone: null, orderIds: [] });
    await untilBlockedBy(commit.pid);
    await commit.commit();
    expect((await redaction).erasureDestinations).toEqual([id]);
    // Without the member lock the redaction ran past the uncommitted write: customer 1 stayed a member.
    expect(await membersOf(id)).toEqual([]);
    expect(await erasuresOf(id)).toEqual(["1"]);
  });

  it("a pass's commit after a redaction writes an erasure, not a member", async () => {
    const { shop, id } = await syncedShop("pk_test_members_redact_before");
    await testPool().query(`DELETE FROM "DestinationMember" WHERE "destinationId" = $1`, [id]);
    // The redaction, half done: the customer's row gone and the member lock taken, not yet committed.
    const redaction = await openTransaction();
    await redaction.client.query(`DELETE FROM "Customer" WHERE shop = $1 AND id = 1`, [shop]);
    await redaction.client.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`tenure:destination-members:${shop}`]);
    const commit = inOwnTransaction((client) => writeMembers(client, shop, id, [write1("1"), write1("2")], []));
    await untilBlockedBy(redaction.pid);
    await redaction.commit();
    await commit;
    expect(await membersOf(id)).toEqual(["2"]);
    expect(await erasuresOf(id)).toEqual(["1"]);
  });
});

describe("a first write", () => {
  it("of a customer the destination holds after all (a member row written since the read) updates the row: no error, nothing lost", async () => {
    const { shop, id } = await syncedShop("pk_test_members_first_held");
    await testPool().query(`DELETE FROM "DestinationMember" WHERE "destinationId" = $1 AND "customerId" = 2`, [id]);
    const commit = await openTransaction();
    // 1 still has its row: the plain insert fails, the savepoint undoes it, the general statement writes both.
    await writeMembers(commit.client, shop, id, [write("1", true), write("2", true)], []);
    await commit.commit();
    const rows = await testPool().query<{ id: string; hash: string }>(
      `SELECT "customerId"::text AS id, "syncedHash" AS hash FROM "DestinationMember" WHERE "destinationId" = $1 ORDER BY 1`,
      [id],
    );
    expect(rows.rows).toEqual([
      { id: "1", hash: "a-new-hash" },
      { id: "2", hash: "a-new-hash" },
    ]);
  });
});

// With a run under way and no customer deleted since it began, first writes go in by binary
// COPY (writeMembers): the same rows the insert stores, and the same fallback on a row that
// exists after all.
describe("a pass's first member writes by COPY", () => {
  /** The client, noting each statement it is given: a COPY (a submittable) by its SQL too. */
  const noting = (client: ClientQueryable, statements: string[]): ClientQueryable => ({
    query: ((config: unknown, values?: unknown) => {
      const text = typeof config === "string" ? config : (config as { text?: string }).text;
      statements.push(`${typeof (config as { submit?: unknown }).submit === "function" ? "submittable " : ""}${String(text).trim().split(/\s+/).slice(0, 3).join(" ")}`);
      return (client.query as (config: unknown, values?: unknown) => unknown)(config, values);
    }) as ClientQueryable["query"],
    release: () => {},
  });

  it("store what the insert stores: email, profile id, segments, hash, held values, and the time", async () => {
    const { shop, id } = await syncedShop("pk_test_members_copy_values");
    await testPool().query(`DELETE FROM "DestinationMember" WHERE "destinationId" = $1`, [id]);
    await startDestinationRun(testPool(), id, "full", 2);
    const before = Date.now();
    const commit = await openTransaction();
    const statements: string[] = [];
    await writeMembers(
      noting(commit.client, statements),
      shop,
      id,
      [
        { ...write("1", true), remoteProfileId: "01JZ8Q", segments: ["champions", "vip"], heldValues: { "tenure.segment": "Champions, \"best\"" } },
        { ...write("2", true), email: "Zoë.Ünal@example.com", segments: [] },
      ],
      [],
    );
    await commit.commit();
    expect(statements.filter((statement) => statement.startsWith('submittable COPY "DestinationMember"'))).toHaveLength(1);
    expect(statements.filter((statement) => statement.startsWith("INSERT"))).toEqual([]);
    const rows = await testPool().query(
      `SELECT "customerId"::text AS id, email, "remoteProfileId", segments, "syncedHash", "heldValues", "syncedAt"
       FROM "DestinationMember" WHERE "destinationId" = $1 ORDER BY 1`,
      [id],
    );
    expect(rows.rows.map(({ syncedAt: _, ...row }) => row)).toEqual([
      { id: "1", email: "customer-1@example.com", remoteProfileId: "01JZ8Q", segments: ["champions", "vip"], syncedHash: "a-new-hash", heldValues: { "tenure.segment": "Champions, \"best\"" } },
      { id: "2", email: "Zoë.Ünal@example.com", remoteProfileId: null, segments: [], syncedHash: "a-new-hash", heldValues: null },
    ]);
    for (const row of rows.rows as { syncedAt: Date }[]) {
      expect(row.syncedAt.getTime()).toBeGreaterThanOrEqual(before - 1);
      expect(row.syncedAt.getTime()).toBeLessThanOrEqual(Date.now() + 1);
    }
  });

  it("of a customer the destination holds after all update the row: no error, nothing lost", async () => {
    const { shop, id } = await syncedShop("pk_test_members_copy_held");
    await testPool().query(`DELETE FROM "DestinationMember" WHERE "destinationId" = $1 AND "customerId" = 2`, [id]);
    await startDestinationRun(testPool(), id, "full", 2);
    const commit = await openTransaction();
    const statements: string[] = [];
    // 1 still has its row: the COPY fails, the savepoint undoes it, the general statement writes both.
    await writeMembers(noting(commit.client, statements), shop, id, [write("1", true), write("2", true)], []);
    await commit.commit();
    const copy = statements.findIndex((statement) => statement.startsWith('submittable COPY "DestinationMember"'));
    expect(copy).toBeGreaterThan(-1);
    expect(statements.slice(copy + 1)).toEqual(["ROLLBACK TO SAVEPOINT", "WITH input AS"]);
    const rows = await testPool().query<{ id: string; hash: string }>(
      `SELECT "customerId"::text AS id, "syncedHash" AS hash FROM "DestinationMember" WHERE "destinationId" = $1 ORDER BY 1`,
      [id],
    );
    expect(rows.rows).toEqual([
      { id: "1", hash: "a-new-hash" },
      { id: "2", hash: "a-new-hash" },
    ]);
  });
});

describe("a pass's failure rows and a redaction", () => {
  const failure = (customerId: string) => ({ customerId, email: `customer-${customerId}@example.com`, reason: "Invalid email address" });
  const failuresOf = async (destinationId: string) =>
    (await testPool().query<{ id: string; email: string | null }>(`SELECT "customerId"::text AS id, email FROM "DestinationFailure" WHERE "destinationId" = $1 ORDER BY 1`, [destinationId])).rows;

  it("a redaction waits for a pass's commit recording the customer's failure, then deletes it", async () => {
    const { shop, id } = await syncedShop("pk_test_failures_redact_after");
    const commit = await openTransaction();
    await recordDestinationFailures(commit.client, shop, id, null, [failure("1")]);
    const redaction = redactCustomer(testDb(), shop, { customerId: 1n, email: null, phone: null, orderIds: [] });
    await untilBlockedBy(commit.pid);
    await commit.commit();
    await redaction;
    // Without the member lock the redaction's delete ran before the failure row was committed: its email stayed.
    expect(await failuresOf(id)).toEqual([]);
  });

  it("a pass's commit after a redaction records no failure (and no email) for the redacted customer", async () => {
    const { shop, id } = await syncedShop("pk_test_failures_redact_before");
    const redaction = await openTransaction();
    await redaction.client.query(`DELETE FROM "Customer" WHERE shop = $1 AND id = 1`, [shop]);
    await redaction.client.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`tenure:destination-members:${shop}`]);
    const commit = inOwnTransaction((client) => recordDestinationFailures(client, shop, id, null, [failure("1"), failure("2")]));
    await untilBlockedBy(redaction.pid);
    await redaction.commit();
    await commit;
    expect(await failuresOf(id)).toEqual([{ id: "2", email: "customer-2@example.com" }]);
  });
});

describe("a destination's deletion leaves no member rows", () => {
  it("disconnect", async () => {
    const { shop, id } = await syncedShop("pk_test_members_disconnect");
    await disconnectDestination(testPool(), shop, "klaviyo");
    expect(await destinationOf(shop, "klaviyo")).toBeUndefined();
    expect(await membersOf(id)).toEqual([]);
  });

  it("app/uninstalled", async () => {
    const { shop, id } = await syncedShop("pk_test_members_uninstall");
    await deliver(shop, "app/uninstalled", JSON.parse(fixtureTextFor("app-uninstalled", shop)));
    expect(await destinationOf(shop, "klaviyo")).toBeUndefined();
    expect(await membersOf(id)).toEqual([]);
  });

  it("shop/redact", async () => {
    const { shop, id } = await syncedShop("pk_test_members_shop_redact");
    await redactShop(testDb(), shop);
    expect(await destinationOf(shop, "klaviyo")).toBeUndefined();
    expect(await membersOf(id)).toEqual([]);
  });

  it("a disconnect waits for a pass's commit writing members, then deletes them too", async () => {
    const { shop, id } = await syncedShop("pk_test_members_disconnect_race");
    await testPool().query(`DELETE FROM "DestinationMember" WHERE "destinationId" = $1`, [id]);
    const commit = await openTransaction();
    await writeMembers(commit.client, shop, id, [write("1"), write("2")], []);
    const disconnect = disconnectDestination(testPool(), shop, "klaviyo");
    await untilBlockedBy(commit.pid);
    await commit.commit();
    await disconnect;
    expect(await orphanMembers([id])).toBe(0);
  });

  it("a pass's commit after the destination's deletion writes nothing and says why", async () => {
    const { shop, id } = await syncedShop("pk_test_members_deleted_first");
    await disconnectDestination(testPool(), shop, "klaviyo");
    const client = await testPool().connect();
    try {
      await client.query("BEGIN");
      await expect(writeMembers(client, shop, id, [write("1")], [])).rejects.toThrow(/was deleted during the pass/);
      await client.query("ROLLBACK");
    } finally {
      client.release();
    }
    expect(await orphanMembers([id])).toBe(0);
  });
});

describe("a full pass's total", () => {
  it("counts everyone in a chosen segment and every member in none, each once", async () => {
    const { shop, id } = await syncedShop("pk_test_members_total");
    // Members 1 and 2 (champions); 3 a champion not yet sent; 2 moves out of every chosen segment; 4 in none and held by none.
    await insertCustomers(shop, [{ id: 3 }, { id: 4 }]);
    await writeAndMark(shop, [metricsRow(2, { segment: "at-risk" }), metricsRow(3, { segment: "champions" }), metricsRow(4, { segment: "loyal" })]);
    expect(await countFullCandidates(testPool(), shop, id, ["champions"])).toBe(3);
    expect(await countFullCandidates(testPool(), shop, id, ["champions", "at-risk"])).toBe(3);
    expect(await countFullCandidates(testPool(), shop, id, [])).toBe(2);
  });
});
