import { dayToIso } from "~/analytics/dates";
import { customerName } from "~/display/format";
import { segmentName } from "~/display/segment-names";
import {
  AGGREGATE_KIND,
  type KpisAggregate,
  type MovementsAggregate,
  type SegmentsAggregate,
} from "~/data/aggregates";
import { loadMetricsSettings } from "~/data/settings.server";
import { type Queryable } from "~/db/pg.server";

// The dashboard's data: the refit's precomputed aggregates (kpis, segments, movements),
// the shop's fit status and the latest segment changes. A handful of primary-key and
// (shop, at) index reads, whatever the shop's size.

export const LATEST_TRANSITIONS = 10;

export interface FitState {
  /** "ready" | "no-predictions" | "failed"; null: never fitted (just installed, import or first refit running). */
  status: string | null;
  reason: string | null;
  error: string | null;
  asOfIso: string | null;
  finishedAtIso: string | null;
  /** The latest order import, when there is one: drives "import running" empty states. */
  backfill: { status: string; ordersProcessed: number; expectedCount: number | null; error: string | null } | null;
}

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
  fit: FitState;
  kpis: KpisAggregate | null;
  segments: SegmentsAggregate | null;
  movements: (Omit<MovementsAggregate, "moves"> & { moves: MovementRow[] }) | null;
  latestTransitions: LatestTransition[];
  /** When the aggregates were computed (ISO), null before the first refit. */
  computedAtIso: string | null;
}

/** Fit status and the latest import of a shop: two indexed reads. */
export async function loadFitState(db: Queryable, shop: string): Promise<FitState> {
  const [fit, backfill] = await Promise.all([
    db.query<{ status: string; reason: string | null; error: string | null; asOfDay: number; finishedAt: Date | null }>(
      `SELECT status, reason, error, "asOfDay", "finishedAt" FROM "ShopFit" WHERE shop = $1`,
      [shop],
    ),
    db.query<{ status: string; ordersProcessed: number; expectedCount: number | null; error: string | null }>(
      `SELECT status, "ordersProcessed", "expectedCount", error FROM "BackfillRun" WHERE shop = $1 ORDER BY "startedAt" DESC LIMIT 1`,
      [shop],
    ),
  ]);
  const row = fit.rows[0];
  return {
    status: row?.status ?? null,
    reason: row?.reason ?? null,
    error: row?.error ?? null,
    asOfIso: row ? dayToIso(row.asOfDay) : null,
    finishedAtIso: row?.finishedAt ? row.finishedAt.toISOString() : null,
    backfill: backfill.rows[0] ?? null,
  };
}

/** The shop's aggregates of the given kinds (primary key reads), by kind. */
export async function loadAggregates(db: Queryable, shop: string, kinds: readonly string[]) {
  const result = await db.query<{ kind: string; data: unknown; computedAt: Date }>(
    `SELECT kind, data, "computedAt" FROM "ShopAggregate" WHERE shop = $1 AND kind = ANY($2::text[])`,
    [shop, kinds],
  );
  return new Map(result.rows.map((row) => [row.kind, row]));
}

export async function loadDashboard(db: Queryable, shop: string): Promise<DashboardData> {
  const [settings, fit, aggregates, transitions] = await Promise.all([
    loadMetricsSettings(db, shop),
    loadFitState(db, shop),
    loadAggregates(db, shop, [AGGREGATE_KIND.kpis, AGGREGATE_KIND.segments, AGGREGATE_KIND.movements]),
    // ORDER BY at alone: a refit writes many transitions with one timestamp, and a tie-break
    // on id would sort all of them; any order among equal times is fine here.
    db.query<{ customerId: bigint; fromSegment: string | null; toSegment: string | null; at: Date; firstName: string | null; lastName: string | null; email: string | null }>(
      `SELECT t."customerId", t."fromSegment", t."toSegment", t.at, c."firstName", c."lastName", c.email
       FROM (SELECT * FROM "SegmentTransition" WHERE shop = $1 ORDER BY at DESC LIMIT ${LATEST_TRANSITIONS}) AS t
       LEFT JOIN "Customer" AS c ON c.shop = $1 AND c.id = t."customerId"
       ORDER BY t.at DESC`,
      [shop],
    ),
  ]);
  const labels = settings.segmentLabels;
  const kpis = (aggregates.get(AGGREGATE_KIND.kpis)?.data as KpisAggregate | undefined) ?? null;
  const segments = (aggregates.get(AGGREGATE_KIND.segments)?.data as SegmentsAggregate | undefined) ?? null;
  const movements = (aggregates.get(AGGREGATE_KIND.movements)?.data as MovementsAggregate | undefined) ?? null;
  const computedAt = aggregates.get(AGGREGATE_KIND.kpis)?.computedAt ?? aggregates.get(AGGREGATE_KIND.segments)?.computedAt ?? null;
  const nameOf = (key: string | null, none: string) => (key === null ? none : segmentName(key, labels));
  return {
    currency: kpis?.currency ?? segments?.currency ?? settings.currency,
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
    latestTransitions: transitions.rows.map((t) => {
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
