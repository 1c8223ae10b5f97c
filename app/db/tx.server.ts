import { type Prisma, type PrismaClient } from "@prisma/client";
import { type RawTx } from "~/db/pg.server";

/** A Prisma client, or the client of a transaction already open. */
export type Db = PrismaClient | Prisma.TransactionClient;
export type Tx = Prisma.TransactionClient;
/**
 * What the order/customer/refund write path needs: raw tagged-template queries. A pg
 * transaction (PgTx, the ingest worker's hot path) and a Prisma transaction both qualify;
 * a PrismaClient is accepted too and gets a transaction of its own.
 */
export type RawDb = PrismaClient | RawTx;

// Generous bounds: a redaction or a data export for a large customer touches many rows,
// and a delivery waits for row locks held by a concurrent delivery for the same customer.
export const TRANSACTION_OPTIONS = { maxWait: 10_000, timeout: 60_000 } as const;

/** Runs `work` in `db`'s transaction if it is one, else in a new READ COMMITTED transaction. */
export async function withTransaction<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  if ("$transaction" in db) return db.$transaction(work, TRANSACTION_OPTIONS);
  return work(db);
}

/** withTransaction for the raw write path: a PrismaClient opens a transaction; a transaction (Prisma or pg) is joined. */
export async function withRawTransaction<T>(db: RawDb, work: (tx: RawTx) => Promise<T>): Promise<T> {
  if ("$transaction" in db) return db.$transaction((tx) => work(tx), TRANSACTION_OPTIONS);
  return work(db);
}
