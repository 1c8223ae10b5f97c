import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DelayedError, type Job } from "bullmq";
import { INTERRUPTED_RUN_ERROR, ensureShopifyDestination, pauseDestination, tryLockDestination, wantFullPass } from "~/data/destinations.server";
import { checkOut } from "~/db/pg.server";
import { DestinationRequestError, connectDestination, disconnectDestination, setConsentScope, setDestinationSegments } from "~/destinations/connections.server";
import { resealDestinationKeys } from "~/destinations/reseal.server";
import { keyIdOf, sealedKeyId } from "~/destinations/secrets.server";
import { DestinationBusyError, runDestinationPass } from "~/destinations/sync.server";
import { silentLogger } from "~/lib/log.server";
import { recomputeAndAskForRefit } from "~/metrics/recompute.server";
import { QUEUE, type DestinationJob } from "~/queues/contract";
import { producerQueue } from "~/queues/connections.server";
import { refitShop } from "~/refit/refit.server";
import { destinationsProcessor } from "~/worker/registry.server";
import { type FakeKlaviyo, startFakeKlaviyo } from "../../demo/fakes/klaviyo";
import { installedShop, testPool } from "../support/db";
import { metricsRow } from "../support/customer-metrics-rows";
import { destinationOf, fakeAdapters, insertCustomers, outboxOf, writeAndMark } from "../support/destinations";
import { DAY_MS, deliver, dropQueues, order } from "../support/ingested-shops";
import { fixtureTextFor } from "../support/webhook-fixtures";

// Where the rest of Tenure hands work to the destinations: the live recompute's outbox marks
// and pass request, the refit's full passes, the sweep, one pass at a time, key rotation.

let fake: FakeKlaviyo;

beforeAll(async () => {
  fake = await startFakeKlaviyo({ jobTiming: { queuedMs: 0, processingMs: 1 } });
  process.env.KLAVIYO_API_URL = fake.url;
  process.env.TENURE_QUEUE_PREFIX = `tenure-test-destinations-hooks-${process.pid}-${Date.now().toString(36)}`;
});
afterEach(async () => dropQueues());
afterAll(async () => {
  await fake.close();
  delete process.env.KLAVIYO_API_URL;
});

async function queuedDestinationJobs(): Promise<{ data: DestinationJob; delay: number }[]> {
  const jobs = await producerQueue(QUEUE.destinations).getJobs(["waiting", "delayed", "prioritized"]);
  return jobs.map((job) => ({ data: job.data as DestinationJob, delay: job.opts.delay ?? 0 }));
}

let keys = 0;

async function connected(segments: string[] = ["champions"]): Promise<{ shop: string; id: string }> {
  const shop = await installedShop("dest-hooks");
  keys += 1;
  expect(await connectDestination(testPool(), shop, "klaviyo", { apiKey: `pk_test_hooks_${process.pid}_${keys}` })).toEqual({ ok: true });
  await setDestinationSegments(testPool(), shop, "klaviyo", segments);
  const id = (await destinationOf(shop, "klaviyo"))!.id;
  await producerQueue(QUEUE.destinations).obliterate({ force: true });
  return { shop, id };
}

/** The destination's full-pass mark (durable "full pass wanted"). */
async function fullWanted(id: string): Promise<{ at: string | null; reason: string | null }> {
  const result = await testPool().query<{ at: string | null; reason: string | null }>(
    `SELECT "fullWantedAt"::text AS at, "fullWantedReason" AS reason FROM "Destination" WHERE id = $1`,
    [id],
  );
  return result.rows[0]!;
}

/** As after the full passes ran: no full pass wanted. */
async function fullPassesDone(...ids: string[]): Promise<void> {
  await testPool().query(`UPDATE "Destination" SET "fullWantedAt" = NULL, "fullWantedReason" = NULL WHERE id = ANY($1::bigint[])`, [ids]);
}

async function sweep(): Promise<DestinationJob[]> {
  await destinationsProcessor({ pool: testPool() })({ data: { task: "sweep-all" } } as never);
  return (await queuedDestinationJobs()).map((j) => j.data);
}

describe("the destinations' hooks", () => {
  it("the live recompute puts its customers in the outbox in its commit and asks for a delayed changes pass", async () => {
    const { shop, id } = await connected();
    await order(shop, 61, 5_000, new Date(Date.now() - 3 * DAY_MS));
    // Held by the destination (a shop not fitted yet scores no segment): its change must reach the tool.
    await testPool().query(
      `INSERT INTO "DestinationMember" ("destinationId", "customerId", email, segments, "syncedHash") VALUES ($1, 61, 'customer-61@example.com', '{champions}', 'x')`,
      [id],
    );
    const result = await recomputeAndAskForRefit(testPool(), shop, ["61"], { logger: silentLogger });
    expect(result.written).toBe(1);
    expect(await outboxOf(id)).toEqual(["61"]);
    expect(await queuedDestinationJobs()).toEqual([{ data: { task: "changes", destinationId: id }, delay: 5_000 }]);
  });

  it("a shop without destinations marks nothing", async () => {
    const shop = await installedShop("dest-hooks-none");
    await order(shop, 62, 5_000, new Date(Date.now() - 3 * DAY_MS));
    await recomputeAndAskForRefit(testPool(), shop, ["62"], { logger: silentLogger });
    expect(await queuedDestinationJobs()).toEqual([]);
  });

  it("a finished refit asks every destination of the shop for a full pass", async () => {
    const { shop, id } = await connected();
    await fullPassesDone(id);
    await order(shop, 63, 5_000, new Date(Date.now() - 30 * DAY_MS));
    await refitShop(testPool(), shop, { trigger: "manual" });
    expect(await queuedDestinationJobs()).toContainEqual({ data: { task: "full", destinationId: id, reason: "refit" }, delay: 0 });
    // Recorded on the destination too: a lost job is asked for again by the sweep.
    expect(await fullWanted(id)).toEqual({ at: expect.any(String), reason: "refit" });
  });

  it("the sweep asks for passes of destinations with old outbox rows or erasures waiting", async () => {
    const old = await connected();
    const fresh = await connected();
    const erasing = await connected();
    await fullPassesDone(old.id, fresh.id, erasing.id);
    await testPool().query(
      `INSERT INTO "DestinationOutbox" ("destinationId", "customerId", "changedAt") VALUES ($1, 1, (now() AT TIME ZONE 'UTC') - interval '5 minutes'), ($2, 1, now() AT TIME ZONE 'UTC')`,
      [old.id, fresh.id],
    );
    await testPool().query(`INSERT INTO "DestinationErasure" ("destinationId", "customerId", email) VALUES ($1, 9, 'gone@example.com')`, [erasing.id]);
    const processor = destinationsProcessor({ pool: testPool() });
    await processor({ data: { task: "sweep-all" } } as never);
    const jobs = (await queuedDestinationJobs()).map((j) => j.data);
    expect(jobs).toContainEqual({ task: "changes", destinationId: old.id });
    expect(jobs).toContainEqual({ task: "erase", destinationId: erasing.id });
    expect(jobs.filter((j) => "destinationId" in j && j.destinationId === fresh.id)).toEqual([]);
  });

  it("runs one pass per destination at a time: another is told the destination is busy", async () => {
    const { id } = await connected();
    const holder = await checkOut(testPool());
    try {
      expect(await tryLockDestination(holder, id)).toBe(true);
      await expect(runDestinationPass({ pool: testPool(), adapterFor: fakeAdapters({ klaviyo: fake.url }) }, id, "changes")).rejects.toBeInstanceOf(
        DestinationBusyError,
      );
    } finally {
      holder.release(true);
    }
  });

  it("re-seals keys sealed under a retired key, and a pass still opens them meanwhile", async () => {
    const { id } = await connected();
    const before = (await testPool().query<{ sealed: string }>(`SELECT "sealedCredentials" AS sealed FROM "Destination" WHERE id = $1`, [id])).rows[0]!.sealed;
    const previous = process.env.TENURE_ENCRYPTION_KEY!;
    const next = randomBytes(32);
    process.env.TENURE_ENCRYPTION_KEY = next.toString("base64");
    process.env.TENURE_ENCRYPTION_KEYS_RETIRED = previous;
    try {
      const pass = await runDestinationPass({ pool: testPool(), adapterFor: fakeAdapters({ klaviyo: fake.url }) }, id, "changes");
      expect(pass.status).toBe("done");
      const after = (await testPool().query<{ sealed: string }>(`SELECT "sealedCredentials" AS sealed FROM "Destination" WHERE id = $1`, [id])).rows[0]!.sealed;
      expect(sealedKeyId(before)).not.toBe(keyIdOf(next));
      expect(sealedKeyId(after)).toBe(keyIdOf(next));
      const report = await resealDestinationKeys(testPool());
      expect(report.unreadable.filter((u) => u.destinationId === id)).toEqual([]);
    } finally {
      process.env.TENURE_ENCRYPTION_KEY = previous;
      delete process.env.TENURE_ENCRYPTION_KEYS_RETIRED;
    }
  });

  it("a key rotation leaves keyless destinations (the Shopify write-back, Flow) alone: nothing to re-seal, nothing unreadable", async () => {
    const { shop } = await connected();
    const writeback = await ensureShopifyDestination(testPool(), shop);
    const previous = process.env.TENURE_ENCRYPTION_KEY!;
    process.env.TENURE_ENCRYPTION_KEY = randomBytes(32).toString("base64");
    process.env.TENURE_ENCRYPTION_KEYS_RETIRED = previous;
    try {
      const report = await resealDestinationKeys(testPool());
      expect(report.unreadable.filter((u) => u.destinationId === writeback.id)).toEqual([]);
      const sealed = (await testPool().query<{ sealed: string }>(`SELECT "sealedCredentials" AS sealed FROM "Destination" WHERE id = $1`, [writeback.id])).rows[0]!.sealed;
      expect(sealed).toBe("");
    } finally {
      process.env.TENURE_ENCRYPTION_KEY = previous;
      delete process.env.TENURE_ENCRYPTION_KEYS_RETIRED;
    }
  });

  it("a full pass wanted survives a lost job: the sweep asks for it until a full pass ran", async () => {
    // connected() chose the segments, then lost every queued job (the queue obliterated).
    const { id } = await connected();
    expect(await fullWanted(id)).toEqual({ at: expect.any(String), reason: "initial" });
    expect(await sweep()).toContainEqual({ task: "full", destinationId: id, reason: "initial" });
    await producerQueue(QUEUE.destinations).obliterate({ force: true });

    const pass = await runDestinationPass({ pool: testPool(), adapterFor: fakeAdapters({ klaviyo: fake.url }) }, id, "full", "initial");
    expect(pass.status).toBe("done");
    expect(await fullWanted(id)).toEqual({ at: null, reason: null });
    expect((await sweep()).filter((j) => "destinationId" in j && j.destinationId === id)).toEqual([]);
  });

  it("a consent scope change records its full pass in its own transaction", async () => {
    const { shop, id } = await connected();
    await fullPassesDone(id);
    await setConsentScope(testPool(), shop, "klaviyo", "all");
    expect(await fullWanted(id)).toEqual({ at: expect.any(String), reason: "settings" });
  });

  it("a full pass asked for while a full pass runs stays wanted for the next one", async () => {
    const { id } = await connected();
    const real = fakeAdapters({ klaviyo: fake.url });
    // The merchant changes a setting while the pass is under way (after it read the destination).
    const adapterFor: typeof real = (kind, apiKey, account) => {
      const adapter = real(kind, apiKey, account);
      return {
        ...adapter,
        ensureTargets: async (targets) => {
          await wantFullPass(testPool(), id, "settings");
          return adapter.ensureTargets(targets);
        },
      };
    };
    expect((await runDestinationPass({ pool: testPool(), adapterFor }, id, "full", "initial")).status).toBe("done");
    expect(await fullWanted(id)).toEqual({ at: expect.any(String), reason: "initial" });
    expect((await runDestinationPass({ pool: testPool(), adapterFor: real }, id, "full", "initial")).status).toBe("done");
    expect(await fullWanted(id)).toEqual({ at: null, reason: null });
  });

  it("a paused destination keeps its wanted full pass, and the sweep leaves it until it is active", async () => {
    const { id } = await connected();
    await pauseDestination(testPool(), id, "paused for the test");
    expect((await runDestinationPass({ pool: testPool(), adapterFor: fakeAdapters({ klaviyo: fake.url }) }, id, "full", "initial")).status).toBe("paused");
    expect(await fullWanted(id)).toEqual({ at: expect.any(String), reason: "initial" });
    expect((await sweep()).filter((j) => "destinationId" in j && j.destinationId === id)).toEqual([]);
  });

  it("a full pass drains the outbox rows of the customers it compared", async () => {
    const { shop, id } = await connected();
    await insertCustomers(shop, [{ id: 81 }]);
    await writeAndMark(shop, [metricsRow(81, { segment: "champions" })]);
    expect(await outboxOf(id)).toEqual(["81"]);
    expect((await runDestinationPass({ pool: testPool(), adapterFor: fakeAdapters({ klaviyo: fake.url }) }, id, "full", "initial")).status).toBe("done");
    expect(await outboxOf(id)).toEqual([]);
  });

  it("a Mailchimp destination waiting for its audience gets no sweep pass", async () => {
    const shop = await installedShop("dest-hooks-mc");
    const inserted = await testPool().query<{ id: string }>(
      `INSERT INTO "Destination" (shop, kind, "sealedCredentials", account, "fullWantedAt", "fullWantedReason")
       VALUES ($1, 'mailchimp', 'v1:unused', '{"dc":"us1"}', now() AT TIME ZONE 'UTC', 'settings') RETURNING id::text AS id`,
      [shop],
    );
    const id = inserted.rows[0]!.id;
    await testPool().query(
      `INSERT INTO "DestinationOutbox" ("destinationId", "customerId", "changedAt") VALUES ($1, 1, (now() AT TIME ZONE 'UTC') - interval '5 minutes')`,
      [id],
    );
    expect((await sweep()).filter((j) => "destinationId" in j && j.destinationId === id)).toEqual([]);
  });

  it("the live path marks every customer it writes, in a chosen segment or not (one a pass is sending has no member row yet)", async () => {
    const { shop, id } = await connected(["champions"]);
    await insertCustomers(shop, [{ id: 71 }, { id: 72 }, { id: 73 }]);
    // 73 is held (sent earlier in a segment no longer chosen): leaving must reach the tool.
    await testPool().query(
      `INSERT INTO "DestinationMember" ("destinationId", "customerId", email, segments, "syncedHash") VALUES ($1, 73, 'customer-73@example.com', '{hibernating}', 'x')`,
      [id],
    );
    await writeAndMark(shop, [metricsRow(71, { segment: "hibernating" }), metricsRow(72, { segment: "champions" }), metricsRow(73, { segment: "hibernating" })]);
    expect(await outboxOf(id)).toEqual(["71", "72", "73"]);
  });

  it("a run left 'running' by a worker that died is failed as interrupted by the next pass", async () => {
    const { id } = await connected();
    await testPool().query(`INSERT INTO "DestinationRun" ("destinationId", kind, total) VALUES ($1, 'full', 10)`, [id]);
    await runDestinationPass({ pool: testPool(), adapterFor: fakeAdapters({ klaviyo: fake.url }) }, id, "changes");
    const runs = await testPool().query(`SELECT status, error, "finishedAt" IS NOT NULL AS finished FROM "DestinationRun" WHERE "destinationId" = $1`, [id]);
    expect(runs.rows).toEqual([{ status: "failed", error: INTERRUPTED_RUN_ERROR, finished: true }]);
  });

  it("a rate limit with Retry-After delays the job by that long without using an attempt", async () => {
    const { shop, id } = await connected();
    await insertCustomers(shop, [{ id: 85 }]);
    await writeAndMark(shop, [metricsRow(85, { segment: "champions" })]);
    fake.inject.rateLimitStorm(1_000, 120);
    const delays: number[] = [];
    const job = { data: { task: "changes", destinationId: id }, moveToDelayed: async (timestamp: number) => void delays.push(timestamp) } as unknown as Job;
    const before = Date.now();
    try {
      // 120 s is longer than the HTTP client waits in place (maxRetryAfterMs): the job waits instead.
      const processor = destinationsProcessor({ pool: testPool(), adapterFor: fakeAdapters({ klaviyo: fake.url }) });
      await expect(processor(job, "token")).rejects.toBeInstanceOf(DelayedError);
    } finally {
      fake.inject.rateLimitStorm(0);
    }
    expect(delays).toHaveLength(1);
    expect(delays[0]! - before).toBeGreaterThanOrEqual(120_000);
    expect(delays[0]! - Date.now()).toBeLessThanOrEqual(120_000);
    expect(await outboxOf(id)).toEqual(["85"]);
  });

  it("customers/redact asks every destination of the shop to erase the customer, and forgets their failures", async () => {
    // Never synced (a push that landed and then threw leaves no member row), one failure recorded.
    const { shop, id } = await connected();
    await insertCustomers(shop, [{ id: 7390571233329, email: "maya.okafor@example.com" }]);
    await testPool().query(
      `INSERT INTO "DestinationFailure" ("destinationId", "customerId", email, reason) VALUES ($1, 7390571233329, 'maya.okafor@example.com', 'refused')`,
      [id],
    );
    await deliver(shop, "customers/redact", JSON.parse(fixtureTextFor("customers-redact", shop)));
    const erasures = await testPool().query(`SELECT "customerId"::text AS "customerId", email FROM "DestinationErasure" WHERE "destinationId" = $1`, [id]);
    expect(erasures.rows).toEqual([{ customerId: "7390571233329", email: "maya.okafor@example.com" }]);
    expect(await testPool().query(`SELECT 1 FROM "DestinationFailure" WHERE "destinationId" = $1`, [id])).toMatchObject({ rowCount: 0 });
  });

  it("disconnecting is refused while redacted customers are still to be erased from the tool", async () => {
    const { shop, id } = await connected();
    await testPool().query(`INSERT INTO "DestinationErasure" ("destinationId", "customerId", email) VALUES ($1, 9, 'gone@example.com')`, [id]);
    const refusal = disconnectDestination(testPool(), shop, "klaviyo");
    await expect(refusal).rejects.toBeInstanceOf(DestinationRequestError);
    await expect(refusal).rejects.toThrow(/must first delete 1 redacted customer from Klaviyo/);
    expect(await destinationOf(shop, "klaviyo")).toMatchObject({ id });
    expect((await queuedDestinationJobs()).map((j) => j.data)).toContainEqual({ task: "erase", destinationId: id });

    await runDestinationPass({ pool: testPool(), adapterFor: fakeAdapters({ klaviyo: fake.url }) }, id, "changes");
    await testPool().query(`DELETE FROM "DestinationErasure" WHERE "destinationId" = $1`, [id]);
    await disconnectDestination(testPool(), shop, "klaviyo");
    expect(await destinationOf(shop, "klaviyo")).toBeUndefined();
  });
});
