import { BlockStack, DataTable, Text } from "@shopify/polaris";
import { Chart } from "~/components/charts";
import { FigureGrid } from "~/components/Figure";
import { HelpLabel } from "~/components/HelpLabel";
import { count, MISSING, money, ratio } from "~/display/format";
import type { BacktestGroup, ModelPageData } from "~/pages/model";

// The backtest read the way the literature reads it (Fader, Hardie & Lee 2005, figure 4):
// customers grouped by their repeat orders before the cut-off, and per group the mean orders
// they placed in the holdout against the model's prediction. A model can hit the total and
// still miss every group; this shows where. Then the spend model's error on the repeat
// buyers' holdout order values. All figures come precomputed from the refit.

type Backtest = NonNullable<ModelPageData["backtest"]>;

export const groupLabel = (group: BacktestGroup) => (group.orMore ? `${group.repeatOrders}+` : String(group.repeatOrders));

export function ConditionalExpectationsChart({ backtest, currency }: { backtest: Backtest; currency: string }) {
  const groups = backtest.groups;
  if (groups.length === 0) return null;
  const spend = backtest.spend;
  // The chart skips groups without customers (often 6 and 7+ in a small shop): a line through
  // nothing would mean nothing; the table below still lists every group.
  const charted = groups.filter((group) => group.customers > 0);
  return (
    <BlockStack gap="300">
      <Text as="h3" variant="headingSm">
        <HelpLabel term="holdout-by-past-orders" label="Holdout orders by past repeat orders" />
      </Text>
      <Chart
        height={260}
        title="Holdout orders per customer, actual and predicted, by repeat orders before the cut-off"
        spec={{
          kind: "line",
          axisTitles: {
            y: "Orders per customer in the holdout, mean (same-day orders count once)",
            x: "Repeat orders before the cut-off (the calibration period)",
          },
          series: [
            { name: "Actual", data: charted.map((group) => ({ key: groupLabel(group), value: group.actual })) },
            { name: "Predicted", data: charted.map((group) => ({ key: groupLabel(group), value: group.predicted })) },
          ],
          formatValue: (value) => ratio(value),
        }}
      />
      <div data-backtest-groups>
        <DataTable
          columnContentTypes={["text", "numeric", "numeric", "numeric"]}
          headings={[
            <HelpLabel key="group" term="holdout-by-past-orders" label="Repeat orders before the cut-off" />,
            <HelpLabel key="customers" term="customers" label="Customers" />,
            <HelpLabel key="actual" term="holdout-by-past-orders" label="Holdout orders per customer, actual" />,
            <HelpLabel key="predicted" term="holdout-by-past-orders" label="Holdout orders per customer, predicted" />,
          ]}
          rows={groups.map((group) => [
            groupLabel(group),
            count(group.customers),
            group.actual === null ? MISSING : ratio(group.actual),
            group.predicted === null ? MISSING : ratio(group.predicted),
          ])}
        />
      </div>
      {spend ? (
        <>
          <FigureGrid
            size="md"
            columns={{ xs: 2, md: 4 }}
            gap="300"
            figures={[
              { label: "Order value error, holdout", term: "holdout-order-value", value: money(spend.meanAbsoluteErrorMinor, currency) },
              { label: "Order value bias, holdout", term: "holdout-order-value", value: money(spend.biasMinor, currency) },
              { label: "Expected order value, holdout", term: "holdout-order-value", value: money(spend.meanPredictedMinor, currency) },
              { label: "Actual order value, holdout", term: "holdout-order-value", value: money(spend.meanActualMinor, currency) },
            ]}
          />
          <Text as="p" variant="bodySm" tone="subdued">
            Order values: the {count(spend.customers)} customers who had placed a repeat order before the cut-off and ordered again in the holdout; the
            spend model fitted before the cut-off against the average value of their holdout orders.
          </Text>
        </>
      ) : (
        <Text as="p" tone="subdued">
          No order value comparison{backtest.spendNote ? `: ${backtest.spendNote}` : ""}.
        </Text>
      )}
    </BlockStack>
  );
}
