import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { silentLogger } from "~/lib/log.server";
import { connectDestination, setDestinationSegments } from "~/destinations/connections.server";
import { BEHAVIOURAL_SEGMENT_KEYS } from "~/analytics/behaviour";
import { RFM_SEGMENT_KEYS, segmentName } from "~/display/segment-names";
import { enqueueIngest } from "~/queues/enqueue.server";
import { refitShop } from "~/refit/refit.server";
import { type WorkersHandle, startWorkers } from "~/worker/workers.server";
import { type FakeKlaviyo, startFakeKlaviyo } from "../../demo/fakes/klaviyo";
import { insertDelivery, testDb, testPool, uniqueShop } from "../support/db";
import { destinationOf, outboxOf } from "../support/destinations";
import { DAY_MS, REDIS_URL, createShop, dropQueues, order } from "../support/ingested-shops";
import { waitFor } from "../support/wait-for";
import { fixture } from "../support/webhook-fixtures";
import { consentPayload, orderPayload } from "../support/webhook-payloads";

// Since API 2025-01 an unsubscribe reaches Tenure by customers_email_marketing_consent/update,
// not in customers/update. Through the real workers: the intake's row, the ingest worker's
// consent write, the live recompute marking the outbox, the destinations pass and the real
// Klaviyo adapter against the fake, which must end with the customer out of every list.

let fake: FakeKlaviyo;
let handle: WorkersHandle | undefined;
const KEY = "pk_test_consent_topics";

beforeAll(async () => {
  fake = await startFakeKlaviyo({ jobTiming: { queuedMs: 0, processingMs: 1 } });
  process.env.KLAVIYO_API_URL = fake.url;
});
beforeEach(() => {
  process.env.TENURE_QUEUE_PREFIX = `tenure-test-consent-topics-${process.pid}-${Date.now()}`;
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

async function webhook(shop: string, topic: string, payload: unknown): Promise<void> {
  const id = await insertDelivery(testDb(), { shop, topic, payload });
  expect(await enqueueIngest(id)).toBe(true);
}

describe("the consent topics and a synced Klaviyo list", () => {
  it("customers_email_marketing_consent/update with an unsubscribe takes the customer out of every list; the outbox drains", async () => {
    const shop = uniqueShop("consent-topic");
    await createShop(shop);
    const now = new Date();
    for (let c = 1; c <= 12; c += 1) {
      for (let k = 0; k < (c % 3) + 1; k += 1) await order(shop, c, 2_000 + c * 500, new Date(now.getTime() - (c * 20 + k * 7) * DAY_MS));
    }
    await refitShop(testPool(), shop, { trigger: "manual" });
    expect(await connectDestination(testPool(), shop, "klaviyo", { apiKey: KEY })).toEqual({ ok: true });
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

    const customerId = 778;
    const email = "topic-buyer-778@example.com";
    await webhook(shop, "orders/create", orderPayload({ id: 5_000_778, customerId, customerEmail: email, totalCents: 9_900, processedAt: now, createdAt: now, updatedAt: now }));
    const firstTimeBuyers = `Tenure: ${segmentName("first-time-buyer")}`;
    await waitFor(async () => fake.state.listMembers(firstTimeBuyers, KEY).includes(email), 30_000, "the customer in Klaviyo's first-time buyers list");

    const stored = () => testDb().customer.findUniqueOrThrow({ where: { shop_id: { shop, id: BigInt(customerId) } }, select: { emailConsentState: true } });
    expect((await stored()).emailConsentState).toBe("SUBSCRIBED");

    const later = new Date(now.getTime() + 60_000);
    await webhook(shop, "customers_email_marketing_consent/update", {
      ...fixture("customers-email-marketing-consent-update"),
      customer_id: customerId,
      email_address: email,
      email_marketing_consent: consentPayload("unsubscribed", later, "single_opt_in"),
    });
    await waitFor(async () => [...fake.state.lists(KEY)].every(([, members]) => !members.includes(email)), 30_000, "the customer out of every list");
    await waitFor(async () => (await outboxOf(destination.id)).length === 0, 10_000, "the outbox drained");
    expect((await stored()).emailConsentState).toBe("UNSUBSCRIBED");
    // Leaving a list is not an unsubscribe in Klaviyo (Tenure never changes subscriptions): the profile stays.
    expect(fake.state.profile(email, KEY)?.external_id).toBe(String(customerId));
  });
});
