import type pg from "pg";
import { BEHAVIOURAL_SEGMENT_KEYS } from "~/analytics/behaviour";
import { SEGMENT_DEFINITIONS } from "~/analytics/segments";
import { BinaryRows, copyBinary } from "~/db/copy-binary.server";
import { type RawTx, type ClientQueryable, type Queryable, arrayLiteral, pgQuery, pgTransaction } from "~/db/pg.server";

// The Destination* tables' SQL (app/destinations/README.md has the flow): the outbox the
// live path marks, the redaction's erasure rows, and the sync engine's reads and writes.
// The Destinations page's reads are in destination-status.server.ts.

// ------------------------------------------------------------------ the live path

// Every change marks a new changedAt, even within one millisecond of the last: the engine
// deletes an outbox row only when its changedAt is still the one it read, so a change that
// lands while a pass sends the customer keeps the row for the next pass.
const MARK_CHANGES_SQL = `WITH marked AS (
  INSERT INTO "DestinationOutbox" ("destinationId", "customerId", "changedAt")
  SELECT d.id, c.id, clock_timestamp() AT TIME ZONE 'UTC' FROM "Destination" AS d CROSS JOIN unnest($2::bigint[]) AS c(id)
  WHERE d.shop = $1
  ON CONFLICT ("destinationId", "customerId") DO UPDATE
    SET "changedAt" = GREATEST(EXCLUDED."changedAt", "DestinationOutbox"."changedAt" + interval '1 millisecond')
  RETURNING "destinationId")
SELECT DISTINCT "destinationId"::text AS id FROM marked`;

/**
 * Puts these customers in the outbox of every destination of the shop, in the recompute's
 * transaction; the pass compares and sends only what differs. Every destination, not only
 * those holding the customer or having them in a chosen segment: a customer a pass is
 * sending has no member row until that pass commits, so a move out of every segment
 * meanwhile would otherwise mark nothing and be lost (the convergence property found it).
 * Returns the ids of the destinations marked. One prepared statement: a shop without
 * destinations costs one index probe (the live recompute runs it on every write).
 */
export async function markDestinationChanges(db: Queryable, shop: string, customerIds: readonly string[]): Promise<string[]> {
  if (customerIds.length === 0) return [];
  const result = await db.query<{ id: string }>(pgQuery(MARK_CHANGES_SQL, [shop, customerIds], true));
  return result.rows.map((row) => row.id);
}

/**
 * The shop's Shopify write-back destination (issue 15), made sure of after install and at
 * worker start: created with a full pass wanted ('initial'); an existing one is left as it is,
 * except that a paused one (Shopify refused the token) becomes active with a full pass wanted
 * ('settings'): a new install or start is the merchant's fix. No key: Tenure writes with the
 * shop's own offline session. Returns its id and whether it was created or resumed.
 */
export async function ensureShopifyDestination(db: Queryable, shop: string): Promise<{ id: string; created: boolean; resumed: boolean }> {
  const created = await db.query<{ id: string }>(
    `INSERT INTO "Destination" (shop, kind, "sealedCredentials", account, status, "fullWantedAt", "fullWantedReason")
     VALUES ($1, 'shopify', '', '{}'::jsonb, 'active', clock_timestamp() AT TIME ZONE 'UTC', 'initial')
     ON CONFLICT (shop, kind) DO NOTHING RETURNING id::text AS id`,
    [shop],
  );
  if (created.rows[0]) return { id: created.rows[0].id, created: true, resumed: false };
  const resumed = await db.query<{ id: string }>(
    `UPDATE "Destination" SET status = 'active', notice = NULL, account = account - 'pausedFor', ${WANT_FULL_SET.replaceAll("$2", "'settings'")},
       "updatedAt" = now() AT TIME ZONE 'UTC'
     WHERE shop = $1 AND kind = 'shopify' AND status = 'paused' RETURNING id::text AS id`,
    [shop],
  );
  if (resumed.rows[0]) return { id: resumed.rows[0].id, created: false, resumed: true };
  const existing = await db.query<{ id: string }>(`SELECT id::text AS id FROM "Destination" WHERE shop = $1 AND kind = 'shopify'`, [shop]);
  return { id: existing.rows[0]!.id, created: false, resumed: false };
}

/** Every destination of the shop (a refit's full pass). */
export async function shopDestinationIds(db: Queryable, shop: string): Promise<string[]> {
  const result = await db.query<{ id: string }>(`SELECT id::text AS id FROM "Destination" WHERE shop = $1 ORDER BY id`, [shop]);
  return result.rows.map((row) => row.id);
}

// ------------------------------------------------------------------ redaction and uninstall

/**
 * customers/redact, inside the redaction's transaction: every destination of the shop gets
 * an erasure request for the customer (email and remote id, kept only until the destination
 * confirmed): with the email it holds when it has a member row, else with `customerEmail`
 * (the customer's stored email, read before their row went), because a push that reached
 * the tool and then failed leaves no member row. An erasure of someone the tool never had
 * is harmless (the adapters take a 404 as done). Without either email nothing can be asked
 * of an email tool; the Shopify write-back erases by customer id, email or not; the Flow
 * triggers' destination gets none (nothing to ask Flow: eraseFlowCustomer deletes its rows).
 * The customer's member, outbox and failure rows go. Returns the ids of the destinations
 * with an erasure to request.
 */
export async function recordDestinationErasures(tx: RawTx, shop: string, customerId: bigint, customerEmail: string | null): Promise<string[]> {
  const email = customerEmail === null || customerEmail.trim() === "" ? null : customerEmail.trim();
  // The shop's member lock, exclusive (ADR 0022): a pass's commit writing member rows holds it
  // shared, so this waits for it and the DELETE below (a new statement, a new snapshot) finds
  // its rows; a commit that comes after waits for the redaction and finds the customer gone.
  await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtextextended(${memberLockKey(shop)}, 0))::text AS locked`;
  const rows = await tx.$queryRaw<{ id: string }[]>`
    WITH gone AS (
      DELETE FROM "DestinationMember" AS m USING "Destination" AS d
      WHERE d.id = m."destinationId" AND d.shop = ${shop} AND m."customerId" = ${customerId}::bigint
      RETURNING m."destinationId", m.email, m."remoteProfileId"),
    targets AS (
      -- The Shopify write-back erases by customer id: it needs no email ('').
      SELECT d.id AS "destinationId", COALESCE(g.email, ${email}::text, CASE WHEN d.kind = 'shopify' THEN '' END) AS email, g."remoteProfileId"
      FROM "Destination" AS d LEFT JOIN gone AS g ON g."destinationId" = d.id
      WHERE d.shop = ${shop} AND COALESCE(g.email, ${email}::text, CASE WHEN d.kind = 'shopify' THEN '' END) IS NOT NULL
        -- Flow keeps nothing of Tenure's to erase: its state goes in the redaction itself (eraseFlowCustomer).
        AND d.kind <> 'flow'
        -- A Mailchimp destination that never had an audience was never sent anyone.
        AND (g."destinationId" IS NOT NULL OR d.kind <> 'mailchimp' OR d.account ? 'audienceId')),
    recorded AS (
      INSERT INTO "DestinationErasure" ("destinationId", "customerId", email, "remoteProfileId")
      SELECT "destinationId", ${customerId}::bigint, email, "remoteProfileId" FROM targets
      RETURNING "destinationId")
    SELECT DISTINCT "destinationId"::text AS id FROM recorded`;
  await tx.$executeRaw`
    DELETE FROM "DestinationOutbox" AS o USING "Destination" AS d
    WHERE d.id = o."destinationId" AND d.shop = ${shop} AND o."customerId" = ${customerId}::bigint`;
  await tx.$executeRaw`
    DELETE FROM "DestinationFailure" AS f USING "Destination" AS d
    WHERE d.id = f."destinationId" AND d.shop = ${shop} AND f."customerId" = ${customerId}::bigint`;
  return rows.map((row) => row.id);
}

/**
 * shop/redact and app/uninstalled: the shop's destinations go, and with them (cascade) their
 * sealed keys, segments, outbox, runs, failures and pending erasures, then their members
 * (no foreign key: ADR 0022). Syncs stop.
 */
export async function deleteShopDestinations(tx: RawTx, shop: string): Promise<number> {
  const gone = await tx.$queryRaw<{ id: bigint }[]>`DELETE FROM "Destination" WHERE shop = ${shop} RETURNING id`;
  // After the destination rows: a pass's commit holds its destination's row (KEY SHARE) while
  // it writes members, so the DELETE above waited for it and this one sees its rows.
  if (gone.length > 0) await tx.$executeRaw`DELETE FROM "DestinationMember" WHERE "destinationId" = ANY(${gone.map((row) => row.id)}::bigint[])`;
  return gone.length;
}

// ------------------------------------------------------------------ destinations

export interface DestinationRow {
  id: string;
  shop: string;
  kind: string;
  status: "active" | "paused";
  notice: string | null;
  sealedCredentials: string;
  account: Record<string, unknown>;
  consentScope: "subscribed" | "all";
  connectedAt: Date;
  /** A full pass is wanted since then (as stored, text: the pass clears it only if still this value); null: none. */
  fullWantedAt: string | null;
  fullWantedReason: FullPassReason | null;
}

const DESTINATION_COLUMNS = `id::text AS id, shop, kind, status, notice, "sealedCredentials", account, "consentScope", "connectedAt",
  "fullWantedAt"::text AS "fullWantedAt", "fullWantedReason"`;

export type FullPassReason = "initial" | "refit" | "manual" | "settings";

// Each request marks a new time, even within one millisecond of the last (as the outbox
// does): a full pass clears the mark only if it is still the one it read, so a request that
// lands during a pass is kept for the next one. An "initial" request waiting stays initial
// (its lists are still to be filled).
const WANT_FULL_SET = `"fullWantedAt" = GREATEST(clock_timestamp() AT TIME ZONE 'UTC', "fullWantedAt" + interval '1 millisecond'),
  "fullWantedReason" = CASE WHEN "fullWantedAt" IS NOT NULL AND "fullWantedReason" = 'initial' THEN 'initial' ELSE $2 END`;

/**
 * Records that the destination wants a full pass (durable: the sweep enqueues one for every
 * active destination where it is set). Call it in the transaction of the change that needs it.
 */
export async function wantFullPass(db: Queryable, id: string, reason: FullPassReason): Promise<void> {
  await db.query(`UPDATE "Destination" SET ${WANT_FULL_SET} WHERE id = $1::bigint`, [id, reason]);
}

/** wantFullPass for every destination of the shop (a refit); returns their ids. */
export async function wantShopFullPasses(db: Queryable, shop: string, reason: FullPassReason): Promise<string[]> {
  const result = await db.query<{ id: string }>(`UPDATE "Destination" SET ${WANT_FULL_SET} WHERE shop = $1 RETURNING id::text AS id`, [shop, reason]);
  return result.rows.map((row) => row.id).sort((a, b) => Number(a) - Number(b));
}

/** A full pass that ran to its end clears the request it read (`seen`), unless a newer one came meanwhile. */
export async function clearFullWantedIfUnchanged(db: Queryable, id: string, seen: string): Promise<boolean> {
  const result = await db.query(
    `UPDATE "Destination" SET "fullWantedAt" = NULL, "fullWantedReason" = NULL WHERE id = $1::bigint AND "fullWantedAt" = $2::timestamp`,
    [id, seen],
  );
  return (result.rowCount ?? 0) > 0;
}

export async function readDestination(db: Queryable, id: string): Promise<DestinationRow | null> {
  const result = await db.query<DestinationRow>(`SELECT ${DESTINATION_COLUMNS} FROM "Destination" WHERE id = $1::bigint`, [id]);
  return result.rows[0] ?? null;
}

export async function readShopDestination(db: Queryable, shop: string, kind: string): Promise<DestinationRow | null> {
  const result = await db.query<DestinationRow>(`SELECT ${DESTINATION_COLUMNS} FROM "Destination" WHERE shop = $1 AND kind = $2`, [shop, kind]);
  return result.rows[0] ?? null;
}

/**
 * Connects (or reconnects) a destination: the sealed key and the account's public facts
 * stored, status active, the notice cleared. A reconnect keeps the chosen segments and
 * members; `account` is merged over the stored one (an audience chosen earlier stays).
 */
export async function upsertDestination(
  db: Queryable,
  input: { shop: string; kind: string; sealedCredentials: string; account: Record<string, unknown> },
): Promise<DestinationRow> {
  const result = await db.query<DestinationRow>(
    `INSERT INTO "Destination" (shop, kind, "sealedCredentials", account, status, notice)
     VALUES ($1, $2, $3, $4::jsonb, 'active', NULL)
     ON CONFLICT (shop, kind) DO UPDATE SET "sealedCredentials" = EXCLUDED."sealedCredentials",
       account = ("Destination".account - 'pausedFor') || EXCLUDED.account, status = 'active', notice = NULL, "updatedAt" = now() AT TIME ZONE 'UTC'
     RETURNING ${DESTINATION_COLUMNS}`,
    [input.shop, input.kind, input.sealedCredentials, JSON.stringify(input.account)],
  );
  return result.rows[0]!;
}

export async function updateSealedCredentials(db: Queryable, id: string, sealed: string, previous: string): Promise<boolean> {
  const result = await db.query(`UPDATE "Destination" SET "sealedCredentials" = $2 WHERE id = $1::bigint AND "sealedCredentials" = $3`, [id, sealed, previous]);
  return (result.rowCount ?? 0) > 0;
}

/** Every destination's id, shop, kind and sealed key (the re-seal after a key rotation). */
export async function allSealedCredentials(db: Queryable): Promise<{ id: string; shop: string; kind: string; sealedCredentials: string }[]> {
  const result = await db.query<{ id: string; shop: string; kind: string; sealedCredentials: string }>(
    // Keyless kinds (the Shopify write-back, Flow) store '': nothing sealed, nothing to rotate.
    `SELECT id::text AS id, shop, kind, "sealedCredentials" FROM "Destination" WHERE "sealedCredentials" <> '' ORDER BY id`,
  );
  return result.rows;
}

/** Merges public facts into the account (Mailchimp's audience); `clearMembers`: the destination's list changed, nothing is held there. */
export async function mergeDestinationAccount(db: Queryable, id: string, facts: Record<string, unknown>): Promise<void> {
  await db.query(`UPDATE "Destination" SET account = account || $2::jsonb, "updatedAt" = now() AT TIME ZONE 'UTC' WHERE id = $1::bigint`, [id, JSON.stringify(facts)]);
}

/** The destination's remote list changed (another Mailchimp audience): nothing Tenure sent is there. */
export async function forgetDestinationMembers(db: Queryable, id: string): Promise<void> {
  await db.query(`DELETE FROM "DestinationMember" WHERE "destinationId" = $1::bigint`, [id]);
  await db.query(`UPDATE "DestinationSegment" SET "remoteId" = NULL WHERE "destinationId" = $1::bigint`, [id]);
  await db.query(`UPDATE "Destination" SET account = account - 'retiredTargets' WHERE id = $1::bigint`, [id]);
}

/**
 * Pauses a destination with the merchant's notice. `cause` is kept in the account as
 * `pausedFor`: a `setup` pause (Mailchimp audience missing or deleted) ends when an audience
 * is chosen, a `key` pause when a valid key is pasted.
 */
export async function pauseDestination(db: Queryable, id: string, notice: string, cause: "key" | "setup" = "key"): Promise<void> {
  await db.query(
    `UPDATE "Destination" SET status = 'paused', notice = $2, account = account || jsonb_build_object('pausedFor', $3::text), "updatedAt" = now() AT TIME ZONE 'UTC'
     WHERE id = $1::bigint`,
    [id, notice, cause],
  );
}

/** Active again, the notice and the pause's cause cleared. */
export async function resumeDestination(db: Queryable, id: string): Promise<void> {
  await db.query(
    `UPDATE "Destination" SET status = 'active', notice = NULL, account = account - 'pausedFor', "updatedAt" = now() AT TIME ZONE 'UTC' WHERE id = $1::bigint`,
    [id],
  );
}

export async function countErasures(db: Queryable, destinationId: string): Promise<number> {
  const result = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM "DestinationErasure" WHERE "destinationId" = $1::bigint`, [destinationId]);
  return Number(result.rows[0]?.n ?? 0);
}

export async function setDestinationConsentScope(db: Queryable, id: string, scope: "subscribed" | "all"): Promise<void> {
  await db.query(`UPDATE "Destination" SET "consentScope" = $2, "updatedAt" = now() AT TIME ZONE 'UTC' WHERE id = $1::bigint`, [id, scope]);
}

/**
 * Disconnect: the destination goes with its segments, outbox, runs, failures and erasures
 * (cascade), then its members (no foreign key: ADR 0022), in one transaction.
 */
export async function deleteDestination(pool: pg.Pool, id: string): Promise<void> {
  await pgTransaction(pool, async (_tx, client) => {
    // The destination row first: a pass's commit holds it (KEY SHARE) while it writes members,
    // so this waits for that commit, and the members' delete (a new statement, a new
    // snapshot) sees the rows it wrote. One statement for both would not.
    await client.query(`DELETE FROM "Destination" WHERE id = $1::bigint`, [id]);
    await client.query(`DELETE FROM "DestinationMember" WHERE "destinationId" = $1::bigint`, [id]);
  });
}

export interface DestinationWork {
  id: string;
  changes: boolean;
  erasures: boolean;
  /** The full pass wanted (its reason), or null. */
  full: FullPassReason | null;
}

/**
 * Active destinations with outbox rows older than `olderThanSeconds`, erasures waiting or a
 * full pass wanted (the sweep). A Mailchimp destination without a chosen audience has
 * nowhere to send anything yet: it is left out (its work waits for the audience).
 */
export async function destinationsWithWork(db: Queryable, olderThanSeconds: number): Promise<DestinationWork[]> {
  const result = await db.query<DestinationWork>(
    `SELECT d.id::text AS id,
            EXISTS (SELECT 1 FROM "DestinationOutbox" o WHERE o."destinationId" = d.id
                    AND o."changedAt" < (now() AT TIME ZONE 'UTC') - make_interval(secs => $1)) AS changes,
            EXISTS (SELECT 1 FROM "DestinationErasure" e WHERE e."destinationId" = d.id) AS erasures,
            CASE WHEN d."fullWantedAt" IS NULL THEN NULL ELSE COALESCE(d."fullWantedReason", 'settings') END AS full
     FROM "Destination" AS d
     WHERE d.status = 'active' AND (d.kind <> 'mailchimp' OR jsonb_typeof(d.account -> 'audienceId') = 'string')
     ORDER BY d.id`,
    [olderThanSeconds],
  );
  return result.rows.filter((row) => row.changes || row.erasures || row.full !== null);
}

// ------------------------------------------------------------------ segments (targets)

export interface DestinationSegmentRow {
  segmentKey: string;
  remoteId: string | null;
  remoteName: string | null;
}

export async function readDestinationSegments(db: Queryable, destinationId: string): Promise<DestinationSegmentRow[]> {
  const result = await db.query<DestinationSegmentRow>(
    `SELECT "segmentKey", "remoteId", "remoteName" FROM "DestinationSegment" WHERE "destinationId" = $1::bigint ORDER BY "addedAt", "segmentKey"`,
    [destinationId],
  );
  return result.rows;
}

/**
 * Replaces the chosen segments. A removed segment's remote id moves to the account's
 * retiredTargets (the next full pass takes its members out of it, then forgets it); a
 * segment chosen again gets its remote id back. Returns the keys added and removed.
 */
export async function replaceDestinationSegments(db: Queryable, destinationId: string, keys: readonly string[]): Promise<{ added: string[]; removed: string[] }> {
  const current = await readDestinationSegments(db, destinationId);
  const currentKeys = new Set(current.map((s) => s.segmentKey));
  const wanted = new Set(keys);
  const added = [...wanted].filter((key) => !currentKeys.has(key));
  const removed = current.filter((s) => !wanted.has(s.segmentKey));
  const retiredAdd: Record<string, string> = {};
  for (const s of removed) if (s.remoteId !== null) retiredAdd[s.segmentKey] = s.remoteId;
  const destination = await db.query<{ retired: Record<string, string> | null }>(
    `SELECT account -> 'retiredTargets' AS retired FROM "Destination" WHERE id = $1::bigint`,
    [destinationId],
  );
  const retired: Record<string, string> = { ...(destination.rows[0]?.retired ?? {}), ...retiredAdd };
  for (const key of added) delete retired[key];
  const restored = (key: string) => destination.rows[0]?.retired?.[key] ?? null;
  if (removed.length > 0) {
    await db.query(`DELETE FROM "DestinationSegment" WHERE "destinationId" = $1::bigint AND "segmentKey" = ANY($2::text[])`, [
      destinationId,
      removed.map((s) => s.segmentKey),
    ]);
  }
  for (const key of added) {
    await db.query(
      `INSERT INTO "DestinationSegment" ("destinationId", "segmentKey", "remoteId") VALUES ($1::bigint, $2, $3) ON CONFLICT DO NOTHING`,
      [destinationId, key, restored(key)],
    );
  }
  await db.query(`UPDATE "Destination" SET account = jsonb_set(account, '{retiredTargets}', $2::jsonb), "updatedAt" = now() AT TIME ZONE 'UTC' WHERE id = $1::bigint`, [
    destinationId,
    JSON.stringify(retired),
  ]);
  return { added, removed: removed.map((s) => s.segmentKey) };
}

export async function saveSegmentRemoteIds(db: Queryable, destinationId: string, targets: readonly { segmentKey: string; remoteId: string; remoteName: string }[]): Promise<void> {
  if (targets.length === 0) return;
  await db.query(
    `UPDATE "DestinationSegment" AS s SET "remoteId" = t.remote_id, "remoteName" = t.remote_name
     FROM unnest($2::text[], $3::text[], $4::text[]) AS t(key, remote_id, remote_name)
     WHERE s."destinationId" = $1::bigint AND s."segmentKey" = t.key`,
    [destinationId, targets.map((t) => t.segmentKey), targets.map((t) => t.remoteId), targets.map((t) => t.remoteName)],
  );
}

/** Retired targets (segments no longer chosen) that no member holds any more are forgotten. */
export async function forgetEmptyRetiredTargets(db: Queryable, destinationId: string): Promise<void> {
  await db.query(
    `UPDATE "Destination" AS d SET account = jsonb_set(d.account, '{retiredTargets}', COALESCE((
       SELECT jsonb_object_agg(r.key, r.value) FROM jsonb_each(d.account -> 'retiredTargets') AS r
       WHERE EXISTS (SELECT 1 FROM "DestinationMember" m WHERE m."destinationId" = d.id AND r.key = ANY(m.segments))), '{}'::jsonb))
     WHERE d.id = $1::bigint AND d.account ? 'retiredTargets'`,
    [destinationId],
  );
}

// ------------------------------------------------------------------ the engine's candidates

export interface OutboxEntry {
  customerId: string;
  /** As stored (text, microseconds kept): the row leaves only if it still has this value. */
  changedAt: string;
}

/** Outbox rows changed up to `until`, oldest first, after the keyset position `after`. */
export async function readOutboxBatch(
  db: Queryable,
  destinationId: string,
  until: Date,
  after: OutboxEntry | null,
  limit: number,
): Promise<OutboxEntry[]> {
  const result = await db.query<OutboxEntry>(
    `SELECT "customerId"::text AS "customerId", "changedAt"::text AS "changedAt" FROM "DestinationOutbox"
     WHERE "destinationId" = $1::bigint AND "changedAt" <= $2::timestamp
       AND ($3::timestamp IS NULL OR ("changedAt", "customerId") > ($3::timestamp, $4::bigint))
     ORDER BY "changedAt", "customerId" LIMIT $5`,
    [destinationId, until.toISOString(), after?.changedAt ?? null, after?.customerId ?? "0", limit],
  );
  return result.rows;
}

/**
 * The outbox rows of these customers, read by a full pass BEFORE it reads their state: the
 * comparison then covers each change, and each row leaves only if unchanged since (a change
 * committed meanwhile keeps its row for the next pass).
 */
export async function readOutboxOf(db: Queryable, destinationId: string, customerIds: readonly string[]): Promise<OutboxEntry[]> {
  if (customerIds.length === 0) return [];
  const result = await db.query<OutboxEntry>(
    `SELECT "customerId"::text AS "customerId", "changedAt"::text AS "changedAt" FROM "DestinationOutbox"
     WHERE "destinationId" = $1::bigint AND "customerId" = ANY($2::bigint[]) ORDER BY "customerId"`,
    [destinationId, bigintArrayLiteral(customerIds)],
  );
  return result.rows;
}

export async function countOutbox(db: Queryable, destinationId: string, until: Date): Promise<number> {
  const result = await db.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM "DestinationOutbox" WHERE "destinationId" = $1::bigint AND "changedAt" <= $2::timestamp`,
    [destinationId, until.toISOString()],
  );
  return Number(result.rows[0]?.n ?? 0);
}

// A full pass reads its candidates group by group (fullPassGroups): the members in no chosen
// segment, then each chosen segment's customers, a customer belonging to the earliest chosen
// segment they are in (by key). A batch of one group shares its target list, so Klaviyo gets
// one full import job per batch instead of one small job per list (a job's list relationship
// covers every profile in it). Keyset on the customer id within a group. The chosen keys
// before the group ($3) are separate plain comparisons the planner estimates, so it reads
// the group in id order and stops at the batch (a per-row subquery, or one COALESCE around
// the OR, made it read and sort the shop's whole remaining tail for every batch).
//
// An RFM segment's group is a range of the (shop, segment, customerId) index (migration
// 20261207080000, ADR 0022); a behavioural segment's walks the primary key (no index orders
// an array column's rows by id). A key of neither kind (none passes connections' check)
// keeps both tests.
type GroupKind = "rfm" | "behaviour" | "either";
const GROUP_MEMBERSHIP: Readonly<Record<GroupKind, string>> = {
  rfm: "m.segment = $5",
  behaviour: "m.behaviours @> ARRAY[$5::text]",
  either: "(m.segment = $5 OR m.behaviours @> ARRAY[$5::text])",
};
const groupSql = (kind: GroupKind) => `
  SELECT m."customerId"::text AS id FROM "CustomerMetrics" AS m
  WHERE m.shop = $1 AND m."customerId" > $2::bigint
    AND ${GROUP_MEMBERSHIP[kind]}
    AND NOT (COALESCE(m.segment, '') = ANY($3::text[])) AND NOT (COALESCE(m.behaviours, '{}') && $3::text[])
  ORDER BY m."customerId" LIMIT $4`;
const GROUP_SQL: Readonly<Record<GroupKind, string>> = { rfm: groupSql("rfm"), behaviour: groupSql("behaviour"), either: groupSql("either") };
const RFM_KEYS: ReadonlySet<string> = new Set(Object.values(SEGMENT_DEFINITIONS).map((definition) => definition.key));
const BEHAVIOUR_KEYS: ReadonlySet<string> = new Set(BEHAVIOURAL_SEGMENT_KEYS);

/** A segment key is an RFM segment's or a behaviour's, never both. */
function groupKind(group: string): GroupKind {
  return RFM_KEYS.has(group) ? "rfm" : BEHAVIOUR_KEYS.has(group) ? "behaviour" : "either";
}

const FULL_HELD_ONLY_SQL = `
  SELECT dm."customerId"::text AS id FROM "DestinationMember" AS dm
  WHERE dm."destinationId" = $5::bigint AND dm."customerId" > $2::bigint
    AND NOT EXISTS (SELECT 1 FROM "CustomerMetrics" AS m WHERE m.shop = $1 AND m."customerId" = dm."customerId"
                    AND (m.segment = ANY($3::text[]) OR m.behaviours && $3::text[]))
  ORDER BY dm."customerId" LIMIT $4`;

/**
 * The groups a full pass reads in turn: null, the members in no chosen segment, then each
 * chosen segment (sorted). Every candidate (in a chosen segment, or held by the destination)
 * is in exactly one group. The members go first, while they are only those the pass began
 * with: read last, the group probed every member the pass had just written (ADR 0022). A
 * customer who leaves every chosen segment after their read is not missed: a live change is
 * in the outbox, which the batch's commit leaves for the next pass; a refit's is in the full
 * pass the refit asks for.
 */
export function fullPassGroups(chosen: readonly string[]): (string | null)[] {
  return [null, ...[...new Set(chosen)].sort()];
}

/** The chosen keys whose group comes before `group` in fullPassGroups' order. */
function groupsBefore(chosen: readonly string[], group: string): string[] {
  return [...new Set(chosen)].sort().filter((key) => key < group);
}

/**
 * A full pass's next customers of one group after `afterCustomerId` (fullPassGroups): those
 * whose first chosen segment is `group` (members or not), or, for null, the members in no
 * chosen segment.
 */
export async function readFullBatch(
  db: Queryable,
  shop: string,
  destinationId: string,
  chosen: readonly string[],
  group: string | null,
  afterCustomerId: string,
  limit: number,
): Promise<string[]> {
  const result =
    group === null
      ? await db.query<{ id: string }>(FULL_HELD_ONLY_SQL, [shop, afterCustomerId, chosen, limit, destinationId])
      : await db.query<{ id: string }>(GROUP_SQL[groupKind(group)], [shop, afterCustomerId, groupsBefore(chosen, group), limit, group]);
  return result.rows.map((row) => row.id);
}

/**
 * A full pass's next customers of one chosen segment's group (readFullBatch's), each with
 * their state (readCustomerSyncStates') and outbox row, in one statement. One snapshot
 * covers the outbox rows and the states, which is what reading the rows first guarantees
 * (a change committed after it has a newer changedAt, so its row stays); and the metrics row
 * the candidate scan visits is the one the state uses, where a separate state read probed
 * it again (ADR 0022). A customer still being sent by an uncommitted batch of the pass gets
 * their state read again after that commit (the engine's sendAll).
 */
export async function readFullBatchStates(
  db: Queryable,
  shop: string,
  destinationId: string,
  consentScope: "subscribed" | "all",
  chosen: readonly string[],
  group: string,
  afterCustomerId: string,
  limit: number,
): Promise<{ states: CustomerSyncState[]; outbox: OutboxEntry[] }> {
  // Rows as arrays (rowMode "array"): the driver makes no object a row, and the state is
  // built once from the array (task K5; pg's row objects were a fifth of Tenure's CPU).
  const result = await db.query<unknown[]>({
    text: FULL_BATCH_STATES_SQL[groupKind(group)],
    values: [shop, afterCustomerId, groupsBefore(chosen, group), limit, group, consentScope, destinationId],
    rowMode: "array",
  });
  checkColumns(result.fields, FULL_BATCH_STATE_COLUMNS);
  const states: CustomerSyncState[] = new Array(result.rows.length);
  const outbox: OutboxEntry[] = [];
  for (let index = 0; index < result.rows.length; index += 1) {
    const row = result.rows[index]!;
    const state = stateOfArrayRow(row);
    states[index] = state;
    if (row[OUTBOX_CHANGED_AT] !== null) outbox.push({ customerId: state.customerId, changedAt: row[OUTBOX_CHANGED_AT] as string });
  }
  return { states, outbox };
}

// The Shopify write-back's full pass: every scored customer (group "scored"), then the
// members with no metrics row any more (group "unscored": their metafields are deleted).
const SHOPIFY_FULL_SCORED_SQL = `
  SELECT m."customerId"::text AS id FROM "CustomerMetrics" AS m
  WHERE m.shop = $1 AND m."customerId" > $2::bigint ORDER BY m."customerId" LIMIT $3`;

const SHOPIFY_FULL_UNSCORED_SQL = `
  SELECT dm."customerId"::text AS id FROM "DestinationMember" AS dm
  WHERE dm."destinationId" = $4::bigint AND dm."customerId" > $2::bigint
    AND NOT EXISTS (SELECT 1 FROM "CustomerMetrics" AS m WHERE m.shop = $1 AND m."customerId" = dm."customerId")
  ORDER BY dm."customerId" LIMIT $3`;

/** The Shopify write-back's full pass reads "scored", then "unscored" (keyset on the customer id). */
export async function readShopifyFullBatch(
  db: Queryable,
  shop: string,
  destinationId: string,
  group: "scored" | "unscored",
  afterCustomerId: string,
  limit: number,
): Promise<string[]> {
  const result =
    group === "scored"
      ? await db.query<{ id: string }>(SHOPIFY_FULL_SCORED_SQL, [shop, afterCustomerId, limit])
      : await db.query<{ id: string }>(SHOPIFY_FULL_UNSCORED_SQL, [shop, afterCustomerId, limit, destinationId]);
  return result.rows.map((row) => row.id);
}

export async function countShopifyFullCandidates(db: Queryable, shop: string, destinationId: string): Promise<number> {
  const result = await db.query<{ n: string }>(
    `SELECT ((SELECT count(*) FROM "CustomerMetrics" WHERE shop = $1)
           + (SELECT count(*) FROM "DestinationMember" AS dm WHERE dm."destinationId" = $2::bigint
               AND NOT EXISTS (SELECT 1 FROM "CustomerMetrics" AS m WHERE m.shop = $1 AND m."customerId" = dm."customerId")))::text AS n`,
    [shop, destinationId],
  );
  return Number(result.rows[0]?.n ?? 0);
}

export async function countFullCandidates(db: Queryable, shop: string, destinationId: string, chosen: readonly string[]): Promise<number> {
  const result = await db.query<{ n: string }>(
    // The union's size as two disjoint counts: hashing a million ids to count them cost
    // PostgreSQL more than counting them.
    `SELECT ((SELECT count(*) FROM "CustomerMetrics" WHERE shop = $1 AND (segment = ANY($3::text[]) OR behaviours && $3::text[]))
           + (SELECT count(*) FROM "DestinationMember" AS dm WHERE dm."destinationId" = $2::bigint
               AND NOT EXISTS (SELECT 1 FROM "CustomerMetrics" AS m WHERE m.shop = $1 AND m."customerId" = dm."customerId"
                               AND (m.segment = ANY($3::text[]) OR m.behaviours && $3::text[]))))::text AS n`,
    [shop, destinationId, chosen],
  );
  return Number(result.rows[0]?.n ?? 0);
}

/** A metrics row's figures as the destinations read them (minor units as decimal text); all null without a row. */
export interface MetricsFigures {
  segment: string | null;
  behaviours: string[];
  netSpentMinor: string | null;
  predictedClvMinor: string | null;
  expectedPurchases365d: number | null;
  expectedOrderValueMinor: string | null;
  chanceOfOrder90d: number | null;
  pAlive: number | null;
  /** YYYY-MM-DD (the shop's day). */
  expectedNextOrderDay: string | null;
}

/**
 * MetricsFigures' columns of "CustomerMetrics" AS m: one list for every destination's read.
 * The day as its own text, YYYY-MM-DD in DateStyle ISO, which createPgPool pins: to_char cost
 * PostgreSQL more (task K6, docs/destinations/klaviyo.md; as the export, ADR 0018).
 */
export const METRICS_FIGURE_COLUMNS = `m.segment, COALESCE(m.behaviours, '{}') AS behaviours, m."netSpentMinor"::text AS "netSpentMinor",
            m."predictedClvMinor"::text AS "predictedClvMinor", m."expectedPurchases365d",
            m."expectedOrderValueMinor"::text AS "expectedOrderValueMinor", m."chanceOfOrder90d", m."pAlive",
            m."expectedNextOrderDay"::text AS "expectedNextOrderDay"`;

const fullBatchStatesSql = (kind: GroupKind) => `SELECT m."customerId"::text AS "customerId", c.email, c."firstName", c."lastName", c.phone, c."emailConsentState",
            true AS scored,
            (c.email IS NOT NULL AND btrim(c.email) <> '' AND ($6 = 'all' OR c."emailConsentState" = 'SUBSCRIBED')) AS sendable,
            ${METRICS_FIGURE_COLUMNS}, m."computedAt"::text AS "scoredAt",
            dm.email AS member_email, dm."remoteProfileId" AS member_remote_id, dm.segments AS member_segments, dm."syncedHash" AS member_hash,
            dm."heldValues" AS member_values, o."changedAt"::text AS outbox_changed_at
     FROM (${GROUP_SQL[kind].replace(`SELECT m."customerId"::text AS id FROM`, "SELECT m.* FROM")}) AS m
     LEFT JOIN LATERAL (SELECT c.email, c."firstName", c."lastName", c.phone, c."emailConsentState"
                        FROM "Customer" AS c WHERE c.shop = $1 AND c.id = m."customerId" LIMIT 1) AS c ON true
     LEFT JOIN LATERAL (SELECT dm.email, dm."remoteProfileId", dm.segments, dm."syncedHash", dm."heldValues"
                        FROM "DestinationMember" AS dm WHERE dm."destinationId" = $7::bigint AND dm."customerId" = m."customerId" LIMIT 1) AS dm ON true
     LEFT JOIN LATERAL (SELECT o."changedAt" FROM "DestinationOutbox" AS o WHERE o."destinationId" = $7::bigint AND o."customerId" = m."customerId" LIMIT 1) AS o ON true
     ORDER BY m."customerId"`;
const FULL_BATCH_STATES_SQL: Readonly<Record<GroupKind, string>> = {
  rfm: fullBatchStatesSql("rfm"),
  behaviour: fullBatchStatesSql("behaviour"),
  either: fullBatchStatesSql("either"),
};

/** The columns of a state read (readCustomerSyncStates), in order: stateOfArrayRow reads them by position. */
const STATE_COLUMNS = [
  "customerId", "email", "firstName", "lastName", "phone", "emailConsentState", "scored", "sendable",
  "segment", "behaviours", "netSpentMinor", "predictedClvMinor", "expectedPurchases365d", "expectedOrderValueMinor",
  "chanceOfOrder90d", "pAlive", "expectedNextOrderDay", "scoredAt",
  "member_email", "member_remote_id", "member_segments", "member_hash", "member_values",
] as const;
/** Each state column's position. */
const AT = Object.fromEntries(STATE_COLUMNS.map((name, index) => [name, index])) as Record<(typeof STATE_COLUMNS)[number], number>;
/** fullBatchStatesSql's columns: a state's, then its outbox entry's time. */
const FULL_BATCH_STATE_COLUMNS = [...STATE_COLUMNS, "outbox_changed_at"] as const;
const OUTBOX_CHANGED_AT = STATE_COLUMNS.length;

function checkColumns(fields: readonly { name: string }[], names: readonly string[]): void {
  if (fields.length !== names.length || fields.some((field, index) => field.name !== names[index])) {
    throw new Error(`unexpected columns: ${fields.map((field) => field.name).join(", ")}`);
  }
}

/**
 * A state row (in array mode: the driver makes no object a row) as the engine compares it.
 * Every field named, in one literal: a rest spread of a row object (and deleting a field from
 * it) left objects V8 handles as dictionaries, which cost more than reading the rows (ADR 0022).
 */
function stateOfArrayRow(row: unknown[]): CustomerSyncState {
  const memberEmail = row[AT.member_email] as string | null;
  const day = row[AT.expectedNextOrderDay] as string | null;
  // Dates read as their own text (METRICS_FIGURE_COLUMNS): a session not in DateStyle ISO would
  // give another shape, which must not reach a destination.
  if (day !== null && day.charCodeAt(4) !== HYPHEN) throw new Error(`a date not in DateStyle ISO: ${day}`);
  return {
    customerId: row[AT.customerId] as string,
    email: row[AT.email] as string | null,
    firstName: row[AT.firstName] as string | null,
    lastName: row[AT.lastName] as string | null,
    phone: row[AT.phone] as string | null,
    emailConsentState: row[AT.emailConsentState] as string | null,
    scored: row[AT.scored] as boolean,
    sendable: row[AT.sendable] as boolean,
    scoredAt: utcSecond(row[AT.scoredAt] as string | null),
    segment: row[AT.segment] as string | null,
    behaviours: row[AT.behaviours] as string[],
    netSpentMinor: row[AT.netSpentMinor] as string | null,
    predictedClvMinor: row[AT.predictedClvMinor] as string | null,
    expectedPurchases365d: row[AT.expectedPurchases365d] as number | null,
    expectedOrderValueMinor: row[AT.expectedOrderValueMinor] as string | null,
    chanceOfOrder90d: row[AT.chanceOfOrder90d] as number | null,
    pAlive: row[AT.pAlive] as number | null,
    expectedNextOrderDay: day,
    member:
      memberEmail === null
        ? null
        : {
            email: memberEmail,
            remoteProfileId: row[AT.member_remote_id] as string | null,
            segments: (row[AT.member_segments] as string[] | null) ?? [],
            syncedHash: row[AT.member_hash] as string | null,
            heldValues: row[AT.member_values] as Record<string, string> | null,
          },
  };
}

const HYPHEN = 45;
const SPACE = 32;

/**
 * A timestamp's own text in DateStyle ISO (YYYY-MM-DD HH:MI:SS, a fraction perhaps), which
 * holds UTC, as ISO 8601 UTC to the second: what to_char wrote, for less of PostgreSQL's CPU.
 */
function utcSecond(text: string | null): string | null {
  if (text === null) return null;
  if (text.charCodeAt(10) !== SPACE || text.charCodeAt(4) !== HYPHEN) throw new Error(`a timestamp not in DateStyle ISO: ${text}`);
  return `${text.slice(0, 10)}T${text.slice(11, 19)}Z`;
}

/** One customer as the engine compares them: Shopify's profile, consent, metrics, and what the destination holds. */
export interface CustomerSyncState extends MetricsFigures {
  customerId: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
  emailConsentState: string | null;
  /** A metrics row exists. */
  scored: boolean;
  /** Email present, consent as the destination's scope asks, and scored. */
  sendable: boolean;
  /** When the metrics row was computed, ISO 8601 UTC to the second (the last_scored metafield); null: no row. */
  scoredAt?: string | null;
  member: {
    email: string;
    remoteProfileId: string | null;
    segments: string[];
    syncedHash: string | null;
    /** The Shopify write-back: the metafield values Shopify holds, as last written (null or absent: unknown). */
    heldValues?: Record<string, string> | null;
  } | null;
}

/**
 * The state of these customers, one primary-key lookup per customer and table (LATERAL ...
 * LIMIT 1 keeps the planner from hashing the shop's whole tables for every batch, which made
 * a pass quadratic in the shop's size).
 */
export async function readCustomerSyncStates(
  db: Queryable,
  shop: string,
  destinationId: string,
  consentScope: "subscribed" | "all",
  customerIds: readonly string[],
): Promise<CustomerSyncState[]> {
  const result = await db.query<unknown[]>({
    text: `SELECT ids.id::text AS "customerId", c.email, c."firstName", c."lastName", c.phone, c."emailConsentState",
            m."customerId" IS NOT NULL AS scored,
            (c.email IS NOT NULL AND btrim(c.email) <> '' AND m."customerId" IS NOT NULL
             AND ($4 = 'all' OR c."emailConsentState" = 'SUBSCRIBED')) AS sendable,
            ${METRICS_FIGURE_COLUMNS}, m."computedAt"::text AS "scoredAt",
            dm.email AS member_email, dm."remoteProfileId" AS member_remote_id, dm.segments AS member_segments, dm."syncedHash" AS member_hash,
            dm."heldValues" AS member_values
     FROM unnest($3::bigint[]) AS ids(id)
     LEFT JOIN LATERAL (SELECT * FROM "Customer" AS c WHERE c.shop = $1 AND c.id = ids.id LIMIT 1) AS c ON true
     LEFT JOIN LATERAL (SELECT * FROM "CustomerMetrics" AS m WHERE m.shop = $1 AND m."customerId" = ids.id LIMIT 1) AS m ON true
     LEFT JOIN LATERAL (SELECT * FROM "DestinationMember" AS dm WHERE dm."destinationId" = $2::bigint AND dm."customerId" = ids.id LIMIT 1) AS dm ON true
     ORDER BY ids.id`,
    values: [shop, destinationId, bigintArrayLiteral(customerIds), consentScope],
    rowMode: "array",
  });
  checkColumns(result.fields, STATE_COLUMNS);
  return result.rows.map(stateOfArrayRow);
}

// ------------------------------------------------------------------ the engine's writes

/**
 * Customer ids (decimal text) as one PostgreSQL array literal for a `$n::bigint[]`
 * parameter: the driver escapes every element of a JS array, which for the engine's
 * batches of 10,000 cost more than the query's own work.
 */
export function bigintArrayLiteral(ids: readonly string[]): string {
  for (const id of ids) if (!/^-?\d{1,19}$/.test(id)) throw new RangeError(`not a customer id: ${JSON.stringify(id)}`);
  return `{${ids.join(",")}}`;
}

export interface MemberWrite {
  customerId: string;
  email: string;
  remoteProfileId: string | null;
  segments: string[];
  syncedHash: string;
  /** The Shopify write-back: the metafield values now held (key -> value). */
  heldValues?: Record<string, string> | null;
  /** The pass read no member row for this customer: written by a plain insert (writeMembers). */
  first?: boolean;
}

/**
 * The shop's member lock (ADR 0022): a pass's commit holds it shared while it writes member
 * rows, a customers/redact holds it exclusive while it turns member rows into erasures.
 */
export const memberLockKey = (shop: string) => `tenure:destination-members:${shop}`;

/**
 * Counts a deletion of the shop's customers, in the transaction that deletes their Customer
 * rows (customers/delete, customers/redact): every path that deletes Customer rows must call
 * it. A pass's commit skips its per-customer existence probes only while the count is the
 * one its run started from (writeMembers, ADR 0022). The row is locked until commit, so
 * deletions of one shop's customers commit one at a time.
 */
export async function countCustomerDeletion(tx: RawTx, shop: string): Promise<void> {
  await tx.$executeRaw`
    INSERT INTO "ShopCustomerDeletions" (shop, deletions) VALUES (${shop}, 1)
    ON CONFLICT (shop) DO UPDATE SET deletions = "ShopCustomerDeletions".deletions + 1`;
}

/** shop/redact: the shop's count goes with its other rows (its destinations and runs go in the same transaction). */
export async function forgetCustomerDeletions(tx: RawTx, shop: string): Promise<void> {
  await tx.$executeRaw`DELETE FROM "ShopCustomerDeletions" WHERE shop = ${shop}`;
}

const UNIQUE_VIOLATION = "23505";

/**
 * writeMembers' parameters: $1 destination, $2-$7 the writes' columns, $8 the shop. The text
 * columns as array literals built in one pass (arrayLiteral: the text pg would send, without
 * its two regular expressions an element).
 */
function memberWriteValues(destinationId: string, shop: string, writes: readonly MemberWrite[]): unknown[] {
  return [
    destinationId,
    bigintArrayLiteral(writes.map((w) => w.customerId)),
    arrayLiteral(writes.map((w) => w.email)),
    arrayLiteral(writes.map((w) => w.remoteProfileId)),
    arrayLiteral(writes.map((w) => w.segments.join(","))),
    arrayLiteral(writes.map((w) => w.syncedHash)),
    arrayLiteral(writes.map((w) => (w.heldValues ? JSON.stringify(w.heldValues) : null))),
    shop,
  ];
}

// The existence probes are LATERAL ... LIMIT 1, not EXISTS: an EXISTS the planner may run
// hashed, and it did whenever Customer's visibility map was not yet set (after an import,
// before autovacuum): every batch then read and hashed the shop's whole Customer table, a
// pass quadratic in the shop's size (ADR 0022).

/**
 * Any write: each customer probed once (no lock), members inserted or updated for the live
 * ones, erasures for the others. Arrays unnested, not one JSON document: json_to_recordset
 * saved Tenure 8 ms a batch of 10,000 and cost PostgreSQL 20 more.
 */
const MEMBER_WRITES_SQL = `
  WITH input AS MATERIALIZED (
    SELECT t.*, c.id IS NOT NULL AS live
    FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS t(id, email, remote_id, segments, hash, held)
    LEFT JOIN LATERAL (SELECT c.id FROM "Customer" AS c WHERE c.shop = $8 AND c.id = t.id LIMIT 1) AS c ON true),
  erased AS (
    INSERT INTO "DestinationErasure" ("destinationId", "customerId", email, "remoteProfileId")
    SELECT $1::bigint, id, email, remote_id FROM input WHERE NOT live)
  INSERT INTO "DestinationMember" ("destinationId", "customerId", email, "remoteProfileId", segments, "syncedHash", "syncedAt", "heldValues")
  SELECT $1::bigint, id, email, remote_id, string_to_array(segments, ','), hash, now() AT TIME ZONE 'UTC', held::jsonb
  FROM input WHERE live
  ON CONFLICT ("destinationId", "customerId") DO UPDATE SET email = EXCLUDED.email,
    "remoteProfileId" = COALESCE(EXCLUDED."remoteProfileId", "DestinationMember"."remoteProfileId"),
    segments = EXCLUDED.segments, "syncedHash" = EXCLUDED."syncedHash", "syncedAt" = EXCLUDED."syncedAt", "heldValues" = EXCLUDED."heldValues"`;

/**
 * First writes of customers read with their Customer row, when no customer of the shop was
 * deleted since the pass began (writeMembers): every one still has their row, so none is
 * probed, and the rows go in by binary COPY (memberCopyData), which spares both sides the
 * insert's array literals (ADR 0022).
 */
const FIRST_MEMBERS_COPY_COLUMNS = ["destinationId", "customerId", "email", "remoteProfileId", "segments", "syncedHash", "syncedAt", "heldValues"];
const FIRST_MEMBERS_COPY_SQL = `COPY "DestinationMember" (${FIRST_MEMBERS_COPY_COLUMNS.map((column) => `"${column}"`).join(", ")}) FROM STDIN (FORMAT binary)`;

/** First writes as FIRST_MEMBERS_COPY_SQL's rows, columns in FIRST_MEMBERS_COPY_COLUMNS' order; syncedAt is `at` (the insert's was the transaction's start). */
function memberCopyData(destinationId: string, writes: readonly MemberWrite[], at: Date): Buffer {
  // The fields every row shares, encoded once.
  const shared = new BinaryRows(32);
  shared.int8Text(destinationId);
  const destination = shared.done();
  const time = new BinaryRows(16);
  time.timestamp(at);
  const syncedAt = time.done();
  // Room for a row's longest text as COPY may need it (3 bytes a UTF-16 unit): no regrowth.
  const out = new BinaryRows(32 + writes.length * 320);
  out.header();
  for (const w of writes) {
    out.int16(FIRST_MEMBERS_COPY_COLUMNS.length);
    out.raw(destination);
    out.int8Text(w.customerId);
    out.text(w.email);
    out.text(w.remoteProfileId);
    out.textArray(w.segments);
    out.text(w.syncedHash);
    out.raw(syncedAt);
    out.jsonb(w.heldValues ? JSON.stringify(w.heldValues) : null);
  }
  out.trailer();
  return out.done();
}

/** First writes: the live customers inserted (the others are left to GONE_MEMBER_ERASURES_SQL). */
const FIRST_MEMBER_WRITES_SQL = `
  INSERT INTO "DestinationMember" ("destinationId", "customerId", email, "remoteProfileId", segments, "syncedHash", "syncedAt", "heldValues")
  SELECT $1::bigint, t.id, t.email, t.remote_id, string_to_array(t.segments, ','), t.hash, now() AT TIME ZONE 'UTC', t.held::jsonb
  FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS t(id, email, remote_id, segments, hash, held)
  CROSS JOIN LATERAL (SELECT 1 FROM "Customer" AS c WHERE c.shop = $8 AND c.id = t.id LIMIT 1) AS c`;

/** Erasures for the written customers with no Customer row ($5 the shop). */
const GONE_MEMBER_ERASURES_SQL = `
  INSERT INTO "DestinationErasure" ("destinationId", "customerId", email, "remoteProfileId")
  SELECT $1::bigint, t.id, t.email, t.remote_id FROM unnest($2::bigint[], $3::text[], $4::text[]) AS t(id, email, remote_id)
  LEFT JOIN LATERAL (SELECT true AS live FROM "Customer" AS c WHERE c.shop = $5 AND c.id = t.id LIMIT 1) AS c ON true
  WHERE c.live IS NULL`;

/**
 * What the destination now holds: members written (or deleted when they hold nothing), in
 * the pass's commit transaction, as its first statements.
 *
 * A customer redacted while the pass sent them has no Customer row any more: their write
 * becomes an erasure request instead, so the redaction still reaches the destination. The
 * shop's member lock (shared here, exclusive in recordDestinationErasures) orders the two:
 * a redaction that comes first has committed before the existence check below reads, and
 * one that comes after waits for this commit and then finds the member rows it must erase
 * (ADR 0022; this replaced a KEY SHARE lock on every written customer's row). First writes
 * skip the check while no customer of the shop was deleted since the run began
 * (countCustomerDeletion): a redaction that comes first has then moved the count.
 * The destination's row is held (KEY SHARE) until commit, so a disconnect or uninstall waits
 * for this write and then deletes the rows it wrote (DestinationMember has no foreign key);
 * a destination deleted first makes the write throw, as the foreign key's check did.
 */
export async function writeMembers(db: ClientQueryable, shop: string, destinationId: string, writes: readonly MemberWrite[], deletes: readonly string[]): Promise<void> {
  if (writes.length === 0 && deletes.length === 0) return;
  // The advisory lock before the row lock: waiting for a redaction while holding the
  // destination's row could close a cycle with an uninstall waiting for that row.
  await db.query(`SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))::text AS locked`, [memberLockKey(shop)]);
  // With the row, whether a customer of the shop may have been deleted since the pass's reads:
  // true only if the destination has a running run and the shop's deletion count is still the
  // one that run started from (startDestinationRun), read in this statement's snapshot, taken
  // under the member lock. A redaction (which deletes, then waits for this lock) has either
  // committed before it (the count moved: probes) or commits after this commit and erases what
  // it wrote; a customers/delete (no member lock) not committed by then is as one after the
  // commit, which the probing statement could not see either. Anything else probes.
  const destination = await db.query<{ clean: boolean }>(
    `SELECT COALESCE((SELECT bool_and(r."customerDeletionsAtStart" = COALESCE((SELECT s.deletions FROM "ShopCustomerDeletions" AS s WHERE s.shop = d.shop), 0))
                      FROM "DestinationRun" AS r WHERE r."destinationId" = d.id AND r.status = 'running'), false) AS clean
     FROM "Destination" AS d WHERE d.id = $1::bigint FOR KEY SHARE OF d`,
    [destinationId],
  );
  if ((destination.rowCount ?? 0) === 0) throw new Error(`destination ${destinationId} was deleted during the pass: its member rows are not written`);
  const firsts = writes.filter((w) => w.first === true);
  // And only writes with an email: a customer the engine sends to an email tool was read as
  // sendable, so with their Customer row. The Shopify write-back writes any scored customer
  // (no email), whose row may have gone before the run began: those are probed.
  const unprobed = destination.rows[0]!.clean && firsts.every((w) => w.email !== "");
  let others = firsts.length === 0 ? writes : writes.filter((w) => w.first !== true);
  if (firsts.length > 0) {
    // First writes (the pass read no member row: an initial sync's every customer) are plain
    // inserts, or a COPY when unprobed, without ON CONFLICT's speculative insertion and the
    // erasures' CTE, which cost PostgreSQL most of a commit's CPU beyond the insert itself
    // (ADR 0022). Only a pass writes member rows and one pass of a destination runs at a
    // time, so a row that appeared since the read should not exist; if one does, the
    // savepoint undoes the insert or COPY and every write goes through the general statement.
    await db.query("SAVEPOINT first_member_writes");
    try {
      if (unprobed) await copyBinary(db, FIRST_MEMBERS_COPY_SQL, memberCopyData(destinationId, firsts, new Date()));
      else {
        const values = memberWriteValues(destinationId, shop, firsts);
        const inserted = await db.query(FIRST_MEMBER_WRITES_SQL, values);
        // Customers gone since the read (redacted) were not inserted: they become erasures.
        if ((inserted.rowCount ?? 0) < firsts.length) await db.query(GONE_MEMBER_ERASURES_SQL, [...values.slice(0, 4), shop]);
      }
      await db.query("RELEASE SAVEPOINT first_member_writes");
    } catch (error) {
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
      await db.query("ROLLBACK TO SAVEPOINT first_member_writes");
      others = writes;
    }
  }
  if (others.length > 0) await db.query(MEMBER_WRITES_SQL, memberWriteValues(destinationId, shop, others));
  if (deletes.length > 0) {
    await db.query(`DELETE FROM "DestinationMember" WHERE "destinationId" = $1::bigint AND "customerId" = ANY($2::bigint[])`, [destinationId, bigintArrayLiteral(deletes)]);
  }
}

/** Outbox rows leave only if unchanged since they were read: a newer change stays for the next pass. */
export async function deleteOutboxIfUnchanged(db: Queryable, destinationId: string, entries: readonly OutboxEntry[]): Promise<number> {
  if (entries.length === 0) return 0;
  const result = await db.query(
    `DELETE FROM "DestinationOutbox" AS o USING unnest($2::bigint[], $3::timestamp[]) AS t(id, changed_at)
     WHERE o."destinationId" = $1::bigint AND o."customerId" = t.id AND o."changedAt" = t.changed_at`,
    [destinationId, entries.map((e) => e.customerId), entries.map((e) => e.changedAt)],
  );
  return result.rowCount ?? 0;
}

/**
 * Failed customers recorded with the destination's reason, in the pass's commit transaction.
 * Under the shop's member lock, shared, like writeMembers (ADR 0022): a redaction that comes
 * first has deleted the customer, whose failure (and email) is then not recorded; one that
 * comes after waits for this commit and deletes the rows it wrote.
 */
export async function recordDestinationFailures(
  db: Queryable,
  shop: string,
  destinationId: string,
  runId: string | null,
  failures: readonly { customerId: string; email: string | null; reason: string }[],
): Promise<void> {
  if (failures.length === 0) return;
  await db.query(`SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))::text AS locked`, [memberLockKey(shop)]);
  // The existence probe a LATERAL, as writeMembers' (a WHERE EXISTS was planned as a hash join over the shop's customers).
  await db.query(
    `INSERT INTO "DestinationFailure" ("destinationId", "runId", "customerId", email, reason)
     SELECT $1::bigint, $2::bigint, t.id, t.email, t.reason FROM unnest($3::bigint[], $4::text[], $5::text[]) AS t(id, email, reason)
     CROSS JOIN LATERAL (SELECT 1 FROM "Customer" AS c WHERE c.shop = $6 AND c.id = t.id LIMIT 1) AS c`,
    [destinationId, runId, failures.map((f) => f.customerId), failures.map((f) => f.email), failures.map((f) => f.reason), shop],
  );
}

// ------------------------------------------------------------------ runs

export type RunKind = "initial" | "full" | "changes";
export type RunStatus = "running" | "done" | "failed" | "paused";

/**
 * A new run, with the shop's customer deletions counted so far (countCustomerDeletion): one
 * statement, so the count is the one its snapshot sees, which every later read of the pass
 * sees too. writeMembers compares it with the count at commit (ADR 0022).
 */
export async function startDestinationRun(db: Queryable, destinationId: string, kind: RunKind, total: number | null): Promise<string> {
  const result = await db.query<{ id: string }>(
    `INSERT INTO "DestinationRun" ("destinationId", kind, total, "customerDeletionsAtStart")
     VALUES ($1::bigint, $2, $3, COALESCE((SELECT s.deletions FROM "ShopCustomerDeletions" AS s JOIN "Destination" AS d ON d.shop = s.shop WHERE d.id = $1::bigint), 0))
     RETURNING id::text AS id`,
    [destinationId, kind, total],
  );
  return result.rows[0]!.id;
}

export interface RunCounts {
  compared: number;
  sent: number;
  failed: number;
  leftOut: number;
}

export async function updateDestinationRun(db: Queryable, runId: string, counts: RunCounts): Promise<void> {
  await db.query(`UPDATE "DestinationRun" SET compared = $2, sent = $3, failed = $4, "leftOut" = $5 WHERE id = $1::bigint`, [
    runId,
    counts.compared,
    counts.sent,
    counts.failed,
    counts.leftOut,
  ]);
}

export async function finishDestinationRun(db: Queryable, runId: string, status: Exclude<RunStatus, "running">, counts: RunCounts, error: string | null = null): Promise<void> {
  await db.query(
    `UPDATE "DestinationRun" SET status = $2, compared = $3, sent = $4, failed = $5, "leftOut" = $6, error = $7, "finishedAt" = now() AT TIME ZONE 'UTC'
     WHERE id = $1::bigint`,
    [runId, status, counts.compared, counts.sent, counts.failed, counts.leftOut, error],
  );
}

/** What an interrupted run says on the Destinations page. */
export const INTERRUPTED_RUN_ERROR = "interrupted (the worker stopped mid-pass); the next pass continues";

/**
 * The destination's runs still 'running' fail as interrupted: called holding the pass lock,
 * so none of them is running any more (its worker died mid-pass). Returns how many.
 */
export async function failInterruptedRuns(db: Queryable, destinationId: string): Promise<number> {
  const result = await db.query(
    `UPDATE "DestinationRun" SET status = 'failed', error = $2, "finishedAt" = now() AT TIME ZONE 'UTC'
     WHERE "destinationId" = $1::bigint AND status = 'running'`,
    [destinationId, INTERRUPTED_RUN_ERROR],
  );
  return result.rowCount ?? 0;
}

/** Runs older than `days` go (their failures with them), except each destination's latest. */
export async function pruneDestinationRuns(db: Queryable, days: number): Promise<number> {
  const result = await db.query(
    `DELETE FROM "DestinationRun" AS r WHERE r."startedAt" < (now() AT TIME ZONE 'UTC') - make_interval(days => $1)
       AND r.id <> (SELECT max(l.id) FROM "DestinationRun" AS l WHERE l."destinationId" = r."destinationId")`,
    [days],
  );
  return result.rowCount ?? 0;
}

// ------------------------------------------------------------------ erasures

export interface ErasureRow {
  id: string;
  customerId: string;
  email: string;
  remoteProfileId: string | null;
}

export async function readErasures(db: Queryable, destinationId: string, limit: number): Promise<ErasureRow[]> {
  const result = await db.query<ErasureRow>(
    `SELECT id::text AS id, "customerId"::text AS "customerId", email, "remoteProfileId" FROM "DestinationErasure"
     WHERE "destinationId" = $1::bigint ORDER BY id LIMIT $2`,
    [destinationId, limit],
  );
  return result.rows;
}

export async function deleteErasures(db: Queryable, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await db.query(`DELETE FROM "DestinationErasure" WHERE id = ANY($1::bigint[])`, [ids]);
}

export async function noteErasureFailure(db: Queryable, ids: readonly string[], error: string): Promise<void> {
  if (ids.length > 0) await db.query(`UPDATE "DestinationErasure" SET attempts = attempts + 1, "lastError" = $2 WHERE id = ANY($1::bigint[])`, [ids, error]);
}

// ------------------------------------------------------------------ one pass at a time

/** Session advisory lock of one destination's passes (held on the pass's own connection). */
export async function tryLockDestination(db: Queryable, destinationId: string): Promise<boolean> {
  const result = await db.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(hashtextextended('destination:' || $1, 0)) AS locked`, [destinationId]);
  return result.rows[0]?.locked === true;
}

export async function unlockDestination(db: Queryable, destinationId: string): Promise<void> {
  await db.query(`SELECT pg_advisory_unlock(hashtextextended('destination:' || $1, 0))`, [destinationId]);
}
