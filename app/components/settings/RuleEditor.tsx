import { BlockStack, Button, InlineError, InlineStack, Select, Text } from "@shopify/polaris";
import { Fragment, useMemo } from "react";
import { SEGMENT_DEFINITIONS, SEGMENT_NAMES } from "~/analytics/segments";
import { segmentName } from "~/display/segment-names";
import { ListBanner } from "~/components/states";
import { HelpLabel } from "~/components/HelpLabel";
import { RULE_CONDITIONS, type RuleCondition, type RuleInput, type SettingsFieldErrors, defaultRuleInputs, parseSettingsForm } from "~/pages/settings-form";

// The RFM rule table as an editable list: rules are tried in order, the first that matches a
// customer's scores names their segment. Each condition is a [lowest, highest] pair of
// selects ("Any" for no condition). Coverage and unused rules are checked as the merchant
// edits (validateSegmentRules, pure); the server checks again on save.

const CONDITION_LABELS: Record<RuleCondition, string> = { r: "R (recency)", f: "F (frequency)", m: "M (money)", fm: "(F+M)/2" };
/** Each condition's glossary term (its help on the column header). */
const CONDITION_TERMS: Record<RuleCondition, string> = { r: "recency", f: "frequency", m: "monetary", fm: "frequency-monetary" };
const WHOLE = ["1", "2", "3", "4", "5"];
const HALVES = ["1", "1.5", "2", "2.5", "3", "3.5", "4", "4.5", "5"];
/** A condition's two selects, lowest score first. */
const BOUNDS = [
  { end: "from", word: "lowest" },
  { end: "to", word: "highest" },
] as const;

export const ruleFieldId = (index: number, condition: RuleCondition | "segment", end?: "from" | "to") =>
  `settings-segmentRules-${index}-${condition}${end ? `-${end}` : ""}`;

interface RuleEditorProps {
  rules: RuleInput[];
  labels: Record<string, string>;
  errors: SettingsFieldErrors;
  onChange: (rules: RuleInput[]) => void;
}

export function RuleEditor({ rules, labels, errors, onChange }: RuleEditorProps) {
  const live = useMemo(() => liveCheck(rules), [rules]);
  const update = (index: number, rule: RuleInput) => onChange(rules.map((existing, i) => (i === index ? rule : existing)));
  const move = (index: number, by: number) => {
    const next = [...rules];
    const [rule] = next.splice(index, 1);
    next.splice(index + by, 0, rule);
    onChange(next);
  };
  const segmentOptions = SEGMENT_NAMES.map((name) => {
    const key = SEGMENT_DEFINITIONS[name].key;
    const shown = segmentName(key, labels);
    return { label: shown === name ? name : `${shown} (${name})`, value: name };
  });
  const serverErrors = errors.segmentRules ?? [];
  return (
    <BlockStack gap="300">
      <div id="settings-segmentRules" tabIndex={-1}>
        {serverErrors.length > 0 && (
          <ListBanner tone="critical" title="The rules cannot be saved yet" messages={serverErrors} />
        )}
      </div>
      <div role="region" aria-label="Segment rules" tabIndex={0} style={{ overflowX: "auto" }}>
        <table style={{ borderCollapse: "collapse", width: "100%" }}>
          <caption style={{ textAlign: "left", paddingBottom: 8 }}>
            <Text as="span" tone="subdued" variant="bodySm">
              Rules are tried from the top; the first whose conditions all hold names the customer's segment. Scores run from 1 (lowest) to 5 (best).
            </Text>
          </caption>
          <thead>
            <tr>
              <th scope="col" style={head}>
                #
              </th>
              <th scope="col" style={head}>
                <HelpLabel term="rfm" label="Segment" />
              </th>
              {RULE_CONDITIONS.map((condition) => (
                <th key={condition} scope="col" style={head}>
                  <HelpLabel term={CONDITION_TERMS[condition]} label={CONDITION_LABELS[condition]} />
                </th>
              ))}
              <th scope="col" style={head}>
                <Text as="span" visuallyHidden>
                  Order
                </Text>
              </th>
            </tr>
          </thead>
          <tbody>
            {rules.map((rule, index) => (
              <tr key={index} style={{ borderTop: "1px solid var(--p-color-border-secondary, #ebebeb)", verticalAlign: "top" }}>
                <th scope="row" style={cell}>
                  {index + 1}
                </th>
                <td style={{ ...cell, minWidth: 180 }}>
                  <Select
                    id={ruleFieldId(index, "segment")}
                    label={`Rule ${index + 1} segment`}
                    labelHidden
                    options={rule.segment === "" ? [{ label: "Choose a segment", value: "" }, ...segmentOptions] : segmentOptions}
                    value={rule.segment}
                    onChange={(segment) => update(index, { ...rule, segment })}
                    error={errors[`segmentRules.${index}.segment`]?.[0]}
                  />
                </td>
                {RULE_CONDITIONS.map((condition) => {
                  const values = condition === "fm" ? HALVES : WHOLE;
                  const options = [{ label: "Any", value: "" }, ...values.map((value) => ({ label: value, value }))];
                  const error = errors[`segmentRules.${index}.${condition}`]?.[0];
                  const pair = rule[condition];
                  return (
                    <td key={condition} style={cell}>
                      <InlineStack gap="100" wrap={false} blockAlign="center">
                        {BOUNDS.map(({ end, word }, side) => (
                          <Fragment key={end}>
                            {side === 1 && <span aria-hidden="true">–</span>}
                            <Select
                              id={ruleFieldId(index, condition, end)}
                              label={`Rule ${index + 1} ${CONDITION_LABELS[condition]} ${word}`}
                              labelHidden
                              options={options}
                              value={pair[side]}
                              onChange={(value) => update(index, { ...rule, [condition]: side === 0 ? [value, pair[1]] : [pair[0], value] })}
                              error={Boolean(error)}
                            />
                          </Fragment>
                        ))}
                      </InlineStack>
                      {error && <InlineError message={error} fieldID={ruleFieldId(index, condition, "from")} />}
                    </td>
                  );
                })}
                <td style={cell}>
                  <InlineStack gap="100" wrap={false}>
                    <Button size="slim" disabled={index === 0} onClick={() => move(index, -1)} accessibilityLabel={`Move rule ${index + 1} up`}>
                      ↑
                    </Button>
                    <Button size="slim" disabled={index === rules.length - 1} onClick={() => move(index, 1)} accessibilityLabel={`Move rule ${index + 1} down`}>
                      ↓
                    </Button>
                    <Button size="slim" tone="critical" onClick={() => onChange(rules.filter((_, i) => i !== index))} accessibilityLabel={`Remove rule ${index + 1}`}>
                      ✕
                    </Button>
                  </InlineStack>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <InlineStack gap="200">
        <Button onClick={() => onChange([...rules, { segment: "", r: ["", ""], f: ["", ""], m: ["", ""], fm: ["", ""] }])}>Add rule</Button>
        <Button variant="plain" onClick={() => onChange(defaultRuleInputs())}>
          Restore the default rules
        </Button>
      </InlineStack>
      <div aria-live="polite">
        {live.errors.length > 0 ? (
          <Text as="p" tone="caution">
            {live.errors[0]}
          </Text>
        ) : (
          <Text as="p" tone="success">
            Every one of the 125 score combinations has a segment.
          </Text>
        )}
        {live.warnings.map((warning) => (
          <Text key={warning} as="p" tone="subdued" variant="bodySm">
            {warning}
          </Text>
        ))}
      </div>
    </BlockStack>
  );
}

/** Problems while editing: the same checks as the save, on the rules alone. */
function liveCheck(rules: RuleInput[]): { errors: string[]; warnings: string[] } {
  const parsed = parseSettingsForm(
    { grossMarginPercent: "100", cac: "", annualDiscountRatePercent: "10", horizonDays: "365", segmentRules: rules, segmentLabels: {}, excludedOrderTags: [], excludedSourceNames: [], excludedCustomerTags: [], revenueBasis: "net_sales" },
    "USD",
  );
  if (parsed.ok) return { errors: [], warnings: parsed.warnings };
  const errors = Object.entries(parsed.fieldErrors)
    .filter(([key]) => key.startsWith("segmentRules"))
    .flatMap(([, messages]) => messages);
  return { errors, warnings: [] };
}

const head: React.CSSProperties = { textAlign: "left", padding: "6px 8px", fontWeight: 600, whiteSpace: "nowrap" };
const cell: React.CSSProperties = { padding: "6px 8px", textAlign: "left" };
