import { BlockStack, Button, Collapsible, DataTable, Text } from "@shopify/polaris";
import { useId, useState } from "react";
import { Chart } from "~/components/charts";
import { count, isoDay, ratio } from "~/display/format";
import type { ModelPageData } from "~/pages/model";

// Weekly repeat purchases, actual vs what the model fitted on the calibration weeks
// predicts, cumulative. The holdout weeks (after calibration) are the honest test: the
// predicted line changes colour and name where they start, and both axes say what they
// measure. No polaris-viz annotation marks the start: with one, polaris-viz 16 drew the
// Actual line only from a year in (a browser test compares the drawn line with its table).

type Backtest = NonNullable<ModelPageData["backtest"]>;

export function BacktestChart({ backtest }: { backtest: Backtest }) {
  const [open, setOpen] = useState(false);
  const tableId = useId();
  const weeks = backtest.weeks;
  const firstHoldout = weeks.find((week) => week.holdout);
  const holdoutFrom = firstHoldout ? weeks.indexOf(firstHoldout) : weeks.length;
  return (
    <BlockStack gap="300">
      <Chart
        height={300}
        title={`Cumulative repeat purchases by week, actual and predicted by the model; the holdout starts ${isoDay(firstHoldout?.startIso)}`}
        spec={{
          kind: "line",
          axisTitles: {
            y: "Repeat purchases, cumulative (all customers who had ordered by the end of calibration; same-day orders count once)",
            x: "Week starting",
          },
          series: [
            { name: "Actual", data: weeks.map((week) => ({ key: week.startIso, value: week.cumulativeActual })) },
            // Two predicted lines, so the weeks the model was fitted on and the weeks it never saw read apart (they meet at the boundary).
            {
              name: "Predicted, calibration",
              data: weeks.map((week, i) => ({ key: week.startIso, value: i < holdoutFrom ? Math.round(week.cumulativePredicted) : null })),
            },
            {
              name: "Predicted, holdout",
              data: weeks.map((week, i) => ({ key: week.startIso, value: i >= holdoutFrom - 1 && holdoutFrom < weeks.length ? Math.round(week.cumulativePredicted) : null })),
            },
          ],
          formatValue: (value) => count(value),
          formatKey: (value) => isoDay(value),
        }}
      />
      <Text as="p" variant="bodySm" tone="subdued">
        Calibration period: weeks up to {isoDay(backtest.calibrationEndIso)} (the model was refitted on these alone). Holdout period:{" "}
        {isoDay(firstHoldout?.startIso)} to {isoDay(backtest.holdoutEndIso)}, the last {count(backtest.holdoutDays)} days, where the predicted line
        turns from "Predicted, calibration" to "Predicted, holdout" (the model never saw these weeks: its line there is a forecast).
      </Text>
      <div>
        <Button variant="plain" onClick={() => setOpen((value) => !value)} ariaExpanded={open} ariaControls={tableId}>
          {open ? "Hide the weekly figures" : `Show the weekly figures (${weeks.length} weeks)`}
        </Button>
      </div>
      <Collapsible id={tableId} open={open}>
        <DataTable
          columnContentTypes={["text", "text", "numeric", "numeric", "numeric", "numeric"]}
          headings={["Week from", "Period", "Actual", "Predicted", "Actual, cumulative", "Predicted, cumulative"]}
          rows={weeks.map((week) => [
            isoDay(week.startIso),
            week.holdout ? "Holdout" : "Calibration",
            count(week.actual),
            ratio(week.predicted),
            count(week.cumulativeActual),
            ratio(week.cumulativePredicted),
          ])}
          stickyHeader
        />
      </Collapsible>
    </BlockStack>
  );
}
