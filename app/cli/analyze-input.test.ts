// `tenure analyze` on the input shapes people have (issue 16, "A fast, forgiving CLI"):
// the same shop written six ways gives the same customers; refusals name line and column.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { analyzeRunsForTests, customersCsvText } from "./analyze-runs.testing";

const runs = analyzeRunsForTests("tenure-analyze-input-");
const dir = runs.dir;

async function analyze(input: string, args: string[] = []) {
  const { code, io, out } = await runs.analyze([input, ...args]);
  return { code, err: io.err(), out };
}

// One shop: three customers, a refund, two orders on one day.
const PLAIN = [
  "customer_id,date,amount",
  "ann,2024-01-05,1234.50",
  "ann,2024-02-10,20",
  "bob,2024-01-20,12.5",
  "bob,2024-01-20,7.5",
  "bob,2024-03-01,-5",
  "cy,2024-03-31,99.99",
];

describe("tenure analyze reads the same shop in every accepted shape", () => {
  const shapes: [string, string[], string[]][] = [
    ["plain", PLAIN, []],
    [
      "semicolons, European amounts, Excel's header names, a BOM and CRLF",
      ["\uFEFFCustomer ID;Order Date;Total", "ann;2024-01-05;1.234,50 €", "ann;2024-02-10;20,00 €", "bob;2024-01-20;12,50 €", "bob;2024-01-20;7,5", "bob;2024-03-01;-5,00 €", "cy;2024-03-31;99,99 €"],
      ["--decimal-comma"],
    ],
    [
      "tabs, emails, timestamps in UTC",
      ["Email\tcreated_at\tRevenue", "ann\t2024-01-05T10:30:00Z\t$1,234.50", "ann\t2024-02-10 08:00:00\t$20", "bob\t2024-01-20T23:59:59Z\t$12.50", "bob\t2024-01-20T00:00:00Z\t$7.50", "bob\t2024-03-01T12:00:00+01:00\t-$5", "cy\t2024-03-31T12:00:00-04:00\t$99.99"],
      [],
    ],
    [
      "quoted amounts with thousands separators and currency codes",
      ['"customer","invoice date","amount"', 'ann,2024-01-05,"1,234.50"', 'ann,2024-02-10,"GBP 20.00"', 'bob,2024-01-20,"£12.50"', "bob,2024-01-20,7.50", 'bob,2024-03-01,"(5.00)"', 'cy,2024-03-31,"99.99"'],
      [],
    ],
    [
      "price x quantity",
      ["Invoice,Quantity,InvoiceDate,Price,Customer ID", "1,2,2024-01-05 09:00:00,617.25,ann", "2,4,2024-02-10 09:00:00,5,ann", "3,5,2024-01-20 09:00:00,2.5,bob", "4,3,2024-01-20 10:00:00,2.5,bob", "C5,-2,2024-03-01 09:00:00,2.5,bob", "6,1,2024-03-31 09:00:00,99.99,cy"],
      [],
    ],
    [
      "offsets taken in --timezone America/New_York",
      ["customer,date,amount", "ann,2024-01-06T03:00:00Z,1234.5", "ann,2024-02-10T12:00:00Z,20", "bob,2024-01-21T04:59:00Z,12.5", "bob,2024-01-20T05:00:00Z,7.5", "bob,2024-03-01T12:00:00Z,-5", "cy,2024-04-01T03:59:00Z,99.99"],
      ["--timezone", "America/New_York"],
    ],
  ];
  let expected = "";

  it.each(shapes)("%s", async (name, lines, args) => {
    const path = dir.write(`${name.replace(/\W+/g, "-")}.csv`, lines.join(name.includes("CRLF") ? "\r\n" : "\n") + "\n");
    const { code, err, out } = await analyze(path, ["--as-of", "2024-04-30", "--unit", "day", ...args]);
    expect(err).not.toMatch(/bad row/);
    expect(code, err).toBe(0);
    expect(err).toContain("tenure analyze: 3 customers ->");
    const csv = customersCsvText(out);
    if (name === "plain") {
      expected = csv;
      // Two orders on one day are one purchase; the refund lowers spend only.
      expect(csv).toContain("\nbob,1,0,0,101,0,15,");
      expect(csv).toContain("\nann,2,1,36,116,20,1254.5,");
    } else {
      expect(csv).toBe(expected);
    }
  });
});

describe("tenure analyze refusals", () => {
  it("names the line and the column of every bad row, and counts in the right number", async () => {
    const path = dir.write(
      "bad-rows.csv",
      ["Customer ID;Order Date;Total", "ann;2024-01-05;12,50", "ann;15/01/2024;3", ";2024-01-06;1", "bob;2024-01-07", "cy;2024-01-08;7"].join("\n"),
    );
    const { code, err } = await analyze(path);
    expect(code).toBe(0);
    expect(err).toContain(`${path}:2: column 3 "Total": "12,50" has a decimal comma: pass --decimal-comma`);
    expect(err).toContain(`${path}:3: column 2 "Order Date": "15/01/2024" is not a date (expected YYYY-MM-DD, YYYYMMDD or a timestamp`);
    expect(err).toContain(`${path}:4: column 1 "Customer ID": the customer id is empty`);
    expect(err).toContain(`${path}:5: expected 3 columns, found 2: no column 3 "Total"`);
    expect(err).toContain("skipped 4 bad rows of 6 lines");
    expect(err).toContain("tenure analyze: 1 customer ->");
  });

  it("says 1 bad row and 1 more bad row", async () => {
    const strict = await analyze(dir.write("one-bad.csv", ["customer,date,amount", "a,2024-01-01,x", "b,2024-01-03,1"].join("\n")), ["--strict"]);
    expect(strict.err).toContain("tenure analyze: 1 bad row in");
    const bad = Array.from({ length: 11 }, (_, i) => `a,2024-01-${String(i + 1).padStart(2, "0")},x`);
    const { err } = await analyze(dir.write("eleven-bad.csv", ["customer,date,amount", ...bad, "b,2024-01-03,1"].join("\n")));
    expect(err).toContain("... and 1 more bad row\n");
    expect(err).toContain("skipped 11 bad rows of 13 lines");
  });

  it("refuses an unrecognised header on line 1, naming what it lacks", async () => {
    const { code, err } = await analyze(dir.write("no-amount.csv", "customer;date;price\na;2024-01-01;3\n"));
    expect(code).toBe(1);
    expect(err).toMatch(/no-amount\.csv: line 1: unrecognised CSV header "customer;date;price": no amount column \(amount, total, revenue, \.\.\., or price and quantity\)/);
  });

  it("refuses an unknown --timezone as wrong usage", async () => {
    const { code, err } = await analyze(dir.write("tz.csv", PLAIN.join("\n")), ["--timezone", "Europe/Atlantis"]);
    expect(code).toBe(2);
    expect(err).toContain('--timezone must be an IANA time zone such as UTC or Europe/Paris (got "Europe/Atlantis")');
  });

  it.each([
    ["2023-12-31", "before the first transaction (2024-01-05): there is nothing to fit the backtest on"],
    ["2024-03-31", "on or after the last transaction (2024-03-31): there is nothing to test the backtest on"],
    ["2024-04-10", "on or after the last transaction (2024-03-31): there is nothing to test the backtest on"],
  ])("refuses --calibration-end %s with exit code 2", async (calibrationEnd, why) => {
    const { code, err, out } = await analyze(dir.write(`calibration-${calibrationEnd}.csv`, PLAIN.join("\n")), ["--calibration-end", calibrationEnd, "--as-of", "2024-04-30"]);
    expect(err).toContain(`--calibration-end ${calibrationEnd} is ${why}`);
    expect(code).toBe(2);
    expect(existsSync(join(out, "model.json"))).toBe(false);
  });
});

describe("tenure analyze on ambiguous amounts and Excel's empty rows (issue 16 review)", () => {
  const semicolons = ["customer;date;amount", "ann;2024-01-05;1,234", "ann;2024-02-10;20", "bob;2024-01-20;12.5", ";;", ";;"];

  it("refuses a lone separator before three digits in a semicolon file, naming line, column and both options; Excel's ;; rows are blank", async () => {
    const path = dir.write("ambiguous.csv", semicolons.join("\r\n") + "\r\n");
    const { code, err } = await analyze(path);
    expect(code).toBe(0);
    expect(err).toContain(`${path}:2: column 3 "amount": "1,234" is ambiguous in a semicolon- or tab-delimited file (thousands or a decimal?): pass --decimal-comma if the file writes 1.234,50, or --decimal-point if it writes 1,234.50`);
    expect(err).toContain("skipped 1 bad row of 6 lines");
  });

  it("reads it with --decimal-point (1234) or --decimal-comma (1.234), and refuses both at once", async () => {
    const path = dir.write("ambiguous-settled.csv", semicolons.join("\n"));
    const point = await analyze(path, ["--decimal-point", "--as-of", "2024-04-30", "--unit", "day"]);
    expect(point.err).not.toMatch(/bad row/);
    // ann spent 1,234 + 20.
    expect(customersCsvText(point.out)).toContain("\nann,2,1,36,116,20,1254,");
    const comma = await analyze(path, ["--decimal-comma", "--as-of", "2024-04-30", "--unit", "day"]);
    // Under --decimal-comma "12.5" is refused (a decimal point), "1,234" is 1.234.
    expect(comma.err).toContain('"12.5" has a decimal point');
    const both = await analyze(path, ["--decimal-point", "--decimal-comma"]);
    expect(both.code).toBe(2);
    expect(both.err).toContain("--decimal-comma and --decimal-point contradict each other");
  });
});
