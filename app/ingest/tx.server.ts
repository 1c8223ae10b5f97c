import { type Prisma, type PrismaClient } from "@prisma/client";

/** A Prisma client, or the client of a transaction already open. */
export type Db = PrismaClient | Prisma.TransactionClient;
export type Tx = Prisma.TransactionClient;

// Generous bounds: a redaction or a data export for a large customer touches many rows,
// and a delivery waits for row locks held by a concurrent delivery for the same customer.
export const TRANSACTION_OPTIONS = { maxWait: 10_000, timeout: 60_000 } as const;

/** Runs `work` in `db`'s transaction if it is one, else in a new READ COMMITTED transaction. */
export async function withTransaction<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  if ("$transaction" in db) return db.$transaction(work, TRANSACTION_OPTIONS);
  return work(db);
}

/**
 * Transaction-scoped advisory locks, taken in one global order (by hash) so two
 * transactions can never wait on each other in a cycle. Callers take every order lock
 * they need first, then every customer lock: never an order lock after a customer lock.
 */
export async function lockKeys(tx: Tx, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await tx.$queryRaw`
    SELECT count(pg_advisory_xact_lock(h))::int AS locked
    FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest(${keys}::text[]) AS k ORDER BY h) AS wanted`;
}

export const orderLockKey = (shop: string, id: bigint) => `tenure:order:${shop}:${id}`;
export const customerLockKey = (shop: string, id: bigint) => `tenure:customer:${shop}:${id}`;

export async function lockOrders(tx: Tx, shop: string, ids: Iterable<bigint>): Promise<void> {
  await lockKeys(tx, [...new Set(ids)].map((id) => orderLockKey(shop, id)));
}

export async function lockCustomers(tx: Tx, shop: string, ids: Iterable<bigint | null>): Promise<void> {
  const present = [...ids].filter((id): id is bigint => id !== null);
  await lockKeys(tx, [...new Set(present)].map((id) => customerLockKey(shop, id)));
}

/** Distinct non-null ids. */
export function distinctIds(ids: Iterable<bigint | null | undefined>): bigint[] {
  const seen = new Map<string, bigint>();
  for (const id of ids) if (id !== null && id !== undefined) seen.set(id.toString(), id);
  return [...seen.values()];
}
