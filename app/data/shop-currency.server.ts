import { type RawTx } from "~/db/pg.server";

// The Shop table family: the shop's currency, which every stored amount is in.

/** "Shop".currency (set from Shopify at install), or null when the shop has no row. */
export async function readShopCurrency(db: Pick<RawTx, "$queryRaw">, shop: string): Promise<string | null> {
  const rows = await db.$queryRaw<{ currency: string }[]>`SELECT currency FROM "Shop" WHERE domain = ${shop}`;
  return rows[0]?.currency ?? null;
}
