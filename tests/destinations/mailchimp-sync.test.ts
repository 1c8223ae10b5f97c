import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { chooseAudience, connectDestination, listAudiences, setConsentScope, setDestinationSegments } from "~/destinations/connections.server";
import { tryLockDestination, unlockDestination } from "~/data/destinations.server";
import { type SyncDeps, runDestinationPass, runErasurePass } from "~/destinations/sync.server";
import { FAKE_AUDIENCE_ID, FAKE_MAILCHIMP_KEY, type FakeMailchimp, startFakeMailchimp, subscriberHash } from "../../demo/fakes/mailchimp";
import { installedShop, testPool } from "../support/db";
import { changeConsent, destinationOf, fakeAdapters, insertCustomers, outboxOf, writeAndMark } from "../support/destinations";
import { metricsRow } from "../support/customer-metrics-rows";
import { deliver, dropQueues } from "../support/ingested-shops";
import { fixtureTextFor } from "../support/webhook-fixtures";

// The sync engine against Mailchimp's fake at the HTTP boundary, through the real adapter:
// what the audience holds (members, statuses, tags, merge fields) after each pass, from
// connecting (the audience chosen first) to a redaction's permanent delete.

let fake: FakeMailchimp;
let deps: SyncDeps;

beforeAll(async () => {
  fake = await startFakeMailchimp({ audiences: [{ id: FAKE_AUDIENCE_ID, name: "Newsletter" }] });
  process.env.MAILCHIMP_API_URL = fake.url;
  process.env.TENURE_QUEUE_PREFIX = `tenure-test-mailchimp-${process.pid}-${Date.now().toString(36)}`;
  deps = { pool: testPool(), adapterFor: fakeAdapters({ mailchimp: fake.url }) };
});
afterEach(async () => dropQueues());
afterAll(async () => {
  await fake.close();
  delete process.env.MAILCHIMP_API_URL;
});

/** A shop connected to Mailchimp, its audience chosen, syncing these segments. Each shop gets an audience of its own. */
async function connectedShop(segments: string[]): Promise<{ shop: string; id: string; audienceId: string }> {
  const shop = await installedShop("mc");
  const audienceId = `aud${fake.state.audiences.size}`.padEnd(10, "0");
  fake.addAudience(audienceId, `Audience of ${shop}`);
  expect(await connectDestination(testPool(), shop, "mailchimp", { apiKey: FAKE_MAILCHIMP_KEY })).toEqual({ ok: true });
  expect((await listAudiences(testPool(), shop)).map((audience) => audience.id)).toContain(audienceId);
  await chooseAudience(testPool(), shop, audienceId);
  await setDestinationSegments(testPool(), shop, "mailchimp", segments);
  return { shop, id: (await destinationOf(shop, "mailchimp"))!.id, audienceId };
}

const tagged = (audienceId: string, tag: string) => fake.state.membersTagged(audienceId, tag);

/** Someone already in the audience before Tenure connected, with the status Mailchimp holds. */
function seedMember(audienceId: string, email: string, status: string): void {
  const hash = subscriberHash(email);
  fake.state.audiences.get(audienceId)!.members.set(hash, { id: hash, email, status, mergeFields: { FNAME: "", LNAME: "" }, lastChanged: "2026-01-01T00:00:00+00:00" });
}

describe("a Mailchimp destination", () => {
  it("never stores a key without its data centre, or one Mailchimp refuses", async () => {
    const shop = await installedShop("mc");
    const cut = await connectDestination(testPool(), shop, "mailchimp", { apiKey: "0123456789abcdef0123456789abcdef" });
    expect(cut).toEqual({ ok: false, reason: expect.stringMatching(/data centre/) });
    const unknown = await connectDestination(testPool(), shop, "mailchimp", { apiKey: "ffffffffffffffffffffffffffffffff-us6" });
    expect(unknown).toEqual({ ok: false, reason: expect.stringMatching(/^Mailchimp refused the key/) });
    expect(await destinationOf(shop, "mailchimp")).toBeUndefined();
  });

  it("initial sync: subscribed customers become subscribed members tagged with their segments, with Tenure's merge fields", async () => {
    const { shop, id, audienceId } = await connectedShop(["champions", "at-risk", "vip"]);
    await insertCustomers(shop, [{ id: 1 }, { id: 2 }, { id: 3, consent: "UNSUBSCRIBED" }, { id: 4, email: null }, { id: 5, consent: null }]);
    await writeAndMark(shop, [
      metricsRow(1, { segment: "champions", behaviours: ["vip"], netSpent: 125_050, predictedClv: 40_000, pAlive: 0.9, chanceOfOrder90d: 0.5, expectedNextOrderDay: 20_200 }),
      metricsRow(2, { segment: "at-risk" }),
      metricsRow(3, { segment: "champions" }),
      metricsRow(4, { segment: "champions" }),
      metricsRow(5, { segment: "at-risk" }),
    ]);
    const result = await runDestinationPass(deps, id, "full", "initial");
    expect(result).toMatchObject({ status: "done", counts: { sent: 2, failed: 0, leftOut: 3 } });
    expect(tagged(audienceId, "Tenure: Champions")).toEqual(["customer-1@example.com"]);
    expect(tagged(audienceId, "Tenure: At risk")).toEqual(["customer-2@example.com"]);
    expect(tagged(audienceId, "Tenure: VIP")).toEqual(["customer-1@example.com"]);
    expect(fake.state.audiences.get(audienceId)!.members.size).toBe(2); // nobody unsubscribed or unasked was added
    const member = fake.state.member(audienceId, "customer-1@example.com")!;
    expect(member.status).toBe("subscribed");
    expect(member.mergeFields).toMatchObject({ FNAME: "Sam", LNAME: "Buyer", TNR_SEG: "Champions", TNR_PV: 400, TNR_CHANCE: 50, TNR_NEXT: "2025-04-22" });

    const again = await runDestinationPass(deps, id, "full", "manual");
    expect(again.counts.sent).toBe(0);
  });

  it("everyone, when the merchant asks: the not subscribed join as transactional, never subscribed", async () => {
    const { shop, id, audienceId } = await connectedShop(["champions"]);
    await insertCustomers(shop, [{ id: 11 }, { id: 12, consent: "NOT_SUBSCRIBED" }, { id: 13, consent: null }]);
    await writeAndMark(shop, [11, 12, 13].map((customer) => metricsRow(customer, { segment: "champions" })));
    await setConsentScope(testPool(), shop, "mailchimp", "all");
    await runDestinationPass(deps, id, "full", "settings");
    const status = (customer: number) => fake.state.member(audienceId, `customer-${customer}@example.com`)!.status;
    expect([status(11), status(12), status(13)]).toEqual(["subscribed", "transactional", "transactional"]);
    expect(tagged(audienceId, "Tenure: Champions")).toHaveLength(3);
  });

  it("incremental sync: tags follow moves; unsubscribing in Shopify untags without touching the member's status", async () => {
    const { shop, id, audienceId } = await connectedShop(["champions", "at-risk"]);
    await insertCustomers(shop, [{ id: 21 }, { id: 22 }]);
    await writeAndMark(shop, [metricsRow(21, { segment: "champions" }), metricsRow(22, { segment: "champions" })]);
    await runDestinationPass(deps, id, "changes");
    expect(tagged(audienceId, "Tenure: Champions")).toEqual(["customer-21@example.com", "customer-22@example.com"]);

    await writeAndMark(shop, [metricsRow(21, { segment: "at-risk" })]);
    await runDestinationPass(deps, id, "changes");
    expect(tagged(audienceId, "Tenure: Champions")).toEqual(["customer-22@example.com"]);
    expect(tagged(audienceId, "Tenure: At risk")).toEqual(["customer-21@example.com"]);
    expect(await outboxOf(id)).toEqual([]);

    await changeConsent(shop, 22, "UNSUBSCRIBED");
    await runDestinationPass(deps, id, "changes");
    expect(tagged(audienceId, "Tenure: Champions")).toEqual([]);
    // Mailchimp keeps its own record of the subscription: Tenure only took its tag away.
    expect(fake.state.member(audienceId, "customer-22@example.com")!.status).toBe("subscribed");
  });

  it("consent given in Shopify reaches Mailchimp: a transactional member who subscribes in Shopify becomes subscribed", async () => {
    const { shop, id, audienceId } = await connectedShop(["champions"]);
    await setConsentScope(testPool(), shop, "mailchimp", "all");
    await insertCustomers(shop, [{ id: 81, consent: "NOT_SUBSCRIBED" }]);
    await writeAndMark(shop, [metricsRow(81, { segment: "champions" })]);
    await runDestinationPass(deps, id, "changes");
    expect(fake.state.member(audienceId, "customer-81@example.com")!.status).toBe("transactional");

    await changeConsent(shop, 81, "SUBSCRIBED");
    expect((await runDestinationPass(deps, id, "changes")).counts).toMatchObject({ sent: 1, failed: 0 });
    expect(fake.state.member(audienceId, "customer-81@example.com")!.status).toBe("subscribed");
    expect(tagged(audienceId, "Tenure: Champions")).toEqual(["customer-81@example.com"]);
  });

  it("an unsubscribe or clean in Mailchimp always wins, and those members still get Tenure's merge fields and tags", async () => {
    const { shop, id, audienceId } = await connectedShop(["champions"]);
    seedMember(audienceId, "customer-91@example.com", "unsubscribed");
    seedMember(audienceId, "customer-92@example.com", "cleaned");
    await insertCustomers(shop, [{ id: 91 }, { id: 92 }]); // both subscribed in Shopify
    await writeAndMark(shop, [metricsRow(91, { segment: "champions" }), metricsRow(92, { segment: "champions" })]);
    expect((await runDestinationPass(deps, id, "full", "initial")).counts).toMatchObject({ sent: 2, failed: 0 });
    for (const [email, status] of [
      ["customer-91@example.com", "unsubscribed"],
      ["customer-92@example.com", "cleaned"],
    ]) {
      const member = fake.state.member(audienceId, email)!;
      expect(member.status).toBe(status);
      expect(member.mergeFields).toMatchObject({ FNAME: "Sam", LNAME: "Buyer", TNR_SEG: "Champions" });
    }
    expect(tagged(audienceId, "Tenure: Champions")).toEqual(["customer-91@example.com", "customer-92@example.com"]);
  });

  it("a full pass over an audience that already holds the customers sends them 500 per batch request, not one PATCH each", async () => {
    const { shop, id, audienceId } = await connectedShop(["champions"]);
    const customers = Array.from({ length: 1_200 }, (_, i) => 100_000 + i);
    for (const customer of customers) seedMember(audienceId, `customer-${customer}@example.com`, customer % 3 === 0 ? "transactional" : "subscribed");
    // One statement (insertCustomers' rows: subscribed, named Sam Buyer) rather than 1,200.
    await testPool().query(
      `INSERT INTO "Customer" (shop, id, email, "firstName", "lastName", "shopifyUpdatedAt", "emailConsentState")
       SELECT $1, id, 'customer-' || id || '@example.com', 'Sam', 'Buyer', now(), 'SUBSCRIBED' FROM unnest($2::bigint[]) AS id`,
      [shop, customers],
    );
    await writeAndMark(shop, customers.map((customer) => metricsRow(customer, { segment: "champions" })));
    const before = fake.state.requests.length;
    expect((await runDestinationPass(deps, id, "full", "initial")).counts).toMatchObject({ sent: 1_200, failed: 0 });
    const pass = fake.state.requests.slice(before);
    const batches = pass.filter((r) => r.method === "POST" && r.path === `/3.0/lists/${audienceId}`);
    expect(batches.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(pass.filter((r) => r.method === "PATCH")).toEqual([]);
    const members = [...fake.state.audiences.get(audienceId)!.members.values()];
    expect(members.every((member) => member.status === "subscribed" && member.mergeFields.TNR_SEG === "Champions")).toBe(true);
    expect(tagged(audienceId, "Tenure: Champions")).toHaveLength(1_200);
  });

  it("a member Mailchimp refuses is recorded with Mailchimp's reason", async () => {
    const { shop, id } = await connectedShop(["champions"]);
    await insertCustomers(shop, [{ id: 31, email: "invalid-31@example.com" }, { id: 32 }]);
    await writeAndMark(shop, [metricsRow(31, { segment: "champions" }), metricsRow(32, { segment: "champions" })]);
    const result = await runDestinationPass(deps, id, "changes");
    expect(result.counts).toMatchObject({ sent: 1, failed: 1 });
    const failures = await testPool().query(`SELECT "customerId"::text AS id, reason FROM "DestinationFailure" WHERE "destinationId" = $1`, [id]);
    expect(failures.rows).toEqual([{ id: "31", reason: "invalid-31@example.com looks fake or invalid, please enter a real email address." }]);
  });

  it("a revoked key pauses the sync with a notice and keeps the changes", async () => {
    const key = "fedcba9876543210fedcba9876543210-us21";
    fake.addApiKey(key);
    const shop = await installedShop("mc");
    expect(await connectDestination(testPool(), shop, "mailchimp", { apiKey: key })).toEqual({ ok: true });
    await chooseAudience(testPool(), shop, FAKE_AUDIENCE_ID);
    await setDestinationSegments(testPool(), shop, "mailchimp", ["champions"]);
    const id = (await destinationOf(shop, "mailchimp"))!.id;
    await insertCustomers(shop, [{ id: 41 }]);
    await writeAndMark(shop, [metricsRow(41, { segment: "champions" })]);
    fake.inject.revokeKey(key);
    expect((await runDestinationPass(deps, id, "changes")).status).toBe("paused");
    expect(await destinationOf(shop, "mailchimp")).toMatchObject({ status: "paused", notice: expect.stringMatching(/Mailchimp refused/) });
    expect(await outboxOf(id)).toEqual(["41"]);
  });

  it("customers/redact of a synced customer deletes the member permanently", async () => {
    const { shop, id, audienceId } = await connectedShop(["champions"]);
    await insertCustomers(shop, [{ id: 7390571233329, email: "maya.okafor@example.com" }]);
    await writeAndMark(shop, [metricsRow(7390571233329, { segment: "champions" })]);
    await runDestinationPass(deps, id, "changes");
    expect(tagged(audienceId, "Tenure: Champions")).toEqual(["maya.okafor@example.com"]);

    await deliver(shop, "customers/redact", JSON.parse(fixtureTextFor("customers-redact", shop)));
    expect(await runErasurePass(deps, id)).toEqual({ status: "done", erased: 1 });
    expect(fake.state.member(audienceId, "maya.okafor@example.com")).toBeUndefined();
    expect(fake.state.deletedPermanently).toContain("maya.okafor@example.com");
  });
});

describe("when the Mailchimp audience changes", () => {
  const erasuresOf = async (destinationId: string) =>
    (await testPool().query(`SELECT count(*)::int AS n FROM "DestinationErasure" WHERE "destinationId" = $1`, [destinationId])).rows[0].n as number;

  it("an audience deleted in Mailchimp pauses the sync in Mailchimp's words; choosing another audience resumes it", async () => {
    const { shop, id, audienceId } = await connectedShop(["champions"]);
    await insertCustomers(shop, [{ id: 51 }]);
    await writeAndMark(shop, [metricsRow(51, { segment: "champions" })]);
    await runDestinationPass(deps, id, "changes");
    expect(tagged(audienceId, "Tenure: Champions")).toEqual(["customer-51@example.com"]);

    fake.state.audiences.delete(audienceId);
    await writeAndMark(shop, [metricsRow(51, { segment: "champions", netSpent: 99_000 })]);
    expect((await runDestinationPass(deps, id, "changes")).status).toBe("paused");
    const paused = (await destinationOf(shop, "mailchimp"))!;
    // The adapter's sentence as it is: nothing about the key, which is fine.
    expect(paused.notice).toMatch(new RegExp(`^The Mailchimp audience ${audienceId} no longer exists \\(.*\\): choose another audience\\.$`));
    expect(await outboxOf(id)).toEqual(["51"]);

    const replacement = `${audienceId.slice(0, 8)}r2`;
    fake.addAudience(replacement, "Replacement");
    await chooseAudience(testPool(), shop, replacement);
    expect(await destinationOf(shop, "mailchimp")).toMatchObject({ status: "active", notice: null });
    expect((await runDestinationPass(deps, id, "full", "initial")).status).toBe("done");
    expect(tagged(replacement, "Tenure: Champions")).toEqual(["customer-51@example.com"]);
  });

  it("a refused key keeps its own notice and choosing an audience does not resume it", async () => {
    const key = "0a1b2c3d4e5f60718293a4b5c6d7e8f9-us21";
    fake.addApiKey(key);
    const shop = await installedShop("mc");
    const first = `k${fake.state.audiences.size}`.padEnd(10, "0");
    fake.addAudience(first, "First");
    expect(await connectDestination(testPool(), shop, "mailchimp", { apiKey: key })).toEqual({ ok: true });
    await chooseAudience(testPool(), shop, first);
    await setDestinationSegments(testPool(), shop, "mailchimp", ["champions"]);
    const id = (await destinationOf(shop, "mailchimp"))!.id;
    await insertCustomers(shop, [{ id: 61 }]);
    await writeAndMark(shop, [metricsRow(61, { segment: "champions" })]);
    fake.inject.revokeKey(key);
    expect((await runDestinationPass(deps, id, "changes")).status).toBe("paused");
    expect((await destinationOf(shop, "mailchimp"))!.notice).toMatch(/^Mailchimp refused Tenure's API key \(.*\)\. Sync is paused and no change is lost: paste a valid key to resume\.$/);
    await expect(chooseAudience(testPool(), shop, first)).rejects.toThrow();
    expect(await destinationOf(shop, "mailchimp")).toMatchObject({ status: "paused" });
  });

  it("a redacted customer waiting to be deleted is deleted from the audience they were in before the audience changes", async () => {
    const { shop, id, audienceId } = await connectedShop(["champions"]);
    await insertCustomers(shop, [{ id: 7390571233329, email: "maya.okafor@example.com" }]);
    await writeAndMark(shop, [metricsRow(7390571233329, { segment: "champions" })]);
    await runDestinationPass(deps, id, "changes");
    await deliver(shop, "customers/redact", JSON.parse(fixtureTextFor("customers-redact", shop)));
    expect(await erasuresOf(id)).toBe(1);

    // A pass holds the destination: the erasure cannot run now, so the audience stays as it was.
    const next = `${audienceId.slice(0, 8)}n2`;
    fake.addAudience(next, "Next");
    const holder = await testPool().connect();
    try {
      expect(await tryLockDestination(holder, id)).toBe(true);
      await expect(chooseAudience(testPool(), shop, next)).rejects.toThrow(/^A sync is running: choose the audience again in a minute \(Tenure must first delete redacted customers from the audience/);
    } finally {
      await unlockDestination(holder, id);
      holder.release();
    }
    expect(await erasuresOf(id)).toBe(1);
    expect((await testPool().query(`SELECT account->>'audienceId' AS a FROM "Destination" WHERE id = $1`, [id])).rows[0].a).toBe(audienceId);
    expect(fake.state.member(audienceId, "maya.okafor@example.com")).toBeDefined();

    await chooseAudience(testPool(), shop, next);
    expect(fake.state.member(audienceId, "maya.okafor@example.com")).toBeUndefined();
    expect(fake.state.deletedPermanently).toContain("maya.okafor@example.com");
    expect(await erasuresOf(id)).toBe(0);
  });

  it("waits for its audience, then tags subscribed customers by segment, moves tags, and deletes a redacted member", async () => {
    const shop = await installedShop("dest-mc");
    expect(await connectDestination(testPool(), shop, "mailchimp", { apiKey: FAKE_MAILCHIMP_KEY })).toEqual({ ok: true });
    const id = (await destinationOf(shop, "mailchimp"))!.id;
    await setDestinationSegments(testPool(), shop, "mailchimp", ["champions", "at-risk"]);
    await insertCustomers(shop, [{ id: 7390571233329, email: "maya.okafor@example.com" }, { id: 2 }, { id: 3, consent: "NOT_SUBSCRIBED" }]);
    await writeAndMark(shop, [
      metricsRow(7390571233329, { segment: "champions" }),
      metricsRow(2, { segment: "at-risk" }),
      metricsRow(3, { segment: "champions" }),
    ]);

    // No audience yet: nothing is sent and the changes wait.
    expect((await runDestinationPass(deps, id, "changes")).status).toBe("waiting");
    expect(await outboxOf(id)).toHaveLength(3);

    // An audience of its own (the file's other cases share the fake): listed beside the key's first one.
    const audienceId = "audwaits01";
    fake.addAudience(audienceId, `Audience of ${shop}`);
    const audiences = await listAudiences(testPool(), shop);
    expect(audiences).toContainEqual({ id: FAKE_AUDIENCE_ID, name: "Newsletter", memberCount: expect.any(Number) });
    expect(audiences).toContainEqual({ id: audienceId, name: `Audience of ${shop}`, memberCount: 0 });
    await expect(chooseAudience(testPool(), shop, "nope")).rejects.toThrow(/no audience "nope"/);
    await chooseAudience(testPool(), shop, audienceId);
    const initial = await runDestinationPass(deps, id, "full", "initial");
    expect(initial.counts).toMatchObject({ sent: 2, leftOut: 1, failed: 0 });
    expect(tagged(audienceId, "Tenure: Champions")).toEqual(["maya.okafor@example.com"]);
    expect(tagged(audienceId, "Tenure: At risk")).toEqual(["customer-2@example.com"]);
    expect(fake.state.member(audienceId, "customer-2@example.com")?.status).toBe("subscribed");
    await runDestinationPass(deps, id, "changes");
    expect(await outboxOf(id)).toEqual([]);

    await writeAndMark(shop, [metricsRow(2, { segment: "champions" })]);
    await runDestinationPass(deps, id, "changes");
    expect(tagged(audienceId, "Tenure: Champions")).toEqual(["customer-2@example.com", "maya.okafor@example.com"]);
    expect(tagged(audienceId, "Tenure: At risk")).toEqual([]);

    // Everyone, for analysis: the customer never asked becomes a transactional member, never subscribed.
    await setConsentScope(testPool(), shop, "mailchimp", "all");
    await runDestinationPass(deps, id, "full", "settings");
    expect(fake.state.member(audienceId, "customer-3@example.com")?.status).toBe("transactional");

    await deliver(shop, "customers/redact", JSON.parse(fixtureTextFor("customers-redact", shop)));
    expect(await runErasurePass(deps, id)).toEqual({ status: "done", erased: 1 });
    expect(fake.state.deletedPermanently).toContain("maya.okafor@example.com");
    expect(fake.state.member(audienceId, "maya.okafor@example.com")).toBeUndefined();
  });
});
