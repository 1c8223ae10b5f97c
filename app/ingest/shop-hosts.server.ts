import { readShopHosts } from "~/data/shop.server";
import { type RawTx } from "~/db/pg.server";

// The shop's own hosts on the order write path (marketing-source.ts sourceForShop), read once
// a minute per shop and process rather than once per delivery, like its currency
// (shop-currency.server.ts). They change only when the merchant adds a domain, read at the
// next authentication, which also relabels the orders stored meanwhile (upsertInstalledShop).

const TTL_MS = 60_000;
/** Shops remembered at most: past it the cache starts over rather than grow. */
const MAX_SHOPS = 10_000;

const cache = new Map<string, { hosts: string[]; expiresAt: number }>();

/** The shop's own hosts (empty without a row, or before they were read). */
export async function shopHosts(db: Pick<RawTx, "$queryRaw">, shop: string): Promise<string[]> {
  const now = Date.now();
  const cached = cache.get(shop);
  if (cached && cached.expiresAt > now) return cached.hosts;
  const hosts = await readShopHosts(db, shop);
  if (cache.size >= MAX_SHOPS) cache.clear();
  cache.set(shop, { hosts, expiresAt: now + TTL_MS });
  return hosts;
}
