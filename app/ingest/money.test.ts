import { MoneyFormatError, currencyExponent, toMinorUnits } from "./money";

describe("toMinorUnits", () => {
  it.each([
    ["186.90", "USD", 18690n],
    ["0.00", "USD", 0n],
    ["0.1", "USD", 10n],
    ["12", "EUR", 1200n],
    ["-8.00", "USD", -800n],
    ["1500", "JPY", 1500n],
    ["1500.00", "JPY", 1500n],
    ["1.234", "KWD", 1234n],
    ["92233720368547758.07", "USD", 9223372036854775807n],
  ])("%s %s -> %s", (amount, currency, expected) => {
    expect(toMinorUnits(amount, currency)).toBe(expected);
  });

  it("reads unquoted numbers through their decimal form, exactly", () => {
    expect(toMinorUnits(16.2, "USD")).toBe(1620n);
    expect(toMinorUnits(0.29, "USD")).toBe(29n); // 0.29 * 100 is 28.999999999999996 in floats
  });

  it.each([
    ["12.345", "USD", /more precision than USD/],
    ["1500.5", "JPY", /more precision than JPY/],
    ["1,000.00", "USD", /not a decimal amount/],
    ["", "USD", /not a decimal amount/],
    ["1e3", "USD", /not a decimal amount/],
    ["10.00", "usd", /not an ISO 4217/],
  ])("rejects %j %s", (amount, currency, message) => {
    expect(() => toMinorUnits(amount, currency)).toThrow(MoneyFormatError);
    expect(() => toMinorUnits(amount, currency)).toThrow(message);
  });

  it("knows the ISO 4217 exponents", () => {
    expect([currencyExponent("USD"), currencyExponent("JPY"), currencyExponent("BHD"), currencyExponent("CLF")]).toEqual([2, 0, 3, 4]);
  });
});
