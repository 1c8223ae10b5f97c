import fc from "fast-check";
import { type Json } from "./webhook-fixtures";
import { consentPayload, customerPayload, orderPayload, refundPayload, withConsent } from "./webhook-payloads";

// Shop histories for property tests: order versions (customer moves, test, cancelled),
// refunds before and after updates, order and customer deletes, placeholders and
// profiles; and the deliveries Shopify would send for them, with their event times.

export const BASE = Date.parse("2025-01-01T00:00:00Z");
export const CUSTOMER_IDS = [1, 2, 3];

export interface Delivery {
  time: number;
  topic: string;
  payload: Json;
}

const versionStep = fc.record({
  kind: fc.constant("version" as const),
  customer: fc.constantFrom<number | null>(null, 1, 2, 3),
  totalCents: fc.integer({ min: 0, max: 40_000 }),
  test: fc.constantFrom(false, false, false, true),
  cancelled: fc.constantFrom(false, false, true),
});
const refundStep = fc.record({ kind: fc.constant("refund" as const), amountCents: fc.integer({ min: 1, max: 8_000 }) });
const gap = fc.integer({ min: 1, max: 600 }); // minutes between one entity's events

const orderHistory = fc.record({
  start: fc.integer({ min: 0, max: 2_000 }),
  first: versionStep,
  rest: fc.array(fc.tuple(fc.oneof(versionStep, refundStep), gap), { maxLength: 4 }),
  deleted: fc.constantFrom(false, false, false, true),
});
/**
 * A profile version's email consent: none (no key, as 2025-01+ payloads), or a state whose
 * consent date lies up to ten hours before the version (so consent and profile clocks
 * disagree), or a never-asked state without a date.
 */
const consentStep = fc.oneof(
  fc.constant({ kind: "absent" as const }),
  fc.record({ kind: fc.constant("dated" as const), state: fc.constantFrom("subscribed", "unsubscribed", "pending"), before: fc.integer({ min: 0, max: 600 }) }),
  fc.constant({ kind: "never-asked" as const }),
);
type ConsentStep = typeof consentStep extends fc.Arbitrary<infer T> ? T : never;

function consentOfStep(step: ConsentStep | undefined, time: number): Json | "absent" {
  if (!step || step.kind === "absent") return "absent";
  if (step.kind === "never-asked") return consentPayload("not_subscribed", null);
  return consentPayload(step.state, minutes(time - step.before));
}

const customerHistory = fc.record({
  start: fc.integer({ min: 0, max: 2_000 }),
  versions: fc.array(gap, { maxLength: 3 }), // 0 versions: known only through orders (placeholder)
  consents: fc.array(consentStep, { maxLength: 3 }), // the versions' email consent, in turn ("absent" past the end)
  deleted: fc.constantFrom(false, false, false, false, true),
});
export const scenario = fc.record({
  customers: fc.tuple(customerHistory, customerHistory, customerHistory),
  orders: fc.array(orderHistory, { minLength: 1, maxLength: 4 }),
});
export type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

export const minutes = (n: number) => new Date(BASE + n * 60_000);

/** The deliveries Shopify would send for this history, with their event times. */
export function deliveriesOf(s: Scenario): Delivery[] {
  const out: Delivery[] = [];
  const firstProfileAt = new Map<number, Date>();
  const firstConsent = new Map<number, Json | "absent">();
  s.customers.forEach((history, index) => {
    const id = CUSTOMER_IDS[index];
    let time = history.start;
    history.versions.forEach((step, version) => {
      time += step;
      const consent = consentOfStep(history.consents[version], time);
      if (version === 0) {
        firstProfileAt.set(id, minutes(time));
        firstConsent.set(id, consent);
      }
      const payload = withConsent(customerPayload(id, minutes(time), { first_name: `V${version}`, tags: `v${version}`, email: `c${id}v${version}@example.com` }), {
        emailConsent: consent,
        smsConsent: "absent",
      });
      out.push({ time, topic: version === 0 ? "customers/create" : "customers/update", payload });
    });
    if (history.deleted) out.push({ time: time + 1, topic: "customers/delete", payload: { id } });
  });

  s.orders.forEach((history, index) => {
    const orderId = 5_000 + index;
    let time = history.start;
    const refunds: Json[] = [];
    const steps = [[history.first, 0] as const, ...history.rest];
    let created = false;
    steps.forEach(([step, wait], position) => {
      time += wait;
      if (step.kind === "refund") {
        const refund = refundPayload({ id: 70_000 + index * 10 + position, orderId, createdAt: minutes(time), amountCents: step.amountCents });
        refunds.push(refund);
        out.push({ time, topic: "refunds/create", payload: refund });
        return;
      }
      const payload = orderPayload({
        id: orderId,
        customerId: step.customer,
        updatedAt: minutes(time),
        createdAt: minutes(history.start),
        totalCents: step.totalCents,
        test: step.test,
        cancelledAt: step.cancelled ? minutes(time) : null,
        refunds: [...refunds],
        customerEmail: step.customer === null ? undefined : `c${step.customer}v0@example.com`,
        customerUpdatedAt: step.customer === null ? undefined : firstProfileAt.get(step.customer),
        // The embedded profile is the first version, consent included (or none, as 2025-01+ payloads).
        emailConsent: step.customer === null ? undefined : (firstConsent.get(step.customer) ?? "absent"),
        smsConsent: "absent",
      });
      if (step.customer !== null) {
        const customer = payload.customer as Json;
        if (firstProfileAt.has(step.customer)) Object.assign(customer, { first_name: "V0", tags: "v0" });
        else customer.updated_at = null; // a channel that embeds no profile: placeholder customer
      }
      out.push({ time, topic: !created ? "orders/create" : step.cancelled ? "orders/cancelled" : "orders/updated", payload });
      created = true;
    });
    if (history.deleted) out.push({ time: time + 1, topic: "orders/delete", payload: { id: orderId } });
  });
  return out;
}
