// Customers, spend and predictions per segment (RFM and behavioural), tallied from the
// metrics rows as the refit writes them: the segments aggregate's rows and the segment
// daily counts. Pure.
import { type BehaviouralSegmentKey, BEHAVIOURAL_SEGMENT_KEYS, behaviouralSegmentDefinitions } from "./behaviour";
import { type CustomerMetricsValues } from "./customer-metrics";
import { SEGMENT_DEFINITIONS } from "./segments";

/** One segment's line on the Segments page (ShopAggregate "segments"). */
export interface SegmentRow {
  kind: SegmentKind;
  /** Segment key (RFM: SEGMENT_DEFINITIONS[..].key; behaviour: BehaviouralSegmentKey). */
  key: string;
  /** Display name (the merchant's label when set in settings). */
  name: string;
  customers: number;
  /** Of customers with an order. */
  share: number;
  netSpentMinor: number;
  /** Of the shop's net revenue. */
  revenueShare: number;
  averageHistoricClvMinor: number | null;
  averagePredictedClvMinor: number | null;
  averagePAlive: number | null;
  /** Average chance of ordering in the next 90 days (the headline churn figure); null without predictions. Absent in rows stored before issue 13. */
  averageChanceOfOrder90d?: number | null;
  /**
   * The chance's sum and the customers who have one (not every customer with an order: one
   * whose only orders were voided has none), so averages over segments weigh by these.
   * Absent in rows stored before.
   */
  chanceOfOrder90dSum?: number;
  customersWithChance90d?: number;
  /**
   * Gross profit to date of the segment's customers (net sales - cost of goods, sales without a
   * cost at the fallback margin; issue 17). Absent in rows stored before.
   */
  grossProfitMinor?: number;
  /** Of the segment's net sales to date, those without a known unit cost (their profit fell back to the margin). Absent in rows stored before. */
  uncostedSalesMinor?: number;
  /** Customers 7 and 30 days ago (SegmentDailyCount); null when there is no count for that day. */
  customers7dAgo: number | null;
  customers30dAgo: number | null;
}

/** Customers, spend and predictions per segment, tallied from the metrics rows as they are written. */
export interface Tally {
  customers: number;
  netSpent: number;
  clvSum: number;
  clvCount: number;
  pAliveSum: number;
  pAliveCount: number;
  chance90Sum: number;
  chance90Count: number;
  /** Gross profit to date and net sales without a known cost (issue 17); absent: not counted (0). */
  grossProfit?: number;
  uncostedSales?: number;
}

const emptyTally = (): Tally => ({ customers: 0, netSpent: 0, clvSum: 0, clvCount: 0, pAliveSum: 0, pAliveCount: 0, chance90Sum: 0, chance90Count: 0, grossProfit: 0, uncostedSales: 0 });

export type SegmentKind = "rfm" | "behaviour";

export interface SegmentCount {
  kind: SegmentKind;
  key: string;
  customers: number;
  netSpentMinor: number;
  /** Sum of the customers' predicted CLV; null when none has one. */
  predictedClvMinor: number | null;
}

/** The segments' names, the merchant's labels first. */
export function segmentNames(labels: Record<string, string>): { rfm: Map<string, string>; behaviour: Map<string, string> } {
  const rfm = new Map<string, string>();
  for (const definition of Object.values(SEGMENT_DEFINITIONS)) rfm.set(definition.key, labels[definition.key] || definition.name);
  const behaviour = new Map<string, string>();
  const definitions = behaviouralSegmentDefinitions();
  for (const key of BEHAVIOURAL_SEGMENT_KEYS) behaviour.set(key, labels[key] || definitions[key].name);
  return { rfm, behaviour };
}

export class SegmentTally {
  /** Customers with at least one order. */
  customers = 0;
  netSpent = 0;
  clvSum = 0;
  clvCount = 0;
  /** Spent to date of the customers with a predicted CLV (clvCount): lifetime value's own population. */
  predictedNetSpent = 0;
  /** Gross profit and the net sales without a known cost, to date (issue 17): the shop's cost coverage. */
  grossProfit = 0;
  uncostedSales = 0;
  private readonly rfm = new Map<string, Tally>();
  private readonly behaviour = new Map<BehaviouralSegmentKey, Tally>();

  constructor() {
    for (const definition of Object.values(SEGMENT_DEFINITIONS)) this.rfm.set(definition.key, emptyTally());
    for (const key of BEHAVIOURAL_SEGMENT_KEYS) this.behaviour.set(key, emptyTally());
  }

  add(row: CustomerMetricsValues): void {
    this.count(row, 1);
  }

  /**
   * A behavioural segment's figures counted elsewhere (the refit's cart-abandoner pass, in SQL:
   * its members need not have orders, and the rows counted here were scored without it).
   */
  replaceBehaviour(key: BehaviouralSegmentKey, figures: Tally): void {
    this.behaviour.set(key, { ...figures });
  }

  /** Takes back a row added before (it was replaced by a fresher one). */
  remove(row: CustomerMetricsValues): void {
    this.count(row, -1);
  }

  private count(row: CustomerMetricsValues, sign: 1 | -1): void {
    if (row.orders === 0) return;
    this.customers += sign;
    this.netSpent += sign * row.netSpent;
    this.grossProfit += sign * row.grossProfit;
    this.uncostedSales += sign * row.uncostedSales;
    if (row.predictedClv !== null) {
      this.clvSum += sign * row.predictedClv;
      this.clvCount += sign;
      this.predictedNetSpent += sign * row.netSpent;
    }
    if (row.segment !== null) addTo(this.rfm.get(row.segment), row, sign);
    for (const key of row.behaviours) addTo(this.behaviour.get(key), row, sign);
  }

  /** Per segment, for SegmentDailyCount. */
  counts(): SegmentCount[] {
    const rows: SegmentCount[] = [];
    const push = (kind: SegmentKind, key: string, t: Tally) =>
      rows.push({ kind, key, customers: t.customers, netSpentMinor: t.netSpent, predictedClvMinor: t.clvCount > 0 ? t.clvSum : null });
    for (const [key, t] of this.rfm) push("rfm", key, t);
    for (const [key, t] of this.behaviour) push("behaviour", key, t);
    return rows;
  }

  /**
   * Segment rows for the segments aggregate. `history(kind, key, daysAgo)` gives the
   * customers counted that many days before (null when there is no count for that day).
   */
  rows(
    labels: Record<string, string>,
    history: (kind: SegmentKind, key: string, daysAgo: number) => number | null,
  ): SegmentRow[] {
    const names = segmentNames(labels);
    const row = (kind: SegmentKind, key: string, name: string, t: Tally) => ({
      kind,
      key,
      name,
      customers: t.customers,
      share: this.customers > 0 ? t.customers / this.customers : 0,
      netSpentMinor: t.netSpent,
      revenueShare: this.netSpent > 0 ? t.netSpent / this.netSpent : 0,
      averageHistoricClvMinor: t.customers > 0 ? Math.round(t.netSpent / t.customers) : null,
      averagePredictedClvMinor: t.clvCount > 0 ? Math.round(t.clvSum / t.clvCount) : null,
      averagePAlive: t.pAliveCount > 0 ? t.pAliveSum / t.pAliveCount : null,
      averageChanceOfOrder90d: t.chance90Count > 0 ? t.chance90Sum / t.chance90Count : null,
      chanceOfOrder90dSum: t.chance90Sum,
      customersWithChance90d: t.chance90Count,
      grossProfitMinor: t.grossProfit ?? 0,
      uncostedSalesMinor: t.uncostedSales ?? 0,
      customers7dAgo: history(kind, key, 7),
      customers30dAgo: history(kind, key, 30),
    });
    return [
      ...[...this.rfm].map(([key, t]) => row("rfm", key, names.rfm.get(key) ?? key, t)),
      ...[...this.behaviour].map(([key, t]) => row("behaviour", key, names.behaviour.get(key) ?? key, t)),
    ];
  }
}

function addTo(t: Tally | undefined, row: CustomerMetricsValues, sign: 1 | -1): void {
  if (!t) return; // a segment key the rules no longer name: counted in the totals only
  t.customers += sign;
  t.netSpent += sign * row.netSpent;
  t.grossProfit = (t.grossProfit ?? 0) + sign * row.grossProfit;
  t.uncostedSales = (t.uncostedSales ?? 0) + sign * row.uncostedSales;
  if (row.predictedClv !== null) {
    t.clvSum += sign * row.predictedClv;
    t.clvCount += sign;
  }
  if (row.pAlive !== null) {
    t.pAliveSum += sign * row.pAlive;
    t.pAliveCount += sign;
  }
  if (row.chanceOfOrder90d !== null) {
    t.chance90Sum += sign * row.chanceOfOrder90d;
    t.chance90Count += sign;
  }
}
