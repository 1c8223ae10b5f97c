import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CustomerMetricsValues } from "~/analytics/customer-metrics";
import { deleteCustomerMetrics, writeCustomerMetrics } from "~/data/customer-metrics.server";
import { markDestinationChanges, readDestination, wantShopFullPasses } from "~/data/destinations.server";
import { pgTransaction } from "~/db/pg.server";
import { type SyncDeps, runDestinationPass } from "~/destinations/sync.server";
import { switchShopifyTagging } from "~/destinations/shopify/tagging.server";
import { customerGid } from "~/destinations/shopify/writeback.server";
import { AdminGraphql } from "~/integrations/shopify-admin.server";
import { testDb, testPool } from "../support/db";
import { insertCustomers, outboxOf } from "../support/destinations";
import { metricsRow } from "../support/customer-metrics-rows";
import { FakeShopify } from "../support/fake-shopify";
import { fakeCustomerTags, tagCustomerAsMerchant } from "../support/fake-shopify-customers";
import { dropQueues } from "../support/ingested-shops";
import { metafieldsInShopify, metafieldsOfTenure, scoreAndMark, writebackShop } from "../support/shopify-writeback";

// THE write-back's convergence property (issue 15 part 1): any interleaving of refits (every
// row rewritten, then a full pass), live changes (a customer moves, loses their row), Settings'
// tag switch and Admin API failures (5xx and cut connections past the client's retries,
// THROTTLED from a bucket drained by someone else's calls), with passes running between and during the changes, ends,
// once the passes drain the outbox and the wanted full pass, with Shopify's metafields equal
// to Tenure's rows (tenureMetafieldValues of the current metrics) and Tenure's tags equal to
// the segments when tagging is on, the merchant's own tag untouched.

let fake: FakeShopify;
let admin: AdminGraphql;
let deps: SyncDeps;

beforeAll(async () => {
  // A small bucket (5 calls, 10 a second) so that a burst of another client's calls throttles the pass's.
  fake = await new FakeShopify({ appId: "6262", bucket: { maximumAvailable: 50, restoreRate: 100, queryCost: 10 } }).start();
  admin = new AdminGraphql({ db: testDb(), backoffMs: 5, maxRetries: 2 });
  deps = { pool: testPool(), shopifyAdmin: admin };
  process.env.TENURE_QUEUE_PREFIX = `tenure-test-writeback-property-${process.pid}-${Date.now().toString(36)}`;
});
afterEach(async () => {
  fake.failNext = [];
  fake.dropNext = 0;
  await dropQueues();
});
afterAll(() => fake.close());

const CUSTOMERS = [1, 2, 3, 4];
const PLACES = [
  { segment: "champions", behaviours: ["vip"], netSpent: 9_000, chance: 0.8 },
  { segment: "champions", behaviours: [], netSpent: 8_000, chance: 0.7 },
  { segment: "at-risk", behaviours: ["repeat-buyer", "big-spender"], netSpent: 4_000, chance: 0.2 },
  { segment: "loyal", behaviours: [], netSpent: 3_000, chance: null },
  "no-row",
] as const;
type Place = (typeof PLACES)[number];

type Step =
  | { op: "move"; customer: number; place: Place }
  | { op: "refit"; shift: number }
  | { op: "tags"; on: boolean }
  | { op: "fault"; kind: "5xx" | "network" | "throttled"; n: number }
  | { op: "pass" }
  /** A move waiting in the outbox, then another while a pass may be writing the first. */
  | { op: "pass-during-move"; customer: number; first: Place; place: Place; afterMs: number };

const customer = fc.constantFrom(...CUSTOMERS);
const place = fc.constantFrom(...PLACES);
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant("move" as const), customer, place }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("refit" as const), shift: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("tags" as const), on: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("fault" as const), kind: fc.constantFrom("5xx" as const, "network" as const, "throttled" as const), n: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 2, arbitrary: fc.constant({ op: "pass" as const }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("pass-during-move" as const), customer, first: place, place, afterMs: fc.integer({ min: 0, max: 60 }) }) },
);

function rowOf(id: number, where: Exclude<Place, "no-row">, shift: number): CustomerMetricsValues {
  return metricsRow(id, {
    segment: where.segment,
    behaviours: [...where.behaviours] as never,
    netSpent: where.netSpent + shift,
    chanceOfOrder90d: where.chance,
    predictedClv: where.chance === null ? null : 5_000 + shift,
  });
}

async function move(shop: string, id: number, where: Place, shift: number): Promise<void> {
  if (where === "no-row") {
    // As the recompute does for a customer it finds gone: row removed, outbox marked.
    await pgTransaction(testPool(), async (_tx, client) => {
      await deleteCustomerMetrics(client, shop, [String(id)]);
      await markDestinationChanges(client, shop, [String(id)]);
    });
    return;
  }
  await scoreAndMark(shop, [rowOf(id, where, shift)]);
}

/** A refit: every row rewritten (new figures, new computedAt), no outbox marks, a full pass wanted; the pass may fail (the sweep runs it again). */
async function refit(shop: string, destinationId: string, places: Map<number, Place>, shift: number): Promise<void> {
  const rows = CUSTOMERS.flatMap((id) => {
    const where = places.get(id)!;
    return where === "no-row" ? [] : [rowOf(id, where, shift)];
  });
  await pgTransaction(testPool(), async (_tx, client) => {
    if (rows.length > 0) await writeCustomerMetrics(client, shop, rows, { modelVersion: 2, asOfDay: 20_111, source: "refit" });
    await wantShopFullPasses(client, shop, "refit");
  });
  await runDestinationPass(deps, destinationId, "full", "refit").catch(() => undefined);
}

/**
 * Another client (the import, say) keeps the shop's cost bucket empty for at least `forMs` and
 * until the pass has ended (10 s at most): a call every 20 ms takes whatever refilled, so the
 * pass's calls meanwhile are THROTTLED. Until the pass ends, not for a fixed time: on a loaded
 * machine the pass's writes came after a fixed drain, and no write was throttled.
 */
async function drainBucket(shop: string, forMs: number, passEnded: () => boolean): Promise<void> {
  const other = new AdminGraphql({ db: testDb(), backoffMs: 5, maxRetries: 0 });
  const query = `#graphql\n query Drain { metafieldDefinitions(first: 1, namespace: "$app", ownerType: CUSTOMER) { nodes { id } pageInfo { hasNextPage endCursor } } }`;
  const calls: Promise<unknown>[] = [];
  const start = Date.now();
  while (Date.now() - start < Math.min(forMs, 10_000) || (!passEnded() && Date.now() - start < 10_000)) {
    calls.push(other.request(shop, query).catch(() => undefined));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await Promise.all(calls);
}

const pass = (id: string) => runDestinationPass(deps, id, "changes").catch(() => undefined);

describe("the Shopify write-back under any interleaving of refits, live changes and Admin API failures", () => {
  it("ends with Shopify's metafields equal to Tenure's rows and Tenure's tags equal to the segments", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 10 }), async (steps) => {
        const { shop, destinationId } = await writebackShop(fake, admin, "wb-prop");
        await insertCustomers(shop, CUSTOMERS.map((id) => ({ id })));
        tagCustomerAsMerchant(fake.shopData(shop), customerGid("1"), ["wholesale"]);
        const places = new Map<number, Place>(CUSTOMERS.map((id) => [id, "no-row"]));
        let tagging = false;
        let shift = 0;
        try {
          for (const s of steps) {
            if (s.op === "move") {
              await move(shop, s.customer, s.place, shift);
              places.set(s.customer, s.place);
            } else if (s.op === "refit") {
              shift += s.shift;
              await refit(shop, destinationId, places, shift);
            } else if (s.op === "tags") {
              await switchShopifyTagging(testPool(), shop, s.on);
              tagging = s.on;
            } else if (s.op === "fault") {
              // A scored customer's figures change, so the pass right after has something to write when the fault hits.
              const scored = CUSTOMERS.filter((id) => places.get(id) !== "no-row");
              const c = scored[s.n % Math.max(1, scored.length)];
              if (c !== undefined) await move(shop, c, places.get(c)!, shift + 100 * s.n);
              if (s.kind === "5xx") fake.failNext.push(...Array.from({ length: s.n }, () => 503));
              else if (s.kind === "network") fake.dropNext += s.n;
              // THROTTLED: another client drains the bucket just as the pass starts.
              let passEnded = false;
              const faulted = pass(destinationId).finally(() => (passEnded = true));
              await Promise.all([s.kind === "throttled" ? drainBucket(shop, 150 * s.n, () => passEnded) : Promise.resolve(), faulted]);
            } else if (s.op === "pass") await pass(destinationId);
            else {
              await move(shop, s.customer, s.first, shift);
              const later = new Promise((resolve) => setTimeout(resolve, s.afterMs)).then(() => move(shop, s.customer, s.place, shift));
              await Promise.all([pass(destinationId), later]);
              places.set(s.customer, s.place);
            }
          }
        } finally {
          fake.failNext = [];
          fake.dropNext = 0;
        }
        // The worker's retries and the sweep: the wanted full pass and the outbox drained.
        for (let attempt = 0; attempt < 5; attempt += 1) {
          const destination = await readDestination(testPool(), destinationId);
          if (destination?.fullWantedAt) await runDestinationPass(deps, destinationId, "full", destination.fullWantedReason).catch(() => undefined);
          else if ((await outboxOf(destinationId)).length > 0) await pass(destinationId);
          else break;
        }
        expect(await outboxOf(destinationId)).toEqual([]);
        expect((await readDestination(testPool(), destinationId))?.fullWantedAt).toBeNull();
        for (const id of CUSTOMERS) {
          expect(metafieldsInShopify(fake, shop, id), `customer ${id}'s metafields`).toEqual(await metafieldsOfTenure(shop, destinationId, id));
          const where = places.get(id)!;
          const tenureTags = tagging && where !== "no-row" ? [`tenure-${where.segment}`] : [];
          expect(fakeCustomerTags(fake.shopData(shop), customerGid(String(id))), `customer ${id}'s tags`).toEqual([...tenureTags, ...(id === 1 ? ["wholesale"] : [])].sort());
        }
      }),
      {
        numRuns: 20,
        // One run that surely meets each fault while a pass has something to write.
        examples: [
          [
            [
              { op: "move", customer: 1, place: PLACES[0] },
              { op: "fault", kind: "throttled", n: 3 },
              { op: "fault", kind: "5xx", n: 4 },
              { op: "move", customer: 2, place: PLACES[2] },
              { op: "fault", kind: "network", n: 2 },
              { op: "refit", shift: 2 },
            ],
          ],
        ],
      },
    );
    // The faults reached the write-back's own calls: throttled writes and 503s were retried or left for a later pass.
    // A push's first call is its look for unfinished bulk operations (mutation-operations.server.ts): faults land there too.
    const writes = fake.requests.filter((r) => /metafieldsSet\(|metafieldsDelete\(|tags(Add|Remove)\(|TenureMutationOperations/.test(r.query));
    expect(writes.some((r) => r.throttled)).toBe(true);
    expect(writes.some((r) => r.status === 503)).toBe(true);
    expect(writes.some((r) => r.status === 0)).toBe(true);
  }, 300_000);
});
