import { readFileSync } from "node:fs";
import { dayIndex } from "~/analytics/dates";
import { type ParsedTransaction, type RowError } from "~/analytics/transactions";
import { TransactionTable } from "~/analytics/summary";
import { lineAlignedParts, readTransactionFile, readTransactionsIntoTable, transactionRecords } from "./read-transactions";
import { tempDirForTests } from "./temp-dir.testing";

const SHOPIFY_FIXTURE = "app/cli/fixtures/shopify-orders-export.csv";
const CDNOW_SAMPLE = "tests/fixtures/cdnow/CDNOW_sample.txt";

const file = tempDirForTests("tenure-read-").write;

async function readAll(path: string, chunkBytes?: number) {
  const rows: ParsedTransaction[] = [];
  const errors: RowError[] = [];
  const report = await readTransactionFile(
    path,
    {
      transaction: (text, start, end, day, amount, line) => rows.push({ customerId: text.slice(start, end), day, amount, line }),
      error: (error) => errors.push(error),
    },
    { chunkBytes },
  );
  return { rows, errors, report };
}

describe("readTransactionFile", () => {
  it("reads the CDNOW sample: 6,919 rows, 2,357 customers keyed by the sample id", async () => {
    const { rows, errors, report } = await readAll(CDNOW_SAMPLE);
    expect(report).toEqual({ format: "cdnow", lines: 6919, transactions: 6919, errors: 0, skipped: {} });
    expect(errors).toEqual([]);
    expect(new Set(rows.map((r) => r.customerId)).size).toBe(2357);
    expect(rows[0]).toEqual({ customerId: "0001", day: dayIndex("1997-01-01"), amount: 29.33, line: 1 });
    expect(rows.at(-1)?.line).toBe(6919);
  });

  it("gives the same rows whatever the chunk size, including ids split mid-character", async () => {
    const text = "\uFEFFcustomer_id,date,amount\r\nzoë,2024-01-01,1.50\r\n東京,20240102,2\r\n\r\nzoë,2024-01-03,-0.5";
    const path = file("chunks.csv", text);
    const whole = await readAll(path);
    expect(whole.rows).toEqual([
      { customerId: "zoë", day: dayIndex("2024-01-01"), amount: 1.5, line: 2 },
      { customerId: "東京", day: dayIndex("2024-01-02"), amount: 2, line: 3 },
      { customerId: "zoë", day: dayIndex("2024-01-03"), amount: -0.5, line: 5 },
    ]);
    expect(whole.report.lines).toBe(5);
    for (const chunkBytes of [1, 2, 3, 7, 16]) expect((await readAll(path, chunkBytes)).rows).toEqual(whole.rows);
  });

  it("reads UTF-8 that starts after ASCII chunks (ASCII chunks skip the decoder), whatever the chunk size", async () => {
    const text = "customer_id,date,amount\nabc,2024-01-01,1\nzoë,2024-01-02,2\n東京,20240103,3\nabc,2024-01-04,4\n";
    const expected = [
      { customerId: "abc", day: dayIndex("2024-01-01"), amount: 1, line: 2 },
      { customerId: "zoë", day: dayIndex("2024-01-02"), amount: 2, line: 3 },
      { customerId: "東京", day: dayIndex("2024-01-03"), amount: 3, line: 4 },
      { customerId: "abc", day: dayIndex("2024-01-04"), amount: 4, line: 5 },
    ];
    const path = file("ascii-first.csv", text);
    for (const chunkBytes of [undefined, 1, 2, 3, 7, 16, 40]) expect((await readAll(path, chunkBytes)).rows).toEqual(expected);
  });

  it("reports bad rows with their line numbers and keeps reading", async () => {
    const path = file("bad.csv", ["customer_id,date,amount", "a,2024-01-01,10", "b,2024-13-01,5", "c,2024-01-02", "d,2024-01-03,abc", "a,2024-01-04,1"].join("\n") + "\n");
    const { rows, errors, report } = await readAll(path);
    expect(rows.map((r) => r.line)).toEqual([2, 6]);
    expect(errors.map((e) => [e.line, e.raw])).toEqual([
      [3, "b,2024-13-01,5"],
      [4, "c,2024-01-02"],
      [5, "d,2024-01-03,abc"],
    ]);
    expect(report).toMatchObject({ lines: 6, transactions: 2, errors: 3 });
  });

  it("fails clearly on a file it does not recognise", async () => {
    await expect(readAll(file("unknown.csv", "id;when;value\n1;2;3\n"))).rejects.toThrow(/^line 1: unrecognised CSV header "id;when;value": no customer column/);
  });

  it("reads a Shopify orders export: one transaction per order, refunds netted, test and guest orders skipped", async () => {
    const { rows, errors, report } = await readAll(SHOPIFY_FIXTURE);
    expect(errors).toEqual([]);
    expect(report).toMatchObject({ format: "shopify", lines: 17, transactions: 10, skipped: { "line-item-row": 3, "test-order": 1, "no-email": 1 } });
    const byCustomer = (id: string) => rows.filter((r) => r.customerId === id).map((r) => [r.day, r.amount, r.line]);
    expect(byCustomer("ada@example.com")).toEqual([
      [dayIndex("2024-06-02"), 71.46, 2],
      [dayIndex("2024-04-02"), 0, 10],
      [dayIndex("2024-02-14"), 26.13, 13],
      [dayIndex("2024-02-14"), 25.6, 14],
      [dayIndex("2024-01-05"), 77.86, 16],
    ]);
    // Order #1010 carries a two-line note: the rows after it keep their true line numbers.
    expect(byCustomer("grace@example.com")).toEqual([
      [dayIndex("2024-05-20"), 139.36, 5],
      [dayIndex("2024-02-14"), 59.93, 12],
      [dayIndex("2024-01-20"), 58.26, 15],
    ]);
    // 23:30 at -04:00 is still March 10th in the shop's offset.
    expect(byCustomer("kat@example.net")).toEqual([
      [dayIndex("2024-05-11"), 0, 7],
      [dayIndex("2024-03-10"), 104.52, 11],
    ]);
  });

  it("numbers Shopify lines correctly with CRLF line ends and reports a bad order", async () => {
    const lines = readFileSync(SHOPIFY_FIXTURE, "utf8").split("\n");
    // Line 12 is order #1005 (Grace, 2024-02-14): break its Total.
    lines[11] = lines[11].replace(",59.93,", ",59.9x,");
    const path = file("crlf-orders_export.csv", lines.join("\r\n"));
    const { rows, errors, report } = await readAll(path, 64);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ line: 12, message: 'order #1005: column 12 "Total": "59.9x" is not a decimal amount' });
    expect(errors[0].raw.startsWith("#1005,grace@example.com,paid,")).toBe(true);
    expect(rows.find((r) => r.amount === 58.26)?.line).toBe(15);
    expect(report).toMatchObject({ transactions: 9, errors: 1, lines: 17 });
  });
});

describe("transactionRecords", () => {
  it("yields rows and errors as objects, in file order", async () => {
    const path = file("records.csv", "customer_id,date,amount\na,2024-01-01,1\nb,nope,2\nc,2024-01-02,3\n");
    const seen: (ParsedTransaction | RowError)[] = [];
    for await (const record of transactionRecords(path, { chunkBytes: 8 })) seen.push(record);
    expect(seen).toEqual([
      { customerId: "a", day: dayIndex("2024-01-01"), amount: 1, line: 2 },
      { line: 3, message: 'column 2 "date": "nope" is not a date (expected YYYY-MM-DD, YYYYMMDD or a timestamp such as 2024-01-15 10:30:00 or 2024-01-15T10:30:00+02:00)', raw: "b,nope,2" },
      { customerId: "c", day: dayIndex("2024-01-02"), amount: 3, line: 4 },
    ]);
  });
});

describe("readTransactionsIntoTable", () => {
  async function readInto(path: string, threads: number, reportedErrors?: number) {
    const table = new TransactionTable();
    const errors: RowError[] = [];
    const report = await readTransactionsIntoTable(path, table, { error: (error) => errors.push(error) }, { threads, minBytesPerThread: 1024, chunkBytes: 4096, reportedErrors });
    return { table, errors, report };
  }

  // Ids seen first in a later part, ids shared across parts, bad rows in every part,
  // a quoted line, blank lines, CRLF and multi-byte characters near the cut points.
  function mixedFile(): string {
    const lines = ["\uFEFFCustomer ID;Order Date;Total"];
    for (let i = 0; i < 3000; i++) {
      const id = i % 7 === 0 ? `zoë-${i % 50}` : `C${(i * 7919) % 1200}`;
      if (i % 401 === 0) lines.push(`${id};2024-02-30;1`);
      else if (i % 577 === 0) lines.push("");
      else if (i % 613 === 0) lines.push(`"${id}";2024-01-05 10:30:00;"1,234.50"`);
      else lines.push(`${id};2024-${String(1 + (i % 12)).padStart(2, "0")}-${String(1 + (i % 28)).padStart(2, "0")};${(i % 97) - 5}.${i % 100}`);
    }
    return lines.join("\r\n") + "\r\n";
  }

  it("reads a file in parts on threads into the table one thread reads: ids, rows, counts and bad rows' line numbers", async () => {
    const path = file("parts.csv", mixedFile());
    expect((await lineAlignedParts(path, 4, 1024)).length).toBe(4);
    const one = await readInto(path, 1);
    expect(one.report.partsReadOnThreads).toBe(0);
    expect(one.errors.length).toBeGreaterThan(5);
    expect(one.table.length).toBeGreaterThan(2900);
    expect(one.table.amounts).toContain(1234.5);
    for (const threads of [2, 4]) {
      const parts = await readInto(path, threads);
      expect(parts.report.partsReadOnThreads).toBe(threads - 1);
      expect({ ...parts.report, partsReadOnThreads: 0 }).toEqual(one.report);
      expect(parts.table.customerIds).toEqual(one.table.customerIds);
      expect(parts.table.customers).toEqual(one.table.customers);
      expect(parts.table.days).toEqual(one.table.days);
      expect(parts.table.amounts).toEqual(one.table.amounts);
      expect(parts.errors).toEqual(one.errors);
    }
  });

  it("passes on only the first bad rows of the other parts when asked, and still counts them all", async () => {
    const path = file("parts-errors.csv", mixedFile());
    const one = await readInto(path, 1);
    const parts = await readInto(path, 3, 1);
    expect(parts.report.errors).toBe(one.report.errors);
    expect(parts.errors.length).toBeLessThan(one.errors.length);
    expect(one.errors).toEqual(expect.arrayContaining(parts.errors));
  });

  it("cuts only after a line break, so a part never starts inside a line or a character", async () => {
    const text = "customer_id,date,amount\n" + "東京東京東京,2024-01-01,1\n".repeat(200);
    const path = file("cuts.csv", text);
    const bytes = Buffer.from(text);
    const parts = await lineAlignedParts(path, 3, 100);
    expect(parts.length).toBe(3);
    expect(parts[0].start).toBe(0);
    expect(parts.at(-1)?.end).toBe(bytes.length);
    for (let k = 1; k < parts.length; k++) {
      expect(parts[k].start).toBe(parts[k - 1].end);
      expect(bytes[parts[k].start - 1]).toBe(10);
    }
  });
});
