import { type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { Badge, BlockStack, Card, DataTable, InlineGrid, Link, Page, Text } from "@shopify/polaris";
import { type ReactNode, useState } from "react";
import { type DriverDimension, type DriverRow, type DriverTable, type ReorderStep, type ReorderTiming } from "~/analytics/drivers";
import { CardColumn } from "~/components/CardColumn";
import { Chart, chartLinks } from "~/components/charts";
import { GlossaryLinks, HelpLabel, TermText } from "~/components/HelpLabel";
import { useShopTimeZone } from "~/components/ShopTimeZone";
import { NotReadyState, PageErrorBoundary, PageSkeleton, useLeavingPage } from "~/components/states";
import { requireShop } from "~/demo-mode.server";
import { pgPool } from "~/db/pg.server";
import { channelName } from "~/display/channel-names";
import { count, instant, isoDay, MISSING, money, percent } from "~/display/format";
import { acquiredCustomersUrl } from "~/pages/customer-list";
import { type DriverSort, driverFilterValue, sortDriverRows } from "~/pages/drivers";
import { loadDriversPage } from "~/pages/drivers.server";
import { MoneyBasisToggle } from "~/components/MoneyBasisToggle";
import { withBasis } from "~/display/glossary";
import { inBasis, labelBasis, moneyBasisOf, type PageMoneyBasis } from "~/pages/money-basis";

// Acquisition drivers (issue 17): which first products, codes, channels, marketing sources and
// months of the year bring customers who come back, and when customers reorder. Figures from
// the refit's drivers row (one read); every value links to its customers in the customer table.

export const links = chartLinks;
export const meta: MetaFunction = () => [{ title: "Acquisition drivers · Tenure" }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { shop } = await requireShop(request);
  const page = await loadDriversPage(pgPool(), shop);
  // One money basis per page (issue 13): LTV and AOV as revenue, or as profit.
  return { ...page, basis: moneyBasisOf(new URL(request.url).searchParams, page.grossMargin, page.costs) };
};

/** Each dimension's glossary term (its heading and first column). */
const DIMENSION_TERMS: Record<DriverDimension, string> = {
  firstProduct: "first-product",
  discountCode: "first-discount-code",
  channel: "sales-channel",
  marketingSource: "marketing-source",
  firstOrderMonth: "first-order-month",
};

const DIMENSION_INTROS: Record<DriverDimension, string> = {
  firstProduct: "The product of the first order's first line.",
  discountCode: "The code used on the first order; No code: paid full price.",
  channel: "Where the first order was placed.",
  marketingSource: "UTM source and medium, else the referring site, of the visit that led to the first order.",
  firstOrderMonth: "Seasonality: customers by the month of the year of their first order, whatever the year.",
};

export default function Drivers() {
  const page = useLoaderData<typeof loader>();
  const leaving = useLeavingPage();
  if (leaving) return <PageSkeleton cards={3} />;
  return (
    <Page title="Acquisition drivers" subtitle="What brings customers who come back, and when they reorder">
      {page.state === "none" || !page.drivers ? (
        page.fit ? <NotReadyState fit={page.fit} what="Your acquisition drivers" /> : null
      ) : (
        <DriversBody drivers={page.drivers} computedAtIso={page.computedAtIso} basis={page.basis} />
      )}
    </Page>
  );
}

function DriversBody({
  drivers,
  computedAtIso,
  basis,
}: {
  drivers: NonNullable<ReturnType<typeof useLoaderData<typeof loader>>["drivers"]>;
  computedAtIso: string | null;
  basis: PageMoneyBasis;
}) {
  const timeZone = useShopTimeZone();
  return (
    <CardColumn>
      {basis.toggle && <MoneyBasisToggle basis={basis} />}
      <Card>
        <BlockStack gap="200">
          <Text as="p">
            {count(drivers.customers)} customers with an order, as of {isoDay(drivers.asOfIso)}
            {computedAtIso ? ` (worked out ${instant(computedAtIso, timeZone)})` : ""}. Each row is the customers whose first order had that value;
            click a value to see them. Money is {basis.basis === "profit" ? "profit (revenue × your gross margin)" : "revenue (net sales)"}.
          </Text>
          <Text as="p" tone="subdued">
            Values marked <Badge tone="attention">Small</Badge> rest on fewer than {drivers.smallGroupSize} customers: read them as a hint, not a
            finding. The 95 % interval says how far the repeat purchase rate could be off.
          </Text>
        </BlockStack>
      </Card>
      {drivers.tables.map((table) => (
        <DriverTableCard key={table.key} table={table} currency={drivers.currency} smallGroupSize={drivers.smallGroupSize} basis={basis} />
      ))}
      <ReorderCard reorder={drivers.reorder} />
    </CardColumn>
  );
}

const SORT_OF_COLUMN: DriverSort[] = ["label", "customers", "repeat90", "repeat365", "repeatRate", "repeatRate", "ltv90", "ltv365", "aov", "daysToSecond", "chance90"];

function DriverTableCard({ table, currency, smallGroupSize, basis }: { table: DriverTable; currency: string; smallGroupSize: number; basis: PageMoneyBasis }) {
  const moneyLabel = (label: string) => withBasis(label, labelBasis(basis) ?? "revenue");
  const amount = (minor: number | null) => money(inBasis(minor, basis), currency);
  // Until the merchant sorts, the refit's order: most customers first, months in calendar order.
  const [sort, setSort] = useState<{ column: number; direction: "ascending" | "descending" } | null>(null);
  const rows = sort ? sortDriverRows(table.rows, SORT_OF_COLUMN[sort.column] ?? "customers", sort.direction) : table.rows;
  const headingId = `drivers-${table.key}`;
  const shownValue = (row: DriverRow) => (table.key === "channel" && row.kind === "value" ? channelName(row.label) : row.label);
  const linkOf = (row: DriverRow) => {
    const value = driverFilterValue(table.key, row);
    return value === null ? null : acquiredCustomersUrl(table.key, value);
  };
  /** A figure of the row, linking to its customers; flagged when it rests on few customers. */
  const figure = (row: DriverRow, text: string, small: boolean) => {
    const url = linkOf(row);
    const shown = small && text !== MISSING ? `${text}*` : text;
    return url && text !== MISSING ? (
      <Link url={url} removeUnderline monochrome>
        {shown}
      </Link>
    ) : (
      shown
    );
  };
  return (
    <Card>
      <section aria-labelledby={headingId}>
        <BlockStack gap="300">
          <Text as="h2" variant="headingMd" id={headingId}>
            <HelpLabel term={DIMENSION_TERMS[table.key]} label={table.label} />
          </Text>
          <Text as="p" tone="subdued">
            {DIMENSION_INTROS[table.key]} {table.distinctValues > table.rows.filter((r) => r.kind === "value").length ? `${count(table.distinctValues)} values; the largest are listed, the rest are in Other.` : ""}
          </Text>
          <DataTable
            columnContentTypes={["text", "numeric", "numeric", "numeric", "numeric", "numeric", "numeric", "numeric", "numeric", "numeric", "numeric"]}
            headings={[
              <TermText key="value" term={DIMENSION_TERMS[table.key]} label={table.label} />,
              <TermText key="customers" term="customers" label="Customers" />,
              <TermText key="repeat90" term="repeat-within-days" label="Repeat within 90 days" />,
              <TermText key="repeat365" term="repeat-within-days" label="Repeat within 365 days" />,
              <TermText key="repeat" term="repeat-purchase-rate" label="Repeat purchase rate" />,
              <TermText key="interval" term="repeat-rate-interval" label="95 % interval" />,
              <TermText key="ltv90" term="cohort-ltv" label={moneyLabel("LTV at 90 days")} />,
              <TermText key="ltv365" term="cohort-ltv" label={moneyLabel("LTV at 365 days")} />,
              <TermText key="aov" term="aov" label={moneyLabel("AOV")} />,
              <TermText key="days" term="median-days-to-second-order" label="Median days to 2nd order" />,
              <TermText key="chance" term="chance-of-ordering-90d" label="Avg chance of ordering, next 90 days" />,
            ]}
            sortable={[true, true, true, true, true, false, true, true, true, true, true]}
            initialSortColumnIndex={table.key === "firstOrderMonth" ? 0 : 1}
            defaultSortDirection={table.key === "firstOrderMonth" ? "ascending" : "descending"}
            onSort={(column, direction) => setSort({ column, direction: direction === "ascending" ? "ascending" : "descending" })}
            rows={rows.map((row) => [
              <span key="label">
                {figure(row, shownValue(row), false)}{" "}
                {row.small && (
                  <Badge tone="attention" size="small">
                    Small
                  </Badge>
                )}
              </span>,
              figure(row, count(row.customers), row.small),
              repeatWithinText(row, 0, figure),
              repeatWithinText(row, 1, figure),
              figure(row, percent(row.repeatRate), row.small),
              row.repeatRateLow === null || row.repeatRateHigh === null ? MISSING : `${percent(row.repeatRateLow, 0)}–${percent(row.repeatRateHigh, 0)}`,
              figure(row, amount(row.ltv[0]?.value ?? null), row.ltv[0]?.small ?? true),
              figure(row, amount(row.ltv[1]?.value ?? null), row.ltv[1]?.small ?? true),
              figure(row, amount(row.aov), row.small),
              figure(row, row.medianDaysToSecondOrder === null ? MISSING : count(row.medianDaysToSecondOrder), row.secondOrders < smallGroupSize),
              figure(row, percent(row.chanceOfOrder90d), row.predictedCustomers < smallGroupSize),
            ])}
          />
          <Text as="p" variant="bodySm" tone="subdued">
            * fewer than {smallGroupSize} customers behind the figure (for LTV and repeat within 90 / 365 days, those who have had that many days since their first order; for
            days to a 2nd order, those who placed one).
          </Text>
          <GlossaryLinks terms={[DIMENSION_TERMS[table.key], "customers", "repeat-within-days", "repeat-purchase-rate", "repeat-rate-interval", "cohort-ltv", "aov", "median-days-to-second-order", "chance-of-ordering-90d"]} />
        </BlockStack>
      </section>
    </Card>
  );
}

/** The repeat rate within a horizon over the customers old enough, with its 95 % interval in brackets. */
function repeatWithinText(row: DriverRow, horizon: number, figure: (row: DriverRow, text: string, small: boolean) => ReactNode): ReactNode {
  const within = row.repeatWithin?.[horizon];
  if (!within || within.rate === null) return MISSING;
  const interval = within.low === null || within.high === null ? "" : ` (${percent(within.low, 0)}–${percent(within.high, 0)})`;
  return figure(row, `${percent(within.rate)}${interval}`, within.small);
}

function ReorderCard({ reorder }: { reorder: ReorderTiming }) {
  const withinDays = reorder.steps[0]?.within.map((w) => w.days) ?? [];
  return (
    <Card>
      <section aria-labelledby="reorder-timing">
        <BlockStack gap="400">
          <Text as="h2" variant="headingMd" id="reorder-timing">
            <HelpLabel term="reorder-timing" label="Time between orders" />
          </Text>
          <Text as="p" tone="subdued">
            When customers order again, step by step: send the reminder before most of them would reorder. A share within 30 days counts only
            orders at least 30 days old.
          </Text>
          <DataTable
            columnContentTypes={["text", "numeric", "numeric", "numeric", ...withinDays.map(() => "numeric" as const)]}
            headings={[
              <TermText key="step" term="reorder-timing" label="Step" />,
              <TermText key="reorders" term="reorder-timing" label="Reorders" />,
              <TermText key="median" term="reorder-timing" label="Median days" />,
              <TermText key="quartiles" term="reorder-timing" label="25th–75th percentile" />,
              ...withinDays.map((d) => <TermText key={d} term="reorder-timing" label={`Within ${d} days`} />),
            ]}
            rows={reorder.steps.map((step) => [
              step.step,
              count(step.gaps),
              step.median === null ? MISSING : count(step.median),
              step.p25 === null || step.p75 === null ? MISSING : `${count(step.p25)}–${count(step.p75)} days`,
              ...step.within.map((w) => (w.share === null ? MISSING : `${percent(w.share)}${w.orders < 30 ? "*" : ""}`)),
            ])}
          />
          <InlineGrid columns={{ xs: 1, md: 3 }} gap="400">
            {reorder.steps.map((step) => (
              <StepHistogram key={step.step} step={step} buckets={reorder.buckets} />
            ))}
          </InlineGrid>
        </BlockStack>
      </section>
    </Card>
  );
}

function StepHistogram({ step, buckets }: { step: ReorderStep; buckets: ReorderTiming["buckets"] }) {
  return (
    <BlockStack gap="200">
      <Text as="h3" variant="headingSm">
        <TermText term="reorder-timing" label={step.step} />
      </Text>
      <Chart
        title={`Days from the ${step.step.replace(/ order.*/, "")} order to the next: reorders per range of days`}
        height={220}
        empty={<Text as="p" tone="subdued">No reorders at this step yet.</Text>}
        spec={{
          kind: "bar",
          direction: "vertical",
          series: [{ name: "Reorders", data: buckets.map((bucket, i) => ({ key: bucket.label, value: step.histogram[i] ?? 0 })) }],
          formatValue: (value) => count(value),
          axisTitles: { x: "Days to the next order", y: "Reorders" },
        }}
      />
    </BlockStack>
  );
}

export function ErrorBoundary() {
  return <PageErrorBoundary backUrl="/app" backLabel="Dashboard" />;
}
