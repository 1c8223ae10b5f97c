import { type Queryable } from "~/db/pg.server";
import { type Db } from "~/db/tx.server";

// The ShopRedaction and DroppedDelivery tables: whether a shop's deliveries are admitted,
// and how many were acknowledged but not applied (ADR 0013).

/** installed: a Shop row, not uninstalled · uninstalled: its row says so · redacted: shop/redact ran · unknown: never installed. */
export type ShopAdmission = "installed" | "uninstalled" | "redacted" | "unknown";

// Two primary-key probes in one statement; the tombstone wins over a row a late write left.
// lockDelivery (webhook-deliveries.server.ts) folds the same verdict into the processing's lock.
const READ_ADMISSION = `
  SELECT CASE WHEN EXISTS (SELECT 1 FROM "ShopRedaction" WHERE domain = $1) THEN 'redacted'
              ELSE (SELECT CASE WHEN "uninstalledAt" IS NULL THEN 'installed' ELSE 'uninstalled' END FROM "Shop" WHERE domain = $1)
         END AS admission`;

export async function readShopAdmission(db: Queryable, shop: string): Promise<ShopAdmission> {
  const result = await db.query<{ admission: ShopAdmission | null }>({ name: "tenure-read-shop-admission", text: READ_ADMISSION, values: [shop] });
  return result.rows[0]?.admission ?? "unknown";
}

/** shop/redact: remembered after every other row of the shop is gone. */
export async function recordShopRedaction(db: Db, shop: string): Promise<void> {
  await db.$executeRaw`
    INSERT INTO "ShopRedaction" (domain, "redactedAt") VALUES (${shop}, now() AT TIME ZONE 'UTC')
    ON CONFLICT (domain) DO UPDATE SET "redactedAt" = EXCLUDED."redactedAt"`;
}

/** A delivery acknowledged but not applied: one more in its (shop, topic, reason) row. */
export async function countDroppedDelivery(db: Queryable, drop: { shop: string; topic: string; reason: string }): Promise<void> {
  await db.query({
    name: "tenure-count-dropped-delivery",
    text: `INSERT INTO "DroppedDelivery" (shop, topic, reason, count, "lastAt") VALUES ($1, $2, $3, 1, now() AT TIME ZONE 'UTC')
           ON CONFLICT (shop, topic, reason) DO UPDATE SET count = "DroppedDelivery".count + 1, "lastAt" = EXCLUDED."lastAt"`,
    values: [drop.shop, drop.topic, drop.reason],
  });
}

/** The shop's drop counts, most recent first (the sync page). */
export async function readDroppedDeliveries(db: Queryable, shop: string, limit: number) {
  const result = await db.query<{ topic: string; reason: string; count: string; lastAt: Date }>(
    `SELECT topic, reason, count::text AS count, "lastAt" FROM "DroppedDelivery" WHERE shop = $1 ORDER BY "lastAt" DESC, topic LIMIT $2`,
    [shop, limit],
  );
  return result.rows.map((row) => ({ ...row, count: Number(row.count) }));
}
