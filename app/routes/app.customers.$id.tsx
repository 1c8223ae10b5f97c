import { type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { Badge, Banner, BlockStack, DataTable, InlineGrid, InlineStack, Layout, Link, Page, Text } from "@shopify/polaris";
import { COUNT_MODEL_LABELS } from "~/analytics/clv/count-model";
import { Chart, chartLinks } from "~/components/charts";
import { count, instant, isoDay, money, percent, ratio } from "~/display/format";
import { useShopTimeZone } from "~/components/ShopTimeZone";
import { PageErrorBoundary, PageSkeleton, useLeavingPage } from "~/components/states";
import { HeadingCard } from "~/components/HeadingCard";
import { pgPool } from "~/db/pg.server";
import { requireShop } from "~/demo-mode.server";
import { type CustomerDetail } from "~/pages/customer";
import { loadCustomer } from "~/pages/customer.server";

// One customer: scores, segment history, P(alive) over time (the stored model applied to
// their own history), expected next order, historic and predicted CLV with the model's
// assumptions, and their orders. One customer's rows only.

export const links = chartLinks;
export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.customer.name ?? "Customer"} · Tenure` }];

export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { shop } = await requireShop(request);
  const customer = await loadCustomer(pgPool(), shop, params.id ?? "");
  if (!customer) throw new Response("There is no such customer in this shop.", { status: 404 });
  return { customer };
};

export default function CustomerPage() {
  const { customer } = useLoaderData<typeof loader>();
  const leaving = useLeavingPage();
  if (leaving) return <PageSkeleton cards={3} />;
  const m = customer.metrics;
  return (
    <Page title={customer.name} subtitle={customer.email ?? undefined} backAction={{ content: "Customers", url: "/app/customers" }}>
      <Layout>
        <PredictionNotice customer={customer} />
        {!m ? (
          <Layout.Section>
            <Banner tone="info" title="Not scored yet">
              <p>This customer has no metrics yet. They are scored within seconds of an order, and every customer at the next refit.</p>
            </Banner>
          </Layout.Section>
        ) : (
          <Layout.Section>
            <InlineGrid columns={{ xs: 1, md: 3 }} gap="400">
              <Scores customer={customer} />
              <Value customer={customer} />
              <Outlook customer={customer} />
            </InlineGrid>
          </Layout.Section>
        )}
        {customer.pAliveHistory.length > 0 && (
          <Layout.Section>
            <HeadingCard
              title="P(alive) over time"
              help={
                <>
                  The chance that {customer.name} was still an active customer on each day, as the current model reads their orders up to
                  that day. It drops while they do not order and jumps back after each order.
                </>
              }
            >
              <Chart
                title={`P(alive) of ${customer.name} by day`}
                height={260}
                spec={{
                  kind: "line",
                  series: [{ name: "P(alive)", data: customer.pAliveHistory.map((point) => ({ key: point.dayIso, value: point.pAlive })) }],
                  formatValue: (value) => percent(value, 0),
                  formatKey: isoDay,
                  yMax: 1,
                }}
              />
            </HeadingCard>
          </Layout.Section>
        )}
        <Layout.Section>
          <InlineGrid columns={{ xs: 1, md: 2 }} gap="400">
            <SegmentHistory customer={customer} />
            <HeadingCard title="Tags" gap="200">
              {customer.tags.length === 0 ? (
                <Text as="p" tone="subdued">
                  No tags in Shopify.
                </Text>
              ) : (
                <InlineStack gap="100">
                  {customer.tags.map((tag) => (
                    <Badge key={tag}>{tag}</Badge>
                  ))}
                </InlineStack>
              )}
            </HeadingCard>
          </InlineGrid>
        </Layout.Section>
        <Layout.Section>
          <Timeline customer={customer} />
        </Layout.Section>
      </Layout>
    </Page>
  );
}

function PredictionNotice({ customer }: { customer: CustomerDetail }) {
  const prediction = customer.prediction;
  if (prediction.status === "ready") return null;
  const text =
    prediction.status === "none"
      ? "Your shop has not been analysed yet, so there are no predictions. They appear after the first refit; Sync status shows its progress."
      : prediction.status === "failed"
        ? "The last analysis of your shop failed, so there are no predictions. Sync status shows what went wrong."
        : `There are no predictions for this shop: ${prediction.reason ?? "too little order history"}. Historic figures and RFM scores are shown.`;
  return (
    <Layout.Section>
      <Banner tone="warning" title="No predictions" action={{ content: prediction.status === "no-predictions" ? "See the model page" : "Open Sync status", url: prediction.status === "no-predictions" ? "/app/model" : "/app/sync" }}>
        <p>{text}</p>
      </Banner>
    </Layout.Section>
  );
}

const modelLabel = (name: string | null) => (name && name in COUNT_MODEL_LABELS ? COUNT_MODEL_LABELS[name as keyof typeof COUNT_MODEL_LABELS] : "—");

function Row({ label, value }: { label: string; value: React.ReactNode }) {
  return (
    <InlineStack align="space-between" gap="200" wrap={false}>
      <Text as="span" tone="subdued">
        {label}
      </Text>
      <Text as="span" numeric alignment="end">
        {value}
      </Text>
    </InlineStack>
  );
}

function Scores({ customer }: { customer: CustomerDetail }) {
  const m = customer.metrics!;
  return (
    <HeadingCard title="Scores" gap="200">
      <InlineStack gap="200" blockAlign="center">
        {m.segment ? (
          <Link url={`/app/segments/${m.segment}`}>
            <Badge tone="info">{m.segmentName}</Badge>
          </Link>
        ) : (
          <Badge>Not scored</Badge>
        )}
      </InlineStack>
      <Row label="Recency (R)" value={m.scores ? `${m.scores.r} of 5` : "—"} />
      <Row label="Frequency (F)" value={m.scores ? `${m.scores.f} of 5` : "—"} />
      <Row label="Monetary (M)" value={m.scores ? `${m.scores.m} of 5` : "—"} />
      <Row label="Days since last order" value={m.recencyDays === null ? "—" : count(m.recencyDays)} />
      {m.behaviours.length > 0 && (
        <BlockStack gap="100">
          <Text as="h3" variant="headingSm">
            Behaviours
          </Text>
          <InlineStack gap="100">
            {m.behaviours.map((b) => (
              <Link key={b.key} url={`/app/segments/${b.key}`} removeUnderline>
                <Badge>{b.name}</Badge>
              </Link>
            ))}
          </InlineStack>
        </BlockStack>
      )}
      <Text as="p" variant="bodySm" tone="subdued">
        Scored as of {isoDay(m.asOfIso)}; 5 is the best fifth of your customers.
      </Text>
    </HeadingCard>
  );
}

function Value({ customer }: { customer: CustomerDetail }) {
  const m = customer.metrics!;
  const currency = customer.currency;
  const a = customer.prediction.assumptions;
  return (
    <HeadingCard title="Lifetime value" gap="200">
      <Row label="Historic CLV (net spent)" value={money(m.netSpentMinor, currency)} />
      <Row label="Orders" value={count(m.orders)} />
      <Row label="Average order value" value={money(m.aovMinor, currency)} />
      <Row label="Predicted CLV" value={money(m.predictedClvMinor, currency)} />
      <Row label="Expected order value" value={money(m.expectedOrderValueMinor, currency)} />
      {a ? (
        <BlockStack gap="100">
          <Text as="h3" variant="headingSm">
            Assumptions
          </Text>
          <Text as="p" variant="bodySm" tone="subdued">
            {`Net revenue expected over the next ${count(a.horizonDays)} days, at a gross margin of ${percent(a.grossMargin, 0)}, discounted at ${percent(a.annualDiscountRate, 0)} a year. Model: ${modelLabel(customer.prediction.modelName)} with Gamma-Gamma spend, fitted in ${a.unit}s as of ${isoDay(customer.prediction.fitAsOfIso)}.`}
          </Text>
          <details>
            <summary>
              <Text as="span" variant="bodySm">
                How discounting works
              </Text>
            </summary>
            <Text as="p" variant="bodySm" tone="subdued">
              {a.discounting}
            </Text>
          </details>
        </BlockStack>
      ) : (
        <Text as="p" variant="bodySm" tone="subdued">
          No prediction: historic value only.
        </Text>
      )}
    </HeadingCard>
  );
}

function Outlook({ customer }: { customer: CustomerDetail }) {
  const m = customer.metrics!;
  const a = customer.prediction.assumptions;
  return (
    <HeadingCard title="Outlook" gap="200">
      <Row label="P(alive)" value={percent(m.pAlive, 0)} />
      <Row label="Expected next order" value={isoDay(m.expectedNextOrderIso)} />
      <Row label="Expected orders, next 90 days" value={ratio(m.expectedPurchases90d)} />
      <Row label="Expected orders, next 365 days" value={ratio(m.expectedPurchases365d)} />
      <Row label="First order" value={isoDay(m.firstOrderIso)} />
      <Row label="Last order" value={isoDay(m.lastOrderIso)} />
      {a && (
        <details>
          <summary>
            <Text as="span" variant="bodySm">
              How the next order is estimated
            </Text>
          </summary>
          <Text as="p" variant="bodySm" tone="subdued">
            {a.nextOrder}
          </Text>
        </details>
      )}
    </HeadingCard>
  );
}

function SegmentHistory({ customer }: { customer: CustomerDetail }) {
  const timeZone = useShopTimeZone();
  return (
    <HeadingCard title="Segment history" gap="200">
      {customer.transitions.length === 0 ? (
        <Text as="p" tone="subdued">
          {customer.metrics?.segment ? `In ${customer.metrics.segmentName} since first scored.` : "Not in a segment yet."}
        </Text>
      ) : (
        <DataTable
          columnContentTypes={["text", "text", "text"]}
          headings={["When", "From", "To"]}
          rows={customer.transitions.map((t) => [instant(t.atIso, timeZone), t.fromName, t.toName])}
        />
      )}
    </HeadingCard>
  );
}

function Timeline({ customer }: { customer: CustomerDetail }) {
  const timeZone = useShopTimeZone();
  const currency = customer.currency;
  return (
    <HeadingCard title="Orders" gap="200">
      {customer.orders.length === 0 ? (
        <Text as="p" tone="subdued">
          No orders stored for this customer.
        </Text>
      ) : (
        <>
          {customer.storedOrders > customer.orders.length && (
            <Text as="p" tone="subdued">
              The latest {count(customer.orders.length)} of {count(customer.storedOrders)} orders.
            </Text>
          )}
          <DataTable
            columnContentTypes={["text", "text", "text", "numeric", "numeric"]}
            headings={["Date", "Order", "Details", "Total now", "Counts as"]}
            rows={customer.orders.map((o) => [
              instant(o.processedAtIso, timeZone),
              o.name ?? `#${o.id}`,
              [
                o.test ? "test order (not counted)" : null,
                o.cancelled ? "cancelled" : null,
                o.financialStatus?.toLowerCase().replace(/_/g, " "),
                o.sourceName ? `via ${o.sourceName}` : null,
                o.discountCodes.length > 0 ? `code ${o.discountCodes.join(", ")}` : null,
                o.firstProductTitle ? `${o.firstProductTitle}${o.lineItemCount > 1 ? ` and ${o.lineItemCount - 1} more` : ""}` : null,
              ]
                .filter(Boolean)
                .join(" · "),
              money(o.currentTotalMinor, currency),
              money(o.netMinor, currency),
            ])}
          />
        </>
      )}
    </HeadingCard>
  );
}

export function ErrorBoundary() {
  return <PageErrorBoundary backUrl="/app/customers" backLabel="Customers" />;
}
