// One interface over the three continuous-time count models, so callers (shop model,
// backtest, CLI) can switch model by name. All times are in the unit the model was fitted in.
import {
  type BgNbdParams,
  bgnbdConditionalExpectedPurchases,
  bgnbdExpectedPurchases,
  bgnbdExpectedPurchasesIfAlive,
  bgnbdLogLikelihoodRow,
  bgnbdPAlive,
  bgnbdProbabilityOfPurchases,
  bgnbdProbabilityOfPurchaseWithin,
  bgnbdPurchaseWithinIfAlive,
  bgnbdTimeToPurchase,
  fitBgNbd,
  fitModifiedBgNbd,
  modifiedBgnbdConditionalExpectedPurchases,
  modifiedBgnbdExpectedPurchases,
  modifiedBgnbdExpectedPurchasesIfAlive,
  modifiedBgnbdLogLikelihoodRow,
  modifiedBgnbdPAlive,
  modifiedBgnbdProbabilityOfPurchases,
  modifiedBgnbdProbabilityOfPurchaseWithin,
  modifiedBgnbdTimeToPurchase,
} from "./bgnbd";
import { type FitOptions, type FitResult } from "./estimation";
import { type HomogeneousDropOut, homogeneousBgNbdModel, homogeneousDropOutOf, homogeneousParetoNbdModel } from "./homogeneous-dropout";
import {
  fitParetoNbd,
  type ParetoNbdParams,
  paretoNbdConditionalExpectedPurchases,
  paretoNbdExpectedPurchases,
  paretoNbdExpectedPurchasesIfAlive,
  paretoNbdLogLikelihoodRow,
  paretoNbdPAlive,
  paretoNbdProbabilityOfPurchases,
  paretoNbdProbabilityOfPurchaseWithin,
  paretoNbdPurchaseWithinIfAlive,
  paretoNbdTimeToPurchase,
} from "./pareto-nbd";
import { type PreparedRows, type RfRow } from "./rows";

export type CountModelName = "bgnbd" | "mbgnbd" | "paretonbd";

export const COUNT_MODEL_LABELS: Readonly<Record<CountModelName, string>> = {
  bgnbd: "BG/NBD",
  mbgnbd: "modified BG/NBD",
  paretonbd: "Pareto/NBD",
};

export type CountModelParams = BgNbdParams | ParetoNbdParams;

export interface CountModel {
  readonly name: CountModelName;
  readonly params: CountModelParams;
  logLikelihoodRow(x: number, tx: number, T: number): number;
  /** P(alive at T | x, t_x, T). */
  pAlive(x: number, tx: number, T: number): number;
  /** E[X(t)] for a customer who has just made a first purchase. */
  expectedPurchases(t: number): number;
  /** E[Y(t) | x, t_x, T]: purchases expected in (T, T + t]. */
  conditionalExpectedPurchases(t: number, x: number, tx: number, T: number): number;
  /**
   * E[Y(t) | alive at T, x, T]: conditionalExpectedPurchases is pAlive(x, t_x, T) times this,
   * exactly, so a caller needing several horizons computes P(alive) (and its checks) once.
   */
  expectedPurchasesIfAlive(t: number, x: number, T: number): number;
  /** P(X(t) = n). */
  probabilityOfPurchases(n: number, t: number): number;
  /** P(at least one purchase in (T, T + t] | x, t_x, T). */
  probabilityOfPurchaseWithin(t: number, x: number, tx: number, T: number): number;
  /** The same given alive at T: probabilityOfPurchaseWithin is pAlive(x, t_x, T) times this, exactly (it does not depend on t_x). */
  probabilityOfPurchaseWithinIfAlive(t: number, x: number, T: number): number;
  /**
   * Smallest t with probabilityOfPurchaseWithin(t) >= probability, or null if it never gets
   * there. With `step`, only as precise as rounding t up to a multiple of `step` needs.
   */
  timeToPurchase(x: number, tx: number, T: number, probability?: number, step?: number): number | null;
}

function checkParams(name: CountModelName, params: CountModelParams): void {
  const keys = name === "paretonbd" ? ["r", "alpha", "s", "beta"] : ["r", "alpha", "a", "b"];
  for (const key of keys) {
    const value = (params as unknown as Record<string, unknown>)[key];
    if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value)) {
      throw new RangeError(`${COUNT_MODEL_LABELS[name]} parameter ${key} must be a positive number (got ${String(value)})`);
    }
  }
}

/**
 * The count model `name` at fixed parameters. With `homogeneousDropOut` (a fit at that limit:
 * homogeneousDropOutOf(fit.boundary)), the limit's model: r, α from params, one drop-out p or
 * μ for every customer, in closed form; a and b (s and β) are then only reported.
 */
export function countModel(name: CountModelName, params: CountModelParams, homogeneousDropOut?: HomogeneousDropOut | null): CountModel {
  checkParams(name, params);
  if (homogeneousDropOut) {
    return name === "paretonbd"
      ? homogeneousParetoNbdModel(params as ParetoNbdParams, homogeneousDropOut)
      : homogeneousBgNbdModel(name, params as BgNbdParams, homogeneousDropOut);
  }
  if (name === "paretonbd") {
    const p = params as ParetoNbdParams;
    return {
      name,
      params: { r: p.r, alpha: p.alpha, s: p.s, beta: p.beta },
      logLikelihoodRow: (x, tx, T) => paretoNbdLogLikelihoodRow(p, x, tx, T),
      pAlive: (x, tx, T) => paretoNbdPAlive(p, x, tx, T),
      expectedPurchases: (t) => paretoNbdExpectedPurchases(p, t),
      conditionalExpectedPurchases: (t, x, tx, T) => paretoNbdConditionalExpectedPurchases(p, t, x, tx, T),
      expectedPurchasesIfAlive: (t, x, T) => paretoNbdExpectedPurchasesIfAlive(p, t, x, T),
      probabilityOfPurchases: (n, t) => paretoNbdProbabilityOfPurchases(p, n, t),
      probabilityOfPurchaseWithin: (t, x, tx, T) => paretoNbdProbabilityOfPurchaseWithin(p, t, x, tx, T),
      probabilityOfPurchaseWithinIfAlive: (t, x, T) => paretoNbdPurchaseWithinIfAlive(p, t, x, T),
      timeToPurchase: (x, tx, T, probability, step) => paretoNbdTimeToPurchase(p, x, tx, T, probability, step),
    };
  }
  const p = params as BgNbdParams;
  const copy = { r: p.r, alpha: p.alpha, a: p.a, b: p.b };
  if (name === "mbgnbd") {
    return {
      name,
      params: copy,
      logLikelihoodRow: (x, tx, T) => modifiedBgnbdLogLikelihoodRow(p, x, tx, T),
      pAlive: (x, tx, T) => modifiedBgnbdPAlive(p, x, tx, T),
      expectedPurchases: (t) => modifiedBgnbdExpectedPurchases(p, t),
      conditionalExpectedPurchases: (t, x, tx, T) => modifiedBgnbdConditionalExpectedPurchases(p, t, x, tx, T),
      expectedPurchasesIfAlive: (t, x, T) => modifiedBgnbdExpectedPurchasesIfAlive(p, t, x, T),
      probabilityOfPurchases: (n, t) => modifiedBgnbdProbabilityOfPurchases(p, n, t),
      probabilityOfPurchaseWithin: (t, x, tx, T) => modifiedBgnbdProbabilityOfPurchaseWithin(p, t, x, tx, T),
      probabilityOfPurchaseWithinIfAlive: (t, x, T) => bgnbdPurchaseWithinIfAlive(p, t, x, T),
      timeToPurchase: (x, tx, T, probability) => modifiedBgnbdTimeToPurchase(p, x, tx, T, probability),
    };
  }
  return {
    name,
    params: copy,
    logLikelihoodRow: (x, tx, T) => bgnbdLogLikelihoodRow(p, x, tx, T),
    pAlive: (x, tx, T) => bgnbdPAlive(p, x, tx, T),
    expectedPurchases: (t) => bgnbdExpectedPurchases(p, t),
    conditionalExpectedPurchases: (t, x, tx, T) => bgnbdConditionalExpectedPurchases(p, t, x, tx, T),
    expectedPurchasesIfAlive: (t, x, T) => bgnbdExpectedPurchasesIfAlive(p, t, x, T),
    probabilityOfPurchases: (n, t) => bgnbdProbabilityOfPurchases(p, n, t),
    probabilityOfPurchaseWithin: (t, x, tx, T) => bgnbdProbabilityOfPurchaseWithin(p, t, x, tx, T),
    probabilityOfPurchaseWithinIfAlive: (t, x, T) => bgnbdPurchaseWithinIfAlive(p, t, x, T),
    timeToPurchase: (x, tx, T, probability) => bgnbdTimeToPurchase(p, x, tx, T, probability),
  };
}

/** The model a fit predicts with: its parameters, or its nested limit's when it was reported at the homogeneous drop-out limit. */
export function fittedCountModel(name: CountModelName, fit: Pick<FitResult<CountModelParams>, "params" | "boundary">): CountModel {
  return countModel(name, fit.params, homogeneousDropOutOf(fit.boundary));
}

/** Fits the count model `name` on weighted rows. */
export function fitCountModelByName(
  name: CountModelName,
  rows: readonly RfRow[] | PreparedRows,
  options: FitOptions = {},
): FitResult<CountModelParams> {
  if (name === "paretonbd") return fitParetoNbd(rows, options);
  if (name === "mbgnbd") return fitModifiedBgNbd(rows, options);
  return fitBgNbd(rows, options);
}
