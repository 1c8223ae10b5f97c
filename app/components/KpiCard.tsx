import { BlockStack, Box, Card, InlineStack, Link, Text, Tooltip } from "@shopify/polaris";
import { type BenchmarkSet } from "~/display/benchmarks";
import { type Change } from "~/display/format";
import { HelpLabel } from "./HelpLabel";

// One KPI: its value, the change against the previous period (coloured by whether that is
// good news for this KPI) and, where one exists, an industry benchmark with its source.
// Fixed structure whatever the data, so cards line up and nothing shifts.

export interface KpiCardProps {
  label: string;
  /** The label's glossary term (app/display/glossary.ts): adds its help and glossary link. */
  term?: string;
  /** Formatted value ("—" when unknown). */
  value: string;
  /** What the KPI means, in one sentence (shown under the value). */
  help?: string;
  change?: Change;
  /** "up": higher is better (customers, CLV); "down": lower is better; "neutral": neither. */
  goodWhen?: "up" | "down" | "neutral";
  /** e.g. "vs 30 days ago". */
  periodLabel?: string;
  benchmark?: { set: BenchmarkSet; formatted: string };
}

function changeTone(change: Change, goodWhen: KpiCardProps["goodWhen"]): "success" | "critical" | "subdued" {
  if (change.direction === "flat" || goodWhen === "neutral") return "subdued";
  return (change.direction === "up") === (goodWhen === "up") ? "success" : "critical";
}

export function KpiCard({ label, term, value, help, change, goodWhen = "up", periodLabel, benchmark }: KpiCardProps) {
  return (
    <Card>
      <BlockStack gap="200">
        <Text as="h3" variant="headingSm" tone="subdued">
          {term ? <HelpLabel term={term} label={label} /> : label}
        </Text>
        <InlineStack gap="200" blockAlign="baseline" wrap={false}>
          <Text as="p" variant="headingXl">
            {value}
          </Text>
          <Text as="span" variant="bodySm" tone={change?.text ? changeTone(change, goodWhen) : "subdued"}>
            {change?.text ? (
              <>
                <span aria-hidden="true">{change.direction === "up" ? "▲" : change.direction === "down" ? "▼" : "•"} {change.text}</span>
                <Text as="span" visuallyHidden>
                  {change.description}
                </Text>
              </>
            ) : (
              <span>no earlier figure</span>
            )}
          </Text>
        </InlineStack>
        <Box minHeight="2.5rem">
          <BlockStack gap="100">
            {periodLabel && change?.text && (
              <Text as="p" variant="bodySm" tone="subdued">
                {periodLabel}
              </Text>
            )}
            {benchmark ? (
              <Text as="p" variant="bodySm" tone="subdued">
                Benchmark: {benchmark.formatted} ({benchmark.set.headline.label}, indicative){" "}
                <Tooltip content={`${benchmark.set.caveat} Source: ${benchmark.set.source}.`}>
                  <Link url={benchmark.set.sourceUrl} target="_blank" removeUnderline accessibilityLabel={`Benchmark source: ${benchmark.set.source} (opens in a new tab)`}>
                    source
                  </Link>
                </Tooltip>
              </Text>
            ) : null}
            {help && (
              <Text as="p" variant="bodySm" tone="subdued">
                {help}
              </Text>
            )}
          </BlockStack>
        </Box>
      </BlockStack>
    </Card>
  );
}
