// Money parsing lives in app/analytics/money.ts (pure, exact). This re-export keeps
// earlier imports of "~/ingest/money" working; import from "~/analytics/money" instead.
export { MoneyFormatError, currencyExponent, toMinorUnits } from "~/analytics/money";
