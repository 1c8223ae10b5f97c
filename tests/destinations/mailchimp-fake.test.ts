import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FAKE_AUDIENCE_ID, FAKE_MAILCHIMP_KEY, type FakeMailchimp, startFakeMailchimp, subscriberHash } from "../../demo/fakes/mailchimp";

// The fake Mailchimp's own promises, with plain fetch: the limits and shapes the adapter's
// tests rely on (a fake that never answered 429 would let a missing cap pass).

let fake: FakeMailchimp;
const auth = (key = FAKE_MAILCHIMP_KEY) => ({ authorization: `Basic ${Buffer.from(`any:${key}`).toString("base64")}` });

beforeEach(async () => {
  fake = await startFakeMailchimp();
});
afterEach(async () => fake.close());

describe("the fake Mailchimp", () => {
  it("answers 429 to the 11th simultaneous request of a key, with a problem document", async () => {
    // Slow answers, so the 11 requests are surely in flight together however the sockets open.
    await fake.close();
    fake = await startFakeMailchimp({ latencyMs: 400 });
    const answers = await Promise.all(Array.from({ length: 11 }, () => fetch(`${fake.url}/3.0/ping`, { headers: auth() })));
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses.filter((status) => status === 200)).toHaveLength(10);
    const refused = answers.find((answer) => answer.status === 429)!;
    expect(await refused.json()).toMatchObject({ type: expect.any(String), title: "Too Many Requests", status: 429, detail: expect.any(String), instance: expect.any(String) });
  });

  it("refuses a wrong key with 401 and Mailchimp's error document; Bearer works like Basic", async () => {
    const wrong = await fetch(`${fake.url}/3.0/`, { headers: auth("nope-us1") });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ title: "API Key Invalid", status: 401 });
    const bearer = await fetch(`${fake.url}/3.0/ping`, { headers: { authorization: `Bearer ${FAKE_MAILCHIMP_KEY}` } });
    expect(await bearer.json()).toEqual({ health_status: "Everything's Chimpy!" });
  });

  it("reports the batch's per-member errors in Mailchimp's shape, and refuses more than 500 members", async () => {
    const post = (body: unknown) =>
      fetch(`${fake.url}/3.0/lists/${FAKE_AUDIENCE_ID}`, { method: "POST", headers: { ...auth(), "content-type": "application/json" }, body: JSON.stringify(body) });
    const first = await (await post({ members: [{ email_address: "a@example.com", status: "subscribed" }, { email_address: "invalid@example.com", status: "subscribed" }] })).json();
    expect(first).toMatchObject({
      total_created: 1,
      total_updated: 0,
      error_count: 1,
      new_members: [{ id: subscriberHash("a@example.com"), email_address: "a@example.com", status: "subscribed" }],
      errors: [{ email_address: "invalid@example.com", error: "invalid@example.com looks fake or invalid, please enter a real email address.", error_code: "ERROR_GENERIC" }],
    });
    const again = await (await post({ members: [{ email_address: "A@example.com", status: "transactional" }] })).json();
    expect(again.errors).toEqual([expect.objectContaining({ email_address: "A@example.com", error_code: "ERROR_CONTACT_EXISTS" })]);
    const tooMany = await post({ members: Array.from({ length: 501 }, (_, i) => ({ email_address: `m${i}@example.com`, status: "subscribed" })) });
    expect(tooMany.status).toBe(400);
  });

  it("with update_existing, sets existing members' status and merge fields, except a subscribe of an unsubscribed or cleaned member", async () => {
    const post = (body: unknown) =>
      fetch(`${fake.url}/3.0/lists/${FAKE_AUDIENCE_ID}`, { method: "POST", headers: { ...auth(), "content-type": "application/json" }, body: JSON.stringify(body) });
    const audience = fake.state.audiences.get(FAKE_AUDIENCE_ID)!;
    for (const [email, status] of [
      ["t@example.com", "transactional"],
      ["u@example.com", "unsubscribed"],
      ["c@example.com", "cleaned"],
    ]) {
      audience.members.set(subscriberHash(email), { id: subscriberHash(email), email, status, mergeFields: { FNAME: "Before", LNAME: "" }, lastChanged: "2026-01-01T00:00:00+00:00" });
    }
    const answer = await (
      await post({
        members: ["t@example.com", "u@example.com", "c@example.com", "n@example.com"].map((email) => ({ email_address: email, status: "subscribed", merge_fields: { FNAME: "After" } })),
        update_existing: true,
      })
    ).json();
    const refused = (email: string) => ({
      email_address: email,
      error: `${email} is in a compliance state due to unsubscribe, bounce, or compliance review and cannot be subscribed.`,
      error_code: "ERROR_GENERIC",
      field: "",
      field_message: "",
    });
    expect(answer).toMatchObject({
      new_members: [{ email_address: "n@example.com", status: "subscribed" }],
      updated_members: [{ email_address: "t@example.com", status: "subscribed", merge_fields: { FNAME: "After" } }],
      errors: [refused("u@example.com"), refused("c@example.com")],
      total_created: 1,
      total_updated: 1,
      error_count: 2,
    });
    expect([fake.state.member(FAKE_AUDIENCE_ID, "u@example.com"), fake.state.member(FAKE_AUDIENCE_ID, "c@example.com")].map((m) => [m!.status, m!.mergeFields.FNAME])).toEqual([
      ["unsubscribed", "Before"],
      ["cleaned", "Before"],
    ]);

    // A PATCH that subscribes them is refused the same way; one without a status updates them.
    const patch = (body: unknown) =>
      fetch(`${fake.url}/3.0/lists/${FAKE_AUDIENCE_ID}/members/${subscriberHash("u@example.com")}`, {
        method: "PATCH",
        headers: { ...auth(), "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const subscribe = await patch({ status: "subscribed" });
    expect(subscribe.status).toBe(400);
    expect(await subscribe.json()).toMatchObject({ title: "Member In Compliance State", status: 400, detail: refused("u@example.com").error });
    expect((await patch({ merge_fields: { FNAME: "After" } })).status).toBe(200);
    expect(fake.state.member(FAKE_AUDIENCE_ID, "u@example.com")).toMatchObject({ status: "unsubscribed", mergeFields: { FNAME: "After" } });
  });
});
