import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeBundles, encodeBundles, transferablesOf } from "./bundle-columns";
import { CONSENT_STATES, OPT_IN_LEVELS, type OrderBundle } from "./mappers";

const id = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const date = fc.date({ min: new Date("1970-01-01T00:00:00Z"), max: new Date("2100-01-01T00:00:00Z"), noInvalidDate: true });
const text = fc.string({ unit: "binary", maxLength: 12 });
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });

const consent = fc.record({ state: fc.constantFrom(...CONSENT_STATES), optInLevel: maybe(fc.constantFrom(...OPT_IN_LEVELS)), updatedAt: maybe(date) });
const customer = fc.record({
  id, email: maybe(text), firstName: maybe(text), lastName: maybe(text), phone: maybe(text), state: maybe(text),
  tags: maybe(fc.array(text, { maxLength: 3 })), currency: maybe(text), shopifyCreatedAt: maybe(date), shopifyUpdatedAt: date,
  emailConsent: maybe(consent), smsConsent: maybe(consent),
});
const refundParts = fc.record({ returnsMinor: id, taxMinor: id, shippingMinor: id, dutiesMinor: id });
const orderParts = fc.record({ grossSalesMinor: id, discountsMinor: id, returnsMinor: id, taxMinor: id, shippingMinor: id, dutiesMinor: id });
const refund = fc.record({ id, orderId: id, createdAt: date, amountMinor: id, currency: maybe(text), parts: maybe(refundParts) });
const bundle: fc.Arbitrary<OrderBundle> = fc.record({
  order: fc.record({
    id, name: maybe(text), customerId: maybe(id), processedAt: date, shopifyCreatedAt: date, shopifyUpdatedAt: date,
    currency: text, currentTotalMinor: id, test: fc.boolean(), cancelledAt: maybe(date), financialStatus: maybe(text),
    sourceName: maybe(text), discountCodes: fc.array(text, { maxLength: 3 }), tags: fc.array(text, { maxLength: 3 }),
    firstProductId: maybe(id), firstProductTitle: maybe(text), lineItemCount: fc.nat(500), marketingSource: maybe(text), marketingSourceFromJourney: fc.boolean(),
    parts: maybe(orderParts),
  }),
  customer: maybe(customer),
  refunds: fc.array(refund, { maxLength: 3 }),
});

describe("bundle columns", () => {
  it("decode(encode(bundles)) gives the same bundles, after a trip through structured clone", () => {
    fc.assert(
      fc.property(fc.array(bundle, { maxLength: 20 }), (bundles) => {
        const columns = encodeBundles(bundles);
        const moved = structuredClone(columns, { transfer: transferablesOf(columns) });
        expect(decodeBundles(moved)).toEqual(bundles);
      }),
    );
  });

  it("moves the typed arrays instead of copying them", () => {
    const columns = encodeBundles([]);
    const buffers = transferablesOf(columns);
    // One buffer per typed column (ids, null flags, times, offsets), none listed twice.
    expect(buffers.length).toBe(new Set(buffers).size);
    expect(buffers.length).toBeGreaterThanOrEqual(20);
  });

  it("refuses an id beyond 64 bits instead of wrapping it", () => {
    fc.assert(
      fc.property(fc.constantFrom(2n ** 63n, -(2n ** 63n) - 1n), bundle, (tooBig, sample) => {
        expect(() => encodeBundles([{ ...sample, order: { ...sample.order, id: tooBig } }])).toThrow(RangeError);
      }),
      { numRuns: 10 },
    );
  });
});
