import { BlockStack, Button, Collapsible, DataTable, Text } from "@shopify/polaris";
import { useId, useState } from "react";
import { LazyLineChart } from "~/components/cohorts/LazyLineChart";
import { count, isoDay, ratio } from "~/components/format";
import type { ModelPageData } from "~/models/pages/model.server";

// Weekly repeat purchases, actual vs what the model fitted on the calibration weeks
// predicts, cumulative. The holdout weeks (after calibration) are the honest test.

type Backtest = NonNullable<ModelPageData["backtest"]>;

export function BacktestChart({ backtest }: { backtest: Backtest }) {
  const [open, setOpen] = useState(false);
  const tableId = useId();
  const weeks = backtest.weeks;
  const firstHoldout = weeks.find((week) => week.holdout);
  const key = (week: (typeof weeks)[number]) => week.startIso;
  return (
    <BlockStack gap="300">
      <LazyLineChart
        height={300}
        label={`Line chart: cumulative repeat purchases per week, actual against the model's prediction, from ${isoDay(weeks[0]?.startIso)} to ${isoDay(
          weeks[weeks.length - 1]?.endIso,
        )}; the holdout starts ${isoDay(firstHoldout?.startIso)}. The weekly figures are in the table below the chart.`}
        data={[
          { name: "Actual (cumulative)", data: weeks.map((week) => ({ key: key(week), value: week.cumulativeActual })) },
          { name: "Predicted (cumulative)", data: weeks.map((week) => ({ key: key(week), value: Math.round(week.cumulativePredicted) })), isComparison: true },
        ]}
        annotations={firstHoldout ? [{ axis: "x", startKey: key(firstHoldout), label: "Holdout starts" }] : undefined}
        formatX={(value) => isoDay(value)}
        formatY={(value) => count(value)}
      />
      <Text as="p" variant="bodySm" tone="subdued">
        Calibration: weeks up to {isoDay(backtest.calibrationEndIso)} (the model was fitted on these). Holdout: {isoDay(firstHoldout?.startIso)} to{" "}
        {isoDay(backtest.holdoutEndIso)} (the model never saw these; the dashed line there is a forecast).
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
