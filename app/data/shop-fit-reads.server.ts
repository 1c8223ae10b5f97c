import { type BehaviourThresholds } from "~/analytics/behaviour";
import { type ShopModelJson } from "~/analytics/clv/shop-model";
import { type SegmentRule } from "~/analytics/segments";
import { type Queryable } from "~/db/pg.server";

// Reads of ShopFit (one row per shop, written by the refit) for the pages: each page reads
// only the columns it shows, by primary key.

/** Status of the last fit, for the "not ready yet" states. */
export async function readFitStatus(db: Queryable, shop: string) {
  const result = await db.query<{ status: string; reason: string | null; error: string | null; asOfDay: number; finishedAt: Date | null }>(
    `SELECT status, reason, error, "asOfDay", "finishedAt" FROM "ShopFit" WHERE shop = $1`,
    [shop],
  );
  return result.rows[0];
}

/** The stored model, for a customer's P(alive) history and prediction notes. */
export async function readFitModel(db: Queryable, shop: string) {
  const result = await db.query<{ status: string; reason: string | null; model: ShopModelJson | null; asOfDay: number }>(
    `SELECT status, reason, model, "asOfDay" FROM "ShopFit" WHERE shop = $1`,
    [shop],
  );
  return result.rows[0];
}

/** The segment rules and behaviour thresholds the current scores were made with. */
export async function readFitSegmentRules(db: Queryable, shop: string) {
  const result = await db.query<{ segmentRules: SegmentRule[] | null; behaviourThresholds: BehaviourThresholds | null }>(
    `SELECT "segmentRules", "behaviourThresholds" FROM "ShopFit" WHERE shop = $1`,
    [shop],
  );
  return result.rows[0];
}

/** Everything the model page shows of the fit. */
export async function readFitSummary(db: Queryable, shop: string) {
  const result = await db.query<{
    status: string;
    reason: string | null;
    reasonCode: string | null;
    error: string | null;
    model: ShopModelJson | null;
    asOfDay: number;
    customers: number;
    orders: number;
    trigger: string | null;
    finishedAt: Date | null;
    durationMs: number | null;
  }>(
    `SELECT status, reason, "reasonCode", error, model, "asOfDay", customers, orders, trigger, "finishedAt", "durationMs"
       FROM "ShopFit" WHERE shop = $1`,
    [shop],
  );
  return result.rows[0];
}

/** The last refit's run, for the sync page. */
export async function readRefitRun(db: Queryable, shop: string) {
  const result = await db.query<{
    status: string;
    trigger: string | null;
    finishedAt: Date | null;
    startedAt: Date | null;
    durationMs: number | null;
    error: string | null;
    changesSinceFit: number;
  }>(`SELECT status, trigger, "finishedAt", "startedAt", "durationMs", error, "changesSinceFit" FROM "ShopFit" WHERE shop = $1`, [shop]);
  return result.rows[0];
}
