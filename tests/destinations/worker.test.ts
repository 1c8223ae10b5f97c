import { describe, expect, it } from "vitest";
import { connectDestination } from "~/destinations/connections.server";
import { segmentName } from "~/display/segment-names";
import { tryLockDestination } from "~/data/destinations.server";
import { checkOut } from "~/db/pg.server";
import { QUEUE } from "~/queues/contract";
import { producerQueue } from "~/queues/connections.server";
import { enqueueDestination } from "~/queues/enqueue.server";
import { testPool, uniqueShop } from "../support/db";
import { deliverWebhook, destinationOf, fittedShopOnKlaviyo, klaviyoWorkersHarness, outboxOf } from "../support/destinations";
import { createShop } from "../support/ingested-shops";
import { waitFor } from "../support/wait-for";
import { consentPayload, customerPayload, orderPayload, withConsent } from "../support/webhook-payloads";

// From a webhook to Klaviyo's list, through the real workers: the intake's row, the ingest
// worker, the live recompute marking the outbox, the destinations worker's pass and the
// real adapter against the fake.

const KEY = "pk_test_worker";
const harness = klaviyoWorkersHarness("tenure-test-destinations-worker");

describe("the destinations worker", () => {
  it("an order webhook reaches Klaviyo's list; a consent change by customers/update takes the customer out", async () => {
    const shop = uniqueShop("dest-worker");
    const destination = await fittedShopOnKlaviyo(shop, KEY);
    const fake = harness.fake();
    await harness.start();

    const now = new Date();
    const customerId = 777;
    const email = "new-buyer-777@example.com";
    await deliverWebhook(shop, "orders/create", orderPayload({ id: 5_000_777, customerId, customerEmail: email, totalCents: 9_900, processedAt: now, createdAt: now, updatedAt: now }));
    const firstTimeBuyers = `Tenure: ${segmentName("first-time-buyer")}`;
    await waitFor(async () => fake.state.listMembers(firstTimeBuyers, KEY).includes(email), 30_000, "the customer in Klaviyo's first-time buyers list");
    const profile = fake.state.profile(email, KEY)!;
    expect(profile.external_id).toBe(String(customerId));
    expect(profile.properties.tenure_historic_value).toBe(99);

    // customers/update with email marketing unsubscribed: the recompute it triggers puts the
    // customer in the outbox, and the pass takes them out of every list.
    const later = new Date(now.getTime() + 60_000);
    await deliverWebhook(
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
      await harness.start({ concurrency: undefined, metrics: false });
      await enqueueDestination({ task: "changes", destinationId: destination.id }, { delayMs: 0 });
      const delayed = await waitFor(async () => (await queue.getJobs(["delayed"]))[0], 10_000, "the busy pass delayed");
      expect(delayed.attemptsMade).toBe(0);
      expect(await queue.getJobs(["failed"])).toEqual([]);
    } finally {
      holder.release(true);
    }
  });
});
