import { BEHAVIOURAL_SEGMENT_KEYS } from "~/analytics/behaviour";
import { currencyExponent, minorToMajor } from "~/analytics/money";
import { SEGMENT_DEFINITIONS } from "~/analytics/segments";
import { type ProfileFigures, type ProfileShop, predictedValue12m, roundedFraction } from "~/display/profile-properties";

// Tenure's customer metafields in Shopify (issue 15): the definitions as data, and a
// customer's figures as the values to write. Pure: no I/O. The definitions are created by
// definitions.server.ts; the extensions (admin block, segment templates) import the keys.
//
// Docs read (Admin GraphQL 2025-10/2026-10, help center):
//  - app-owned namespace: "$app" becomes "app--<api client id>" on the shop, so the resolved
//    namespace is read back from Shopify, never built here
//    https://shopify.dev/docs/apps/build/custom-data/ownership
//  - access: app-owned definitions default to admin MERCHANT_READ (merchants see, only the app
//    writes); storefront NONE https://shopify.dev/docs/apps/build/custom-data/permissions
//  - segment editor: a customer metafield with a definition is a filter when its type is date
//    and time (date, date_time), number, text or true/false; "text with a list of values" is
//    filtered with CONTAINS https://help.shopify.com/en/manual/customers/customer-segmentation/reference-guide/metafield-segments
//  - validations: "choices" (up to 128 values) for text and text lists; min/max for numbers
//    https://shopify.dev/docs/apps/build/metafields/list-of-validation-options
//  - capabilities: none set. adminFilterable is eligible for a few owner types and value
//    types only (Shopify answers "The capability admin_filterable is not valid for this
//    definition" otherwise) and smartCollectionCondition is for products; the segment
//    editor needs neither https://shopify.dev/docs/apps/build/metafields/use-metafield-capabilities

/** What Tenure asks for: Shopify resolves it to the app's own namespace, `app--<id>`. */
export const TENURE_METAFIELD_NAMESPACE = "$app";

export const CUSTOMER_OWNER_TYPE = "CUSTOMER";

/** The metafield types Tenure uses, each one the segment editor filters on. */
export type TenureMetafieldType = "single_line_text_field" | "list.single_line_text_field" | "number_decimal" | "date" | "date_time";

export const TENURE_METAFIELD_KEYS = {
  rfmSegment: "rfm_segment",
  behaviours: "behaviours",
  expectedSpend12m: "expected_spend_12m",
  historicValue: "historic_value",
  chanceOfOrdering90d: "chance_of_ordering_90d",
  expectedNextOrder: "expected_next_order",
  lastScored: "last_scored",
} as const;

export type TenureMetafieldKey = (typeof TENURE_METAFIELD_KEYS)[keyof typeof TENURE_METAFIELD_KEYS];

export interface MetafieldValidation {
  name: string;
  value: string;
}

export interface TenureMetafieldDefinition {
  key: TenureMetafieldKey;
  /** What the merchant reads in admin and as the segment editor's filter name. */
  name: string;
  description: string;
  type: TenureMetafieldType;
  validations: MetafieldValidation[];
  /** MERCHANT_READ: visible in admin, written only by Tenure. */
  access: { admin: "MERCHANT_READ"; storefront: "NONE" };
}

/** The RFM segment keys, Champions first: the allowed values of the RFM metafield. */
export const RFM_SEGMENT_VALUES: readonly string[] = Object.values(SEGMENT_DEFINITIONS).map((definition) => definition.key);
export const BEHAVIOUR_VALUES: readonly string[] = BEHAVIOURAL_SEGMENT_KEYS;

const choices = (values: readonly string[]): MetafieldValidation => ({ name: "choices", value: JSON.stringify(values) });
const ACCESS = { admin: "MERCHANT_READ", storefront: "NONE" } as const;

// The values are segment KEYS ("champions", "at-risk"), not names: a merchant may rename a
// segment in Settings, and a key keeps the published Shopify segments' queries and the
// choices list valid across renames. The names are in the description and in Tenure.
//
// Behaviours are a text LIST: the segment editor filters "text with a list of values" with
// CONTAINS (help center page above), so "customers with behaviour X" is one condition.
export const TENURE_METAFIELD_DEFINITIONS: readonly TenureMetafieldDefinition[] = [
  {
    key: TENURE_METAFIELD_KEYS.rfmSegment,
    name: "Tenure RFM segment",
    description: "The customer's RFM segment in Tenure (recency, frequency, money), by key: champions, loyal, at-risk, lost, ... Updated when the customer's orders change.",
    type: "single_line_text_field",
    validations: [choices(RFM_SEGMENT_VALUES)],
    access: ACCESS,
  },
  {
    key: TENURE_METAFIELD_KEYS.behaviours,
    name: "Tenure behaviours",
    description: "The customer's behavioural segments in Tenure, by key: repeat-buyer, big-spender, discount-shopper, vip, ... A customer can have several.",
    type: "list.single_line_text_field",
    validations: [choices(BEHAVIOUR_VALUES)],
    access: ACCESS,
  },
  {
    key: TENURE_METAFIELD_KEYS.expectedSpend12m,
    name: "Tenure expected spend, next 12 months",
    description: "What Tenure expects the customer to spend over the next 12 months, in the shop's currency. Empty until Tenure has a prediction.",
    type: "number_decimal",
    validations: [],
    access: ACCESS,
  },
  {
    key: TENURE_METAFIELD_KEYS.historicValue,
    name: "Tenure historic value",
    description: "What the customer has spent so far, in the shop's currency, after refunds and edits.",
    type: "number_decimal",
    validations: [],
    access: ACCESS,
  },
  {
    key: TENURE_METAFIELD_KEYS.chanceOfOrdering90d,
    name: "Tenure chance of ordering in 90 days",
    description: "Tenure's chance that the customer orders in the next 90 days, from 0 to 1 (0.25 is 25%).",
    type: "number_decimal",
    validations: [
      { name: "min", value: "0" },
      { name: "max", value: "1" },
    ],
    access: ACCESS,
  },
  {
    key: TENURE_METAFIELD_KEYS.expectedNextOrder,
    name: "Tenure expected next order",
    description: "The day Tenure expects the customer's next order, in the shop's time zone. Empty when Tenure expects none.",
    type: "date",
    validations: [],
    access: ACCESS,
  },
  {
    key: TENURE_METAFIELD_KEYS.lastScored,
    name: "Tenure last scored",
    description: "When Tenure last computed these figures for the customer.",
    type: "date_time",
    validations: [],
    access: ACCESS,
  },
];

export function tenureMetafieldDefinition(key: string): TenureMetafieldDefinition | null {
  return TENURE_METAFIELD_DEFINITIONS.find((definition) => definition.key === key) ?? null;
}

/** One metafield value as metafieldsSet takes it (the namespace and owner come with the call). */
export interface TenureMetafieldValue {
  key: TenureMetafieldKey;
  type: TenureMetafieldType;
  value: string;
}

/**
 * A customer's metafields: `set` the values Tenure has, `clear` the keys it has no figure
 * for (no prediction yet, no behaviour, no expected order), which are deleted, not written
 * empty: metafieldsSet refuses a blank value.
 */
export interface TenureMetafieldWrite {
  set: TenureMetafieldValue[];
  clear: TenureMetafieldKey[];
}

/** Money in the currency's major units with its decimals: 1234.5 USD -> "1234.50", 1500 JPY -> "1500". */
export function decimalMoney(major: number, currency: string): string {
  return major.toFixed(currencyExponent(currency));
}

/** A fraction as a plain decimal (never exponent notation): 0.1234 -> "0.1234". */
export function decimalFraction(value: number): string {
  return String(Number(value.toFixed(4)));
}

/** Shopify's date_time: ISO 8601 in UTC to the second. */
export function shopifyDateTime(at: Date): string {
  return `${at.toISOString().slice(0, 19)}Z`;
}

/**
 * The metafields of one customer, from the same figures the email tools and the export get
 * (app/display/profile-properties.ts): money in major units of the shop currency, the
 * 12-month expected spend by the Settings horizon rule, chances rounded to 4 places, the
 * expected next order as the shop-time-zone day. `scoredAt`: when the metrics row was computed.
 */
export function tenureMetafieldValues(figures: ProfileFigures, shop: ProfileShop, scoredAt: Date): TenureMetafieldWrite {
  const set: TenureMetafieldValue[] = [];
  const clear: TenureMetafieldKey[] = [];
  const put = (key: TenureMetafieldKey, value: string | null) => {
    const definition = tenureMetafieldDefinition(key);
    if (!definition) throw new Error(`no Tenure metafield definition for ${key}`);
    if (value === null) clear.push(key);
    else set.push({ key, type: definition.type, value });
  };

  put(TENURE_METAFIELD_KEYS.rfmSegment, figures.segment !== null && RFM_SEGMENT_VALUES.includes(figures.segment) ? figures.segment : null);
  const behaviours = figures.behaviours.filter((key) => BEHAVIOUR_VALUES.includes(key));
  put(TENURE_METAFIELD_KEYS.behaviours, behaviours.length > 0 ? JSON.stringify(behaviours) : null);
  const expected = predictedValue12m(figures, shop);
  put(TENURE_METAFIELD_KEYS.expectedSpend12m, expected === null ? null : decimalMoney(expected, shop.currency));
  const historic = figures.netSpentMinor === null ? 0 : minorToMajor(Number(figures.netSpentMinor), shop.currency);
  put(TENURE_METAFIELD_KEYS.historicValue, decimalMoney(historic, shop.currency));
  const chance = roundedFraction(figures.chanceOfOrder90d);
  put(TENURE_METAFIELD_KEYS.chanceOfOrdering90d, chance === null ? null : decimalFraction(chance));
  put(TENURE_METAFIELD_KEYS.expectedNextOrder, figures.expectedNextOrderDay);
  put(TENURE_METAFIELD_KEYS.lastScored, shopifyDateTime(scoredAt));
  return { set, clear };
}

/** Shopify's limit of metafields per metafieldsSet call. */
export const METAFIELDS_PER_CALL = 25;

/** Shopify's customer GID of a decimal customer id. */
export const customerGid = (customerId: string): string => `gid://shopify/Customer/${customerId}`;

/** A metafieldsSet userError (MetafieldsSetUserError): the input it points at by elementIndex or field path. */
export interface MetafieldsSetUserError {
  field?: string[] | null;
  message: string;
  code?: string | null;
  elementIndex?: number | null;
}

/** The index of the input a metafieldsSet userError points at: elementIndex, else the number in its field path (["metafields", "3", "value"]). */
export function metafieldInputIndex(error: MetafieldsSetUserError): number | null {
  if (typeof error.elementIndex === "number") return error.elementIndex;
  const position = error.field?.[0] === "metafields" ? Number(error.field[1]) : Number.NaN;
  return Number.isInteger(position) ? position : null;
}
