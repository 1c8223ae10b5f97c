// Deterministic interleavings of two transactions: one left open on a connection of its own,
// and a wait until another connection's statement queues behind its locks.
import type pg from "pg";
import { testPool } from "./db";

/** Waits until some backend waits on a lock `pid` holds (5 s at most: then nothing waited, which is the bug). */
export async function untilBlockedBy(pid: number): Promise<void> {
  for (const deadline = Date.now() + 5_000; Date.now() < deadline; ) {
    const result = await testPool().query(`SELECT 1 FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))`, [pid]);
    if ((result.rowCount ?? 0) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`nothing waited for backend ${pid}'s locks`);
}

/** A transaction on a connection of its own, left open until `commit` (another transaction's half). */
export async function openTransaction(): Promise<{ client: pg.PoolClient; pid: number; commit: () => Promise<void> }> {
  const client = await testPool().connect();
  await client.query("BEGIN");
  const pid = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
  return {
    client,
    pid,
    commit: async () => {
      try {
        await client.query("COMMIT");
      } finally {
        client.release();
      }
    },
  };
}

/** Runs `work` in a transaction of a connection of its own and commits it. */
export async function inOwnTransaction(work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
  const client = await testPool().connect();
  try {
    await client.query("BEGIN");
    await work(client);
    await client.query("COMMIT");
  } finally {
    client.release();
  }
}
