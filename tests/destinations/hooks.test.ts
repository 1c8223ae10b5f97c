import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { tryLockDestination } from "~/data/destinations.server";
import { checkOut } from "~/db/pg.server";
import { connectDestination, setDestinationSegments } from "~/destinations/connections.server";
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
import { destinationOf, fakeAdapters, outboxOf } from "../support/destinations";
import { DAY_MS, dropQueues, order } from "../support/ingested-shops";

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

describe("the destinations' hooks", () => {
  it("the live recompute puts its customers in the outbox in its commit and asks for a delayed changes pass", async () => {
    const { shop, id } = await connected();
    await order(shop, 61, 5_000, new Date(Date.now() - 3 * DAY_MS));
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
    await order(shop, 63, 5_000, new Date(Date.now() - 30 * DAY_MS));
    await refitShop(testPool(), shop, { trigger: "manual" });
    expect(await queuedDestinationJobs()).toContainEqual({ data: { task: "full", destinationId: id, reason: "refit" }, delay: 0 });
  });

  it("the sweep asks for passes of destinations with old outbox rows or erasures waiting", async () => {
    const old = await connected();
    const fresh = await connected();
    const erasing = await connected();
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
});
