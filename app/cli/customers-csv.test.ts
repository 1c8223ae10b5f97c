import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import fc from "fast-check";
import { CUSTOMER_COLUMNS, CustomerCsvEncoder, type CustomerRow, csvField, customerChunks, customerLine, formatNumber, writeCustomersCsv } from "./customers-csv";

const row = (id: string, overrides: Record<number, string | number | null> = {}): CustomerRow => {
  const base: (string | number | null)[] = [id, 3, 2, 30.428571428571427, 38.857142857142854, 22.345000000000002, 74.02, 5, 5, 4, "Champions", 0.7266203, 0.4524829, 1.5621901, 36.7349, "1998-04-25"];
  for (const [i, value] of Object.entries(overrides)) base[Number(i)] = value;
  return base as unknown as CustomerRow;
};

describe("customers.csv", () => {
  it("rounds numbers per column and leaves missing predictions empty", () => {
    expect(customerLine(row("c1"))).toBe("c1,3,2,30.4286,38.8571,22.345,74.02,5,5,4,Champions,0.72662,0.452483,1.56219,36.73,1998-04-25\n");
    expect(customerLine(row("c2", { 11: null, 12: null, 13: null, 14: null, 15: null }))).toBe("c2,3,2,30.4286,38.8571,22.345,74.02,5,5,4,Champions,,,,,\n");
    expect(csvField(-0.00001, 10_000)).toBe("0");
    expect(csvField(Number.NaN)).toBe("");
    expect(csvField(-0)).toBe("0");
  });

  it("formats rounded numbers exactly like String(Math.round(v * scale) / scale)", () => {
    fc.assert(
      fc.property(fc.double({ min: -1e9, max: 1e9, noNaN: true }), fc.constantFrom(100, 10_000, 1_000_000), (value, scale) => {
        const expected = String(Math.round(value * scale) / scale + 0).replace(/^-0$/, "0");
        // Math.round rounds halves up, formatNumber rounds them away from zero: allow that one difference.
        const actual = formatNumber(value, scale);
        if (actual !== expected) expect(Math.abs(Number(actual) - Number(expected))).toBeLessThanOrEqual(1 / scale + 1e-9 * Math.abs(value));
        expect(Number(actual)).toBeCloseTo(value, Math.log10(scale) - 1);
      }),
    );
  });

  it("encodes rows to the very bytes of customerLine's text", () => {
    const number = fc.oneof(
      fc.double({ noNaN: false }),
      fc.double({ min: -1e6, max: 1e6 }),
      fc.integer({ min: -1e9, max: 1e9 }),
      fc.constantFrom(0, -0, 1e21, -1e21, 2 ** 53, 9.99995, 0.0000049, 0.00005, 1e-7, 123.00004999, 5e-324),
      // Either side of the encoder's 32-bit integer path (customer-rows.ts).
      fc.constantFrom(2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 2 ** 32, 2 ** 31 - 0.5, 2 ** 31 - 1.005),
    );
    const maybe = fc.option(number, { nil: null });
    const text = fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), fc.string({ unit: "binary" }), fc.constantFrom("C0001", "Doe, Jane", 'say "hi"', " x", "x ", "é€😀", "a\nb"));
    const rows = fc.tuple(text, number, number, number, number, number, number, number, number, number, text, maybe, maybe, maybe, maybe, fc.option(text, { nil: null }));
    fc.assert(
      fc.property(fc.array(rows, { maxLength: 20 }), (list) => {
        const encoder = new CustomerCsvEncoder();
        for (const row of list) encoder.append(row as CustomerRow);
        expect(Buffer.from(encoder.take()).toString("utf8")).toBe(list.map((row) => customerLine(row as CustomerRow)).join(""));
      }),
      { numRuns: 300 },
    );
    const chunks = [...customerChunks(Array.from({ length: 25_001 }, (_, i) => row(`c${i}`)))];
    expect(chunks).toHaveLength(3);
    expect(Buffer.concat(chunks).toString("utf8")).toBe(Array.from({ length: 25_001 }, (_, i) => customerLine(row(`c${i}`))).join(""));
  });

  it("quotes text that needs it, so any id survives a CSV parser", () => {
    for (const id of ['Doe, Jane', 'say "hi"', "two\nlines", " padded ", "plain@example.com"]) {
      const [parsed] = parse(customerLine(row(id))) as string[][];
      expect(parsed[0]).toBe(id);
      expect(parsed).toHaveLength(CUSTOMER_COLUMNS.length);
    }
  });

  it("writes the header and every row", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tenure-csv-"));
    try {
      const path = join(dir, "customers.csv");
      const rows = Array.from({ length: 25_001 }, (_, i) => row(`c${i}`));
      expect(await writeCustomersCsv(path, rows)).toBe(25_001);
      const text = readFileSync(path, "utf8");
      expect(text.split("\n")[0]).toBe(CUSTOMER_COLUMNS.join(","));
      const records = parse(text, { columns: true }) as Record<string, string>[];
      expect(records).toHaveLength(25_001);
      expect(records.at(-1)).toMatchObject({ customer_id: "c25000", rfm_segment: "Champions" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("leaves no file behind when the rows fail midway", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tenure-csv-"));
    try {
      const path = join(dir, "customers.csv");
      const failing = function* () {
        yield row("a");
        throw new Error("scoring failed");
      };
      await expect(writeCustomersCsv(path, failing())).rejects.toThrow("scoring failed");
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("fails when the file cannot be written", async () => {
    await expect(writeCustomersCsv(join(tmpdir(), "no-such-dir-tenure", "x", "customers.csv"), [row("a")])).rejects.toThrow(/ENOENT/);
  });
});
