import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { silentLogger } from "~/lib/log.server";
import { connectDestination, setDestinationSegments } from "~/destinations/connections.server";
import { BEHAVIOURAL_SEGMENT_KEYS } from "~/analytics/behaviour";
import { RFM_SEGMENT_KEYS, segmentName } from "~/display/segment-names";
import { tryLockDestination } from "~/data/destinations.server";
import { checkOut } from "~/db/pg.server";
import { QUEUE } from "~/queues/contract";
import { producerQueue } from "~/queues/connections.server";
import { enqueueDestination, enqueueIngest } from "~/queues/enqueue.server";
import { refitShop } from "~/refit/refit.server";
import { type WorkersHandle, startWorkers } from "~/worker/workers.server";
import { type FakeKlaviyo, startFakeKlaviyo } from "../../demo/fakes/klaviyo";
import { insertDelivery, testDb, testPool, uniqueShop } from "../support/db";
import { destinationOf, outboxOf } from "../support/destinations";
import { DAY_MS, REDIS_URL, createShop, dropQueues, order } from "../support/ingested-shops";
import { waitFor } from "../support/wait-for";
import { consentPayload, customerPayload, orderPayload, withConsent } from "../support/webhook-payloads";

// From a webhook to Klaviyo's list, through the real workers: the intake's row, the ingest
// worker, the live recompute marking the outbox, the destinations worker's pass and the
// real adapter against the fake.

let fake: FakeKlaviyo;
let handle: WorkersHandle | undefined;
const KEY = "pk_test_worker";

beforeAll(async () => {
  fake = await startFakeKlaviyo({ jobTiming: { queuedMs: 0, processingMs: 1 } });
  process.env.KLAVIYO_API_URL = fake.url;
});
beforeEach(() => {
  process.env.TENURE_QUEUE_PREFIX = `tenure-test-destinations-worker-${process.pid}-${Date.now()}`;
});
afterEach(async () => {
  await handle?.close();
  handle = undefined;
  await dropQueues();
});
afterAll(async () => {
  await fake.close();
  delete process.env.KLAVIYO_API_URL;
});

/** Stores a delivery as the intake does and hands its id to the ingest queue. */
async function webhook(shop: string, topic: string, payload: unknown): Promise<void> {
  const id = await insertDelivery(testDb(), { shop, topic, payload });
  expect(await enqueueIngest(id)).toBe(true);
}

describe("the destinations worker", () => {
  it("an order webhook reaches Klaviyo's list; a consent change by customers/update takes the customer out", async () => {
    const shop = uniqueShop("dest-worker");
    await createShop(shop);
    const now = new Date();
    // A fitted shop, so a new customer gets a segment.
    for (let c = 1; c <= 12; c += 1) {
      for (let k = 0; k < (c % 3) + 1; k += 1) await order(shop, c, 2_000 + c * 500, new Date(now.getTime() - (c * 20 + k * 7) * DAY_MS));
    }
    await refitShop(testPool(), shop, { trigger: "manual" });
    expect(await connectDestination(testPool(), shop, "klaviyo", { apiKey: KEY })).toEqual({ ok: true });
    // Every segment: wherever the new customer lands, they have a list.
    await setDestinationSegments(testPool(), shop, "klaviyo", [...RFM_SEGMENT_KEYS, ...BEHAVIOURAL_SEGMENT_KEYS]);
    const destination = (await destinationOf(shop, "klaviyo"))!;

    handle = await startWorkers({
      db: testDb(),
      pool: testPool(),
      redisUrl: REDIS_URL,
      concurrency: 2,
      sweep: false,
      refit: false,
      logger: silentLogger,
      shutdownDeadlineMs: 5_000,
    });

    const customerId = 777;
    const email = "new-buyer-777@example.com";
    await webhook(shop, "orders/create", orderPayload({ id: 5_000_777, customerId, customerEmail: email, totalCents: 9_900, processedAt: now, createdAt: now, updatedAt: now }));
    const firstTimeBuyers = `Tenure: ${segmentName("first-time-buyer")}`;
    await waitFor(async () => fake.state.listMembers(firstTimeBuyers, KEY).includes(email), 30_000, "the customer in Klaviyo's first-time buyers list");
    const profile = fake.state.profile(email, KEY)!;
    expect(profile.external_id).toBe(String(customerId));
    expect(profile.properties.tenure_historic_value).toBe(99);

    // customers/update with email marketing unsubscribed: the recompute it triggers puts the
    // customer in the outbox, and the pass takes them out of every list.
    const later = new Date(now.getTime() + 60_000);
    await webhook(
      shop,
      "customers/update",
      withConsent(customerPayload(customerId, later, { email }), { emailConsent: consentPayload("unsubscribed", later) }),
    );
    await waitFor(async () => [...fake.state.lists(KEY)].every(([, members]) => !members.includes(email)), 30_000, "the customer out of every list");
    await waitFor(async () => (await outboxOf(destination.id)).length === 0, 10_000, "the outbox drained");
  });

  it("a pass that finds its destination busy waits and runs again later, without using an attempt", async () => {
    const shop = uniqueShop("dest-busy");
    await createShop(shop);
    expect(await connectDestination(testPool(), shop, "klaviyo", { apiKey: `${KEY}_busy` })).toEqual({ ok: true });
    const destination = (await destinationOf(shop, "klaviyo"))!;
    const queue = producerQueue(QUEUE.destinations);
    await queue.obliterate({ force: true });
    const holder = await checkOut(testPool());
    try {
      expect(await tryLockDestination(holder, destination.id)).toBe(true);
      handle = await startWorkers({ db: testDb(), pool: testPool(), redisUrl: REDIS_URL, sweep: false, refit: false, metrics: false, logger: silentLogger, shutdownDeadlineMs: 5_000 });
      await enqueueDestination({ task: "changes", destinationId: destination.id }, { delayMs: 0 });
      const delayed = await waitFor(async () => (await queue.getJobs(["delayed"]))[0], 10_000, "the busy pass delayed");
      expect(delayed.attemptsMade).toBe(0);
      expect(await queue.getJobs(["failed"])).toEqual([]);
    } finally {
      holder.release(true);
    }
  });
});
