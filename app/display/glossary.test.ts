import { BEHAVIOURAL_SEGMENT_KEYS } from "~/analytics/behaviour";
import { SEGMENT_DEFINITIONS } from "~/analytics/segments";
import {
  expectedSpendLabel,
  GLOSSARY,
  GLOSSARY_SECTIONS,
  glossaryTerm,
  glossaryUrl,
  horizonText,
  SEGMENT_NOTE_KEYS,
  shortHelp,
  termOfLabel,
  withBasis,
} from "./glossary";

// The glossary is the one place figures are defined (issue 13): every term complete, ids
// unique and usable as anchors, each shown label belonging to exactly one term, and the
// labels that carry a horizon built from the horizon in settings.

describe("the glossary's terms", () => {
  it("each has a definition of one to three sentences, a unit and, for money, revenue, profit or the page's basis", () => {
    for (const term of GLOSSARY) {
      expect(term.definition.trim(), term.id).not.toBe("");
      const sentences = term.definition.split(/(?<=[.!?])\s+(?=[A-Z"“])/).length;
      expect(sentences, `${term.id}: ${term.definition}`).toBeLessThanOrEqual(3);
      expect(term.unit, term.id).toBeTruthy();
      expect(term.basis, term.id).toBeTruthy();
      if (term.unit === "money") expect(["revenue", "profit", "page", "cost"], `${term.id} is money`).toContain(term.basis);
      expect(term.labels.length, `${term.id} has no name`).toBeGreaterThan(0);
      expect(GLOSSARY_SECTIONS.map((s) => s.key)).toContain(term.section);
    }
  });

  it("have unique ids that work as URL anchors", () => {
    const ids = GLOSSARY.map((term) => term.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
  });

  it("give each label to one term only, so a label never has two definitions", () => {
    const owners = new Map<string, string>();
    for (const term of GLOSSARY) {
      for (const label of term.labels) {
        const key = label.toLowerCase();
        expect(owners.get(key), `"${label}" is in ${owners.get(key)} and ${term.id}`).toBeUndefined();
        owners.set(key, term.id);
        expect(termOfLabel(label)?.id).toBe(term.id);
      }
    }
  });

  it("define every RFM and behavioural segment, and the notes that set look-alike lists apart still name segments", () => {
    for (const definition of Object.values(SEGMENT_DEFINITIONS)) expect(termOfLabel(definition.name)?.id).toBe(`segment-${definition.key}`);
    for (const key of BEHAVIOURAL_SEGMENT_KEYS) expect(glossaryTerm(`segment-${key}`).definition).not.toBe("");
    const keys = new Set<string>([...Object.values(SEGMENT_DEFINITIONS).map((d) => d.key), ...BEHAVIOURAL_SEGMENT_KEYS]);
    for (const key of SEGMENT_NOTE_KEYS) expect(keys.has(key), `note for "${key}", which is no segment`).toBe(true);
  });

  it("explain why P(alive) is below 100% right after an order, and how expected order value differs from AOV", () => {
    expect(glossaryTerm("p-alive").definition).toMatch(/below 100% even right after an order/);
    expect(glossaryTerm("expected-order-value").definition).toMatch(/average order value/);
    expect(glossaryTerm("lifetime-value").definition).toMatch(/Spent to date \+ expected spend/);
  });
});

describe("labels the app shows", () => {
  it("name the horizon from settings", () => {
    expect(expectedSpendLabel(365)).toBe("Expected spend, next 12 months");
    expect(expectedSpendLabel(730)).toBe("Expected spend, next 24 months");
    expect(expectedSpendLabel(180)).toBe("Expected spend, next 6 months");
    expect(expectedSpendLabel(90)).toBe("Expected spend, next 90 days");
    expect(horizonText(1)).toBe("1 day");
    expect(() => horizonText(0)).toThrow(/whole number of days/);
    expect(() => horizonText(12.5)).toThrow(/whole number of days/);
    expect(termOfLabel(expectedSpendLabel(180))?.id).toBe("expected-spend");
    expect(termOfLabel("Avg expected spend, next 12 months")?.id).toBe("expected-spend");
  });

  it("find their term with a basis or currency in brackets, and none for a label the glossary lacks", () => {
    expect(termOfLabel(withBasis("Spent to date", "profit"))?.id).toBe("spent-to-date");
    expect(termOfLabel("Lifetime value (USD)")?.id).toBe("lifetime-value");
    expect(termOfLabel("  Chance of ordering,\n next 90 days ")?.id).toBe("chance-of-ordering-90d");
    expect(termOfLabel("Net sales, last 30 days")?.id).toBe("revenue-in-period");
    expect(termOfLabel("M12")?.id).toBe("retention");
    expect(termOfLabel("Predicted CLV")).toBeNull();
    expect(termOfLabel("")).toBeNull();
  });

  it("fail loudly on an unknown term id", () => {
    expect(() => glossaryTerm("predicted-clv")).toThrow(/No glossary term "predicted-clv"/);
    expect(glossaryUrl("p-alive")).toBe("/app/glossary#p-alive");
    expect(shortHelp("spent-to-date")).toMatch(/Unit: money.*Revenue or profit, as the page's money basis says/);
  });
});
