import { type ActionFunctionArgs, json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useFetcher, useLoaderData } from "@remix-run/react";
import { BlockStack, Button, Card, IndexTable, InlineStack, Layout, Link, Page, Text } from "@shopify/polaris";
import { change, count, isoDay, money, percent } from "~/display/format";
import { expectedSpendLabel, segmentNote, withBasis } from "~/display/glossary";
import { GlossaryLinks, HelpLabel, termHeading } from "~/components/HelpLabel";
import { MoneyBasisToggle } from "~/components/MoneyBasisToggle";
import { inBasis, labelBasis, moneyBasisOf, type PageMoneyBasis } from "~/pages/money-basis";
import { segmentMoneyToDate } from "~/pages/segment-profit";
import { NumericCell } from "~/components/NumericCell";
import { FitStateLayout, PageErrorBoundary, PageSkeleton, useLeavingPage } from "~/components/states";
import { pgPool } from "~/db/pg.server";
import { demoAdminClient, requireShop } from "~/demo-mode.server";
import { env } from "~/env.server";
import { type SegmentRow } from "~/data/aggregates";
import { loadSegmentsOverview } from "~/pages/segments.server";
import { PUBLISH_INTENT, PUBLISH_NOTES, type PublishedSegmentState, type SegmentPublishResult } from "~/pages/segments-publish";
import { requestAdminClient, submitSegmentPublish } from "~/pages/segments-publish.server";

// RFM and behavioural segments in one table, from the refit's segments aggregate: size,
// share, revenue share, average spent to date and expected spend (in the page's money
// basis), the average chance of ordering in the next 90 days, and the trend against 30 days ago.
// Each segment can be published as a Shopify customer segment; a published one links to it.

export const meta: MetaFunction = () => [{ title: "Segments · Tenure" }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { shop } = await requireShop(request);
  const overview = await loadSegmentsOverview(pgPool(), shop);
  return { shop, overview, basis: moneyBasisOf(new URL(request.url).searchParams, overview.grossMargin, overview.costs) };
};

/** Publish one segment to Shopify (each row's own fetcher), with the request's Admin API context (in demo mode, the demo's fake Shopify). */
export const action = async ({ request }: ActionFunctionArgs) => {
  const context = await requireShop(request);
  const admin = context.demo ? demoAdminClient() : requestAdminClient(context.admin.graphql);
  const { status, result } = await submitSegmentPublish({ db: pgPool(), admin }, context.shop, request, env().SHOPIFY_APP_URL);
  return json<SegmentPublishResult>(result, { status });
};

/** Column headings with their glossary terms, named with the horizon and money basis. */
function headingsOf(horizonDays: number, basis: PageMoneyBasis) {
  const money = labelBasis(basis);
  return [
    { term: "rfm", label: "Segment" },
    { term: "customers", label: "Customers" },
    { term: "share", label: "Share" },
    { term: "revenue-share", label: "Revenue share" },
    { term: "spent-to-date", label: withBasis("Avg spent to date", money) },
    { term: "expected-spend", label: withBasis(`Avg ${expectedSpendLabel(horizonDays).toLowerCase()}`, money) },
    { term: "chance-of-ordering-90d", label: "Avg chance of ordering, next 90 days" },
    { term: "trend-30d", label: "Trend (30 days)" },
  ];
}

/** One table per kind of segment, in this order. */
const SEGMENT_KINDS = [
  {
    kind: "rfm",
    term: "rfm",
    caption: "RFM segments",
    description: "Every customer with an order is in exactly one RFM segment, from their recency, frequency and spend scores.",
  },
  {
    kind: "behaviour",
    term: "behaviour",
    caption: "Behavioural segments",
    description: "A customer can be in several behavioural segments at once, so these shares add up to more than 100%.",
  },
] as const;

export default function Segments() {
  const { overview, basis } = useLoaderData<typeof loader>();
  const leaving = useLeavingPage();
  if (leaving) return <PageSkeleton cards={2} />;
  const { segments, fit, currency } = overview;
  return (
    <Page fullWidth title="Segments" subtitle={segments ? `${count(segments.customers)} customers with an order · as of ${isoDay(segments.asOfIso)}` : undefined}>
      <FitStateLayout fit={fit} what="Your segments" ready={Boolean(segments)}>
        {basis.toggle && (
          <Layout.Section>
            <MoneyBasisToggle basis={basis} />
          </Layout.Section>
        )}
        {SEGMENT_KINDS.map(({ kind, term, caption, description }) => (
          <Layout.Section key={kind}>
            <SegmentTable
              term={term}
              caption={caption}
              description={description}
              rows={segments?.rows.filter((row) => row.kind === kind) ?? []}
              published={overview.published}
              currency={currency}
              horizonDays={overview.horizonDays}
              basis={basis}
            />
          </Layout.Section>
        ))}
        {segments && segments.rows.every((row) => row.customers30dAgo === null) && (
          <Layout.Section>
            <Text as="p" variant="bodySm" tone="subdued">
              Trend (30 days) shows “—” until Tenure has counted your segments for 30 days: it compares each segment's size with
              its size 30 days ago, and the daily counts start with the first analysis of your shop.
            </Text>
          </Layout.Section>
        )}
      </FitStateLayout>
    </Page>
  );
}

function trendOf(row: SegmentRow) {
  return change(row.customers, row.customers30dAgo, "relative", (v) => `${count(v)} customers`);
}

function SegmentTable({
  term,
  caption,
  description,
  rows,
  published,
  currency,
  horizonDays,
  basis,
}: {
  term: string;
  caption: string;
  description: string;
  rows: SegmentRow[];
  published: Record<string, PublishedSegmentState>;
  currency: string;
  horizonDays: number;
  basis: PageMoneyBasis;
}) {
  const headings = headingsOf(horizonDays, basis);
  const id = `segments-${caption.replace(/\W+/g, "-").toLowerCase()}`;
  return (
    <Card padding="0">
      <section aria-labelledby={id}>
        <div style={{ padding: "var(--p-space-400)" }}>
          <BlockStack gap="100">
            <Text as="h2" variant="headingMd">
              <HelpLabel term={term} label={caption} labelId={id} />
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
          headings={headings.map(({ term, label }, index) => ({ ...termHeading(term, label), alignment: index === 0 ? undefined : ("end" as const) })) as never}
        >
          {rows.map((row, index) => {
            const trend = trendOf(row);
            return (
              <IndexTable.Row id={`${row.kind}:${row.key}`} key={`${row.kind}:${row.key}`} position={index}>
                <IndexTable.Cell>
                  <BlockStack gap="050">
                    <Link url={`/app/segments/${row.key}`} removeUnderline>
                      <Text as="span" fontWeight="semibold">
                        {row.name}
                      </Text>
                    </Link>
                    {segmentNote(row.key) && (
                      <div style={{ maxWidth: "22rem", whiteSpace: "normal" }}>
                        <Text as="span" variant="bodySm" tone="subdued">
                          {segmentNote(row.key)}
                        </Text>
                      </div>
                    )}
                    <ShopifySegmentState segmentKey={row.key} published={published[row.key] ?? null} />
                  </BlockStack>
                </IndexTable.Cell>
                <NumericCell>{count(row.customers)}</NumericCell>
                <NumericCell>{percent(row.share)}</NumericCell>
                <NumericCell>{percent(row.revenueShare)}</NumericCell>
                <SpentToDateCell row={row} basis={basis} currency={currency} />
                <NumericCell>{money(inBasis(row.averagePredictedClvMinor, basis), currency)}</NumericCell>
                <NumericCell>{percent(row.averageChanceOfOrder90d ?? null, 0)}</NumericCell>
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
        <div style={{ padding: "var(--p-space-400)" }}>
          <GlossaryLinks terms={headings.map((heading) => heading.term)} />
        </div>
      </section>
    </Card>
  );
}

/** Whether the segment is a Shopify customer segment: a link to it, or the button that publishes it. */
function ShopifySegmentState({ segmentKey, published }: { segmentKey: string; published: PublishedSegmentState | null }) {
  const fetcher = useFetcher<SegmentPublishResult>({ key: `publish-${segmentKey}` });
  const result = fetcher.data ?? null;
  const publish = () => fetcher.submit({ intent: PUBLISH_INTENT, segmentKey }, { method: "post" });
  const busy = fetcher.state !== "idle";
  return (
    <div style={{ maxWidth: "22rem", whiteSpace: "normal" }}>
      <BlockStack gap="050">
        <InlineStack gap="200" blockAlign="center">
          {published ? (
            <>
              <Text as="span" variant="bodySm" tone="subdued">
                In Shopify as “{published.name}”
              </Text>
              <Link url={published.adminUrl} target="_top" removeUnderline>
                <Text as="span" variant="bodySm">
                  Open in Shopify
                </Text>
              </Link>
              {/* Relabels are followed automatically; the button is the retry after a refusal, or for the impatient. */}
              {(!published.nameCurrent || published.lastError) && (
                <Button variant="plain" size="slim" onClick={publish} loading={busy}>
                  {published.nameCurrent ? "Update in Shopify" : "Update the name in Shopify"}
                </Button>
              )}
            </>
          ) : (
            <Button variant="plain" size="slim" onClick={publish} loading={busy}>
              Publish to Shopify
            </Button>
          )}
        </InlineStack>
        {PUBLISH_NOTES[segmentKey] && (
          <Text as="span" variant="bodySm" tone="subdued">
            {PUBLISH_NOTES[segmentKey]}
          </Text>
        )}
        {published?.lastError && !result && (
          <Text as="span" variant="bodySm" tone="critical">
            {published.lastError}
          </Text>
        )}
        {published && !published.nameCurrent && !published.lastError && !result && (
          <Text as="span" variant="bodySm" tone="subdued">
            Renaming it in Shopify after your new label…
          </Text>
        )}
        {result && !busy && (
          <Text as="span" variant="bodySm" tone={result.ok ? "success" : "critical"}>
            {result.message}
          </Text>
        )}
      </BlockStack>
    </div>
  );
}

export function ErrorBoundary() {
  return <PageErrorBoundary backUrl="/app" backLabel="Dashboard" />;
}

/** Avg spent to date in the page's basis: on the profit basis the segment's own gross profit per customer (the tally), with the share of its sales without a product cost. */
function SpentToDateCell({ row, basis, currency }: { row: SegmentRow; basis: PageMoneyBasis; currency: string }) {
  const toDate = segmentMoneyToDate(row, basis);
  return (
    <NumericCell>
      {money(toDate.averageMinor, currency)}
      {toDate.fellBackShare !== null && toDate.fellBackShare > 0 && (
        <Text as="span" variant="bodySm" tone="subdued">
          {" "}
          ({percent(toDate.fellBackShare, 0)} without a product cost)
        </Text>
      )}
    </NumericCell>
  );
}
