import type { RfmScores } from "./rfm";
import {
  allScoreCombinations,
  DEFAULT_SEGMENT_RULES,
  describeRule,
  SEGMENT_DEFINITIONS,
  SEGMENT_NAMES,
  type SegmentName,
  type SegmentRule,
  segmentFor,
  validateSegmentRules,
} from "./segments";

/** The default grid as documented in docs/analytics/segments.md, written independently of the rule table. */
function documentedGrid({ r, f, m }: RfmScores): SegmentName {
  const fm = (f + m) / 2;
  if (r === 5) return fm >= 4 ? "Champions" : fm >= 2 ? "Potential loyalist" : "New";
  if (r === 4) return fm >= 4 ? "Loyal" : fm >= 2 ? "Potential loyalist" : "Promising";
  if (r === 3) return fm >= 4 ? "Loyal" : fm >= 3 ? "Need attention" : "About to sleep";
  if (fm === 5) return "Can't lose them";
  if (fm >= 3 && f >= 2) return "At risk";
  return r === 2 ? "Hibernating" : "Lost";
}

describe("default segment rules", () => {
  it("map every one of the 125 combinations to one of the eleven segments, as documented", () => {
    const combos = allScoreCombinations();
    expect(combos).toHaveLength(125);
    expect(new Set(combos.map((s) => `${s.r}${s.f}${s.m}`)).size).toBe(125);
    const reached = new Set<SegmentName>();
    for (const scores of combos) {
      const segment = segmentFor(scores);
      expect(SEGMENT_NAMES).toContain(segment);
      expect(segment, `R${scores.r} F${scores.f} M${scores.m}`).toBe(documentedGrid(scores));
      reached.add(segment);
    }
    expect([...reached].sort()).toEqual([...SEGMENT_NAMES].sort());
  });

  it("place typical customers where a merchant expects them", () => {
    expect(segmentFor({ r: 5, f: 1, m: 1 })).toBe("New");
    expect(segmentFor({ r: 5, f: 1, m: 5 })).toBe("Potential loyalist"); // one big recent order: (1 + 5) / 2 = 3
    expect(segmentFor({ r: 1, f: 1, m: 5 })).toBe("Lost"); // one big order long ago is not "at risk"
    expect(segmentFor({ r: 2, f: 5, m: 4 })).toBe("At risk");
    expect(segmentFor({ r: 1, f: 5, m: 5 })).toBe("Can't lose them");
    expect(segmentFor({ r: 5, f: 5, m: 3 })).toBe("Champions");
  });

  it("validate cleanly and survive a JSON round trip", () => {
    const result = validateSegmentRules(DEFAULT_SEGMENT_RULES);
    expect(result).toEqual({ ok: true, errors: [], warnings: [], uncovered: [] });
    const stored = JSON.parse(JSON.stringify(DEFAULT_SEGMENT_RULES)) as SegmentRule[];
    for (const scores of allScoreCombinations()) expect(segmentFor(scores, stored)).toBe(segmentFor(scores));
  });

  it("have a definition, action and unique key for every segment", () => {
    const keys = SEGMENT_NAMES.map((name) => SEGMENT_DEFINITIONS[name].key);
    expect(new Set(keys).size).toBe(11);
    for (const name of SEGMENT_NAMES) {
      expect(SEGMENT_DEFINITIONS[name].name).toBe(name);
      expect(SEGMENT_DEFINITIONS[name].description.length).toBeGreaterThan(10);
      expect(SEGMENT_DEFINITIONS[name].action.length).toBeGreaterThan(10);
    }
  });

  it("reject scores outside 1..5", () => {
    expect(() => segmentFor({ r: 0, f: 1, m: 1 } as unknown as RfmScores)).toThrow(/whole numbers from 1 to 5/);
  });
});

describe("validateSegmentRules", () => {
  it("reports unknown names, bad ranges and unknown conditions, all at once", () => {
    const result = validateSegmentRules([
      { segment: "Champs", r: [5, 5] },
      { segment: "Loyal", r: [4, 2] },
      { segment: "Lost", f: [0, 6] },
      { segment: "New", fm: [1.25, 2] },
      { segment: "Promising", recency: [1, 5] },
      "Lost",
      { r: [1, 5] },
    ]);
    expect(result.ok).toBe(false);
    expect(result.errors).toEqual([
      'Rule 1: "Champs" is not a segment. Segments are: Champions, Loyal, Potential loyalist, New, Promising, Need attention, About to sleep, At risk, Can\'t lose them, Hibernating, Lost.',
      "Rule 2 (Loyal): R range [4, 2] has its lowest above its highest.",
      "Rule 3 (Lost): F must be a range [lowest, highest] of scores from 1 to 5 (whole numbers); 0 is not.",
      "Rule 4 (New): (F+M)/2 must be a range [lowest, highest] of scores from 1 to 5 (in steps of 0.5); 1.25 is not.",
      'Rule 5: unknown condition "recency" (use r, f, m or fm).',
      "Rule 6 is not a rule (expected a segment name and score ranges).",
      "Rule 7 has no segment name. Segments are: Champions, Loyal, Potential loyalist, New, Promising, Need attention, About to sleep, At risk, Can't lose them, Hibernating, Lost.",
    ]);
  });

  it("reports combinations no rule covers", () => {
    // Everything but R1 with F1 is covered: 5 combinations (M1..M5) are left.
    const rules: SegmentRule[] = [
      { segment: "Champions", r: [2, 5] },
      { segment: "Lost", r: [1, 1], f: [2, 5] },
    ];
    const result = validateSegmentRules(rules);
    expect(result.ok).toBe(false);
    expect(result.uncovered).toEqual([1, 2, 3, 4, 5].map((m) => ({ r: 1, f: 1, m })));
    expect(result.errors).toEqual([
      "5 of the 125 score combinations match no rule: R1 F1 M1, R1 F1 M2, R1 F1 M3, R1 F1 M4, R1 F1 M5. Add a rule for them or widen a range.",
    ]);
    expect(() => segmentFor({ r: 1, f: 1, m: 3 }, rules)).toThrow("No segment rule matches R1 F1 M3");
  });

  it("shortens long lists of uncovered combinations", () => {
    const result = validateSegmentRules([{ segment: "Lost", r: [1, 1] }]);
    expect(result.uncovered).toHaveLength(100);
    expect(result.errors[0]).toMatch(/^100 of the 125 score combinations match no rule: R2 F1 M1, .* and 90 more\./);
  });

  it("warns about rules that never apply and segments nobody can reach", () => {
    const result = validateSegmentRules([
      { segment: "Lost" },
      { segment: "New", r: [5, 5] },
      { segment: "Loyal", fm: [4.5, 4] },
    ]);
    expect(result.errors).toEqual(["Rule 3 (Loyal): (F+M)/2 range [4.5, 4] has its lowest above its highest."]);
    const covered = validateSegmentRules([
      { segment: "Lost" },
      { segment: "New", r: [5, 5] },
    ]);
    expect(covered.ok).toBe(true);
    expect(covered.warnings).toEqual([
      "Rule 2 (New) never applies: earlier rules already match all of its score combinations.",
      "No customer can be in: Champions, Loyal, Potential loyalist, New, Promising, Need attention, About to sleep, At risk, Can't lose them, Hibernating.",
    ]);
  });

  it("rejects something that is not a list", () => {
    expect(validateSegmentRules({ segment: "Lost" }).errors).toEqual(["Segment rules must be a list of rules."]);
    expect(validateSegmentRules([]).errors[0]).toBe("There are no segment rules: add at least one.");
  });
});

describe("describeRule", () => {
  it("puts a rule in words", () => {
    expect(describeRule({ segment: "Champions", r: [5, 5], fm: [4, 5] })).toBe("R 5 and (F+M)/2 from 4 to 5");
    expect(describeRule({ segment: "Lost" })).toBe("any scores");
  });
});
