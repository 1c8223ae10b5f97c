import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { deleteCustomerMetrics } from "~/data/customer-metrics.server";
import { markDestinationChanges } from "~/data/destinations.server";
import { pgTransaction } from "~/db/pg.server";
import { connectDestination, setDestinationSegments } from "~/destinations/connections.server";
import { type SyncDeps, runDestinationPass } from "~/destinations/sync.server";
import { segmentName } from "~/display/segment-names";
import { type FakeKlaviyo, startFakeKlaviyo } from "../../demo/fakes/klaviyo";
import { installedShop, testPool } from "../support/db";
import { changeConsent, destinationOf, fakeAdapters, insertCustomers, outboxOf, writeAndMark } from "../support/destinations";
import { metricsRow } from "../support/customer-metrics-rows";
import { dropQueues } from "../support/ingested-shops";

// THE convergence property (issue 14): any interleaving of segment moves, consent changes
// and destination failures (5xx, timeouts, 429 storms), with passes running before, between
// and during the changes, ends, once the passes drain the outbox, with every Tenure list in
// Klaviyo's fake holding exactly the sendable customers of its segment. No change is lost,
// whatever failed on the way.

let fake: FakeKlaviyo;
let deps: SyncDeps;
let runs = 0;

beforeAll(async () => {
  // Import jobs take a moment, so a change made during a pass often lands while it sends.
  fake = await startFakeKlaviyo({ jobTiming: { queuedMs: 0, processingMs: 100 } });
  process.env.KLAVIYO_API_URL = fake.url;
  process.env.TENURE_QUEUE_PREFIX = `tenure-test-destinations-property-${process.pid}-${Date.now().toString(36)}`;
  deps = { pool: testPool(), adapterFor: fakeAdapters({ klaviyo: fake.url }) };
});
afterEach(async () => dropQueues());
afterAll(async () => {
  await fake.close();
  delete process.env.KLAVIYO_API_URL;
});

const CHOSEN = ["champions", "at-risk", "vip"] as const;
const CUSTOMERS = [1, 2, 3, 4, 5];
/** Where a customer can be: a chosen segment, one that is not, with a behaviour or not, unscored, or without a metrics row. */
const PLACES = [
  { segment: "champions", behaviours: [] },
  { segment: "champions", behaviours: ["vip"] },
  { segment: "at-risk", behaviours: [] },
  { segment: "hibernating", behaviours: ["vip"] },
  { segment: "loyal", behaviours: [] },
  { segment: null, behaviours: [] },
  "no-row",
] as const;
const CONSENTS = ["SUBSCRIBED", "UNSUBSCRIBED", "NOT_SUBSCRIBED", null] as const;

type Place = (typeof PLACES)[number];
type Step =
  | { op: "move"; customer: number; place: Place }
  | { op: "consent"; customer: number; consent: (typeof CONSENTS)[number] }
  | { op: "fault"; kind: "5xx" | "timeout" | "429"; n: number }
  | { op: "pass" }
  /** The customer moves (waiting in the outbox), then moves again while a pass may be sending the first move. */
  | { op: "pass-during-move"; customer: number; first: Place; place: Place; afterMs: number };

const customer = fc.constantFrom(...CUSTOMERS);
const place = fc.constantFrom(...PLACES);
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant("move" as const), customer, place }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("consent" as const), customer, consent: fc.constantFrom(...CONSENTS) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("fault" as const), kind: fc.constantFrom("5xx" as const, "timeout" as const, "429" as const), n: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 2, arbitrary: fc.constant({ op: "pass" as const }) },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant("pass-during-move" as const), customer, first: place, place, afterMs: fc.integer({ min: 0, max: 250 }) }),
  },
);

interface Model {
  place: Map<number, Place>;
  consent: Map<number, string | null>;
}

async function move(shop: string, id: number, where: Place): Promise<void> {
  if (where === "no-row") {
    // As the recompute does for a customer it finds gone: row removed, outbox marked.
    await pgTransaction(testPool(), async (_tx, client) => {
      await deleteCustomerMetrics(client, shop, [String(id)]);
      await markDestinationChanges(client, shop, [String(id)]);
    });
    return;
  }
  await writeAndMark(shop, [metricsRow(id, where.segment === null ? { orders: 0, netSpent: 0 } : { segment: where.segment, behaviours: [...where.behaviours] as never })]);
}

/** A pass as the worker runs it: a failure leaves the job to be retried, so here it is simply run again later. */
async function pass(id: string): Promise<void> {
  await runDestinationPass(deps, id, "changes").catch(() => undefined);
}

function inject(kind: "5xx" | "timeout" | "429", n: number): void {
  if (kind === "5xx") fake.inject.serverErrors(n);
  else if (kind === "timeout") fake.inject.timeouts(Math.min(n, 1));
  else fake.inject.rateLimitStorm(n, 1);
}

function expectedLists(model: Model): Record<string, string[]> {
  const lists: Record<string, string[]> = {};
  for (const key of CHOSEN) {
    lists[`Tenure: ${segmentName(key)}`] = CUSTOMERS.filter((id) => {
      const where = model.place.get(id)!;
      if (where === "no-row" || model.consent.get(id) !== "SUBSCRIBED") return false;
      return where.segment === key || (where.behaviours as readonly string[]).includes(key);
    })
      .map((id) => `customer-${id}@example.com`)
      .sort();
  }
  return lists;
}

describe("a Klaviyo destination under any interleaving of moves and failures", () => {
  it("ends with its lists equal to Tenure's segments for sendable customers", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...CONSENTS), { minLength: CUSTOMERS.length, maxLength: CUSTOMERS.length }),
        fc.array(step, { minLength: 1, maxLength: 10 }),
        async (initialConsent, steps) => {
          runs += 1;
          const key = `pk_test_property_${process.pid}_${runs}`;
          const shop = await installedShop("dest-prop");
          expect(await connectDestination(testPool(), shop, "klaviyo", { apiKey: key })).toEqual({ ok: true });
          await setDestinationSegments(testPool(), shop, "klaviyo", [...CHOSEN]);
          const id = (await destinationOf(shop, "klaviyo"))!.id;
          const model: Model = { place: new Map(), consent: new Map() };
          await insertCustomers(shop, CUSTOMERS.map((c, i) => ({ id: c, consent: initialConsent[i]! })));
          for (const [i, c] of CUSTOMERS.entries()) {
            model.consent.set(c, initialConsent[i]!);
            model.place.set(c, "no-row");
          }
          try {
            for (const s of steps) {
              if (s.op === "move") {
                await move(shop, s.customer, s.place);
                model.place.set(s.customer, s.place);
              } else if (s.op === "consent") {
                await changeConsent(shop, s.customer, s.consent);
                model.consent.set(s.customer, s.consent);
              } else if (s.op === "fault") inject(s.kind, s.n);
              else if (s.op === "pass") await pass(id);
              else {
                await move(shop, s.customer, s.first);
                const later = new Promise((resolve) => setTimeout(resolve, s.afterMs)).then(() => move(shop, s.customer, s.place));
                await Promise.all([pass(id), later]);
                model.place.set(s.customer, s.place);
              }
            }
          } finally {
            fake.inject.serverErrors(0);
            fake.inject.timeouts(0);
            fake.inject.rateLimitStorm(0);
          }
          // The passes drain the outbox (the worker's retries and the sweep would run them).
          for (let attempt = 0; attempt < 5 && (await outboxOf(id)).length > 0; attempt += 1) await pass(id);
          expect(await outboxOf(id)).toEqual([]);
          const actual = Object.fromEntries(CHOSEN.map((k) => [`Tenure: ${segmentName(k)}`, fake.state.listMembers(`Tenure: ${segmentName(k)}`, key)]));
          expect(actual).toEqual(expectedLists(model));
        },
      ),
      { numRuns: 15 },
    );
  }, 300_000);
});
