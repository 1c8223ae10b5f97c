import { METRICS_FIGURE_COLUMNS, type MetricsFigures } from "~/data/destinations.server";
import { type Queryable, type RawTx } from "~/db/pg.server";

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

// ------------------------------------------------------------------ the shop's destination of kind "flow"

/**
 * Makes the shop's Destination of kind "flow" match its lifecycle rows: it exists while at
 * least one trigger is enabled (created with an 'initial' full pass wanted: the silent
 * baseline), and goes when none is (its state, events and due runs cascade), so a shop
 * without workflows costs the live path nothing. Call it in the transaction that stored the
 * callback, after `lockFlowLifecycle`: two callbacks of one shop then see each other's rows.
 */
export async function syncFlowDestination(db: Queryable, shop: string): Promise<{ createdId: string | null; deleted: boolean }> {
  const result = await db.query<{ created: string | null; deleted: string | null }>(
    `WITH wanted AS (SELECT EXISTS (SELECT 1 FROM "FlowTriggerLifecycle" WHERE shop = $1 AND enabled) AS any_enabled),
     created AS (
       INSERT INTO "Destination" (shop, kind, "sealedCredentials", status, "fullWantedAt", "fullWantedReason")
       SELECT $1, 'flow', '', 'active', clock_timestamp() AT TIME ZONE 'UTC', 'initial' FROM wanted WHERE wanted.any_enabled
       ON CONFLICT (shop, kind) DO NOTHING RETURNING id),
     deleted AS (DELETE FROM "Destination" WHERE shop = $1 AND kind = 'flow' AND NOT (SELECT any_enabled FROM wanted) RETURNING id)
     SELECT (SELECT id::text FROM created) AS created, (SELECT id::text FROM deleted) AS deleted`,
    [shop],
  );
  const row = result.rows[0];
  return { createdId: row?.created ?? null, deleted: (row?.deleted ?? null) !== null };
}

/** Serialises a shop's lifecycle callbacks until commit (their destination follows the rows). */
export async function lockFlowLifecycle(db: Queryable, shop: string): Promise<void> {
  await db.query(`SELECT pg_advisory_xact_lock(hashtextextended('flow-lifecycle:' || $1, 0))`, [shop]);
}

/** The trigger handles the shop has an enabled workflow for. */
export async function enabledFlowTriggers(db: Queryable, shop: string): Promise<Set<string>> {
  const result = await db.query<{ handle: string }>(`SELECT handle FROM "FlowTriggerLifecycle" WHERE shop = $1 AND enabled`, [shop]);
  return new Set(result.rows.map((row) => row.handle));
}

/** Whether a destination is the Flow triggers' (the destinations worker runs another pass for it). */
export async function isFlowDestination(db: Queryable, destinationId: string): Promise<boolean> {
  const result = await db.query<{ kind: string }>(`SELECT kind FROM "Destination" WHERE id = $1::bigint`, [destinationId]);
  return result.rows[0]?.kind === "flow";
}


// ------------------------------------------------------------------ a pass's reads

/** A full pass's next customers with a metrics row, by customer id. */
export async function readFlowFullBatch(db: Queryable, shop: string, afterCustomerId: string, limit: number): Promise<string[]> {
  const result = await db.query<{ id: string }>(
    `SELECT "customerId"::text AS id FROM "CustomerMetrics" WHERE shop = $1 AND "customerId" > $2::bigint ORDER BY "customerId" LIMIT $3`,
    [shop, afterCustomerId, limit],
  );
  return result.rows.map((row) => row.id);
}

/** One customer as a Flow pass compares them: their metrics (null: none) and what Flow was last told (null: nothing yet). */
export interface FlowCandidate {
  customerId: string;
  metrics:
    | (MetricsFigures & {
        /** The row's write time, as stored (text, microseconds): part of each event's dedupe key. */
        computedAt: string;
      })
    | null;
  state: { segment: string | null; atRisk: boolean } | null;
}

interface CandidateRow extends MetricsFigures {
  customerId: string;
  scored: boolean;
  computedAt: string | null;
  hasState: boolean;
  stateSegment: string | null;
  stateAtRisk: boolean | null;
}

/** These customers' metrics and state, one primary-key lookup per customer and table. */
export async function readFlowCandidates(db: Queryable, shop: string, destinationId: string, customerIds: readonly string[]): Promise<FlowCandidate[]> {
  if (customerIds.length === 0) return [];
  const result = await db.query<CandidateRow>(
    `SELECT ids.id::text AS "customerId", m."customerId" IS NOT NULL AS scored, ${METRICS_FIGURE_COLUMNS}, m."computedAt"::text AS "computedAt",
            s."customerId" IS NOT NULL AS "hasState", s.segment AS "stateSegment", s."atRisk" AS "stateAtRisk"
     FROM unnest($3::bigint[]) AS ids(id)
     LEFT JOIN LATERAL (SELECT * FROM "CustomerMetrics" AS m WHERE m.shop = $1 AND m."customerId" = ids.id LIMIT 1) AS m ON true
     LEFT JOIN "FlowCustomerState" AS s ON s."destinationId" = $2::bigint AND s."customerId" = ids.id
     ORDER BY ids.id`,
    [shop, destinationId, customerIds],
  );
  return result.rows.map(({ customerId, scored, computedAt, hasState, stateSegment, stateAtRisk, ...figures }) => ({
    customerId,
    metrics: scored ? { ...figures, computedAt: computedAt ?? "" } : null,
    state: hasState ? { segment: stateSegment, atRisk: stateAtRisk === true } : null,
  }));
}

// ------------------------------------------------------------------ a pass's writes

export interface FlowStateWrite {
  customerId: string;
  segment: string | null;
  atRisk: boolean;
}

export interface FlowEventWrite {
  handle: string;
  customerId: string;
  payload: Record<string, unknown>;
  dedupeKey: string;
}

/**
 * What a compared batch changes, in the caller's transaction: states written or deleted, and
 * the events to send (a dedupe key already recorded inserts nothing). The Customer rows are
 * held (KEY SHARE) until commit, as the email tools' member writes are: a redaction waits for
 * this write and then deletes what it wrote; a customer already redacted gets nothing written.
 * Returns the events inserted and the customers found still present (held until commit): only
 * these may get more rows in the same transaction (markDueFired).
 */
export async function writeFlowComparison(
  db: Queryable,
  shop: string,
  destinationId: string,
  states: readonly FlowStateWrite[],
  deletes: readonly string[],
  events: readonly FlowEventWrite[],
): Promise<{ inserted: number; present: ReadonlySet<string> }> {
  const ids = [...new Set([...states.map((s) => s.customerId), ...events.map((e) => e.customerId)])];
  const live = new Set<string>();
  if (ids.length > 0) {
    const rows = await db.query<{ id: string }>(`SELECT id::text AS id FROM "Customer" WHERE shop = $1 AND id = ANY($2::bigint[]) ORDER BY id FOR KEY SHARE`, [shop, ids]);
    for (const row of rows.rows) live.add(row.id);
  }
  const kept = states.filter((s) => live.has(s.customerId));
  const gone = [...deletes, ...states.filter((s) => !live.has(s.customerId)).map((s) => s.customerId)];
  if (kept.length > 0) {
    await db.query(
      `INSERT INTO "FlowCustomerState" ("destinationId", "customerId", segment, "atRisk", "updatedAt")
       SELECT $1::bigint, t.id, t.segment, t.at_risk, now() AT TIME ZONE 'UTC' FROM unnest($2::bigint[], $3::text[], $4::boolean[]) AS t(id, segment, at_risk)
       ON CONFLICT ("destinationId", "customerId") DO UPDATE SET segment = EXCLUDED.segment, "atRisk" = EXCLUDED."atRisk", "updatedAt" = EXCLUDED."updatedAt"`,
      [destinationId, kept.map((s) => s.customerId), kept.map((s) => s.segment), kept.map((s) => s.atRisk)],
    );
  }
  if (gone.length > 0) await db.query(`DELETE FROM "FlowCustomerState" WHERE "destinationId" = $1::bigint AND "customerId" = ANY($2::bigint[])`, [destinationId, gone]);
  const sent = events.filter((e) => live.has(e.customerId));
  if (sent.length === 0) return { inserted: 0, present: live };
  const inserted = await db.query(
    `INSERT INTO "FlowTriggerEvent" ("destinationId", handle, "customerId", payload, "dedupeKey")
     SELECT $1::bigint, t.handle, t.id, t.payload::jsonb, t.key FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[]) WITH ORDINALITY AS t(handle, id, payload, key, n)
     ORDER BY t.n
     ON CONFLICT ("destinationId", "dedupeKey") DO NOTHING`,
    [destinationId, sent.map((e) => e.handle), sent.map((e) => e.customerId), sent.map((e) => JSON.stringify(e.payload)), sent.map((e) => e.dedupeKey)],
  );
  return { inserted: inserted.rowCount ?? 0, present: live };
}

/** After a full pass: states of customers without a metrics row any more (deleted customers) go. */
export async function deleteFlowStatesWithoutMetrics(db: Queryable, shop: string, destinationId: string): Promise<number> {
  const result = await db.query(
    `DELETE FROM "FlowCustomerState" AS s WHERE s."destinationId" = $2::bigint
       AND NOT EXISTS (SELECT 1 FROM "CustomerMetrics" AS m WHERE m.shop = $1 AND m."customerId" = s."customerId")`,
    [shop, destinationId],
  );
  return result.rowCount ?? 0;
}

// ------------------------------------------------------------------ events

export interface FlowEventRow {
  id: string;
  handle: string;
  customerId: string;
  payload: Record<string, unknown>;
  attempts: number;
}

/** Events waiting to be sent (not refused), oldest first: a customer's events go in the order they happened. */
export async function readPendingFlowEvents(db: Queryable, destinationId: string, limit: number): Promise<FlowEventRow[]> {
  const result = await db.query<FlowEventRow>(
    `SELECT id::text AS id, handle, "customerId"::text AS "customerId", payload, attempts FROM "FlowTriggerEvent"
     WHERE "destinationId" = $1::bigint AND "refusedAt" IS NULL ORDER BY id LIMIT $2`,
    [destinationId, limit],
  );
  return result.rows;
}

/** Flow accepted these (or their trigger is no longer enabled): they go. */
export async function deleteFlowEvents(db: Queryable, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await db.query(`DELETE FROM "FlowTriggerEvent" WHERE id = ANY($1::bigint[])`, [ids]);
}

/** A send that failed (network, 5xx, throttled past the client's retries): kept for the next pass. */
export async function noteFlowEventFailure(db: Queryable, id: string, error: string): Promise<void> {
  await db.query(`UPDATE "FlowTriggerEvent" SET attempts = attempts + 1, "lastError" = $2 WHERE id = $1::bigint`, [id, error]);
}

/** Flow refused the event (userErrors): kept with Flow's words, never sent again. */
export async function refuseFlowEvent(db: Queryable, id: string, error: string): Promise<void> {
  await db.query(
    `UPDATE "FlowTriggerEvent" SET attempts = attempts + 1, "lastError" = $2, "refusedAt" = now() AT TIME ZONE 'UTC' WHERE id = $1::bigint`,
    [id, error],
  );
}

/** Events Flow refused more than `days` ago go (kept that long for a look at Flow's words). */
export async function pruneRefusedFlowEvents(db: Queryable, days: number): Promise<number> {
  const result = await db.query(
    `DELETE FROM "FlowTriggerEvent" WHERE "refusedAt" < (now() AT TIME ZONE 'UTC') - make_interval(days => $1)`,
    [days],
  );
  return result.rowCount ?? 0;
}

/** Flow destinations with events waiting longer than `olderThanSeconds` (the destinations sweep asks for a pass). */
export async function flowDestinationsWithPendingEvents(db: Queryable, olderThanSeconds: number): Promise<string[]> {
  const result = await db.query<{ id: string }>(
    `SELECT d.id::text AS id FROM "Destination" AS d
     WHERE d.kind = 'flow' AND d.status = 'active' AND EXISTS (
       SELECT 1 FROM "FlowTriggerEvent" AS e WHERE e."destinationId" = d.id AND e."refusedAt" IS NULL
         AND e."createdAt" < (now() AT TIME ZONE 'UTC') - make_interval(secs => $1))
     ORDER BY d.id`,
    [olderThanSeconds],
  );
  return result.rows.map((row) => row.id);
}

// ------------------------------------------------------------------ due to reorder

/** Flow destinations whose shop has the due-to-reorder trigger enabled, with the shop's time zone. */
export async function flowDestinationsDueToReorder(db: Queryable, handle: string): Promise<{ id: string; shop: string; timezone: string }[]> {
  const result = await db.query<{ id: string; shop: string; timezone: string | null }>(
    `SELECT d.id::text AS id, d.shop, s.timezone FROM "Destination" AS d
     JOIN "FlowTriggerLifecycle" AS l ON l.shop = d.shop AND l.handle = $1 AND l.enabled
     LEFT JOIN "Shop" AS s ON s.domain = d.shop
     WHERE d.kind = 'flow' AND d.status = 'active' ORDER BY d.id`,
    [handle],
  );
  return result.rows.map((row) => ({ id: row.id, shop: row.shop, timezone: row.timezone ?? "UTC" }));
}

/** Whether the due-to-reorder run of this local day (YYYY-MM-DD) was done. */
export async function dueRunDone(db: Queryable, destinationId: string, localDay: string): Promise<boolean> {
  const result = await db.query(`SELECT 1 FROM "FlowDueRun" WHERE "destinationId" = $1::bigint AND "localDay" = $2::date`, [destinationId, localDay]);
  return (result.rowCount ?? 0) > 0;
}

/** The customers whose expected next order is this local day and who were not fired for it yet, by id. */
export async function readDueCustomers(db: Queryable, shop: string, destinationId: string, localDay: string, afterCustomerId: string, limit: number): Promise<string[]> {
  const result = await db.query<{ id: string }>(
    `SELECT m."customerId"::text AS id FROM "CustomerMetrics" AS m
     WHERE m.shop = $1 AND m."expectedNextOrderDay" = $3::date AND m."customerId" > $4::bigint
       AND NOT EXISTS (SELECT 1 FROM "FlowCustomerState" AS s WHERE s."destinationId" = $2::bigint AND s."customerId" = m."customerId"
                       AND s."dueFiredOn" = $3::date)
     ORDER BY m."customerId" LIMIT $5`,
    [shop, destinationId, localDay, afterCustomerId, limit],
  );
  return result.rows.map((row) => row.id);
}

/**
 * Marks these customers fired for the local day (a customer Flow was told nothing about yet
 * gets a state row with no segment, as if first seen: their next comparison fires what a
 * first sighting fires).
 */
export async function markDueFired(db: Queryable, destinationId: string, customerIds: readonly string[], localDay: string): Promise<void> {
  if (customerIds.length === 0) return;
  await db.query(
    `INSERT INTO "FlowCustomerState" ("destinationId", "customerId", "dueFiredOn", "updatedAt")
     SELECT $1::bigint, t.id, $3::date, now() AT TIME ZONE 'UTC' FROM unnest($2::bigint[]) AS t(id)
     ON CONFLICT ("destinationId", "customerId") DO UPDATE SET "dueFiredOn" = EXCLUDED."dueFiredOn", "updatedAt" = EXCLUDED."updatedAt"`,
    [destinationId, customerIds, localDay],
  );
}

/** Records the local day's run as done (a second run of the day finds it). */
export async function recordDueRun(db: Queryable, destinationId: string, localDay: string, fired: number): Promise<void> {
  await db.query(`INSERT INTO "FlowDueRun" ("destinationId", "localDay", fired) VALUES ($1::bigint, $2::date, $3) ON CONFLICT DO NOTHING`, [
    destinationId,
    localDay,
    fired,
  ]);
}

// ------------------------------------------------------------------ redaction

/**
 * customers/redact, in the redaction's transaction: what Flow was told about the customer and
 * their events not yet sent go (nothing is asked of Flow: it keeps no Tenure data).
 */
export async function eraseFlowCustomer(tx: RawTx, shop: string, customerId: bigint): Promise<void> {
  await tx.$executeRaw`
    DELETE FROM "FlowCustomerState" AS s USING "Destination" AS d
    WHERE d.id = s."destinationId" AND d.shop = ${shop} AND d.kind = 'flow' AND s."customerId" = ${customerId}::bigint`;
  await tx.$executeRaw`
    DELETE FROM "FlowTriggerEvent" AS e USING "Destination" AS d
    WHERE d.id = e."destinationId" AND d.shop = ${shop} AND d.kind = 'flow' AND e."customerId" = ${customerId}::bigint`;
}
