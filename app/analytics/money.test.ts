import fc from "fast-check";
import { MoneyFormatError, currencyExponent, formatMinor, formatMoney, minorToMajor, toMinorUnits, toMinorUnitsHalfEven } from "./money";

describe("currencyExponent", () => {
  it.each([
    ["USD", 2], ["EUR", 2], ["JPY", 0], ["KRW", 0], ["VND", 0], ["CLP", 0],
    ["BHD", 3], ["KWD", 3], ["OMR", 3], ["JOD", 3], ["TND", 3], ["IQD", 3], ["LYD", 3], ["CLF", 4],
  ])("%s has %i decimals", (currency, exponent) => {
    expect(currencyExponent(currency)).toBe(exponent);
  });

  it("rejects anything that is not a three-letter code", () => {
    expect(() => currencyExponent("usd")).toThrow(MoneyFormatError);
    expect(() => currencyExponent("US")).toThrow(MoneyFormatError);
  });
});

describe("toMinorUnits", () => {
  it.each([
    ["186.90", "USD", 18690],
    ["0.29", "USD", 29],
    ["0.1", "USD", 10],
    ["12", "EUR", 1200],
    ["12.", "EUR", 1200],
    ["+3.50", "EUR", 350],
    ["-8.05", "USD", -805],
    ["-0.00", "USD", 0],
    ["1500", "JPY", 1500],
    ["1500.00", "JPY", 1500],
    ["1.234", "KWD", 1234],
    ["  7.10 ", "USD", 710],
    ["90071992547409.91", "USD", 9007199254740991],
  ])("%j %s -> %i", (text, currency, expected) => {
    expect(toMinorUnits(text, currency)).toBe(expected);
  });

  it.each([
    ["12.345", "USD", /more decimals than USD allows \(2\)/],
    ["1500.5", "JPY", /more decimals than JPY/],
    ["1.2345", "KWD", /more decimals than KWD/],
    ["1,000.00", "USD", /not a decimal amount/],
    ["", "USD", /not a decimal amount/],
    ["1e3", "USD", /not a decimal amount/],
    [".5", "USD", /not a decimal amount/],
    ["--1", "USD", /not a decimal amount/],
    ["90071992547409.92", "USD", /too large/],
  ])("rejects %j %s", (text, currency, message) => {
    expect(() => toMinorUnits(text, currency)).toThrow(message);
  });

  it("round-trips with formatMinor for any safe amount", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e15, max: 1e15 }), fc.constantFrom("USD", "JPY", "KWD", "CLF"), (minor, currency) => {
        expect(toMinorUnits(formatMinor(minor, currency), currency)).toBe(minor);
      }),
    );
  });
});

describe("formatting", () => {
  it("formats minor units as exact decimals", () => {
    expect(formatMinor(18690, "USD")).toBe("186.90");
    expect(formatMinor(5, "USD")).toBe("0.05");
    expect(formatMinor(-5, "USD")).toBe("-0.05");
    expect(formatMinor(1500, "JPY")).toBe("1500");
    expect(formatMinor(1234, "KWD")).toBe("1.234");
    expect(() => formatMinor(1.5, "USD")).toThrow(MoneyFormatError);
  });

  it("formats for people with the currency's symbol and decimals", () => {
    expect(formatMoney(123456, "USD")).toBe("$1,234.56");
    expect(formatMoney(1500, "JPY")).toBe("¥1,500");
    expect(formatMoney(-805, "USD")).toBe("-$8.05");
    // Beyond float precision for cents, still exact.
    expect(formatMoney(9007199254740991, "USD")).toBe("$90,071,992,547,409.91");
  });

  it("converts to major units", () => {
    expect(minorToMajor(18690, "USD")).toBe(186.9);
    expect(minorToMajor(1500, "JPY")).toBe(1500);
  });
});

describe("toMinorUnitsHalfEven", () => {
  it.each([
    ["6.405", "USD", 640],
    ["6.415", "USD", 642],
    ["6.4051", "USD", 641],
    ["6.4049", "USD", 640],
    ["6.40", "USD", 640],
    ["0.005", "USD", 0],
    ["-0.015", "USD", -2],
    ["1500.5", "JPY", 1500],
    ["1501.5", "JPY", 1502],
    ["1.2345", "KWD", 1234],
  ] as const)("%s %s -> %i", (text, currency, expected) => {
    expect(toMinorUnitsHalfEven(text, currency)).toBe(expected);
  });

  it("still refuses what is not a decimal amount", () => {
    expect(() => toMinorUnitsHalfEven("6,40", "USD")).toThrow(MoneyFormatError);
    expect(() => toMinorUnitsHalfEven("", "USD")).toThrow(MoneyFormatError);
  });
});
