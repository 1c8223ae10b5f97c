import type { RefitTrigger } from "~/queues/contract";

// The refit debounce: when the live metrics worker asks for a shop's refit, from the count
// of customers changed since its fit (ShopFit.changesSinceFit). Pure: numbers and
// decisions only; the worker counts (app/metrics) and asks (request-refit.server.ts).
// docs/analytics/live-metrics.md explains the policy.

/** When a shop's debounced refit is asked for. */
export const REFIT_DEBOUNCE = {
  /** Refit once this many customers changed since the last fit... */
  minChanges: 50,
  /** ...or this share of the shop's customers (at the last fit), whichever is larger. */
  shareOfCustomers: 0.02,
  /** Or once the oldest change not yet in a fit is this old (a quiet shop still refits). */
  maxWaitMs: 15 * 60_000,
  /** Debounced refits of one shop start at least this long apart (a busy shop does not refit back to back). */
  minSpacingMs: 5 * 60_000,
  /** A shop never fitted asks for its first refit this long after its first change, so a burst lands in it. */
  firstFitDelayMs: 30_000,
  /** One process asks Redis about one shop's refit at most this often (the request is idempotent; this spares Redis). */
  requestEveryMs: 30_000,
} as const;
export type RefitDebounce = { [K in keyof typeof REFIT_DEBOUNCE]: number };

/** Changes that make a shop's refit due: max(minChanges, shareOfCustomers x customers). */
export function refitThreshold(customersAtFit: number, debounce: RefitDebounce = REFIT_DEBOUNCE): number {
  return Math.max(debounce.minChanges, Math.ceil(debounce.shareOfCustomers * Math.max(0, customersAtFit)));
}

/** What a recompute learned about the shop's fit, after counting its changes. */
export interface FitState {
  /** The shop has a ShopFit row (it was fitted, or a refit at least began). */
  fitted: boolean;
  /** Customers at the last fit (threshold base). */
  customers: number;
  /** Changes since the last fit, this recompute's included (null: the row was locked by a refit; not counted yet). */
  changes: number | null;
  /** This recompute's count (changes - added was the count before). */
  added: number;
  firstChangeAt: Date | null;
  /** When the last refit finished (or started, while one is rescoring). */
  lastFitFinishedAt: Date | null;
}

export interface RefitDue {
  trigger: RefitTrigger;
  /** Run it this long from now (0: now). */
  delayMs: number;
  reason: "first-fit" | "threshold" | "waited" | "first-change";
}

/**
 * Whether (and when) to ask for the shop's refit. Pure: the numbers are REFIT_DEBOUNCE.
 * - never fitted: the first refit, shortly (firstFitDelayMs);
 * - changes reached the threshold, or the oldest change waited maxWaitMs: now, but not
 *   sooner than minSpacingMs after the last refit finished;
 * - the first change since the last fit: a refit maxWaitMs later, so a quiet shop's lone
 *   change still reaches a fit (the request above brings it forward when due earlier).
 */
export function refitDue(state: FitState, now: Date, debounce: RefitDebounce = REFIT_DEBOUNCE): RefitDue | null {
  if (!state.fitted) return { trigger: "debounce", delayMs: debounce.firstFitDelayMs, reason: "first-fit" };
  if (state.changes === null || state.changes <= 0) return null;
  const spacing = state.lastFitFinishedAt ? Math.max(0, state.lastFitFinishedAt.getTime() + debounce.minSpacingMs - now.getTime()) : 0;
  if (state.changes >= refitThreshold(state.customers, debounce)) return { trigger: "debounce", delayMs: spacing, reason: "threshold" };
  const waited = state.firstChangeAt ? now.getTime() - state.firstChangeAt.getTime() : 0;
  if (waited >= debounce.maxWaitMs) return { trigger: "debounce", delayMs: spacing, reason: "waited" };
  if (state.changes - state.added <= 0) {
    return { trigger: "debounce", delayMs: Math.max(spacing, debounce.maxWaitMs - waited), reason: "first-change" };
  }
  return null;
}
