import { type Queryable } from "~/db/pg.server";
import { type Db } from "~/db/tx.server";

// The Shop table family. Writes driven by app webhooks (the install itself, Shop row and
// session, is written by the auth flow; these only ever mark what Shopify told us
// afterwards), and the facts the refit reads.

/**
 * app/uninstalled: marks the shop and removes its sessions. An event older than the
 * latest install (a retry arriving after a reinstall) changes nothing.
 */
export async function markShopUninstalled(db: Db, shop: string, at: Date): Promise<{ applied: boolean }> {
  const current = await db.shop.findUnique({ where: { domain: shop }, select: { installedAt: true } });
  if (current && current.installedAt > at) return { applied: false };
  await db.shop.upsert({
    where: { domain: shop },
    create: { domain: shop, installedAt: at, uninstalledAt: at },
    update: { uninstalledAt: at },
  });
  await db.session.deleteMany({ where: { shop } });
  return { applied: true };
}

/** app/scopes_update: the scopes the merchant granted now (also on the stored sessions). */
export async function updateShopScopes(db: Db, shop: string, scopes: string[]): Promise<void> {
  const scope = scopes.join(",");
  await db.shop.upsert({ where: { domain: shop }, create: { domain: shop, scopes: scope }, update: { scopes: scope } });
  await db.session.updateMany({ where: { shop }, data: { scope } });
}

/** Whether the shop's row exists (shop/redact deletes it last). */
export async function shopRowExists(db: Queryable, shop: string): Promise<boolean> {
  return ((await db.query(`SELECT 1 FROM "Shop" WHERE domain = $1`, [shop])).rowCount ?? 0) > 0;
}

/** Installed shops (not uninstalled), oldest first. */
export async function installedShops(db: Queryable): Promise<string[]> {
  const result = await db.query<{ domain: string }>(`SELECT domain FROM "Shop" WHERE "uninstalledAt" IS NULL ORDER BY "installedAt", domain`);
  return result.rows.map((row) => row.domain);
}
