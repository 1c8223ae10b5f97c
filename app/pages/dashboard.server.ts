import { type ShopCosts } from "~/data/aggregates";
import { customerName } from "~/display/format";
import { segmentName } from "~/display/segment-names";
import {
  AGGREGATE_KIND,
  type KpisAggregate,
  type MovementsAggregate,
  type SegmentsAggregate,
} from "~/data/aggregates";
import { loadAggregates } from "~/data/aggregates.server";
import { readLatestTransitions } from "~/data/segment-transitions-reads.server";
import { loadMetricsSettings } from "~/data/settings.server";
import { type Queryable } from "~/db/pg.server";
import { type FitState } from "./fit-state";
import { loadFitState } from "./fit-state.server";

// The dashboard's data: the refit's precomputed aggregates (kpis, segments, movements),
// the shop's fit status and the latest segment changes. A handful of primary-key and
// (shop, at) index reads (app/data), whatever the shop's size.

export const LATEST_TRANSITIONS = 10;

export interface MovementRow {
  from: string | null;
  to: string | null;
  fromName: string;
  toName: string;
  customers: number;
}

export interface LatestTransition {
  customerId: string;
  customerName: string;
  fromName: string;
  toName: string;
  from: string | null;
  to: string | null;
  atIso: string;
}

export interface DashboardData {
  currency: string;
  /** Settings' horizon (named in expected spend labels) and margin (the money basis toggle). */
  horizonDays: number;
  grossMargin: number;
  /** Product costs as of the last refit (issue 17): the money basis takes its profit margin from them. */
  costs?: ShopCosts | null;
  /**
   * Average chance of ordering in the next 90 days over customers with a prediction, from the
   * segments aggregate (each customer with an order is in one RFM segment); null without.
   */
  averageChanceOfOrder90d: number | null;
  fit: FitState;
  kpis: KpisAggregate | null;
  segments: SegmentsAggregate | null;
  movements: (Omit<MovementsAggregate, "moves"> & { moves: MovementRow[] }) | null;
  latestTransitions: LatestTransition[];
  /** When the aggregates were computed (ISO), null before the first refit. */
  computedAtIso: string | null;
}

/**
 * The average chance of ordering over every customer who has one: the RFM segments' sums over
 * their counts (each segment's average covers only its customers with a chance). Rows stored
 * before the counts were kept weigh by their customers.
 */
function averageChance(segments: SegmentsAggregate | null): number | null {
  let sum = 0;
  let customers = 0;
  for (const row of segments?.rows ?? []) {
    if (row.kind !== "rfm") continue;
    if (row.customersWithChance90d !== undefined && row.chanceOfOrder90dSum !== undefined) {
      sum += row.chanceOfOrder90dSum;
      customers += row.customersWithChance90d;
    } else if (row.averageChanceOfOrder90d != null) {
      sum += row.averageChanceOfOrder90d * row.customers;
      customers += row.customers;
    }
  }
  return customers > 0 ? sum / customers : null;
}

export async function loadDashboard(db: Queryable, shop: string): Promise<DashboardData> {
  const [settings, fit, aggregates, transitions] = await Promise.all([
    loadMetricsSettings(db, shop),
    loadFitState(db, shop),
    loadAggregates(db, shop, [AGGREGATE_KIND.kpis, AGGREGATE_KIND.segments, AGGREGATE_KIND.movements]),
    readLatestTransitions(db, shop, LATEST_TRANSITIONS),
  ]);
  const labels = settings.segmentLabels;
  const kpis = (aggregates.get(AGGREGATE_KIND.kpis)?.data as KpisAggregate | undefined) ?? null;
  const segments = (aggregates.get(AGGREGATE_KIND.segments)?.data as SegmentsAggregate | undefined) ?? null;
  const movements = (aggregates.get(AGGREGATE_KIND.movements)?.data as MovementsAggregate | undefined) ?? null;
  const computedAt = aggregates.get(AGGREGATE_KIND.kpis)?.computedAt ?? aggregates.get(AGGREGATE_KIND.segments)?.computedAt ?? null;
  const nameOf = (key: string | null, none: string) => (key === null ? none : segmentName(key, labels));
  return {
    currency: kpis?.currency ?? segments?.currency ?? settings.currency,
    horizonDays: settings.horizonDays,
    grossMargin: settings.grossMargin,
    costs: settings.costs ?? null,
    averageChanceOfOrder90d: averageChance(segments),
    fit,
    kpis,
    segments: segments && { ...segments, rows: segments.rows.map((row) => ({ ...row, name: segmentName(row.key, labels) })) },
    movements: movements && {
      ...movements,
      moves: movements.moves.map((move) => ({
        ...move,
        fromName: nameOf(move.from, "First scored"),
        toName: nameOf(move.to, "No longer scored"),
      })),
    },
    latestTransitions: transitions.map((t) => {
      const id = t.customerId.toString();
      return {
        customerId: id,
        customerName: customerName({ id, firstName: t.firstName, lastName: t.lastName, email: t.email }),
        from: t.fromSegment,
        to: t.toSegment,
        fromName: nameOf(t.fromSegment, "First scored"),
        toName: nameOf(t.toSegment, "No longer scored"),
        atIso: t.at.toISOString(),
      };
    }),
    computedAtIso: computedAt ? computedAt.toISOString() : null,
  };
}
