import { Prisma } from "@prisma/client";
import { describe, expect, it } from "vitest";
import { type PgTx, clientTransaction, createPgPool, pgPool, pgQuery, pgTransaction } from "../../app/db/pg.server";

// PgTx sends array parameters as literals it builds itself (faster than pg's serialiser):
// every value must arrive exactly as sent.
describe("PgTx array parameters", () => {
  const roundTrip = <T>(values: T[], cast: string) =>
    pgTransaction(pgPool(), async (tx) => {
      const rows = await tx.$queryRaw<{ value: T[] }[]>(Prisma.sql`SELECT ${values}::${Prisma.raw(cast)} AS value`);
      return rows[0].value;
    });

  it("carries awkward text, empty strings, the word NULL and real nulls", async () => {
    const values = ['say "hi"', "back\\slash", "\\\"", "{braced}", "a,b", "NULL", "", " padded ", "naïve – ☕", "tab\there", "line\nbreak", null];
    expect(await roundTrip(values, "text[]")).toEqual(values);
  });

  it("carries bigints beyond 2^53, numbers, booleans and times", async () => {
    expect(await roundTrip([9_007_199_254_740_993n, -5n, null], "bigint[]")).toEqual([9_007_199_254_740_993n, -5n, null]);
    expect(await roundTrip([1.5, -2, 0], "float8[]")).toEqual([1.5, -2, 0]);
    expect(await roundTrip([true, false, null], "boolean[]")).toEqual([true, false, null]);
    const times = [new Date("2025-03-14T14:21:05.123Z"), new Date("1999-12-31T23:59:59Z")];
    expect(await roundTrip(times, "timestamp[]")).toEqual(times);
  });

  it("carries an empty array, and an array of array literals (a text[] column per row)", async () => {
    expect(await roundTrip([], "bigint[]")).toEqual([]);
    const rows = await pgTransaction(pgPool(), (tx) =>
      tx.$queryRaw<{ tags: string[] }[]>`SELECT x::text[] AS tags FROM unnest(${['{"a","b \\"c\\""}', "{}"]}::text[]) AS x`,
    );
    expect(rows.map((row) => row.tags)).toEqual([["a", 'b "c"'], []]);
  });
});

describe("prepared PgTx statements", () => {
  it("are parsed once per connection under a name of their text, and return what an unnamed one returns", async () => {
    const client = await pgPool().connect();
    try {
      const prepared = (tx: PgTx, n: bigint) =>
        tx.$queryRaw<{ id: bigint; twice: bigint }[]>`SELECT g AS id, g * 2 AS twice FROM generate_series(1::bigint, ${n}::bigint) AS g`;
      const named = await clientTransaction(client, async (tx) => [await prepared(tx, 3n), await prepared(tx, 2n)], { prepared: true });
      const plain = await clientTransaction(client, async (tx) => [await prepared(tx, 3n), await prepared(tx, 2n)]);
      expect(named).toEqual(plain);
      expect(named[0]).toEqual([
        { id: 1n, twice: 2n },
        { id: 2n, twice: 4n },
        { id: 3n, twice: 6n },
      ]);
      const { rows } = await client.query<{ name: string; statement: string }>(
        `SELECT name, statement FROM pg_prepared_statements WHERE statement LIKE '%generate_series(1::bigint%'`,
      );
      // One statement for both calls of the named transaction; none for the unnamed one.
      expect(rows).toHaveLength(1);
      expect(rows[0].name).toBe(pgQuery(rows[0].statement, [], true).name);
    } finally {
      client.release();
    }
  });
});

// node-pg emits 'error' on a checked-out client whose connection dies (a database restart,
// pg_terminate_backend); with no listener that event kills the process (issue 12, finding 1).
describe("a connection that dies inside a transaction", () => {
  it("fails that transaction, keeps the process alive, and leaves the pool usable", async () => {
    const pool = createPgPool(process.env.DATABASE_URL!, { max: 2 });
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on("uncaughtException", onUncaught);
    try {
      const outcome = pgTransaction(pool, async (tx) => {
        const [{ pid }] = await tx.$queryRaw<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
        await pgPool().query("SELECT pg_terminate_backend($1)", [pid]);
        // The server's termination notice arrives while this transaction waits.
        await new Promise((resolve) => setTimeout(resolve, 200));
        await tx.$queryRaw`SELECT 1`;
      });
      await expect(outcome).rejects.toThrow();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(uncaught).toEqual([]);
      expect(await pgTransaction(pool, (tx) => tx.$queryRaw<{ one: number }[]>`SELECT 1 AS one`)).toEqual([{ one: 1 }]);
    } finally {
      process.off("uncaughtException", onUncaught);
      await pool.end();
    }
  });

  it("leaves no client of the app's pools without an 'error' listener, even one checked out and idle", async () => {
    const pool = createPgPool(process.env.DATABASE_URL!, { max: 2 });
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on("uncaughtException", onUncaught);
    try {
      // A client held between statements (as pg-pool's own query() and Prisma's adapter hold
      // theirs) when the server ends its session.
      const client = await pool.connect();
      const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      await pgPool().query("SELECT pg_terminate_backend($1)", [rows[0].pid]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      client.release(true);
      expect(uncaught).toEqual([]);
      expect((await pool.query<{ one: number }>("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    } finally {
      process.off("uncaughtException", onUncaught);
      await pool.end();
    }
  });
});
