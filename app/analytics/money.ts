// Exact money: decimal strings become integer minor units without passing through
// floats ("0.29" * 100 is 28.999999999999996 in floating point).

export class MoneyFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MoneyFormatError";
  }
}

/** ISO 4217 currencies whose minor unit is not 1/100 of the major unit. */
const EXPONENT_EXCEPTIONS: Readonly<Record<string, number>> = {
  // no minor unit
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0,
  UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  // thousandths
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  // units of account quoted to four places
  CLF: 4, UYW: 4,
};

const CURRENCY_CODE = /^[A-Z]{3}$/;

/** Decimal places of `currency` (ISO 4217); 2 for any code not listed as an exception. */
export function currencyExponent(currency: string): number {
  if (!CURRENCY_CODE.test(currency)) throw new MoneyFormatError(`"${currency}" is not an ISO 4217 currency code`);
  return EXPONENT_EXCEPTIONS[currency] ?? 2;
}

const DECIMAL = /^([+-])?(\d+)(?:\.(\d*))?$/;

/**
 * "186.90" USD -> 18690. Exact: works on the digits, never on a float. Trailing zeros
 * past the currency's precision are fine ("1500.00" JPY -> 1500); other extra digits
 * are an error ("12.345" USD), as is anything beyond Number.MAX_SAFE_INTEGER minor units.
 * Negative amounts (refunds) are allowed.
 */
export function toMinorUnits(decimal: string, currency: string): number {
  const exponent = currencyExponent(currency);
  const text = decimal.trim();
  const match = DECIMAL.exec(text);
  if (!match) throw new MoneyFormatError(`"${decimal}" is not a decimal amount`);
  const [, sign, whole, fraction = ""] = match;
  const kept = fraction.slice(0, exponent).padEnd(exponent, "0");
  if (/[1-9]/.test(fraction.slice(exponent))) {
    throw new MoneyFormatError(`"${decimal}" has more decimals than ${currency} allows (${exponent})`);
  }
  const digits = (whole + kept).replace(/^0+(?=\d)/, "");
  const minor = Number(digits);
  if (!Number.isSafeInteger(minor)) throw new MoneyFormatError(`"${decimal}" is too large to hold exactly`);
  return sign === "-" && minor !== 0 ? -minor : minor;
}

/**
 * Like toMinorUnits, but digits past the currency's precision are rounded half to even instead
 * of refused ("6.405" USD -> 640, "6.415" -> 642): for amounts Shopify keeps more finely than the
 * currency, such as a product's unit cost (docs/analytics/revenue.md, "Cost of goods").
 */
export function toMinorUnitsHalfEven(decimal: string, currency: string): number {
  const exponent = currencyExponent(currency);
  const match = DECIMAL.exec(decimal.trim());
  if (!match) throw new MoneyFormatError(`"${decimal}" is not a decimal amount`);
  const [, sign = "", whole, fraction = ""] = match;
  const truncated = Math.abs(toMinorUnits(`${sign}${whole}.${fraction.slice(0, exponent)}`, currency));
  const rest = fraction.slice(exponent);
  const beyondHalf = rest[0] > "5" || (rest[0] === "5" && /[1-9]/.test(rest.slice(1)));
  const exactlyHalf = rest[0] === "5" && !/[1-9]/.test(rest.slice(1));
  const magnitude = truncated + (beyondHalf || (exactlyHalf && truncated % 2 === 1) ? 1 : 0);
  if (!Number.isSafeInteger(magnitude)) throw new MoneyFormatError(`"${decimal}" is too large to hold exactly`);
  return sign === "-" && magnitude !== 0 ? -magnitude : magnitude;
}

/** 18690 USD -> "186.90"; -5 JPY -> "-5". Exact, locale-free (for files and APIs). */
export function formatMinor(minor: number, currency: string): string {
  if (!Number.isSafeInteger(minor)) throw new MoneyFormatError(`${minor} is not an integer amount of minor units`);
  const exponent = currencyExponent(currency);
  const negative = minor < 0;
  const digits = String(Math.abs(minor)).padStart(exponent + 1, "0");
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = digits.slice(digits.length - exponent);
  return `${negative ? "-" : ""}${whole}${exponent > 0 ? `.${fraction}` : ""}`;
}

/** 18690 USD -> "$186.90" (en-US) for people; uses Intl on the exact decimal string. */
export function formatMoney(minor: number, currency: string, locale = "en-US"): string {
  const exponent = currencyExponent(currency);
  const formatter = new Intl.NumberFormat(locale, {
    style: "currency",
    currency,
    minimumFractionDigits: exponent,
    maximumFractionDigits: exponent,
  });
  // Intl accepts decimal strings exactly (ES2023 Intl.NumberFormat v3).
  return formatter.format(formatMinor(minor, currency) as `${number}`);
}

/** Minor units -> a plain number of major units, for models that work in major units. */
export function minorToMajor(minor: number, currency: string): number {
  return minor / 10 ** currencyExponent(currency);
}
