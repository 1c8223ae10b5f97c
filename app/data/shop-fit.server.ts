import { type BehaviourThresholds } from "~/analytics/behaviour";
import { type ShopModelJson, restoreShopModel } from "~/analytics/clv/shop-model";
import { type ScoringContext } from "~/analytics/customer-metrics";
import { type AveragesEstimate, type PredictionSource } from "~/analytics/estimate-from-averages";
import { type RfmCutPoints } from "~/analytics/rfm";
import { DEFAULT_SEGMENT_RULES, type SegmentRule } from "~/analytics/segments";
import { pgQuery, type Queryable, type RawTx } from "~/db/pg.server";

// Every statement on "ShopFit": one row per shop holding its current fit (model, RFM cut
// points, behaviour thresholds, rules), the last refit's outcome, and the debounce's
// count of customers changed since that fit (docs/analytics/live-metrics.md).

// ------------------------------------------------------------------ the refit's writes

/** The fit a refit writes (version + 1). */
export interface NewShopFit {
  status: "ready" | "no-predictions";
  reasonCode: string | null;
  reason: string | null;
  model: ShopModelJson | null;
  /** Without a model: the estimate from averages the predicted figures come from (null: no predicted figures). */
  averagesEstimate: AveragesEstimate | null;
  rfmCuts: RfmCutPoints | null;
  behaviourThresholds: BehaviourThresholds | null;
  segmentRules: readonly SegmentRule[];
  asOfDay: number;
  customers: number;
  orders: number;
  trigger: string;
  startedAt: Date;
  /** The change count the fit covers (read with its orders): taken off changesSinceFit. */
  changesCovered: number;
}

/**
 * The read's snapshot (pg_current_snapshot) and the change count at it, in the caller's
 * (repeatable-read) transaction: the changes counted later are not in the fit.
 */
export async function snapshotAndChangesSinceFit(db: Queryable, shop: string): Promise<{ snapshot: string; changes: number }> {
  const clock = await db.query<{ snapshot: string; changes: number | null }>(
    `SELECT pg_current_snapshot()::text AS snapshot, (SELECT "changesSinceFit" FROM "ShopFit" WHERE shop = $1) AS changes`,
    [shop],
  );
  return { snapshot: clock.rows[0].snapshot, changes: clock.rows[0].changes ?? 0 };
}

/** Writes the new fit (version + 1) and takes the changes it covers off the debounce counter. Returns its version. */
export async function writeShopFit(db: Queryable, shop: string, fit: NewShopFit): Promise<number> {
  const result = await db.query<{ version: number }>(
    `INSERT INTO "ShopFit" AS f (shop, version, status, "reasonCode", reason, model, "rfmCuts", "behaviourThresholds", "segmentRules",
        "asOfDay", customers, orders, trigger, "startedAt", "finishedAt", "durationMs", error, "changesSinceFit", "firstChangeAt", "updatedAt",
        "averagesEstimate", "predictionSource")
     VALUES ($1, 1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb, $8::jsonb, $9, $10, $11, $12, $13::timestamp, NULL, NULL, NULL, 0, NULL, now() AT TIME ZONE 'UTC',
        $15::jsonb, $16)
     ON CONFLICT (shop) DO UPDATE SET
       version = f.version + 1, status = EXCLUDED.status, "reasonCode" = EXCLUDED."reasonCode", reason = EXCLUDED.reason,
       model = EXCLUDED.model, "averagesEstimate" = EXCLUDED."averagesEstimate", "predictionSource" = EXCLUDED."predictionSource",
       "rfmCuts" = EXCLUDED."rfmCuts", "behaviourThresholds" = EXCLUDED."behaviourThresholds",
       "segmentRules" = EXCLUDED."segmentRules", "asOfDay" = EXCLUDED."asOfDay", customers = EXCLUDED.customers,
       orders = EXCLUDED.orders, trigger = EXCLUDED.trigger, "startedAt" = EXCLUDED."startedAt", "finishedAt" = NULL,
       "durationMs" = NULL, error = NULL,
       -- Changes counted after the orders were read are not in this fit: they stay counted.
       "changesSinceFit" = GREATEST(0, f."changesSinceFit" - $14),
       "firstChangeAt" = CASE WHEN f."changesSinceFit" - $14 > 0 THEN f."firstChangeAt" ELSE NULL END,
       "updatedAt" = EXCLUDED."updatedAt"
     RETURNING version`,
    [
      shop,
      fit.status,
      fit.reasonCode,
      fit.reason,
      fit.model ? JSON.stringify(fit.model) : null,
      fit.rfmCuts ? JSON.stringify(fit.rfmCuts) : null,
      fit.behaviourThresholds ? JSON.stringify(fit.behaviourThresholds) : null,
      JSON.stringify(fit.segmentRules),
      fit.asOfDay,
      fit.customers,
      fit.orders,
      fit.trigger,
      fit.startedAt.toISOString(),
      fit.changesCovered,
      fit.averagesEstimate ? JSON.stringify(fit.averagesEstimate) : null,
      predictionSourceOf(fit),
    ],
  );
  return result.rows[0].version;
}

/** Where a fit's predicted figures come from: its model, else its estimate from averages, else nowhere. */
export function predictionSourceOf(fit: { model: unknown; averagesEstimate: unknown }): PredictionSource | null {
  return fit.model ? "model" : fit.averagesEstimate ? "averages" : null;
}

/** The refit of this fit version finished. */
export async function markFitFinished(db: Queryable, shop: string, version: number, durationMs: number): Promise<void> {
  await db.query(`UPDATE "ShopFit" SET "finishedAt" = now() AT TIME ZONE 'UTC', "durationMs" = $3 WHERE shop = $1 AND version = $2`, [
    shop,
    version,
    durationMs,
  ]);
}

/** A refit failed: the previous fit (if any) stays in use; the pages show why this one failed. */
export async function markFitFailed(db: Queryable, shop: string, error: string): Promise<void> {
  await db.query(`UPDATE "ShopFit" SET error = $2, "finishedAt" = now() AT TIME ZONE 'UTC' WHERE shop = $1`, [shop, error.slice(0, 2_000)]);
}

export async function deleteShopFit(db: Queryable, shop: string): Promise<void> {
  await db.query(`DELETE FROM "ShopFit" WHERE shop = $1`, [shop]);
}

/** The same inside a shop redaction's transaction (Prisma's, or pg's through PgTx); returns the rows deleted. */
export async function deleteShopFitIn(tx: RawTx, shop: string): Promise<number> {
  return await tx.$executeRaw`DELETE FROM "ShopFit" WHERE shop = ${shop}`;
}

// ------------------------------------------------------------------ the live recompute's reads and count

/** The shop's fit version, or undefined when it was never fitted. */
export async function shopFitVersion(db: Queryable, shop: string): Promise<number | undefined> {
  const head = await db.query<{ version: number }>(`SELECT version FROM "ShopFit" WHERE shop = $1`, [shop]);
  return head.rows[0]?.version;
}

/** A stored fit, as read back for scoring. */
export interface StoredFit {
  version: number;
  status: string;
  model: ShopModelJson | null;
  averagesEstimate: AveragesEstimate | null;
  rfmCuts: RfmCutPoints | null;
  behaviourThresholds: BehaviourThresholds | null;
  segmentRules: SegmentRule[];
  asOfDay: number;
}

export async function loadStoredFit(db: Queryable, shop: string): Promise<StoredFit | null> {
  const result = await db.query<StoredFit>(
    `SELECT version, status, model, "averagesEstimate", "rfmCuts", "behaviourThresholds", "segmentRules", "asOfDay" FROM "ShopFit" WHERE shop = $1`,
    [shop],
  );
  return result.rows[0] ?? null;
}

/**
 * The context a live recompute scores with: the stored fit (model, cut points,
 * thresholds, rules) as of `asOfDay`. A shop never fitted scores without predictions,
 * RFM scores or behaviours until its first refit.
 */
export function scoringContextOf(fit: StoredFit | null, asOfDay: number): ScoringContext {
  if (!fit) return { asOfDay, model: null, averages: null, cuts: null, rules: DEFAULT_SEGMENT_RULES, thresholds: null };
  return {
    asOfDay,
    model: fit.model ? restoreShopModel(fit.model) : null,
    averages: fit.model ? null : fit.averagesEstimate,
    cuts: fit.rfmCuts,
    rules: fit.segmentRules.length > 0 ? fit.segmentRules : DEFAULT_SEGMENT_RULES,
    thresholds: fit.behaviourThresholds,
  };
}

/** The shop's fit row after a recompute counted its changes; changes null: the row was locked, nothing counted. */
export interface CountedChanges {
  /** Customers at the last fit. */
  customers: number;
  /** When the last refit finished (or started, while one is rescoring). */
  finishedAt: Date | null;
  changes: number | null;
  firstChangeAt: Date | null;
}

/**
 * Adds `added` changed customers to the shop's count since its fit; undefined when the
 * shop has no fit row. SKIP LOCKED: a refit holding the row must not stall live metrics
 * (the caller carries the count over). A prepared statement (ADR 0010).
 */
export async function countChangesSinceFit(db: Queryable, shop: string, added: number, now: Date): Promise<CountedChanges | undefined> {
  const result = await db.query<CountedChanges>(
    pgQuery(
      `WITH locked AS (
         SELECT shop FROM "ShopFit" WHERE shop = $1 FOR UPDATE SKIP LOCKED
       ),
       bumped AS (
         UPDATE "ShopFit" AS f
         SET "changesSinceFit" = f."changesSinceFit" + $2, "firstChangeAt" = COALESCE(f."firstChangeAt", $3::timestamp)
         FROM locked WHERE f.shop = locked.shop
         RETURNING f."changesSinceFit" AS changes, f."firstChangeAt"
       )
       SELECT f.customers, COALESCE(f."finishedAt", f."startedAt") AS "finishedAt", bumped.changes, bumped."firstChangeAt"
       FROM "ShopFit" AS f LEFT JOIN bumped ON true
       WHERE f.shop = $1`,
      [shop, added, now.toISOString()],
      true,
    ),
  );
  return result.rows[0];
}

/** Installed shops whose oldest change not in a fit is from before `before`, oldest first. */
export async function shopsWithChangesSince(db: Queryable, before: Date): Promise<string[]> {
  const result = await db.query<{ shop: string }>(
    `SELECT f.shop FROM "ShopFit" AS f JOIN "Shop" AS s ON s.domain = f.shop AND s."uninstalledAt" IS NULL
     WHERE f."changesSinceFit" > 0 AND f."firstChangeAt" <= $1::timestamp
     ORDER BY f."firstChangeAt", f.shop`,
    [before.toISOString()],
  );
  return result.rows.map((row) => row.shop);
}

// ------------------------------------------------------------------ reads for the pages and the demo

// Each page reads only the columns it shows, by primary key.

/** Status of the last fit, for the "not ready yet" states. */
export async function readFitStatus(db: Queryable, shop: string) {
  const result = await db.query<{
    status: string;
    reason: string | null;
    error: string | null;
    asOfDay: number;
    finishedAt: Date | null;
    predictionSource: PredictionSource | null;
  }>(
    `SELECT status, reason, error, "asOfDay", "finishedAt", "predictionSource" FROM "ShopFit" WHERE shop = $1`,
    [shop],
  );
  return result.rows[0];
}

/** The stored model, for a customer's P(alive) history and prediction notes. */
export async function readFitModel(db: Queryable, shop: string) {
  const result = await db.query<{ status: string; reason: string | null; model: ShopModelJson | null; asOfDay: number; predictionSource: PredictionSource | null }>(
    `SELECT status, reason, model, "asOfDay", "predictionSource" FROM "ShopFit" WHERE shop = $1`,
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
    averagesEstimate: AveragesEstimate | null;
    predictionSource: PredictionSource | null;
    asOfDay: number;
    customers: number;
    orders: number;
    trigger: string | null;
    finishedAt: Date | null;
    durationMs: number | null;
  }>(
    `SELECT status, reason, "reasonCode", error, model, "averagesEstimate", "predictionSource", "asOfDay", customers, orders, trigger, "finishedAt", "durationMs"
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

/** Where the shop's fit stands: its version, outcome and the last refit's times. */
export interface FitProgress {
  version: number;
  status: string;
  reason: string | null;
  /** The count model chosen ("bgnbd", "paretonbd"); null without predictions. */
  model: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  error: string | null;
}

export async function fitProgress(db: Queryable, shop: string): Promise<FitProgress | null> {
  const fit = await db.query<FitProgress>(
    `SELECT version, status, reason, model ->> 'chosen' AS model, "startedAt", "finishedAt", error FROM "ShopFit" WHERE shop = $1`,
    [shop],
  );
  return fit.rows[0] ?? null;
}
