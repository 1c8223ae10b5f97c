// A shop's model: which count model describes its customers, the spend model, and how to
// score one customer. Fitting refuses, with a reason and a code, where the data are too
// thin; a fit that does not converge is reported, never used.
import { type CustomerSummary } from "~/analytics/summary";
import { type TimeUnit, unitDays } from "~/analytics/units";
import { type CountModel, type CountModelName, COUNT_MODEL_LABELS, type CountModelParams, countModel, fitCountModelByName, fittedCountModel } from "./count-model";
import { type FitOptions, type FitResult, NBD_EDGE_VERDICT, nestedTolerance } from "./estimation";
import {
  compressSpendRows,
  fitGammaGamma,
  type GammaGammaParams,
  gammaGammaExpectedValue,
  spendFrequencyCorrelation,
} from "./gamma-gamma";
import { type HomogeneousDropOut, homogeneousDropOutOf } from "./homogeneous-dropout";
import { DISCOUNTING_CONVENTION, HorizonExpectations, NEXT_ORDER_CONVENTION, daysToNextOrder } from "./lifetime-value";
import { type PreparedRows, RowCompressor, rowProblem, TripleCounter } from "./rows";

/** Fewer customers than this: no model. */
export const MIN_CUSTOMERS = 50;
/** Fewer customers with a repeat purchase than this: no model (nothing to learn repeat behaviour from). */
export const MIN_REPEAT_BUYERS = 10;
/** Less history than this (oldest customer's age, in days): no model. */
export const MIN_HISTORY_DAYS = 90;

export type ShopCountModelName = CountModelName;

/** The count models fitShopModel compares unless told otherwise (the CLI's `analyze`). */
export const DEFAULT_SHOP_CANDIDATES: readonly ShopCountModelName[] = ["bgnbd", "paretonbd"];

/**
 * The count models the app scores live customers with. BG/NBD is left out: it lets a
 * customer drop out only right after a repeat purchase, so every one-order customer has
 * P(alive) = 1 however long ago they ordered, which a merchant rightly reads as wrong for
 * a one-time buyer from two years ago. The modified BG/NBD (Batislam et al. 2007) and
 * Pareto/NBD allow drop-out at any time.
 */
export const APP_SHOP_CANDIDATES: readonly ShopCountModelName[] = ["mbgnbd", "paretonbd"];

export interface HoldoutData {
  /** Summaries at the end of the calibration period (same unit as the model). */
  summariesAtCalibration: CustomerSummary[];
  /** Repeat purchase days per customer in the holdout period (absent: 0). */
  holdoutPurchases: Map<string, number>;
  /** Holdout length in days. */
  holdoutDays: number;
}

export interface ShopModelOptions {
  unit: TimeUnit;
  /** CLV horizon in days (default 365). */
  horizonDays?: number;
  /** Default 0.10. */
  annualDiscountRate?: number;
  /** Share of revenue kept as margin, 0..1 (default 1: CLV in revenue). */
  grossMargin?: number;
  holdout?: HoldoutData;
  /** Count models to compare (at least two, distinct); default DEFAULT_SHOP_CANDIDATES. */
  candidates?: readonly ShopCountModelName[];
  /** Optimiser limits (e.g. to bound a worker's time); a fit that hits them is reported as not converged. */
  fitOptions?: { maxIterations?: number };
}

export type ShopModelFailureCode = "too-few-customers" | "too-few-repeat-buyers" | "history-too-short" | "did-not-converge";

export type ShopModelResult = { ok: true; model: ShopModel } | { ok: false; reason: string; code: ShopModelFailureCode };

export interface CustomerPrediction {
  pAlive: number;
  /** Chance of at least one order in the next 90 days, P(X(90 d) > 0 | history): the headline churn figure. */
  chanceOfOrder90d: number;
  /** The same over the next 365 days. */
  chanceOfOrder365d: number;
  expectedPurchases90d: number;
  expectedPurchases365d: number;
  /** Gamma-Gamma E[M | x, m]; null without a usable spend model. */
  expectedOrderValue: number | null;
  /** Discounted CLV over the horizon (see assumptions.discounting); null without a spend model. */
  predictedClv: number | null;
  /** Day index of the expected next order (see assumptions.nextOrder), or null. */
  expectedNextOrderDay: number | null;
}

export interface CandidateFit {
  params: CountModelParams;
  logLikelihood: number;
  converged: boolean;
  message: string;
  /**
   * "drop-out not identifiable: behaves like plain NBD" at the no-drop-out edge, "drop-out the
   * same for every customer (p = …)" at the homogeneous drop-out limit, else null (absent in
   * fits stored before issue 16).
   */
  boundary?: string | null;
  /** The plain NBD's log-likelihood when at the no-drop-out edge. */
  nestedLogLikelihood?: number;
  /** Parameters the data identify: 4, the NBD's 2 at the edge, 3 with one drop-out for all. */
  effectiveParameters?: number;
  /** Mean absolute error per customer on the holdout, when there was one. */
  holdoutMeanAbsoluteError?: number;
  /** Its standard error, sd(|error|) / √customers. */
  holdoutStandardError?: number;
  /** The fit on the calibration period the holdout error comes from, when there was one. */
  calibration?: CalibrationFit;
}

export interface CalibrationFit {
  params: CountModelParams;
  logLikelihood: number;
  converged: boolean;
  message: string;
  boundary: string | null;
  effectiveParameters: number;
}

export interface GammaGammaSummary {
  params: GammaGammaParams;
  logLikelihood: number;
  customers: number;
  /** Correlation of frequency and mean spend; the model assumes about 0. */
  spendFrequencyCorrelation: number | null;
  /** At the homogeneous limit (params.nu set): its verdict in words (absent otherwise, and before issue 16). */
  boundary?: string;
}

export interface ShopModelAssumptions {
  unit: TimeUnit;
  horizonDays: number;
  annualDiscountRate: number;
  grossMargin: number;
  discounting: string;
  nextOrder: string;
}

export interface ShopModelJson {
  version: 1;
  chosen: ShopCountModelName;
  choiceReason: string;
  /** True when the best candidates tied (see CHOICE_TIE_RULE) and the tie rule chose (absent before issue 16). */
  choiceTie?: boolean;
  params: CountModelParams;
  /**
   * Set when the chosen fit is at the homogeneous drop-out limit (its boundary): the common p or
   * μ the predictions use, in closed form, with params' r and α (absent otherwise, and before).
   */
  homogeneousDropOut?: HomogeneousDropOut;
  logLikelihood: number;
  customers: number;
  repeatBuyers: number;
  gammaGamma: GammaGammaSummary | null;
  /** Why there is no spend model, when there is none. */
  gammaGammaNote: string | null;
  candidates: Partial<Record<ShopCountModelName, CandidateFit>>;
  assumptions: ShopModelAssumptions;
}

export interface ShopModel {
  chosen: ShopCountModelName;
  choiceReason: string;
  params: CountModelParams;
  logLikelihood: number;
  gammaGamma: GammaGammaSummary | null;
  gammaGammaNote: string | null;
  candidates: Partial<Record<ShopCountModelName, CandidateFit>>;
  assumptions: ShopModelAssumptions;
  score(s: CustomerSummary): CustomerPrediction;
  /**
   * score in two steps, for callers that score many customers sharing a purchase history:
   * scoreWithSpend(scoreHistory(s), s) is exactly score(s), and scoreHistory's result
   * depends only on (frequency, recency, T, firstDay + T), so it may be reused for every
   * customer with those (the refit's predictAll does).
   */
  scoreHistory(s: CustomerSummary): HistoryScore;
  scoreWithSpend(history: HistoryScore, s: CustomerSummary): CustomerPrediction;
  toJSON(): ShopModelJson;
}

/** The part of a prediction that depends on the purchase history only (ShopModel.scoreHistory). */
export interface HistoryScore {
  pAlive: number;
  chanceOfOrder90d: number;
  chanceOfOrder365d: number;
  expectedPurchases90d: number;
  expectedPurchases365d: number;
  /** Discounted expected purchases over the horizon: the CLV per unit of order value and margin. */
  discountedPurchases: number;
  expectedNextOrderDay: number | null;
}

const KNOWN_MODELS: readonly ShopCountModelName[] = ["bgnbd", "mbgnbd", "paretonbd"];

function resolveCandidates(candidates: readonly ShopCountModelName[] | undefined): readonly ShopCountModelName[] {
  const list = candidates ?? DEFAULT_SHOP_CANDIDATES;
  if (list.length < 2 || new Set(list).size !== list.length || list.some((name) => !KNOWN_MODELS.includes(name))) {
    throw new RangeError(`candidates must be two or more distinct count models of ${KNOWN_MODELS.join(", ")}`);
  }
  return list;
}

function resolveOptions(opts: ShopModelOptions): ShopModelAssumptions {
  const horizonDays = opts.horizonDays ?? 365;
  const annualDiscountRate = opts.annualDiscountRate ?? 0.1;
  const grossMargin = opts.grossMargin ?? 1;
  if (!(opts.unit in unitDays)) throw new RangeError(`unknown time unit "${opts.unit}"`);
  if (!(horizonDays > 0) || !Number.isFinite(horizonDays)) throw new RangeError(`horizonDays ${horizonDays} must be a positive number`);
  if (!(annualDiscountRate > -1) || !Number.isFinite(annualDiscountRate)) throw new RangeError(`annualDiscountRate ${annualDiscountRate} must be above -1`);
  if (!(grossMargin >= 0) || !Number.isFinite(grossMargin)) throw new RangeError(`grossMargin ${grossMargin} must be >= 0`);
  return {
    unit: opts.unit,
    horizonDays,
    annualDiscountRate,
    grossMargin,
    discounting: DISCOUNTING_CONVENTION,
    nextOrder: NEXT_ORDER_CONVENTION,
  };
}

function compress(summaries: readonly CustomerSummary[]) {
  const compressor = new RowCompressor();
  summaries.forEach((s, i) => {
    const problem = rowProblem(s.frequency, s.recency, s.T);
    if (problem) throw new RangeError(`customer ${s.customerId} (#${i + 1}): ${problem}`);
    compressor.addChecked(s.frequency, s.recency, s.T);
  });
  return compressor.prepared();
}

function candidateOf(fit: FitResult<CountModelParams>): CandidateFit {
  return {
    params: fit.params,
    logLikelihood: fit.logLikelihood,
    converged: fit.converged,
    message: fit.message,
    boundary: fit.boundary?.verdict ?? null,
    ...(fit.boundary?.kind === "no-drop-out" ? { nestedLogLikelihood: fit.boundary.nestedLogLikelihood } : {}),
    effectiveParameters: fit.effectiveParameters ?? 4,
  };
}

/**
 * How a tie is broken, stored with the choice. Differences below the noise are no evidence
 * (holdout: below the best candidate's holdout-error standard error; likelihood: AIC within
 * 2 × the nested-model tolerance, e.g. two candidates both at the plain-NBD edge), so the
 * simpler description of the data wins: fewer effective parameters (a candidate at the
 * no-drop-out edge is the 2-parameter NBD), then the fixed order BG/NBD, modified BG/NBD,
 * Pareto/NBD, because the BG/NBD family's predictions are closed forms (no hypergeometric
 * series or quadrature, so fewer numerical failure modes and cheaper scoring).
 */
export const CHOICE_TIE_RULE =
  "a tie (difference below the noise: the paired standard error of two holdout errors' difference, or equal likelihoods; or both at the no-drop-out edge) goes to fewer effective parameters, then to BG/NBD, modified BG/NBD, Pareto/NBD in that order";

function effectiveParameters(candidate: CandidateFit | undefined): number {
  return candidate?.effectiveParameters ?? 4;
}

/** Among tied names, the simplest (fewer effective parameters), then the first in KNOWN_MODELS. */
function breakTie(tied: readonly ShopCountModelName[], candidates: Partial<Record<ShopCountModelName, CandidateFit>>): ShopCountModelName {
  return [...tied].sort((a, b) => effectiveParameters(candidates[a]) - effectiveParameters(candidates[b]) || KNOWN_MODELS.indexOf(a) - KNOWN_MODELS.indexOf(b))[0];
}

function fmt(value: number, digits = 2): string {
  return value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** Checks the data are enough for a model; a failure result when not. */
function thinDataCheck(summaries: readonly CustomerSummary[], unit: TimeUnit): ShopModelResult | null {
  if (summaries.length < MIN_CUSTOMERS) {
    return {
      ok: false,
      code: "too-few-customers",
      reason: `${summaries.length} customers with an order; predictions need at least ${MIN_CUSTOMERS}`,
    };
  }
  const repeatBuyers = summaries.filter((s) => s.frequency > 0).length;
  if (repeatBuyers < MIN_REPEAT_BUYERS) {
    return {
      ok: false,
      code: "too-few-repeat-buyers",
      reason: `${repeatBuyers} customers have ordered more than once; predictions need at least ${MIN_REPEAT_BUYERS}`,
    };
  }
  let oldest = 0;
  for (const s of summaries) if (s.T > oldest) oldest = s.T;
  const historyDays = oldest * unitDays[unit];
  if (historyDays < MIN_HISTORY_DAYS) {
    return {
      ok: false,
      code: "history-too-short",
      reason: `${Math.round(historyDays)} days of order history; predictions need at least ${MIN_HISTORY_DAYS}`,
    };
  }
  return null;
}

/** Mean absolute error of E[Y(holdout)] against actual holdout purchases (one prediction per distinct history), and its standard error. */
function holdoutError(model: CountModel, holdout: HoldoutData, unit: TimeUnit): { mean: number; standardError: number; perCustomer: Float64Array } {
  const t = holdout.holdoutDays / unitDays[unit];
  const histories = new TripleCounter();
  const predictions: number[] = [];
  const perCustomer = new Float64Array(holdout.summariesAtCalibration.length);
  holdout.summariesAtCalibration.forEach((s, i) => {
    const history = histories.addTriple(s.frequency, s.recency, s.T, 1);
    if (history === predictions.length) predictions.push(model.conditionalExpectedPurchases(t, s.frequency, s.recency, s.T));
    perCustomer[i] = Math.abs(predictions[history] - (holdout.holdoutPurchases.get(s.customerId) ?? 0));
  });
  const { mean, standardError } = meanWithStandardError(perCustomer);
  return { mean, standardError, perCustomer };
}

/** The mean of values and its standard error sd/sqrt(n) (0 for fewer than 2 values). */
function meanWithStandardError(values: Float64Array): { mean: number; standardError: number } {
  const n = values.length;
  let sum = 0;
  let sumOfSquares = 0;
  for (const value of values) {
    sum += value;
    sumOfSquares += value * value;
  }
  const mean = sum / n;
  const variance = n > 1 ? Math.max(0, (sumOfSquares - n * mean * mean) / (n - 1)) : 0;
  return { mean, standardError: Math.sqrt(variance / n) };
}

/**
 * The standard error of the difference of two candidates' mean errors. Both are scored on the
 * same customers, so it is the paired one, sd(|e_A| - |e_B|)/sqrt(n): the customers' own
 * variation, common to both, cancels.
 */
function pairedStandardError(a: Float64Array, b: Float64Array): number {
  return meanWithStandardError(a.map((value, i) => value - b[i])).standardError;
}

/**
 * Fits BG/NBD and Pareto/NBD and keeps one: the lower holdout error where a holdout is
 * given (both refitted on the calibration summaries), else the higher log-likelihood (the
 * two have 4 parameters each, so AIC and BIC rank them the same way). Gamma-Gamma is
 * fitted on customers with a repeat purchase and a positive mean repeat value.
 */
export function fitShopModel(summaries: CustomerSummary[], opts: ShopModelOptions): ShopModelResult {
  const steps = shopModelSteps(summaries, opts);
  let step = steps.next();
  while (!step.done) step = steps.next(fitBatchHere(step.value));
  return step.value;
}

/**
 * Fits a count model elsewhere (another thread); null leaves that model to this thread. It
 * must run the same code on the same rows, so that the answer is the one fitCountModelByName
 * gives here (ADR 0020).
 */
export type CountModelFitter = (name: ShopCountModelName, rows: PreparedRows, options: FitOptions) => Promise<FitResult<CountModelParams>> | null;

/**
 * fitShopModel with some fits on another thread: each batch of candidate fits hands to
 * `elsewhere` what it takes, fits the rest here meanwhile, then waits. The same steps and
 * the same fits, so the same result as fitShopModel (tested). While it waits, the caller's
 * own work (the retention report in `tenure analyze`) runs.
 */
export async function fitShopModelAsync(summaries: CustomerSummary[], opts: ShopModelOptions, elsewhere: CountModelFitter): Promise<ShopModelResult> {
  const steps = shopModelSteps(summaries, opts);
  let step = steps.next();
  while (!step.done) {
    const batch = step.value;
    const away = new Map<ShopCountModelName, Promise<FitResult<CountModelParams>>>();
    for (const name of batch.names) {
      const promise = elsewhere(name, batch.rows, batch.options);
      if (promise) away.set(name, promise);
    }
    const answers: FitAnswers = {};
    for (const name of batch.names) if (!away.has(name)) answers[name] = fitCountModelByName(name, batch.rows, batch.options);
    // Work the steps need anyway (the spend model), done here while the other thread fits.
    if (away.size > 0) batch.meanwhile?.();
    for (const [name, promise] of away) answers[name] = await promise;
    step = steps.next(answers);
  }
  return step.value;
}

/** Candidate fits the model's steps need at once (every candidate on the same rows). */
interface FitBatch {
  names: readonly ShopCountModelName[];
  rows: PreparedRows;
  options: FitOptions;
  /**
   * Independent work of the steps that a caller waiting for another thread may do first (the
   * Gamma-Gamma fit: 2.4 s CPU at a million customers, issue 16); the steps do it later if not.
   */
  meanwhile?: () => void;
}
type FitAnswers = Partial<Record<ShopCountModelName, FitResult<CountModelParams>>>;
type Steps<T> = Generator<FitBatch, T, FitAnswers>;

function fitBatchHere(batch: FitBatch): FitAnswers {
  const answers: FitAnswers = {};
  for (const name of batch.names) answers[name] = fitCountModelByName(name, batch.rows, batch.options);
  return answers;
}

/** fitShopModel's steps; it yields the candidate fits it needs and is sent their results. */
function* shopModelSteps(summaries: CustomerSummary[], opts: ShopModelOptions): Steps<ShopModelResult> {
  const assumptions = resolveOptions(opts);
  const names = resolveCandidates(opts.candidates);
  const thin = thinDataCheck(summaries, opts.unit);
  if (thin) return thin;
  const rows = compress(summaries);
  const fitOptions = { standardErrors: false, maxIterations: opts.fitOptions?.maxIterations };
  const fits: Partial<Record<ShopCountModelName, FitResult<CountModelParams>>> = {};
  const candidates: Partial<Record<ShopCountModelName, CandidateFit>> = {};
  let spend: ReturnType<typeof fitSpend> | undefined;
  const answers = yield { names, rows, options: fitOptions, meanwhile: () => (spend = fitSpend(summaries, fitOptions)) };
  for (const name of names) {
    const fit = answers[name] as FitResult<CountModelParams>;
    fits[name] = fit;
    candidates[name] = candidateOf(fit);
  }
  const converged = names.filter((name) => fits[name]?.converged);
  if (converged.length === 0) {
    return {
      ok: false,
      code: "did-not-converge",
      reason: `no model converged: ${names.map((name) => `${COUNT_MODEL_LABELS[name]}: ${fits[name]?.message}`).join("; ")}`,
    };
  }

  let chosen: ShopCountModelName;
  let choiceReason: string;
  let choiceTie = false;
  const notConverged = names.filter((name) => !fits[name]?.converged);
  const notConvergedNote = notConverged.map((name) => `${COUNT_MODEL_LABELS[name]} did not converge (${fits[name]?.message})`).join("; ");
  if (converged.length === 1) {
    chosen = converged[0];
    choiceReason = `${COUNT_MODEL_LABELS[chosen]}: ${notConvergedNote}`;
  } else {
    const byHoldout = opts.holdout ? yield* chooseByHoldout(opts.holdout, opts.unit, converged, candidates, fitOptions) : null;
    if (byHoldout) {
      ({ chosen, reason: choiceReason, tie: choiceTie } = byHoldout);
    } else {
      // AIC with the parameters the data identify: a candidate at the plain-NBD edge is the 2-parameter NBD.
      const aic = (name: ShopCountModelName) => 2 * effectiveParameters(candidates[name]) - 2 * fits[name]!.logLikelihood;
      const lowest = converged.reduce((best, name) => (aic(name) < aic(best) ? name : best));
      const tied = converged.filter((name) => aic(name) - aic(lowest) <= 2 * nestedTolerance(summaries.length));
      chosen = tied.length > 1 ? breakTie(tied, candidates) : lowest;
      choiceTie = tied.length > 1;
      const others = converged.filter((name) => name !== chosen);
      const edge = (name: ShopCountModelName) => (candidates[name]?.boundary === NBD_EDGE_VERDICT ? ", at the no-drop-out edge (2 effective parameters)" : "");
      choiceReason =
        `${COUNT_MODEL_LABELS[chosen]}: ${choiceTie ? `tied on AIC with ${tied.filter((name) => name !== chosen).map((name) => COUNT_MODEL_LABELS[name]).join(", ")}; ${CHOICE_TIE_RULE}` : "lower AIC"} ` +
        `(log-likelihood ${fmt(fits[chosen]!.logLikelihood)}${edge(chosen)} vs ` +
        others.map((name) => `${fmt(fits[name]!.logLikelihood)} for ${COUNT_MODEL_LABELS[name]}${edge(name)}`).join(", ") +
        "; with equal parameter counts AIC is the higher log-likelihood)" +
        (opts.holdout ? "; the holdout comparison was not possible (a calibration fit did not converge)" : "; compared on the whole history, with no period held back") +
        (notConvergedNote ? `; ${notConvergedNote}` : "");
    }
  }

  const fit = fits[chosen] as FitResult<CountModelParams>;
  spend ??= fitSpend(summaries, fitOptions);
  return {
    ok: true,
    model: buildShopModel({
      version: 1,
      chosen,
      choiceReason,
      choiceTie,
      params: fit.params,
      ...(homogeneousDropOutOf(fit.boundary) ? { homogeneousDropOut: homogeneousDropOutOf(fit.boundary)! } : {}),
      logLikelihood: fit.logLikelihood,
      customers: summaries.length,
      repeatBuyers: summaries.filter((s) => s.frequency > 0).length,
      gammaGamma: spend.summary,
      gammaGammaNote: spend.note,
      candidates,
      assumptions,
    }),
  };
}

function* chooseByHoldout(
  holdout: HoldoutData,
  unit: TimeUnit,
  names: readonly ShopCountModelName[],
  candidates: Partial<Record<ShopCountModelName, CandidateFit>>,
  fitOptions: FitOptions,
): Steps<{ chosen: ShopCountModelName; reason: string; tie: boolean } | null> {
  if (holdout.summariesAtCalibration.length === 0 || !(holdout.holdoutDays > 0)) return null;
  if (thinDataCheck(holdout.summariesAtCalibration, unit)) return null;
  const rows = compress(holdout.summariesAtCalibration);
  const errors: Partial<Record<ShopCountModelName, { mean: number; standardError: number; perCustomer: Float64Array }>> = {};
  const calibrationEffective: Partial<Record<ShopCountModelName, CandidateFit>> = {};
  // Every calibration fit at once (so that they can run side by side); read in the order
  // of the names, so a non-converged one stops the comparison where it did one by one.
  const answers = yield { names, rows, options: fitOptions };
  for (const name of names) {
    const fit = answers[name] as FitResult<CountModelParams>;
    const calibration = candidateOf(fit);
    const candidate = candidates[name];
    if (candidate) {
      candidate.calibration = {
        params: fit.params,
        logLikelihood: fit.logLikelihood,
        converged: fit.converged,
        message: fit.message,
        boundary: calibration.boundary ?? null,
        effectiveParameters: calibration.effectiveParameters ?? 4,
      };
    }
    if (!fit.converged) return null;
    calibrationEffective[name] = calibration;
    errors[name] = holdoutError(fittedCountModel(name, fit), holdout, unit);
    if (candidate) {
      candidate.holdoutMeanAbsoluteError = errors[name]!.mean;
      candidate.holdoutStandardError = errors[name]!.standardError;
    }
  }
  const error = (name: ShopCountModelName) => errors[name]!.mean;
  const lowest = names.reduce((best, name) => (error(name) < error(best) ? name : best));
  // A difference below its paired standard error is noise; candidates both at the no-drop-out
  // edge are the same plain NBD, whatever rounding leaves between their errors. Either is a
  // tie, broken by CHOICE_TIE_RULE.
  const noise = (name: ShopCountModelName) => pairedStandardError(errors[name]!.perCustomer, errors[lowest]!.perCustomer);
  const bothAtEdge = (name: ShopCountModelName) => calibrationEffective[name]?.boundary === NBD_EDGE_VERDICT && calibrationEffective[lowest]?.boundary === NBD_EDGE_VERDICT;
  const whyTied = (name: ShopCountModelName) =>
    bothAtEdge(name)
      ? "both at the no-drop-out edge"
      : `difference ${fmt(error(name) - error(lowest), 4)} below its paired standard error ${fmt(noise(name), 4)}`;
  const tied = names.filter((name) => name === lowest || bothAtEdge(name) || error(name) - error(lowest) < noise(name));
  const chosen = tied.length > 1 ? breakTie(tied, calibrationEffective) : lowest;
  const others = names.filter((name) => name !== chosen);
  const reason =
    `${COUNT_MODEL_LABELS[chosen]}: ` +
    (tied.length > 1
      ? `a holdout tie with ${tied
          .filter((name) => name !== chosen)
          .map((name) => COUNT_MODEL_LABELS[name])
          .join(", ")} (${tied
          .filter((name) => name !== lowest)
          .map((name) => `${COUNT_MODEL_LABELS[name]}: ${whyTied(name)}`)
          .join("; ")}); ${CHOICE_TIE_RULE} `
      : `lower holdout error, by more than the paired standard error of the difference (${others.map((name) => fmt(noise(name), 4)).join(", ")}) `) +
    `(mean absolute error ${fmt(error(chosen), 4)} vs ` +
    others.map((name) => `${fmt(error(name), 4)} for ${COUNT_MODEL_LABELS[name]}`).join(", ") +
    ` purchases per customer, ${holdout.summariesAtCalibration.length} customers over ${fmt(holdout.holdoutDays, 0)} days)`;
  return { chosen, reason, tie: tied.length > 1 };
}

function fitSpend(summaries: readonly CustomerSummary[], fitOptions: FitOptions): { summary: GammaGammaSummary | null; note: string | null } {
  const rows = compressSpendRows(summaries);
  const customers = rows.reduce((sum, row) => sum + row.weight, 0);
  if (customers < MIN_REPEAT_BUYERS) {
    return { summary: null, note: `${customers} customers with a repeat purchase of positive value; the spend model needs ${MIN_REPEAT_BUYERS}` };
  }
  const fit = fitGammaGamma(rows, fitOptions);
  if (!fit.converged) return { summary: null, note: `the spend model did not converge (${fit.message})` };
  if (!(fit.params.q > 1)) {
    return { summary: null, note: `the spend model's q = ${fmt(fit.params.q, 3)} <= 1 implies an infinite mean order value; not used` };
  }
  return {
    summary: {
      params: fit.params,
      logLikelihood: fit.logLikelihood,
      customers,
      spendFrequencyCorrelation: spendFrequencyCorrelation(rows),
      ...(fit.boundary ? { boundary: fit.boundary.verdict } : {}),
    },
    note: null,
  };
}

function buildShopModel(json: ShopModelJson): ShopModel {
  const model = countModel(json.chosen, json.params, json.homogeneousDropOut);
  const { unit, horizonDays, annualDiscountRate, grossMargin } = json.assumptions;
  const days = unitDays[unit];
  const spendParams = json.gammaGamma?.params ?? null;
  // Leading horizons 90 and 365 days, then the CLV's months (see score).
  const horizons = new HorizonExpectations(model, [90 / days, 365 / days], { unitDays: days, horizonDays, annualDiscountRate });
  // The chance of an order within 90 and 365 days given alive depends on (x, T) only, which
  // many customers share (every one-time buyer of an age): remembered per pair.
  const chancesIfAliveByX = new Map<number, Map<number, readonly [number, number]>>();
  const chancesIfAlive = (x: number, T: number): readonly [number, number] => {
    let byT = chancesIfAliveByX.get(x);
    if (byT === undefined) chancesIfAliveByX.set(x, (byT = new Map()));
    let chances = byT.get(T);
    if (chances === undefined) {
      chances = [model.probabilityOfPurchaseWithinIfAlive(90 / days, x, T), model.probabilityOfPurchaseWithinIfAlive(365 / days, x, T)];
      byT.set(T, chances);
    }
    return chances;
  };
  return {
    chosen: json.chosen,
    choiceReason: json.choiceReason,
    params: model.params,
    logLikelihood: json.logLikelihood,
    gammaGamma: json.gammaGamma,
    gammaGammaNote: json.gammaGammaNote,
    candidates: json.candidates,
    assumptions: json.assumptions,
    score: (s: CustomerSummary): CustomerPrediction => scoreWithSpend(scoreHistory(s), s),
    scoreHistory,
    scoreWithSpend,
    toJSON(): ShopModelJson {
      return structuredClone(json);
    },
  };

  function scoreHistory(s: CustomerSummary): HistoryScore {
    const problem = rowProblem(s.frequency, s.recency, s.T);
    if (problem) throw new RangeError(`customer ${s.customerId}: ${problem}`);
    const { frequency: x, recency: tx, T } = s;
    const pAlive = model.pAlive(x, tx, T);
    // conditionalExpectedPurchases and predictedLifetimeValue, from remembered E[Y | alive].
    const at = horizons.offsetOf(x, T);
    const wait = daysToNextOrder(model, x, tx, T, days);
    const asOfDay = s.firstDay + Math.round(T * days);
    // probabilityOfPurchaseWithin(t, x, tx, T) is exactly pAlive times these.
    const [chance90IfAlive, chance365IfAlive] = chancesIfAlive(x, T);
    return {
      pAlive,
      chanceOfOrder90d: pAlive * chance90IfAlive,
      chanceOfOrder365d: pAlive * chance365IfAlive,
      expectedPurchases90d: pAlive * horizons.values[at],
      expectedPurchases365d: pAlive * horizons.values[at + 1],
      // Only the CLV needs it, and only with a spend model.
      discountedPurchases: spendParams ? horizons.discounted(pAlive, at) : Number.NaN,
      expectedNextOrderDay: wait === null ? null : asOfDay + wait,
    };
  }

  function scoreWithSpend(h: HistoryScore, s: CustomerSummary): CustomerPrediction {
    const expectedOrderValue = spendParams ? gammaGammaExpectedValue(spendParams, s.frequency, s.monetaryValue) : null;
    return {
      pAlive: h.pAlive,
      chanceOfOrder90d: h.chanceOfOrder90d,
      chanceOfOrder365d: h.chanceOfOrder365d,
      expectedPurchases90d: h.expectedPurchases90d,
      expectedPurchases365d: h.expectedPurchases365d,
      expectedOrderValue,
      predictedClv: expectedOrderValue === null ? null : grossMargin * expectedOrderValue * h.discountedPurchases,
      expectedNextOrderDay: h.expectedNextOrderDay,
    };
  }
}

/** A ShopModel from its stored JSON (e.g. read back by the scoring worker). */
export function restoreShopModel(json: ShopModelJson): ShopModel {
  if (json?.version !== 1) throw new RangeError("unsupported shop model version");
  if (!KNOWN_MODELS.includes(json.chosen)) throw new RangeError(`unknown model "${String(json.chosen)}"`);
  resolveOptions(json.assumptions);
  const restored = structuredClone(json);
  // Predictions are stored in revenue and pages apply the margin (issue 13); a fit stored
  // before kept the shop's margin, so scoring with it would store profit as expected spend.
  restored.assumptions.grossMargin = 1;
  return buildShopModel(restored);
}
