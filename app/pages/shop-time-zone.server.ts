import { readShopTimeZone } from "~/data/shop.server";
import { type Queryable } from "~/db/pg.server";

// The shop's time zone for the app layout, which hands it to every page (components/ShopTimeZone.tsx).

/** One primary-key read. */
export async function loadShopTimeZone(db: Queryable, shop: string): Promise<string> {
  return readShopTimeZone(db, shop);
}
