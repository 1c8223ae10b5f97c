// Named RFM segments from a rule table. The rules are plain data (JSON) so a merchant can
// edit them in settings; validateSegmentRules tells them, in plain words, what is wrong.
//
// A rule names a segment and lists score ranges, all of which must hold:
//   r, f, m  the RFM scores (whole numbers 1..5), inclusive [min, max];
//   fm       the average of F and M, (f + m) / 2, which moves in half steps (1, 1.5, ..., 5).
// A condition left out matches any score. Rules are tried in order; the first match wins.
// The default table is the widely used recency x "frequency-and-money" grid with the
// classic eleven segments (docs/analytics/segments.md shows it as a grid).
import { BEHAVIOURAL_SEGMENT_KEYS } from "./behaviour";
import type { RfmScore, RfmScores } from "./rfm";

export const SEGMENT_NAMES = [
  "Champions",
  "Loyal",
  "Potential loyalist",
  "New",
  "Promising",
  "Need attention",
  "About to sleep",
  "At risk",
  "Can't lose them",
  "Hibernating",
  "Lost",
] as const;

export type SegmentName = (typeof SEGMENT_NAMES)[number];

/** Inclusive [min, max]. */
export type ScoreRange = [number, number];

export interface SegmentRule {
  segment: SegmentName;
  r?: ScoreRange;
  f?: ScoreRange;
  m?: ScoreRange;
  /** Range of (f + m) / 2. */
  fm?: ScoreRange;
}

export interface SegmentDefinition {
  /** Stable slug for tags, exports and URLs. */
  key: string;
  name: SegmentName;
  description: string;
  action: string;
}

export const DEFAULT_SEGMENT_RULES: readonly SegmentRule[] = [
  { segment: "Champions", r: [5, 5], fm: [4, 5] },
  { segment: "Loyal", r: [3, 4], fm: [4, 5] },
  { segment: "Can't lose them", r: [1, 2], fm: [5, 5] },
  { segment: "At risk", r: [1, 2], f: [2, 5], fm: [3, 4.5] },
  { segment: "New", r: [5, 5], fm: [1, 1.5] },
  { segment: "Promising", r: [4, 4], fm: [1, 1.5] },
  { segment: "Potential loyalist", r: [4, 5], fm: [2, 3.5] },
  { segment: "Need attention", r: [3, 3], fm: [3, 3.5] },
  { segment: "About to sleep", r: [3, 3], fm: [1, 2.5] },
  { segment: "Hibernating", r: [2, 2] },
  { segment: "Lost", r: [1, 1] },
];

export const SEGMENT_DEFINITIONS: Readonly<Record<SegmentName, SegmentDefinition>> = {
  Champions: {
    key: "champions",
    name: "Champions",
    description: "Ordered very recently, order often and spend the most.",
    action: "Reward them: early access, loyalty perks, ask for reviews and referrals. They rarely need a discount.",
  },
  Loyal: {
    key: "loyal",
    name: "Loyal",
    description: "Order often and spend well, though their last order was not the most recent.",
    action: "Offer higher-value products, invite them to your loyalty programme, ask for reviews.",
  },
  "Potential loyalist": {
    key: "potential-loyalist",
    name: "Potential loyalist",
    description: "Ordered recently, with a few orders or a good-sized basket so far.",
    action: "Recommend related products and offer membership or loyalty points to win the next order.",
  },
  New: {
    key: "new",
    name: "New",
    description: "Placed their first order very recently.",
    action: "Send a welcome series, help them use what they bought, make the second order easy.",
  },
  Promising: {
    key: "promising",
    name: "Promising",
    description: "Ordered fairly recently, once or rarely, and spent little so far.",
    action: "Build awareness of your range; a sample or small incentive can bring a second order.",
  },
  "Need attention": {
    key: "need-attention",
    name: "Need attention",
    description: "Middle of the road on recency, orders and spend.",
    action: "Send limited-time offers and recommendations based on what they bought.",
  },
  "About to sleep": {
    key: "about-to-sleep",
    name: "About to sleep",
    description: "Have not ordered for a while and ordered or spent little: slipping away.",
    action: "Reconnect with popular products or useful content, perhaps a modest discount.",
  },
  "At risk": {
    key: "at-risk",
    name: "At risk",
    description: "Ordered several times and spent well, but not for a long time.",
    action: "Send personal win-back emails and reminders of what they liked.",
  },
  "Can't lose them": {
    key: "cant-lose-them",
    name: "Can't lose them",
    description: "Among your best customers by orders and spend, but they have not ordered for a long time.",
    action: "Win them back with personal outreach and your newest products; ask what went wrong.",
  },
  Hibernating: {
    key: "hibernating",
    name: "Hibernating",
    description: "Last order long ago, few orders and low spend.",
    action: "Show relevant products or a special offer, but keep spending on them low.",
  },
  Lost: {
    key: "lost",
    name: "Lost",
    description: "Longest since their last order, with few orders and low spend.",
    action: "Try one reactivation campaign; otherwise leave them out of paid campaigns.",
  },
};

/** Every segment key, the RFM segments' then the behavioural ones': what a destination may receive, what a form may name. */
export const ALL_SEGMENT_KEYS: ReadonlySet<string> = new Set([...Object.values(SEGMENT_DEFINITIONS).map((definition) => definition.key), ...BEHAVIOURAL_SEGMENT_KEYS]);

const CONDITIONS = ["r", "f", "m", "fm"] as const;
type Condition = (typeof CONDITIONS)[number];

const SCORES: readonly RfmScore[] = [1, 2, 3, 4, 5];

/** All 125 score combinations, r slowest. */
export function allScoreCombinations(): RfmScores[] {
  const combos: RfmScores[] = [];
  for (const r of SCORES) for (const f of SCORES) for (const m of SCORES) combos.push({ r, f, m });
  return combos;
}

function comboIndex(scores: RfmScores): number {
  return (scores.r - 1) * 25 + (scores.f - 1) * 5 + (scores.m - 1);
}

function inRange(value: number, range: ScoreRange | undefined): boolean {
  return range === undefined || (value >= range[0] && value <= range[1]);
}

export function ruleMatches(rule: SegmentRule, scores: RfmScores): boolean {
  return (
    inRange(scores.r, rule.r) &&
    inRange(scores.f, rule.f) &&
    inRange(scores.m, rule.m) &&
    inRange((scores.f + scores.m) / 2, rule.fm)
  );
}

/** Lookup of the 125 combinations: the segment, or null where no rule matches. */
function compile(rules: readonly SegmentRule[]): (SegmentName | null)[] {
  return allScoreCombinations().map((scores) => rules.find((rule) => ruleMatches(rule, scores))?.segment ?? null);
}

const compiled = new WeakMap<readonly SegmentRule[], (SegmentName | null)[]>();

function isScore(value: unknown): value is RfmScore {
  return value === 1 || value === 2 || value === 3 || value === 4 || value === 5;
}

/** The segment of a score triple: the first rule that matches. */
export function segmentFor(scores: RfmScores, rules: readonly SegmentRule[] = DEFAULT_SEGMENT_RULES): SegmentName {
  if (!isScore(scores.r) || !isScore(scores.f) || !isScore(scores.m)) {
    throw new RangeError(`RFM scores must be whole numbers from 1 to 5 (got R${scores.r} F${scores.f} M${scores.m})`);
  }
  let table = compiled.get(rules);
  if (!table) {
    table = compile(rules);
    compiled.set(rules, table);
  }
  const segment = table[comboIndex(scores)];
  if (segment === null) throw new RangeError(`No segment rule matches ${formatScores(scores)}`);
  return segment;
}

export function formatScores(scores: RfmScores): string {
  return `R${scores.r} F${scores.f} M${scores.m}`;
}

export interface SegmentRulesValidation {
  ok: boolean;
  /** Problems that make the rules unusable, in plain words. */
  errors: string[];
  /** Allowed but probably unintended: rules that never apply, segments never used. */
  warnings: string[];
  /** Score combinations no rule matches (all 125 must be covered). */
  uncovered: RfmScores[];
}

const CONDITION_LABELS: Readonly<Record<Condition, string>> = {
  r: "R",
  f: "F",
  m: "M",
  fm: "(F+M)/2",
};

function checkRange(value: unknown, condition: Condition, where: string, errors: string[]): void {
  const label = CONDITION_LABELS[condition];
  const step = condition === "fm" ? "in steps of 0.5" : "whole numbers";
  const problem = `${where}: ${label} must be a range [lowest, highest] of scores from 1 to 5 (${step})`;
  if (!Array.isArray(value) || value.length !== 2) {
    errors.push(`${problem}.`);
    return;
  }
  const [low, high] = value as unknown[];
  const unit = condition === "fm" ? 2 : 1;
  for (const bound of [low, high]) {
    if (typeof bound !== "number" || !Number.isInteger(bound * unit) || bound < 1 || bound > 5) {
      errors.push(`${problem}; ${JSON.stringify(bound)} is not.`);
      return;
    }
  }
  if ((low as number) > (high as number)) errors.push(`${where}: ${label} range [${String(low)}, ${String(high)}] has its lowest above its highest.`);
}

/** Checks rules edited by a merchant. Reports every problem at once. */
export function validateSegmentRules(rules: unknown): SegmentRulesValidation {
  const errors: string[] = [];
  const warnings: string[] = [];
  if (!Array.isArray(rules)) {
    return { ok: false, errors: ["Segment rules must be a list of rules."], warnings, uncovered: [] };
  }
  if (rules.length === 0) errors.push("There are no segment rules: add at least one.");

  const wellFormed: SegmentRule[] = [];
  rules.forEach((rule: unknown, index) => {
    const where = `Rule ${index + 1}`;
    if (rule === null || typeof rule !== "object" || Array.isArray(rule)) {
      errors.push(`${where} is not a rule (expected a segment name and score ranges).`);
      return;
    }
    const record = rule as Record<string, unknown>;
    const before = errors.length;
    if (typeof record.segment !== "string" || !(SEGMENT_NAMES as readonly string[]).includes(record.segment)) {
      const named = typeof record.segment === "string" ? `${where}: "${record.segment}" is not a segment` : `${where} has no segment name`;
      errors.push(`${named}. Segments are: ${SEGMENT_NAMES.join(", ")}.`);
    }
    for (const key of Object.keys(record)) {
      if (key === "segment") continue;
      if (!(CONDITIONS as readonly string[]).includes(key)) {
        errors.push(`${where}: unknown condition "${key}" (use r, f, m or fm).`);
      } else if (record[key] !== undefined) {
        checkRange(record[key], key as Condition, `${where} (${String(record.segment)})`, errors);
      }
    }
    if (errors.length === before) wellFormed.push(rule as SegmentRule);
  });
  if (errors.length > 0) return { ok: false, errors, warnings, uncovered: [] };

  const combos = allScoreCombinations();
  const uncovered = combos.filter((scores) => !wellFormed.some((rule) => ruleMatches(rule, scores)));
  if (uncovered.length > 0) {
    const shown = uncovered.slice(0, 10).map(formatScores).join(", ");
    const more = uncovered.length > 10 ? ` and ${uncovered.length - 10} more` : "";
    errors.push(
      `${uncovered.length} of the 125 score combinations match no rule: ${shown}${more}. Add a rule for them or widen a range.`,
    );
  }

  const winningRule = combos.map((scores) => wellFormed.findIndex((rule) => ruleMatches(rule, scores)));
  wellFormed.forEach((rule, index) => {
    if (!winningRule.includes(index)) {
      const matchesAny = combos.some((scores) => ruleMatches(rule, scores));
      warnings.push(
        matchesAny
          ? `Rule ${index + 1} (${rule.segment}) never applies: earlier rules already match all of its score combinations.`
          : `Rule ${index + 1} (${rule.segment}) never applies: no score combination fits all of its ranges.`,
      );
    }
  });
  const used = new Set(winningRule.filter((index) => index >= 0).map((index) => wellFormed[index].segment));
  const unused = SEGMENT_NAMES.filter((name) => !used.has(name));
  if (unused.length > 0) warnings.push(`No customer can be in: ${unused.join(", ")}.`);

  return { ok: errors.length === 0, errors, warnings, uncovered };
}

/** A rule in words, e.g. "R 5 and (F+M)/2 from 4 to 5". */
export function describeRule(rule: SegmentRule): string {
  const parts = CONDITIONS.filter((condition) => rule[condition] !== undefined).map((condition) => {
    const [low, high] = rule[condition] as ScoreRange;
    const label = CONDITION_LABELS[condition];
    return low === high ? `${label} ${low}` : `${label} from ${low} to ${high}`;
  });
  return parts.length === 0 ? "any scores" : parts.join(" and ");
}
