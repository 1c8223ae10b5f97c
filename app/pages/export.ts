import { currencyExponent, formatMinor } from "~/analytics/money";
import { ALL_SEGMENT_KEYS } from "~/analytics/segments";
import { EMAIL_SUBSCRIBED, type ExportRow } from "~/data/customer-export";
import { sqlLiteral } from "~/db/sql-literal";
import { expectedSpendLabel } from "~/display/glossary";
import { TENURE_MERGE_FIELDS } from "~/display/mailchimp-merge-fields";
import { type TenureProfileProperties, destinationSegmentName, roundedFraction, tenureProfileProperties } from "~/display/profile-properties";
import { segmentName } from "~/display/segment-names";

// Exports of a segment or of the customer table's current view as CSV (issue 14; the
// formats are documented in docs/exports.md), no server code: the presets and their fixed
// header rows, one customer as each preset's cells, the guard against formula injection,
// the file name, and the request's preset and consent choice. The stream is
// export.server.ts; the rows come from app/data/customer-export.server.ts.

export const EXPORT_PRESETS = ["klaviyo", "mailchimp", "shopify", "tenure"] as const;
export type ExportPreset = (typeof EXPORT_PRESETS)[number];

/** Which customers an export holds: those subscribed to email marketing (with an email), or everyone. */
export type ExportConsent = "subscribed" | "all";

export const PRESET_LABELS: Readonly<Record<ExportPreset, string>> = {
  klaviyo: "Klaviyo (list import)",
  mailchimp: "Mailchimp (audience import)",
  shopify: "Shopify (customer import)",
  tenure: "Tenure (every figure, for analysis)",
};

/** One customer as the export reads them (app/data/customer-export.server.ts reads them). */
export type { ExportRow };

/** What a preset's cells are made from besides the customer. */
export interface ExportContext {
  currency: string;
  /** The merchant's segment names (ShopSettings.segmentLabels). */
  labels: Readonly<Record<string, string>>;
  horizonDays: number;
  /** The segment the file is an export of (its tag in the Mailchimp and Shopify presets); null: the customer table's view. */
  segmentKey: string | null;
}

/**
 * A cell is either text that came from outside Tenure (names, emails, tags, the merchant's
 * segment labels), which is guarded against formula injection, or a value Tenure wrote
 * (numbers, dates, enum states), which is written as it is: a negative amount stays a
 * number a spreadsheet can add up.
 */
type Cell = string | number | null;

/** Text from outside Tenure, guarded (see neutraliseCell). */
const text = (value: string | null | undefined): string => neutraliseCell(value ?? "");

/** First characters a spreadsheet reads as the start of a formula: = + - @ tab CR, and the full-width = + - @ some apps normalise. */
const FORMULA_START_CHARACTERS = ["=", "+", "-", "@", "\t", "\r", "\uFF1D", "\uFF0B", "\uFF0D", "\uFF20"] as const;
const FORMULA_STARTS = new Set<string>(FORMULA_START_CHARACTERS);
/**
 * A whole cell that is a plain signed number (an E.164 phone "+15551234567", "-12"): a
 * spreadsheet reads it as that number, never as a formula. ASCII digits only and no
 * backslash, so one source is the same pattern in JS and in PostgreSQL (neutraliseSql).
 */
const PLAIN_NUMBER_SOURCE = "^[+-]?[0-9]+([.][0-9]+)?$";
const PLAIN_NUMBER = new RegExp(PLAIN_NUMBER_SOURCE);

/**
 * OWASP's CSV injection defence: a cell that begins with =, +, -, @, tab or carriage return
 * (or their full-width forms) is prefixed with a single quote, so a spreadsheet shows it as
 * text instead of running it. A cell that is only a signed number is left alone: it cannot
 * call anything, and a quote would break the phone numbers Klaviyo and Mailchimp import
 * ("+15551234567").
 */
export function neutraliseCell(value: string): string {
  if (value === "" || !FORMULA_STARTS.has(value[0]) || PLAIN_NUMBER.test(value)) return value;
  return `'${value}`;
}

/**
 * neutraliseCell as an SQL expression of a text expression (the COPY export's cells): the
 * same first characters (as chr() of their code points) and the same plain-number pattern.
 */
export function neutraliseSql(value: string): string {
  const starts = FORMULA_START_CHARACTERS.map((character) => `chr(${character.codePointAt(0)})`).join(", ");
  return `(CASE WHEN left(${value}, 1) IN (${starts}) AND ${value} !~ ${sqlLiteral(PLAIN_NUMBER_SOURCE)} THEN '''' || ${value} ELSE ${value} END)`;
}

/** Minor units as text -> major units as exact decimal text ("1869" USD -> "18.69"). */
function major(minor: string | null, currency: string): string | null {
  if (minor === null) return null;
  return formatMinor(Number(minor), currency);
}

/** Each segment key's name, guarded, worked out once per export rather than once per row. */
const guardedNames = new WeakMap<ExportContext, Map<string, string>>();

function guardedSegmentName(key: string, context: ExportContext): string {
  let names = guardedNames.get(context);
  if (!names) guardedNames.set(context, (names = new Map()));
  let name = names.get(key);
  if (name === undefined) names.set(key, (name = neutraliseCell(segmentName(key, context.labels))));
  return name;
}

/** The RFM segment's name as the merchant sees it, guarded (a label is the merchant's text). */
function segmentLabel(key: string | null, context: ExportContext): string | null {
  return key === null ? null : guardedSegmentName(key, context);
}

/** The behavioural segments' names, joined as one cell ("VIP; Repeat buyer"). */
function behaviourNames(customer: ExportRow, context: ExportContext): string {
  return customer.behaviours.map((key) => guardedSegmentName(key, context)).join("; ");
}

interface PresetDefinition {
  header: (context: ExportContext) => string[];
  cells: (customer: ExportRow, context: ExportContext) => Cell[];
}

/** Tenure's figures as the sync's profile properties (display/profile-properties.ts): same names, units and meaning. */
const TENURE_PROPERTY_HEADERS: readonly (keyof TenureProfileProperties)[] = [
  "tenure_rfm_segment",
  "tenure_behaviours",
  "tenure_predicted_value_12m",
  "tenure_historic_value",
  "tenure_chance_of_ordering_90d",
  "tenure_p_alive",
  "tenure_next_order_date",
];

/** The customer's profile properties, worked out as the sync works them out, with the shop's figures from the export's context. */
function profileProperties(customer: ExportRow, context: ExportContext): TenureProfileProperties {
  return tenureProfileProperties(customer, { currency: context.currency, labels: context.labels, horizonDays: context.horizonDays });
}

/** The properties as cells: names guarded (a label is the merchant's text), behaviours joined in one cell. */
function tenureProperties(customer: ExportRow, context: ExportContext): Cell[] {
  const properties = profileProperties(customer, context);
  return TENURE_PROPERTY_HEADERS.map((name) => {
    if (name === "tenure_rfm_segment") return segmentLabel(customer.segment, context);
    if (name === "tenure_behaviours") return behaviourNames(customer, context);
    return properties[name] as Cell;
  });
}

/** The Mailchimp sync's merge fields as cells, in TENURE_MERGE_FIELDS' order and units (chance in %); text guarded. */
function mergeFieldCells(customer: ExportRow, context: ExportContext): Cell[] {
  const properties = profileProperties(customer, context);
  return TENURE_MERGE_FIELDS.map((field) => {
    if (field.tag === "TNR_SEG") return segmentLabel(customer.segment, context);
    return field.value(properties);
  });
}

/** The tags of the customer in the file: the segment the file exports (Mailchimp, Shopify). */
function exportTags(context: ExportContext): string[] {
  return context.segmentKey === null ? [] : [destinationSegmentName(context.segmentKey, context.labels)];
}

/** Several tags in one cell: comma-separated, as Mailchimp and Shopify read them (a tag with a comma is dropped from the cell's split by quoting it). */
function tagCell(tags: readonly string[]): string {
  return tags.map((tag) => (tag.includes(",") ? `"${tag.replace(/"/g, "")}"` : tag)).join(", ");
}

const PRESETS: Readonly<Record<ExportPreset, PresetDefinition>> = {
  // Klaviyo's list upload: the first column is Email; Klaviyo's own property names map
  // themselves; every other column becomes a custom property under its header. No consent
  // column, so the upload subscribes nobody.
  klaviyo: {
    header: () => ["Email", "Phone Number", "First Name", "Last Name", ...TENURE_PROPERTY_HEADERS],
    cells: (c, context) => [text(c.email), text(c.phone), text(c.firstName), text(c.lastName), ...tenureProperties(c, context)],
  },
  // Mailchimp's audience import: Email Address is required; Tags holds the segment's tag;
  // Tenure's columns are the Mailchimp sync's merge fields, named as Mailchimp shows them
  // (so the import maps each onto its field) and in the sync's units.
  mailchimp: {
    header: () => [
      "Email Address",
      "First Name",
      "Last Name",
      "Phone Number",
      "Tags",
      ...TENURE_MERGE_FIELDS.map((field) => field.name),
    ],
    cells: (c, context) => [
      text(c.email),
      text(c.firstName),
      text(c.lastName),
      text(c.phone),
      text(tagCell(exportTags(context))),
      ...mergeFieldCells(c, context),
    ],
  },
  // Shopify's customer import template (Customers > Import): addresses are left blank
  // (Tenure does not store them); Tags keeps the customer's own tags and adds the segment's.
  shopify: {
    header: () => [
      "First Name",
      "Last Name",
      "Email",
      "Accepts Email Marketing",
      "Default Address Company",
      "Default Address Address1",
      "Default Address Address2",
      "Default Address City",
      "Default Address Province Code",
      "Default Address Country Code",
      "Default Address Zip",
      "Default Address Phone",
      "Phone",
      "Accepts SMS Marketing",
      "Tags",
      "Note",
      "Tax Exempt",
    ],
    cells: (c, context) => [
      text(c.firstName),
      text(c.lastName),
      text(c.email),
      c.emailConsentState === EMAIL_SUBSCRIBED ? "yes" : "no",
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      text(c.phone),
      c.smsConsentState === EMAIL_SUBSCRIBED ? "yes" : "no",
      text(tagCell([...new Set([...c.tags, ...exportTags(context)])])),
      null,
      null,
    ],
  },
  // Every figure, under the glossary's names with their units (money in the shop
  // currency's major units, revenue; chances and P(alive) as fractions 0 to 1).
  tenure: {
    header: (context) => [
      "Customer ID",
      "Email",
      "First name",
      "Last name",
      "Phone",
      "Recency (R) (score 1-5)",
      "Frequency (F) (score 1-5)",
      "Monetary (M) (score 1-5)",
      "RFM segment",
      "Behavioural segments",
      `Spent to date (revenue, ${context.currency})`,
      `${expectedSpendLabel(context.horizonDays)} (revenue, ${context.currency})`,
      `Lifetime value (revenue, ${context.currency})`,
      "Chance of ordering, next 90 days (0-1)",
      "Chance of ordering, next 12 months (0-1)",
      "P(alive) (0-1)",
      "Expected next order (date)",
      "Orders",
      "First order (date)",
      "Last order (date)",
      "Email marketing consent",
      "Email opt-in level",
      "Email consent updated at (UTC)",
      "SMS marketing consent",
      "SMS opt-in level",
      "SMS consent updated at (UTC)",
    ],
    cells: (c, context) => [
      c.id,
      text(c.email),
      text(c.firstName),
      text(c.lastName),
      text(c.phone),
      c.rScore,
      c.fScore,
      c.mScore,
      segmentLabel(c.segment, context),
      behaviourNames(c, context),
      major(c.netSpentMinor, context.currency),
      major(c.predictedClvMinor, context.currency),
      c.predictedClvMinor === null ? null : major(String(BigInt(c.netSpentMinor) + BigInt(c.predictedClvMinor)), context.currency),
      roundedFraction(c.chanceOfOrder90d),
      roundedFraction(c.chanceOfOrder365d),
      roundedFraction(c.pAlive),
      c.expectedNextOrderDay,
      c.orders,
      c.firstOrderDay,
      c.lastOrderDay,
      c.emailConsentState,
      c.emailOptInLevel,
      c.emailConsentUpdatedAt,
      c.smsConsentState,
      c.smsOptInLevel,
      c.smsConsentUpdatedAt,
    ],
  },
};

// ---- The same cells written by PostgreSQL (ADR 0018) ----
// The export's file is written by COPY; the functions above stay the definition the SQL is
// held to (tests/pages/export-parity.test.ts runs both over the same rows). Each cell is an
// SQL expression over "CustomerMetrics" cm and "Customer" c giving text or null (an empty
// text is written as an empty cell, as csv-stringify writes ""), numbers worked out in the
// same arithmetic: float8 where JS uses a double, numeric where JS writes exact decimals.

/** A date as YYYY-MM-DD: its own text, which readExportCsv pins to ISO (DateStyle); to_char cost PostgreSQL twice as much per cell. */
const daySql = (column: string) => `(${column})::text`;

/** Math.round in float8: the nearest integer, halves up (PostgreSQL's round(float8) rounds halves to even). `x` is evaluated thrice: a column or a small expression. */
const jsRoundSql = (x: string) => `(floor(${x}) + CASE WHEN ${x} - floor(${x}) >= 0.5 THEN 1 ELSE 0 END)`;

/** roundedFraction (profile-properties.ts) in float8. */
const roundedFractionSql = (x: string) => `(${jsRoundSql(`(${x}) * 10000::float8`)} / 10000::float8)`;

/** round(value, digits) of mailchimp-merge-fields.ts in float8. */
const roundSql = (x: string, digits: number) => `(${jsRoundSql(`(${x}) * ${10 ** digits}::float8`)} / ${10 ** digits}::float8)`;

/** Text from outside Tenure, guarded (text()). */
const textSql = (column: string) => neutraliseSql(`coalesce(${column}, '')`);

/** Minor units -> major units, exact, without trailing zeros (minorToMajor's number as JS writes it: 1869 -> 18.69, 1000 -> 10). */
const majorNumberSql = (minor: string, exponent: number) => `trim_scale((${minor})::numeric / ${10 ** exponent})`;

/** Minor units -> major units with the currency's decimals (formatMinor: 1000 -> 10.00). */
const majorFixedSql = (minor: string, exponent: number) => `round((${minor})::numeric / ${10 ** exponent}, ${exponent})`;

/** What the SQL cells need from the export's context, worked out once per export. */
interface SqlContext {
  context: ExportContext;
  exponent: number;
  /** Each segment key's guarded name as a jsonb literal (the merchant's labels applied in JS, segmentName). */
  names: string;
}

function sqlContext(context: ExportContext): SqlContext {
  const keys = new Set([...ALL_SEGMENT_KEYS, ...Object.keys(context.labels)]);
  const names = Object.fromEntries([...keys].map((key) => [key, guardedSegmentName(key, context)]));
  return { context, exponent: currencyExponent(context.currency), names: `${sqlLiteral(JSON.stringify(names))}::jsonb` };
}

/** segmentLabel: a key's guarded name; a key Tenure does not know is its own name, guarded. */
const segmentLabelSql = (key: string, sql: SqlContext) => `coalesce(${sql.names} ->> ${key}, ${neutraliseSql(key)})`;

/** Behaviours a customer can have at most without the export's slow path (there are fewer behaviour keys than this). */
const BEHAVIOURS_INLINE = 12;

/**
 * behaviourNames: the names in the array's order, joined by "; ". Element by element,
 * in a CASE on the array's length: a subquery over unnest() per row was the costliest cell
 * of the COPY (ADR 0018). Longer arrays, which Tenure never writes, take that subquery.
 */
const behaviourNamesSql = (sql: SqlContext) => {
  const label = (position: number) => segmentLabelSql(`cm.behaviours[${position}]`, sql);
  const branches = Array.from({ length: BEHAVIOURS_INLINE }, (_, index) => {
    const count = index + 1;
    return `WHEN ${count} THEN concat_ws('; ', ${Array.from({ length: count }, (__, position) => label(position + 1)).join(", ")})`;
  });
  const general = `array_to_string(ARRAY(SELECT ${segmentLabelSql("b.key", sql)} FROM unnest(cm.behaviours) WITH ORDINALITY AS b(key, n) ORDER BY b.n), '; ')`;
  return `CASE coalesce(cardinality(cm.behaviours), 0) WHEN 0 THEN '' ${branches.join(" ")} ELSE ${general} END`;
};

/** Expected orders in 365 days x expected order value, minor units, rounded as predictedValue12m rounds it (a double). */
const expectedSpend365dMinorSql = () => jsRoundSql(`(cm."expectedPurchases365d" * cm."expectedOrderValueMinor"::float8)`);

/** predictedValue12m as a double (the merge field rounds it): the stored prediction, or expected orders x order value for another horizon. */
function predictedValue12mDoubleSql(sql: SqlContext): string {
  const divisor = `${10 ** sql.exponent}::float8`;
  if (sql.context.horizonDays === 365) return `(cm."predictedClvMinor"::float8 / ${divisor})`;
  return `(${expectedSpend365dMinorSql()} / ${divisor})`;
}

/** predictedValue12m as JS writes the number: the exact decimal of the minor units. */
function predictedValue12mSql(sql: SqlContext): string {
  if (sql.context.horizonDays === 365) return majorNumberSql(`cm."predictedClvMinor"`, sql.exponent);
  return majorNumberSql(`${expectedSpend365dMinorSql()}::bigint`, sql.exponent);
}

/** tenureProfileProperties' values as SQL, by property name. */
function profilePropertiesSql(sql: SqlContext): Record<keyof TenureProfileProperties, string> {
  return {
    tenure_rfm_segment: segmentLabelSql("cm.segment", sql),
    tenure_behaviours: behaviourNamesSql(sql),
    tenure_predicted_value_12m: predictedValue12mSql(sql),
    tenure_historic_value: majorNumberSql(`coalesce(cm."netSpentMinor", 0)`, sql.exponent),
    tenure_chance_of_ordering_90d: roundedFractionSql(`cm."chanceOfOrder90d"`),
    tenure_p_alive: roundedFractionSql(`cm."pAlive"`),
    tenure_next_order_date: daySql(`cm."expectedNextOrderDay"`),
  };
}

/** TENURE_MERGE_FIELDS' values as SQL, by tag (a field added there without SQL here fails the export, loudly). */
function mergeFieldSql(tag: string, sql: SqlContext): string {
  switch (tag) {
    case "TNR_SEG":
      return segmentLabelSql("cm.segment", sql);
    case "TNR_PV":
      return roundSql(predictedValue12mDoubleSql(sql), 2);
    case "TNR_CHANCE":
      return roundSql(`${roundedFractionSql(`cm."chanceOfOrder90d"`)} * 100::float8`, 1);
    case "TNR_NEXT":
      return daySql(`cm."expectedNextOrderDay"`);
    default:
      throw new Error(`The Mailchimp merge field ${tag} has no SQL in the export (app/pages/export.ts mergeFieldSql).`);
  }
}

/** tagCell of the customer's tags then the export's, each first occurrence kept, guarded as one cell. */
function shopifyTagsSql(sql: SqlContext): string {
  const exportTagsArray = `ARRAY[${exportTags(sql.context).map(sqlLiteral).join(", ")}]::text[]`;
  const cell = `array_to_string(ARRAY(
      SELECT CASE WHEN strpos(t.tag, ',') > 0 THEN '"' || replace(t.tag, '"', '') || '"' ELSE t.tag END
      FROM unnest(coalesce(c.tags, '{}') || ${exportTagsArray}) WITH ORDINALITY AS t(tag, n)
      GROUP BY t.tag ORDER BY min(t.n)), ', ')`;
  return `(SELECT ${neutraliseSql("tag_cell.v")} FROM (SELECT ${cell} AS v) AS tag_cell)`;
}

const consentYesNoSql = (column: string) => `CASE WHEN ${column} = ${sqlLiteral(EMAIL_SUBSCRIBED)} THEN 'yes' ELSE 'no' END`;
const utcSql = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;

const PRESETS_SQL: Readonly<Record<ExportPreset, (sql: SqlContext) => string[]>> = {
  klaviyo: (sql) => {
    const properties = profilePropertiesSql(sql);
    return [textSql("c.email"), textSql("c.phone"), textSql(`c."firstName"`), textSql(`c."lastName"`), ...TENURE_PROPERTY_HEADERS.map((name) => properties[name])];
  },
  mailchimp: (sql) => [
    textSql("c.email"),
    textSql(`c."firstName"`),
    textSql(`c."lastName"`),
    textSql("c.phone"),
    sqlLiteral(text(tagCell(exportTags(sql.context)))),
    ...TENURE_MERGE_FIELDS.map((field) => mergeFieldSql(field.tag, sql)),
  ],
  shopify: (sql) => [
    textSql(`c."firstName"`),
    textSql(`c."lastName"`),
    textSql("c.email"),
    consentYesNoSql(`c."emailConsentState"`),
    ...Array<string>(8).fill("NULL"),
    textSql("c.phone"),
    consentYesNoSql(`c."smsConsentState"`),
    shopifyTagsSql(sql),
    "NULL",
    "NULL",
  ],
  tenure: (sql) => [
    `cm."customerId"`,
    textSql("c.email"),
    textSql(`c."firstName"`),
    textSql(`c."lastName"`),
    textSql("c.phone"),
    `cm."rScore"`,
    `cm."fScore"`,
    `cm."mScore"`,
    segmentLabelSql("cm.segment", sql),
    behaviourNamesSql(sql),
    majorFixedSql(`cm."netSpentMinor"`, sql.exponent),
    majorFixedSql(`cm."predictedClvMinor"`, sql.exponent),
    majorFixedSql(`cm."netSpentMinor" + cm."predictedClvMinor"`, sql.exponent),
    roundedFractionSql(`cm."chanceOfOrder90d"`),
    roundedFractionSql(`cm."chanceOfOrder365d"`),
    roundedFractionSql(`cm."pAlive"`),
    daySql(`cm."expectedNextOrderDay"`),
    `cm.orders`,
    daySql(`cm."firstOrderDay"`),
    daySql(`cm."lastOrderDay"`),
    `c."emailConsentState"`,
    `c."emailOptInLevel"`,
    utcSql(`c."emailConsentUpdatedAt"`),
    `c."smsConsentState"`,
    `c."smsOptInLevel"`,
    utcSql(`c."smsConsentUpdatedAt"`),
  ],
};

/** The preset's cells as SQL expressions (presetCells' values, written by PostgreSQL), in the header's order. */
export function presetCellsSql(preset: ExportPreset, context: ExportContext): string[] {
  return PRESETS_SQL[preset](sqlContext(context));
}

/** The preset's fixed header row. */
export function presetHeader(preset: ExportPreset, context: ExportContext): string[] {
  return PRESETS[preset].header(context);
}

/** One customer as the preset's cells, in the header's order. */
export function presetCells(preset: ExportPreset, customer: ExportRow, context: ExportContext): Cell[] {
  return PRESETS[preset].cells(customer, context);
}

export type ExportOptions = { ok: true; preset: ExportPreset; consent: ExportConsent } | { ok: false; message: string };

/** `?preset=` (required) and `&consent=all` (optional) from an export's URL, or why they are wrong (the route answers 400). */
export function parseExportOptions(params: URLSearchParams): ExportOptions {
  const preset = params.get("preset");
  if (!preset) return { ok: false, message: `Choose a format with ?preset=: one of ${EXPORT_PRESETS.join(", ")}.` };
  if (!(EXPORT_PRESETS as readonly string[]).includes(preset)) {
    return { ok: false, message: `Unknown format "${preset}": use one of ${EXPORT_PRESETS.join(", ")}.` };
  }
  const consent = params.get("consent");
  if (consent !== null && consent !== "all" && consent !== "subscribed") {
    return { ok: false, message: `Unknown consent choice "${consent}": leave it out (customers subscribed to email marketing) or use consent=all (everyone).` };
  }
  return { ok: true, preset: preset as ExportPreset, consent: consent === "all" ? "all" : "subscribed" };
}

/** A file-name part: letters and digits of any script, other runs as "-", at most 60 characters. */
function fileNamePart(value: string): string {
  const cleaned = value
    .normalize("NFC")
    .replace(/\.myshopify\.com$/i, "")
    .replace(/[^\p{L}\p{N}]+/gu, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60)
    .replace(/-+$/, "");
  return cleaned || "export";
}

/** "<shop>-<segment>-<YYYY-MM-DD>.csv": the shop without .myshopify.com, the segment's name, the shop's date. */
export function exportFileName(shop: string, what: string, isoDay: string): string {
  return `${fileNamePart(shop)}-${fileNamePart(what)}-${isoDay}.csv`;
}

/** Content-Disposition with an ASCII file name and the UTF-8 one (RFC 6266 / 5987) when they differ. */
export function contentDisposition(fileName: string): string {
  const ascii = fileName.normalize("NFKD").replace(/[^\x20-\x7e]/g, "").replace(/["\\]/g, "") || "export.csv";
  const utf8 = encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return ascii === fileName ? `attachment; filename="${ascii}"` : `attachment; filename="${ascii}"; filename*=UTF-8''${utf8}`;
}

/** How many customers of a view an export holds and leaves out, and why (the export menu shows it before download). */
export interface ExportCounts {
  /** Customers in the view (segment or filtered table). */
  customers: number;
  /** With an email and subscribed to email marketing: the default export. */
  subscribed: number;
  /** Left out by default: no email address. */
  noEmail: number;
  /** Left out by default: an email, but not subscribed (not subscribed, unsubscribed, pending, never asked, ...). */
  notSubscribed: number;
}

/** "120 of 200 customers: 30 have no email address, 50 are not subscribed to email marketing." */
export function leftOutText(counts: ExportCounts): string {
  const n = (value: number) => value.toLocaleString("en-US");
  const left = counts.noEmail + counts.notSubscribed;
  if (left === 0) return `All ${n(counts.customers)} ${counts.customers === 1 ? "customer is" : "customers are"} subscribed to email marketing.`;
  const reasons = [
    counts.noEmail > 0 ? `${n(counts.noEmail)} ${counts.noEmail === 1 ? "has" : "have"} no email address` : null,
    counts.notSubscribed > 0 ? `${n(counts.notSubscribed)} ${counts.notSubscribed === 1 ? "is" : "are"} not subscribed to email marketing` : null,
  ].filter(Boolean);
  return `${n(counts.subscribed)} of ${n(counts.customers)} customers; ${n(left)} left out: ${reasons.join(", ")}.`;
}
