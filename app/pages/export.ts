import { formatMinor } from "~/analytics/money";
import { EMAIL_SUBSCRIBED, type ExportRow } from "~/data/customer-export";
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
const FORMULA_STARTS = new Set(["=", "+", "-", "@", "\t", "\r", "\uFF1D", "\uFF0B", "\uFF0D", "\uFF20"]);
/** A whole cell that is a plain signed number (an E.164 phone "+15551234567", "-12"): a spreadsheet reads it as that number, never as a formula. */
const PLAIN_NUMBER = /^[+-]?\d+(\.\d+)?$/;

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
