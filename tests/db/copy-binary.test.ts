import { describe, expect, it } from "vitest";
import { BinaryRows, copyBinary } from "~/db/copy-binary.server";
import { testPool } from "../support/db";

// COPY's binary format as BinaryRows writes it (app/db/copy-binary.server.ts), read back by
// PostgreSQL: the buffer grown from nothing, texts of every width (a text is written before
// its length, in room made for 3 bytes a UTF-16 unit), ids either side of 2^53.

const TEXTS = [
  "",
  "plain",
  "Zoë Ünal, São Paulo",
  "Клиенты 🛒 à", // an astral character: 4 bytes for 2 UTF-16 units
  "lone \ud800 surrogate", // written as U+FFFD, as Buffer.from writes it
  'tab\there "quoted" back\\slash\nline',
  "x".repeat(5_000),
  "😀".repeat(2_000),
];
const IDS = ["0", "-0", "007", "9007199254740991", "9007199254740992", "9007199254740993", "-9223372036854775808", "9223372036854775807"];

describe("BinaryRows", () => {
  it("writes what PostgreSQL reads back: ids, texts, text arrays, jsonb and a timestamp", async () => {
    const client = await testPool().connect();
    try {
      await client.query("BEGIN");
      await client.query(`CREATE TEMP TABLE copied_rows (n int, id bigint, t text, a text[], j jsonb, at timestamp(3))`);
      const at = new Date("2026-12-07T18:30:00.123Z");
      const out = new BinaryRows(0);
      out.header();
      const rows = TEXTS.map((text, n) => ({ n, id: IDS[n % IDS.length]!, text, array: n % 3 === 0 ? [] : [text, "second"], json: n % 2 === 0 ? null : JSON.stringify({ text }) }));
      for (const row of rows) {
        out.int16(6);
        out.int4(row.n);
        out.int8Text(row.id);
        out.text(row.text);
        out.textArray(row.array);
        out.jsonb(row.json);
        out.timestamp(at);
      }
      out.trailer();
      expect(await copyBinary(client, `COPY copied_rows (n, id, t, a, j, at) FROM STDIN (FORMAT binary)`, out.done())).toBe(rows.length);

      const read = await client.query<{ n: number; id: string; t: string; a: string[]; j: unknown; at: string }>(
        `SELECT n, id::text AS id, t, a, j, to_char(at, 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS at FROM copied_rows ORDER BY n`,
      );
      const written = (text: string) => Buffer.from(text).toString();
      expect(read.rows).toEqual(
        rows.map((row) => ({
          n: row.n,
          id: BigInt(row.id).toString(),
          t: written(row.text),
          a: row.array.map(written),
          j: row.json === null ? null : JSON.parse(written(row.json)),
          at: "2026-12-07T18:30:00.123",
        })),
      );
    } finally {
      await client.query("ROLLBACK");
      client.release();
    }
  });

  it("refuses an id that is not a decimal integer", () => {
    for (const id of ["", " 12", "0x1f", "1e3", "12.0", "99999999999999999999"]) expect(() => new BinaryRows(0).int8Text(id)).toThrow(RangeError);
  });
});
