import { type Queryable } from "~/db/pg.server";

// The ShopifySegment table: Tenure segments a merchant published as Shopify customer segments
// (app/destinations/shopify/segments.server.ts), with the name and query Shopify last
// accepted. shop/redact deletes the rows.

export interface ShopifySegmentRow {
  segmentKey: string;
  /** gid://shopify/Segment/<id> */
  shopifySegmentId: string;
  name: string;
  query: string;
  publishedAt: Date;
  updatedAt: Date;
}

const COLUMNS = `"segmentKey", "shopifySegmentId", name, query, "publishedAt", "updatedAt"`;

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
 * Records what Shopify accepted (a segmentCreate or a segmentUpdate). Nothing is written for a
 * redacted shop: a publish that finishes after shop/redact leaves no row.
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
       "updatedAt" = EXCLUDED."updatedAt"`,
    [shop, segment.segmentKey, segment.shopifySegmentId, segment.name, segment.query],
  );
}
