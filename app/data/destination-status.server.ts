import { type Queryable } from "~/db/pg.server";

// What the Integrations page and the segment page show of a shop's destinations (email
// tools): each destination's state, the segments it receives, its last and running sync
// passes, how many changes wait, the newest refused profiles and the deletions still to
// request. Columns are always named: the sealed API key ("sealedCredentials") never leaves
// the database through these reads. Every query is scoped by shop, served by an index and
// LIMITed (a shop has at most one destination per kind), so the cost does not grow with
// the shop's size.

/** Counts stop here ("1,000+"): the page says how much waits without counting a million rows. */
export const DESTINATION_COUNT_CAP = 1_000;
/** Refused profiles listed per destination, newest first. */
export const DESTINATION_FAILURES_SHOWN = 20;

export interface DestinationRunRow {
  id: string;
  kind: string;
  status: string;
  total: number | null;
  compared: number;
  sent: number;
  failed: number;
  leftOut: number;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

export interface DestinationFailureRow {
  email: string | null;
  reason: string;
  at: Date;
}

export interface DestinationStatusRow {
  id: string;
  kind: string;
  /** 'active' | 'paused' */
  status: string;
  notice: string | null;
  /** Public facts only: account name, Mailchimp data centre, audience id and name. */
  account: Record<string, unknown>;
  consentScope: string;
  connectedAt: Date;
  updatedAt: Date;
  /** Segment keys received, with the remote list or tag name once created. */
  segments: { segmentKey: string; remoteName: string | null }[];
  /** The newest pass that ended (done, failed or paused). */
  lastRun: DestinationRunRow | null;
  /** The newest first or full sync that ended: its counts cover every customer (a pass of changes only those it touched). */
  lastFullRun: DestinationRunRow | null;
  /** The newest pass still running. */
  runningRun: DestinationRunRow | null;
  /** Customers waiting in the outbox, at most DESTINATION_COUNT_CAP + 1. */
  pendingChanges: number;
  /** Deletions (customer redactions) not yet confirmed by the tool, at most DESTINATION_COUNT_CAP + 1. */
  pendingErasures: number;
  failures: DestinationFailureRow[];
}

/** A run row as the status queries read it, with the destination it belongs to. */
type RunOf = DestinationRunRow & { destinationId: string };

const RUN_COLUMNS = `r.id::text AS id, r.kind, r.status, r.total, r.compared, r.sent, r.failed, r."leftOut", r.error, r."startedAt", r."finishedAt"`;

/** Every destination of the shop (Klaviyo, then Mailchimp), with what the page shows of each. */
export async function readDestinationStatuses(db: Queryable, shop: string): Promise<DestinationStatusRow[]> {
  const { rows: destinations } = await db.query<{
    id: string;
    kind: string;
    status: string;
    notice: string | null;
    account: Record<string, unknown> | null;
    consentScope: string;
    connectedAt: Date;
    updatedAt: Date;
  }>(
    `SELECT id::text AS id, kind, status, notice, account, "consentScope", "connectedAt", "updatedAt"
       FROM "Destination" WHERE shop = $1 ORDER BY kind`,
    [shop],
  );
  if (destinations.length === 0) return [];
  const ids = destinations.map((d) => d.id);
  const [segments, lastRuns, lastFullRuns, runningRuns, pending, erasures, failures] = await Promise.all([
    db.query<{ destinationId: string; segmentKey: string; remoteName: string | null }>(
      `SELECT "destinationId"::text AS "destinationId", "segmentKey", "remoteName"
         FROM "DestinationSegment" WHERE "destinationId" = ANY($1::bigint[]) ORDER BY "addedAt", "segmentKey"`,
      [ids],
    ),
    db.query<RunOf>(
      `SELECT d.id::text AS "destinationId", ${RUN_COLUMNS}
         FROM unnest($1::bigint[]) AS d(id)
         CROSS JOIN LATERAL (
           SELECT * FROM "DestinationRun" r WHERE r."destinationId" = d.id AND r.status <> 'running'
           ORDER BY r."startedAt" DESC, r.id DESC LIMIT 1
         ) r`,
      [ids],
    ),
    db.query<RunOf>(
      `SELECT d.id::text AS "destinationId", ${RUN_COLUMNS}
         FROM unnest($1::bigint[]) AS d(id)
         CROSS JOIN LATERAL (
           SELECT * FROM "DestinationRun" r WHERE r."destinationId" = d.id AND r.status <> 'running' AND r.kind <> 'changes'
           ORDER BY r."startedAt" DESC, r.id DESC LIMIT 1
         ) r`,
      [ids],
    ),
    db.query<RunOf>(
      `SELECT d.id::text AS "destinationId", ${RUN_COLUMNS}
         FROM unnest($1::bigint[]) AS d(id)
         CROSS JOIN LATERAL (
           SELECT * FROM "DestinationRun" r WHERE r."destinationId" = d.id AND r.status = 'running'
           ORDER BY r."startedAt" DESC, r.id DESC LIMIT 1
         ) r`,
      [ids],
    ),
    db.query<{ destinationId: string; count: number }>(
      `SELECT d.id::text AS "destinationId",
              (SELECT count(*)::int FROM (SELECT 1 FROM "DestinationOutbox" o WHERE o."destinationId" = d.id LIMIT $2) capped) AS count
         FROM unnest($1::bigint[]) AS d(id)`,
      [ids, DESTINATION_COUNT_CAP + 1],
    ),
    db.query<{ destinationId: string; count: number }>(
      `SELECT d.id::text AS "destinationId",
              (SELECT count(*)::int FROM (SELECT 1 FROM "DestinationErasure" e WHERE e."destinationId" = d.id LIMIT $2) capped) AS count
         FROM unnest($1::bigint[]) AS d(id)`,
      [ids, DESTINATION_COUNT_CAP + 1],
    ),
    db.query<DestinationFailureRow & { destinationId: string }>(
      `SELECT d.id::text AS "destinationId", f.email, f.reason, f.at
         FROM unnest($1::bigint[]) AS d(id)
         CROSS JOIN LATERAL (
           SELECT email, reason, at FROM "DestinationFailure" f WHERE f."destinationId" = d.id
           ORDER BY f.at DESC, f.id DESC LIMIT $2
         ) f
         ORDER BY f.at DESC`,
      [ids, DESTINATION_FAILURES_SHOWN],
    ),
  ]);
  const byDestination = <T extends { destinationId: string }>(rows: T[], id: string) => rows.filter((row) => row.destinationId === id);
  const run = (rows: RunOf[], id: string): DestinationRunRow | null => {
    const found = rows.find((row) => row.destinationId === id);
    if (!found) return null;
    const { destinationId: _destinationId, ...rest } = found;
    return rest;
  };
  return destinations.map((d) => ({
    id: d.id,
    kind: d.kind,
    status: d.status,
    notice: d.notice,
    account: d.account ?? {},
    consentScope: d.consentScope,
    connectedAt: d.connectedAt,
    updatedAt: d.updatedAt,
    segments: byDestination(segments.rows, d.id).map(({ segmentKey, remoteName }) => ({ segmentKey, remoteName })),
    lastRun: run(lastRuns.rows, d.id),
    lastFullRun: run(lastFullRuns.rows, d.id),
    runningRun: run(runningRuns.rows, d.id),
    pendingChanges: pending.rows.find((row) => row.destinationId === d.id)?.count ?? 0,
    pendingErasures: erasures.rows.find((row) => row.destinationId === d.id)?.count ?? 0,
    failures: byDestination(failures.rows, d.id).map(({ email, reason, at }) => ({ email, reason, at })),
  }));
}

export interface SegmentDestinationRow {
  kind: string;
  status: string;
  notice: string | null;
  /** The list (Klaviyo) or tag (Mailchimp) name once created; null before the first pass. */
  remoteName: string | null;
  /** When the newest pass that completed ended: what the tool holds is at least that recent. */
  lastSentAt: Date | null;
  /** A pass is running now. */
  running: boolean;
}

/** The destinations a segment is synced to (segment page's "Synced to"). */
export async function destinationsOfSegment(db: Queryable, shop: string, segmentKey: string): Promise<SegmentDestinationRow[]> {
  const { rows } = await db.query<SegmentDestinationRow>(
    `SELECT d.kind, d.status, d.notice, s."remoteName",
            (SELECT r."finishedAt" FROM "DestinationRun" r WHERE r."destinationId" = d.id AND r.status = 'done'
              ORDER BY r."startedAt" DESC, r.id DESC LIMIT 1) AS "lastSentAt",
            EXISTS (SELECT 1 FROM "DestinationRun" r WHERE r."destinationId" = d.id AND r.status = 'running') AS running
       FROM "Destination" d
       JOIN "DestinationSegment" s ON s."destinationId" = d.id AND s."segmentKey" = $2
      WHERE d.shop = $1
      ORDER BY d.kind`,
    [shop, segmentKey],
  );
  return rows;
}
