// Whether a shop has results yet, as every page's "not ready" state shows it (no server code:
// components import it).

export interface FitState {
  /** "ready" | "no-predictions" | "failed"; null: never fitted (just installed, import or first refit running). */
  status: string | null;
  reason: string | null;
  error: string | null;
  /** Where the predicted figures come from: the model, the estimate from averages (too little data for the model), or none. */
  predictionSource: "model" | "averages" | null;
  asOfIso: string | null;
  finishedAtIso: string | null;
  /** The latest order import, when there is one: drives "import running" empty states. */
  backfill: { status: string; ordersProcessed: number; expectedCount: number | null; error: string | null } | null;
}
