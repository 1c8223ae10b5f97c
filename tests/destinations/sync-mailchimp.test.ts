import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { chooseAudience, connectDestination, listAudiences, setConsentScope, setDestinationSegments } from "~/destinations/connections.server";
import { type SyncDeps, runDestinationPass, runErasurePass } from "~/destinations/sync.server";
import { FAKE_AUDIENCE_ID, FAKE_MAILCHIMP_KEY, type FakeMailchimp, startFakeMailchimp } from "../../demo/fakes/mailchimp";
import { installedShop, testPool } from "../support/db";
import { destinationOf, fakeAdapters, insertCustomers, outboxOf, writeAndMark } from "../support/destinations";
import { metricsRow } from "../support/customer-metrics-rows";
import { deliver, dropQueues } from "../support/ingested-shops";
import { fixtureTextFor } from "../support/webhook-fixtures";

// The sync engine with Mailchimp's fake at the HTTP boundary: the audience chosen first,
// segments as tags, members' status from consent, redaction as a permanent delete.

let fake: FakeMailchimp;
let deps: SyncDeps;

beforeAll(async () => {
  fake = await startFakeMailchimp({ latencyMs: 0 });
  process.env.MAILCHIMP_API_URL = fake.url;
  process.env.TENURE_QUEUE_PREFIX = `tenure-test-destinations-mailchimp-${process.pid}-${Date.now().toString(36)}`;
  deps = { pool: testPool(), adapterFor: fakeAdapters({ mailchimp: fake.url }) };
});
afterEach(async () => dropQueues());
afterAll(async () => {
  await fake.close();
  delete process.env.MAILCHIMP_API_URL;
});

describe("a Mailchimp destination", () => {
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

    expect(await listAudiences(testPool(), shop)).toContainEqual({ id: FAKE_AUDIENCE_ID, name: "Newsletter", memberCount: expect.any(Number) });
    await expect(chooseAudience(testPool(), shop, "nope")).rejects.toThrow(/no audience "nope"/);
    await chooseAudience(testPool(), shop, FAKE_AUDIENCE_ID);
    const initial = await runDestinationPass(deps, id, "full", "initial");
    expect(initial.counts).toMatchObject({ sent: 2, leftOut: 1, failed: 0 });
    expect(fake.state.membersTagged(FAKE_AUDIENCE_ID, "Tenure: Champions")).toEqual(["maya.okafor@example.com"]);
    expect(fake.state.membersTagged(FAKE_AUDIENCE_ID, "Tenure: At risk")).toEqual(["customer-2@example.com"]);
    expect(fake.state.member(FAKE_AUDIENCE_ID, "customer-2@example.com")?.status).toBe("subscribed");
    await runDestinationPass(deps, id, "changes");
    expect(await outboxOf(id)).toEqual([]);

    await writeAndMark(shop, [metricsRow(2, { segment: "champions" })]);
    await runDestinationPass(deps, id, "changes");
    expect(fake.state.membersTagged(FAKE_AUDIENCE_ID, "Tenure: Champions")).toEqual(["customer-2@example.com", "maya.okafor@example.com"]);
    expect(fake.state.membersTagged(FAKE_AUDIENCE_ID, "Tenure: At risk")).toEqual([]);

    // Everyone, for analysis: the customer never asked becomes a transactional member, never subscribed.
    await setConsentScope(testPool(), shop, "mailchimp", "all");
    await runDestinationPass(deps, id, "full", "settings");
    expect(fake.state.member(FAKE_AUDIENCE_ID, "customer-3@example.com")?.status).toBe("transactional");

    await deliver(shop, "customers/redact", JSON.parse(fixtureTextFor("customers-redact", shop)));
    expect(await runErasurePass(deps, id)).toEqual({ status: "done", erased: 1 });
    expect(fake.state.deletedPermanently).toContain("maya.okafor@example.com");
    expect(fake.state.member(FAKE_AUDIENCE_ID, "maya.okafor@example.com")).toBeUndefined();
  });
});
