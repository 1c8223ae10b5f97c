import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DestinationRetryableError, type DestinationProfile, type MemberChange } from "~/destinations/adapter";
import { mailchimpAdapter } from "~/destinations/mailchimp.server";
import { FAKE_MAILCHIMP_KEY, type FakeMailchimp, startFakeMailchimp } from "../../demo/fakes/mailchimp";

// A property of the adapter under failures: whatever the interleaving of customers' moves
// and Mailchimp's trouble (5xx, timeouts, 429, answers lost after the change landed), once
// the changes are acknowledged the audience's Tenure tags equal Tenure's segments, and no
// member's status was ever changed after creation. The driver plays the engine's part: it
// diffs each customer's wanted segment against the last acknowledged one, and keeps a
// change whose push failed for the next round.

const SEGMENTS = ["champions", "loyal", "at-risk"] as const;
const NAMES: Record<string, string> = { champions: "Tenure: Champions", loyal: "Tenure: Loyal", "at-risk": "Tenure: At risk" };
const CUSTOMERS = 6;

type Trouble = "none" | "5xx" | "timeout" | "429" | "lost-post" | "lost-patch";
interface Step {
  moves: { customer: number; segment: (typeof SEGMENTS)[number] | null }[];
  trouble: Trouble;
}

const step: fc.Arbitrary<Step> = fc.record({
  moves: fc.array(fc.record({ customer: fc.integer({ min: 0, max: CUSTOMERS - 1 }), segment: fc.constantFrom(...SEGMENTS, null) }), { minLength: 1, maxLength: 4 }),
  trouble: fc.constantFrom<Trouble>("none", "none", "5xx", "timeout", "429", "lost-post", "lost-patch"),
});

let fake: FakeMailchimp;
beforeAll(async () => {
  fake = await startFakeMailchimp({ audiences: [] });
});
afterAll(async () => fake.close());

function profile(customer: number): DestinationProfile {
  return {
    customerId: String(customer),
    email: `c${customer}@example.com`,
    firstName: null,
    lastName: null,
    phone: null,
    // Even customers are subscribed in Shopify, odd ones not (synced as everyone).
    emailConsentState: customer % 2 === 0 ? "SUBSCRIBED" : "NOT_SUBSCRIBED",
    properties: {
      tenure_rfm_segment: null,
      tenure_behaviours: [],
      tenure_predicted_value_12m: null,
      tenure_historic_value: 0,
      tenure_chance_of_ordering_90d: null,
      tenure_p_alive: null,
      tenure_next_order_date: null,
    },
  };
}

describe("the Mailchimp adapter under failures", () => {
  it("ends with the audience's Tenure tags equal to Tenure's segments, statuses untouched", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 5 }), async (steps) => {
        const audienceId = `conv${run++}`.padEnd(10, "0");
        fake.addAudience(audienceId, "Convergence");
        const mailchimp = mailchimpAdapter(FAKE_MAILCHIMP_KEY, { audienceId }, { baseUrl: fake.url, timeoutMs: 150 });
        const targets = await mailchimp.ensureTargets(SEGMENTS.map((key) => ({ segmentKey: key, name: NAMES[key], remoteId: null })));
        const wanted = new Map<number, string | null>();
        const acknowledged = new Map<number, string | null>();
        const firstStatus = new Map<string, string>();

        const pushPending = async (trouble: Trouble) => {
          const changes: MemberChange[] = [];
          for (const [customer, segment] of wanted) {
            const before = acknowledged.get(customer) ?? null;
            if (before === segment) continue;
            changes.push({
              profile: profile(customer),
              remoteProfileId: null,
              add: segment ? [segment] : [],
              remove: before ? [before] : [],
              keep: [],
            });
          }
          if (changes.length === 0) return;
          if (trouble === "5xx") fake.inject.serverErrors(2);
          if (trouble === "timeout") fake.inject.timeouts(1);
          if (trouble === "429") fake.inject.tooManyRequests(1);
          if (trouble === "lost-post") fake.inject.lostAnswers(1, "POST");
          if (trouble === "lost-patch") fake.inject.lostAnswers(1, "PATCH");
          try {
            const outcomes = await mailchimp.push(changes, targets);
            for (const outcome of outcomes) {
              expect(outcome.ok).toBe(true);
              acknowledged.set(Number(outcome.customerId), wanted.get(Number(outcome.customerId)) ?? null);
            }
          } catch (error) {
            if (!(error instanceof DestinationRetryableError)) throw error;
            // Kept for the next round, as the outbox keeps it.
          } finally {
            for (const member of fake.state.audiences.get(audienceId)!.members.values()) {
              if (!firstStatus.has(member.email)) firstStatus.set(member.email, member.status);
            }
          }
        };

        for (const { moves, trouble } of steps) {
          for (const move of moves) wanted.set(move.customer, move.segment);
          await pushPending(trouble);
        }
        await pushPending("none");

        for (const key of SEGMENTS) {
          const expected = [...wanted].filter(([, segment]) => segment === key).map(([customer]) => `c${customer}@example.com`).sort();
          expect(fake.state.membersTagged(audienceId, NAMES[key])).toEqual(expected);
        }
        for (const member of fake.state.audiences.get(audienceId)!.members.values()) {
          const customer = Number(member.email.slice(1, member.email.indexOf("@")));
          expect(member.status).toBe(customer % 2 === 0 ? "subscribed" : "transactional");
          expect(member.status).toBe(firstStatus.get(member.email));
        }
      }),
      { numRuns: 12, seed: 20261206 },
    );
  }, 240_000);
});
