import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connectDestination, setDestinationSegments } from "~/destinations/connections.server";
import { type SyncDeps, runDestinationPass } from "~/destinations/sync.server";
import { type FakeKlaviyo, startFakeKlaviyo } from "../../demo/fakes/klaviyo";
import { installedShop, testPool } from "../support/db";
import { destinationOf, fakeAdapters, insertCustomers, writeAndMark } from "../support/destinations";
import { metricsRow } from "../support/customer-metrics-rows";
import { dropQueues } from "../support/ingested-shops";

// A full pass's batches (issue 14, the initial sync at a million): customers are read group
// by group (their first chosen segment), so a batch shares its Klaviyo list and becomes one
// import job, and several batches are in flight at once. Batches of 3 here stand for 10,000.

let fake: FakeKlaviyo;
let deps: SyncDeps;
const KEY = "pk_test_full_pass_batches";

beforeAll(async () => {
  fake = await startFakeKlaviyo({ jobTiming: { queuedMs: 0, processingMs: 20 } });
  process.env.KLAVIYO_API_URL = fake.url;
  process.env.TENURE_QUEUE_PREFIX = `tenure-test-destinations-batches-${process.pid}-${Date.now().toString(36)}`;
  const adapters = fakeAdapters({ klaviyo: fake.url });
  deps = { pool: testPool(), adapterFor: (kind, apiKey, account) => ({ ...adapters(kind, apiKey, account), batchSize: 3 }) };
});
afterEach(async () => dropQueues());
afterAll(async () => {
  await fake.close();
  delete process.env.KLAVIYO_API_URL;
});

describe("a full pass", () => {
  it("sends customers interleaved across lists as one import job per batch, every one in their lists", async () => {
    const shop = await installedShop("batches");
    expect(await connectDestination(testPool(), shop, "klaviyo", { apiKey: KEY })).toEqual({ ok: true });
    await setDestinationSegments(testPool(), shop, "klaviyo", ["champions", "at-risk", "vip"]);
    const id = (await destinationOf(shop, "klaviyo"))!.id;
    // Ids alternate between the two RFM segments; 1 and 2 are also VIPs; 13 is in no chosen segment.
    const ids = Array.from({ length: 13 }, (_, i) => i + 1);
    await insertCustomers(shop, ids.map((customer) => ({ id: customer })));
    await writeAndMark(
      shop,
      ids.map((customer) =>
        metricsRow(customer, {
          segment: customer === 13 ? "hibernating" : customer % 2 === 0 ? "champions" : "at-risk",
          behaviours: customer <= 2 ? ["vip"] : [],
        }),
      ),
    );

    const result = await runDestinationPass(deps, id, "full", "initial");
    expect(result).toMatchObject({ status: "done", counts: { compared: 12, sent: 12, failed: 0 } });
    const email = (customer: number) => `customer-${customer}@example.com`;
    const listed = Object.fromEntries(fake.state.lists(KEY));
    expect(listed["Tenure: Champions"]!.sort()).toEqual([2, 4, 6, 8, 10, 12].map(email).sort());
    expect(listed["Tenure: At risk"]!.sort()).toEqual([1, 3, 5, 7, 9, 11].map(email).sort());
    expect(listed["Tenure: VIP"]!.sort()).toEqual([1, 2].map(email).sort());
    // Groups: at-risk (1 3 5 | 7 9 11), champions (2 4 6 | 8 10 12); VIPs 1 and 2 are in
    // their RFM group's first batch and also join VIP: 4 batches, 6 jobs, each job one list.
    // Read by customer id instead, batches (1 2 3 | 4 5 6 | ...) would each need 2 or 3 jobs.
    const jobs = fake.state.jobs(KEY);
    expect(jobs.map((job) => job.listIds.length)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(jobs).toHaveLength(6);

    // Nothing changed: a second full pass compares everyone and sends nobody.
    const again = await runDestinationPass(deps, id, "full", "manual");
    expect(again.counts).toMatchObject({ compared: 12, sent: 0 });
    expect(fake.state.jobs(KEY)).toHaveLength(6);
  });

  it("takes a member out of every list when they are in no chosen segment any more (the first group)", async () => {
    const shop = await installedShop("batches");
    const key = `${KEY}_2`;
    expect(await connectDestination(testPool(), shop, "klaviyo", { apiKey: key })).toEqual({ ok: true });
    await setDestinationSegments(testPool(), shop, "klaviyo", ["champions"]);
    const id = (await destinationOf(shop, "klaviyo"))!.id;
    const ids = [21, 22, 23, 24, 25];
    await insertCustomers(shop, ids.map((customer) => ({ id: customer })));
    await writeAndMark(shop, ids.map((customer) => metricsRow(customer, { segment: "champions" })));
    await runDestinationPass(deps, id, "full", "initial");
    expect(fake.state.listMembers("Tenure: Champions", key)).toHaveLength(5);

    await writeAndMark(shop, [21, 23, 25].map((customer) => metricsRow(customer, { segment: "hibernating" })));
    const result = await runDestinationPass(deps, id, "full", "manual");
    expect(result.counts).toMatchObject({ compared: 5, sent: 3, failed: 0 });
    expect(fake.state.listMembers("Tenure: Champions", key).sort()).toEqual(["customer-22@example.com", "customer-24@example.com"]);
  });
});
