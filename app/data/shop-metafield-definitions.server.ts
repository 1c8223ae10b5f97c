import { type Queryable } from "~/db/pg.server";

// The ShopMetafieldDefinitions table: the last time Tenure made sure of its customer
// metafield definitions on a shop (app/worker/registry.server.ts, on install and on every
// worker start), whether every definition was in place, why not, and the namespace "$app"
// resolved to, which Shopify segment queries name. shop/redact deletes the row.

export interface MetafieldDefinitionsCheck {
  shop: string;
  /** null when Shopify showed none of Tenure's definitions (none could be created). */
  namespace: string | null;
  complete: boolean;
  /** Shopify's refusals or the error, in one text; null when complete. */
  problem: string | null;
}

// A known namespace is kept when an attempt learns none (Shopify unreachable). Nothing is
// written for a redacted shop: a check that finishes after shop/redact leaves no row.
const RECORD_CHECK = `
  INSERT INTO "ShopMetafieldDefinitions" (shop, namespace, "checkedAt", "completeAt", problem)
  SELECT $1, $2, now() AT TIME ZONE 'UTC', CASE WHEN $3::boolean THEN now() AT TIME ZONE 'UTC' END, $4
  WHERE NOT EXISTS (SELECT 1 FROM "ShopRedaction" WHERE domain = $1)
  ON CONFLICT (shop) DO UPDATE SET
    namespace = COALESCE(EXCLUDED.namespace, "ShopMetafieldDefinitions".namespace),
    "checkedAt" = EXCLUDED."checkedAt",
    "completeAt" = COALESCE(EXCLUDED."completeAt", "ShopMetafieldDefinitions"."completeAt"),
    problem = EXCLUDED.problem`;

export async function recordMetafieldDefinitionsCheck(db: Queryable, check: MetafieldDefinitionsCheck): Promise<void> {
  await db.query(RECORD_CHECK, [check.shop, check.namespace, check.complete, check.problem]);
}

export interface ShopMetafieldDefinitionsRow {
  namespace: string | null;
  checkedAt: Date;
  completeAt: Date | null;
  problem: string | null;
}

/** The shop's last check, or null before the first. */
export async function readShopMetafieldDefinitions(db: Queryable, shop: string): Promise<ShopMetafieldDefinitionsRow | null> {
  const result = await db.query<ShopMetafieldDefinitionsRow>(
    `SELECT namespace, "checkedAt", "completeAt", problem FROM "ShopMetafieldDefinitions" WHERE shop = $1`,
    [shop],
  );
  return result.rows[0] ?? null;
}
