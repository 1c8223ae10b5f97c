import { DEFAULT_SEGMENT_RULES } from "~/analytics/segments";
import { DEFAULT_METRICS_SETTINGS } from "~/data/settings.server";
import { defaultRuleInputs, firstErrorField, parseSettingsForm, type SettingsFormInput, settingsFormInputOf } from "./settings-form";

// The settings form's schema: text as typed in, stored values out, or errors by field.

const valid = (): SettingsFormInput => ({
  grossMarginPercent: "60",
  cac: "25.50",
  annualDiscountRatePercent: "8",
  horizonDays: "730",
  segmentRules: defaultRuleInputs(),
  segmentLabels: { champions: "VIPs", lost: "" },
  excludedOrderTags: [" wholesale ", "Wholesale", "staff", ""],
  excludedSourceNames: ["pos"],
  excludedCustomerTags: ["Wholesale", " wholesale", "staff-account"],
  revenueBasis: "net_sales",
});

const errorsOf = (input: unknown, currency = "USD") => {
  const result = parseSettingsForm(input, currency);
  if (result.ok) throw new Error("expected errors");
  return result.fieldErrors;
};

describe("parseSettingsForm", () => {
  it("turns percentages into shares and the CAC into minor units of the shop currency", () => {
    const result = parseSettingsForm(valid(), "USD");
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.values).toEqual({
      grossMargin: 0.6,
      cacMinor: 2550,
      annualDiscountRate: 0.08,
      horizonDays: 730,
      segmentRules: DEFAULT_SEGMENT_RULES,
      segmentLabels: { champions: "VIPs" },
      excludedOrderTags: ["wholesale", "staff"],
      excludedSourceNames: ["pos"],
      excludedCustomerTags: ["Wholesale", "staff-account"],
      revenueBasis: "net_sales",
      churnRiskThreshold: 0.2, // not sent: the default
      costFallbackMargin: 0.5, // not sent: the default
      holidaySeason: { start: "11-15", end: "12-31" }, // not sent: the default
    });
    expect(parseSettingsForm({ ...valid(), cac: "2500" }, "JPY")).toMatchObject({ ok: true, values: { cacMinor: 2500 } });
    expect(parseSettingsForm({ ...valid(), cac: "1,234.5" }, "USD")).toMatchObject({ ok: true, values: { cacMinor: 123450 } });
    expect(parseSettingsForm({ ...valid(), cac: "  " }, "USD")).toMatchObject({ ok: true, values: { cacMinor: null } });
    expect(parseSettingsForm({ ...valid(), grossMarginPercent: "60.1" }, "USD")).toMatchObject({ ok: true, values: { grossMargin: 0.601 } });
  });

  it("puts each problem on its own field, in words that say what to enter", () => {
    const errors = errorsOf({ ...valid(), grossMarginPercent: "0", cac: "25.505", annualDiscountRatePercent: "ten", horizonDays: "12.5" });
    expect(Object.keys(errors).sort()).toEqual(["annualDiscountRatePercent", "cac", "grossMarginPercent", "horizonDays"]);
    expect(errors.cac[0]).toMatch(/in USD.*25\.00.*at most 2 decimals/);
    expect(errors.grossMarginPercent[0]).toMatch(/above 0 and at most 100/);
    expect(errors.horizonDays[0]).toMatch(/whole number of days from 30 to 1825/);
    expect(errorsOf({ ...valid(), cac: "25.5" }, "JPY").cac[0]).toMatch(/in JPY.*no decimals/);
    expect(errorsOf({ ...valid(), cac: "-5" }).cac).toHaveLength(1);
    expect(errorsOf({ ...valid(), grossMarginPercent: "101" }).grossMarginPercent).toHaveLength(1);
  });

  it("takes net sales or total sales as the revenue, and names anything else as the problem", () => {
    expect(parseSettingsForm({ ...valid(), revenueBasis: "total_sales" }, "USD")).toMatchObject({ ok: true, values: { revenueBasis: "total_sales" } });
    expect(errorsOf({ ...valid(), revenueBasis: "gross_sales" })).toEqual({
      revenueBasis: ['"gross_sales" is not a revenue choice: choose net sales or total sales.'],
    });
    // Missing altogether is a broken client, not a choice.
    const { revenueBasis: _omitted, ...withoutBasis } = valid();
    expect(errorsOf(withoutBasis)).toEqual({ form: ["The form could not be read. Reload the page and try again."] });
  });

  it("explains rule problems: half-given ranges on the cell, uncovered scores on the table", () => {
    const rules = defaultRuleInputs();
    rules[1] = { ...rules[1], r: ["3", ""] };
    expect(errorsOf({ ...valid(), segmentRules: rules })).toEqual({
      "segmentRules.1.r": ["Give both the lowest and the highest score, or leave both empty for any score."],
    });
    const withoutLost = defaultRuleInputs().filter((rule) => rule.segment !== "Lost");
    const errors = errorsOf({ ...valid(), segmentRules: withoutLost });
    expect(errors.segmentRules[0]).toMatch(/^\d+ of the 125 score combinations match no rule: R1 F1 M1/);
    expect(errorsOf({ ...valid(), segmentRules: [{ ...rules[0], segment: "" }] })["segmentRules.0.segment"]).toEqual(["Choose a segment for this rule."]);
  });

  it("warns, without refusing, about rules that never apply", () => {
    const rules = [...defaultRuleInputs(), defaultRuleInputs()[0]];
    const result = parseSettingsForm({ ...valid(), segmentRules: rules }, "USD");
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.warnings.join(" ")).toMatch(/Rule 12 \(Champions\) never applies/);
  });

  it("refuses two segments with the same name and names that are too long", () => {
    const errors = errorsOf({ ...valid(), segmentLabels: { champions: "Loyal", new: "x".repeat(41) } });
    expect(errors["segmentLabels.loyal"][0]).toMatch(/already called "Loyal"/);
    expect(errors["segmentLabels.new"][0]).toMatch(/40 characters/);
    expect(errorsOf({ ...valid(), segmentLabels: { whales: "Whales" } })["segmentLabels.whales"]).toHaveLength(1);
  });

  it("refuses a malformed submission as a whole, with a reload hint", () => {
    expect(errorsOf({ grossMarginPercent: 60 })).toEqual({ form: ["The form could not be read. Reload the page and try again."] });
    expect(errorsOf(null).form).toHaveLength(1);
  });

  it("round-trips stored values through the form text", () => {
    const stored = { ...DEFAULT_METRICS_SETTINGS, grossMargin: 0.355, cacMinor: 1999, annualDiscountRate: 0.125, segmentRules: [...DEFAULT_SEGMENT_RULES], segmentLabels: { lost: "Gone" }, excludedCustomerTags: ["wholesale"], revenueBasis: "total_sales" as const };
    const form = settingsFormInputOf(stored, "EUR");
    expect(form).toMatchObject({ grossMarginPercent: "35.5", cac: "19.99", annualDiscountRatePercent: "12.5", horizonDays: "365" });
    const back = parseSettingsForm(form, "EUR");
    expect(back.ok && back.values).toEqual(stored);
  });

  it("finds the first error in page order", () => {
    expect(firstErrorField({ "segmentRules.10.r": ["x"], "segmentRules.2.fm": ["x"], excludedOrderTags: ["x"] })).toBe("segmentRules.2.fm");
    expect(firstErrorField({ horizonDays: ["x"], cac: ["x"] })).toBe("cac");
    expect(firstErrorField({})).toBeNull();
  });
});
