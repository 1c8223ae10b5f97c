// The settings form: what the page sends, how it is checked, what is stored. PURE (zod and
// app/analytics only) so the action, the page and the tests share one definition; the page
// can check as the merchant types and the action checks again before writing.
//
// The form sends text as typed (percentages, an amount in the shop currency); parsing turns
// it into what ShopSettings stores (shares 0..1, integer minor units). Every problem is
// reported against the field it belongs to, in words that say what to enter instead.
import { DEFAULT_HOLIDAY_SEASON, type HolidaySeason, monthDayProblem } from "~/analytics/behaviour";
import { z } from "zod";
import { DEFAULT_CHURN_RISK_THRESHOLD } from "~/analytics/churn-risk";
import { DEFAULT_COST_FALLBACK_MARGIN } from "~/analytics/customer-metrics";
import { MoneyFormatError, currencyExponent, formatMinor, toMinorUnits } from "~/analytics/money";
import {
  DEFAULT_SEGMENT_RULES,
  SEGMENT_DEFINITIONS,
  SEGMENT_NAMES,
  type ScoreRange,
  type SegmentRule,
  validateSegmentRules,
} from "~/analytics/segments";

export const RULE_CONDITIONS = ["r", "f", "m", "fm"] as const;
export type RuleCondition = (typeof RULE_CONDITIONS)[number];

export const HORIZON_DAYS = { min: 30, max: 1825 } as const;
/** What Tenure can count as an order's revenue (docs/analytics/revenue.md); the first is the default. */
export const REVENUE_BASES = ["net_sales", "total_sales"] as const;
export type RevenueBasisChoice = (typeof REVENUE_BASES)[number];
export const MAX_LABEL_LENGTH = 40;
export const MAX_EXCLUSIONS = 100;
/** Shopify's own limit for a tag. */
export const MAX_EXCLUSION_LENGTH = 255;

/** One rule as edited: a segment name and, per condition, [from, to] as text ("" and "" = any score). */
export interface RuleInput {
  segment: string;
  r: [string, string];
  f: [string, string];
  m: [string, string];
  fm: [string, string];
}

/** What the settings page submits (JSON). */
export interface SettingsFormInput {
  grossMarginPercent: string;
  /** Customer acquisition cost in the shop currency, e.g. "25.50"; "" for none. */
  cac: string;
  annualDiscountRatePercent: string;
  horizonDays: string;
  segmentRules: RuleInput[];
  /** Segment key (SEGMENT_DEFINITIONS[..].key) -> the merchant's own name; "" keeps the default name. */
  segmentLabels: Record<string, string>;
  excludedOrderTags: string[];
  excludedSourceNames: string[];
  excludedCustomerTags: string[];
  /** One of REVENUE_BASES. */
  revenueBasis: string;
  /** Shopify Flow's churn-risk threshold as a percentage ("20"); absent: the default. */
  churnRiskThresholdPercent?: string;
  /** Gross margin of products without a unit cost, as a percentage ("50"); absent: the default. */
  costFallbackMarginPercent?: string;
  /** "Holiday-season first buyers": first and last day, "MM-DD"; absent or empty: the default (Nov 15 to Dec 31). */
  holidaySeasonStart?: string;
  holidaySeasonEnd?: string;
}

/** What ShopSettings stores. */
export interface SettingsValues {
  grossMargin: number;
  cacMinor: number | null;
  annualDiscountRate: number;
  horizonDays: number;
  segmentRules: SegmentRule[];
  segmentLabels: Record<string, string>;
  excludedOrderTags: string[];
  excludedSourceNames: string[];
  excludedCustomerTags: string[];
  revenueBasis: RevenueBasisChoice;
  churnRiskThreshold: number;
  costFallbackMargin: number;
  holidaySeason: HolidaySeason;
}

/** Field path ("cac", "segmentRules.2.fm", "segmentLabels.champions") -> problems. */
export type SettingsFieldErrors = Record<string, string[]>;

export type SettingsParseResult =
  | { ok: true; values: SettingsValues; warnings: string[] }
  | { ok: false; fieldErrors: SettingsFieldErrors };

const SEGMENT_KEYS: readonly string[] = Object.values(SEGMENT_DEFINITIONS).map((definition) => definition.key);

const DECIMAL = /^\d+(\.\d+)?$/;

/** A decimal as typed ("60", "60.5", " 7 "); null when it is not one. Commas and signs are refused. */
function decimal(text: string): number | null {
  const trimmed = text.trim();
  return DECIMAL.test(trimmed) ? Number(trimmed) : null;
}

/** Percent -> share without float noise (60.1 / 100 = 0.6010000000000001 otherwise). */
const shareOf = (percent: number) => Number((percent / 100).toFixed(8));
/** Share -> percent as text for the form (0.6 -> "60"). */
export const percentText = (share: number) => String(Number((share * 100).toFixed(6)));

const textPair = z.tuple([z.string(), z.string()]);

/** The submitted shape; values are still text. Anything else is refused before field checks. */
export const SettingsFormShape = z.object({
  grossMarginPercent: z.string(),
  cac: z.string(),
  annualDiscountRatePercent: z.string(),
  horizonDays: z.string(),
  segmentRules: z.array(z.object({ segment: z.string(), r: textPair, f: textPair, m: textPair, fm: textPair })).max(200),
  segmentLabels: z.record(z.string(), z.string()),
  excludedOrderTags: z.array(z.string()),
  excludedSourceNames: z.array(z.string()),
  excludedCustomerTags: z.array(z.string()),
  revenueBasis: z.string(),
  churnRiskThresholdPercent: z.string().optional(),
  costFallbackMarginPercent: z.string().optional(),
  holidaySeasonStart: z.string().optional(),
  holidaySeasonEnd: z.string().optional(),
});

function cleanList(values: string[], path: string, what: string, ctx: z.RefinementCtx): string[] {
  const seen = new Set<string>();
  const kept: string[] = [];
  for (const value of values) {
    const trimmed = value.trim();
    if (trimmed === "") continue;
    if (trimmed.length > MAX_EXCLUSION_LENGTH) {
      ctx.addIssue({ code: "custom", path: [path], message: `"${trimmed.slice(0, 30)}..." is longer than ${MAX_EXCLUSION_LENGTH} characters; no ${what} is that long.` });
      continue;
    }
    // Shopify treats tags case-insensitively; one entry per tag.
    const key = trimmed.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    kept.push(trimmed);
  }
  if (kept.length > MAX_EXCLUSIONS) ctx.addIssue({ code: "custom", path: [path], message: `At most ${MAX_EXCLUSIONS} ${what}s can be excluded; remove ${kept.length - MAX_EXCLUSIONS}.` });
  return kept;
}

function parseRule(input: RuleInput, index: number, ctx: z.RefinementCtx): SegmentRule | null {
  let ok = true;
  if (!(SEGMENT_NAMES as readonly string[]).includes(input.segment)) {
    ctx.addIssue({ code: "custom", path: ["segmentRules", index, "segment"], message: "Choose a segment for this rule." });
    ok = false;
  }
  const rule: Record<string, unknown> = { segment: input.segment };
  for (const condition of RULE_CONDITIONS) {
    const [fromText, toText] = input[condition].map((text) => text.trim());
    if (fromText === "" && toText === "") continue; // any score
    const path = ["segmentRules", index, condition];
    if (fromText === "" || toText === "") {
      ctx.addIssue({ code: "custom", path, message: "Give both the lowest and the highest score, or leave both empty for any score." });
      ok = false;
      continue;
    }
    const range = [decimal(fromText), decimal(toText)];
    if (range[0] === null || range[1] === null) {
      ctx.addIssue({ code: "custom", path, message: "Scores are numbers from 1 to 5." });
      ok = false;
      continue;
    }
    rule[condition] = range as ScoreRange;
  }
  return ok ? (rule as unknown as SegmentRule) : null;
}

/** The schema for one shop's currency (the CAC is typed in it and stored in its minor units). */
export function settingsFormSchema(currency: string) {
  const exponent = currencyExponent(currency);
  return SettingsFormShape.transform((input, ctx): SettingsValues => {
    const margin = decimal(input.grossMarginPercent);
    if (margin === null || margin <= 0 || margin > 100) {
      ctx.addIssue({ code: "custom", path: ["grossMarginPercent"], message: "Enter the share of revenue you keep after product and fulfilment costs, as a percentage above 0 and at most 100 (for example 60)." });
    }

    let cacMinor: number | null = null;
    const cacText = input.cac.trim();
    if (cacText !== "") {
      try {
        if (cacText.startsWith("-")) throw new MoneyFormatError("negative");
        cacMinor = toMinorUnits(cacText.replace(/,/g, ""), currency);
      } catch (error) {
        if (!(error instanceof MoneyFormatError)) throw error;
        const example = exponent === 0 ? "25" : `25.${"0".repeat(exponent)}`;
        ctx.addIssue({
          code: "custom",
          path: ["cac"],
          message: `Enter what you spend to win one customer, in ${currency}, as an amount such as ${example}${exponent === 0 ? " (no decimals)" : ` (at most ${exponent} decimals)`}, or leave it empty.`,
        });
      }
    }

    const discount = decimal(input.annualDiscountRatePercent);
    if (discount === null || discount > 100) {
      ctx.addIssue({ code: "custom", path: ["annualDiscountRatePercent"], message: "Enter a yearly rate from 0 to 100 percent (10 is common)." });
    }

    const horizon = decimal(input.horizonDays);
    if (horizon === null || !Number.isInteger(horizon) || horizon < HORIZON_DAYS.min || horizon > HORIZON_DAYS.max) {
      ctx.addIssue({ code: "custom", path: ["horizonDays"], message: `Enter a whole number of days from ${HORIZON_DAYS.min} to ${HORIZON_DAYS.max} (365 is one year).` });
    }

    const revenueBasis = (REVENUE_BASES as readonly string[]).includes(input.revenueBasis) ? (input.revenueBasis as RevenueBasisChoice) : null;
    if (revenueBasis === null) {
      ctx.addIssue({ code: "custom", path: ["revenueBasis"], message: `"${input.revenueBasis.slice(0, 30)}" is not a revenue choice: choose net sales or total sales.` });
    }

    // Empty or not sent: the default.
    const churnText = (input.churnRiskThresholdPercent ?? "").trim();
    const churn = churnText === "" ? null : decimal(churnText);
    const churnValid = churn !== null && churn > 0 && churn < 100;
    if (churnText !== "" && !churnValid) {
      ctx.addIssue({ code: "custom", path: ["churnRiskThresholdPercent"], message: "Enter a chance of ordering in the next 90 days, as a percentage above 0 and below 100 (20 is the default)." });
    }

    // Empty or not sent: the default (docs/analytics/revenue.md, "Cost of goods").
    const fallbackText = (input.costFallbackMarginPercent ?? "").trim();
    const fallback = fallbackText === "" ? null : decimal(fallbackText);
    const fallbackValid = fallback !== null && fallback >= 0 && fallback <= 100;
    if (fallbackText !== "" && !fallbackValid) {
      ctx.addIssue({ code: "custom", path: ["costFallbackMarginPercent"], message: "Enter the margin you make on products without a cost in Shopify, as a percentage from 0 to 100 (50 is the default)." });
    }

    // Empty or not sent: the default season (docs/analytics/segments.md).
    const season = { ...DEFAULT_HOLIDAY_SEASON };
    for (const [field, part] of [["holidaySeasonStart", "start"], ["holidaySeasonEnd", "end"]] as const) {
      const text = (input[field] ?? "").trim();
      if (text === "") continue;
      const problem = monthDayProblem(text);
      if (problem) ctx.addIssue({ code: "custom", path: [field], message: `${problem}: enter the month and day as MM-DD (11-15 is November 15).` });
      else season[part] = text;
    }

    const rules = input.segmentRules.map((rule, index) => parseRule(rule, index, ctx));
    const wellFormed = rules.filter((rule): rule is SegmentRule => rule !== null);
    if (wellFormed.length === rules.length) {
      const validation = validateSegmentRules(wellFormed);
      for (const message of validation.errors) ctx.addIssue({ code: "custom", path: ["segmentRules"], message });
    }

    const segmentLabels: Record<string, string> = {};
    const namesInUse = new Map<string, string>(); // lower-case name -> segment key
    for (const definition of Object.values(SEGMENT_DEFINITIONS)) {
      const label = (input.segmentLabels[definition.key] ?? "").trim();
      if (label.length > MAX_LABEL_LENGTH) {
        ctx.addIssue({ code: "custom", path: ["segmentLabels", definition.key], message: `Keep the name to ${MAX_LABEL_LENGTH} characters or fewer.` });
        continue;
      }
      if (label !== "" && label !== definition.name) segmentLabels[definition.key] = label;
      const shown = (label || definition.name).toLowerCase();
      const other = namesInUse.get(shown);
      if (other !== undefined) {
        ctx.addIssue({ code: "custom", path: ["segmentLabels", definition.key], message: `Another segment is already called "${label || definition.name}": give each segment its own name.` });
      } else {
        namesInUse.set(shown, definition.key);
      }
    }
    for (const key of Object.keys(input.segmentLabels)) {
      if (!SEGMENT_KEYS.includes(key)) ctx.addIssue({ code: "custom", path: ["segmentLabels", key], message: `"${key}" is not a segment.` });
    }

    return {
      grossMargin: margin === null ? 1 : shareOf(margin),
      cacMinor,
      annualDiscountRate: discount === null ? 0 : shareOf(discount),
      horizonDays: horizon ?? 0,
      segmentRules: wellFormed,
      segmentLabels,
      excludedOrderTags: cleanList(input.excludedOrderTags, "excludedOrderTags", "tag", ctx),
      excludedSourceNames: cleanList(input.excludedSourceNames, "excludedSourceNames", "sales channel", ctx),
      excludedCustomerTags: cleanList(input.excludedCustomerTags, "excludedCustomerTags", "customer tag", ctx),
      revenueBasis: revenueBasis ?? REVENUE_BASES[0],
      churnRiskThreshold: churnValid ? shareOf(churn) : DEFAULT_CHURN_RISK_THRESHOLD,
      costFallbackMargin: fallbackValid ? shareOf(fallback) : DEFAULT_COST_FALLBACK_MARGIN,
      holidaySeason: season,
    };
  });
}

/** Checks a submission; field errors keyed by path, or the values to store (with rule warnings). */
export function parseSettingsForm(input: unknown, currency: string): SettingsParseResult {
  const result = settingsFormSchema(currency).safeParse(input);
  if (!result.success) {
    const fieldErrors: SettingsFieldErrors = {};
    for (const issue of result.error.issues) {
      // Shape problems (a missing field, a number where text belongs) come from a broken client, not a person.
      const key = issue.code === "custom" ? issue.path.join(".") || "form" : "form";
      const message = issue.code === "custom" ? issue.message : "The form could not be read. Reload the page and try again.";
      const messages = (fieldErrors[key] ??= []);
      if (!messages.includes(message)) messages.push(message);
    }
    return { ok: false, fieldErrors };
  }
  return { ok: true, values: result.data, warnings: validateSegmentRules(result.data.segmentRules).warnings };
}

/** Order in which fields appear on the page: the first error gets focus. */
export function firstErrorField(fieldErrors: SettingsFieldErrors): string | null {
  const order = [
    "revenueBasis",
    "grossMarginPercent",
    "cac",
    "annualDiscountRatePercent",
    "horizonDays",
    "segmentRules",
    "churnRiskThresholdPercent",
    "costFallbackMarginPercent",
    "holidaySeasonStart",
    "holidaySeasonEnd",
    "segmentLabels",
    "excludedOrderTags",
    "excludedCustomerTags",
    "excludedSourceNames",
    "form",
  ];
  const keys = Object.keys(fieldErrors);
  for (const prefix of order) {
    const found = keys.filter((key) => key === prefix || key.startsWith(`${prefix}.`)).sort(compareFieldPaths)[0];
    if (found) return found;
  }
  return keys[0] ?? null;
}

/** "segmentRules.2.fm" before "segmentRules.10.r": numeric parts compared as numbers. */
function compareFieldPaths(a: string, b: string): number {
  const pa = a.split(".");
  const pb = b.split(".");
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if (pa[i] === undefined) return -1;
    if (pb[i] === undefined) return 1;
    const na = Number(pa[i]);
    const nb = Number(pb[i]);
    const diff = Number.isInteger(na) && Number.isInteger(nb) ? na - nb : pa[i].localeCompare(pb[i]);
    if (diff !== 0) return diff;
  }
  return 0;
}

const rangeText = (range: ScoreRange | undefined): [string, string] => (range ? [String(range[0]), String(range[1])] : ["", ""]);

export function ruleInputOf(rule: SegmentRule): RuleInput {
  return { segment: rule.segment, r: rangeText(rule.r), f: rangeText(rule.f), m: rangeText(rule.m), fm: rangeText(rule.fm) };
}

export const defaultRuleInputs = (): RuleInput[] => DEFAULT_SEGMENT_RULES.map(ruleInputOf);

/** The form's starting text from stored values. */
export function settingsFormInputOf(values: SettingsValues, currency: string): SettingsFormInput {
  return {
    grossMarginPercent: percentText(values.grossMargin),
    cac: values.cacMinor === null ? "" : formatMinor(values.cacMinor, currency),
    annualDiscountRatePercent: percentText(values.annualDiscountRate),
    horizonDays: String(values.horizonDays),
    segmentRules: values.segmentRules.map(ruleInputOf),
    segmentLabels: Object.fromEntries(Object.values(SEGMENT_DEFINITIONS).map((definition) => [definition.key, values.segmentLabels[definition.key] ?? ""])),
    excludedOrderTags: [...values.excludedOrderTags],
    excludedSourceNames: [...values.excludedSourceNames],
    excludedCustomerTags: [...values.excludedCustomerTags],
    revenueBasis: values.revenueBasis,
    churnRiskThresholdPercent: percentText(values.churnRiskThreshold),
    costFallbackMarginPercent: percentText(values.costFallbackMargin),
    holidaySeasonStart: values.holidaySeason.start,
    holidaySeasonEnd: values.holidaySeason.end,
  };
}
