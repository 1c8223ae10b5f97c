import { type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { BlockStack, Card, IndexTable, InlineStack, Layout, Link, Page, Text } from "@shopify/polaris";
import { change, count, isoDay, money, percent } from "~/display/format";
import { NumericCell } from "~/components/NumericCell";
import { FitStateLayout, PageErrorBoundary, PageSkeleton, useLeavingPage } from "~/components/states";
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

/** One table per kind of segment, in this order. */
const SEGMENT_KINDS = [
  {
    kind: "rfm",
    caption: "RFM segments",
    description: "Every customer with an order is in exactly one RFM segment, from their recency, frequency and spend scores.",
  },
  {
    kind: "behaviour",
    caption: "Behavioural segments",
    description: "A customer can be in several behavioural segments at once, so these shares add up to more than 100%.",
  },
] as const;

export default function Segments() {
  const { overview } = useLoaderData<typeof loader>();
  const leaving = useLeavingPage();
  if (leaving) return <PageSkeleton cards={2} />;
  const { segments, fit, currency } = overview;
  return (
    <Page title="Segments" subtitle={segments ? `${count(segments.customers)} customers with an order · as of ${isoDay(segments.asOfIso)}` : undefined}>
      <FitStateLayout fit={fit} what="Your segments" ready={Boolean(segments)}>
        {SEGMENT_KINDS.map(({ kind, caption, description }) => (
          <Layout.Section key={kind}>
            <SegmentTable caption={caption} description={description} rows={segments?.rows.filter((row) => row.kind === kind) ?? []} currency={currency} />
          </Layout.Section>
        ))}
      </FitStateLayout>
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
                <NumericCell>{count(row.customers)}</NumericCell>
                <NumericCell>{percent(row.share)}</NumericCell>
                <NumericCell>{percent(row.revenueShare)}</NumericCell>
                <NumericCell>{money(row.averageHistoricClvMinor, currency)}</NumericCell>
                <NumericCell>{money(row.averagePredictedClvMinor, currency)}</NumericCell>
                <NumericCell>{percent(row.averagePAlive, 0)}</NumericCell>
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
