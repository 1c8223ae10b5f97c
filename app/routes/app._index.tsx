import { type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { BlockStack, Box, Card, DataTable, InlineGrid, InlineStack, Layout, Link, Page, Text } from "@shopify/polaris";
import { BENCHMARKS } from "~/display/benchmarks";
import { Chart, chartLinks } from "~/components/charts";
import { compactMoney, count, instant, isoDay, money, percent } from "~/display/format";
import { useShopTimeZone } from "~/components/ShopTimeZone";
import { KpiCard } from "~/components/KpiCard";
import { HeadingCard } from "~/components/HeadingCard";
import { HelpLabel } from "~/components/HelpLabel";
import { FitStateLayout, PageErrorBoundary, PageSkeleton, useLeavingPage } from "~/components/states";
import { pgPool } from "~/db/pg.server";
import { requireShop } from "~/demo-mode.server";
import { type DashboardData, loadDashboard } from "~/pages/dashboard.server";
import { MoneyBasisToggle } from "~/components/MoneyBasisToggle";
import { kpiFigures } from "~/pages/dashboard";
import { inBasis, moneyBasisOf, type PageMoneyBasis } from "~/pages/money-basis";

// The dashboard: the shop's KPIs against the previous period (and a benchmark where one is
// published), how customers spread over segments and revenue, and what moved this week.
// Reads the refit's precomputed aggregates only (app/pages/dashboard.server.ts).

export const links = chartLinks;
export const meta: MetaFunction = () => [{ title: "Dashboard · Tenure" }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { shop } = await requireShop(request);
  const dashboard = await loadDashboard(pgPool(), shop);
  return { shop, dashboard, basis: moneyBasisOf(new URL(request.url).searchParams, dashboard.grossMargin, dashboard.costs) };
};

export default function Dashboard() {
  const { shop, dashboard, basis } = useLoaderData<typeof loader>();
  const timeZone = useShopTimeZone();
  const leaving = useLeavingPage();
  if (leaving) return <PageSkeleton />;
  const { kpis, segments, fit } = dashboard;
  const subtitle = kpis ? `${shop} · as of ${isoDay(kpis.asOfIso)}` : shop;
  return (
    <Page title="Dashboard" subtitle={subtitle}>
      <FitStateLayout fit={fit} what="Your customer metrics" ready={Boolean(kpis || segments)}>
        {kpis && (
          <Layout.Section>
            <Kpis data={dashboard} basis={basis} />
            {(kpis.onlyVoidedCustomers ?? 0) > 0 && (
              <Box paddingBlockStart="200">
                <Text as="p" variant="bodySm" tone="subdued">
                  {count(kpis.onlyVoidedCustomers ?? 0)} {kpis.onlyVoidedCustomers === 1 ? "customer whose only orders were" : "customers whose only orders were"}{" "}
                  cancelled or refunded {kpis.onlyVoidedCustomers === 1 ? "is" : "are"} left out of predictions.
                </Text>
              </Box>
            )}
          </Layout.Section>
        )}
        {segments && (
          <Layout.Section>
            <SegmentCharts data={dashboard} basis={basis} />
          </Layout.Section>
        )}
        <Layout.Section>
          <WhatMoved data={dashboard} />
        </Layout.Section>
        {kpis && (
          <Layout.Section>
            <Benchmarks repeatRate={kpis.repeatPurchaseRate.value} />
          </Layout.Section>
        )}
        {dashboard.computedAtIso && (
          <Layout.Section>
            <Text as="p" variant="bodySm" tone="subdued">
              Figures computed {instant(dashboard.computedAtIso, timeZone)}; they are refreshed after imports, many new orders and every night.
            </Text>
          </Layout.Section>
        )}
      </FitStateLayout>
    </Page>
  );
}

function Kpis({ data, basis }: { data: DashboardData; basis: PageMoneyBasis }) {
  const cards = kpiFigures(data, basis);
  return (
    <section aria-labelledby="kpi-heading">
      <BlockStack gap="300">
        <InlineStack align="space-between" blockAlign="center" gap="300">
          <Text as="h2" variant="headingMd" id="kpi-heading">
            Key figures
          </Text>
          <MoneyBasisToggle basis={basis} />
        </InlineStack>
        <InlineGrid columns={{ xs: 1, sm: 2, lg: 4 }} gap="400">
          {cards.map(({ money: _money, ...card }) => (
            <KpiCard key={card.label} {...card} />
          ))}
        </InlineGrid>
      </BlockStack>
    </section>
  );
}

const BAR_HEIGHT = 30;

function SegmentCharts({ data, basis }: { data: DashboardData; basis: PageMoneyBasis }) {
  const unit = basis.basis === "profit" ? "Profit" : "Revenue";
  const segments = data.segments!;
  const rfm = segments.rows.filter((row) => row.kind === "rfm");
  const height = Math.max(200, rfm.length * BAR_HEIGHT + 60);
  return (
    <InlineGrid columns={{ xs: 1, md: 2 }} gap="400">
      <Card>
        <BlockStack gap="300">
          <InlineStack align="space-between" blockAlign="center">
            <Text as="h2" variant="headingMd">
              <HelpLabel term="share" label="Customers by segment" />
            </Text>
            <Link url="/app/segments">All segments</Link>
          </InlineStack>
          <Chart
            title="Share of customers in each RFM segment"
            height={height}
            spec={{
              kind: "bar",
              series: [{ name: "Share of customers", data: rfm.map((row) => ({ key: row.name, value: row.share })) }],
              formatValue: (value) => percent(value, 0),
            }}
          />
        </BlockStack>
      </Card>
      <HeadingCard title={`${unit} by segment`} term="revenue-by-segment">
        <Chart
          title={`${unit} to date from each RFM segment`}
          height={height}
          spec={{
            kind: "bar",
            series: [{ name: unit, data: rfm.map((row) => ({ key: row.name, value: inBasis(row.netSpentMinor, basis) ?? 0 })) }],
            formatValue: (value) => money(value, data.currency),
            formatAxis: (value) => compactMoney(value, data.currency),
          }}
        />
      </HeadingCard>
    </InlineGrid>
  );
}

function WhatMoved({ data }: { data: DashboardData }) {
  const timeZone = useShopTimeZone();
  const movements = data.movements;
  const moves = movements?.moves.slice(0, 8) ?? [];
  return (
    <InlineGrid columns={{ xs: 1, md: 2 }} gap="400">
      <HeadingCard title={`What moved ${movements ? `in the last ${movements.days} days` : "this week"}`} term="segment-changes">
        {moves.length === 0 ? (
          <Text as="p" tone="subdued">
            No customer changed segment in this period.
          </Text>
        ) : (
          <>
            <Text as="p" tone="subdued">
              {count(movements!.total)} segment changes, largest first.
            </Text>
            <DataTable
              columnContentTypes={["text", "text", "numeric"]}
              headings={[
                <HelpLabel key="from" term="segment-changes" label="From" />,
                <HelpLabel key="to" term="segment-changes" label="To" />,
                <HelpLabel key="customers" term="customers" label="Customers" />,
              ]}
              rows={moves.map((move) => [move.fromName, move.toName, count(move.customers)])}
            />
          </>
        )}
      </HeadingCard>
      <HeadingCard title="Latest segment changes" term="segment-changes">
        {data.latestTransitions.length === 0 ? (
          <Text as="p" tone="subdued">
            None yet: changes appear here when a customer moves from one segment to another.
          </Text>
        ) : (
          <Box>
            <BlockStack gap="200" as="ul">
              {data.latestTransitions.map((t, index) => (
                <li key={`${t.customerId}-${t.atIso}-${index}`} style={{ listStyle: "none" }}>
                  <InlineStack gap="200" align="space-between" wrap={false}>
                    <Text as="span">
                      <Link url={`/app/customers/${t.customerId}`}>{t.customerName}</Link>: {t.fromName} → {t.toName}
                    </Text>
                    <Text as="span" tone="subdued" variant="bodySm">
                      {instant(t.atIso, timeZone)}
                    </Text>
                  </InlineStack>
                </li>
              ))}
            </BlockStack>
          </Box>
        )}
      </HeadingCard>
    </InlineGrid>
  );
}

/** The repeat purchase rate beside published figures by niche, with the source and why they are only indicative. */
function Benchmarks({ repeatRate }: { repeatRate: number | null }) {
  const set = BENCHMARKS.repeatPurchaseRate;
  return (
    <HeadingCard
      title="Repeat purchase rate by niche (indicative)"
      term="benchmark"
      help={
        <>
          Your shop: {percent(repeatRate)}. {set.caveat} Source:{" "}
          <Link url={set.sourceUrl} target="_blank">
            {set.source}
          </Link>
          .
        </>
      }
    >
      <DataTable
        columnContentTypes={["text", "numeric"]}
        headings={[<HelpLabel key="niche" term="benchmark" label="Niche" />, <HelpLabel key="rate" term="repeat-purchase-rate" />]}
        rows={[...set.byNiche.map((figure) => [figure.label, percent(figure.value)]), [set.headline.label, percent(set.headline.value)]]}
      />
    </HeadingCard>
  );
}

export function ErrorBoundary() {
  return <PageErrorBoundary backUrl="/app" backLabel="Dashboard" />;
}
