import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DestinationAuthError, type DestinationProfile, type MemberChange } from "~/destinations/adapter";
import {
  TENURE_MERGE_FIELDS,
  listMailchimpAudiences,
  mailchimpAdapter,
  mailchimpDataCentre,
  subscriberHash,
  verifyMailchimpKey,
} from "~/destinations/mailchimp.server";
import { FAKE_AUDIENCE_ID, FAKE_MAILCHIMP_KEY, type FakeMailchimp, startFakeMailchimp } from "../../demo/fakes/mailchimp";

// The Mailchimp adapter against the fake Mailchimp (demo/fakes/mailchimp.ts) over real HTTP.

let fake: FakeMailchimp;

beforeEach(async () => {
  fake = await startFakeMailchimp({
    audiences: [
      { id: FAKE_AUDIENCE_ID, name: "Newsletter" },
      { id: "f6e5d4c3b2", name: "Wholesale" },
    ],
  });
});

afterEach(async () => {
  await fake.close();
});

const adapter = (key = FAKE_MAILCHIMP_KEY) => mailchimpAdapter(key, { dc: "us21", audienceId: FAKE_AUDIENCE_ID }, { baseUrl: fake.url });

function profile(customerId: string, overrides: Partial<DestinationProfile> = {}): DestinationProfile {
  return {
    customerId,
    email: `customer${customerId}@example.com`,
    firstName: "Ada",
    lastName: "Lovelace",
    phone: null,
    emailConsentState: "SUBSCRIBED",
    properties: {
      tenure_rfm_segment: "Champions",
      tenure_behaviours: [],
      tenure_predicted_value_12m: 123.456,
      tenure_historic_value: 300,
      tenure_chance_of_ordering_90d: 0.4567,
      tenure_p_alive: 0.9,
      tenure_next_order_date: "2027-01-15",
    },
    ...overrides,
  };
}

function change(p: DestinationProfile, sets: Partial<Pick<MemberChange, "add" | "remove" | "keep">> = {}): MemberChange {
  return { profile: p, remoteProfileId: null, add: [], remove: [], keep: [], ...sets };
}

const requestsTo = (method: string, pattern: RegExp) => fake.state.requests.filter((r) => r.method === method && pattern.test(r.path));

/** A member already in the audience (the merchant's own, or from an earlier sync) with this status. */
function seed(email: string, status: string): void {
  fake.state.audiences.get(FAKE_AUDIENCE_ID)!.members.set(subscriberHash(email), {
    id: subscriberHash(email),
    email,
    status,
    mergeFields: { FNAME: "Typed in Mailchimp", LNAME: "", TNR_SEG: "", TNR_PV: "", TNR_CHANCE: "", TNR_NEXT: "" },
    lastChanged: "2026-01-01T00:00:00+00:00",
  });
}

async function connectedTargets() {
  const mailchimp = adapter();
  const targets = await mailchimp.ensureTargets([
    { segmentKey: "champions", name: "Tenure: Champions", remoteId: null },
    { segmentKey: "at-risk", name: "Tenure: At risk", remoteId: null },
  ]);
  return { mailchimp, targets };
}

describe("verifyMailchimpKey", () => {
  it("accepts a working key and names the account and its data centre", async () => {
    const verification = await verifyMailchimpKey(FAKE_MAILCHIMP_KEY, { baseUrl: fake.url });
    expect(verification).toEqual({ ok: true, account: { dc: "us21", accountId: "8d3a3db4d97663a9074efcc16", accountName: "Tenure Demo Store" } });
  });

  it("says a key without its data centre is incomplete, before any call", async () => {
    const verification = await verifyMailchimpKey("0123456789abcdef0123456789abcdef", { baseUrl: fake.url });
    expect(verification.ok).toBe(false);
    if (!verification.ok) expect(verification.reason).toMatch(/data centre, like …-us21/);
    expect(fake.state.requests).toHaveLength(0);
    expect(mailchimpDataCentre(" abc123-us6 ")).toBe("us6");
    expect(mailchimpDataCentre("abc123-")).toBeNull();
  });

  it("passes on Mailchimp's reason for a revoked key", async () => {
    fake.inject.revokeKey(FAKE_MAILCHIMP_KEY);
    const verification = await verifyMailchimpKey(FAKE_MAILCHIMP_KEY, { baseUrl: fake.url });
    expect(verification.ok).toBe(false);
    if (!verification.ok) expect(verification.reason).toMatch(/^Mailchimp refused the key: Your API key may be invalid/);
  });
});

describe("listMailchimpAudiences", () => {
  it("lists every audience with its subscribed member count", async () => {
    fake.state.audiences.get("f6e5d4c3b2")!.members.set(subscriberHash("a@example.com"), {
      id: subscriberHash("a@example.com"),
      email: "a@example.com",
      status: "subscribed",
      mergeFields: {},
      lastChanged: "2026-01-01T00:00:00+00:00",
    });
    const audiences = await listMailchimpAudiences(FAKE_MAILCHIMP_KEY, { baseUrl: fake.url });
    expect(audiences).toEqual([
      { id: FAKE_AUDIENCE_ID, name: "Newsletter", memberCount: 0 },
      { id: "f6e5d4c3b2", name: "Wholesale", memberCount: 1 },
    ]);
  });
});

describe("ensureTargets", () => {
  it("creates a tag per segment, then finds it again by id, by name, and follows a rename", async () => {
    const { mailchimp, targets } = await connectedTargets();
    const audience = fake.state.audiences.get(FAKE_AUDIENCE_ID)!;
    expect([...audience.segments.values()].map((s) => s.name).sort()).toEqual(["Tenure: At risk", "Tenure: Champions"]);

    const again = await mailchimp.ensureTargets([
      { segmentKey: "champions", name: "Tenure: Champions", remoteId: targets.get("champions")! },
      { segmentKey: "at-risk", name: "Tenure: At risk", remoteId: null }, // id forgotten: found by name
    ]);
    expect(again).toEqual(targets);
    expect(audience.segments.size).toBe(2);

    const renamed = await mailchimp.ensureTargets([{ segmentKey: "champions", name: "Tenure: Best customers", remoteId: targets.get("champions")! }]);
    expect(renamed.get("champions")).toBe(targets.get("champions"));
    expect(audience.segments.get(Number(targets.get("champions")))!.name).toBe("Tenure: Best customers");
  });

  it("finds a tag and a merge field created by a try whose answer was lost", async () => {
    const mailchimp = mailchimpAdapter(FAKE_MAILCHIMP_KEY, { audienceId: FAKE_AUDIENCE_ID }, { baseUrl: fake.url, timeoutMs: 300 });
    fake.inject.lostAnswers(1, "POST"); // the tag is created; its answer never comes
    const targets = await mailchimp.ensureTargets([{ segmentKey: "champions", name: "Tenure: Champions", remoteId: null }]);
    const audience = fake.state.audiences.get(FAKE_AUDIENCE_ID)!;
    expect(audience.segments.size).toBe(1);
    expect(targets.get("champions")).toBe(String([...audience.segments.keys()][0]));

    fake.inject.lostAnswers(1, "POST"); // the first merge field is created; its answer never comes
    const [outcome] = await mailchimp.push([change(profile("1"), { add: ["champions"] })], targets);
    expect(outcome.ok).toBe(true);
    expect(audience.mergeFields.map((field) => field.tag)).toEqual(["FNAME", "LNAME", "TNR_SEG", "TNR_PV", "TNR_CHANCE", "TNR_NEXT"]);
    expect(fake.state.requests.filter((r) => r.status === 0)).toHaveLength(2);
  });

  it("creates the tag again when the stored one was deleted in Mailchimp", async () => {
    const { mailchimp, targets } = await connectedTargets();
    const audience = fake.state.audiences.get(FAKE_AUDIENCE_ID)!;
    audience.segments.delete(Number(targets.get("champions")));
    const again = await mailchimp.ensureTargets([{ segmentKey: "champions", name: "Tenure: Champions", remoteId: targets.get("champions")! }]);
    expect(again.get("champions")).not.toBe(targets.get("champions"));
    expect(fake.state.membersTagged(FAKE_AUDIENCE_ID, "Tenure: Champions")).toEqual([]);
  });
});

describe("push", () => {
  it("creates Tenure's merge fields once per adapter, with tags of at most 10 characters", async () => {
    const { mailchimp, targets } = await connectedTargets();
    await mailchimp.push([change(profile("1"), { add: ["champions"] })], targets);
    await mailchimp.push([change(profile("2"), { add: ["champions"] })], targets);
    expect(requestsTo("GET", /merge-fields$/)).toHaveLength(1);
    expect(requestsTo("POST", /merge-fields$/)).toHaveLength(TENURE_MERGE_FIELDS.length);
    const tags = fake.state.audiences.get(FAKE_AUDIENCE_ID)!.mergeFields.map((field) => field.tag);
    expect(tags).toEqual(["FNAME", "LNAME", "TNR_SEG", "TNR_PV", "TNR_CHANCE", "TNR_NEXT"]);
    for (const tag of tags) expect(tag.length).toBeLessThanOrEqual(10);

    // A second adapter (a later pass) finds them and creates none.
    await adapter().push([change(profile("3"), { add: ["champions"] })], targets);
    expect(requestsTo("POST", /merge-fields$/)).toHaveLength(TENURE_MERGE_FIELDS.length);
  });

  it("subscribes a new member only when Shopify says subscribed, and writes the figures as merge fields", async () => {
    const { mailchimp, targets } = await connectedTargets();
    const outcomes = await mailchimp.push(
      [
        change(profile("1"), { add: ["champions"] }),
        change(profile("2", { emailConsentState: "NOT_SUBSCRIBED" }), { add: ["champions"] }),
        change(profile("3", { emailConsentState: null, firstName: null }), { add: ["at-risk"] }),
        change(profile("4", { emailConsentState: "UNSUBSCRIBED" }), { add: ["at-risk"] }),
      ],
      targets,
    );
    expect(outcomes).toEqual(["1", "2", "3", "4"].map((id) => ({ customerId: id, ok: true, remoteProfileId: subscriberHash(`customer${id}@example.com`) })));
    const member = (id: string) => fake.state.member(FAKE_AUDIENCE_ID, `customer${id}@example.com`)!;
    expect(["1", "2", "3", "4"].map((id) => member(id).status)).toEqual(["subscribed", "transactional", "transactional", "transactional"]);
    expect(member("1").mergeFields).toEqual({
      FNAME: "Ada",
      LNAME: "Lovelace",
      TNR_SEG: "Champions",
      TNR_PV: 123.46,
      TNR_CHANCE: 45.7,
      TNR_NEXT: "2027-01-15",
    });
    expect(member("3").mergeFields.FNAME).toBe("");
    expect(fake.state.membersTagged(FAKE_AUDIENCE_ID, "Tenure: Champions")).toEqual(["customer1@example.com", "customer2@example.com"]);
    expect(fake.state.membersTagged(FAKE_AUDIENCE_ID, "Tenure: At risk")).toEqual(["customer3@example.com", "customer4@example.com"]);
  });

  it("subscribes an existing member Shopify says is subscribed, never downgrades one, and leaves an unsubscribe or clean in place", async () => {
    const { mailchimp, targets } = await connectedTargets();
    seed("customer1@example.com", "unsubscribed"); // Shopify says subscribed: Mailchimp's unsubscribe wins
    seed("customer2@example.com", "subscribed"); // Shopify says not subscribed: stays subscribed
    seed("customer3@example.com", "cleaned"); // Shopify says subscribed: stays cleaned
    seed("customer4@example.com", "transactional"); // Shopify says subscribed: becomes subscribed
    seed("customer5@example.com", "pending"); // Shopify says subscribed: becomes subscribed

    const outcomes = await mailchimp.push(
      [
        change(profile("1"), { add: ["champions"] }),
        change(profile("2", { emailConsentState: "NOT_SUBSCRIBED", firstName: null }), { add: ["champions"] }),
        change(profile("3"), { keep: ["champions"] }),
        change(profile("4"), { add: ["at-risk"] }),
        change(profile("5"), { add: ["at-risk"] }),
      ],
      targets,
    );
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    const member = (id: string) => fake.state.member(FAKE_AUDIENCE_ID, `customer${id}@example.com`)!;
    expect(["1", "2", "3", "4", "5"].map((id) => member(id).status)).toEqual(["unsubscribed", "subscribed", "cleaned", "subscribed", "subscribed"]);
    for (const id of ["1", "3", "4", "5"]) expect(member(id).mergeFields).toMatchObject({ FNAME: "Ada", TNR_SEG: "Champions", TNR_PV: 123.46 });
    expect(member("2").mergeFields).toMatchObject({ FNAME: "Typed in Mailchimp", TNR_SEG: "Champions" }); // no first name in Shopify: theirs stays
    expect(fake.state.membersTagged(FAKE_AUDIENCE_ID, "Tenure: Champions")).toEqual(["customer1@example.com", "customer2@example.com", "customer3@example.com"]);
    // Two batches (subscribed with update_existing, the rest without); a PATCH without a status
    // only for those who keep their Mailchimp status: refused a subscribe (1, 3) or not subscribed in Shopify (2).
    expect(requestsTo("POST", new RegExp(`^/3.0/lists/${FAKE_AUDIENCE_ID}$`))).toHaveLength(2);
    expect(requestsTo("PATCH", /\/members\/[0-9a-f]{32}$/).map((r) => r.path).sort()).toEqual(
      ["1", "2", "3"].map((id) => `/3.0/lists/${FAKE_AUDIENCE_ID}/members/${subscriberHash(`customer${id}@example.com`)}`).sort(),
    );
  });

  it("records Mailchimp's words for an address it will not take back after a permanent delete", async () => {
    const { mailchimp, targets } = await connectedTargets();
    await mailchimp.push([change(profile("1"), { add: ["champions"] }), change(profile("2", { emailConsentState: "NOT_SUBSCRIBED" }), { add: ["champions"] })], targets);
    await mailchimp.erase([
      { email: "customer1@example.com", remoteProfileId: null },
      { email: "customer2@example.com", remoteProfileId: null },
    ]);
    const outcomes = await mailchimp.push(
      [change(profile("1"), { add: ["champions"] }), change(profile("2", { emailConsentState: "NOT_SUBSCRIBED" }), { add: ["champions"] })],
      targets,
    );
    expect(outcomes).toEqual(
      ["1", "2"].map((id) => ({
        customerId: id,
        ok: false,
        reason: `customer${id}@example.com was permanently deleted and cannot be re-imported. The contact must re-subscribe to get back on the list.`,
      })),
    );
    expect(requestsTo("PATCH", /\/members\//)).toHaveLength(0);
    expect(fake.state.audiences.get(FAKE_AUDIENCE_ID)!.members.size).toBe(0);
  });

  it("updates a whole batch of existing subscribed members with one request, not one PATCH each", async () => {
    const { mailchimp, targets } = await connectedTargets();
    for (let i = 1; i <= 500; i++) seed(`customer${i}@example.com`, i % 2 === 0 ? "subscribed" : "transactional");
    const outcomes = await mailchimp.push(
      Array.from({ length: 500 }, (_, i) => change(profile(String(i + 1)), { add: ["champions"] })),
      targets,
    );
    expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(500);
    expect(requestsTo("POST", new RegExp(`^/3.0/lists/${FAKE_AUDIENCE_ID}$`))).toHaveLength(1);
    expect(requestsTo("PATCH", /\/members\//)).toHaveLength(0);
    const members = [...fake.state.audiences.get(FAKE_AUDIENCE_ID)!.members.values()];
    expect(members.every((member) => member.status === "subscribed" && member.mergeFields.TNR_SEG === "Champions")).toBe(true);
  });

  it("sets tags active and inactive as customers move, and only untags someone who left every synced segment", async () => {
    const { mailchimp, targets } = await connectedTargets();
    const ada = profile("1");
    await mailchimp.push([change(ada, { add: ["champions"] }), change(profile("2"), { add: ["champions"] })], targets);

    await mailchimp.push([change(ada, { add: ["at-risk"], remove: ["champions"] })], targets);
    expect(fake.state.tagsOf(FAKE_AUDIENCE_ID, ada.email)).toEqual(["Tenure: At risk"]);

    // Unsubscribed in Shopify: arrives with only removals; untagged, not updated.
    const patchesBefore = requestsTo("PATCH", /\/members\//).length;
    const outcomes = await mailchimp.push([change(profile("1", { emailConsentState: "UNSUBSCRIBED" }), { remove: ["at-risk"] })], targets);
    expect(outcomes).toEqual([{ customerId: "1", ok: true, remoteProfileId: subscriberHash(ada.email) }]);
    expect(fake.state.tagsOf(FAKE_AUDIENCE_ID, ada.email)).toEqual([]);
    expect(requestsTo("PATCH", /\/members\//)).toHaveLength(patchesBefore);
    expect(fake.state.membersTagged(FAKE_AUDIENCE_ID, "Tenure: Champions")).toEqual(["customer2@example.com"]);

    // Someone Mailchimp never had, removed: nobody is created.
    await mailchimp.push([change(profile("9"), { remove: ["champions"] })], targets);
    expect(fake.state.member(FAKE_AUDIENCE_ID, "customer9@example.com")).toBeUndefined();
  });

  it("moves the tags to a customer's new address when they change their email in Shopify", async () => {
    const { mailchimp, targets } = await connectedTargets();
    const [first] = await mailchimp.push([change(profile("1"), { add: ["champions", "at-risk"] })], targets);
    const remoteProfileId = first.ok ? (first.remoteProfileId ?? null) : null;
    const renamed = profile("1", { email: "ada.new@example.com" });
    const outcomes = await mailchimp.push([{ profile: renamed, remoteProfileId, add: [], remove: ["at-risk"], keep: ["champions"] }], targets);
    expect(outcomes).toEqual([{ customerId: "1", ok: true, remoteProfileId: subscriberHash("ada.new@example.com") }]);
    expect(fake.state.tagsOf(FAKE_AUDIENCE_ID, "ada.new@example.com")).toEqual(["Tenure: Champions"]);
    expect(fake.state.tagsOf(FAKE_AUDIENCE_ID, "customer1@example.com")).toEqual([]);
    expect(fake.state.member(FAKE_AUDIENCE_ID, "customer1@example.com")?.status).toBe("subscribed"); // untagged, not deleted
  });

  it("restores a kept tag that was removed by hand in Mailchimp", async () => {
    const { mailchimp, targets } = await connectedTargets();
    await mailchimp.push([change(profile("1"), { add: ["champions"] })], targets);
    fake.state.audiences.get(FAKE_AUDIENCE_ID)!.segments.get(Number(targets.get("champions")))!.members.clear();
    await mailchimp.push([change(profile("1"), { keep: ["champions"] })], targets);
    expect(fake.state.tagsOf(FAKE_AUDIENCE_ID, "customer1@example.com")).toEqual(["Tenure: Champions"]);
  });

  it("records a member Mailchimp refuses with its reason, and syncs the rest of the batch", async () => {
    const { mailchimp, targets } = await connectedTargets();
    const outcomes = await mailchimp.push(
      [change(profile("1"), { add: ["champions"] }), change(profile("2", { email: "invalid.person@example.com" }), { add: ["champions"] })],
      targets,
    );
    expect(outcomes).toEqual([
      { customerId: "1", ok: true, remoteProfileId: subscriberHash("customer1@example.com") },
      { customerId: "2", ok: false, reason: "invalid.person@example.com looks fake or invalid, please enter a real email address." },
    ]);
    expect(fake.state.membersTagged(FAKE_AUDIENCE_ID, "Tenure: Champions")).toEqual(["customer1@example.com"]);
  });

  it("sends one member for two customers sharing an address", async () => {
    const { mailchimp, targets } = await connectedTargets();
    const outcomes = await mailchimp.push(
      [change(profile("1", { email: "shared@example.com" }), { add: ["champions"] }), change(profile("2", { email: "Shared@Example.com" }), { add: ["at-risk"] })],
      targets,
    );
    expect(outcomes.map((outcome) => outcome.ok)).toEqual([true, true]);
    expect(fake.state.audiences.get(FAKE_AUDIENCE_ID)!.members.size).toBe(1);
    expect(fake.state.tagsOf(FAKE_AUDIENCE_ID, "shared@example.com")).toEqual(["Tenure: At risk", "Tenure: Champions"]);
  });

  it("sends 500 changes as one batch of members and one request per tag", async () => {
    const { mailchimp, targets } = await connectedTargets();
    expect(mailchimp.batchSize).toBe(500);
    const changes = Array.from({ length: 500 }, (_, i) => change(profile(String(i + 1)), { add: [i % 2 === 0 ? "champions" : "at-risk"] }));
    const outcomes = await mailchimp.push(changes, targets);
    expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(500);
    expect(requestsTo("POST", new RegExp(`^/3.0/lists/${FAKE_AUDIENCE_ID}$`))).toHaveLength(1);
    expect(requestsTo("POST", /\/segments\/\d+$/)).toHaveLength(2);
    expect(fake.state.audiences.get(FAKE_AUDIENCE_ID)!.members.size).toBe(500);
    expect(fake.state.membersTagged(FAKE_AUDIENCE_ID, "Tenure: Champions")).toHaveLength(250);

    await expect(mailchimp.push([...changes, change(profile("501"), { add: ["champions"] })], targets)).rejects.toThrow(/at most 500/);
  });

  it("keeps to 10 requests in flight per key, so Mailchimp never refuses a connection", async () => {
    await fake.close();
    fake = await startFakeMailchimp({ latencyMs: 50 });
    const { mailchimp, targets } = await connectedTargets();
    const notSubscribed = (id: number) => profile(String(id), { emailConsentState: "NOT_SUBSCRIBED" });
    await mailchimp.push(Array.from({ length: 40 }, (_, i) => change(notSubscribed(i), { add: ["champions"] })), targets);
    // 40 existing members not subscribed in Shopify: 40 PATCHes at once, from two adapters sharing the key's cap.
    await Promise.all([
      mailchimp.push(Array.from({ length: 20 }, (_, i) => change(notSubscribed(i), { keep: ["champions"] })), targets),
      adapter().push(Array.from({ length: 20 }, (_, i) => change(notSubscribed(i + 20), { keep: ["champions"] })), targets),
    ]);
    expect(requestsTo("PATCH", /\/members\//)).toHaveLength(40);
    expect(fake.state.maxInFlight).toBeLessThanOrEqual(10);
    expect(fake.state.maxInFlight).toBeGreaterThan(1); // the requests did overlap
    expect(fake.state.requests.filter((r) => r.status === 429)).toHaveLength(0);
  });

  it("retries 429s, 5xx answers and timeouts mid-push without losing a change", async () => {
    const { targets } = await connectedTargets();
    const mailchimp = mailchimpAdapter(FAKE_MAILCHIMP_KEY, { audienceId: FAKE_AUDIENCE_ID }, { baseUrl: fake.url, timeoutMs: 300 });
    const changes = Array.from({ length: 12 }, (_, i) => change(profile(String(i)), { add: ["champions"] }));
    fake.inject.tooManyRequests(1);
    fake.inject.serverErrors(2);
    fake.inject.timeouts(1);
    const outcomes = await mailchimp.push(changes, targets);
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    expect(fake.state.membersTagged(FAKE_AUDIENCE_ID, "Tenure: Champions")).toHaveLength(12);
    const statuses = fake.state.requests.map((r) => r.status);
    expect(statuses.filter((status) => status === 429)).toHaveLength(1);
    expect(statuses.filter((status) => status === 500)).toHaveLength(2);
    expect(statuses.filter((status) => status === 0)).toHaveLength(1); // the request left unanswered
    expect([...fake.state.audiences.get(FAKE_AUDIENCE_ID)!.members.values()].every((m) => m.status === "subscribed")).toBe(true);
  });

  it("throws DestinationAuthError on a revoked key, so the engine pauses the sync", async () => {
    const { mailchimp, targets } = await connectedTargets();
    fake.inject.revokeKey(FAKE_MAILCHIMP_KEY);
    await expect(mailchimp.push([change(profile("1"), { add: ["champions"] })], targets)).rejects.toBeInstanceOf(DestinationAuthError);
    await expect(mailchimp.ensureTargets([{ segmentKey: "champions", name: "Tenure: Champions", remoteId: null }])).rejects.toBeInstanceOf(
      DestinationAuthError,
    );
    expect(fake.state.audiences.get(FAKE_AUDIENCE_ID)!.members.size).toBe(0);
  });

  it("pauses with a clear reason when the chosen audience was deleted or none is chosen", async () => {
    const mailchimp = mailchimpAdapter(FAKE_MAILCHIMP_KEY, { audienceId: "gone000000" }, { baseUrl: fake.url });
    await expect(mailchimp.ensureTargets([{ segmentKey: "champions", name: "Tenure: Champions", remoteId: null }])).rejects.toMatchObject({
      name: "DestinationAuthError",
      kind: "setup",
      message: expect.stringMatching(/audience gone000000 no longer exists.*choose another audience/),
    });
    // No audience chosen yet: a setup problem (the engine pauses with this sentence as it is);
    // a key cut short: a key problem.
    const noAudience = mailchimpAdapter(FAKE_MAILCHIMP_KEY, {}, { baseUrl: fake.url });
    await expect(noAudience.ensureTargets([{ segmentKey: "champions", name: "Tenure: Champions", remoteId: null }])).rejects.toThrow(
      new DestinationAuthError("No Mailchimp audience is chosen for Tenure's tags: choose one in Integrations and the sync resumes.", "setup"),
    );
    const noDataCentre = mailchimpAdapter("0123456789abcdef", { audienceId: FAKE_AUDIENCE_ID }, { baseUrl: fake.url });
    await expect(noDataCentre.erase([{ email: "a@example.com", remoteProfileId: null }])).rejects.toMatchObject({ name: "DestinationAuthError", kind: "key" });
    expect(fake.state.requests.filter((r) => !r.path.includes("gone000000"))).toHaveLength(0);
  });
});

describe("erase", () => {
  it("permanently deletes each person, and someone already gone is fine", async () => {
    const { mailchimp, targets } = await connectedTargets();
    await mailchimp.push([change(profile("1"), { add: ["champions"] }), change(profile("2"), { add: ["champions"] })], targets);
    await mailchimp.erase([
      { email: "Customer1@Example.com", remoteProfileId: null },
      { email: "nobody@example.com", remoteProfileId: null },
    ]);
    expect(fake.state.deletedPermanently).toEqual(["customer1@example.com"]);
    expect(fake.state.member(FAKE_AUDIENCE_ID, "customer1@example.com")).toBeUndefined();
    expect(fake.state.membersTagged(FAKE_AUDIENCE_ID, "Tenure: Champions")).toEqual(["customer2@example.com"]);
    expect(requestsTo("POST", /delete-permanent$/).map((r) => r.status)).toEqual([204, 404]);
  });

  it("throws DestinationAuthError on a revoked key, so the erasure is kept for later", async () => {
    fake.inject.revokeKey(FAKE_MAILCHIMP_KEY);
    await expect(adapter().erase([{ email: "customer1@example.com", remoteProfileId: null }])).rejects.toBeInstanceOf(DestinationAuthError);
  });
});
