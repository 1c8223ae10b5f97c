import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { jsonBytesOver, parseFilter, startFakeKlaviyo, type FakeKlaviyo } from "../../demo/fakes/klaviyo";

// The fake's own rules, which the adapter tests rely on: auth, revision, scopes, the
// documented limits with Retry-After, the job lifecycle and the import limits.

let fake: FakeKlaviyo;
const KEY = "pk_fake_rules";
beforeEach(async () => {
  fake = await startFakeKlaviyo({ limits: { "lists.get": { burst: 3, steady: 5 } } });
});
afterEach(async () => {
  await fake.close();
});

function call(path: string, init: RequestInit & { key?: string | null; revision?: string | null } = {}) {
  const { key = KEY, revision = "2026-10-15", ...rest } = init;
  const headers: Record<string, string> = { accept: "application/vnd.api+json", "content-type": "application/vnd.api+json" };
  if (key !== null) headers.Authorization = `Klaviyo-API-Key ${key}`;
  if (revision !== null) headers.revision = revision;
  return fetch(`${fake.url}${path}`, { ...rest, headers });
}

describe("the fake Klaviyo", () => {
  it("answers 401 without the Klaviyo-API-Key scheme or with a revoked key, 400 without a revision", async () => {
    const noKey = await call("/api/lists", { key: null });
    expect(noKey.status).toBe(401);
    expect(((await noKey.json()) as { errors: { code: string }[] }).errors[0].code).toBe("not_authenticated");
    expect((await call("/api/lists", { revision: null })).status).toBe(400);
    fake.inject.revokeKey(KEY);
    const revoked = await call("/api/lists");
    expect(revoked.status).toBe(401);
    expect(((await revoked.json()) as { errors: { code: string }[] }).errors[0].code).toBe("authentication_failed");
  });

  it("answers 403 permission_denied for a scope the key lacks", async () => {
    fake.inject.setScopes(KEY, ["lists:read"]);
    const answer = await call("/api/lists", { method: "POST", body: JSON.stringify({ data: { type: "list", attributes: { name: "x" } } }) });
    expect(answer.status).toBe(403);
    expect(((await answer.json()) as { errors: { code: string }[] }).errors[0].code).toBe("permission_denied");
  });

  it("enforces the burst per account and endpoint with 429 and Retry-After", async () => {
    // The fake's clock pinned inside one second: all four calls land in one burst window
    // however slowly they run.
    await fake.close();
    let clock = Date.UTC(2026, 11, 6, 12, 0, 0, 250);
    fake = await startFakeKlaviyo({ limits: { "lists.get": { burst: 3, steady: 5 } }, now: () => clock });
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push(await call("/api/lists"));
    expect(statuses.map((answer) => answer.status)).toEqual([200, 200, 200, 429]);
    expect(statuses[3].headers.get("retry-after")).toBe("1");
    const body = (await statuses[3].json()) as { errors: { code: string }[] };
    expect(body.errors[0].code).toBe("throttled");
    // Another key is another account: its own budget.
    expect((await call("/api/lists", { key: "pk_someone_else" })).status).toBe(200);
    // The next second opens a new burst window; the minute's 5 are then used up.
    clock += 1_000;
    expect((await call("/api/lists")).status).toBe(200);
    expect((await call("/api/lists")).status).toBe(200);
    const steady = await call("/api/lists");
    expect(steady.status).toBe(429);
    expect(steady.headers.get("retry-after")).toBe("59");
  });

  it("runs an import job queued → processing → complete, with errors for bad emails", async () => {
    // The fake's clock stepped by hand: each state is seen however slowly the calls run.
    await fake.close();
    let clock = Date.UTC(2026, 11, 6, 12, 0, 0, 0);
    fake = await startFakeKlaviyo({ now: () => clock, jobTiming: { queuedMs: 20, processingMs: 30 } });
    const list = (await (await call("/api/lists", { method: "POST", body: JSON.stringify({ data: { type: "list", attributes: { name: "L" } } }) })).json()) as { data: { id: string } };
    const created = await call("/api/profile-bulk-import-jobs", {
      method: "POST",
      body: JSON.stringify({
        data: {
          type: "profile-bulk-import-job",
          attributes: { profiles: { data: [{ type: "profile", attributes: { email: "a@example.com" } }, { type: "profile", attributes: { email: "b.invalid@example.com" } }] } },
          relationships: { lists: { data: [{ type: "list", id: list.data.id }] } },
        },
      }),
    });
    expect(created.status).toBe(202);
    const job = (await created.json()) as { data: { id: string; attributes: { status: string; total_count: number } } };
    expect(job.data.attributes).toMatchObject({ status: "queued", total_count: 2 });

    const status = async () =>
      ((await (await call(`/api/profile-bulk-import-jobs/${job.data.id}`)).json()) as { data: { attributes: { status: string; completed_count: number; failed_count: number } } }).data.attributes;
    expect((await status()).status).toBe("queued");
    clock += 20; // queuedMs
    expect(await status()).toMatchObject({ status: "processing", completed_count: 0, failed_count: 0 });
    expect(fake.state.listMembers("L", KEY)).toEqual([]);
    clock += 30; // processingMs, plus 2 profiles at 200,000 a second (0 ms)
    expect(await status()).toMatchObject({ status: "complete", completed_count: 1, failed_count: 1 });
    const errors = (await (await call(`/api/profile-bulk-import-jobs/${job.data.id}/import-errors`)).json()) as {
      data: { attributes: { detail: string; original_payload: { attributes: { email: string } } } }[];
    };
    expect(errors.data.map((error) => error.attributes.original_payload.attributes.email)).toEqual(["b.invalid@example.com"]);
    expect(fake.state.listMembers("L", KEY)).toEqual(["a@example.com"]);
  });

  it("refuses more than 10,000 profiles or 5 MB in one job", async () => {
    const profiles = (n: number, pad = 0) => Array.from({ length: n }, (_, i) => ({ type: "profile", attributes: { email: `p${i}@example.com`, first_name: "x".repeat(pad) } }));
    const post = (data: unknown[]) =>
      call("/api/profile-bulk-import-jobs", { method: "POST", body: JSON.stringify({ data: { type: "profile-bulk-import-job", attributes: { profiles: { data } } } }) });
    expect((await post(profiles(10_001))).status).toBe(400);
    expect((await post(profiles(6_000, 900))).status).toBe(413);
    expect(fake.state.jobs(KEY)).toHaveLength(0);
  });

  it("refuses a profile over 100 KB as serialised, whatever its characters, and keeps the profiles it took readable", async () => {
    const post = (data: unknown[]) =>
      call("/api/profile-bulk-import-jobs", { method: "POST", body: JSON.stringify({ data: { type: "profile-bulk-import-job", attributes: { profiles: { data } } } }) });
    const profile = (name: string) => ({ type: "profile", attributes: { email: "big@example.com", first_name: name } });
    const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
    // 'é' is 2 bytes, '\u0001' 6 once serialised: sized by bytes, not characters.
    const over = profile(`${"é".repeat(40_000)}${"\u0001".repeat(3_500)}`);
    const under = profile("é".repeat(49_900));
    expect(bytes(over)).toBeGreaterThan(100_000);
    expect(bytes(under)).toBeLessThanOrEqual(100_000);
    const refused = await post([under, over]);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { errors: { detail: string }[] }).errors[0].detail).toBe("Profile 1 is larger than 100KB.");
    expect((await post([under])).status).toBe(202);
    expect(fake.state.jobs(KEY).map((job) => job.profiles)).toEqual([[under]]);
  });

  it("shows a completed import to every reader (the id index and list sets read straight too), each new profile's properties as sent less nulls and unset ones", async () => {
    // The id index and the lists' sets are filled when read (task K6F); a new profile keeps
    // the request's parsed properties object. Read here the ways the API, state() and the
    // latency bench read them, between imports, a removal and an erasure.
    await fake.close();
    let clock = Date.UTC(2026, 11, 6, 12, 0, 0, 0);
    fake = await startFakeKlaviyo({ now: () => clock });
    const newList = async (name: string) =>
      ((await (await call("/api/lists", { method: "POST", body: JSON.stringify({ data: { type: "list", attributes: { name } } }) })).json()) as { data: { id: string } }).data.id;
    const a = await newList("A");
    const b = await newList("B");
    const importJob = async (profiles: unknown[], listId: string, chunked = false) => {
      const text = JSON.stringify({ data: { type: "profile-bulk-import-job", attributes: { profiles: { data: profiles } }, relationships: { lists: { data: [{ type: "list", id: listId }] } } } });
      // Chunked: no Content-Length, so the body outgrows the fake's first buffer as it comes.
      const body = chunked ? new Blob([text]).stream() : text;
      const created = await call("/api/profile-bulk-import-jobs", { method: "POST", body, ...(chunked ? { duplex: "half" } : {}) } as RequestInit);
      expect(created.status).toBe(202);
      const id = ((await created.json()) as { data: { id: string } }).data.id;
      clock += 1_000;
      const status = (await (await call(`/api/profile-bulk-import-jobs/${id}`)).json()) as { data: { attributes: { status: string } } };
      expect(status.data.attributes.status).toBe("complete");
    };
    const zoeSent = { type: "profile", attributes: { email: "Zoe@Example.com", external_id: "1", first_name: "Zoë", properties: { tier: "gold", gone: null, later: 3 } }, meta: { patch_properties: { unset: ["later", "absent"] } } };
    await importJob([zoeSent, { type: "profile", attributes: { email: "max@example.com", external_id: "2", properties: { tier: "silver" } } }], a);
    const account = fake.state.account(KEY)!;
    const zoe = fake.state.profile("zoe@example.com", KEY)!;
    expect(zoe).toMatchObject({ first_name: "Zoë", external_id: "1", properties: { tier: "gold" } });
    expect(Object.keys(zoe.properties)).toEqual(["tier"]);
    expect(account.profiles.get(zoe.id)).toBe(zoe);
    expect(account.lists.get(a)!.profileIds.has(zoe.id)).toBe(true);

    const filler = Array.from({ length: 300 }, (_, i) => ({ type: "profile", attributes: { email: `f${i}@example.com`, first_name: "x".repeat(200) } }));
    await importJob([{ type: "profile", attributes: { email: "zoe@example.com", properties: { tier: "platinum", gone: null } } }, ...filler], b, true);
    expect(zoe.properties).toEqual({ tier: "platinum" });
    // The first job still reads as it was sent.
    expect(fake.state.jobs(KEY)[0]!.profiles[0]).toEqual(zoeSent);
    expect(fake.state.listMembers("B", KEY)).toHaveLength(301);

    expect((await call(`/api/lists/${a}/relationships/profiles`, { method: "DELETE", body: JSON.stringify({ data: [{ type: "profile", id: zoe.id }] }) })).status).toBe(204);
    expect(fake.state.listMembers("A", KEY)).toEqual(["max@example.com"]);
    const byId = (await (await call(`/api/profiles?filter=${encodeURIComponent(`equals(id,"${zoe.id}")`)}`)).json()) as { data: { attributes: { email: string } }[] };
    expect(byId.data.map((profile) => profile.attributes.email)).toEqual(["zoe@example.com"]);
    const firstPage = (await (await call("/api/profiles?page[size]=3")).json()) as { data: { attributes: { email: string } }[] };
    expect(firstPage.data.map((profile) => profile.attributes.email)).toEqual(["zoe@example.com", "max@example.com", "f0@example.com"]);

    const erasure = { data: { type: "data-privacy-deletion-job", attributes: { profile: { data: { type: "profile", id: zoe.id } } } } };
    expect((await call("/api/data-privacy-deletion-jobs", { method: "POST", body: JSON.stringify(erasure) })).status).toBe(202);
    expect(account.profiles.has(zoe.id)).toBe(false);
    expect(account.lists.get(b)!.profileIds.has(zoe.id)).toBe(false);
    expect(fake.state.listMembers("B", KEY)).toHaveLength(300);
  });

  it("sizes JSON as JSON.stringify does, for any value a request can hold", () => {
    const values: unknown[] = [
      "plain",
      "\u0000\u001f\"\\\n",
      "\ud83d\ude00 \ud800 lone",
      -1.2345678901234567e-308,
      1e21,
      -0,
      [null, true, false, { "ключ": ["значение", 12.5] }],
      { nested: { deeper: { list: Array.from({ length: 50 }, (_, i) => `item ${i}`) } } },
    ];
    for (const value of values) {
      const exact = Buffer.byteLength(JSON.stringify(value));
      expect(jsonBytesOver(value, exact)).toBe(false);
      expect(jsonBytesOver(value, exact - 1)).toBe(true);
    }
  });

  it("reads JSON:API filters", () => {
    expect(parseFilter('any(email,["a@x.com","b\\"q@x.com"])')).toEqual([{ op: "any", field: "email", values: ["a@x.com", 'b"q@x.com'] }]);
    expect(parseFilter('equals(name,"Tenure: Champions")')).toEqual([{ op: "equals", field: "name", values: ["Tenure: Champions"] }]);
  });
});
