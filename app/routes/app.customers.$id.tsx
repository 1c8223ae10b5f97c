import { type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { Badge, Banner, BlockStack, DataTable, InlineGrid, InlineStack, Layout, Link, Page, Text } from "@shopify/polaris";
import { COUNT_MODEL_LABELS } from "~/analytics/clv/count-model";
import { Chart, chartLinks } from "~/components/charts";
import { channelName } from "~/display/channel-names";
import { count, instant, isoDay, money, percent, ratio } from "~/display/format";
import { useShopTimeZone } from "~/components/ShopTimeZone";
import { NoPredictionsBanner, PageErrorBoundary, PageSkeleton, useLeavingPage } from "~/components/states";
import { HeadingCard } from "~/components/HeadingCard";
import { HelpLabel } from "~/components/HelpLabel";
import { pgPool } from "~/db/pg.server";
import { requireShop } from "~/demo-mode.server";
import { type CustomerDetail } from "~/pages/customer";
import { inBasis, labelBasis, moneyBasisOf, type PageMoneyBasis } from "~/pages/money-basis";
import { MoneyBasisToggle } from "~/components/MoneyBasisToggle";
import { expectedSpendLabel, horizonText, withBasis } from "~/display/glossary";
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
  return { customer, basis: moneyBasisOf(new URL(request.url).searchParams, customer.grossMargin, customer.costs) };
};

export default function CustomerPage() {
  const { customer, basis } = useLoaderData<typeof loader>();
  const leaving = useLeavingPage();
  if (leaving) return <PageSkeleton cards={3} />;
  const m = customer.metrics;
  return (
    <Page title={customer.name} subtitle={customer.email ?? undefined} backAction={{ content: "Customers", url: "/app/customers" }}>
      <Layout>
        {basis.toggle && (
          <Layout.Section>
            <MoneyBasisToggle basis={basis} />
          </Layout.Section>
        )}
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
              <Value customer={customer} basis={basis} />
              <Outlook customer={customer} />
            </InlineGrid>
          </Layout.Section>
        )}
        {customer.pAliveHistory.length > 0 && (
          <Layout.Section>
            <HeadingCard
              title="P(alive) over time"
              term="p-alive"
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
          <Timeline customer={customer} basis={basis} />
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
  if (prediction.status === "no-predictions" && prediction.source === "averages") {
    return (
      <Layout.Section>
        <NoPredictionsBanner reason={prediction.reason} predictionSource="averages" />
      </Layout.Section>
    );
  }
  return (
    <Layout.Section>
      <Banner tone="warning" title="No predictions" action={{ content: prediction.status === "no-predictions" ? "See the model page" : "Open Sync status", url: prediction.status === "no-predictions" ? "/app/model" : "/app/sync" }}>
        <p>{text}</p>
      </Banner>
    </Layout.Section>
  );
}

const modelLabel = (name: string | null) => (name && name in COUNT_MODEL_LABELS ? COUNT_MODEL_LABELS[name as keyof typeof COUNT_MODEL_LABELS] : "—");

function Row({ label, value, term }: { label: string; value: React.ReactNode; term?: string }) {
  return (
    <InlineStack align="space-between" gap="200" wrap={false}>
      <Text as="span" tone="subdued">
        {/* Unmarked, a label still shows to the browser test that reads every figure's label against the glossary. */}
        {term ? <HelpLabel term={term} label={label} /> : <span data-figure-label="">{label}</span>}
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
    <HeadingCard title="Scores" term="rfm" gap="200">
      <InlineStack gap="200" blockAlign="center">
        {m.segment ? (
          <Link url={`/app/segments/${m.segment}`}>
            <Badge tone="info">{m.segmentName}</Badge>
          </Link>
        ) : (
          <Badge>Not scored</Badge>
        )}
      </InlineStack>
      <Row term="recency" label="Recency (R)" value={m.scores ? `${m.scores.r} of 5` : "—"} />
      <Row term="frequency" label="Frequency (F)" value={m.scores ? `${m.scores.f} of 5` : "—"} />
      <Row term="monetary" label="Monetary (M)" value={m.scores ? `${m.scores.m} of 5` : "—"} />
      <Row term="days-since-last-order" label="Days since last order" value={m.recencyDays === null ? "—" : count(m.recencyDays)} />
      {m.behaviours.length > 0 && (
        <BlockStack gap="100">
          <Text as="h3" variant="headingSm">
            <HelpLabel term="behaviour" label="Behaviours" />
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

function Value({ customer, basis }: { customer: CustomerDetail; basis: PageMoneyBasis }) {
  const m = customer.metrics!;
  const currency = customer.currency;
  const a = customer.prediction.assumptions;
  const named = (label: string) => withBasis(label, labelBasis(basis));
  const amount = (minor: number | null) => money(inBasis(minor, basis), currency);
  const horizon = horizonText(customer.horizonDays);
  // Without a model, the expected figures are the shop's estimate from averages: the same for every customer (issue 13).
  const fromAverages = customer.prediction.source === "averages" && m.predictedClvMinor !== null;
  return (
    <HeadingCard title="Value" gap="200">
      <Row term="spent-to-date" label={named("Spent to date")} value={amount(m.netSpentMinor)} />
      <Row term="expected-spend" label={named(expectedSpendLabel(customer.horizonDays))} value={amount(m.predictedClvMinor)} />
      <Row term="lifetime-value" label={named("Lifetime value")} value={amount(m.predictedClvMinor === null ? null : m.netSpentMinor + m.predictedClvMinor)} />
      {/* Profit already (never scaled by the basis); only where product costs are known, else it would be revenue x a margin. */}
      {basis.marginSource === "costs" && (
        <Row
          term="gross-profit-to-date"
          label="Gross profit to date"
          value={
            m.uncostedSalesMinor > 0 && m.netSpentMinor > 0
              ? `${money(m.grossProfitMinor, currency)} (${percent(Math.min(1, m.uncostedSalesMinor / m.netSpentMinor), 0)} of sales without a product cost)`
              : money(m.grossProfitMinor, currency)
          }
        />
      )}
      <Row term="orders" label="Orders" value={count(m.orders)} />
      <Row term="aov" label={named("Average order value")} value={amount(m.aovMinor)} />
      <Row term="expected-order-value" label={named("Expected order value")} value={amount(m.expectedOrderValueMinor)} />
      {fromAverages && (
        <Text as="p" variant="bodySm" tone="subdued">
          <HelpLabel term="estimate-from-averages" />: expected spend, expected orders and expected order value are your shop&apos;s averages (average
          order value × repeat orders per customer per year), the same for every customer, until there is enough history for the model.
        </Text>
      )}
      {m.expectedOrderValueMinor !== null && !fromAverages && (
        <Text as="p" variant="bodySm" tone="subdued">
          Expected order value is the model&apos;s estimate of what their next orders will be worth (Gamma-Gamma), pulled toward your
          shop&apos;s average the fewer orders they have; average order value is what their past orders averaged.
        </Text>
      )}
      {a ? (
        <BlockStack gap="100">
          <Text as="h3" variant="headingSm">
            <HelpLabel term="assumptions" />
          </Text>
          <Text as="p" variant="bodySm" tone="subdued">
            {`Lifetime value = spent to date + expected spend over the next ${horizon} (${count(a.horizonDays)} days), discounted at ${percent(a.annualDiscountRate, 0)} a year${basis.basis === "profit" ? `, shown as profit at your ${percent(basis.grossMargin, 0)} margin` : ", as revenue"}. Model: ${modelLabel(customer.prediction.modelName)} with Gamma-Gamma spend, fitted in ${a.unit}s as of ${isoDay(customer.prediction.fitAsOfIso)}.`}
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
      ) : fromAverages ? null : (
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
      <Row term="chance-of-ordering-90d" label="Chance of ordering, next 90 days" value={percent(m.chanceOfOrder90d, 0)} />
      <Row term="chance-of-ordering-12m" label="Chance of ordering, next 12 months" value={percent(m.chanceOfOrder365d, 0)} />
      <Row term="expected-next-order" label="Expected next order" value={isoDay(m.expectedNextOrderIso)} />
      <Row term="expected-orders" label="Expected orders, next 90 days" value={ratio(m.expectedPurchases90d)} />
      <Row term="expected-orders" label="Expected orders, next 12 months" value={ratio(m.expectedPurchases365d)} />
      <Row term="p-alive" label="P(alive)" value={percent(m.pAlive, 0)} />
      {m.pAlive !== null && (
        <Text as="p" variant="bodySm" tone="subdued">
          P(alive) is the model&apos;s chance that they are still a customer at all. The model lets a customer stop after any order, so it
          stays below 100% even the day after one; the chance of ordering above is the figure to act on.
        </Text>
      )}
      <Row term="first-order" label="First order" value={isoDay(m.firstOrderIso)} />
      <Row term="last-order" label="Last order" value={isoDay(m.lastOrderIso)} />
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
    <HeadingCard title="Segment history" term="segment-changes" gap="200">
      {customer.transitions.length === 0 ? (
        <Text as="p" tone="subdued">
          {customer.metrics?.segment ? `In ${customer.metrics.segmentName} since first scored.` : "Not in a segment yet."}
        </Text>
      ) : (
        <DataTable
          columnContentTypes={["text", "text", "text"]}
          headings={[
            <HelpLabel key="when" term="segment-changes" label="When" />,
            <HelpLabel key="from" term="segment-changes" label="From" />,
            <HelpLabel key="to" term="segment-changes" label="To" />,
          ]}
          rows={customer.transitions.map((t) => [instant(t.atIso, timeZone), t.fromName, t.toName])}
        />
      )}
    </HeadingCard>
  );
}

function Timeline({ customer, basis }: { customer: CustomerDetail; basis: PageMoneyBasis }) {
  const timeZone = useShopTimeZone();
  const currency = customer.currency;
  return (
    <HeadingCard title="Orders" term="orders" gap="200">
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
            headings={[
              <HelpLabel key="date" term="order-date" label="Date" />,
              <HelpLabel key="order" term="orders" label="Order" />,
              <HelpLabel key="details" term="order-date" label="Details" />,
              <HelpLabel key="total" term="order-total" />,
              <HelpLabel key="counts" term="order-counts-as" label={withBasis("Counts as", labelBasis(basis))} />,
            ]}
            rows={customer.orders.map((o) => [
              instant(o.processedAtIso, timeZone),
              o.name ?? `#${o.id}`,
              [
                o.test ? "test order (not counted)" : o.excludedBySettings ? "not counted (excluded in Settings)" : null,
                o.cancelled ? "cancelled" : null,
                o.financialStatus?.toLowerCase().replace(/_/g, " "),
                o.sourceName ? `via ${channelName(o.sourceName)}` : null,
                o.discountCodes.length > 0 ? `code ${o.discountCodes.join(", ")}` : null,
                o.firstProductTitle ? `${o.firstProductTitle}${o.lineItemCount > 1 ? ` and ${o.lineItemCount - 1} more` : ""}` : null,
              ]
                .filter(Boolean)
                .join(" · "),
              money(o.currentTotalMinor, currency),
              money(inBasis(o.netMinor, basis), currency),
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
