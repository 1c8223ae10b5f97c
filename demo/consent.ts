import { type Random } from "~/analytics/random";
import { type DemoCustomer } from "./store-model";

// The demo customers' marketing consent (issue 14): about half subscribed to email (most
// single opt-in, some confirmed), a few pending confirmation, some who subscribed and
// unsubscribed after their first order, the rest never asked; SMS for a small share of the
// customers with a phone. Each channel is a history of changes, so a payload shows the
// consent as of its own profile time (an unsubscription appears from the first order on).

export type DemoConsentState = "SUBSCRIBED" | "NOT_SUBSCRIBED" | "UNSUBSCRIBED" | "PENDING";
export type DemoOptInLevel = "SINGLE_OPT_IN" | "CONFIRMED_OPT_IN";

export interface DemoConsentChange {
  /** The profile time from which the customer's payloads show this consent. */
  from: number;
  state: DemoConsentState;
  optInLevel: DemoOptInLevel | null;
  /** Shopify's consent_updated_at; null for a customer never asked. */
  updatedAt: number | null;
  /** SMS only: where the consent was collected. */
  collectedFrom?: "SHOPIFY" | "OTHER";
}

/** Shares of the generator's draws (the realised split varies a little by seed). */
export const CONSENT_SHARES = {
  /** Of the customers who accept marketing at sign-up (store.ts, about 55 %): still awaiting double opt-in. */
  pending: 0.04,
  confirmedOptIn: 0.25,
  /** Of the subscribed customers with an order: unsubscribe after their first order. */
  unsubscribeAfterFirstOrder: 0.15,
  /** Of the customers with a phone. */
  smsSubscribed: 0.14,
  smsUnsubscribed: 0.03,
} as const;

/** A profile update time, as the demo's payloads stamp it: the first order's profile time. */
const firstOrderProfileAt = (customer: DemoCustomer) =>
  customer.orders.length === 0 ? null : Math.min(...customer.orders.map((order) => order.createdAt)) + 1_000;

/** Fills each customer's email and SMS consent history. Call once the customers have their orders and final createdAt. */
export function generateConsent(rng: Random, customers: DemoCustomer[]): void {
  for (const customer of customers) {
    const firstOrderAt = firstOrderProfileAt(customer);
    customer.emailConsent = emailHistory(rng, customer, firstOrderAt);
    customer.smsConsent = smsHistory(rng, customer, firstOrderAt);
  }
}

function emailHistory(rng: Random, customer: DemoCustomer, firstOrderAt: number | null): DemoConsentChange[] {
  const never: DemoConsentChange = { from: Number.NEGATIVE_INFINITY, state: "NOT_SUBSCRIBED", optInLevel: null, updatedAt: null };
  if (customer.staff || !customer.acceptsMarketing) return [never];
  const since = customer.createdAt;
  if (rng.chance(CONSENT_SHARES.pending)) return [{ from: Number.NEGATIVE_INFINITY, state: "PENDING", optInLevel: "CONFIRMED_OPT_IN", updatedAt: since }];
  const optInLevel: DemoOptInLevel = rng.chance(CONSENT_SHARES.confirmedOptIn) ? "CONFIRMED_OPT_IN" : "SINGLE_OPT_IN";
  const subscribed: DemoConsentChange = { from: Number.NEGATIVE_INFINITY, state: "SUBSCRIBED", optInLevel, updatedAt: since };
  if (firstOrderAt === null || !rng.chance(CONSENT_SHARES.unsubscribeAfterFirstOrder)) return [subscribed];
  return [subscribed, { from: firstOrderAt, state: "UNSUBSCRIBED", optInLevel, updatedAt: firstOrderAt }];
}

function smsHistory(rng: Random, customer: DemoCustomer, firstOrderAt: number | null): DemoConsentChange[] {
  if (customer.phone === null) return [];
  const draw = rng.next();
  const never: DemoConsentChange = { from: Number.NEGATIVE_INFINITY, state: "NOT_SUBSCRIBED", optInLevel: null, updatedAt: null };
  if (customer.staff || draw >= CONSENT_SHARES.smsSubscribed + CONSENT_SHARES.smsUnsubscribed) return [never];
  const optInLevel: DemoOptInLevel = rng.chance(0.2) ? "CONFIRMED_OPT_IN" : "SINGLE_OPT_IN";
  const subscribed: DemoConsentChange = { from: Number.NEGATIVE_INFINITY, state: "SUBSCRIBED", optInLevel, updatedAt: customer.createdAt, collectedFrom: "SHOPIFY" };
  if (draw < CONSENT_SHARES.smsSubscribed || firstOrderAt === null) return [subscribed];
  return [subscribed, { from: firstOrderAt, state: "UNSUBSCRIBED", optInLevel, updatedAt: firstOrderAt, collectedFrom: "SHOPIFY" }];
}

/** The consent a payload stamped with profile time `at` shows: null when the channel has none (no phone). */
export function consentAsOf(history: DemoConsentChange[], at: number): DemoConsentChange | null {
  let current: DemoConsentChange | null = null;
  for (const change of history) if (change.from <= at) current = change;
  return current;
}
