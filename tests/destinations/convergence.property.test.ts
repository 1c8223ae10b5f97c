import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { deleteCustomerMetrics } from "~/data/customer-metrics.server";
import { markDestinationChanges } from "~/data/destinations.server";
import { pgTransaction } from "~/db/pg.server";
import { chooseAudience, connectDestination, setDestinationSegments } from "~/destinations/connections.server";
import { type SyncDeps, runDestinationPass } from "~/destinations/sync.server";
import { segmentName } from "~/display/segment-names";
import { type FakeKlaviyo, startFakeKlaviyo } from "../../demo/fakes/klaviyo";
import { FAKE_MAILCHIMP_KEY, type FakeMailchimp, startFakeMailchimp } from "../../demo/fakes/mailchimp";
import { installedShop, testPool } from "../support/db";
import { changeConsent, destinationOf, fakeAdapters, insertCustomers, outboxOf, writeAndMark } from "../support/destinations";
import { metricsRow } from "../support/customer-metrics-rows";
import { dropQueues } from "../support/ingested-shops";

// THE convergence property (issue 14): any interleaving of segment moves, consent changes
// and destination failures (5xx, timeouts or lost answers, 429 storms), with passes running
// before, between and during the changes, ends, once the passes drain the outbox, with every
// Tenure list in Klaviyo's fake (every Tenure tag in Mailchimp's) holding exactly the
// sendable customers of its segment. No change is lost, whatever failed on the way.

let klaviyo: FakeKlaviyo;
let mailchimp: FakeMailchimp;
let deps: SyncDeps;
let runs = 0;

beforeAll(async () => {
  // Import jobs and answers take a moment, so a change made during a pass often lands while it sends.
  klaviyo = await startFakeKlaviyo({ jobTiming: { queuedMs: 0, processingMs: 100 } });
  mailchimp = await startFakeMailchimp({ latencyMs: 20 });
  process.env.KLAVIYO_API_URL = klaviyo.url;
  process.env.MAILCHIMP_API_URL = mailchimp.url;
  process.env.TENURE_QUEUE_PREFIX = `tenure-test-destinations-property-${process.pid}-${Date.now().toString(36)}`;
  deps = { pool: testPool(), adapterFor: fakeAdapters({ klaviyo: klaviyo.url, mailchimp: mailchimp.url }) };
});
afterEach(async () => dropQueues());
afterAll(async () => {
  await klaviyo.close();
  await mailchimp.close();
  delete process.env.KLAVIYO_API_URL;
  delete process.env.MAILCHIMP_API_URL;
});

type Fault = "5xx" | "timeout" | "429";

/** One email tool as the property sees it: connect a fresh account or audience, inject failures, read a segment's members. */
interface Tool {
  kind: "klaviyo" | "mailchimp";
  /** Connects the shop to a fresh list space; returns what members() needs. */
  connect(shop: string, run: number): Promise<string>;
  inject(kind: Fault, n: number): void;
  clear(): void;
  members(space: string, name: string): string[];
}

const TOOLS: Tool[] = [
  {
    kind: "klaviyo",
    async connect(shop, run) {
      const key = `pk_test_property_${process.pid}_${run}`;
      expect(await connectDestination(testPool(), shop, "klaviyo", { apiKey: key })).toEqual({ ok: true });
      return key;
    },
    inject(kind, n) {
      if (kind === "5xx") klaviyo.inject.serverErrors(n);
      else if (kind === "timeout") klaviyo.inject.timeouts(Math.min(n, 1));
      else klaviyo.inject.rateLimitStorm(n, 1);
    },
    clear() {
      klaviyo.inject.serverErrors(0);
      klaviyo.inject.timeouts(0);
      klaviyo.inject.rateLimitStorm(0);
    },
    members: (key, name) => klaviyo.state.listMembers(name, key),
  },
  {
    kind: "mailchimp",
    async connect(shop, run) {
      const audienceId = `prop${process.pid}x${run}`;
      mailchimp.addAudience(audienceId, `Property ${run}`);
      expect(await connectDestination(testPool(), shop, "mailchimp", { apiKey: FAKE_MAILCHIMP_KEY })).toEqual({ ok: true });
      await chooseAudience(testPool(), shop, audienceId);
      return audienceId;
    },
    inject(kind, n) {
      if (kind === "5xx") mailchimp.inject.serverErrors(n);
      // A request carried out whose answer never comes: the retry must not double anything.
      else if (kind === "timeout") mailchimp.inject.lostAnswers(Math.min(n, 1));
      else mailchimp.inject.tooManyRequests(n);
    },
    // The fake's failure counters only add up: whatever is left is used up by the drain's passes.
    clear() {},
    members: (audienceId, name) => mailchimp.state.membersTagged(audienceId, name),
  },
];

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
  | { op: "fault"; kind: Fault; n: number }
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

describe.each(TOOLS)("a $kind destination under any interleaving of moves and failures", (tool) => {
  it("ends with its lists equal to Tenure's segments for sendable customers", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...CONSENTS), { minLength: CUSTOMERS.length, maxLength: CUSTOMERS.length }),
        fc.array(step, { minLength: 1, maxLength: 10 }),
        async (initialConsent, steps) => {
          runs += 1;
          const shop = await installedShop("dest-prop");
          const space = await tool.connect(shop, runs);
          await setDestinationSegments(testPool(), shop, tool.kind, [...CHOSEN]);
          const id = (await destinationOf(shop, tool.kind))!.id;
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
              } else if (s.op === "fault") tool.inject(s.kind, s.n);
              else if (s.op === "pass") await pass(id);
              else {
                await move(shop, s.customer, s.first);
                const later = new Promise((resolve) => setTimeout(resolve, s.afterMs)).then(() => move(shop, s.customer, s.place));
                await Promise.all([pass(id), later]);
                model.place.set(s.customer, s.place);
              }
            }
          } finally {
            tool.clear();
          }
          // The passes drain the outbox (the worker's retries and the sweep would run them).
          for (let attempt = 0; attempt < 5 && (await outboxOf(id)).length > 0; attempt += 1) await pass(id);
          expect(await outboxOf(id)).toEqual([]);
          const actual = Object.fromEntries(CHOSEN.map((k) => [`Tenure: ${segmentName(k)}`, tool.members(space, `Tenure: ${segmentName(k)}`)]));
          expect(actual).toEqual(expectedLists(model));
        },
      ),
      { numRuns: 15 },
    );
  }, 300_000);
});
