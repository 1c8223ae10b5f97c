// RFM scores: R = days since the last order, F = number of orders, M = net spend, each
// scored 1..5 against the shop's own customers (5 = best: most recent, most orders,
// highest spend).
//
// Scoring rule (docs/analytics/segments.md says the same in plain words):
//   1. Order the customers from worst to best value. A group of customers with the SAME
//      value is scored by its middle position, the mid-rank percentile
//          p = (customers worse than the value + half the customers with the value) / all,
//      and score = 1 + floor(5 p): bottom fifth 1, ..., top fifth 5.
//   2. The worst value always scores 1 and the best value always scores 5. Without this,
//      a shop where 60% of customers ordered once would give all of them F = 2 (their
//      middle position is the 30th percentile) and nobody F = 1.
//   3. When every customer has the same value, everyone scores 1 on it (nobody stands out).
// Equal values therefore always get equal scores, scores never decrease as a value gets
// better, and the result does not depend on the order of the rows. A fifth can be empty
// when one value covers a lot of customers; scores are not renumbered, so a score keeps
// meaning "which fifth of the shop".
//
// Cut points: for each score k = 2..5 the least good value that scores k or more. They
// are plain JSON, so the shop refit stores them and the live worker scores one customer
// without the whole distribution. A value never seen in the fit scores like the nearest
// fitted value that is not better than it (values between two fitted values get the
// lower score; values beyond the best get 5, beyond the worst get 1).
import type { CustomerSummary } from "./summary";

export interface RfmInput {
  customerId: string;
  /** Days since the last order, as of the scoring day (0 = ordered that day). */
  recencyDays: number;
  /** Number of orders. */
  orders: number;
  /** Net spend: current order totals after refunds and edits, summed. */
  netSpent: number;
}

export type RfmScore = 1 | 2 | 3 | 4 | 5;

export interface RfmScores {
  r: RfmScore;
  f: RfmScore;
  m: RfmScore;
}

export type RfmDimension = "r" | "f" | "m";

/** Which way is better: fewer days since the last order, more orders, more spend. */
export const RFM_BETTER: Readonly<Record<RfmDimension, "higher" | "lower">> = { r: "lower", f: "higher", m: "higher" };

export interface RfmDimensionCuts {
  better: "higher" | "lower";
  /**
   * minForScore[k - 2] (k = 2..5) is the least good value that scores k or more, in the
   * dimension's own unit (days, orders, money); null when no value scores that high.
   * A value scores 1 + (number of entries it is at least as good as).
   */
  minForScore: [number | null, number | null, number | null, number | null];
}

export interface RfmCutPoints {
  version: 1;
  method: "mid-rank-fifths";
  /** Customers the cut points were computed from. */
  customers: number;
  r: RfmDimensionCuts;
  f: RfmDimensionCuts;
  m: RfmDimensionCuts;
}

function checkRow(row: RfmInput, where: string): void {
  // Written out (no loop over field names): this runs once per customer per scoring.
  if (!Number.isFinite(row.recencyDays)) throw notFinite(row, where, "recencyDays");
  if (!Number.isFinite(row.orders)) throw notFinite(row, where, "orders");
  if (!Number.isFinite(row.netSpent)) throw notFinite(row, where, "netSpent");
}

function notFinite(row: RfmInput, where: string, field: keyof RfmInput): RangeError {
  return new RangeError(`${where}.${field} is not a finite number (got ${String(row[field])})`);
}

/** Value turned so that larger is always better (recency is negated). +0 avoids -0. */
function goodness(value: number, better: "higher" | "lower"): number {
  return better === "higher" ? value : -value + 0;
}

/** Mid-rank score of a block of equal values starting at sorted position `start`. */
function blockScore(start: number, count: number, total: number): RfmScore {
  // 1 + floor(5 * (start + count / 2) / total), in integers so boundaries are exact.
  const score = 1 + Math.floor((10 * start + 5 * count) / (2 * total));
  return Math.min(5, score) as RfmScore;
}

/** Cut points of one dimension from its values (any order). */
export function dimensionCuts(values: ArrayLike<number>, better: "higher" | "lower"): RfmDimensionCuts {
  const sorted = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) sorted[i] = goodness(values[i], better);
  sorted.sort(); // worst first
  const total = sorted.length;
  const minForScore: RfmDimensionCuts["minForScore"] = [null, null, null, null];
  let start = 0;
  while (start < total) {
    const value = sorted[start];
    let end = start + 1;
    while (end < total && sorted[end] === value) end++;
    let score: RfmScore;
    if (start === 0) score = 1; // worst value (also when every value is equal)
    else if (end === total) score = 5; // best value
    else score = blockScore(start, end - start, total);
    // Blocks arrive worst first, so the first block reaching a score is its least good value.
    for (let k = 2; k <= score; k++) {
      if (minForScore[k - 2] === null) minForScore[k - 2] = goodness(value, better);
    }
    start = end;
  }
  return { better, minForScore };
}

/** Cut points from the shop's customers. Row order does not matter. */
export function rfmCutPoints(rows: readonly RfmInput[]): RfmCutPoints {
  const columns: RfmColumns = { recencyDays: new Float64Array(rows.length), orders: new Float64Array(rows.length), netSpent: new Float64Array(rows.length) };
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    checkRow(row, `rows[${i}]`);
    columns.recencyDays[i] = row.recencyDays;
    columns.orders[i] = row.orders;
    columns.netSpent[i] = row.netSpent;
  }
  return rfmCutPointsOfColumns(columns);
}

/** The RFM values of a shop's customers as columns (one customer per index, every value finite). */
export interface RfmColumns {
  recencyDays: Float64Array;
  orders: Float64Array;
  netSpent: Float64Array;
}

/** rfmCutPoints of the customers the columns hold (the CLI's scoring worker computes them so). */
export function rfmCutPointsOfColumns(columns: RfmColumns): RfmCutPoints {
  return {
    version: 1,
    method: "mid-rank-fifths",
    customers: columns.orders.length,
    r: dimensionCuts(columns.recencyDays, RFM_BETTER.r),
    f: dimensionCuts(columns.orders, RFM_BETTER.f),
    m: dimensionCuts(columns.netSpent, RFM_BETTER.m),
  };
}

/** Score of one value against one dimension's cut points. */
export function scoreValue(value: number, cuts: RfmDimensionCuts): RfmScore {
  if (!Number.isFinite(value)) throw new RangeError(`RFM value ${value} is not a finite number`);
  const bounds = cuts.minForScore;
  let score = 1;
  for (let k = 0; k < 4; k++) {
    const bound = bounds[k];
    if (bound === null) break; // null bounds only follow the reachable ones
    if (cuts.better === "higher" ? value >= bound : value <= bound) score++;
  }
  return score as RfmScore;
}

/** Scores of one customer against stored cut points. */
export function scoreRfm(row: RfmInput, cuts: RfmCutPoints): RfmScores {
  checkRow(row, "row");
  checkCutPoints(cuts);
  return {
    r: scoreValue(row.recencyDays, cuts.r),
    f: scoreValue(row.orders, cuts.f),
    m: scoreValue(row.netSpent, cuts.m),
  };
}

/** Scores of every row, against cut points fitted on the same rows unless given. */
export function scoreAll(rows: readonly RfmInput[], cuts: RfmCutPoints = rfmCutPoints(rows)): RfmScores[] {
  return rows.map((row) => scoreRfm(row, cuts));
}

/** Cut point objects already checked (scoring a million customers checks them once). */
const checked = new WeakSet<RfmCutPoints>();

/** Throws a clear error when stored cut points are not usable (e.g. a corrupted JSON column). */
export function checkCutPoints(cuts: RfmCutPoints): void {
  if (typeof cuts === "object" && cuts !== null && checked.has(cuts)) return;
  if (cuts === null || typeof cuts !== "object" || cuts.version !== 1) {
    throw new TypeError("RFM cut points are missing or of an unknown version");
  }
  for (const dimension of ["r", "f", "m"] as const) {
    const dim = cuts[dimension];
    if (!dim || dim.better !== RFM_BETTER[dimension] || !Array.isArray(dim.minForScore) || dim.minForScore.length !== 4) {
      throw new TypeError(`RFM cut points for ${dimension.toUpperCase()} are malformed`);
    }
    let previous = Number.NEGATIVE_INFINITY;
    let seenNull = false;
    for (const bound of dim.minForScore) {
      if (bound === null) {
        seenNull = true;
        continue;
      }
      if (typeof bound !== "number" || !Number.isFinite(bound)) {
        throw new TypeError(`RFM cut points for ${dimension.toUpperCase()} hold a value that is not a number`);
      }
      const g = goodness(bound, dim.better);
      if (seenNull || g < previous) throw new TypeError(`RFM cut points for ${dimension.toUpperCase()} are not in order`);
      previous = g;
    }
  }
  checked.add(cuts);
}

/**
 * RFM input from a purchase summary. Note: summaries count distinct purchase DAYS
 * (same-day orders are one), so F here counts days; the app counts orders directly.
 */
export function rfmInputFromSummary(summary: CustomerSummary, asOfDay: number): RfmInput {
  return {
    customerId: summary.customerId,
    recencyDays: asOfDay - summary.lastDay,
    orders: summary.orders,
    netSpent: summary.totalSpent,
  };
}
