import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connectDestination, setConsentScope, setDestinationSegments } from "~/destinations/connections.server";
import type { CustomerSyncState } from "~/data/destinations.server";
import { profileText } from "~/destinations/klaviyo.server";
import { SENT_TEXT_HASH_PREFIX, type SyncDeps, compareCustomer, runDestinationPass, runErasurePass, sentTextHash, syncHash } from "~/destinations/sync.server";
import { type FakeKlaviyo, startFakeKlaviyo } from "../../demo/fakes/klaviyo";
import { installedShop, testPool } from "../support/db";
import { changeConsent, destinationOf, fakeAdapters, insertCustomers, outboxOf, writeAndMark } from "../support/destinations";
import { metricsRow } from "../support/customer-metrics-rows";
import { deliver, dropQueues } from "../support/ingested-shops";
import { fixtureTextFor } from "../support/webhook-fixtures";

// The sync engine against Klaviyo's fake at the HTTP boundary, through the real adapter:
// what the lists hold after each pass, for the cases issue 14 names.

let fake: FakeKlaviyo;
let deps: SyncDeps;
const KEY = "pk_test_engine";

beforeAll(async () => {
  fake = await startFakeKlaviyo({ jobTiming: { queuedMs: 0, processingMs: 1 } });
  process.env.KLAVIYO_API_URL = fake.url;
  process.env.TENURE_QUEUE_PREFIX = `tenure-test-destinations-${process.pid}-${Date.now().toString(36)}`;
  deps = { pool: testPool(), adapterFor: fakeAdapters({ klaviyo: fake.url }) };
});
afterEach(async () => dropQueues());
afterAll(async () => {
  await fake.close();
  delete process.env.KLAVIYO_API_URL;
});

/** A shop connected to Klaviyo syncing these segments; returns the destination id. */
async function connectedShop(segments: string[], key = KEY): Promise<{ shop: string; id: string }> {
  const shop = await installedShop("dest");
  expect(await connectDestination(testPool(), shop, "klaviyo", { apiKey: key })).toEqual({ ok: true });
  await setDestinationSegments(testPool(), shop, "klaviyo", segments);
  return { shop, id: (await destinationOf(shop, "klaviyo"))!.id };
}

const lists = (key = KEY) => Object.fromEntries(fake.state.lists(key));

describe("a Klaviyo destination", () => {
  it("never stores or returns a key Klaviyo refuses", async () => {
    const shop = await installedShop("dest");
    fake.inject.revokeKey("pk_refused");
    const outcome = await connectDestination(testPool(), shop, "klaviyo", { apiKey: "pk_refused" });
    expect(outcome.ok).toBe(false);
    expect(await destinationOf(shop, "klaviyo")).toBeUndefined();
    const empty = await connectDestination(testPool(), shop, "klaviyo", { apiKey: "  " });
    expect(empty).toEqual({ ok: false, reason: expect.stringMatching(/empty/) });
    // A server without TENURE_ENCRYPTION_KEY says so and stores nothing.
    const key = process.env.TENURE_ENCRYPTION_KEY;
    delete process.env.TENURE_ENCRYPTION_KEY;
    try {
      const noKey = await connectDestination(testPool(), shop, "klaviyo", { apiKey: "pk_test_no_encryption_key" });
      expect(noKey).toEqual({ ok: false, reason: expect.stringMatching(/TENURE_ENCRYPTION_KEY is not set/) });
    } finally {
      process.env.TENURE_ENCRYPTION_KEY = key;
    }
    expect(await destinationOf(shop, "klaviyo")).toBeUndefined();
  });

  it("stores the key sealed, never in clear", async () => {
    const key = "pk_test_sealed";
    const { id } = await connectedShop([], key);
    const row = await testPool().query<{ sealed: string }>(`SELECT "sealedCredentials" AS sealed FROM "Destination" WHERE id = $1`, [id]);
    expect(row.rows[0]!.sealed).toMatch(/^v1:/);
    expect(row.rows[0]!.sealed).not.toContain(key);
  });

  it("initial sync: each chosen segment is a list holding its subscribed customers; the others are left out and counted", async () => {
    const key = "pk_test_initial";
    const { shop, id } = await connectedShop(["champions", "at-risk", "vip"], key);
    await insertCustomers(shop, [{ id: 1 }, { id: 2 }, { id: 3, consent: "UNSUBSCRIBED" }, { id: 4, email: null }, { id: 5, consent: null }, { id: 6 }]);
    await writeAndMark(shop, [
      metricsRow(1, { segment: "champions", behaviours: ["vip"], netSpent: 125_050, predictedClv: 40_000, pAlive: 0.9, chanceOfOrder90d: 0.5, expectedNextOrderDay: 20_200 }),
      metricsRow(2, { segment: "at-risk" }),
      metricsRow(3, { segment: "champions" }),
      metricsRow(4, { segment: "champions" }),
      metricsRow(5, { segment: "at-risk" }),
      metricsRow(6, { segment: "hibernating" }),
    ]);
    const result = await runDestinationPass(deps, id, "full", "initial");
    expect(result.status).toBe("done");
    expect(result.counts).toMatchObject({ compared: 5, sent: 2, failed: 0, leftOut: 3 });
    expect(lists(key)).toEqual({
      "Tenure: Champions": ["customer-1@example.com"],
      "Tenure: At risk": ["customer-2@example.com"],
      "Tenure: VIP": ["customer-1@example.com"],
    });
    const profile = fake.state.profile("customer-1@example.com", key)!;
    expect(profile.external_id).toBe("1");
    expect(profile.properties).toMatchObject({
      tenure_rfm_segment: "Champions",
      tenure_historic_value: 1250.5,
      tenure_predicted_value_12m: 400,
      tenure_p_alive: 0.9,
      tenure_chance_of_ordering_90d: 0.5,
      tenure_next_order_date: "2025-04-22",
      tenure_behaviours: ["VIP"],
    });
    const run = await testPool().query(`SELECT kind, status, total, compared, sent, "leftOut" FROM "DestinationRun" WHERE id = $1`, [result.runId]);
    expect(run.rows[0]).toMatchObject({ kind: "initial", status: "done", total: 5, compared: 5, sent: 2, leftOut: 3 });

    // A second pass finds nothing to send.
    const again = await runDestinationPass(deps, id, "full", "manual");
    expect(again.counts.sent).toBe(0);
  });

  it("incremental sync: moves between segments, removal from a list, an unsubscribed customer leaves; the outbox drains", async () => {
    const key = "pk_test_moves";
    const { shop, id } = await connectedShop(["champions", "at-risk"], key);
    await insertCustomers(shop, [{ id: 11 }, { id: 12 }]);
    await writeAndMark(shop, [metricsRow(11, { segment: "champions" }), metricsRow(12, { segment: "champions" })]);
    await runDestinationPass(deps, id, "changes");
    expect(lists(key)).toEqual({ "Tenure: Champions": ["customer-11@example.com", "customer-12@example.com"], "Tenure: At risk": [] });
    expect(await outboxOf(id)).toEqual([]);

    await writeAndMark(shop, [metricsRow(11, { segment: "at-risk" })]);
    expect(await outboxOf(id)).toEqual(["11"]);
    await runDestinationPass(deps, id, "changes");
    expect(lists(key)).toEqual({ "Tenure: Champions": ["customer-12@example.com"], "Tenure: At risk": ["customer-11@example.com"] });

    // Out of every chosen segment: out of the lists, and no longer a member.
    await writeAndMark(shop, [metricsRow(11, { segment: "hibernating" })]);
    await runDestinationPass(deps, id, "changes");
    expect(lists(key)["Tenure: At risk"]).toEqual([]);
    const members = await testPool().query(`SELECT "customerId"::text AS id, segments FROM "DestinationMember" WHERE "destinationId" = $1`, [id]);
    expect(members.rows).toEqual([{ id: "12", segments: ["champions"] }]);

    // Unsubscribed in Shopify: leaves the list though still a champion.
    await changeConsent(shop, 12, "UNSUBSCRIBED");
    const left = await runDestinationPass(deps, id, "changes");
    expect(left.counts).toMatchObject({ sent: 1, leftOut: 1 });
    expect(lists(key)["Tenure: Champions"]).toEqual([]);
    expect(await outboxOf(id)).toEqual([]);

    // The merchant asks for everyone: sent again (Tenure never subscribes them).
    await setConsentScope(testPool(), shop, "klaviyo", "all");
    await runDestinationPass(deps, id, "full", "settings");
    expect(lists(key)["Tenure: Champions"]).toEqual(["customer-12@example.com"]);
  });

  it("a segment no longer chosen: its members leave its list", async () => {
    const key = "pk_test_unchosen";
    const { shop, id } = await connectedShop(["champions", "loyal"], key);
    await insertCustomers(shop, [{ id: 21 }, { id: 22 }]);
    await writeAndMark(shop, [metricsRow(21, { segment: "champions" }), metricsRow(22, { segment: "loyal" })]);
    await runDestinationPass(deps, id, "full", "initial");
    await setDestinationSegments(testPool(), shop, "klaviyo", ["loyal"]);
    await runDestinationPass(deps, id, "full", "settings");
    expect(lists(key)).toEqual({ "Tenure: Champions": [], "Tenure: Loyal": ["customer-22@example.com"] });
    const account = await testPool().query(`SELECT account -> 'retiredTargets' AS retired FROM "Destination" WHERE id = $1`, [id]);
    expect(account.rows[0]!.retired).toEqual({});
  });

  it("a revoked key pauses the sync with a notice, keeps the changes, does not loop; reconnecting resumes", async () => {
    const key = "pk_test_revoked";
    const { shop, id } = await connectedShop(["champions"], key);
    await insertCustomers(shop, [{ id: 31 }]);
    fake.inject.revokeKey(key);
    await writeAndMark(shop, [metricsRow(31, { segment: "champions" })]);
    const paused = await runDestinationPass(deps, id, "changes");
    expect(paused.status).toBe("paused");
    expect(await destinationOf(shop, "klaviyo")).toMatchObject({ status: "paused", notice: expect.stringMatching(/Klaviyo refused Tenure's API key/) });
    expect(await outboxOf(id)).toEqual(["31"]);
    const runs = await testPool().query(`SELECT status FROM "DestinationRun" WHERE "destinationId" = $1`, [id]);
    expect(runs.rows).toEqual([{ status: "paused" }]);
    const requests = fake.state.requests.length;
    // Paused: a pass does nothing, asks Klaviyo nothing, and records no run.
    expect((await runDestinationPass(deps, id, "changes")).status).toBe("paused");
    expect(fake.state.requests.length).toBe(requests);

    fake.inject.restoreKey(key);
    expect(await connectDestination(testPool(), shop, "klaviyo", { apiKey: key })).toEqual({ ok: true });
    expect(await destinationOf(shop, "klaviyo")).toMatchObject({ status: "active", notice: null });
    await runDestinationPass(deps, id, "changes");
    expect(lists(key)["Tenure: Champions"]).toEqual(["customer-31@example.com"]);
    expect(await outboxOf(id)).toEqual([]);
  });

  it("5xx beyond the adapter's retries: the run fails, the pass throws for a retry, and nothing is lost", async () => {
    const key = "pk_test_5xx";
    const { shop, id } = await connectedShop(["champions"], key);
    await insertCustomers(shop, [{ id: 41 }]);
    await writeAndMark(shop, [metricsRow(41, { segment: "champions" })]);
    fake.inject.serverErrors(50);
    await expect(runDestinationPass(deps, id, "changes")).rejects.toThrow();
    expect(await outboxOf(id)).toEqual(["41"]);
    const run = await testPool().query(`SELECT status, error FROM "DestinationRun" WHERE "destinationId" = $1`, [id]);
    expect(run.rows[0]).toMatchObject({ status: "failed", error: expect.any(String) });
    fake.inject.serverErrors(0);
    await runDestinationPass(deps, id, "changes");
    expect(lists(key)["Tenure: Champions"]).toEqual(["customer-41@example.com"]);
  });

  it("a profile Klaviyo refuses is recorded with its reason and not retried by the outbox", async () => {
    const key = "pk_test_refused_profile";
    const { shop, id } = await connectedShop(["champions"], key);
    await insertCustomers(shop, [{ id: 51, email: "invalid-51@example.com" }, { id: 52 }]);
    await writeAndMark(shop, [metricsRow(51, { segment: "champions" }), metricsRow(52, { segment: "champions" })]);
    const result = await runDestinationPass(deps, id, "changes");
    expect(result.counts).toMatchObject({ sent: 1, failed: 1 });
    const failures = await testPool().query(`SELECT "customerId"::text AS id, email, reason FROM "DestinationFailure" WHERE "destinationId" = $1`, [id]);
    expect(failures.rows).toEqual([{ id: "51", email: "invalid-51@example.com", reason: expect.any(String) }]);
    expect(failures.rows[0]!.reason.length).toBeGreaterThan(0);
    expect(await outboxOf(id)).toEqual([]);
  });

  it("customers/redact of a synced customer requests their deletion in Klaviyo", async () => {
    const key = "pk_test_redact";
    const { shop, id } = await connectedShop(["champions"], key);
    await insertCustomers(shop, [{ id: 7390571233329, email: "maya.okafor@example.com" }]);
    await writeAndMark(shop, [metricsRow(7390571233329, { segment: "champions" })]);
    await runDestinationPass(deps, id, "changes");
    expect(lists(key)["Tenure: Champions"]).toEqual(["maya.okafor@example.com"]);

    await deliver(shop, "customers/redact", JSON.parse(fixtureTextFor("customers-redact", shop)));
    const erasures = await testPool().query(`SELECT email FROM "DestinationErasure" WHERE "destinationId" = $1`, [id]);
    expect(erasures.rows).toEqual([{ email: "maya.okafor@example.com" }]);
    expect(await testPool().query(`SELECT 1 FROM "DestinationMember" WHERE "destinationId" = $1`, [id])).toMatchObject({ rowCount: 0 });

    const erased = await runErasurePass(deps, id);
    expect(erased).toEqual({ status: "done", erased: 1 });
    expect(fake.state.erased(key).some((identifier) => identifier === "maya.okafor@example.com" || fake.state.profile("maya.okafor@example.com", key)?.id === identifier)).toBe(true);
    expect(await testPool().query(`SELECT 1 FROM "DestinationErasure" WHERE "destinationId" = $1`, [id])).toMatchObject({ rowCount: 0 });
  });

  it("app/uninstalled stops the syncs and deletes the keys", async () => {
    const { shop, id } = await connectedShop(["champions"], "pk_test_uninstall");
    await deliver(shop, "app/uninstalled", JSON.parse(fixtureTextFor("app-uninstalled", shop)));
    expect(await destinationOf(shop, "klaviyo")).toBeUndefined();
    expect((await runDestinationPass(deps, id, "changes")).status).toBe("gone");
  });
});

describe("comparing one customer", () => {
  const shopView = { currency: "EUR", labels: {}, horizonDays: 365 };
  const state = (email: string, memberEmail: string | null): CustomerSyncState => ({
    customerId: "5",
    email,
    firstName: "Sam",
    lastName: "Buyer",
    phone: null,
    emailConsentState: "SUBSCRIBED",
    scored: true,
    sendable: true,
    segment: "champions",
    behaviours: [],
    netSpentMinor: "12345",
    predictedClvMinor: "5000",
    expectedPurchases365d: 1.5,
    expectedOrderValueMinor: "3000",
    chanceOfOrder90d: 0.123456,
    pAlive: 0.9,
    expectedNextOrderDay: "2027-01-02",
    member: memberEmail === null ? null : { email: memberEmail, remoteProfileId: "p1", segments: ["champions"], syncedHash: "old" },
  });

  it("a changed address carries the address the destination holds the customer under", () => {
    const moved = compareCustomer(state("new@example.com", "old@example.com"), new Set(["champions"]), shopView);
    expect(moved.change).toMatchObject({ previousEmail: "old@example.com", profile: { email: "new@example.com" }, keep: ["champions"] });
    // The same address (whatever its case), or a customer never sent: no previous address.
    expect(compareCustomer(state("Same@example.com", "same@example.com"), new Set(["champions"]), shopView).change).not.toHaveProperty("previousEmail");
    expect(compareCustomer(state("first@example.com", null), new Set(["champions"]), shopView).change).not.toHaveProperty("previousEmail");
  });

  it("hashes the adapter's own text when it offers one, and sends no member again only because their row keeps the older hash", () => {
    const chosen = new Set(["champions"]);
    const first = compareCustomer(state("a@example.com", null), chosen, shopView, profileText);
    expect(first.change!.profileText).toBe(profileText(first.change!.profile));
    expect(first.hash).toBe(sentTextHash(first.change!.profileText!));
    expect(first.hash.startsWith(SENT_TEXT_HASH_PREFIX)).toBe(true);
    // Members synced before: their row's syncHash of the same profile and lists means unchanged.
    const held = (syncedHash: string): CustomerSyncState => ({ ...state("a@example.com", "a@example.com"), member: { email: "a@example.com", remoteProfileId: "p1", segments: ["champions"], syncedHash } });
    expect(compareCustomer(held(syncHash(first.change!.profile, ["champions"])), chosen, shopView, profileText).change).toBeNull();
    expect(compareCustomer(held(first.hash), chosen, shopView, profileText).change).toBeNull();
    // A figure that changed is sent, whichever hash the row keeps; so is a list joined (the
    // row's segments are compared beside the hash, which does not cover them).
    const changed = (syncedHash: string): CustomerSyncState => ({ ...held(syncedHash), pAlive: 0.5 });
    expect(compareCustomer(changed(syncHash(first.change!.profile, ["champions"])), chosen, shopView, profileText).change).not.toBeNull();
    expect(compareCustomer(changed(first.hash), chosen, shopView, profileText).change).not.toBeNull();
    const inTwo = held(first.hash);
    const leaves = compareCustomer({ ...inTwo, member: { ...inTwo.member!, segments: ["champions", "at_risk"] } }, chosen, shopView, profileText).change;
    expect(leaves).toMatchObject({ add: [], remove: ["at_risk"], keep: ["champions"] });
    // Without the adapter's text (Mailchimp), the hash is syncHash's, as before.
    expect(compareCustomer(state("a@example.com", null), chosen, shopView).hash).toBe(syncHash(first.change!.profile, ["champions"]));
  });

  it("sends the one definition of Tenure's properties (display/profile-properties.ts)", () => {
    const compared = compareCustomer(state("a@example.com", null), new Set(["champions"]), shopView);
    expect(compared.change!.profile.properties).toMatchObject({ tenure_rfm_segment: "Champions", tenure_historic_value: 123.45, tenure_predicted_value_12m: 50, tenure_chance_of_ordering_90d: 0.1235 });
  });
});
