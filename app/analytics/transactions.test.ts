import fc from "fast-check";
import { dayIndex } from "./dates";
import {
  type ParsedTransaction,
  type RowError,
  type SimpleLayout,
  ShopifyOrderReader,
  TransactionFormatError,
  detectFormat,
  parseDayAt,
  parseDecimalAt,
  parseTransactionLine,
  shopifyColumns,
} from "./transactions";

function layoutOf(firstLine: string): SimpleLayout {
  const detection = detectFormat(firstLine);
  if (detection.format === "shopify") throw new Error("expected a simple format");
  return detection.layout;
}

const SHOPIFY_HEADER =
  "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,Subtotal,Shipping,Taxes,Total," +
  "Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,Lineitem name,Lineitem price,Refunded Amount," +
  "Payment Method,Cancelled at,Id,Source";

describe("detectFormat", () => {
  it("recognises the CSV header in any column order, with a BOM or CRLF", () => {
    expect(detectFormat("customer_id,date,amount")).toMatchObject({ format: "csv", firstLineIsHeader: true, layout: { customerColumn: 0, dateColumn: 1, amountColumn: 2, columnCount: 3 } });
    expect(detectFormat("\uFEFFdate,Amount,channel,customer_id\r")).toMatchObject({ format: "csv", layout: { customerColumn: 3, dateColumn: 0, amountColumn: 1, columnCount: 4 } });
  });

  it("recognises CDNOW files with and without the master header", () => {
    expect(detectFormat("customer_id  date number_of_cds  dollar_value")).toMatchObject({ format: "cdnow", firstLineIsHeader: true, layout: { customerColumn: 0, columnCount: 4 } });
    expect(detectFormat(" 00004 00001 19970101  2  29.33\r")).toMatchObject({ format: "cdnow", firstLineIsHeader: false, layout: { customerColumn: 1, dateColumn: 2, amountColumn: 4, columnCount: 5 } });
    expect(detectFormat(" 00001 19970101  1   11.77")).toMatchObject({ format: "cdnow", firstLineIsHeader: false, layout: { customerColumn: 0, columnCount: 4 } });
  });

  it("recognises a Shopify orders export by its columns", () => {
    const detection = detectFormat(SHOPIFY_HEADER);
    expect(detection.format).toBe("shopify");
    if (detection.format === "shopify") expect(detection.columns).toMatchObject({ name: 0, email: 1, total: 11, createdAt: 15, refundedAmount: 19 });
  });

  it.each([
    ["", /empty/],
    ["id,when,value", /^line 1: unrecognised CSV header "id,when,value": no customer column .*, no date column .*, no amount column/],
    ["Name,Email,Total", /^line 1: unrecognised CSV header "Name,Email,Total": no date column \(date, order date/],
    ["customer;date;price", /^line 1: unrecognised CSV header .*: no amount column \(amount, total, revenue, \.\.\., or price and quantity\)/],
    ["hello world", /^line 1: unrecognised first line/],
  ])("rejects %j with a message that says what was expected", (line, message) => {
    expect(() => detectFormat(line)).toThrow(TransactionFormatError);
    expect(() => detectFormat(line)).toThrow(message);
  });
});

describe("parseTransactionLine", () => {
  const csv = layoutOf("customer_id,date,amount");
  const cdnow = layoutOf("00004 00001 19970101 2 29.33");

  it.each([
    ["c1,2024-02-29,12.50", { customerId: "c1", day: dayIndex("2024-02-29"), amount: 12.5 }],
    ["c1,20240229,12.50\r", { customerId: "c1", day: dayIndex("2024-02-29"), amount: 12.5 }],
    [" alice@example.com , 2024-01-01 , -3.25 ", { customerId: "alice@example.com", day: dayIndex("2024-01-01"), amount: -3.25 }],
    ['"Doe, Jane",2024-01-01,1', { customerId: "Doe, Jane", day: dayIndex("2024-01-01"), amount: 1 }],
    ['"say ""hi""",2024-01-01,"7.5"', { customerId: 'say "hi"', day: dayIndex("2024-01-01"), amount: 7.5 }],
  ])("reads CSV %j", (line, expected) => {
    expect(parseTransactionLine(csv, line, 9)).toEqual({ ...expected, line: 9 });
  });

  it("reads CDNOW rows keyed by the sample id", () => {
    expect(parseTransactionLine(cdnow, " 00004 00001 19970118  2  29.73\r", 2)).toEqual({ customerId: "00001", day: dayIndex("1997-01-18"), amount: 29.73, line: 2 });
  });

  it("skips blank lines", () => {
    expect(parseTransactionLine(csv, "", 3)).toBeNull();
    expect(parseTransactionLine(csv, "  \r", 3)).toBeNull();
    expect(parseTransactionLine(cdnow, "\t", 3)).toBeNull();
  });

  it.each([
    ["c1,2024-02-30,1", /^column 2 "date": "2024-02-30" is not a date/],
    ["c1,2024/01/01,1", /^column 2 "date": "2024\/01\/01" is not a date/],
    ["c1,2024-01-01,12,50", /^expected 3 columns, found 4: column 4 is extra$/],
    ["c1,2024-01-01", /^expected 3 columns, found 2: no column 3 "amount"$/],
    ["c1", /^expected 3 columns, found 1: no column 2 "date" to column 3 "amount"$/],
    [",2024-01-01,1", /^column 1 "customer_id": the customer id is empty/],
    ["c1,2024-01-01,5 apples", /^column 3 "amount": "5 apples" is not an amount/],
    ["c1,2024-01-01,1e3", /^column 3 "amount": "1e3" is not an amount/],
    ["c1,2024-01-01,", /^column 3 "amount": the amount is empty/],
    ['"c1,2024-01-01,1', /malformed CSV/],
  ])("reports CSV %j as an error with its line, column and text", (line, message) => {
    const result = parseTransactionLine(csv, line, 42) as RowError;
    expect(result).toMatchObject({ line: 42, raw: line.replace(/\r$/, "") });
    expect(result.message).toMatch(message);
  });

  it("reports short CDNOW rows, naming the missing column", () => {
    expect(parseTransactionLine(cdnow, "00004 00001 19970118 2", 5)).toMatchObject({ line: 5, message: 'expected 5 columns, found 4: no column 5 "dollars"' });
    expect(parseTransactionLine(cdnow, "00004 00001 1997011 2 3.5", 6)).toMatchObject({ line: 6, message: 'column 3 "date": "1997011" is not a date (expected YYYYMMDD)' });
  });
});

describe("parseDayAt / parseDecimalAt", () => {
  it("parses exactly what Number() parses for plain decimals", () => {
    const decimal = fc
      .tuple(fc.constantFrom("", "-", "+"), fc.stringMatching(/^\d{1,9}$/), fc.option(fc.stringMatching(/^\d{0,6}$/)))
      .map(([sign, whole, fraction]) => `${sign}${whole}${fraction === null ? "" : `.${fraction}`}`);
    fc.assert(
      fc.property(decimal, (text) => {
        expect(parseDecimalAt(text, 0, text.length)).toBe(Number(text));
      }),
    );
  });

  it("falls back to Number() beyond 15 digits and rejects non-decimals", () => {
    expect(parseDecimalAt("12345678901234567.5", 0, 19)).toBe(Number("12345678901234567.5"));
    for (const bad of ["", "-", ".", "1.2.3", "1e5", "0x10", "Infinity", "1 000"]) expect(parseDecimalAt(bad, 0, bad.length)).toBeNaN();
  });

  it("parses dates inside a larger string", () => {
    const text = "x,2024-03-01,y,20240302";
    expect(parseDayAt(text, 2, 12)).toBe(dayIndex("2024-03-01"));
    expect(parseDayAt(text, 15, 23)).toBe(dayIndex("2024-03-02"));
    expect(parseDayAt(text, 0, 1)).toBeNaN();
  });
});

describe("ShopifyOrderReader", () => {
  const header = SHOPIFY_HEADER.split(",");
  const columns = shopifyColumns(header)!;
  const row = (fields: Record<string, string>): string[] => header.map((name) => fields[name] ?? "");
  const order = (fields: Record<string, string>) =>
    row({ Currency: "USD", "Financial Status": "paid", "Lineitem quantity": "1", "Lineitem name": "Socks", "Lineitem price": "10.00", ...fields });

  it("takes each order once, from its first row, at Total minus Refunded Amount", () => {
    const reader = new ShopifyOrderReader(columns);
    const first = reader.accept(
      order({ Name: "#1001", Email: " Ada@Example.com", Total: "91.46", "Refunded Amount": "20.00", "Created at": "2024-06-02 10:15:44 -0400", Source: "web", "Discount Code": "SUMMER10" }),
      2,
      "raw",
    );
    expect(first).toEqual({
      customerId: "ada@example.com",
      day: dayIndex("2024-06-02"),
      amount: 71.46,
      line: 2,
      attributes: { channel: "web", discountCode: "SUMMER10", firstProduct: "Socks" },
    });
    expect(reader.accept(row({ Name: "#1001", Email: "ada@example.com", "Lineitem name": "Beanie" }), 3, "raw")).toEqual({ skipped: "line-item-row", line: 3 });
    expect(reader.accept(order({ Name: "#1001", Email: "ada@example.com", Total: "91.46", "Created at": "2024-06-02 10:15:44 -0400" }), 4, "raw")).toEqual({ skipped: "duplicate-order", line: 4 });
  });

  it("dates an order by the calendar day in the timestamp's own offset", () => {
    const reader = new ShopifyOrderReader(columns);
    const late = reader.accept(order({ Name: "#1", Email: "a@b.c", Total: "1.00", "Created at": "2024-03-10 23:30:00 -0400" }), 2, "") as ParsedTransaction;
    expect(late.day).toBe(dayIndex("2024-03-10"));
    const iso = reader.accept(order({ Name: "#2", Email: "a@b.c", Total: "1.00", "Created at": "2024-03-10T23:30:00+09:00" }), 3, "") as ParsedTransaction;
    expect(iso.day).toBe(dayIndex("2024-03-10"));
  });

  it("skips test orders and orders without an email; counts voided orders at zero", () => {
    const reader = new ShopifyOrderReader(columns);
    expect(reader.accept(order({ Name: "#1", Email: "t@x.y", Total: "5.00", "Created at": "2024-01-01 10:00:00 +0000", "Payment Method": "(for testing) Bogus Gateway" }), 2, "")).toEqual({ skipped: "test-order", line: 2 });
    expect(reader.accept(order({ Name: "#2", Email: "", Total: "5.00", "Created at": "2024-01-01 10:00:00 +0000" }), 3, "")).toEqual({ skipped: "no-email", line: 3 });
    expect(reader.accept(order({ Name: "#3", Email: "k@x.y", Total: "70.77", "Financial Status": "voided", "Created at": "2024-05-11 16:45:00 -0400" }), 4, "")).toMatchObject({ customerId: "k@x.y", amount: 0 });
  });

  it("works in the currency's own minor units", () => {
    const reader = new ShopifyOrderReader(columns);
    expect(reader.accept(order({ Name: "#1", Email: "a@b.c", Currency: "JPY", Total: "15000", "Refunded Amount": "500", "Created at": "2024-01-01 10:00:00 +0900" }), 2, "")).toMatchObject({ amount: 14500 });
    expect(reader.accept(order({ Name: "#2", Email: "a@b.c", Currency: "KWD", Total: "12.345", "Created at": "2024-01-01 10:00:00 +0300" }), 3, "")).toMatchObject({ amount: 12.345 });
  });

  it.each([
    [{ Total: "12.345" }, /^order #9: column 12 "Total": "12.345" has more decimals than USD/],
    [{ Total: "twelve" }, /^order #9: column 12 "Total": "twelve" is not a decimal amount/],
    [{ "Refunded Amount": "1,5" }, /^order #9: column 20 "Refunded Amount": "1,5" is not a decimal amount/],
    [{ Currency: "EURO" }, /^order #9: column 8 "Currency": "EURO" is not an ISO 4217 currency code/],
    [{ "Created at": "yesterday" }, /^order #9: column 16 "Created at": "yesterday" is not a timestamp/],
    [{ "Created at": "2024-02-30 10:00:00 +0000" }, /^order #9: column 16 "Created at": "2024-02-30 10:00:00 \+0000" is not a calendar date/],
    [{ Name: "" }, /^column 1 "Name": the order name is empty/],
  ])("reports a malformed order %j as an error naming the column", (fields, message) => {
    const reader = new ShopifyOrderReader(columns);
    const result = reader.accept(order({ Name: "#9", Email: "a@b.c", Total: "10.00", "Created at": "2024-01-01 10:00:00 +0000", ...fields }), 7, "the raw row") as RowError;
    expect(result).toMatchObject({ line: 7, raw: "the raw row" });
    expect(result.message).toMatch(message);
  });

  it("reports rows with the wrong number of columns", () => {
    const reader = new ShopifyOrderReader(columns);
    expect(reader.accept(["#1", "a@b.c"], 5, "#1,a@b.c")).toMatchObject({ line: 5, message: `expected ${header.length} columns, found 2: no column 3 and after` });
  });
});
