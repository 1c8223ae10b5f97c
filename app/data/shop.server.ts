import { type Queryable } from "~/db/pg.server";
import { type PrismaClient } from "@prisma/client";
import { type Db } from "~/db/tx.server";
import { type RawTx } from "~/db/pg.server";
import { ownHostReferralLabels } from "~/lib/own-hosts";

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

/** The shop's time zone (IANA name, from Shopify); UTC when the shop has no row. */
export async function readShopTimeZone(db: Queryable, shop: string): Promise<string> {
  const result = await db.query<{ timezone: string }>(`SELECT timezone FROM "Shop" WHERE domain = $1`, [shop]);
  return result.rows[0]?.timezone || "UTC";
}

/** Installed shops (not uninstalled), oldest first. */
export async function installedShops(db: Queryable): Promise<string[]> {
  const result = await db.query<{ domain: string }>(`SELECT domain FROM "Shop" WHERE "uninstalledAt" IS NULL ORDER BY "installedAt", domain`);
  return result.rows.map((row) => row.domain);
}

// One statement: the redaction tombstone never goes without the install. Hosts: null keeps the stored ones (not read this time).
const INSTALL_SHOP = `
  WITH reinstalled AS (DELETE FROM "ShopRedaction" WHERE domain = $1)
  INSERT INTO "Shop" (domain, currency, timezone, scopes, hosts, "installedAt", "uninstalledAt", "updatedAt")
  VALUES ($1, $2, $3, $4, COALESCE($5::text[], '{}'), now(), NULL, now())
  ON CONFLICT (domain) DO UPDATE SET
    currency = EXCLUDED.currency,
    timezone = EXCLUDED.timezone,
    scopes = COALESCE(EXCLUDED.scopes, "Shop".scopes),
    hosts = COALESCE($5::text[], "Shop".hosts),
    "installedAt" = CASE WHEN "Shop"."uninstalledAt" IS NOT NULL THEN now() ELSE "Shop"."installedAt" END,
    "uninstalledAt" = NULL,
    "updatedAt" = now()`;

export interface ShopInstallRow {
  shop: string;
  currency: string;
  timezone: string;
  scopes: string | null;
  /** The shop's own hosts (primary and other domains); null or absent: not read, the stored ones stand. */
  hosts?: string[] | null;
}

/**
 * The Shop row as authentication leaves it: installed (again), with Shopify's currency,
 * time zone, scopes and hosts, and any redaction tombstone removed (ADR 0013). Removing it is
 * safe: Shopify sends shop/redact at least 48 hours after the uninstall, when its retries
 * of the shop's older deliveries have ended, so none of them can still arrive. Orders stored
 * with a referral from one of the shop's own hosts become "direct" (relabelOwnHostReferrals).
 */
export async function upsertInstalledShop(client: Pick<PrismaClient, "$executeRawUnsafe">, install: ShopInstallRow): Promise<void> {
  await client.$executeRawUnsafe(INSTALL_SHOP, install.shop, install.currency, install.timezone, install.scopes, install.hosts ?? null);
  if (install.hosts && install.hosts.length > 0) {
    await client.$executeRawUnsafe(RELABEL_OWN_HOST_REFERRALS, install.shop, ownHostReferralLabels(install.hosts));
  }
}

// Orders stored before the shop's hosts were known, or before a domain was added: a referral
// from its own host is the buyer moving within the store (marketing-source.ts sourceForShop).
const RELABEL_OWN_HOST_REFERRALS = `UPDATE "Order" SET "marketingSource" = 'direct' WHERE shop = $1 AND "marketingSource" = ANY($2::text[])`;

/** The shop's own hosts as stored (empty without a row or before its first authentication since they are read). */
export async function readShopHosts(db: Pick<RawTx, "$queryRaw">, shop: string): Promise<string[]> {
  const rows = await db.$queryRaw<{ hosts: string[] }[]>`SELECT hosts FROM "Shop" WHERE domain = ${shop}`;
  return rows[0]?.hosts ?? [];
}

/**
 * The same install from a pg connection: the demo, the benchmarks and the tests install
 * their shops this way (no Shopify auth flow there), so their deliveries are admitted.
 */
export async function installShop(db: Queryable, shop: string, settings: Partial<Omit<ShopInstallRow, "shop">> = {}): Promise<void> {
  await db.query(INSTALL_SHOP, [shop, settings.currency ?? "USD", settings.timezone ?? "UTC", settings.scopes ?? null, settings.hosts ?? null]);
  if (settings.hosts && settings.hosts.length > 0) await db.query(RELABEL_OWN_HOST_REFERRALS, [shop, ownHostReferralLabels(settings.hosts)]);
}

/** Shops to reconcile: installed ones with an offline session to call Shopify with. */
export async function shopsToReconcile(db: Pick<PrismaClient, "$queryRaw">): Promise<string[]> {
  const rows = await db.$queryRaw<{ domain: string }[]>`
    SELECT s.domain FROM "Shop" AS s
    WHERE s."uninstalledAt" IS NULL
      AND EXISTS (SELECT 1 FROM "Session" AS x WHERE x.shop = s.domain AND NOT x."isOnline")
    ORDER BY s.domain`;
  return rows.map((row) => row.domain);
}
