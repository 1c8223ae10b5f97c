import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  DestinationAuthError,
  DestinationRetryableError,
  type DestinationProfile,
  type MemberChange,
  type TenureProfileProperties,
} from "~/destinations/adapter";
import { KLAVIYO_REVISION, klaviyoAdapter, verifyKlaviyoKey, type KlaviyoOptions } from "~/destinations/klaviyo.server";
import { FAKE_KLAVIYO_ALL_SCOPES, startFakeKlaviyo, type FakeKlaviyo } from "../../demo/fakes/klaviyo";

// The Klaviyo adapter against the fake Klaviyo (demo/fakes/klaviyo.ts) at the HTTP
// boundary: real requests, real JSON:API documents, the job lifecycle and rate limits.

const KEY = "pk_test_0123456789abcdef";
let fake: FakeKlaviyo;

// Short polls and backoff keep the file quick; the behaviour is the production one.
const fast = (): KlaviyoOptions => ({ baseUrl: fake.url, pollIntervalMs: 20, maxPollIntervalMs: 100, baseBackoffMs: 20, timeoutMs: 2_000 });

beforeEach(async () => {
  fake = await startFakeKlaviyo();
});
afterEach(async () => {
  await fake.close();
});

const figures = (overrides: Partial<TenureProfileProperties> = {}): TenureProfileProperties => ({
  tenure_rfm_segment: "Champions",
  tenure_behaviours: ["Repeat buyer"],
  tenure_predicted_value_12m: 120.5,
  tenure_historic_value: 310.25,
  tenure_chance_of_ordering_90d: 0.42,
  tenure_p_alive: 0.91,
  tenure_next_order_date: "2027-01-15",
  ...overrides,
});

function person(i: number, overrides: Partial<DestinationProfile> = {}): DestinationProfile {
  return {
    customerId: String(1000 + i),
    email: `customer${i}@example.com`,
    firstName: `First${i}`,
    lastName: `Last${i}`,
    phone: null,
    emailConsentState: "SUBSCRIBED",
    properties: figures(),
    ...overrides,
  };
}

function change(profile: DestinationProfile, parts: Partial<Omit<MemberChange, "profile">> = {}): MemberChange {
  return { profile, remoteProfileId: null, add: [], remove: [], keep: [], ...parts };
}

/** A profile created outside Tenure (a Klaviyo sign-up form): an import job sent by hand, awaited to its end. */
async function importByHand(attributes: Record<string, unknown>): Promise<void> {
  const headers = { Authorization: `Klaviyo-API-Key ${KEY}`, revision: KLAVIYO_REVISION, "content-type": "application/vnd.api+json" };
  const answer = await fetch(`${fake.url}/api/profile-bulk-import-jobs`, {
    method: "POST",
    headers,
    body: JSON.stringify({ data: { type: "profile-bulk-import-job", attributes: { profiles: { data: [{ type: "profile", attributes }] } } } }),
  });
  const id = ((await answer.json()) as { data: { id: string } }).data.id;
  // Watched in the fake's state rather than polled: status reads share the account's 10 a second with the adapter.
  while (fake.state.jobs().find((job) => job.id === id)?.status !== "complete") await new Promise((resolve) => setTimeout(resolve, 10));
}

async function setUp(segments: Record<string, string> = { champions: "Tenure: Champions" }) {
  const adapter = klaviyoAdapter(KEY, {}, fast());
  const targets = await adapter.ensureTargets(Object.entries(segments).map(([segmentKey, name]) => ({ segmentKey, name, remoteId: null })));
  return { adapter, targets };
}

describe("verifyKlaviyoKey", () => {
  it("accepts a key with every scope and reads the account", async () => {
    const result = await verifyKlaviyoKey(KEY, { baseUrl: fake.url });
    expect(result).toEqual({ ok: true, account: { accountId: `acct_${KEY}`, name: "Tenure Demo Store", testAccount: false } });
    // The write probes created nothing.
    expect(fake.state.account()?.lists.size).toBe(0);
    expect(fake.state.jobs()).toHaveLength(0);
    expect(fake.state.erased()).toEqual([]);
  });

  it("names the missing scopes in the merchant's words", async () => {
    await fake.close();
    const scopes = FAKE_KLAVIYO_ALL_SCOPES.filter((scope) => scope !== "data-privacy:write" && scope !== "profiles:write");
    fake = await startFakeKlaviyo({ apiKeys: { [KEY]: { scopes } } });
    const result = await verifyKlaviyoKey(KEY, { baseUrl: fake.url });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.missingScopes).toEqual(["profiles:write", "data-privacy:write"]);
    expect(result.reason).toContain("Profiles: Full Access, Data Privacy: Full Access");
  });

  it("still connects when the key may not read the account (accounts:read is optional)", async () => {
    await fake.close();
    fake = await startFakeKlaviyo({ apiKeys: { [KEY]: { scopes: FAKE_KLAVIYO_ALL_SCOPES.filter((scope) => scope !== "accounts:read") } } });
    expect(await verifyKlaviyoKey(KEY, { baseUrl: fake.url })).toEqual({ ok: true, account: {} });
  });

  it("refuses a key Klaviyo does not know, and one that is not a private key without calling", async () => {
    await fake.close();
    fake = await startFakeKlaviyo({ apiKeys: { pk_other: {} } });
    const unknown = await verifyKlaviyoKey(KEY, { baseUrl: fake.url });
    expect(unknown).toMatchObject({ ok: false });
    expect(unknown.ok ? "" : unknown.reason).toContain("Klaviyo did not accept this key");

    const before = fake.state.requests.length;
    const publicKey = await verifyKlaviyoKey("AbC123", { baseUrl: fake.url });
    expect(publicKey.ok ? "" : publicKey.reason).toContain("start with pk_");
    expect(fake.state.requests.length).toBe(before);
  });
});

describe("the rate budget", () => {
  it("is shared by every adapter of one key in the process", async () => {
    // GET /api/accounts allows 1 a second: two checks of the same key at once would draw a
    // 429 from the fake if each kept its own budget.
    const [first, second] = await Promise.all([verifyKlaviyoKey(KEY, { baseUrl: fake.url }), verifyKlaviyoKey(KEY, { baseUrl: fake.url })]);
    expect(first.ok && second.ok).toBe(true);
    expect(fake.state.requestsTo("accounts.get")).toHaveLength(2);
    expect(fake.state.rateLimited).toBe(0);
  });
});

describe("ensureTargets", () => {
  it("creates missing lists, then finds them again by id and by name", async () => {
    const adapter = klaviyoAdapter(KEY, {}, fast());
    const first = await adapter.ensureTargets([
      { segmentKey: "champions", name: "Tenure: Champions", remoteId: null },
      { segmentKey: "at-risk", name: "Tenure: At risk", remoteId: null },
    ]);
    expect([...fake.state.lists().keys()].sort()).toEqual(["Tenure: At risk", "Tenure: Champions"]);
    expect(fake.state.requestsTo("lists.create")).toHaveLength(2);

    // By stored id: no search, no creation.
    const again = await adapter.ensureTargets([
      { segmentKey: "champions", name: "Tenure: Champions", remoteId: first.get("champions")! },
      { segmentKey: "at-risk", name: "Tenure: At risk", remoteId: first.get("at-risk")! },
    ]);
    expect(again).toEqual(first);
    expect(fake.state.requestsTo("lists.create")).toHaveLength(2);

    // A stale id (the list was deleted and made again by hand) falls back to the name.
    const byName = await adapter.ensureTargets([{ segmentKey: "champions", name: "Tenure: Champions", remoteId: "GONE01" }]);
    expect(byName.get("champions")).toBe(first.get("champions"));
    expect(fake.state.requestsTo("lists.create")).toHaveLength(2);
  });

  it("renames a list found by id when the merchant relabelled its segment, keeping its members", async () => {
    const { adapter, targets } = await setUp();
    await adapter.push([change(person(1), { add: ["champions"] })], targets);
    const id = targets.get("champions")!;

    const again = await adapter.ensureTargets([{ segmentKey: "champions", name: "Tenure: Best customers", remoteId: id }]);
    expect(again.get("champions")).toBe(id);
    expect([...fake.state.lists().entries()]).toEqual([["Tenure: Best customers", ["customer1@example.com"]]]);
    expect(fake.state.requestsTo("list.update")).toHaveLength(1);
    expect(fake.state.requestsTo("lists.create")).toHaveLength(1);

    // Named as asked already: no rename.
    await adapter.ensureTargets([{ segmentKey: "champions", name: "Tenure: Best customers", remoteId: id }]);
    expect(fake.state.requestsTo("list.update")).toHaveLength(1);
  });

  it("finds a list whose name needs quoting", async () => {
    const adapter = klaviyoAdapter(KEY, {}, fast());
    const name = 'Tenure: "Big" spenders, \\ new';
    const created = await adapter.ensureTargets([{ segmentKey: "big", name, remoteId: null }]);
    const found = await adapter.ensureTargets([{ segmentKey: "big", name, remoteId: null }]);
    expect(found).toEqual(created);
    expect(fake.state.requestsTo("lists.create")).toHaveLength(1);
  });
});

describe("push", () => {
  it("upserts profiles with Tenure's properties and adds them to the list", async () => {
    const { adapter, targets } = await setUp();
    const people = [
      person(1, { phone: "+14155550101" }),
      person(2, { phone: "(415) 555-0102" }),
      person(3, { properties: figures({ tenure_p_alive: null, tenure_predicted_value_12m: null }) }),
    ];
    const outcomes = await adapter.push(people.map((p) => change(p, { add: ["champions"] })), targets);

    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    expect(fake.state.listMembers("Tenure: Champions")).toEqual(["customer1@example.com", "customer2@example.com", "customer3@example.com"]);
    const first = fake.state.profile("customer1@example.com")!;
    expect(first).toMatchObject({ external_id: "1001", first_name: "First1", last_name: "Last1", phone_number: "+14155550101" });
    expect(first.properties).toEqual(figures());
    // A phone that is not E.164 is left out rather than failing the profile.
    expect(fake.state.profile("customer2@example.com")!.phone_number).toBeNull();
    // Figures Tenure lacks are removed from the profile, not written as null.
    expect(fake.state.profile("customer3@example.com")!.properties).not.toHaveProperty("tenure_p_alive");
    expect(fake.state.profile("customer3@example.com")!.properties).not.toHaveProperty("tenure_predicted_value_12m");
  });

  it("sends the text the engine made with profileText for its hash, serialising only the changes that carry none", async () => {
    const { adapter, targets } = await setUp();
    // Proof that the given text is what goes: it differs from what push would write (another figure).
    const given = change(person(1), { add: ["champions"], profileText: adapter.profileText!(person(1, { properties: figures({ tenure_p_alive: 0.5 }) })) });
    const notGiven = change(person(2), { add: ["champions"] });
    const outcomes = await adapter.push([given, notGiven], targets);

    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    expect(fake.state.profile("customer1@example.com")!.properties).toEqual(figures({ tenure_p_alive: 0.5 }));
    expect(fake.state.profile("customer2@example.com")!.properties).toEqual(figures());
    // Used, then dropped: batches in flight do not hold their profiles' texts.
    expect(given.profileText).toBeUndefined();
  });

  it("updates figures without touching lists when nothing joins", async () => {
    const { adapter, targets } = await setUp();
    await adapter.push([change(person(1), { add: ["champions"] })], targets);
    const outcomes = await adapter.push([change(person(1, { properties: figures({ tenure_chance_of_ordering_90d: 0.05 }) }), { keep: ["champions"] })], targets);

    expect(outcomes).toEqual([{ customerId: "1001", ok: true, remoteProfileId: null }]);
    const jobs = fake.state.jobs();
    expect(jobs).toHaveLength(2);
    expect(jobs[1].listIds).toEqual([]);
    expect(fake.state.profile("customer1@example.com")!.properties.tenure_chance_of_ordering_90d).toBe(0.05);
    expect(fake.state.listMembers("Tenure: Champions")).toEqual(["customer1@example.com"]);
  });

  it("moves a customer between lists and removes one who leaves, looking ids up by email", async () => {
    const { adapter, targets } = await setUp({ champions: "Tenure: Champions", "at-risk": "Tenure: At risk" });
    await adapter.push([change(person(1), { add: ["champions"] }), change(person(2), { add: ["champions"] })], targets);

    const outcomes = await adapter.push(
      [
        change(person(1), { add: ["at-risk"], remove: ["champions"] }),
        // Unsubscribed: only a removal.
        change(person(2), { remove: ["champions"] }),
      ],
      targets,
    );
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    expect(fake.state.listMembers("Tenure: Champions")).toEqual([]);
    expect(fake.state.listMembers("Tenure: At risk")).toEqual(["customer1@example.com"]);
    // The removal learned Klaviyo's ids, for the next time.
    const second = outcomes.find((outcome) => outcome.customerId === "1002");
    expect(second).toEqual({ customerId: "1002", ok: true, remoteProfileId: fake.state.profile("customer2@example.com")!.id });
    // Nobody was subscribed: every call was one of the endpoints above (none of the subscription ones).
    expect(fake.state.requests.every((request) => request.endpoint !== null)).toBe(true);
  });

  it("removes by a known profile id without a lookup, and a profile Klaviyo never had is simply done", async () => {
    const { adapter, targets } = await setUp();
    await adapter.push([change(person(1), { add: ["champions"] })], targets);
    const id = fake.state.profile("customer1@example.com")!.id;
    const lookupsBefore = fake.state.requestsTo("profiles.get").length;

    const outcomes = await adapter.push(
      [change(person(1), { remove: ["champions"], remoteProfileId: id }), change(person(9), { remove: ["champions"] })],
      targets,
    );
    expect(outcomes).toEqual([
      { customerId: "1001", ok: true, remoteProfileId: id },
      { customerId: "1009", ok: true, remoteProfileId: null },
    ]);
    expect(fake.state.listMembers("Tenure: Champions")).toEqual([]);
    expect(fake.state.requestsTo("profiles.get").length).toBe(lookupsBefore + 1); // only customer 9's
  });

  it("records a profile Klaviyo refuses with Klaviyo's reason and lands the rest", async () => {
    const { adapter, targets } = await setUp();
    const outcomes = await adapter.push(
      [change(person(1), { add: ["champions"] }), change(person(2, { email: "someone.invalid@example" }), { add: ["champions"] }), change(person(3), { add: ["champions"] })],
      targets,
    );
    expect(outcomes.filter((outcome) => outcome.ok).map((outcome) => outcome.customerId)).toEqual(["1001", "1003"]);
    const refused = outcomes.find((outcome) => outcome.customerId === "1002");
    expect(refused).toEqual({ customerId: "1002", ok: false, reason: "Invalid input.: Invalid email address: someone.invalid@example" });
    expect(fake.state.listMembers("Tenure: Champions")).toEqual(["customer1@example.com", "customer3@example.com"]);
  });

  it("reads a job's status first after as long as the last job took by Klaviyo's times, so later jobs need about one status read each", async () => {
    await fake.close();
    fake = await startFakeKlaviyo({ jobTiming: { queuedMs: 0, processingMs: 400 } });
    const adapter = klaviyoAdapter(KEY, {}, { ...fast(), maxPollIntervalMs: 2_000 });
    const targets = await adapter.ensureTargets([{ segmentKey: "champions", name: "Tenure: Champions", remoteId: null }]);
    await adapter.push([change(person(1), { add: ["champions"] })], targets);
    await adapter.push([change(person(2), { add: ["champions"] })], targets);

    const reads = fake.state.jobs().map((job) => fake.state.requestsTo("bulk-import.get").filter((request) => request.path.includes(job.id)).length);
    // The first job is read after 20 ms, then 40, 80, 160, 320 (about 5 reads for 400 ms);
    // the second first after about 400 ms (a second read only if the fake's timer ran late).
    expect(reads[0]).toBeGreaterThanOrEqual(3);
    expect(reads[1]).toBeLessThanOrEqual(2);
    expect(fake.state.listMembers("Tenure: Champions")).toHaveLength(2);
  });

  it("splits more than 10,000 profiles into jobs of at most 10,000", async () => {
    const { adapter, targets } = await setUp();
    const changes = Array.from({ length: 12_001 }, (_, i) => change(person(i), { add: ["champions"] }));
    const outcomes = await adapter.push(changes, targets);

    expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(12_001);
    // Both jobs are sent at once and the smaller body may arrive first: the sizes, in any order.
    expect(fake.state.jobs().map((job) => job.profiles.length).sort((a, b) => b - a)).toEqual([10_000, 2_001]);
    expect(fake.state.listMembers("Tenure: Champions")).toHaveLength(12_001);
  });

  it("splits a batch whose request would pass 5 MB", async () => {
    const { adapter, targets } = await setUp();
    // About 900 bytes a profile: 6,000 of them are over 5 MB though under 10,000 profiles.
    const changes = Array.from({ length: 6_000 }, (_, i) => change(person(i, { firstName: `F${"é".repeat(400)}${i}` }), { add: ["champions"] }));
    const outcomes = await adapter.push(changes, targets);

    expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(6_000);
    const jobs = fake.state.jobs();
    expect(jobs.length).toBeGreaterThanOrEqual(2);
    for (const job of jobs) {
      const bytes = Buffer.byteLength(JSON.stringify({ data: { type: "profile-bulk-import-job", attributes: { profiles: { data: job.profiles } } } }));
      expect(bytes).toBeLessThanOrEqual(5_000_000);
    }
    expect(fake.state.listMembers("Tenure: Champions")).toHaveLength(6_000);
  });

  it("imports a customer joining two lists into both", async () => {
    const { adapter, targets } = await setUp({ champions: "Tenure: Champions", repeat: "Tenure: Repeat buyer" });
    await adapter.push([change(person(1), { add: ["champions", "repeat"] }), change(person(2), { add: ["repeat"] })], targets);
    expect(fake.state.listMembers("Tenure: Champions")).toEqual(["customer1@example.com"]);
    expect(fake.state.listMembers("Tenure: Repeat buyer")).toEqual(["customer1@example.com", "customer2@example.com"]);
  });

  it("moves a customer whose email changed: the import updates their profile in place (external_id finds it), lists and all", async () => {
    const { adapter, targets } = await setUp({ champions: "Tenure: Champions", "at-risk": "Tenure: At risk", repeat: "Tenure: Repeat buyer" });
    await adapter.push([change(person(1), { add: ["champions", "repeat"] })], targets);
    const id = fake.state.profile("customer1@example.com")!.id;

    const moved = person(1, { email: "new.address@example.com" });
    const outcomes = await adapter.push(
      [change(moved, { previousEmail: "customer1@example.com", remoteProfileId: id, add: ["at-risk"], keep: ["repeat"], remove: ["champions"] })],
      targets,
    );
    expect(outcomes).toEqual([{ customerId: "1001", ok: true, remoteProfileId: id }]);
    expect(fake.state.profile("customer1@example.com")).toBeUndefined();
    expect(fake.state.profile("new.address@example.com")).toMatchObject({ id, external_id: "1001" });
    expect(fake.state.lists()).toEqual(
      new Map([
        ["Tenure: Champions", []],
        ["Tenure: At risk", ["new.address@example.com"]],
        ["Tenure: Repeat buyer", ["new.address@example.com"]],
      ]),
    );
  });

  it("moves a customer whose new email already had its own profile: the old profile leaves every list, the new one joins the kept ones", async () => {
    const { adapter, targets } = await setUp({ champions: "Tenure: Champions", "at-risk": "Tenure: At risk", repeat: "Tenure: Repeat buyer" });
    await adapter.push([change(person(1), { add: ["champions", "repeat", "at-risk"] })], targets);
    const oldId = fake.state.profile("customer1@example.com")!.id;
    // The new address signed up through a Klaviyo form before: a profile without external_id.
    await importByHand({ email: "new.address@example.com" });
    const newId = fake.state.profile("new.address@example.com")!.id;

    const moved = person(1, { email: "new.address@example.com" });
    const outcomes = await adapter.push(
      [change(moved, { previousEmail: "Customer1@example.com", remoteProfileId: oldId, add: [], keep: ["repeat", "at-risk"], remove: ["champions"] })],
      targets,
    );
    expect(outcomes).toEqual([{ customerId: "1001", ok: true, remoteProfileId: newId }]);
    expect(fake.state.lists()).toEqual(
      new Map([
        ["Tenure: Champions", []],
        ["Tenure: At risk", ["new.address@example.com"]],
        ["Tenure: Repeat buyer", ["new.address@example.com"]],
      ]),
    );
    // The old profile itself is not deleted (it may hold the merchant's other data), only out of Tenure's lists.
    expect(fake.state.profile("customer1@example.com")?.id).toBe(oldId);
  });

  it("leaves the old profile where it is when Klaviyo refuses the new email", async () => {
    const { adapter, targets } = await setUp();
    await adapter.push([change(person(1), { add: ["champions"] })], targets);

    const outcomes = await adapter.push(
      [change(person(1, { email: "typo.invalid@example" }), { previousEmail: "customer1@example.com", keep: ["champions"] })],
      targets,
    );
    expect(outcomes).toEqual([{ customerId: "1001", ok: false, reason: "Invalid input.: Invalid email address: typo.invalid@example" }]);
    expect(fake.state.listMembers("Tenure: Champions")).toEqual(["customer1@example.com"]);
  });

  it("sends the revision header and the key on every request", async () => {
    const { adapter, targets } = await setUp();
    await adapter.push([change(person(1), { add: ["champions"] })], targets);
    await adapter.push([change(person(1), { remove: ["champions"] })], targets);
    expect(fake.state.requests.length).toBeGreaterThan(4);
    expect(fake.state.requests.every((request) => request.revision === KLAVIYO_REVISION && request.status !== 401)).toBe(true);
  });
});

describe("trouble", () => {
  it("rides out a 429 storm, waiting what Retry-After says, and lands every change", async () => {
    const { adapter, targets } = await setUp();
    fake.inject.rateLimitStorm(3, 1);
    const outcomes = await adapter.push([1, 2, 3].map((i) => change(person(i), { add: ["champions"] })), targets);

    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    expect(fake.state.listMembers("Tenure: Champions")).toHaveLength(3);
    expect(fake.state.rateLimited).toBe(3);
    // One job, so the calls are in sequence: each call after a 429 came at least a second later.
    const requests = fake.state.requests;
    for (let i = 0; i + 1 < requests.length; i += 1) {
      if (requests[i].status === 429) expect(requests[i + 1].at - requests[i].at).toBeGreaterThanOrEqual(1_000);
    }
  });

  it("hands a Retry-After too long to wait back to the engine", async () => {
    const { adapter, targets } = await setUp();
    fake.inject.rateLimitStorm(1, 300);
    const error = await adapter.push([change(person(1), { add: ["champions"] })], targets).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DestinationRetryableError);
    expect((error as DestinationRetryableError).retryAfterMs).toBe(300_000);
  });

  it("retries 5xx mid-push and loses nothing", async () => {
    const { adapter, targets } = await setUp();
    await adapter.push([change(person(1), { add: ["champions"] })], targets);
    fake.inject.serverErrors(3, 503);
    const outcomes = await adapter.push([change(person(2), { add: ["champions"] }), change(person(1), { remove: ["champions"] })], targets);
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    expect(fake.state.listMembers("Tenure: Champions")).toEqual(["customer2@example.com"]);
  });

  it("retries requests that hang past the timeout", async () => {
    const { targets } = await setUp();
    fake.inject.timeouts(2);
    const quick = klaviyoAdapter(KEY, {}, { ...fast(), timeoutMs: 200 });
    const outcomes = await quick.push([change(person(1), { add: ["champions"] })], targets);
    expect(outcomes).toEqual([{ customerId: "1001", ok: true, remoteProfileId: null }]);
    expect(fake.state.requests.filter((request) => request.status === 0)).toHaveLength(2); // the two that hung
    expect(fake.state.listMembers("Tenure: Champions")).toEqual(["customer1@example.com"]);
  });

  it("throws DestinationRetryableError when the outage outlasts the retries, and the same push lands later", async () => {
    const { targets } = await setUp();
    const adapter = klaviyoAdapter(KEY, {}, { ...fast(), retries: 2 });
    const changes = [change(person(1), { add: ["champions"] })];
    fake.inject.serverErrors(1_000, 500);
    await expect(adapter.push(changes, targets)).rejects.toBeInstanceOf(DestinationRetryableError);
    expect(fake.state.listMembers("Tenure: Champions")).toEqual([]);

    fake.inject.serverErrors(0);
    expect((await adapter.push(changes, targets))[0].ok).toBe(true);
    expect(fake.state.listMembers("Tenure: Champions")).toEqual(["customer1@example.com"]);
  });

  it("throws DestinationAuthError for a revoked key or a scope taken away, without retrying", async () => {
    const { adapter, targets } = await setUp();
    fake.inject.setScopes(KEY, ["lists:read", "lists:write", "profiles:read"]);
    await expect(adapter.push([change(person(1), { add: ["champions"] })], targets)).rejects.toBeInstanceOf(DestinationAuthError);

    fake.inject.revokeKey(KEY);
    const before = fake.state.requests.length;
    const error = await adapter.ensureTargets([{ segmentKey: "champions", name: "Tenure: Champions", remoteId: targets.get("champions")! }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DestinationAuthError);
    expect((error as Error).message).toBe("Incorrect authentication credentials.");
    expect(fake.state.requests.length).toBe(before + 1);
  });
});

describe("erase", () => {
  it("asks Klaviyo to delete each person, by profile id when known, else by email", async () => {
    const { adapter, targets } = await setUp();
    await adapter.push([change(person(1), { add: ["champions"] }), change(person(2), { add: ["champions"] })], targets);
    const id = fake.state.profile("customer1@example.com")!.id;

    await adapter.erase([
      { email: "customer1@example.com", remoteProfileId: id },
      { email: "Customer2@Example.com", remoteProfileId: null },
    ]);
    expect(fake.state.erased()).toEqual([id, "customer2@example.com"]);
    expect(fake.state.profile("customer1@example.com")).toBeUndefined();
    expect(fake.state.listMembers("Tenure: Champions")).toEqual([]);
  });

  it("counts a person Klaviyo has no profile for as erased, falls back to the email for a stale id, and logs a refusal without blocking the others", async () => {
    const logged: { message: string; fields?: Record<string, unknown> }[] = [];
    const adapter = klaviyoAdapter(KEY, {}, { ...fast(), logger: { info: () => {}, error: (message, fields) => logged.push({ message, fields }) } });
    const targets = await adapter.ensureTargets([{ segmentKey: "champions", name: "Tenure: Champions", remoteId: null }]);
    await adapter.push([change(person(1), { add: ["champions"] })], targets);

    await adapter.erase([
      // A profile id Klaviyo no longer has (404), whose email still names a profile.
      { email: "customer1@example.com", remoteProfileId: "01STALEPROFILEID0000000000" },
      // An address Klaviyo cannot read (400): refused, logged, the others go on.
      { email: "not an address", remoteProfileId: null },
      // Someone the tool never heard of.
      { email: "", remoteProfileId: "01NEVERSYNCED0000000000000" },
      { email: "stranger@example.com", remoteProfileId: null },
    ]);
    expect(fake.state.erased()).toEqual(["customer1@example.com", "stranger@example.com"]);
    expect(fake.state.profile("customer1@example.com")).toBeUndefined();
    expect(fake.state.listMembers("Tenure: Champions")).toEqual([]);
    expect(logged).toHaveLength(1);
    expect(logged[0].message).toBe("Klaviyo refused a deletion request");
    expect(String(logged[0].fields?.reason)).toContain("Klaviyo refused the deletion request (400)");
  });

  it("throws DestinationAuthError when the key may not delete", async () => {
    const { adapter } = await setUp();
    fake.inject.setScopes(KEY, FAKE_KLAVIYO_ALL_SCOPES.filter((scope) => scope !== "data-privacy:write"));
    await expect(adapter.erase([{ email: "a@example.com", remoteProfileId: null }])).rejects.toBeInstanceOf(DestinationAuthError);
  });
});
