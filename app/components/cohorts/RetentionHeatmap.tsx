import { Badge, BlockStack, Text } from "@shopify/polaris";
import { count, MISSING, percent } from "~/display/format";
import type { CohortView } from "~/pages/cohorts";
import { HelpLabel, TermText } from "../HelpLabel";

// Retention by first-order month as a real table (caption, row and column headers, the
// percentage written in every cell); colour only adds a heat scale. "in-month" = share of
// the cohort that ordered in month k; "cumulative" = share that came back in months 1..k.
// Small cohorts are drawn muted and left out of the colour scale: in a cohort of two, one
// customer is 50%, and it would otherwise set the darkest colour for everyone.

export type RetentionMode = "inMonth" | "cumulative";

export const RETENTION_MODE_LABELS: Record<RetentionMode, { short: string; caption: string }> = {
  inMonth: {
    short: "Ordered in month",
    caption: "Share of each cohort that placed an order in month k after their first order (month 0 is the month of the first order)",
  },
  cumulative: {
    short: "Came back by month",
    caption: "Share of each cohort that had ordered again at least once by the end of month k (cumulative)",
  },
};

/** Heat colour for a share relative to the top of the scale. */
function heat(share: number, max: number): { background: string; color: string } {
  const strength = max > 0 ? Math.min(1, share / max) : 0;
  const alpha = 0.06 + 0.74 * strength;
  return { background: `rgba(0, 122, 92, ${alpha.toFixed(3)})`, color: alpha > 0.5 ? "#fff" : "#202223" };
}

/** A small cohort's cells: grey, whatever the share (the percentage is still written). */
export const MUTED_CELL = { background: "var(--p-color-bg-surface-secondary, #f7f7f7)", color: "#8a8a8a" } as const;

/**
 * The top of the colour scale: the largest share of the cohorts that are not small, month 0
 * left out (in-month it is always 100%, cumulative always 0); 0 when every cohort is small.
 */
export function heatScaleMax(cohorts: readonly CohortView[], mode: RetentionMode): number {
  let max = 0;
  for (const row of cohorts) {
    if (row.small) continue;
    shares(row, mode).forEach((value, k) => k > 0 && value !== null && value > max && (max = value));
  }
  return max;
}

const shares = (row: CohortView, mode: RetentionMode) => (mode === "inMonth" ? row.activeShare : row.cumulativeReturnShare);

/** The style of one cell: muted for a small cohort, plain for in-month month 0, else its heat. */
export function cellColour(row: Pick<CohortView, "small">, k: number, value: number, mode: RetentionMode, max: number): { background: string; color: string } {
  if (row.small) return MUTED_CELL;
  if (mode === "inMonth" && k === 0) return { background: "transparent", color: "inherit" };
  return heat(value, max);
}

const cellStyle: React.CSSProperties = { padding: "6px 8px", textAlign: "right", whiteSpace: "nowrap", minWidth: 52, fontVariantNumeric: "tabular-nums" };
const headStyle: React.CSSProperties = { ...cellStyle, position: "sticky", top: 0, background: "var(--p-color-bg-surface-secondary, #f7f7f7)", fontWeight: 600 };

export function RetentionHeatmap({ cohorts, mode, smallCohortSize, filterLabel }: { cohorts: CohortView[]; mode: RetentionMode; smallCohortSize: number; filterLabel: string }) {
  const values = (row: CohortView) => shares(row, mode);
  // Columns up to the last month any cohort has completed.
  let months = 1;
  for (const row of cohorts) values(row).forEach((value, k) => value !== null && k + 1 > months && (months = k + 1));
  const max = heatScaleMax(cohorts, mode);
  const rows = [...cohorts].reverse(); // newest cohort first: the one a merchant acts on
  return (
    <BlockStack gap="200">
      <Text as="p" variant="bodySm" tone="subdued">
        {RETENTION_MODE_LABELS[mode].caption}. Cohorts under {smallCohortSize} customers are marked small and drawn in grey: the colours compare
        the larger cohorts only{cohorts.every((row) => row.small) ? " (every cohort here is small, so none is coloured)" : ""}. {MISSING} means the month
        has not ended yet.
      </Text>
      <div role="region" aria-label={`Retention table, ${RETENTION_MODE_LABELS[mode].short.toLowerCase()}`} tabIndex={0} style={{ overflowX: "auto", maxWidth: "100%" }}>
        <table style={{ borderCollapse: "collapse", width: "100%", fontSize: 13 }}>
          <caption style={visuallyHidden}>
            Retention by month of first order, {RETENTION_MODE_LABELS[mode].short.toLowerCase()} k: {filterLabel}
          </caption>
          <thead>
            <tr>
              <th scope="col" style={{ ...headStyle, textAlign: "left" }}>
                <HelpLabel term="first-order" />
              </th>
              <th scope="col" style={headStyle}>
                <HelpLabel term="customers" />
              </th>
              {Array.from({ length: months }, (_, k) => (
                <th key={k} scope="col" style={headStyle}>
                  {/* One help for all month columns, on the first: they mean the same, month by month. */}
                  {k === 0 ? (
                    <HelpLabel term="retention" label="M0" />
                  ) : (
                    <span aria-hidden="true">
                      <TermText term="retention" label={`M${k}`} />
                    </span>
                  )}
                  <Text as="span" visuallyHidden>
                    Month {k}
                  </Text>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.month} style={{ borderTop: "1px solid var(--p-color-border-secondary, #ebebeb)" }}>
                <th scope="row" style={{ ...cellStyle, textAlign: "left" }}>
                  {row.month}{" "}
                  {row.small && (
                    <Badge tone="attention" size="small">
                      Small
                    </Badge>
                  )}
                </th>
                <td style={cellStyle}>{count(row.size)}</td>
                {Array.from({ length: months }, (_, k) => {
                  const value = values(row)[k] ?? null;
                  if (value === null) {
                    return (
                      <td key={k} style={{ ...cellStyle, color: "#8a8a8a" }}>
                        <span aria-hidden="true">{MISSING}</span>
                        <Text as="span" visuallyHidden>
                          not ended yet
                        </Text>
                      </td>
                    );
                  }
                  const style = cellColour(row, k, value, mode, max);
                  return (
                    <td key={k} style={{ ...cellStyle, ...style }}>
                      {percent(value, 0)}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </BlockStack>
  );
}

// The caption names the table for screen readers; sighted readers have the card's heading and the text above.
const visuallyHidden: React.CSSProperties = { position: "absolute", width: 1, height: 1, margin: -1, padding: 0, overflow: "hidden", clip: "rect(0 0 0 0)", border: 0, whiteSpace: "nowrap" };
