import { type PrismaClient } from "@prisma/client";
import type pg from "pg";
import { type Queryable, type RawTx } from "~/db/pg.server";
import { type ShopAdmission } from "./shop-admission.server";

// The WebhookDelivery table family: the intake stores a delivery, the ingest job locks and
// marks it, the sweeper finds the ones left PENDING. Every statement on the table from the
// delivery's life is here (redaction's scrubbing and deletes stay with the redaction,
// app/ingest/gdpr.server.ts; the sync page's reads at the end).

export interface DeliveryRow {
  shop: string;
  webhookId: string;
  eventId: string | null;
  topic: string;
  apiVersion: string | null;
  triggeredAt: Date | null;
  /** The body as JSON text, stored as jsonb; null when the body is not JSON. */
  payloadJson: string | null;
  /** The body as received, kept only when it could not be stored as JSON. */
  rawBody: string | null;
  status: "PENDING" | "FAILED";
  error: string | null;
}

// Timestamps go in as UTC text cast to timestamp(3), the way Prisma stores DateTime, so
// the session time zone cannot shift them.
const INSERT_DELIVERY = `
  INSERT INTO "WebhookDelivery"
    (shop, "webhookId", "eventId", topic, "apiVersion", "triggeredAt", payload, "rawBody", status, error)
  VALUES ($1, $2, $3, $4, $5, $6::timestamp(3), $7::jsonb, $8, $9::"DeliveryStatus", $10)
  ON CONFLICT (shop, "webhookId") DO NOTHING
  RETURNING id::text AS id`;

/** Inserts the delivery; returns its id, or null when this shop + webhook id is already stored. */
export async function storeDelivery(pool: pg.Pool, row: DeliveryRow): Promise<string | null> {
  const result = await pool.query<{ id: string }>({
    name: "tenure-intake-insert-delivery",
    text: INSERT_DELIVERY,
    values: [
      row.shop,
      row.webhookId,
      row.eventId,
      row.topic,
      row.apiVersion,
      row.triggeredAt?.toISOString() ?? null,
      row.payloadJson,
      row.rawBody,
      row.status,
      row.error,
    ],
  });
  return result.rows[0]?.id ?? null;
}

/** A delivery as the ingest job reads it, under its row lock. */
export interface LockedDelivery {
  id: bigint;
  shop: string;
  topic: string;
  payload: unknown;
  triggeredAt: Date | null;
  receivedAt: Date;
  status: string;
  customerId: bigint | null;
  /** The shop's admission now, read authoritatively under the lock (ShopAdmission, shop-admission.server.ts). */
  admission: ShopAdmission;
}

/**
 * Loads a delivery and locks its row until the transaction ends: two jobs for one delivery
 * run one after the other. Reads the shop's admission in the same statement (two
 * primary-key probes, as readShopAdmission): the intake's view may be seconds old.
 */
export async function lockDelivery(tx: RawTx, deliveryId: bigint): Promise<LockedDelivery | undefined> {
  const [delivery] = await tx.$queryRaw<LockedDelivery[]>`
    SELECT d.id, d.shop, d.topic, d.payload, d."triggeredAt", d."receivedAt", d.status::text AS status, d."customerId",
           CASE WHEN EXISTS (SELECT 1 FROM "ShopRedaction" AS r WHERE r.domain = d.shop) THEN 'redacted'
                ELSE COALESCE((SELECT CASE WHEN s."uninstalledAt" IS NULL THEN 'installed' ELSE 'uninstalled' END
                               FROM "Shop" AS s WHERE s.domain = d.shop), 'unknown') END AS admission
    FROM "WebhookDelivery" AS d WHERE d.id = ${deliveryId}::bigint FOR UPDATE OF d`;
  return delivery;
}

/**
 * A locked delivery not applied (its shop redacted or not installed): PROCESSED with the
 * reason, its payload removed, and one more in the shop's DroppedDelivery count.
 */
export async function markDeliveryDropped(tx: RawTx, deliveryId: bigint, reason: string): Promise<void> {
  await tx.$executeRaw`
    WITH dropped AS (
      UPDATE "WebhookDelivery"
      SET status = 'PROCESSED', "processedAt" = now() AT TIME ZONE 'UTC', attempts = attempts + 1,
          error = ${`dropped: ${reason}`}::text, payload = NULL, "rawBody" = NULL, "customerId" = NULL
      WHERE id = ${deliveryId}::bigint
      RETURNING shop, topic)
    INSERT INTO "DroppedDelivery" (shop, topic, reason, count, "lastAt")
    SELECT shop, topic, ${reason}::text, 1, now() AT TIME ZONE 'UTC' FROM dropped
    ON CONFLICT (shop, topic, reason) DO UPDATE SET count = "DroppedDelivery".count + 1, "lastAt" = EXCLUDED."lastAt"`;
}

/**
 * Marks a locked delivery PROCESSED with the customer it concerned; `scrubNote` (a
 * redaction's) empties its payload. A row shop/redact deleted itself is simply not there.
 */
export async function markDeliveryProcessed(
  tx: RawTx,
  deliveryId: bigint,
  result: { customerId: bigint | null; scrubNote: string | null },
): Promise<void> {
  const scrub = result.scrubNote !== null;
  await tx.$executeRaw`
    UPDATE "WebhookDelivery"
    SET status = 'PROCESSED', "processedAt" = ${new Date()}::timestamp, "customerId" = ${result.customerId}::bigint,
        attempts = attempts + 1, error = ${result.scrubNote}::text,
        payload = CASE WHEN ${scrub}::boolean THEN NULL ELSE payload END,
        "rawBody" = CASE WHEN ${scrub}::boolean THEN NULL ELSE "rawBody" END
    WHERE id = ${deliveryId}::bigint`;
}

/** A payload of the wrong shape: FAILED with the reason, kept for a person to read. */
export async function markDeliveryFailed(db: PrismaClient, deliveryId: bigint, error: string): Promise<void> {
  await db.webhookDelivery.updateMany({
    where: { id: deliveryId, status: "PENDING" },
    data: { status: "FAILED", error, attempts: { increment: 1 } },
  });
}

/** A transient failure: the row stays PENDING with the reason, for the retry or the sweeper. */
export async function noteDeliveryRetry(db: PrismaClient, deliveryId: bigint, error: string): Promise<void> {
  await db.webhookDelivery.updateMany({
    where: { id: deliveryId, status: "PENDING" },
    data: { attempts: { increment: 1 }, error: `will retry: ${error}` },
  });
}

/**
 * PENDING deliveries that have failed `maxAttempts` times: FAILED, keeping their last error,
 * so a delivery that can never succeed stops being retried and shows on the sync page.
 */
export async function giveUpOnDeliveries(db: PrismaClient, maxAttempts: number): Promise<bigint[]> {
  const rows = await db.$queryRaw<{ id: bigint }[]>`
    UPDATE "WebhookDelivery"
    SET status = 'FAILED', error = 'gave up after ' || attempts || ' attempts: ' || COALESCE(error, 'no error recorded')
    WHERE status = 'PENDING' AND attempts >= ${maxAttempts}::int
    RETURNING id`;
  return rows.map((row) => row.id);
}

/** Deliveries still PENDING this long after they arrived, oldest first. */
export async function stalePendingDeliveryIds(db: PrismaClient, olderThanSeconds: number, limit: number): Promise<bigint[]> {
  const rows = await db.$queryRaw<{ id: bigint }[]>`
    SELECT id FROM "WebhookDelivery"
    WHERE status = 'PENDING'
      AND "receivedAt" < (now() AT TIME ZONE 'UTC') - make_interval(secs => ${olderThanSeconds}::int)
    ORDER BY "receivedAt", id
    LIMIT ${limit}::int`;
  return rows.map((row) => row.id);
}

// ------------------------------------------------------------------ the sync page's reads

/**
 * The last delivery received and how many wait or failed, counts capped at `cap`: one
 * backward index probe per status ((shop, status, receivedAt)).
 */
export async function readDeliveryCounts(db: Queryable, shop: string, cap: number) {
  const result = await db.query<{ last: Date | null; pending: number; failed: number }>(
    `SELECT GREATEST(
                (SELECT max("receivedAt") FROM "WebhookDelivery" WHERE shop = $1 AND status = 'PENDING'),
                (SELECT max("receivedAt") FROM "WebhookDelivery" WHERE shop = $1 AND status = 'PROCESSED'),
                (SELECT max("receivedAt") FROM "WebhookDelivery" WHERE shop = $1 AND status = 'FAILED')) AS last,
              (SELECT count(*)::int FROM (SELECT 1 FROM "WebhookDelivery" WHERE shop = $1 AND status = 'PENDING' LIMIT $2) AS p) AS pending,
              (SELECT count(*)::int FROM (SELECT 1 FROM "WebhookDelivery" WHERE shop = $1 AND status = 'FAILED' LIMIT $2) AS f) AS failed`,
    [shop, cap],
  );
  return result.rows[0];
}

/** The shop's latest `limit` failed deliveries, newest first. */
export async function readFailedDeliveries(db: Queryable, shop: string, limit: number) {
  const result = await db.query<{ id: bigint; topic: string; receivedAt: Date; attempts: number; error: string | null }>(
    `SELECT id, topic, "receivedAt", attempts, error FROM "WebhookDelivery"
       WHERE shop = $1 AND status = 'FAILED' ORDER BY "receivedAt" DESC, id DESC LIMIT $2`,
    [shop, limit],
  );
  return result.rows;
}
