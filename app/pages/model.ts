import type { ShopModelJson } from "~/analytics/clv/shop-model";
import type { AveragesEstimate } from "~/analytics/estimate-from-averages";
import type { FitState } from "./fit-state";

// The model page's data as the route and its components see it (no server code); the
// loader is model.server.ts.

export interface BacktestWeek {
  week: number;
  startIso: string;
  endIso: string;
  holdout: boolean;
  actual: number;
  predicted: number;
  cumulativeActual: number;
  cumulativePredicted: number;
}

/** One row of the conditional-expectation table: customers by repeat orders before the cut-off (0..6, 7+). */
export interface BacktestGroup {
  /** Repeat orders in the calibration period; with orMore, this many or more. */
  repeatOrders: number;
  orMore: boolean;
  customers: number;
  /** Mean holdout orders per customer of the group (null: no customer in it). */
  actual: number | null;
  predicted: number | null;
}

/** The spend model against the holdout: repeat buyers' expected vs actual average order value (minor units). */
export interface BacktestSpend {
  customers: number;
  meanAbsoluteErrorMinor: number;
  biasMinor: number;
  meanPredictedMinor: number;
  meanActualMinor: number;
}

/** The calibration-period fit a candidate's holdout error comes from (when the fit had a holdout). */
export interface ModelCandidateCalibration {
  params: Record<string, number>;
  logLikelihood: number;
  converged: boolean;
  /** The edge verdict in words, null when drop-out was identified. */
  edge: string | null;
}

/** One candidate count model of the stored fit, the chosen one first. */
export interface ModelCandidate {
  name: string;
  chosen: boolean;
  converged: boolean;
  message: string;
  params: Record<string, number>;
  logLikelihood: number;
  /** "drop-out not identifiable: behaves like plain NBD" at the no-drop-out edge, else null (null too in fits stored before issue 16). */
  edge: string | null;
  /** The plain NBD's log-likelihood, at the edge. */
  nestedLogLikelihood: number | null;
  /** Parameters the data identify (4, or 2 at the edge); null in fits stored before issue 16. */
  effectiveParameters: number | null;
  holdoutError: number | null;
  holdoutStandardError: number | null;
  calibration: ModelCandidateCalibration | null;
}

/** How the model was chosen: every candidate, and whether the best tied (null: a fit stored before the tie rule). */
export interface ModelChoice {
  tie: boolean | null;
  /** The rule that broke the tie, when there was one. */
  tieRule: string | null;
  candidates: ModelCandidate[];
}

export interface ModelPageData {
  shop: string;
  currency: string;
  /** none: no refit yet; ready: predictions; no-predictions: too little data (reason says why); failed: the last refit failed. */
  status: "none" | "ready" | "no-predictions" | "failed";
  /** Import progress for the "no model yet" state; read only when status is "none". */
  notReady: FitState | null;
  reason: string | null;
  reasonCode: string | null;
  error: string | null;
  model: ShopModelJson | null;
  /** The candidates and the tie, from the stored fit (null without a model). */
  choice: ModelChoice | null;
  /** Where the predicted figures come from: the model, the estimate from averages (no model), or none. */
  predictionSource: "model" | "averages" | null;
  /** Without a model: the estimate from averages and what it is made of. */
  averages: AveragesEstimate | null;
  asOfIso: string | null;
  customers: number;
  orders: number;
  trigger: string | null;
  finishedAtIso: string | null;
  durationMs: number | null;
  backtest: {
    holdoutDays: number;
    note: string | null;
    modelName: string | null;
    calibrationEndIso: string | null;
    holdoutEndIso: string | null;
    customers: number;
    meanAbsoluteError: number | null;
    totalPredicted: number | null;
    totalActual: number | null;
    weeks: BacktestWeek[];
    /** Empty for a backtest stored before issue 16 (the next refit adds it). */
    groups: BacktestGroup[];
    spend: BacktestSpend | null;
    /** Why there is no spend comparison (no spend model before the cut-off, no repeat buyer ordered in the holdout). */
    spendNote: string | null;
  } | null;
  /** Settings now (the model's assumptions are those of its fit; a difference means a refit is due). */
  settings: { grossMargin: number; annualDiscountRate: number; horizonDays: number };
}
