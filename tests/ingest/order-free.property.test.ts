import fc from "fast-check";
import { processDelivery } from "~/ingest/deliveries.server";
import { testDb, uniqueShop, insertDelivery, snapshot } from "../support/db";
import { type Delivery, type Scenario, deliveriesOf, scenario } from "../support/shop-histories";

// Property: any shuffle and duplication of a shop's delivery sequence, run through the
// real processor and handlers on PostgreSQL, leaves the same rows as the clean replay in
// event order. Histories mix order versions (customer moves, test, cancelled), refunds
// before and after updates, order and customer deletes, placeholders and profiles.

const db = () => testDb();

/** What the rows must say, computed without the database: each kept order's net. */
function expectedNets(s: Scenario): Map<bigint, bigint> {
  const nets = new Map<bigint, bigint>();
  s.orders.forEach((history, index) => {
    if (history.deleted) return;
    let time = history.start;
    let last = { at: time, step: history.first };
    const refunds: { at: number; cents: number }[] = [];
    for (const [step, wait] of history.rest) {
      time += wait;
      if (step.kind === "refund") refunds.push({ at: time, cents: step.amountCents });
      else last = { at: time, step };
    }
    const later = refunds.filter((refund) => refund.at > last.at).reduce((sum, refund) => sum + refund.cents, 0);
    nets.set(BigInt(5_000 + index), last.step.test ? 0n : BigInt(Math.max(0, last.step.totalCents - later)));
  });
  return nets;
}

async function run(shop: string, sequence: { delivery: Delivery; source: number; again: boolean }[]) {
  const rowOf = new Map<number, bigint>();
  for (const { delivery, source, again } of sequence) {
    const existing = rowOf.get(source);
    const id = again && existing !== undefined
      ? existing // the same stored delivery's job runs a second time
      : await insertDelivery(db(), { shop, topic: delivery.topic, payload: delivery.payload }); // Shopify redelivers
    if (!rowOf.has(source)) rowOf.set(source, id);
    const outcome = await processDelivery(db(), id);
    expect(outcome.status === "processed" || (outcome.status === "skipped" && outcome.reason === "already-processed")).toBe(true);
  }
}

describe("any shuffle and duplication of a delivery sequence", () => {
  it("leaves the same rows as the clean ordered replay", async () => {
    // Deliveries are rebuilt from the scenario inside the property, so a counterexample
    // prints as a short history rather than full payloads.
    const cases = scenario.chain((s) => {
      const indices = deliveriesOf(s).map((_delivery, index) => index);
      return fc.record({
        s: fc.constant(s),
        order: fc.shuffledSubarray(indices, { minLength: indices.length, maxLength: indices.length }),
        duplicates: fc.array(
          fc.record({ source: fc.constantFrom(...indices), position: fc.nat({ max: indices.length }), again: fc.boolean() }),
          { maxLength: 6 },
        ),
      });
    });

    await fc.assert(
      fc.asyncProperty(cases, async ({ s, order, duplicates }) => {
        const deliveries = deliveriesOf(s);
        const clean = deliveries
          .map((delivery, source) => ({ delivery, source, again: false }))
          .sort((a, b) => a.delivery.time - b.delivery.time || a.source - b.source);
        const shuffled = order.map((source) => ({ delivery: deliveries[source], source, again: false }));
        for (const duplicate of duplicates) {
          shuffled.splice(duplicate.position, 0, { delivery: deliveries[duplicate.source], source: duplicate.source, again: duplicate.again });
        }

        const [cleanShop, shuffledShop] = [uniqueShop("clean"), uniqueShop("shuffled")];
        await run(cleanShop, clean);
        await run(shuffledShop, shuffled);
        const expected = await snapshot(db(), cleanShop);
        expect(await snapshot(db(), shuffledShop)).toEqual(expected);

        const nets = new Map(expected.orders.map((row) => [row.id, row.netMinor]));
        expect(nets).toEqual(expectedNets(s));
        for (const customer of expected.customers) {
          const theirs = expected.orders.filter((row) => row.customerId === customer.id && !row.test);
          expect(customer.ordersCount).toBe(theirs.length);
          expect(customer.netSpentMinor).toBe(theirs.reduce((sum, row) => sum + row.netMinor, 0n));
        }
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});
