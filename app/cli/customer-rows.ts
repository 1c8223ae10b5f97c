// Per-customer rows of customers.csv: RFM scores and segment, the model's predictions.
// Shared by the main thread and the scoring threads (scoring-thread.ts), which split a large
// shop's customers between the machine's cores.
import { startTypeScriptWorker } from "~/lib/ts-worker";
import { gammaGammaExpectedValue } from "~/analytics/clv/gamma-gamma";
import { TripleCounter } from "~/analytics/clv/rows";
import { type CustomerPrediction, type ShopModel, type ShopModelJson } from "~/analytics/clv/shop-model";
import { dayToIso } from "~/analytics/dates";
import { type RfmColumns, type RfmCutPoints, type RfmInput, rfmCutPoints, rfmInputFromSummary, scoreRfm } from "~/analytics/rfm";
import { segmentFor } from "~/analytics/segments";
import { type CustomerSummary } from "~/analytics/summary";
import { type CustomerRow, customerChunks, writeCustomersCsvChunks } from "./customers-csv";

export type Scorer = (s: CustomerSummary) => CustomerPrediction;

/** Per-history values kept by historyScorer, one Float64Array slot each per distinct history. */
const HISTORY_FIELDS = 7;
const P_ALIVE = 0;
const CHANCE_90 = 1;
const CHANCE_365 = 2;
const PURCHASES_90 = 3;
const PURCHASES_365 = 4;
const NEXT_DAY = 5;
const CLV_PER_ORDER_VALUE = 6;

/**
 * Scores each distinct purchase history (x, t_x, T) once. P(alive), expected purchases
 * and the next-order date depend on nothing else; predicted CLV is gross margin x E[M | x, m]
 * x discounted expected purchases (the model's DISCOUNTING_CONVENTION), so a customer
 * with the same history but another mean spend m only rescales the first customer's CLV by
 * their own E[M | x, m]. A million customers have some 500,000 distinct histories.
 *
 * The histories are numbered by a TripleCounter and their values kept in one Float64Array
 * (a null next-order day or CLV per order value as NaN, which neither is otherwise), and a
 * later customer's prediction is one object refilled every time (read it before the next
 * call): a Map of prediction objects and an object per customer took about a third of a
 * scoring thread's time on the 10M benchmark (issue 16).
 */
export function historyScorer(model: ShopModel, asOfDay: number): Scorer {
  const spend = model.gammaGamma?.params ?? null;
  const histories = new TripleCounter();
  let values = new Float64Array(HISTORY_FIELDS * 1024);
  const out: CustomerPrediction = {
    pAlive: 0,
    chanceOfOrder90d: 0,
    chanceOfOrder365d: 0,
    expectedPurchases90d: 0,
    expectedPurchases365d: 0,
    expectedOrderValue: null,
    predictedClv: null,
    expectedNextOrderDay: null,
  };
  return (s) => {
    const known = histories.distinctCount;
    const id = histories.addTriple(s.frequency, s.lastDay - s.firstDay, asOfDay - s.firstDay, 0);
    if (id === known) {
      const prediction = model.score(s);
      const { expectedOrderValue, predictedClv } = prediction;
      const clvPerOrderValue = expectedOrderValue !== null && predictedClv !== null && expectedOrderValue > 0 ? predictedClv / expectedOrderValue : null;
      if (HISTORY_FIELDS * (id + 1) > values.length) {
        const grown = new Float64Array(values.length * 2);
        grown.set(values);
        values = grown;
      }
      const at = HISTORY_FIELDS * id;
      values[at + P_ALIVE] = prediction.pAlive;
      values[at + CHANCE_90] = prediction.chanceOfOrder90d;
      values[at + CHANCE_365] = prediction.chanceOfOrder365d;
      values[at + PURCHASES_90] = prediction.expectedPurchases90d;
      values[at + PURCHASES_365] = prediction.expectedPurchases365d;
      values[at + NEXT_DAY] = prediction.expectedNextOrderDay ?? Number.NaN;
      // NaN also when the ratio is NaN: such a customer is scored afresh, as for null.
      values[at + CLV_PER_ORDER_VALUE] = clvPerOrderValue ?? Number.NaN;
      return prediction;
    }
    const at = HISTORY_FIELDS * id;
    if (spend !== null && Number.isNaN(values[at + CLV_PER_ORDER_VALUE])) return model.score(s);
    out.pAlive = values[at + P_ALIVE];
    out.chanceOfOrder90d = values[at + CHANCE_90];
    out.chanceOfOrder365d = values[at + CHANCE_365];
    out.expectedPurchases90d = values[at + PURCHASES_90];
    out.expectedPurchases365d = values[at + PURCHASES_365];
    const nextDay = values[at + NEXT_DAY];
    out.expectedNextOrderDay = Number.isNaN(nextDay) ? null : nextDay;
    if (spend === null) {
      // Without a spend model score() gives neither.
      out.expectedOrderValue = null;
      out.predictedClv = null;
    } else {
      const expectedOrderValue = gammaGammaExpectedValue(spend, s.frequency, s.monetaryValue);
      out.expectedOrderValue = expectedOrderValue;
      out.predictedClv = expectedOrderValue === null ? null : expectedOrderValue * values[at + CLV_PER_ORDER_VALUE];
    }
    return out;
  };
}

/** Customer i's summary and RFM input; may return the same (refilled) objects every time. */
export interface CustomerSource {
  count: number;
  summaryAt(i: number): CustomerSummary;
  rfmInputAt(i: number): RfmInput;
}

export function arraySource(summaries: readonly CustomerSummary[], rfmInputs: readonly RfmInput[]): CustomerSource {
  return { count: summaries.length, summaryAt: (i) => summaries[i], rfmInputAt: (i) => rfmInputs[i] };
}

/**
 * Customers straight from columns through one reused summary object: a worker scoring
 * half a million customers keeps no object per customer (the scorer keeps predictions,
 * never the summary it was given).
 */
export function columnSource(c: SummaryColumns, asOfDay: number): CustomerSource {
  const summary: CustomerSummary = { customerId: "", orders: 0, frequency: 0, recency: 0, T: 0, monetaryValue: 0, totalSpent: 0, firstDay: 0, lastDay: 0 };
  const fill = (i: number) => {
    summary.customerId = c.ids[i];
    summary.orders = c.orders[i];
    summary.frequency = c.frequency[i];
    summary.recency = c.recency[i];
    summary.T = c.T[i];
    summary.monetaryValue = c.monetaryValue[i];
    summary.totalSpent = c.totalSpent[i];
    summary.firstDay = c.firstDay[i];
    summary.lastDay = c.lastDay[i];
    return summary;
  };
  return { count: c.ids.length, summaryAt: fill, rfmInputAt: (i) => rfmInputFromSummary(fill(i), asOfDay) };
}

/** Rows of customers.csv; one array is reused for every row (the writer formats each at once). */
export function* customerRows(source: CustomerSource, cuts: RfmCutPoints, scorer: Scorer | null, segmentCounts: Map<string, number>): Generator<CustomerRow> {
  const isoDays = new Map<number, string>();
  const row: CustomerRow = ["", 0, 0, 0, 0, 0, 0, 0, 0, 0, "", null, null, null, null, null];
  for (let i = 0; i < source.count; i++) {
    const s = source.summaryAt(i);
    const scores = scoreRfm(source.rfmInputAt(i), cuts);
    const segment = segmentFor(scores);
    segmentCounts.set(segment, (segmentCounts.get(segment) ?? 0) + 1);
    const p = scorer ? scorer(s) : null;
    const nextDay = p ? p.expectedNextOrderDay : null;
    let nextDate: string | null = null;
    if (nextDay !== null) {
      nextDate = isoDays.get(nextDay) ?? null;
      if (nextDate === null) isoDays.set(nextDay, (nextDate = dayToIso(nextDay)));
    }
    row[0] = s.customerId;
    row[1] = s.orders;
    row[2] = s.frequency;
    row[3] = s.recency;
    row[4] = s.T;
    row[5] = s.monetaryValue;
    row[6] = s.totalSpent;
    row[7] = scores.r;
    row[8] = scores.f;
    row[9] = scores.m;
    row[10] = segment;
    row[11] = p ? p.pAlive : null;
    row[12] = p ? p.expectedPurchases90d : null;
    row[13] = p ? p.expectedPurchases365d : null;
    row[14] = p ? p.predictedClv : null;
    row[15] = nextDate;
    yield row;
  }
}


/** Summaries as typed columns: what a worker is sent (structured clone copies them fast). */
export interface SummaryColumns {
  ids: string[];
  orders: Int32Array;
  frequency: Int32Array;
  firstDay: Int32Array;
  lastDay: Int32Array;
  recency: Float64Array;
  T: Float64Array;
  monetaryValue: Float64Array;
  totalSpent: Float64Array;
}

export function toColumns(summaries: readonly CustomerSummary[], from = 0, to = summaries.length): SummaryColumns {
  const n = to - from;
  const columns: SummaryColumns = {
    ids: new Array<string>(n),
    orders: new Int32Array(n),
    frequency: new Int32Array(n),
    firstDay: new Int32Array(n),
    lastDay: new Int32Array(n),
    recency: new Float64Array(n),
    T: new Float64Array(n),
    monetaryValue: new Float64Array(n),
    totalSpent: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    const s = summaries[from + i];
    columns.ids[i] = s.customerId;
    columns.orders[i] = s.orders;
    columns.frequency[i] = s.frequency;
    columns.firstDay[i] = s.firstDay;
    columns.lastDay[i] = s.lastDay;
    columns.recency[i] = s.recency;
    columns.T[i] = s.T;
    columns.monetaryValue[i] = s.monetaryValue;
    columns.totalSpent[i] = s.totalSpent;
  }
  return columns;
}

/** What to score; writeScoredCustomers may empty `summaries` and `rfmInputs` once it has copied them. */
export interface ScoringInput {
  summaries: CustomerSummary[];
  rfmInputs: RfmInput[];
  cuts: RfmCutPoints | null;
  model: ShopModel | null;
  asOfDay: number;
}

/** What a scoring thread is given to score (see scoring-thread.ts). */
export interface WorkerTask {
  columns: SummaryColumns;
  cuts: RfmCutPoints;
  model: ShopModelJson | null;
  asOfDay: number;
}

/** Requests to a scoring worker: RFM cut points of every customer (before the model is fitted), then its slice. */
export type WorkerRequest = { kind: "cuts"; columns: RfmColumns } | { kind: "score"; task: WorkerTask };

/** Messages from a scoring worker: cut points when asked; customers.csv chunks (UTF-8, transferred) in order, then its segment counts. */
export type WorkerMessage =
  | { kind: "cuts"; cuts: RfmCutPoints }
  | { kind: "chunk"; bytes: Uint8Array }
  | { kind: "done"; segments: [string, number][] }
  | { kind: "error"; message: string };

/** RFM columns of the summaries; null when a value is not finite (rfmCutPoints then says which). */
export function rfmColumnsOf(summaries: readonly CustomerSummary[], asOfDay: number): RfmColumns | null {
  const n = summaries.length;
  const columns = { recencyDays: new Float64Array(n), orders: new Float64Array(n), netSpent: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const s = summaries[i];
    const recencyDays = asOfDay - s.lastDay;
    if (!(Number.isFinite(recencyDays) && Number.isFinite(s.orders) && Number.isFinite(s.totalSpent))) return null;
    columns.recencyDays[i] = recencyDays;
    columns.orders[i] = s.orders;
    columns.netSpent[i] = s.totalSpent;
  }
  return columns;
}

/**
 * Below this many customers one thread is quicker than starting workers. Scoring and
 * writing 100,000 customers takes ~0.4 CPU s on one thread (issue 16), about what starting
 * two threads and copying them their columns costs, and one thread peaks ~60 MB lower.
 */
export const PARALLEL_MIN_CUSTOMERS = 250_000;

/**
 * This thread's own slice, relative to an even share (see writeScoredCustomers): a worker
 * started only now first starts, restores the model and warms up (on the 10M bench an
 * even split left this thread idle for about a quarter of the worker's time); one started
 * while the model was fitted is ready at once, and this thread also sends it its columns
 * (both shares as profiled, ADR 0004).
 */
const OWN_SHARE = 1.15;
const OWN_SHARE_WORKERS_READY = 1.05;

/**
 * Writes customers.csv for every summary, in order. With threads > 1 the customers are
 * split into that many contiguous slices, the first scored on this thread and the others
 * by worker threads (the model travels as its JSON), and their chunks are written in slice
 * order: the file is the same either way. `started` are workers started earlier
 * (startScoringWorkers), then used instead of threads - 1 new ones; they are stopped here.
 * Workers run this package's TypeScript, so they need the tsx loader the CLI runs under.
 */
export async function writeScoredCustomers(path: string, input: ScoringInput, threads: number, started: ScoringWorker[] = []): Promise<Map<string, number>> {
  const segmentCounts = new Map<string, number>();
  const cuts = input.cuts ?? rfmCutPoints(input.rfmInputs);
  if (started.length > 0) threads = started.length + 1;
  if (threads <= 1) {
    const scorer = input.model ? historyScorer(input.model, input.asOfDay) : null;
    const source = arraySource(input.summaries, input.rfmInputs);
    await writeCustomersCsvChunks(path, customerChunks(customerRows(source, cuts, scorer, segmentCounts)));
    return segmentCounts;
  }
  const workers = started.length > 0 ? started : startScoringWorkers(threads - 1);
  try {
    const modelJson = input.model ? input.model.toJSON() : null;
    // This thread scores the first slice itself, the same way a worker does (from columns), and
    // workers the others: with a worker for every slice this thread only waited and wrote, and
    // the extra worker cost its start-up and heap (issue 16).
    const n = input.summaries.length;
    const ownEnd = Math.min(n, Math.ceil((n * (started.length > 0 ? OWN_SHARE_WORKERS_READY : OWN_SHARE)) / threads));
    const size = Math.ceil((n - ownEnd) / (threads - 1));
    const slices = [[0, ownEnd] as const, ...Array.from({ length: threads - 1 }, (_, k) => [Math.min(n, ownEnd + k * size), Math.min(n, ownEnd + (k + 1) * size)] as const)];
    const own = toColumns(input.summaries, slices[0][0], slices[0][1]);
    slices.slice(1).forEach(([from, to], k) => workers[k].score({ columns: toColumns(input.summaries, from, to), cuts, model: modelJson, asOfDay: input.asOfDay }));
    // The workers have their copies: let the objects go (a large share of the heap; ADR 0004).
    input.summaries = [];
    input.rfmInputs = [];
    const scorer = input.model ? historyScorer(input.model, input.asOfDay) : null;
    const inOrder = async function* () {
      yield* customerChunks(customerRows(columnSource(own, input.asOfDay), cuts, scorer, segmentCounts));
      for (const worker of workers) yield* worker.chunks();
    };
    await writeCustomersCsvChunks(path, inOrder());
    for (const worker of workers) {
      for (const [segment, n] of await worker.segments) segmentCounts.set(segment, (segmentCounts.get(segment) ?? 0) + n);
    }
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
  }
  return segmentCounts;
}

/** A scoring worker (scoring-thread.ts), started before it has anything to do. */
export interface ScoringWorker {
  /** rfmCutPointsOfColumns(columns) on the worker; null when the worker failed (compute them here then). */
  cuts(columns: RfmColumns): Promise<RfmCutPoints | null>;
  /** Scores the task's customers; their chunks come from chunks(), then segments resolves. */
  score(task: WorkerTask): void;
  chunks(): AsyncGenerator<Uint8Array>;
  segments: Promise<[string, number][]>;
  stop(): Promise<number>;
}

/**
 * Starts scoring workers before there is a model: `tenure analyze` starts them once the file
 * is read, so that their start-up (a new isolate, the bundle compiled) overlaps the
 * summaries and fits, and one of them computes the RFM cut points meanwhile.
 */
export function startScoringWorkers(count: number): ScoringWorker[] {
  return Array.from({ length: count }, () => startWorker());
}

/** A scoring worker whose chunks are buffered until the writer reaches its slice. */
function startWorker(): ScoringWorker {
  const worker = startTypeScriptWorker(new URL("./scoring-thread.ts", import.meta.url));
  const buffered: Uint8Array[] = [];
  let scoring = false;
  let finished = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  let answerCuts: ((cuts: RfmCutPoints | null) => void) | null = null;
  let resolveSegments: (segments: [string, number][]) => void = () => undefined;
  let rejectSegments: (error: Error) => void = () => undefined;
  const segments = new Promise<[string, number][]>((resolve, reject) => {
    resolveSegments = resolve;
    rejectSegments = reject;
  });
  segments.catch(() => undefined); // reported through chunks()
  const fail = (error: Error) => {
    failure ??= error;
    finished = true;
    rejectSegments(failure);
    answerCuts?.(null);
    answerCuts = null;
    wake?.();
  };
  worker.on("message", (message: WorkerMessage) => {
    if (message.kind === "cuts") {
      answerCuts?.(message.cuts);
      answerCuts = null;
    } else if (message.kind === "chunk") buffered.push(message.bytes);
    else if (message.kind === "done") {
      finished = true;
      resolveSegments(message.segments);
    } else fail(new Error(`scoring worker: ${message.message}`));
    wake?.();
  });
  worker.on("error", fail);
  worker.on("exit", (code) => {
    if (!finished) fail(new Error(`scoring worker exited with code ${code} before finishing`));
  });
  const request = (message: WorkerRequest, transfer: ArrayBuffer[] = []) => worker.postMessage(message, transfer);
  return {
    segments,
    cuts(columns) {
      if (failure) return Promise.resolve(null);
      const answer = new Promise<RfmCutPoints | null>((resolve) => (answerCuts = resolve));
      // Transferred: the caller has no further use for them.
      request({ kind: "cuts", columns }, [columns.recencyDays.buffer, columns.orders.buffer, columns.netSpent.buffer] as ArrayBuffer[]);
      return answer;
    },
    score(task) {
      scoring = true;
      if (!failure) request({ kind: "score", task });
    },
    async *chunks(): AsyncGenerator<Uint8Array> {
      if (!scoring) throw new Error("scoring worker: chunks() before score()");
      while (true) {
        if (buffered.length > 0) {
          // Hand over and forget: the writer holds each chunk only until it is written.
          yield buffered.shift() as Uint8Array;
          continue;
        }
        if (failure) throw failure;
        if (finished) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
      }
    },
    stop: () => worker.terminate(),
  };
}
