import { type Job } from "bullmq";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CustomerMetricsValues } from "~/analytics/customer-metrics";
import { dayIndexInZone } from "~/analytics/dates";
import { DestinationRetryableError } from "~/destinations/adapter";
import { FLOW_PAYLOAD_MAX_BYTES, fitFlowPayload, flowPayload } from "~/destinations/flow/compare";
import { FLOW_SEND_MAX_ATTEMPTS, type FlowDeps, runFlowDueToReorderOfShops, runFlowPass } from "~/destinations/flow/fire.server";
import { CHURN_RISK, DUE_TO_REORDER, RFM_SEGMENT_CHANGED } from "~/destinations/flow/triggers";
import { DEFAULT_METRICS_SETTINGS } from "~/data/settings.server";
import { redactCustomer } from "~/ingest/gdpr.server";
import { AdminGraphql } from "~/integrations/shopify-admin.server";
import { receiveFlowLifecycle } from "~/pages/flow-lifecycle.server";
import { parseSettingsForm, settingsFormInputOf } from "~/pages/settings-form";
import { submitSettings } from "~/pages/settings.server";
import { deleteShopDestinations } from "~/data/destinations.server";
import { lockFlowLifecycle, setFlowTriggerLifecycle, syncFlowDestination } from "~/data/flow-triggers.server";
import { silentLogger } from "~/lib/log.server";
import { QUEUE } from "~/queues/contract";
import { producerQueue } from "~/queues/connections.server";
import { destinationsProcessor, makeSureOfMetafieldDefinitions } from "~/worker/registry.server";
import { installShop, testDb, testPool, uniqueShop } from "../support/db";
import { metricsRow } from "../support/customer-metrics-rows";
import { insertCustomers, outboxOf, writeAndMark } from "../support/destinations";
import { FakeShopify } from "../support/fake-shopify";
import { answer500AfterAccepting, flowEventsOf } from "../support/fake-shopify-flow";
import { dropQueues } from "../support/ingested-shops";
import { openTransaction, untilBlockedBy } from "../support/lock-interleavings";

// Tenure's Shopify Flow triggers fired from the one outbox (app/destinations/flow), on
// PostgreSQL and Redis, with Shopify faked at the HTTP boundary (flowTriggerReceive and its
// validation: tests/support/fake-shopify-flow.ts), through the app's Admin GraphQL client.

let fake: FakeShopify;
let deps: FlowDeps;
let timestamp = Date.parse("2026-12-01T00:00:00Z");

beforeAll(async () => {
  process.env.TENURE_QUEUE_PREFIX = `tenure-test-flow-${process.pid}-${Date.now().toString(36)}`;
  fake = await new FakeShopify().start();
  // No retries inside the client: a failure reaches the pass at once (the job's retries are BullMQ's).
  deps = { pool: testPool(), admin: new AdminGraphql({ db: testDb(), maxRetries: 0, backoffMs: 1 }) };
});
afterEach(async () => dropQueues());
afterAll(() => fake.close());

/** Flow's lifecycle callback for a trigger, as the route hands it over once its HMAC is checked. */
async function lifecycle(shop: string, handle: string, enabled: boolean): Promise<void> {
  timestamp += 1_000;
  const body = JSON.stringify({
    flow_trigger_definition_id: handle,
    has_enabled_flow: enabled,
    shop_id: 1,
    shopify_domain: shop,
    timestamp: new Date(timestamp).toISOString(),
  });
  expect((await receiveFlowLifecycle(testPool(), body)).status).toBe(200);
}

async function flowDestinationOf(shop: string): Promise<{ id: string; fullWantedReason: string | null } | undefined> {
  const result = await testPool().query<{ id: string; fullWantedReason: string | null }>(
    `SELECT id::text AS id, "fullWantedReason" FROM "Destination" WHERE shop = $1 AND kind = 'flow'`,
    [shop],
  );
  return result.rows[0];
}

/** An installed shop (with its offline session) whose workflows use these triggers; returns its Flow destination's id. */
async function flowShop(handles: string[], timezone = "UTC"): Promise<{ shop: string; id: string }> {
  const shop = await installShop(uniqueShop("flow"), { timezone });
  await fake.installSession(testDb(), shop);
  for (const handle of handles) await lifecycle(shop, handle, true);
  return { shop, id: (await flowDestinationOf(shop))!.id };
}

/** Customers with these metrics rows, written and marked in the outbox as the live recompute does. */
async function score(shop: string, rows: CustomerMetricsValues[]): Promise<void> {
  await insertCustomers(shop, rows.map((row) => ({ id: Number(row.customerId) })));
  await writeAndMark(shop, rows);
}

const received = (shop: string, handle?: string) => flowEventsOf(fake, shop).filter((e) => handle === undefined || e.handle === handle);

async function pendingEvents(id: string) {
  const result = await testPool().query<{ handle: string; customerId: string; attempts: number; lastError: string | null; refusedAt: Date | null }>(
    `SELECT handle, "customerId"::text AS "customerId", attempts, "lastError", "refusedAt" FROM "FlowTriggerEvent" WHERE "destinationId" = $1::bigint ORDER BY id`,
    [id],
  );
  return result.rows;
}

async function stateOf(id: string, customerId: number) {
  const result = await testPool().query<{ segment: string | null; atRisk: boolean }>(
    `SELECT segment, "atRisk" FROM "FlowCustomerState" WHERE "destinationId" = $1::bigint AND "customerId" = $2`,
    [id, customerId],
  );
  return result.rows[0];
}



const champion = (id: number, over: Partial<CustomerMetricsValues> = {}) =>
  metricsRow(id, { segment: "champions", chanceOfOrder90d: 0.8123, predictedClv: 12_345, expectedPurchases365d: 2, expectedOrderValue: 6_000, ...over });
const needsAttention = (id: number, over: Partial<CustomerMetricsValues> = {}) => metricsRow(id, { segment: "need-attention", chanceOfOrder90d: 0.5, predictedClv: 4_000, ...over });

describe("the Flow destination follows the lifecycle callbacks", () => {
  it("exists while a trigger is enabled, wants a silent baseline first, and goes with the last workflow (its state with it)", async () => {
    const { shop, id } = await flowShop([RFM_SEGMENT_CHANGED.handle, CHURN_RISK.handle]);
    expect((await flowDestinationOf(shop))?.fullWantedReason).toBe("initial");
    await score(shop, [needsAttention(1)]);
    await runFlowPass(deps, id, "full", "initial");
    expect(await stateOf(id, 1)).toEqual({ segment: "need-attention", atRisk: false });

    await lifecycle(shop, CHURN_RISK.handle, false);
    expect((await flowDestinationOf(shop))?.id).toBe(id);
    await lifecycle(shop, RFM_SEGMENT_CHANGED.handle, false);
    expect(await flowDestinationOf(shop)).toBeUndefined();
    expect(await stateOf(id, 1)).toBeUndefined();
    // Enabled again: a new destination, a new baseline.
    await lifecycle(shop, RFM_SEGMENT_CHANGED.handle, true);
    expect((await flowDestinationOf(shop))?.fullWantedReason).toBe("initial");
  });

  it("an uninstall deletes it with its state; the reinstall (install check or worker start) brings it back for a new baseline", async () => {
    const { shop, id } = await flowShop([CHURN_RISK.handle]);
    await score(shop, [needsAttention(1)]);
    await runFlowPass(deps, id, "full", "initial");
    await deleteShopDestinations(testDb(), shop); // what app/uninstalled does
    expect(await stateOf(id, 1)).toBeUndefined();
    await makeSureOfMetafieldDefinitions({ admin: deps.admin!, pool: testPool(), logger: silentLogger }, shop);
    const back = await flowDestinationOf(shop);
    expect(back?.fullWantedReason).toBe("initial");
    expect(back?.id).not.toBe(id);
  });

  it("the install check or worker start racing a callback that turns off the last workflow does not bring the destination back", async () => {
    const { shop } = await flowShop([CHURN_RISK.handle]);
    // The callback's transaction, half done: the last trigger off, the destination deleted, not yet committed.
    const callback = await openTransaction();
    await lockFlowLifecycle(callback.client, shop);
    timestamp += 1_000;
    await setFlowTriggerLifecycle(callback.client, { shop, handle: CHURN_RISK.handle, enabled: false, timestamp: new Date(timestamp).toISOString() });
    expect(await syncFlowDestination(callback.client, shop)).toMatchObject({ deleted: true });
    const check = makeSureOfMetafieldDefinitions({ admin: deps.admin!, pool: testPool(), logger: silentLogger }, shop);
    await untilBlockedBy(callback.pid);
    await callback.commit();
    await check;
    expect(await flowDestinationOf(shop)).toBeUndefined();
  });

  it("costs a shop without workflows nothing: its recomputes mark no outbox", async () => {
    const shop = await installShop(uniqueShop("flow-none"));
    await score(shop, [needsAttention(1)]);
    expect(await flowDestinationOf(shop)).toBeUndefined();
  });
});

describe("firing", () => {
  it("the baseline is silent, then a segment change fires with from, to, value and chance", async () => {
    const { shop, id } = await flowShop([RFM_SEGMENT_CHANGED.handle, CHURN_RISK.handle]);
    await score(shop, [needsAttention(1), needsAttention(2, { chanceOfOrder90d: 0.1 })]);
    // A changes pass while the baseline is still wanted is the baseline.
    const baseline = await runFlowPass(deps, id, "changes");
    expect(baseline).toMatchObject({ status: "done", compared: 2, recorded: 0, sent: 0 });
    expect(received(shop)).toEqual([]);
    expect((await flowDestinationOf(shop))?.fullWantedReason).toBeNull();
    expect(await outboxOf(id)).toEqual([]);

    await writeAndMark(shop, [champion(1)]);
    const pass = await runFlowPass(deps, id, "changes");
    expect(pass).toMatchObject({ compared: 1, recorded: 1, sent: 1 });
    expect(received(shop)).toEqual([
      {
        handle: RFM_SEGMENT_CHANGED.handle,
        at: expect.any(Number),
        payload: {
          customer_id: 1,
          "From segment": "Need attention",
          "To segment": "Champions",
          "From segment key": "need-attention",
          "To segment key": "champions",
          "Expected spend next twelve months": 123.45,
          "Chance of ordering in ninety days": 81.23,
        },
      },
    ]);
    expect(await pendingEvents(id)).toEqual([]);
    // Customer 2 was already below the threshold at the baseline: nothing fired for them.
    expect(received(shop, CHURN_RISK.handle)).toEqual([]);
  });

  it("a customer first seen after the baseline fires their first segment with an empty From", async () => {
    const { shop, id } = await flowShop([RFM_SEGMENT_CHANGED.handle]);
    await runFlowPass(deps, id, "full", "initial");
    await score(shop, [metricsRow(7, { segment: "new", chanceOfOrder90d: 0.6 })]);
    await runFlowPass(deps, id, "changes");
    expect(received(shop).map((e) => [e.payload["From segment"], e.payload["From segment key"], e.payload["To segment key"]])).toEqual([["", "", "new"]]);
  });

  it("churn risk fires once per crossing, not on every recompute", async () => {
    const { shop, id } = await flowShop([CHURN_RISK.handle]);
    await score(shop, [needsAttention(3)]);
    await runFlowPass(deps, id, "full", "initial");

    await writeAndMark(shop, [needsAttention(3, { chanceOfOrder90d: 0.1 })]);
    await runFlowPass(deps, id, "changes");
    await writeAndMark(shop, [needsAttention(3, { chanceOfOrder90d: 0.05 })]);
    await runFlowPass(deps, id, "changes");
    expect(received(shop).map((e) => e.payload)).toEqual([{ customer_id: 3, "Chance of ordering in ninety days": 10, Threshold: 20 }]);

    // Above again: reset silently; the next fall fires again.
    await writeAndMark(shop, [needsAttention(3, { chanceOfOrder90d: 0.4 })]);
    await runFlowPass(deps, id, "changes");
    expect(received(shop)).toHaveLength(1);
    await writeAndMark(shop, [needsAttention(3, { chanceOfOrder90d: 0.15 })]);
    await runFlowPass(deps, id, "changes");
    expect(received(shop).map((e) => e.payload["Chance of ordering in ninety days"])).toEqual([10, 15]);
  });

  it("uses the shop's churn-risk threshold from Settings", async () => {
    const { shop, id } = await flowShop([CHURN_RISK.handle]);
    await testPool().query(`INSERT INTO "ShopSettings" (shop, "churnRiskThreshold", "updatedAt") VALUES ($1, 0.35, now())`, [shop]);
    await score(shop, [needsAttention(4)]);
    await runFlowPass(deps, id, "full", "initial");
    await writeAndMark(shop, [needsAttention(4, { chanceOfOrder90d: 0.3 })]);
    await runFlowPass(deps, id, "changes");
    expect(received(shop).map((e) => e.payload)).toEqual([{ customer_id: 4, "Chance of ordering in ninety days": 30, Threshold: 35 }]);
  });

  it("fires nothing for a trigger no enabled workflow uses, and drops events whose trigger was turned off before they went", async () => {
    const { shop, id } = await flowShop([RFM_SEGMENT_CHANGED.handle]);
    await score(shop, [needsAttention(5)]);
    await runFlowPass(deps, id, "full", "initial");
    // Churn risk is not enabled: a crossing records the state and fires nothing.
    await writeAndMark(shop, [needsAttention(5, { chanceOfOrder90d: 0.1 })]);
    await runFlowPass(deps, id, "changes");
    expect(received(shop)).toEqual([]);
    expect(await stateOf(id, 5)).toEqual({ segment: "need-attention", atRisk: true });

    // An event recorded while Shopify could not be reached, then the workflow turned off: never sent.
    await writeAndMark(shop, [champion(5)]);
    expect(await runFlowPass({ pool: testPool() }, id, "changes")).toMatchObject({ status: "waiting", recorded: 1 });
    await lifecycle(shop, CHURN_RISK.handle, true); // keeps the destination while RFM goes off
    await lifecycle(shop, RFM_SEGMENT_CHANGED.handle, false);
    expect(await runFlowPass(deps, id, "changes")).toMatchObject({ sent: 0, dropped: 1 });
    expect(received(shop)).toEqual([]);
    expect(await pendingEvents(id)).toEqual([]);
  });

  it("a refit's full pass fires for the customers it moved", async () => {
    const { shop, id } = await flowShop([RFM_SEGMENT_CHANGED.handle]);
    await score(shop, [needsAttention(1), needsAttention(2), needsAttention(3)]);
    await runFlowPass(deps, id, "full", "initial");
    await writeAndMark(shop, [champion(1), needsAttention(2), champion(3)]);
    await runFlowPass(deps, id, "full", "refit");
    expect(received(shop).map((e) => e.payload.customer_id).sort()).toEqual([1, 3]);
  });
});

describe("due to reorder", () => {
  const at = new Date("2026-12-07T11:30:00Z"); // 00:30 on the 8th in Tonga (UTC+13), 01:30 on the 7th in Honolulu (UTC-10)
  const day = (iso: string) => dayIndexInZone(new Date(`${iso}T12:00:00Z`), "UTC");

  it("fires once per local day in the shop's time zone", async () => {
    const tonga = await flowShop([DUE_TO_REORDER.handle], "Pacific/Tongatapu");
    const honolulu = await flowShop([DUE_TO_REORDER.handle], "Pacific/Honolulu");
    for (const { shop, id } of [tonga, honolulu]) {
      await score(shop, [needsAttention(1, { expectedNextOrderDay: day("2026-12-07") }), needsAttention(2, { expectedNextOrderDay: day("2026-12-08") })]);
      await runFlowPass(deps, id, "full", "initial");
    }
    const run = { ...deps, now: () => at };
    await runFlowDueToReorderOfShops(run);
    expect(received(tonga.shop).map((e) => e.payload)).toEqual([{ customer_id: 2, "Expected next order date": "2026-12-08" }]);
    expect(received(honolulu.shop).map((e) => e.payload)).toEqual([{ customer_id: 1, "Expected next order date": "2026-12-07" }]);

    // Again the same day (every 15 minutes): nothing more.
    await runFlowDueToReorderOfShops({ ...deps, now: () => new Date(at.getTime() + 15 * 60_000) });
    expect(received(tonga.shop)).toHaveLength(1);
    expect(received(honolulu.shop)).toHaveLength(1);

    // Honolulu's next day: customer 2 is due there now.
    await runFlowDueToReorderOfShops({ ...deps, now: () => new Date("2026-12-08T10:05:00Z") });
    expect(received(honolulu.shop).map((e) => e.payload.customer_id)).toEqual([1, 2]);
    expect(received(tonga.shop)).toHaveLength(1);
  });

  it("a customer redacted between the run's read and its write gets no event and no state row back", async () => {
    const { shop, id } = await flowShop([DUE_TO_REORDER.handle]);
    await score(shop, [needsAttention(1, { expectedNextOrderDay: day("2026-12-07") })]);
    await runFlowPass(deps, id, "full", "initial");
    // customers/redact, half done: the customer's rows deleted (their Flow state as eraseFlowCustomer does), not yet committed.
    const redaction = await openTransaction();
    await redaction.client.query(`DELETE FROM "Customer" WHERE shop = $1 AND id = 1`, [shop]);
    await redaction.client.query(`DELETE FROM "CustomerMetrics" WHERE shop = $1 AND "customerId" = 1`, [shop]);
    await redaction.client.query(`DELETE FROM "FlowCustomerState" WHERE "destinationId" = $1::bigint AND "customerId" = 1`, [id]);
    // The run reads customer 1 as due, then waits for the customer's row at its write.
    const run = runFlowPass({ ...deps, now: () => at }, id, "due");
    await untilBlockedBy(redaction.pid);
    await redaction.commit();
    expect(await run).toMatchObject({ recorded: 0, sent: 0 });
    expect(await stateOf(id, 1)).toBeUndefined();
    expect(received(shop)).toEqual([]);
  });

  it("runs only where the trigger is enabled", async () => {
    const { shop, id } = await flowShop([RFM_SEGMENT_CHANGED.handle]);
    await score(shop, [needsAttention(1, { expectedNextOrderDay: day("2026-12-07") })]);
    await runFlowPass(deps, id, "full", "initial");
    await runFlowDueToReorderOfShops({ ...deps, now: () => at });
    expect(received(shop)).toEqual([]);
  });
});

describe("delivery", () => {
  it("THROTTLED and 5xx keep the event; the retry sends it", async () => {
    const { shop, id } = await flowShop([RFM_SEGMENT_CHANGED.handle]);
    await score(shop, [needsAttention(1)]);
    await runFlowPass(deps, id, "full", "initial");
    await writeAndMark(shop, [champion(1)]);

    fake.failNext.push(503);
    await expect(runFlowPass(deps, id, "changes")).rejects.toBeInstanceOf(DestinationRetryableError);
    expect(await pendingEvents(id)).toMatchObject([{ handle: RFM_SEGMENT_CHANGED.handle, attempts: 1, lastError: expect.stringMatching(/503|Internal/) }]);

    // The bucket empty: THROTTLED (the client gives up at once here).
    Object.assign((fake as unknown as { costBucket: object }).costBucket, { available: 0, availableAt: Date.now() });
    await expect(runFlowPass(deps, id, "changes")).rejects.toBeInstanceOf(DestinationRetryableError);
    expect(await pendingEvents(id)).toMatchObject([{ attempts: 2, lastError: expect.stringMatching(/Throttled/i) }]);
    expect(received(shop)).toEqual([]);

    // The bucket full again (a later test's first call, on a shop the client knows nothing of, must not be throttled).
    Object.assign((fake as unknown as { costBucket: object }).costBucket, { available: 2_000, availableAt: Date.now() });
    expect(await runFlowPass(deps, id, "changes")).toMatchObject({ sent: 1 });
    expect(received(shop)).toHaveLength(1);
    expect(await pendingEvents(id)).toEqual([]);
  });

  it("dedupe: a retried pass records no second event; an answer lost after Flow accepted means Flow sees it twice", async () => {
    const { shop, id } = await flowShop([RFM_SEGMENT_CHANGED.handle]);
    await score(shop, [needsAttention(1)]);
    await runFlowPass(deps, id, "full", "initial");
    await writeAndMark(shop, [champion(1)]);

    answer500AfterAccepting(fake);
    await expect(runFlowPass(deps, id, "changes")).rejects.toBeInstanceOf(DestinationRetryableError);
    // The same change compared again (the customer marked again, nothing changed): no new event row.
    await testPool().query(`INSERT INTO "DestinationOutbox" ("destinationId", "customerId", "changedAt") VALUES ($1, 1, now() AT TIME ZONE 'UTC') ON CONFLICT DO NOTHING`, [id]);
    await runFlowPass(deps, id, "changes");
    expect(await pendingEvents(id)).toEqual([]);
    // Flow took it the first time and again on the retry: flowTriggerReceive has no idempotency key.
    expect(received(shop).map((e) => e.payload["To segment key"])).toEqual(["champions", "champions"]);
  });

  it("an event Flow refuses is kept with Flow's words and not sent again", async () => {
    const { shop, id } = await flowShop([RFM_SEGMENT_CHANGED.handle]);
    await testPool().query(
      `INSERT INTO "FlowTriggerEvent" ("destinationId", handle, "customerId", payload, "dedupeKey") VALUES ($1, $2, 9, '{"To segment": "Champions"}', 'test')`,
      [id, RFM_SEGMENT_CHANGED.handle],
    );
    expect(await runFlowPass(deps, id, "changes")).toMatchObject({ refused: 1, sent: 0 });
    expect(await pendingEvents(id)).toMatchObject([{ attempts: 1, lastError: "Errors validating schema:\n  Required field missing: 'customer_id'.", refusedAt: expect.any(Date) }]);
    const requests = fake.graphqlRequests("flowTriggerReceive(").length;
    await runFlowPass(deps, id, "changes");
    expect(fake.graphqlRequests("flowTriggerReceive(").length).toBe(requests);
    expect(received(shop)).toEqual([]);
  });

  it("an event retrying cannot cure (a revoked token: 401) is kept as refused, and the events after it still go", async () => {
    const { shop, id } = await flowShop([RFM_SEGMENT_CHANGED.handle]);
    await score(shop, [needsAttention(1), needsAttention(2)]);
    await runFlowPass(deps, id, "full", "initial");
    await writeAndMark(shop, [champion(1), champion(2)]);
    fake.failNext.push(401);
    expect(await runFlowPass(deps, id, "changes")).toMatchObject({ refused: 1, sent: 1 });
    expect(await pendingEvents(id)).toMatchObject([{ customerId: "1", attempts: 1, lastError: expect.stringMatching(/401/), refusedAt: expect.any(Date) }]);
    expect(received(shop).map((e) => e.payload.customer_id)).toEqual([2]);
  });

  it("an event still failing after FLOW_SEND_MAX_ATTEMPTS sends is given up on (kept as refused), so it holds nothing back", async () => {
    const { shop, id } = await flowShop([RFM_SEGMENT_CHANGED.handle]);
    await score(shop, [needsAttention(1)]);
    await runFlowPass(deps, id, "full", "initial");
    await writeAndMark(shop, [champion(1)]);
    await runFlowPass({ pool: testPool() }, id, "changes"); // recorded, not sent
    await testPool().query(`UPDATE "FlowTriggerEvent" SET attempts = $2 WHERE "destinationId" = $1::bigint`, [id, FLOW_SEND_MAX_ATTEMPTS - 1]);
    fake.failNext.push(503);
    expect(await runFlowPass(deps, id, "changes")).toMatchObject({ refused: 1, sent: 0 });
    expect(await pendingEvents(id)).toMatchObject([
      { attempts: FLOW_SEND_MAX_ATTEMPTS, lastError: expect.stringMatching(new RegExp(`^gave up after ${FLOW_SEND_MAX_ATTEMPTS} attempts: [^]*503`)), refusedAt: expect.any(Date) },
    ]);
  });

  it("keeps every payload within Flow's 50,000 bytes (a merchant's very long segment label is cut)", async () => {
    const { shop, id } = await flowShop([RFM_SEGMENT_CHANGED.handle]);
    await testPool().query(`INSERT INTO "ShopSettings" (shop, "segmentLabels", "updatedAt") VALUES ($1, $2::jsonb, now())`, [
      shop,
      JSON.stringify({ champions: "Ç".repeat(60_000) }),
    ]);
    await score(shop, [needsAttention(1)]);
    await runFlowPass(deps, id, "full", "initial");
    await writeAndMark(shop, [champion(1)]);
    expect(await runFlowPass(deps, id, "changes")).toMatchObject({ sent: 1, refused: 0 });
    const [event] = received(shop);
    expect(Buffer.byteLength(JSON.stringify(event!.payload))).toBeLessThanOrEqual(FLOW_PAYLOAD_MAX_BYTES);
    expect(String(event!.payload["To segment"])).toMatch(/^Ç+…$/);
    expect(event!.payload["To segment key"]).toBe("champions");
  });

  it("fitFlowPayload leaves a small payload alone and cuts only text", () => {
    const small = { customer_id: 1, "To segment": "Champions" };
    expect(fitFlowPayload(small)).toEqual(small);
    const cut = fitFlowPayload({ customer_id: 1, a: "x".repeat(200), b: 12.5 }, 100);
    expect(Buffer.byteLength(JSON.stringify(cut))).toBeLessThanOrEqual(100);
    expect(cut).toMatchObject({ customer_id: 1, b: 12.5, a: expect.stringMatching(/^x+…$/) });
  });

  it("fitFlowPayload throws on a payload with no text left to cut; flowPayload on a field the trigger does not declare", () => {
    expect(() => fitFlowPayload({ customer_id: 1, b: 12.5, c: "x" }, 10)).toThrow(/cannot be made to fit/);
    expect(() => flowPayload(RFM_SEGMENT_CHANGED, "1", { "Not a field": "x" })).toThrow(`${RFM_SEGMENT_CHANGED.handle} has no field "Not a field"`);
  });
});

describe("redaction and the worker", () => {
  it("customers/redact removes the customer's state and pending events", async () => {
    const { shop, id } = await flowShop([RFM_SEGMENT_CHANGED.handle]);
    await score(shop, [needsAttention(1), needsAttention(2)]);
    await runFlowPass(deps, id, "full", "initial");
    await writeAndMark(shop, [champion(1), champion(2)]);
    await runFlowPass({ pool: testPool() }, id, "changes"); // recorded, not sent
    expect(await pendingEvents(id)).toHaveLength(2);

    await redactCustomer(testDb(), shop, { customerId: 1n, email: null, phone: null, orderIds: [] });
    expect(await stateOf(id, 1)).toBeUndefined();
    expect((await pendingEvents(id)).map((e) => e.customerId)).toEqual(["2"]);
    expect(await stateOf(id, 2)).toBeDefined();
    // Nothing to ask Flow (customer 1 had an email): no erasure row, no erase job's worth of work.
    const erasures = await testPool().query(`SELECT 1 FROM "DestinationErasure" WHERE "destinationId" = $1::bigint`, [id]);
    expect(erasures.rowCount).toBe(0);
  });

  it("the destinations worker runs the Flow pass for the shop's flow destination, and the due run", async () => {
    const { shop, id } = await flowShop([RFM_SEGMENT_CHANGED.handle]);
    await score(shop, [needsAttention(1)]);
    const process = destinationsProcessor({ pool: testPool(), shopifyAdmin: deps.admin });
    const job = (data: unknown) => ({ data, attemptsMade: 0 }) as unknown as Job;
    await process(job({ task: "full", destinationId: id, reason: "initial" }));
    await writeAndMark(shop, [champion(1)]);
    expect(await process(job({ task: "changes", destinationId: id }))).toMatchObject({ sent: 1 });
    expect(received(shop)).toHaveLength(1);
    expect(await process(job({ task: "flow-due-all" }))).toMatchObject({ shops: expect.any(Number) });
  });

  it("the destinations sweep queues a pass for events a failed pass left waiting (nothing depends on a job surviving)", async () => {
    const { shop, id } = await flowShop([RFM_SEGMENT_CHANGED.handle]);
    await score(shop, [needsAttention(1)]);
    await runFlowPass(deps, id, "full", "initial");
    await writeAndMark(shop, [champion(1)]);
    await runFlowPass({ pool: testPool() }, id, "changes"); // recorded, not sent
    await testPool().query(`UPDATE "FlowTriggerEvent" SET "createdAt" = "createdAt" - interval '2 minutes' WHERE "destinationId" = $1::bigint`, [id]);
    const process = destinationsProcessor({ pool: testPool(), shopifyAdmin: deps.admin });
    await process({ data: { task: "sweep-all" }, attemptsMade: 0 } as unknown as Job);
    const jobs = await producerQueue(QUEUE.destinations).getJobs(["waiting", "delayed", "prioritized"]);
    expect(jobs.map((j) => j.data)).toContainEqual({ task: "changes", destinationId: id });
  });
});

describe("Settings: the churn-risk threshold", () => {
  const input = (percent: string | undefined) => ({ ...settingsFormInputOf(DEFAULT_METRICS_SETTINGS, "USD"), churnRiskThresholdPercent: percent });

  it("is a percentage above 0 and below 100, 20 when empty or not sent", () => {
    expect(settingsFormInputOf(DEFAULT_METRICS_SETTINGS, "USD").churnRiskThresholdPercent).toBe("20");
    const parsed = parseSettingsForm(input("35.5"), "USD");
    expect(parsed.ok && parsed.values.churnRiskThreshold).toBe(0.355);
    for (const empty of ["", "  ", undefined]) {
      const defaulted = parseSettingsForm(input(empty), "USD");
      expect(defaulted.ok && defaulted.values.churnRiskThreshold).toBe(0.2);
    }
    for (const bad of ["0", "100", "150", "-5", "abc", "20%"]) {
      const refused = parseSettingsForm(input(bad), "USD");
      expect(refused).toEqual({ ok: false, fieldErrors: { churnRiskThresholdPercent: [expect.stringMatching(/above 0 and below 100/)] } });
    }
  });

  it("is saved with the settings and read by the pass; a refused value saves nothing", async () => {
    const shop = await installShop(uniqueShop("flow-settings"));
    expect(await submitSettings(testPool(), shop, input("abc"))).toMatchObject({ ok: false });
    const stored = await testPool().query(`SELECT "churnRiskThreshold" FROM "ShopSettings" WHERE shop = $1`, [shop]);
    expect(stored.rows).toEqual([]);
    expect(await submitSettings(testPool(), shop, input("35"))).toMatchObject({ ok: true });
    const saved = await testPool().query<{ churnRiskThreshold: number }>(`SELECT "churnRiskThreshold" FROM "ShopSettings" WHERE shop = $1`, [shop]);
    expect(saved.rows[0]?.churnRiskThreshold).toBe(0.35);
  });
});
