import { Prisma } from "@prisma/client";
import { describe, expect, it } from "vitest";
import { pgPool, pgTransaction } from "./pg.server";

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
