import { readShopCurrency } from "~/data/shop-currency.server";
import { type RawTx } from "~/db/pg.server";

// The shop's currency on the write path, read once a minute per shop and process rather
// than once per delivery. A shop's currency changes only through a merchant's settings
// (then upsertInstalledShop on the next authentication), so a minute's lag is harmless.

const TTL_MS = 60_000;
/** Shops remembered at most: past it the cache starts over rather than grow. */
const MAX_SHOPS = 10_000;

const cache = new Map<string, { currency: string | null; expiresAt: number }>();

/** The shop's currency, or null when the shop has no row (its amounts cannot be checked). */
export async function shopCurrency(db: Pick<RawTx, "$queryRaw">, shop: string): Promise<string | null> {
  const now = Date.now();
  const cached = cache.get(shop);
  if (cached && cached.expiresAt > now) return cached.currency;
  const currency = await readShopCurrency(db, shop);
  if (cache.size >= MAX_SHOPS) cache.clear();
  cache.set(shop, { currency, expiresAt: now + TTL_MS });
  return currency;
}
