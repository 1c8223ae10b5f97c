import fc from "fast-check";
import { dayIndex } from "./dates";
import { type ValueConventions, ZoneDays, lineAmount, parseMoneyText, parseTimestampDay, recogniseCsvHeader } from "./simple-csv";
import { type RowError, type SimpleLayout, TransactionFormatError, detectFormat, parseTransactionLine } from "./transactions";

function layoutOf(header: string, conventions: ValueConventions = { decimalComma: false, timeZone: "UTC" }): SimpleLayout {
  const detection = detectFormat(header, conventions);
  if (detection.format !== "csv") throw new Error(`expected a simple CSV, got ${detection.format}`);
  return detection.layout;
}

describe("recogniseCsvHeader", () => {
  it.each([
    ["customer_id,date,amount", ",", [0, 1, 2, -1]],
    ["Customer ID,Order Date,Total", ",", [0, 1, 2, -1]],
    ["CUSTOMER,created_at,Revenue", ",", [0, 1, 2, -1]],
    ["email;invoice date;amount", ";", [0, 1, 2, -1]],
    ["Date\tCustomer_Id\tAmount", "\t", [1, 0, 2, -1]],
    // Online Retail II (UCI): the amount is Price x Quantity.
    ["Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country", ",", [6, 4, 5, 3]],
    ["customer-id , Unit Price , qty , date", ",", [0, 3, 1, 2]],
    ['"Customer ID","Date","Amount"', ",", [0, 1, 2, -1]],
  ])("finds the columns of %j", (header, delimiter, [customer, date, amount, quantity]) => {
    expect(recogniseCsvHeader(header)).toMatchObject({ delimiter, customerColumn: customer, dateColumn: date, amountColumn: amount, quantityColumn: quantity });
  });

  it("prefers a customer id to an email, and an amount to price x quantity", () => {
    expect(recogniseCsvHeader("email,customer id,date,price,quantity,total")).toMatchObject({ customerColumn: 1, amountColumn: 5, quantityColumn: -1 });
  });

  it("refuses a header naming a role twice, naming both columns", () => {
    expect(() => detectFormat("customer,date,Total,total")).toThrow(TransactionFormatError);
    expect(() => detectFormat("customer,date,Total,total")).toThrow('line 1: columns 3 "Total" and 4 "total" both name the same thing; rename one');
  });

  it("needs a quantity with a price", () => {
    expect(recogniseCsvHeader("customer,date,price")).toBeNull();
  });
});

describe("timestamps", () => {
  const utc = new ZoneDays("UTC");
  const at = (text: string, zone = utc) => parseTimestampDay(text, 0, text.length, zone);

  it.each([
    ["2024-01-15 10:30:00", "2024-01-15"],
    ["2024-01-15 10:30", "2024-01-15"],
    ["2024-01-15T23:30:00.123", "2024-01-15"],
    ["2024-01-15T10:30:00Z", "2024-01-15"],
    ["2024-01-15T23:30:00Z", "2024-01-15"],
    ["2024-01-15T01:30:00+02:00", "2024-01-14"],
    ["2024-01-15T23:30:00-04:00", "2024-01-16"],
    ["2024-01-15 23:30:00 -0400", "2024-01-16"],
    ["2024-01-15T12:00:00+0530", "2024-01-15"],
    [" 2024-02-29 00:00:00 UTC ", "2024-02-29"],
  ])("reads %j in UTC as %s", (text, day) => {
    expect(at(text)).toBe(dayIndex(day));
  });

  it("takes the day of an instant in --timezone, through daylight saving changes", () => {
    const newYork = new ZoneDays("America/New_York");
    expect(at("2024-03-11T03:30:00Z", newYork)).toBe(dayIndex("2024-03-10")); // 23:30 EDT
    expect(at("2024-01-11T04:30:00Z", newYork)).toBe(dayIndex("2024-01-10")); // 23:30 EST
    expect(at("2024-01-11T05:30:00Z", newYork)).toBe(dayIndex("2024-01-11")); // 00:30 EST
    // Without an offset the written date is the day, whatever the zone.
    expect(at("2024-01-11 00:30:00", newYork)).toBe(dayIndex("2024-01-11"));
    const kolkata = new ZoneDays("Asia/Kolkata");
    expect(at("2024-01-10T18:45:00Z", kolkata)).toBe(dayIndex("2024-01-11")); // 00:15 IST
  });

  it("refuses an unknown time zone", () => {
    expect(() => new ZoneDays("Mars/Olympus")).toThrow('unknown time zone "Mars/Olympus"');
  });

  it.each(["2024-01-15 25:00:00", "2024-02-30 10:00", "2024-01-15 10:61", "2024-01-15T10:30:00+25:00", "15/01/2024 10:30", "2024-01-15 10"])("refuses %j", (text) => {
    expect(at(text)).toBeNaN();
  });
});

describe("parseMoneyText", () => {
  it.each([
    ["1,234.50", 1234.5],
    ["1,234,567", 1234567],
    ["1,234", 1234],
    ["£12.50", 12.5],
    ["$1,234.50", 1234.5],
    ["-$5", -5],
    ["$-5", -5],
    ["(12.50)", -12.5],
    ["12.50 €", 12.5],
    ["USD 12.50", 12.5],
    ["12.50 EUR", 12.5],
    ["1 234.50", 1234.5],
    ["1'234.50", 1234.5],
    ["¥1200", 1200],
    ["+3", 3],
  ])("reads %j as %d with a decimal point", (text, value) => {
    expect(parseMoneyText(text, false)).toBe(value);
  });

  it.each([
    ["1.234,50", 1234.5],
    ["12,50", 12.5],
    ["12,50 €", 12.5],
    ["€ 1.234.567,8", 1234567.8],
    ["1 234,50", 1234.5],
    ["1.234", 1234],
    ["-0,99", -0.99],
    ["7", 7],
  ])("reads %j as %d with --decimal-comma", (text, value) => {
    expect(parseMoneyText(text, true)).toBe(value);
  });

  it.each([
    ["12,50", false],
    ["1.234,50", false],
    ["1,23,456", false],
    ["1,2345", false],
    ["12.50", true],
    ["1,234.50", true],
    ["", false],
    ["£", false],
    ["12.5.0", false],
    ["1e3", false],
    ["ABC", false],
  ])("refuses %j (decimal comma: %s)", (text, decimalComma) => {
    expect(parseMoneyText(text, decimalComma)).toBeNaN();
  });

  it("reads back any amount written with grouping, currency and sign, in either convention", () => {
    const written = fc.record({
      cents: fc.integer({ min: -99_999_999_999, max: 99_999_999_999 }),
      decimalComma: fc.boolean(),
      grouping: fc.constantFrom("none", "mark", "space"),
      currency: fc.constantFrom("", "$", "£", "€", "USD"),
      currencyAfter: fc.boolean(),
      parentheses: fc.boolean(),
    });
    fc.assert(
      fc.property(written, ({ cents, decimalComma, grouping, currency, currencyAfter, parentheses }) => {
        const digits = String(Math.abs(cents)).padStart(3, "0");
        const whole = digits.slice(0, -2);
        const separator = grouping === "none" ? "" : grouping === "space" ? " " : decimalComma ? "." : ",";
        const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, separator);
        let text = `${grouped}${decimalComma ? "," : "."}${digits.slice(-2)}`;
        text = currencyAfter ? `${text} ${currency}`.trim() : `${currency}${text}`;
        if (cents < 0) text = parentheses ? `(${text})` : `-${text}`;
        expect(parseMoneyText(text, decimalComma)).toBe(cents / 100);
      }),
      { numRuns: 2000 },
    );
  });

  it("rounds price x quantity to the decimals they carry", () => {
    expect(lineAmount(0.1, "0.1", 3, "3")).toBe(0.3);
    expect(lineAmount(2.55, "2.55", -2, "-2")).toBe(-5.1);
    expect(lineAmount(1.25, "1,25", 1.5, "1,5")).toBe(1.875);
  });
});

describe("parseTransactionLine, forgiving CSV", () => {
  it.each([
    ["customer_id,date,amount", "c1,2024-01-15 10:30:00,12.50", { customerId: "c1", day: dayIndex("2024-01-15"), amount: 12.5 }],
    ["customer_id,date,amount", "c1,2024-01-15T23:30:00-02:00,£12.50", { customerId: "c1", day: dayIndex("2024-01-16"), amount: 12.5 }],
    ["Customer ID;Order Date;Total", "c1;2024-01-15;12,50 €", { customerId: "c1", day: dayIndex("2024-01-15"), amount: 12.5 }],
    ["Customer ID;Order Date;Total", "c1;2024-01-15;1.234,50", { customerId: "c1", day: dayIndex("2024-01-15"), amount: 1234.5 }],
    ["email\tcreated_at\trevenue", "a@b.c\t2024-01-15T10:30:00Z\t$1,234.50", { customerId: "a@b.c", day: dayIndex("2024-01-15"), amount: 1234.5 }],
    ["customer,date,amount", 'c1,2024-01-15,"1,234.50"', { customerId: "c1", day: dayIndex("2024-01-15"), amount: 1234.5 }],
    ["customer;date;amount", 'c1;2024-01-15;"1.234,50"', { customerId: "c1", day: dayIndex("2024-01-15"), amount: 1234.5 }],
    ["Invoice,Quantity,InvoiceDate,Price,Customer ID", "489434,12,2009-12-01 07:45:00,6.95,13085.0", { customerId: "13085.0", day: dayIndex("2009-12-01"), amount: 83.4 }],
    ["Invoice,Quantity,InvoiceDate,Price,Customer ID", "C489449,-12,2009-12-01 10:33:00,2.95,16321", { customerId: "16321", day: dayIndex("2009-12-01"), amount: -35.4 }],
  ])("%j: reads %j", (header, line, expected) => {
    const decimalComma = header.includes(";");
    const result = parseTransactionLine(layoutOf(header, { decimalComma, timeZone: "UTC" }), line, 2);
    expect(result).toEqual({ ...expected, line: 2 });
  });

  it.each([
    ["customer,date,amount", false, "c1,2024-01-15,12,50", /^expected 3 columns, found 4: column 4 is extra$/],
    ["customer;date;amount", false, "c1;2024-01-15;12,50", /^column 3 "amount": "12,50" has a decimal comma: pass --decimal-comma/],
    ["customer;date;amount", false, "c1;2024-01-15;1.234,50", /^column 3 "amount": "1.234,50" has a decimal comma/],
    ["customer;date;amount", true, "c1;2024-01-15;12.50", /^column 3 "amount": "12.50" has a decimal point, but --decimal-comma reads "\." as a thousands separator/],
    ["customer,Order Date,amount", false, "c1,01/15/2024,1", /^column 2 "Order Date": "01\/15\/2024" is not a date \(expected YYYY-MM-DD, YYYYMMDD or a timestamp/],
    ["customer,date,amount", false, "c1,2024-01-15 24:10,1", /^column 2 "date": "2024-01-15 24:10" is not a date/],
    ["Customer ID,Date,Price,Qty", false, "c1,2024-01-15,2.50,two", /^column 4 "Qty": "two" is not a quantity$/],
    ["Customer ID,Date,Price,Qty", false, "c1,2024-01-15,2.5x,2", /^column 3 "Price": "2.5x" is not an amount/],
    ["Customer ID\tDate\tAmount", false, "\t2024-01-15\t2", /^column 1 "Customer ID": the customer id is empty$/],
    ["customer,date,amount", false, 'c1,2024-01-15,"12.50","x"', /^expected 3 columns, found 4: column 4 is extra$/],
  ])("%j (decimal comma %s): refuses %j naming the column", (header, decimalComma, line, message) => {
    const result = parseTransactionLine(layoutOf(header, { decimalComma, timeZone: "UTC" }), line, 7) as RowError;
    expect(result).toMatchObject({ line: 7, raw: line });
    expect(result.message).toMatch(message);
  });
});

describe("review findings (issue 16)", () => {
  it("refuses a grouped number whose first group starts with 0 (a decimal, not thousands)", () => {
    expect(parseMoneyText("0,125", false)).toBeNaN();
    expect(parseMoneyText("0.125", true)).toBeNaN();
    expect(parseMoneyText("0 125", false)).toBeNaN();
    // As a decimal the same digits are fine.
    expect(parseMoneyText("0.125", false)).toBe(0.125);
    expect(parseMoneyText("0,125", true)).toBe(0.125);
    const row = parseTransactionLine(layoutOf("customer,date,amount"), 'c1,2024-01-15,"0,125"', 7);
    expect(row).toMatchObject({ line: 7, message: expect.stringContaining('column 3 "amount": "0,125"') });
    expect((row as RowError).message).toContain("--decimal-comma");
  });

  it("refuses a lone separator before three digits in a semicolon or tab file, naming line, column and the options", () => {
    for (const [header, line] of [
      ["customer;date;amount", "c1;2024-01-15;1,234"],
      ["customer;date;amount", "c1;2024-01-15;1.234"],
      ["customer;date;amount", "c1;2024-01-15;€1.234"],
      ["customer\tdate\tamount", "c1\t2024-01-15\t1,234"],
      ["customer\tdate\tamount", "c1\t2024-01-15\t-12.500"],
    ]) {
      const row = parseTransactionLine(layoutOf(header), line, 3) as RowError;
      expect(row, line).toMatchObject({ line: 3, message: expect.stringContaining('column 3 "amount"') });
      expect(row.message).toContain("--decimal-comma");
      expect(row.message).toContain("--decimal-point");
    }
    // Unambiguous forms still read.
    const semicolon = layoutOf("customer;date;amount");
    expect(parseTransactionLine(semicolon, "c1;2024-01-15;1,234.50", 2)).toMatchObject({ amount: 1234.5 });
    expect(parseTransactionLine(semicolon, "c1;2024-01-15;12.50", 2)).toMatchObject({ amount: 12.5 });
    expect(parseTransactionLine(semicolon, "c1;2024-01-15;1234.567", 2)).toMatchObject({ amount: 1234.567 });
    expect(parseTransactionLine(semicolon, "c1;2024-01-15;0.125", 2)).toMatchObject({ amount: 0.125 });
    // The options settle it.
    const comma = layoutOf("customer;date;amount", { decimalComma: true, timeZone: "UTC" });
    expect(parseTransactionLine(comma, "c1;2024-01-15;1.234", 2)).toMatchObject({ amount: 1234 });
    expect(parseTransactionLine(comma, "c1;2024-01-15;1,234", 2)).toMatchObject({ amount: 1.234 });
    const point = layoutOf("customer;date;amount", { decimalComma: false, decimalPoint: true, timeZone: "UTC" });
    expect(parseTransactionLine(point, "c1;2024-01-15;1.234", 2)).toMatchObject({ amount: 1.234 });
    expect(parseTransactionLine(point, "c1;2024-01-15;1,234", 2)).toMatchObject({ amount: 1234 });
    // A comma-delimited file uses the decimal point (US convention): a quoted "1,234" is 1234.
    const commaFile = layoutOf("customer,date,amount");
    expect(parseTransactionLine(commaFile, 'c1,2024-01-15,"1,234"', 2)).toMatchObject({ amount: 1234 });
    expect(parseTransactionLine(commaFile, "c1,2024-01-15,1.234", 2)).toMatchObject({ amount: 1.234 });
  });

  it("prefers an email column to a bare customer (name) column", () => {
    expect(recogniseCsvHeader("Customer,Customer Email,Date,Total")).toMatchObject({ customerColumn: 1 });
    expect(recogniseCsvHeader("Customer,Email,Date,Total")).toMatchObject({ customerColumn: 1 });
    expect(recogniseCsvHeader("Customer,Customer ID,Date,Total")).toMatchObject({ customerColumn: 1 });
    expect(recogniseCsvHeader("Customer,Date,Total")).toMatchObject({ customerColumn: 0 });
  });
});

describe("empty rows and line endings (issue 16 review)", () => {
  it.each([
    ["customer,date,amount", ",,"],
    ["customer;date;amount", ";;"],
    ["customer;date;amount", " ; ;\r"],
    ["customer;date;amount", ";;;;"],
    ["customer,date,amount", '"","",""'],
  ])("treats Excel's all-empty row %j as blank", (header, row) => {
    expect(parseTransactionLine(layoutOf(header), row, 9)).toBeNull();
  });

  it("still refuses a row with a value among empty fields", () => {
    expect(parseTransactionLine(layoutOf("customer;date;amount"), ";;3", 9)).toMatchObject({ line: 9, message: expect.stringContaining("the customer id is empty") });
  });

  it("refuses CR-only (old Mac) line endings on line 1 with a clear message", () => {
    expect(() => detectFormat("customer,date,amount\ra,2024-01-01,3\r")).toThrow(TransactionFormatError);
    expect(() => detectFormat("customer,date,amount\ra,2024-01-01,3\r")).toThrow(/line 1: the lines end with CR alone \(old Mac line endings\)/);
    expect(detectFormat("customer,date,amount\r\n").format).toBe("csv");
  });
});
