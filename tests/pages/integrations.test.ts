import { Queue } from "bullmq";
import { Redis } from "ioredis";
import type pg from "pg";
import { type FakeKlaviyo, startFakeKlaviyo } from "../../demo/fakes/klaviyo";
import { FAKE_AUDIENCE_ID, FAKE_MAILCHIMP_KEY, type FakeMailchimp, startFakeMailchimp } from "../../demo/fakes/mailchimp";
import { closeProducerQueues } from "~/queues/connections.server";
import { QUEUE } from "~/queues/contract";
import type * as IntegrationsRouteModule from "~/routes/app.integrations";
import { DESTINATION_COUNT_CAP, DESTINATION_FAILURES_SHOWN, destinationsOfSegment } from "~/data/destination-status.server";
import { loadIntegrationsPage, loadSegmentDestinations, submitIntegrations } from "~/pages/integrations.server";
import { uniqueShop } from "../support/db";
import { insertShop, poolForTests } from "../support/precomputed-rows";

// The Integrations page's data and action, on real PostgreSQL: each destination's state as
// the tables hold it (never the sealed key), the segment page's "Synced to", and every bad
// submission refused with a reason and nothing written. Connecting against the fakes is in
// the second half of the file.

const pool = poolForTests();
const SEALED = "v1:abcd1234:iv:tag:SECRET-CIPHERTEXT";

async function destination(db: pg.Pool, shop: string, kind: string, values: { status?: string; notice?: string; account?: object; consentScope?: string } = {}) {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO "Destination" (shop, kind, status, notice, "sealedCredentials", account, "consentScope")
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) RETURNING id::text AS id`,
    [shop, kind, values.status ?? "active", values.notice ?? null, SEALED, JSON.stringify(values.account ?? {}), values.consentScope ?? "subscribed"],
  );
  return rows[0].id;
}

async function run(
  db: pg.Pool,
  destinationId: string,
  values: { kind: string; status: string; startedAt: string; finishedAt?: string; total?: number; compared?: number; sent?: number; failed?: number; leftOut?: number; error?: string },
) {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO "DestinationRun" ("destinationId", kind, status, total, compared, sent, failed, "leftOut", error, "startedAt", "finishedAt")
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id::text AS id`,
    [
      destinationId,
      values.kind,
      values.status,
      values.total ?? null,
      values.compared ?? 0,
      values.sent ?? 0,
      values.failed ?? 0,
      values.leftOut ?? 0,
      values.error ?? null,
      values.startedAt,
      values.finishedAt ?? null,
    ],
  );
  return rows[0].id;
}

const post = (fields: Record<string, string | string[]>, init: { method?: string; headers?: Record<string, string> } = {}) => {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) for (const item of Array.isArray(value) ? value : [value]) body.append(name, item);
  return new Request("https://tenure.test/app/integrations", { method: init.method ?? "POST", body: init.method === "GET" ? undefined : body, headers: init.headers });
};

async function countRows(table: string, shop: string) {
  const { rows } = await pool().query<{ n: number }>(
    table === "Destination"
      ? `SELECT count(*)::int AS n FROM "Destination" WHERE shop = $1`
      : `SELECT count(*)::int AS n FROM "${table}" t JOIN "Destination" d ON d.id = t."destinationId" WHERE d.shop = $1`,
    [shop],
  );
  return rows[0].n;
}

describe("integrations page data", () => {
  it("shows both email tools as not connected for a shop without any", async () => {
    const shop = uniqueShop("none");
    await insertShop(pool(), shop);
    const page = await loadIntegrationsPage(pool(), shop);
    expect(page.destinations.map((d) => ({ kind: d.kind, label: d.label, connected: d.connected, status: d.status, consentScope: d.consentScope }))).toEqual([
      { kind: "klaviyo", label: "Klaviyo", connected: false, status: null, consentScope: "subscribed" },
      { kind: "mailchimp", label: "Mailchimp", connected: false, status: null, consentScope: "subscribed" },
    ]);
    // Every segment can be chosen, by the merchant's names.
    expect(page.segmentChoices.rfm.map((choice) => choice.key)).toContain("champions");
    expect(page.segmentChoices.behaviour.map((choice) => choice.key)).toContain("first-time-buyer");
  });

  it("reads a destination's state, segments by the merchant's names, last and running pass, pending counts and the newest failures; never the sealed key or another shop's", async () => {
    const db = pool();
    const shop = uniqueShop("klaviyo");
    const other = uniqueShop("neighbour");
    await insertShop(db, shop);
    await db.query(`INSERT INTO "ShopSettings" (shop, "segmentLabels", "updatedAt") VALUES ($1, $2::jsonb, now())`, [shop, JSON.stringify({ champions: "Best friends" })]);
    const id = await destination(db, shop, "klaviyo", { account: { accountId: "ABC", name: "Tea Shop" }, consentScope: "all" });
    await db.query(`INSERT INTO "DestinationSegment" ("destinationId", "segmentKey", "remoteId", "remoteName") VALUES ($1, 'champions', 'L1', 'Tenure: Best friends'), ($1, 'vip', NULL, NULL)`, [id]);
    await run(db, id, { kind: "initial", status: "done", startedAt: "2026-12-01T10:00:00Z", finishedAt: "2026-12-01T10:05:00Z", total: 500, compared: 500, sent: 300, failed: 2, leftOut: 198 });
    await run(db, id, { kind: "changes", status: "failed", startedAt: "2026-12-02T10:00:00Z", finishedAt: "2026-12-02T10:00:10Z", sent: 4, error: "Klaviyo did not answer" });
    await run(db, id, { kind: "full", status: "running", startedAt: "2026-12-03T10:00:00Z", total: 600, compared: 150, sent: 20 });
    await db.query(
      `INSERT INTO "DestinationOutbox" ("destinationId", "customerId") SELECT $1, n FROM generate_series(1, $2::int) n`,
      [id, DESTINATION_COUNT_CAP + 10],
    );
    await db.query(`INSERT INTO "DestinationErasure" ("destinationId", "customerId", email) VALUES ($1, 7, 'gone@example.com')`, [id]);
    for (let n = 0; n < DESTINATION_FAILURES_SHOWN + 3; n++) {
      await db.query(`INSERT INTO "DestinationFailure" ("destinationId", "customerId", email, reason, at) VALUES ($1, $2, $3, $4, $5)`, [
        id,
        n,
        `c${n}@example.com`,
        `reason ${n}`,
        new Date(Date.UTC(2026, 11, 1, 0, n)).toISOString(),
      ]);
    }
    const otherId = await destination(db, other, "klaviyo", { status: "paused", notice: "the neighbour's key" });
    await db.query(`INSERT INTO "DestinationFailure" ("destinationId", email, reason) VALUES ($1, 'neighbour@example.com', 'the neighbour''s failure')`, [otherId]);

    const page = await loadIntegrationsPage(db, shop);
    const klaviyo = page.destinations[0];
    expect(klaviyo).toMatchObject({
      kind: "klaviyo",
      connected: true,
      status: "active",
      notice: null,
      accountName: "Tea Shop",
      consentScope: "all",
      segments: [
        { key: "champions", name: "Best friends", remoteName: "Tenure: Best friends" },
        { key: "vip", name: "VIP", remoteName: null },
      ],
      lastRun: { kind: "changes", status: "failed", sent: 4, error: "Klaviyo did not answer", startedAtIso: "2026-12-02T10:00:00.000Z", finishedAtIso: "2026-12-02T10:00:10.000Z" },
      lastFullRun: { kind: "initial", status: "done", total: 500, compared: 500, sent: 300, failed: 2, leftOut: 198 },
      runningRun: { kind: "full", status: "running", total: 600, compared: 150, sent: 20, finishedAtIso: null },
      pendingChanges: DESTINATION_COUNT_CAP + 1,
      pendingErasures: 1,
    });
    expect(klaviyo.failures).toHaveLength(DESTINATION_FAILURES_SHOWN);
    expect(klaviyo.failures[0]).toEqual({ email: `c${DESTINATION_FAILURES_SHOWN + 2}@example.com`, reason: `reason ${DESTINATION_FAILURES_SHOWN + 2}`, atIso: expect.any(String) });
    expect(page.destinations[1]).toMatchObject({ kind: "mailchimp", connected: false });
    expect(page.segmentChoices.rfm.find((choice) => choice.key === "champions")?.name).toBe("Best friends");
    const text = JSON.stringify(page);
    expect(text).not.toContain("SECRET-CIPHERTEXT");
    expect(text).not.toContain("neighbour");
  });

  it("says a paused destination is paused, with the reason", async () => {
    const shop = uniqueShop("paused");
    await insertShop(pool(), shop);
    await destination(pool(), shop, "klaviyo", { status: "paused", notice: "Klaviyo refused the key: it was revoked." });
    const page = await loadIntegrationsPage(pool(), shop);
    expect(page.destinations[0]).toMatchObject({ connected: true, status: "paused", notice: "Klaviyo refused the key: it was revoked." });
  });

  it("lists where a segment is synced, with its list name and the last completed pass; only the shop's own", async () => {
    const db = pool();
    const shop = uniqueShop("synced-to");
    const other = uniqueShop("neighbour");
    const klaviyo = await destination(db, shop, "klaviyo");
    const mailchimp = await destination(db, shop, "mailchimp", { status: "paused", notice: "revoked" });
    const otherKlaviyo = await destination(db, other, "klaviyo");
    await db.query(`INSERT INTO "DestinationSegment" ("destinationId", "segmentKey", "remoteName") VALUES ($1, 'champions', 'Tenure: Champions'), ($2, 'champions', NULL), ($3, 'champions', 'x')`, [
      klaviyo,
      mailchimp,
      otherKlaviyo,
    ]);
    await run(db, klaviyo, { kind: "initial", status: "done", startedAt: "2026-12-01T10:00:00Z", finishedAt: "2026-12-01T10:05:00Z" });
    await run(db, klaviyo, { kind: "changes", status: "failed", startedAt: "2026-12-02T10:00:00Z", finishedAt: "2026-12-02T10:01:00Z" });
    expect(await destinationsOfSegment(db, shop, "champions")).toEqual([
      { kind: "klaviyo", status: "active", notice: null, remoteName: "Tenure: Champions", lastSentAt: new Date("2026-12-01T10:05:00Z"), running: false },
      { kind: "mailchimp", status: "paused", notice: "revoked", remoteName: null, lastSentAt: null, running: false },
    ]);
    expect(await destinationsOfSegment(db, shop, "vip")).toEqual([]);
    const shown = await loadSegmentDestinations(db, shop, "champions");
    expect(shown.destinations[0]).toEqual({ kind: "klaviyo", status: "active", notice: null, remoteName: "Tenure: Champions", lastSentAtIso: "2026-12-01T10:05:00.000Z", running: false });
    expect(shown.nowIso).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
});

describe("integrations page action: bad input is refused with a reason and nothing is written", () => {
  const APP_URL = "https://tenure.test";

  it("refuses another method than POST", async () => {
    const shop = uniqueShop("method");
    const outcome = await submitIntegrations(pool(), shop, post({ intent: "sync", kind: "klaviyo" }, { method: "PUT" }), APP_URL);
    expect(outcome.status).toBe(405);
    expect(outcome.result).toMatchObject({ ok: false, message: expect.stringMatching(/PUT is not how this page changes anything/) });
  });

  it("refuses a form posted from another website (Origin or Sec-Fetch-Site), and accepts the app's own origin", async () => {
    const shop = uniqueShop("csrf");
    await destination(pool(), shop, "klaviyo");
    const crossSite: Record<string, string>[] = [{ origin: "https://evil.example" }, { "sec-fetch-site": "cross-site" }, { origin: "null" }];
    for (const headers of crossSite) {
      const outcome = await submitIntegrations(pool(), shop, post({ intent: "disconnect", kind: "klaviyo" }, { headers }), APP_URL);
      expect(outcome.status, JSON.stringify(headers)).toBe(403);
      expect(outcome.result.message).toMatch(/refused/);
    }
    expect(await countRows("Destination", shop)).toBe(1);
    // The app's own origin passes the check (and reaches the "connect it first" refusal for Mailchimp).
    const own = await submitIntegrations(pool(), shop, post({ intent: "sync", kind: "mailchimp" }, { headers: { origin: APP_URL, "sec-fetch-site": "same-origin" } }), APP_URL);
    expect(own).toMatchObject({ status: 409, result: { ok: false, kind: "mailchimp", message: "Mailchimp is not connected: connect it first." } });
  });

  it("refuses an unknown action and an unknown email tool", async () => {
    const shop = uniqueShop("unknown");
    const action = await submitIntegrations(pool(), shop, post({ intent: "explode", kind: "klaviyo" }), APP_URL);
    expect(action).toMatchObject({ status: 400, result: { ok: false, message: expect.stringMatching(/Unknown action "explode"/) } });
    const kind = await submitIntegrations(pool(), shop, post({ intent: "connect", kind: "hubspot", apiKey: "pk_x" }), APP_URL);
    expect(kind).toMatchObject({ status: 400, result: { ok: false, intent: "connect", message: expect.stringMatching(/"hubspot" is not an email tool Tenure connects to/) } });
    expect(await countRows("Destination", shop)).toBe(0);
  });

  it("refuses an empty or malformed API key without calling anyone or storing anything", async () => {
    const shop = uniqueShop("empty-key");
    const empty = await submitIntegrations(pool(), shop, post({ intent: "connect", kind: "klaviyo", apiKey: "   " }), APP_URL);
    expect(empty).toMatchObject({ status: 400, result: { ok: false, intent: "connect", kind: "klaviyo", field: "apiKey", message: "Paste your Klaviyo private API key to connect." } });
    const spaced = await submitIntegrations(pool(), shop, post({ intent: "connect", kind: "mailchimp", apiKey: "abc def-us1" }), APP_URL);
    expect(spaced).toMatchObject({ status: 400, result: { ok: false, field: "apiKey", message: expect.stringMatching(/does not look like a Mailchimp API key/) } });
    expect(JSON.stringify(spaced)).not.toContain("abc def");
    expect(await countRows("Destination", shop)).toBe(0);
  });

  it("refuses an unknown segment key and leaves the chosen segments as they were", async () => {
    const db = pool();
    const shop = uniqueShop("bad-segment");
    const id = await destination(db, shop, "klaviyo");
    await db.query(`INSERT INTO "DestinationSegment" ("destinationId", "segmentKey") VALUES ($1, 'champions')`, [id]);
    const outcome = await submitIntegrations(pool(), shop, post({ intent: "segments", kind: "klaviyo", segment: ["vip", "best-ever"] }), APP_URL);
    expect(outcome).toMatchObject({ status: 400, result: { ok: false, field: "segments", message: expect.stringMatching(/"best-ever" is not a segment: nothing was changed/) } });
    const { rows } = await db.query(`SELECT "segmentKey" FROM "DestinationSegment" WHERE "destinationId" = $1`, [id]);
    expect(rows).toEqual([{ segmentKey: "champions" }]);
  });

  it("refuses an unknown consent choice, and a Mailchimp audience for Klaviyo", async () => {
    const db = pool();
    const shop = uniqueShop("bad-scope");
    await destination(db, shop, "klaviyo");
    const scope = await submitIntegrations(pool(), shop, post({ intent: "consent", kind: "klaviyo", scope: "some" }), APP_URL);
    expect(scope).toMatchObject({ status: 400, result: { ok: false, field: "scope", message: expect.stringMatching(/"some" is not a choice/) } });
    const audience = await submitIntegrations(pool(), shop, post({ intent: "audience", kind: "klaviyo", audienceId: "abc" }), APP_URL);
    expect(audience).toMatchObject({ status: 400, result: { ok: false, message: "Only Mailchimp has audiences to choose." } });
    const { rows } = await db.query(`SELECT "consentScope" FROM "Destination" WHERE shop = $1`, [shop]);
    expect(rows).toEqual([{ consentScope: "subscribed" }]);
  });

  it("refuses to change a tool that is not connected", async () => {
    const shop = uniqueShop("not-connected");
    const forms: Record<string, string>[] = [
      { intent: "segments", kind: "klaviyo", segment: "champions" },
      { intent: "consent", kind: "mailchimp", scope: "all" },
      { intent: "sync", kind: "klaviyo" },
      { intent: "disconnect", kind: "klaviyo" },
    ];
    for (const fields of forms) {
      const outcome = await submitIntegrations(pool(), shop, post(fields), APP_URL);
      expect(outcome.status, fields.intent).toBe(409);
      expect(outcome.result.message).toMatch(/is not connected: connect it first/);
    }
    expect(await countRows("Destination", shop)).toBe(0);
  });

  it("refuses a body that is not a form", async () => {
    const shop = uniqueShop("not-a-form");
    const request = new Request("https://tenure.test/app/integrations", { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    const outcome = await submitIntegrations(pool(), shop, request, APP_URL);
    expect(outcome).toMatchObject({ status: 400, result: { ok: false, message: "The form could not be read. Reload the page and try again." } });
  });
});

describe("integrations page action: connecting against the fakes (HTTP boundary)", () => {
  const APP_URL = "https://tenure.test";
  let klaviyo: FakeKlaviyo;
  let mailchimp: FakeMailchimp;
  const saved = { klaviyo: process.env.KLAVIYO_API_URL, mailchimp: process.env.MAILCHIMP_API_URL, prefix: process.env.TENURE_QUEUE_PREFIX };

  beforeAll(async () => {
    klaviyo = await startFakeKlaviyo({
      apiKeys: { pk_full_access: {}, pk_read_only: { scopes: ["accounts:read", "lists:read", "profiles:read"] } },
    });
    mailchimp = await startFakeMailchimp();
    process.env.KLAVIYO_API_URL = klaviyo.url;
    process.env.MAILCHIMP_API_URL = mailchimp.url;
    // connectDestination queues a pass: on a queue prefix of this file's own.
    process.env.TENURE_QUEUE_PREFIX = `tenure-test-integrations-${process.pid}-${Date.now()}`;
  });

  afterAll(async () => {
    await closeProducerQueues();
    const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE.destinations, { connection: redis, prefix: process.env.TENURE_QUEUE_PREFIX });
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    redis.disconnect();
    await Promise.all([klaviyo.close(), mailchimp.close()]);
    // process.env turns undefined into "undefined": delete what was not set.
    const restore = (name: string, value: string | undefined) => (value === undefined ? delete process.env[name] : (process.env[name] = value));
    restore("KLAVIYO_API_URL", saved.klaviyo);
    restore("MAILCHIMP_API_URL", saved.mailchimp);
    restore("TENURE_QUEUE_PREFIX", saved.prefix);
  });

  it("a key without the scopes Tenure needs is refused, naming the missing scopes, and nothing is stored", async () => {
    const shop = uniqueShop("scopes");
    const outcome = await submitIntegrations(pool(), shop, post({ intent: "connect", kind: "klaviyo", apiKey: "pk_read_only" }), APP_URL);
    expect(outcome.status).toBe(400);
    expect(outcome.result).toMatchObject({ ok: false, intent: "connect", field: "apiKey", missingScopes: expect.arrayContaining(["lists:write"]) });
    expect(outcome.result.message).not.toBe("");
    expect(JSON.stringify(outcome)).not.toContain("pk_read_only");
    expect(await countRows("Destination", shop)).toBe(0);
  });

  it("a good key connects: stored sealed, never in the page's data; the page then offers Mailchimp's audiences", async () => {
    const shop = uniqueShop("connect");
    await insertShop(pool(), shop);
    const connected = await submitIntegrations(pool(), shop, post({ intent: "connect", kind: "klaviyo", apiKey: "pk_full_access" }), APP_URL);
    expect(connected).toMatchObject({ status: 200, result: { ok: true, intent: "connect", kind: "klaviyo" } });
    const stored = await pool().query<{ sealed: string }>(`SELECT "sealedCredentials" AS sealed FROM "Destination" WHERE shop = $1 AND kind = 'klaviyo'`, [shop]);
    expect(stored.rows[0].sealed).toMatch(/^v1:/);
    expect(stored.rows[0].sealed).not.toContain("pk_full_access");

    const chimp = await submitIntegrations(pool(), shop, post({ intent: "connect", kind: "mailchimp", apiKey: FAKE_MAILCHIMP_KEY }), APP_URL);
    expect(chimp.result.ok).toBe(true);
    const page = await loadIntegrationsPage(pool(), shop);
    expect(page.destinations.map((d) => [d.kind, d.connected, d.status])).toEqual([
      ["klaviyo", true, "active"],
      ["mailchimp", true, "active"],
    ]);
    expect(page.destinations[1].audiences).toEqual([{ id: FAKE_AUDIENCE_ID, name: "Newsletter", memberCount: 0 }]);
    const text = JSON.stringify(page);
    expect(text).not.toContain("pk_full_access");
    expect(text).not.toContain(FAKE_MAILCHIMP_KEY);

    // An audience the account does not have is refused; the one it has is chosen and the list is no longer offered.
    const wrong = await submitIntegrations(pool(), shop, post({ intent: "audience", kind: "mailchimp", audienceId: "nope" }), APP_URL);
    expect(wrong).toMatchObject({ status: 400, result: { ok: false, message: expect.stringMatching(/^Mailchimp: .*Nothing was changed\.$/) } });
    const chosen = await submitIntegrations(pool(), shop, post({ intent: "audience", kind: "mailchimp", audienceId: FAKE_AUDIENCE_ID }), APP_URL);
    expect(chosen.result.ok).toBe(true);
    const after = await loadIntegrationsPage(pool(), shop);
    expect(after.destinations[1]).toMatchObject({ audience: { id: FAKE_AUDIENCE_ID, name: "Newsletter" }, audiences: null });

    // Paused because the audience went missing (a setup pause, not the key): the page offers
    // the audiences again, and choosing one resumes the sync.
    await pool().query(
      `UPDATE "Destination" SET status = 'paused', notice = 'The Mailchimp audience Newsletter no longer exists.', account = account || '{"pausedFor": "setup"}'
       WHERE shop = $1 AND kind = 'mailchimp'`,
      [shop],
    );
    const pausedPage = await loadIntegrationsPage(pool(), shop);
    expect(pausedPage.destinations[1]).toMatchObject({ status: "paused", pausedForSetup: true, audiences: [{ id: FAKE_AUDIENCE_ID, name: "Newsletter", memberCount: 0 }] });
    expect(pausedPage.destinations[0].pausedForSetup).toBe(false);
    const resumed = await submitIntegrations(pool(), shop, post({ intent: "audience", kind: "mailchimp", audienceId: FAKE_AUDIENCE_ID }), APP_URL);
    expect(resumed.result.ok).toBe(true);
    expect((await loadIntegrationsPage(pool(), shop)).destinations[1]).toMatchObject({ status: "active", pausedForSetup: false, notice: null });

    const disconnected = await submitIntegrations(pool(), shop, post({ intent: "disconnect", kind: "klaviyo" }), APP_URL);
    expect(disconnected.result.ok).toBe(true);
    expect((await loadIntegrationsPage(pool(), shop)).destinations[0].connected).toBe(false);
  });
});

describe("the integrations route (demo mode)", () => {
  const demoShop = uniqueShop("demo-integrations");
  let route: typeof IntegrationsRouteModule;

  beforeAll(async () => {
    vi.resetModules();
    process.env.TENURE_DEMO_MODE = "true";
    process.env.TENURE_DEMO_SHOP = demoShop;
    route = await import("~/routes/app.integrations");
  });

  afterAll(async () => {
    const { closePgPool } = await import("~/db/pg.server");
    await closePgPool();
    process.env.TENURE_DEMO_MODE = "false";
    delete process.env.TENURE_DEMO_SHOP;
    vi.resetModules();
  });

  it("answers a refused form with its status and reason as JSON, and loads the demo shop's page", async () => {
    await insertShop(pool(), demoShop);
    const response = await route.action({ request: post({ intent: "connect", kind: "klaviyo", apiKey: "" }), params: {}, context: {} });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ ok: false, intent: "connect", kind: "klaviyo", field: "apiKey" });
    const crossSite = await route.action({ request: post({ intent: "sync", kind: "klaviyo" }, { headers: { origin: "https://evil.example" } }), params: {}, context: {} });
    expect(crossSite.status).toBe(403);
    const page = await route.loader({ request: new Request("https://tenure.test/app/integrations"), params: {}, context: {} });
    expect(page).toMatchObject({ shop: demoShop, destinations: [{ kind: "klaviyo", connected: false }, { kind: "mailchimp", connected: false }] });
  });
});
