import { type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { BlockStack, Card, IndexTable, InlineStack, Layout, Link, Page, Text } from "@shopify/polaris";
import { change, count, isoDay, money, percent } from "~/display/format";
import { NoPredictionsBanner, NotReadyState, RefreshFailedBanner, PageErrorBoundary, PageSkeleton, useLeavingPage } from "~/components/states";
import { pgPool } from "~/db/pg.server";
import { requireShop } from "~/demo-mode.server";
import { type SegmentRow } from "~/data/aggregates";
import { loadSegmentsOverview } from "~/pages/segments.server";

// RFM and behavioural segments in one table, from the refit's segments aggregate: size,
// share, revenue share, average CLV and P(alive), and the trend against 30 days ago.

export const meta: MetaFunction = () => [{ title: "Segments · Tenure" }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { shop } = await requireShop(request);
  return { shop, overview: await loadSegmentsOverview(pgPool(), shop) };
};

const HEADINGS = [
  "Segment",
  "Customers",
  "Share",
  "Revenue share",
  "Avg historic CLV",
  "Avg predicted CLV",
  "Avg P(alive)",
  "Trend (30 days)",
] as const;

export default function Segments() {
  const { overview } = useLoaderData<typeof loader>();
  const leaving = useLeavingPage();
  if (leaving) return <PageSkeleton cards={2} />;
  const { segments, fit, currency } = overview;
  return (
    <Page title="Segments" subtitle={segments ? `${count(segments.customers)} customers with an order · as of ${isoDay(segments.asOfIso)}` : undefined}>
      <Layout>
        {!segments ? (
          <Layout.Section>
            <NotReadyState fit={fit} what="Your segments" />
          </Layout.Section>
        ) : (
          <>
            {fit.error && (
              <Layout.Section>
                <RefreshFailedBanner error={fit.error} asOfIso={fit.asOfIso} />
              </Layout.Section>
            )}
            {fit.status === "no-predictions" && (
              <Layout.Section>
                <NoPredictionsBanner reason={fit.reason} />
              </Layout.Section>
            )}
            <Layout.Section>
              <SegmentTable
                caption="RFM segments"
                description="Every customer with an order is in exactly one RFM segment, from their recency, frequency and spend scores."
                rows={segments.rows.filter((row) => row.kind === "rfm")}
                currency={currency}
              />
            </Layout.Section>
            <Layout.Section>
              <SegmentTable
                caption="Behavioural segments"
                description="A customer can be in several behavioural segments at once, so these shares add up to more than 100%."
                rows={segments.rows.filter((row) => row.kind === "behaviour")}
                currency={currency}
              />
            </Layout.Section>
          </>
        )}
      </Layout>
    </Page>
  );
}

function trendOf(row: SegmentRow) {
  return change(row.customers, row.customers30dAgo, "relative", (v) => `${count(v)} customers`);
}

function SegmentTable({ caption, description, rows, currency }: { caption: string; description: string; rows: SegmentRow[]; currency: string }) {
  const id = `segments-${caption.replace(/\W+/g, "-").toLowerCase()}`;
  return (
    <Card padding="0">
      <section aria-labelledby={id}>
        <div style={{ padding: "var(--p-space-400)" }}>
          <BlockStack gap="100">
            <Text as="h2" variant="headingMd" id={id}>
              {caption}
            </Text>
            <Text as="p" tone="subdued">
              {description}
            </Text>
          </BlockStack>
        </div>
        <IndexTable
          resourceName={{ singular: "segment", plural: "segments" }}
          itemCount={rows.length}
          selectable={false}
          headings={HEADINGS.map((title, index) => ({ title, alignment: index === 0 ? undefined : ("end" as const) })) as never}
        >
          {rows.map((row, index) => {
            const trend = trendOf(row);
            return (
              <IndexTable.Row id={`${row.kind}:${row.key}`} key={`${row.kind}:${row.key}`} position={index}>
                <IndexTable.Cell>
                  <Link url={`/app/segments/${row.key}`} removeUnderline>
                    <Text as="span" fontWeight="semibold">
                      {row.name}
                    </Text>
                  </Link>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <Text as="span" alignment="end" numeric>
                    {count(row.customers)}
                  </Text>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <Text as="span" alignment="end" numeric>
                    {percent(row.share)}
                  </Text>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <Text as="span" alignment="end" numeric>
                    {percent(row.revenueShare)}
                  </Text>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <Text as="span" alignment="end" numeric>
                    {money(row.averageHistoricClvMinor, currency)}
                  </Text>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <Text as="span" alignment="end" numeric>
                    {money(row.averagePredictedClvMinor, currency)}
                  </Text>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <Text as="span" alignment="end" numeric>
                    {percent(row.averagePAlive, 0)}
                  </Text>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <InlineStack align="end">
                    <Text as="span" numeric>
                      {trend.text === null ? (
                        "—"
                      ) : (
                        <>
                          <span aria-hidden="true">{trend.text}</span>
                          <Text as="span" visuallyHidden>
                            {trend.description}
                          </Text>
                        </>
                      )}
                    </Text>
                  </InlineStack>
                </IndexTable.Cell>
              </IndexTable.Row>
            );
          })}
        </IndexTable>
      </section>
    </Card>
  );
}

export function ErrorBoundary() {
  return <PageErrorBoundary backUrl="/app" backLabel="Dashboard" />;
}
