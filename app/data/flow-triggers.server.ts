import { type Queryable } from "~/db/pg.server";

// The FlowTriggerLifecycle table: per shop and Flow trigger handle, whether the shop has an
// enabled workflow that starts with the trigger, as Flow's lifecycle callback last said
// (app/routes/flow.lifecycle.tsx writes it; the firing of triggers reads it). shop/redact
// deletes a shop's rows (app/ingest/gdpr.server.ts).

export interface FlowTriggerLifecycleCallback {
  shop: string;
  handle: string;
  enabled: boolean;
  /** Flow's timestamp, ISO 8601 as Flow sent it: PostgreSQL keeps its microseconds, a JS Date would not. */
  timestamp: string;
}

// Flow may deliver callbacks out of order: only a strictly newer timestamp replaces the row,
// so a replay (same timestamp) and an older callback change nothing.
const SET_LIFECYCLE = `
  INSERT INTO "FlowTriggerLifecycle" (shop, handle, enabled, "callbackAt", "updatedAt")
  VALUES ($1, $2, $3, $4::timestamptz, now() AT TIME ZONE 'UTC')
  ON CONFLICT (shop, handle) DO UPDATE SET enabled = EXCLUDED.enabled, "callbackAt" = EXCLUDED."callbackAt", "updatedAt" = EXCLUDED."updatedAt"
  WHERE "FlowTriggerLifecycle"."callbackAt" < EXCLUDED."callbackAt"`;

/** Stores a lifecycle callback unless the row holds one as new or newer; `applied` says which. */
export async function setFlowTriggerLifecycle(db: Queryable, callback: FlowTriggerLifecycleCallback): Promise<{ applied: boolean }> {
  const result = await db.query({
    name: "tenure-set-flow-trigger-lifecycle",
    text: SET_LIFECYCLE,
    values: [callback.shop, callback.handle, callback.enabled, callback.timestamp],
  });
  return { applied: (result.rowCount ?? 0) > 0 };
}

/** Whether the shop has an enabled workflow using the trigger (false until Flow said so). */
export async function isFlowTriggerEnabled(db: Queryable, shop: string, handle: string): Promise<boolean> {
  const result = await db.query<{ enabled: boolean }>({
    name: "tenure-is-flow-trigger-enabled",
    text: `SELECT enabled FROM "FlowTriggerLifecycle" WHERE shop = $1 AND handle = $2`,
    values: [shop, handle],
  });
  return result.rows[0]?.enabled ?? false;
}
