import { BlockStack, Button, Collapsible, DataTable, Text } from "@shopify/polaris";
import { useId, useState } from "react";
import { Chart } from "~/components/charts";
import { count, money } from "~/display/format";
import type { CohortsPageData } from "~/pages/cohorts";
import { HelpLabel } from "../HelpLabel";

// Lifetime value per customer by month since the first order, all cohorts pooled: the line,
// and the same figures as a table a merchant can open and read against it (the browser test
// checks that the line drawn is these figures, so a half-drawn chart cannot pass).

/** The points the line draws: month k and the pooled LTV per customer by its end (whole minor units), up to the last month with a figure. */
export function ltvLinePoints(ltv: NonNullable<CohortsPageData["ltv"]>): { month: number; value: number; customers: number }[] {
  const points: { month: number; value: number; customers: number }[] = [];
  ltv.byMonth.forEach((value, k) => {
    if (value !== null) points.push({ month: k, value: Math.round(value), customers: ltv.byMonthCustomers[k] ?? 0 });
  });
  return points;
}

/** Whether the pooled line falls anywhere (net refunds can also lower it a little). */
const dips = (points: readonly { value: number }[]) => points.some((point, i) => i > 0 && point.value < points[i - 1].value);

export function LtvChart({ page, title }: { page: CohortsPageData; title: string }) {
  const [open, setOpen] = useState(false);
  const tableId = useId();
  const points = page.ltv ? ltvLinePoints(page.ltv) : [];
  const last = points.length > 0 ? points[points.length - 1].month : -1;
  // Months without a figure inside the range stay gaps (null), as the pooled curve has them.
  const byMonth = page.ltv?.byMonth.slice(0, last + 1) ?? [];
  return (
    <BlockStack gap="200">
      <Chart
        height={260}
        title={title}
        spec={{
          kind: "line",
          axisTitles: { y: `Lifetime value per customer, cumulative (${page.currency})`, x: "Month since the first order (month 0 = the month of the first order)" },
          series: [{ name: "LTV per customer", data: byMonth.map((value, k) => ({ key: `Month ${k}`, value: value === null ? null : Math.round(value) })) }],
          formatValue: (value) => money(value, page.currency),
        }}
      />
      {points.length > 0 && (
        <>
          {dips(points) && (
            <Text as="p" variant="bodySm" tone="subdued">
              Each month pools the cohorts old enough to have had it, so later months cover fewer, older customers (the Customers column) and the
              line can dip where a cohort&apos;s own total would not (refunds aside).
            </Text>
          )}
          <div>
            <Button variant="plain" onClick={() => setOpen((value) => !value)} ariaExpanded={open} ariaControls={tableId}>
              {open ? "Hide the figures by month" : `Show the figures by month (${points.length} months)`}
            </Button>
          </div>
          <Collapsible id={tableId} open={open}>
            <div data-ltv-by-month="">
              <DataTable
                columnContentTypes={["text", "numeric", "numeric"]}
                headings={[
                  <HelpLabel key="month" term="cohort-ltv" label="Month" />,
                  <HelpLabel key="ltv" term="cohort-ltv" label="LTV per customer" />,
                  <HelpLabel key="customers" term="customers" />,
                ]}
                rows={points.map((point) => [`Month ${point.month}`, money(point.value, page.currency), count(point.customers)])}
              />
            </div>
          </Collapsible>
        </>
      )}
    </BlockStack>
  );
}
