import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { BEHAVIOURAL_SEGMENT_KEYS } from "~/analytics/behaviour";
import { type CustomerMetricsValues } from "~/analytics/customer-metrics";
import { writeCustomerMetrics } from "~/data/customer-metrics.server";
import { markDestinationChanges } from "~/data/destinations.server";
import { pgTransaction } from "~/db/pg.server";
import { type AdapterFactory } from "~/destinations/adapters.server";
import { klaviyoAdapter } from "~/destinations/klaviyo.server";
import { connectDestination, setDestinationSegments } from "~/destinations/connections.server";
import { mailchimpAdapter } from "~/destinations/mailchimp.server";
import { RFM_SEGMENT_KEYS } from "~/display/segment-names";
import { silentLogger } from "~/lib/log.server";
import { enqueueIngest } from "~/queues/enqueue.server";
import { refitShop } from "~/refit/refit.server";
import { type StartWorkersOptions, type WorkersHandle, startWorkers } from "~/worker/workers.server";
import { type FakeKlaviyo, startFakeKlaviyo } from "../../demo/fakes/klaviyo";
import { insertDelivery, testDb, testPool } from "./db";
import { DAY_MS, REDIS_URL, createShop, dropQueues, order } from "./ingested-shops";

// Shops for the destinations tests (tests/destinations): customers with consent, their
// metrics rows written and marked in the outbox as the live recompute does (one
// transaction), and the real adapters pointed at the fakes with test-sized waits.

export interface CustomerSpec {
  id: number;
  email?: string | null;
  consent?: string | null;
  firstName?: string;
}

/** Customer rows as the write path leaves them (profile and email consent only). */
export async function insertCustomers(shop: string, customers: readonly CustomerSpec[]): Promise<void> {
  for (const c of customers) {
    await testPool().query(
      `INSERT INTO "Customer" (shop, id, email, "firstName", "lastName", "shopifyUpdatedAt", "emailConsentState")
       VALUES ($1, $2, $3, $4, 'Buyer', now(), $5)
       ON CONFLICT (shop, id) DO UPDATE SET email = EXCLUDED.email, "emailConsentState" = EXCLUDED."emailConsentState"`,
      [shop, c.id, c.email === undefined ? `customer-${c.id}@example.com` : c.email, c.firstName ?? "Sam", c.consent === undefined ? "SUBSCRIBED" : c.consent],
    );
  }
}

/** Metrics rows written and their customers put in every destination's outbox, in one commit (as recomputeCustomerMetrics does). */
export async function writeAndMark(shop: string, rows: readonly CustomerMetricsValues[]): Promise<string[]> {
  return pgTransaction(testPool(), async (_tx, client) => {
    await writeCustomerMetrics(client, shop, rows, { modelVersion: 1, asOfDay: 20_110, source: "live" });
    return markDestinationChanges(client, shop, rows.map((r) => r.customerId));
  });
}

/** A consent change as customers/update leaves it, and the outbox mark its recompute makes. */
export async function changeConsent(shop: string, customerId: number, consent: string | null): Promise<void> {
  await testPool().query(`UPDATE "Customer" SET "emailConsentState" = $3 WHERE shop = $1 AND id = $2`, [shop, customerId, consent]);
  await markDestinationChanges(testPool(), shop, [String(customerId)]);
}

/** The real adapters against the fakes, with short polls and retries so failures surface quickly. */
export function fakeAdapters(urls: { klaviyo?: string; mailchimp?: string }): AdapterFactory {
  return (kind, apiKey, account) =>
    kind === "klaviyo"
      ? klaviyoAdapter(apiKey, account, { baseUrl: urls.klaviyo, pollIntervalMs: 10, maxPollIntervalMs: 50, timeoutMs: 1_000, retries: 2, baseBackoffMs: 10 })
      : mailchimpAdapter(apiKey, account, { baseUrl: urls.mailchimp, timeoutMs: 1_000 });
}

export async function outboxOf(destinationId: string): Promise<string[]> {
  const result = await testPool().query<{ id: string }>(`SELECT "customerId"::text AS id FROM "DestinationOutbox" WHERE "destinationId" = $1 ORDER BY 1`, [destinationId]);
  return result.rows.map((r) => r.id);
}

export async function destinationOf(shop: string, kind: string): Promise<{ id: string; status: string; notice: string | null } | undefined> {
  const result = await testPool().query<{ id: string; status: string; notice: string | null }>(
    `SELECT id::text AS id, status, notice FROM "Destination" WHERE shop = $1 AND kind = $2`,
    [shop, kind],
  );
  return result.rows[0];
}

/** Stores a delivery as the intake does and hands its id to the ingest queue. */
export async function deliverWebhook(shop: string, topic: string, payload: unknown): Promise<void> {
  const id = await insertDelivery(testDb(), { shop, topic, payload });
  if (!(await enqueueIngest(id))) throw new Error(`delivery ${id} (${topic}) was not queued`);
}

/**
 * The real workers against the fake Klaviyo, for tests that go from a webhook to a list:
 * registers the hooks (fake up, a queue prefix per test, workers closed and queues dropped
 * after each). Call at the top of a test file.
 */
export function klaviyoWorkersHarness(queuePrefix: string): {
  fake: () => FakeKlaviyo;
  start: (options?: StartWorkersOptions) => Promise<WorkersHandle>;
} {
  let fake: FakeKlaviyo | undefined;
  let handle: WorkersHandle | undefined;
  beforeAll(async () => {
    fake = await startFakeKlaviyo({ jobTiming: { queuedMs: 0, processingMs: 1 } });
    process.env.KLAVIYO_API_URL = fake.url;
  });
  beforeEach(() => {
    process.env.TENURE_QUEUE_PREFIX = `${queuePrefix}-${process.pid}-${Date.now()}`;
  });
  afterEach(async () => {
    await handle?.close();
    handle = undefined;
    await dropQueues();
  });
  afterAll(async () => {
    await fake?.close();
    delete process.env.KLAVIYO_API_URL;
  });
  return {
    fake: () => {
      if (!fake) throw new Error("the fake Klaviyo starts in beforeAll");
      return fake;
    },
    start: async (options = {}) => {
      handle = await startWorkers({
        db: testDb(),
        pool: testPool(),
        redisUrl: REDIS_URL,
        concurrency: 2,
        sweep: false,
        refit: false,
        logger: silentLogger,
        shutdownDeadlineMs: 5_000,
        ...options,
      });
      return handle;
    },
  };
}

/**
 * A fitted shop (12 customers with 1-3 orders, so a new customer gets a segment) connected
 * to Klaviyo with every segment chosen: wherever a customer lands, they have a list.
 */
export async function fittedShopOnKlaviyo(shop: string, apiKey: string): Promise<{ id: string; status: string; notice: string | null }> {
  await createShop(shop);
  const now = new Date();
  for (let c = 1; c <= 12; c += 1) {
    for (let k = 0; k < (c % 3) + 1; k += 1) await order(shop, c, 2_000 + c * 500, new Date(now.getTime() - (c * 20 + k * 7) * DAY_MS));
  }
  await refitShop(testPool(), shop, { trigger: "manual" });
  const connected = await connectDestination(testPool(), shop, "klaviyo", { apiKey });
  if (!connected.ok) throw new Error(`connecting Klaviyo failed: ${JSON.stringify(connected)}`);
  await setDestinationSegments(testPool(), shop, "klaviyo", [...RFM_SEGMENT_KEYS, ...BEHAVIOURAL_SEGMENT_KEYS]);
  const destination = await destinationOf(shop, "klaviyo");
  if (!destination) throw new Error("the Klaviyo destination was not stored");
  return destination;
}
