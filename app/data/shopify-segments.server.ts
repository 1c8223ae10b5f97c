import { type Queryable } from "~/db/pg.server";

// The ShopifySegment table: Tenure segments a merchant published as Shopify customer segments
// (app/destinations/shopify/segments.server.ts), with the name and query Shopify last
// accepted, and Shopify's refusal of the last automatic update (lastError) if any. shop/redact
// deletes the rows.

export interface ShopifySegmentRow {
  segmentKey: string;
  /** gid://shopify/Segment/<id> */
  shopifySegmentId: string;
  name: string;
  query: string;
  publishedAt: Date;
  updatedAt: Date;
  /** Shopify's refusal of the last automatic update, as a sentence for the merchant; null: none since the last accepted one. */
  lastError: string | null;
  lastErrorAt: Date | null;
}

const COLUMNS = `"segmentKey", "shopifySegmentId", name, query, "publishedAt", "updatedAt", "lastError", "lastErrorAt"`;

/** The shop's published segments, by segment key. */
export async function readShopifySegments(db: Queryable, shop: string): Promise<ShopifySegmentRow[]> {
  const result = await db.query<ShopifySegmentRow>(`SELECT ${COLUMNS} FROM "ShopifySegment" WHERE shop = $1 ORDER BY "segmentKey"`, [shop]);
  return result.rows;
}

export async function readShopifySegment(db: Queryable, shop: string, segmentKey: string): Promise<ShopifySegmentRow | null> {
  const result = await db.query<ShopifySegmentRow>(`SELECT ${COLUMNS} FROM "ShopifySegment" WHERE shop = $1 AND "segmentKey" = $2`, [shop, segmentKey]);
  return result.rows[0] ?? null;
}

/**
 * Records what Shopify accepted (a segmentCreate or a segmentUpdate), which clears the last
 * refusal. Nothing is written for a redacted shop: a publish that finishes after shop/redact
 * leaves no row.
 */
export async function recordShopifySegment(
  db: Queryable,
  shop: string,
  segment: { segmentKey: string; shopifySegmentId: string; name: string; query: string },
): Promise<void> {
  await db.query(
    `INSERT INTO "ShopifySegment" (shop, "segmentKey", "shopifySegmentId", name, query, "publishedAt", "updatedAt")
     SELECT $1, $2, $3, $4, $5, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
     WHERE NOT EXISTS (SELECT 1 FROM "ShopRedaction" WHERE domain = $1)
     ON CONFLICT (shop, "segmentKey") DO UPDATE SET
       "shopifySegmentId" = EXCLUDED."shopifySegmentId",
       name = EXCLUDED.name,
       query = EXCLUDED.query,
       "updatedAt" = EXCLUDED."updatedAt",
       "lastError" = NULL,
       "lastErrorAt" = NULL`,
    [shop, segment.segmentKey, segment.shopifySegmentId, segment.name, segment.query],
  );
}

/**
 * Keeps Shopify's refusal of an automatic update on the published row (null clears it); the
 * name, query and id Shopify has stay as they were. A row that does not exist stays absent.
 */
export async function recordShopifySegmentError(db: Queryable, shop: string, segmentKey: string, message: string | null): Promise<void> {
  await db.query(
    `UPDATE "ShopifySegment" SET "lastError" = $3::text, "lastErrorAt" = CASE WHEN $3::text IS NULL THEN NULL ELSE now() AT TIME ZONE 'UTC' END
     WHERE shop = $1 AND "segmentKey" = $2`,
    [shop, segmentKey, message],
  );
}
