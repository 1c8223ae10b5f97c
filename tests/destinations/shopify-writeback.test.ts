import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ensureShopifyDestination } from "~/data/destinations.server";
import { type SyncDeps, runDestinationPass, runErasurePass } from "~/destinations/sync.server";
import { switchShopifyTagging } from "~/destinations/shopify/tagging.server";
import { customerGid } from "~/destinations/shopify/writeback.server";
import { redactCustomer } from "~/ingest/gdpr.server";
import { loadIntegrationsPage } from "~/pages/integrations.server";
import { makeSureOfMetafieldDefinitions } from "~/worker/registry.server";
import { AdminGraphql } from "~/integrations/shopify-admin.server";
import { installShop, testDb, testPool, uniqueShop } from "../support/db";
import { insertCustomers, outboxOf } from "../support/destinations";
import { metricsRow } from "../support/customer-metrics-rows";
import { FakeShopify } from "../support/fake-shopify";
import { fakeCustomerTags, tagCustomerAsMerchant } from "../support/fake-shopify-customers";
import { dropQueues } from "../support/ingested-shops";
import { metafieldsInShopify, metafieldsOfTenure, scoreAndMark, writebackShop } from "../support/shopify-writeback";
import { waitFor } from "../support/wait-for";

// The Shopify metafield write-back (issue 15 part 1) through the real engine, the real Admin
// GraphQL client and the Shopify fake at the HTTP boundary, on PostgreSQL: only changed values
// go out, whole customers per metafieldsSet call, userErrors refuse only their customer,
// failures keep the outbox, a refused token pauses, redaction erases, tags follow transitions.

let fake: FakeShopify;
let admin: AdminGraphql;
let deps: SyncDeps;

beforeAll(async () => {
  fake = await new FakeShopify({ appId: "5151" }).start();
  admin = new AdminGraphql({ db: testDb(), backoffMs: 5, maxRetries: 2 });
  deps = { pool: testPool(), shopifyAdmin: admin };
  process.env.TENURE_QUEUE_PREFIX = `tenure-test-writeback-${process.pid}-${Date.now().toString(36)}`;
});
afterEach(async () => {
  fake.failNext = [];
  await dropQueues();
});
afterAll(() => fake.close());

const T0 = new Date("2026-12-01T10:00:00Z");
const T1 = new Date("2026-12-02T11:30:00Z");
const ALL_FIGURES = { chanceOfOrder90d: 0.4321, predictedClv: 12_345, expectedNextOrderDay: 20_500, behaviours: ["vip"] as never };

const setRequests = (shop: string) => fake.requests.filter((r) => r.shop === shop && r.query.includes("metafieldsSet(") && r.status === 200 && !r.throttled);
const requestsOf = (shop: string, operation: string) => fake.requests.filter((r) => r.shop === shop && r.query.includes(`${operation}(`));
type SetInput = { ownerId: string; key: string; value: string };
const inputsOf = (request: { variables: Record<string, unknown> }) => request.variables.metafields as SetInput[];

async function expectShopifyEqualsTenure(shop: string, destinationId: string, customers: readonly number[]): Promise<void> {
  for (const id of customers) expect(metafieldsInShopify(fake, shop, id), `customer ${id}`).toEqual(await metafieldsOfTenure(shop, destinationId, id));
}

describe("the live path", () => {
  it("writes every metafield of a new customer, then only the values that changed, and deletes a value that became empty", async () => {
    const { shop, destinationId } = await writebackShop(fake, admin, "wb-changed");
    await insertCustomers(shop, [{ id: 1 }, { id: 2 }]);
    await scoreAndMark(shop, [metricsRow(1, { netSpent: 5_000, ...ALL_FIGURES }), metricsRow(2)], T0);
    expect(await runDestinationPass(deps, destinationId, "changes")).toMatchObject({ status: "done", counts: { sent: 2, failed: 0 } });
    await expectShopifyEqualsTenure(shop, destinationId, [1, 2]);
    expect(Object.keys(metafieldsInShopify(fake, shop, 1)).sort()).toEqual(
      ["behaviours", "chance_of_ordering_90d", "expected_next_order", "expected_spend_12m", "historic_value", "last_scored", "rfm_segment"],
    );

    // Customer 1 spends more and loses their behaviour: only historic value and last scored
    // are set; behaviours is deleted. Customer 2 is not marked: nothing is sent for them.
    const before = setRequests(shop).length;
    const deletesBefore = requestsOf(shop, "metafieldsDelete").length;
    await scoreAndMark(shop, [metricsRow(1, { netSpent: 7_500, ...ALL_FIGURES, behaviours: [] })], T1);
    await runDestinationPass(deps, destinationId, "changes");
    const sent = setRequests(shop).slice(before).flatMap(inputsOf);
    expect(sent.map((input) => [input.ownerId, input.key]).sort()).toEqual([
      [customerGid("1"), "historic_value"],
      [customerGid("1"), "last_scored"],
    ]);
    const deleted = requestsOf(shop, "metafieldsDelete").slice(deletesBefore).flatMap((r) => r.variables.metafields as { ownerId: string; key: string }[]);
    expect(deleted).toEqual([{ ownerId: customerGid("1"), namespace: "$app", key: "behaviours" }]);
    await expectShopifyEqualsTenure(shop, destinationId, [1, 2]);
    expect(metafieldsInShopify(fake, shop, 1)).not.toHaveProperty("behaviours");
    expect(await outboxOf(destinationId)).toEqual([]);

    // A recompute that changes nothing Shopify holds (same figures, same time) sends nothing.
    const quiet = fake.requests.length;
    await scoreAndMark(shop, [metricsRow(1, { netSpent: 7_500, ...ALL_FIGURES, behaviours: [] })], T1);
    await runDestinationPass(deps, destinationId, "changes");
    expect(fake.requests.slice(quiet).filter((r) => r.shop === shop)).toEqual([]);
  });

  it("packs whole customers into calls of at most 25 metafields", async () => {
    const { shop, destinationId } = await writebackShop(fake, admin, "wb-pack");
    const ids = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    await insertCustomers(shop, ids.map((id) => ({ id })));
    await scoreAndMark(shop, ids.map((id) => metricsRow(id, ALL_FIGURES)), T0);
    await runDestinationPass(deps, destinationId, "full", "initial");

    const calls = setRequests(shop).map(inputsOf);
    // 7 metafields per customer: 3 customers (21) per call, 4 calls for 10 customers.
    expect(calls.map((inputs) => inputs.length)).toEqual([21, 21, 21, 7]);
    const callOf = new Map<string, number>();
    calls.forEach((inputs, call) => {
      for (const input of inputs) {
        expect(callOf.get(input.ownerId) ?? call, `${input.ownerId} split across calls`).toBe(call);
        callOf.set(input.ownerId, call);
      }
    });
    expect(callOf.size).toBe(10);
    await expectShopifyEqualsTenure(shop, destinationId, ids);
  });

  it("refuses only the customer Shopify's userErrors point at and writes the others of the same call", async () => {
    const { shop, destinationId } = await writebackShop(fake, admin, "wb-usererror");
    await insertCustomers(shop, [{ id: 1 }, { id: 2 }, { id: 3 }]);
    // Customer 2 was deleted in Shopify: metafieldsSet refuses their owner, atomically for the whole call.
    fake.shopData(shop).deletedCustomers.add(customerGid("2"));
    await scoreAndMark(shop, [metricsRow(1), metricsRow(2), metricsRow(3)], T0);

    const result = await runDestinationPass(deps, destinationId, "changes");

    expect(result).toMatchObject({ status: "done", counts: { sent: 2, failed: 1 } });
    expect(setRequests(shop)).toHaveLength(2); // the shared call, then the same call without customer 2
    await expectShopifyEqualsTenure(shop, destinationId, [1, 3]);
    expect(metafieldsInShopify(fake, shop, 2)).toEqual({});
    const failures = await testPool().query<{ customerId: string; reason: string }>(
      `SELECT "customerId"::text AS "customerId", reason FROM "DestinationFailure" WHERE "destinationId" = $1`,
      [destinationId],
    );
    expect(failures.rows).toEqual([{ customerId: "2", reason: expect.stringContaining("Owner does not exist") }]);
    const members = await testPool().query<{ id: string }>(`SELECT "customerId"::text AS id FROM "DestinationMember" WHERE "destinationId" = $1 ORDER BY 1`, [destinationId]);
    expect(members.rows.map((r) => r.id)).toEqual(["1", "3"]);
  });

  it("keeps every change in the outbox when Shopify answers 5xx mid-write, and sends them on the next pass", async () => {
    const { shop, destinationId } = await writebackShop(fake, admin, "wb-5xx");
    const ids = [1, 2, 3, 4, 5, 6];
    await insertCustomers(shop, ids.map((id) => ({ id })));
    await scoreAndMark(shop, ids.map((id) => metricsRow(id, ALL_FIGURES)), T0);
    // The first call (3 customers) goes through; then the fake answers 503 past the client's
    // retries. The real client sends every request; this one only times the fault.
    const faultAfterFirstWrite: SyncDeps["shopifyAdmin"] = {
      request: async (shopDomain, query, variables) => {
        const data = await admin.request(shopDomain, query, variables);
        if (query.includes("metafieldsSet(")) fake.failNext = [503, 503, 503];
        return data as never;
      },
    };
    await expect(runDestinationPass({ pool: testPool(), shopifyAdmin: faultAfterFirstWrite }, destinationId, "changes")).rejects.toThrow(/503|Service Unavailable|Internal Server Error/);
    expect(setRequests(shop)).toHaveLength(1);

    expect(await outboxOf(destinationId)).toEqual(ids.map(String));
    fake.failNext = [];
    expect(await runDestinationPass(deps, destinationId, "changes")).toMatchObject({ status: "done", counts: { sent: 6 } });
    expect(await outboxOf(destinationId)).toEqual([]);
    await expectShopifyEqualsTenure(shop, destinationId, ids);
  });

  it("pauses with a notice when Shopify refuses the token (401), keeps the outbox, and resumes at the next install or start", async () => {
    const { shop, destinationId } = await writebackShop(fake, admin, "wb-401");
    await insertCustomers(shop, [{ id: 1 }]);
    await scoreAndMark(shop, [metricsRow(1)], T0);
    fake.failNext = [401, 401, 401];

    expect(await runDestinationPass(deps, destinationId, "changes")).toMatchObject({ status: "paused" });
    const paused = await testPool().query<{ status: string; notice: string }>(`SELECT status, notice FROM "Destination" WHERE id = $1`, [destinationId]);
    expect(paused.rows[0]).toEqual({ status: "paused", notice: expect.stringMatching(/^Shopify refused Tenure's write-back .*no change is lost/) });
    expect(await outboxOf(destinationId)).toEqual(["1"]);
    // While paused, a pass asks Shopify nothing.
    const asked = fake.requests.length;
    expect(await runDestinationPass(deps, destinationId, "changes")).toMatchObject({ status: "paused" });
    expect(fake.requests.length).toBe(asked);

    fake.failNext = [];
    expect(await ensureShopifyDestination(testPool(), shop)).toEqual({ id: destinationId, created: false, resumed: true });
    expect(await runDestinationPass(deps, destinationId, "full", "settings")).toMatchObject({ status: "done" });
    await expectShopifyEqualsTenure(shop, destinationId, [1]);
  });

  it("waits, asking Shopify nothing, in a process without the Admin API client", async () => {
    const { shop, destinationId } = await writebackShop(fake, admin, "wb-noadmin");
    await insertCustomers(shop, [{ id: 1 }]);
    await scoreAndMark(shop, [metricsRow(1)], T0);
    expect(await runDestinationPass({ pool: testPool() }, destinationId, "changes")).toMatchObject({ status: "waiting" });
    expect(await outboxOf(destinationId)).toEqual(["1"]);
  });
});

describe("redaction", () => {
  it("erases a redacted customer's metafields and Tenure's tags, never the merchant's own", async () => {
    const { shop, destinationId } = await writebackShop(fake, admin, "wb-erase");
    await insertCustomers(shop, [{ id: 1, email: null }, { id: 2 }]);
    await switchShopifyTagging(testPool(), shop, true);
    tagCustomerAsMerchant(fake.shopData(shop), customerGid("1"), ["wholesale"]);
    await scoreAndMark(shop, [metricsRow(1, ALL_FIGURES), metricsRow(2)], T0);
    await runDestinationPass(deps, destinationId, "changes");
    expect(fakeCustomerTags(fake.shopData(shop), customerGid("1"))).toEqual(["tenure-need-attention", "wholesale"]);

    // Customer 1 has no email: the erasure is still recorded (by customer id).
    await redactCustomer(testDb(), shop, { customerId: 1n, email: null, phone: null, orderIds: [] });
    expect(await runErasurePass(deps, destinationId)).toEqual({ status: "done", erased: 1 });

    expect(metafieldsInShopify(fake, shop, 1)).toEqual({});
    expect(fakeCustomerTags(fake.shopData(shop), customerGid("1"))).toEqual(["wholesale"]);
    await expectShopifyEqualsTenure(shop, destinationId, [2]);
  });

  it("erases a customer redacted while a pass is writing them (the pass records an erasure, not a member)", async () => {
    const { shop, destinationId } = await writebackShop(fake, admin, "wb-redact-mid");
    await insertCustomers(shop, [{ id: 1 }, { id: 2 }]);
    await scoreAndMark(shop, [metricsRow(1), metricsRow(2)], T0);
    // The write waits on a slow retry (a 503 then a long backoff) while the redaction lands.
    const slow = new AdminGraphql({ db: testDb(), backoffMs: 800, maxRetries: 2 });
    const first = fake.requests.length;
    fake.failNext = [503];
    const pass = runDestinationPass({ pool: testPool(), shopifyAdmin: slow }, destinationId, "changes");
    await waitFor(async () => fake.requests.slice(first).some((r) => r.shop === shop && r.status === 503), 5_000);
    await redactCustomer(testDb(), shop, { customerId: 1n, email: "customer-1@example.com", phone: null, orderIds: [] });
    expect(await pass).toMatchObject({ status: "done" });

    const members = await testPool().query<{ id: string }>(`SELECT "customerId"::text AS id FROM "DestinationMember" WHERE "destinationId" = $1 ORDER BY 1`, [destinationId]);
    expect(members.rows.map((r) => r.id)).toEqual(["2"]);
    expect(metafieldsInShopify(fake, shop, 1)).not.toEqual({}); // the write reached Shopify ...
    await runErasurePass(deps, destinationId);
    expect(metafieldsInShopify(fake, shop, 1)).toEqual({}); // ... and the erasure removed it
    await expectShopifyEqualsTenure(shop, destinationId, [2]);
  });
});

describe("tags", () => {
  it("are off by default: no tag is sent", async () => {
    const { shop, destinationId } = await writebackShop(fake, admin, "wb-tags-off");
    await insertCustomers(shop, [{ id: 1 }]);
    await scoreAndMark(shop, [metricsRow(1)], T0);
    await runDestinationPass(deps, destinationId, "full", "initial");
    expect(requestsOf(shop, "tagsAdd")).toEqual([]);
    expect(fakeCustomerTags(fake.shopData(shop), customerGid("1"))).toEqual([]);
  });

  it("follow segment transitions only, never touch a merchant's tag, and are all removed when switched off", async () => {
    const { shop, destinationId } = await writebackShop(fake, admin, "wb-tags");
    await insertCustomers(shop, [{ id: 1 }, { id: 2 }]);
    tagCustomerAsMerchant(fake.shopData(shop), customerGid("1"), ["wholesale", "tenure-friend"]);
    await scoreAndMark(shop, [metricsRow(1, { segment: "champions" }), metricsRow(2, { segment: "at-risk" })], T0);
    expect(await switchShopifyTagging(testPool(), shop, true)).toMatchObject({ changed: true });
    await runDestinationPass(deps, destinationId, "full", "settings");
    const tags = (id: number) => fakeCustomerTags(fake.shopData(shop), customerGid(String(id)));
    expect(tags(1)).toEqual(["tenure-champions", "tenure-friend", "wholesale"]);
    expect(tags(2)).toEqual(["tenure-at-risk"]);

    // A figure changes, the segment does not: no tag call.
    const tagCalls = () => requestsOf(shop, "tagsAdd").length + requestsOf(shop, "tagsRemove").length;
    const before = tagCalls();
    await scoreAndMark(shop, [metricsRow(1, { segment: "champions", netSpent: 9_000 })], T1);
    await runDestinationPass(deps, destinationId, "changes");
    expect(tagCalls()).toBe(before);

    // A move: the new segment's tag added, the old one removed.
    await scoreAndMark(shop, [metricsRow(1, { segment: "loyal", netSpent: 9_000 })], T1);
    await runDestinationPass(deps, destinationId, "changes");
    expect(tags(1)).toEqual(["tenure-friend", "tenure-loyal", "wholesale"]);
    expect(tagCalls()).toBe(before + 2);

    // Switched off: a full pass removes Tenure's tags, and only them.
    expect(await switchShopifyTagging(testPool(), shop, false)).toMatchObject({ changed: true });
    await runDestinationPass(deps, destinationId, "full", "settings");
    expect(tags(1)).toEqual(["tenure-friend", "wholesale"]);
    expect(tags(2)).toEqual([]);
    await expectShopifyEqualsTenure(shop, destinationId, [1, 2]);
    expect(await switchShopifyTagging(testPool(), shop, false)).toEqual({ changed: false, queued: false });
  });
});

describe("the write-back destination", () => {
  it("is made at install / worker start with a full pass wanted, once, and the Integrations page neither lists nor offers it", async () => {
    const shop = await installShop(uniqueShop("wb-made"));
    await fake.installSession(testDb(), shop, "read_orders,read_all_orders,read_customers,write_customers");
    const logger = { info: () => {}, error: () => {} };
    await makeSureOfMetafieldDefinitions({ admin, pool: testPool(), logger }, shop);
    await makeSureOfMetafieldDefinitions({ admin, pool: testPool(), logger }, shop);

    const rows = await testPool().query<{ kind: string; sealedCredentials: string; fullWantedReason: string | null; status: string }>(
      `SELECT kind, "sealedCredentials", "fullWantedReason", status FROM "Destination" WHERE shop = $1`,
      [shop],
    );
    expect(rows.rows).toEqual([{ kind: "shopify", sealedCredentials: "", fullWantedReason: "initial", status: "active" }]);
    const page = await loadIntegrationsPage(testPool(), shop);
    expect(page.destinations.map((d) => [d.kind, d.connected])).toEqual([
      ["klaviyo", false],
      ["mailchimp", false],
    ]);
  });
});
