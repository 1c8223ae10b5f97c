import { type RawTx } from "~/db/pg.server";

/**
 * The shop's import lock. Every one-by-one write (webhooks, redaction) holds it SHARED, taken
 * before any row lock, so they run side by side; a batch (backfill, reconciliation) holds it
 * EXCLUSIVE instead of one lock per row, which fills PostgreSQL's shared lock table on a
 * large batch (ADR 0007); so do product and cost deliveries, which may recost every order of
 * a product (costs.server.ts). A batch and a delivery of one shop therefore never interleave: the
 * batch's set-based net and tombstone checks see every committed write, and no lock cycle
 * between a batch's rows and a delivery's rows can form. A delivery waits at most one batch.
 */
export const shopImportLockKey = (shop: string) => `tenure:shop-import:${shop}`;

/** The batch side of the import lock: waits for in-flight deliveries of the shop, holds off new ones until commit. */
export async function lockShopExclusive(tx: RawTx, shop: string): Promise<void> {
  await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtextextended(${shopImportLockKey(shop)}, 0))::text AS locked`;
}

/**
 * Transaction-scoped advisory locks: the shop's import lock (shared) first, then the row
 * keys in one global order (by hash), so two transactions can never wait on each other in a
 * cycle. Callers take every order lock they need first, then every customer lock: never an
 * order lock after a customer lock. Taking the shared shop lock again is free (already held).
 */
export async function lockKeys(tx: RawTx, shop: string, keys: string[]): Promise<void> {
  await tx.$queryRaw`
    SELECT count(CASE WHEN wanted.shop_lock THEN pg_advisory_xact_lock_shared(wanted.h) ELSE pg_advisory_xact_lock(wanted.h) END)::int AS locked
    FROM (SELECT true AS shop_lock, hashtextextended(${shopImportLockKey(shop)}, 0) AS h
          UNION ALL
          SELECT DISTINCT false, hashtextextended(k, 0) FROM unnest(${keys}::text[]) AS k
          ORDER BY 1 DESC, 2) AS wanted`;
}

export const orderLockKey = (shop: string, id: bigint) => `tenure:order:${shop}:${id}`;
export const customerLockKey = (shop: string, id: bigint) => `tenure:customer:${shop}:${id}`;

export async function lockOrders(tx: RawTx, shop: string, ids: Iterable<bigint>): Promise<void> {
  await lockKeys(tx, shop, [...new Set(ids)].map((id) => orderLockKey(shop, id)));
}

export async function lockCustomers(tx: RawTx, shop: string, ids: Iterable<bigint | null>): Promise<void> {
  const present = [...ids].filter((id): id is bigint => id !== null);
  await lockKeys(tx, shop, [...new Set(present)].map((id) => customerLockKey(shop, id)));
}

/** Distinct non-null ids. */
export function distinctIds(ids: Iterable<bigint | null | undefined>): bigint[] {
  const seen = new Map<string, bigint>();
  for (const id of ids) if (id !== null && id !== undefined) seen.set(id.toString(), id);
  return [...seen.values()];
}
