// Exact decimal-string -> integer minor units. Shopify sends money as decimal strings
// ("186.90"); parsing them as floats would lose cents on large sums, so we never do.

/** ISO 4217 minor-unit exponents that differ from the usual 2. */
const EXPONENT_EXCEPTIONS: Record<string, number> = {
  // zero-decimal currencies
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0,
  UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  // three-decimal currencies
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  // four-decimal units of account
  CLF: 4, UYW: 4,
};

export class MoneyFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MoneyFormatError";
  }
}

/** Number of decimal digits in one major unit of `currency` (ISO 4217). */
export function currencyExponent(currency: string): number {
  if (!/^[A-Z]{3}$/.test(currency)) throw new MoneyFormatError(`"${currency}" is not an ISO 4217 currency code`);
  return EXPONENT_EXCEPTIONS[currency] ?? 2;
}

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

/**
 * "186.90" USD -> 18690n. Accepts trailing zeros beyond the currency's precision
 * ("1500.00" JPY -> 1500n) but rejects digits it would have to round away.
 * Numbers are accepted for the few payload fields Shopify sends unquoted; they are
 * read through their shortest decimal representation, which is exact for money.
 */
export function toMinorUnits(amount: string | number, currency: string): bigint {
  const text = typeof amount === "number" ? numberToDecimal(amount) : amount.trim();
  const match = DECIMAL.exec(text);
  if (!match) throw new MoneyFormatError(`"${text}" is not a decimal amount`);
  const [, sign, whole, fraction = ""] = match;
  const exponent = currencyExponent(currency);
  const kept = fraction.slice(0, exponent).padEnd(exponent, "0");
  const dropped = fraction.slice(exponent);
  if (/[1-9]/.test(dropped)) {
    throw new MoneyFormatError(`"${text}" has more precision than ${currency} allows (${exponent} decimals)`);
  }
  const minor = BigInt(whole + kept);
  return sign ? -minor : minor;
}

function numberToDecimal(value: number): string {
  if (!Number.isFinite(value)) throw new MoneyFormatError(`${value} is not a finite amount`);
  // String(1e21) is exponential; amounts that large are not money.
  const text = String(value);
  if (/e/i.test(text)) throw new MoneyFormatError(`${text} is out of range for money`);
  return text;
}
