import { dayToIso } from "~/analytics/dates";
import { readLatestBackfillBrief } from "~/data/backfill-runs.server";
import { readFitStatus } from "~/data/shop-fit.server";
import { type Queryable } from "~/db/pg.server";
import { type FitState } from "./fit-state";

// The fit state every page's "not ready" state reads: the shop's fit status and its latest import.

/** Fit status and the latest import of a shop: two indexed reads. */
export async function loadFitState(db: Queryable, shop: string): Promise<FitState> {
  const [row, backfill] = await Promise.all([readFitStatus(db, shop), readLatestBackfillBrief(db, shop)]);
  return {
    status: row?.status ?? null,
    reason: row?.reason ?? null,
    error: row?.error ?? null,
    predictionSource: row?.predictionSource ?? null,
    asOfIso: row ? dayToIso(row.asOfDay) : null,
    finishedAtIso: row?.finishedAt ? row.finishedAt.toISOString() : null,
    backfill: backfill ?? null,
  };
}
