import { type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { DataTable, InlineGrid, Layout, Link, Page, Text } from "@shopify/polaris";
import { CustomerTableSections } from "~/components/CustomerTable";
import { change, count, money, percent } from "~/display/format";
import { expectedSpendLabel, segmentNote, withBasis } from "~/display/glossary";
import { NoPredictionsBanner, PageErrorBoundary, PageSkeleton, useLeavingPage } from "~/components/states";
import { pgPool } from "~/db/pg.server";
import { requireShop } from "~/demo-mode.server";
import { activeFilters, parseListParams } from "~/pages/customer-list";
import { listCustomers, queryInStoredMoney } from "~/pages/customer-list.server";
import { inBasis, labelBasis, moneyBasisOf } from "~/pages/money-basis";
import { segmentMoneyToDate } from "~/pages/segment-profit";
import { MoneyBasisToggle } from "~/components/MoneyBasisToggle";
import { loadAbandonedCarts, loadSegment } from "~/pages/segments.server";
import { FigureGrid } from "~/components/Figure";
import { HeadingCard } from "~/components/HeadingCard";
import { termHeading } from "~/components/HelpLabel";
import { ExportMenu } from "~/components/export/ExportMenu";
import { SyncedTo } from "~/components/destinations/SyncedTo";
import { loadSegmentDestinations } from "~/pages/integrations.server";

// One segment: its rule in plain words, what to do about it, its figures, and its
// customers in a server-sorted, filtered and paged table (keyset pages on indexed columns).

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.detail.name ?? "Segment"} · Tenure` }];

export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { shop } = await requireShop(request);
  const key = params.key ?? "";
  const db = pgPool();
  const detail = await loadSegment(db, shop, key);
  if (!detail) throw new Response(`There is no segment called "${key}".`, { status: 404 });
  const url = new URL(request.url);
  const hasPredictions = detail.fit.status === "ready";
  const { query, problems } = parseListParams(url.searchParams, detail.currency, { sort: hasPredictions ? "predictedClv" : "netSpent" });
  // The page's own segment is fixed; the other kind stays available as a filter.
  const scoped = detail.kind === "rfm" ? { ...query, segment: key } : { ...query, behaviour: key };
  const basis = moneyBasisOf(url.searchParams, detail.grossMargin, detail.costs);
  const page = await listCustomers(db, shop, queryInStoredMoney(scoped, basis), detail.labels, {
    scope: detail.kind === "rfm" ? "segment" : "behaviour",
    scopeTotal: detail.row?.customers ?? null,
    scopeTotalAsOfIso: detail.countedAsOfIso,
  });
  const active = activeFilters(url.searchParams);
  const syncedTo = await loadSegmentDestinations(db, shop, key);
  // Cart abandoners (issue 17): what their carts held and each one's recovery link.
  const carts = key === "cart-abandoner" ? await loadAbandonedCarts(db, shop, page.rows.map((r) => r.id)) : null;
  return {
    carts,
    detail,
    syncedTo,
    basis,
    page,
    sort: query.sort,
    direction: query.direction,
    problems,
    hasPredictions,
    active: detail.kind === "rfm" ? { ...active, segment: key } : { ...active, behaviour: key },
  };
};

export default function SegmentPage() {
  const { detail, basis, page, sort, direction, problems, active, hasPredictions, syncedTo, carts } = useLoaderData<typeof loader>();
  const leaving = useLeavingPage();
  if (leaving) return <PageSkeleton cards={3} />;
  const row = detail.row;
  const currency = detail.currency;
  // On the profit basis, the segment's own gross profit from the refit's tally (issue 17).
  const toDate = row ? segmentMoneyToDate(row, basis) : null;
  return (
    <Page
      fullWidth
      title={detail.name}
      subtitle={detail.kind === "rfm" ? "RFM segment" : "Behavioural segment"}
      backAction={{ content: "Segments", url: "/app/segments" }}
      primaryAction={
        row && row.customers > 0 ? (
          <ExportMenu csvPath={`/app/segments/${encodeURIComponent(detail.key)}/export.csv`} countsPath={`/app/segments/${encodeURIComponent(detail.key)}/export-counts`} />
        ) : undefined
      }
    >
      <Layout>
        {basis.toggle && (
          <Layout.Section>
            <MoneyBasisToggle basis={basis} />
          </Layout.Section>
        )}
        {detail.fit.status === "no-predictions" && (
          <Layout.Section>
            <NoPredictionsBanner reason={detail.fit.reason} predictionSource={detail.fit.predictionSource} />
          </Layout.Section>
        )}
        <Layout.Section>
          <InlineGrid columns={{ xs: 1, md: 2 }} gap="400">
            <HeadingCard title="Who is in it" gap="200">
              <Text as="p">{detail.description}</Text>
              {detail.rule.map((line) => (
                <Text as="p" tone="subdued" key={line}>
                  {line}
                </Text>
              ))}
              {segmentNote(detail.key) && <Text as="p">{segmentNote(detail.key)}</Text>}
            </HeadingCard>
            <HeadingCard title="Suggested action" gap="200">
              <Text as="p">{detail.action}</Text>
            </HeadingCard>
          </InlineGrid>
        </Layout.Section>
        <Layout.Section>
          <SyncedTo destinations={syncedTo.destinations} nowIso={syncedTo.nowIso} />
        </Layout.Section>
        <Layout.Section>
          <HeadingCard title="Figures" gap="200">
            {row ? (
              <FigureGrid
                columns={{ xs: 2, md: 7 }}
                gap="400"
                figures={[
                  { labelAs: "h3", term: "customers", label: "Customers", value: count(row.customers) },
                  {
                    term: "trend-30d",
                    label: "30 days ago",
                    value: row.customers30dAgo === null ? "—" : `${count(row.customers30dAgo)} (${change(row.customers, row.customers30dAgo, "relative", count).text})`,
                  },
                  { labelAs: "h3", term: "share", label: "Share of customers", value: percent(row.share) },
                  { labelAs: "h3", term: "revenue-share", label: "Share of revenue", value: percent(row.revenueShare) },
                  { labelAs: "h3", term: "spent-to-date", label: withBasis("Avg spent to date", labelBasis(basis)), value: money(toDate?.averageMinor ?? null, currency) },
                  ...(toDate?.fellBackShare == null
                    ? []
                    : [
                        {
                          labelAs: "h3" as const,
                          term: "gross-profit-to-date",
                          label: "Gross profit to date",
                          value: `${money(toDate.totalMinor, currency)} (${percent(toDate.fellBackShare, 0)} of sales without a product cost)`,
                        },
                      ]),
                  {
                    labelAs: "h3",
                    term: "expected-spend",
                    label: withBasis(`Avg ${expectedSpendLabel(detail.horizonDays).toLowerCase()}`, labelBasis(basis)),
                    value: money(inBasis(row.averagePredictedClvMinor, basis), currency),
                  },
                  {
                    labelAs: "h3",
                    term: "chance-of-ordering-90d",
                    label: "Avg chance of ordering, next 90 days",
                    value: percent(row.averageChanceOfOrder90d ?? null, 0),
                  },
                ]}
              />
            ) : null}
            {row && row.customers30dAgo === null && (
              <Text as="p" variant="bodySm" tone="subdued">
                “30 days ago” shows “—” until Tenure has counted this segment for 30 days: the daily counts start with the first analysis of your shop.
              </Text>
            )}
            {row ? null : (
              <Text as="p" tone="subdued">
                No figures yet: they appear after the first analysis of your shop.
              </Text>
            )}
          </HeadingCard>
        </Layout.Section>
        {carts && (
          <Layout.Section>
            <HeadingCard title="Their carts" gap="200">
              <FigureGrid
                columns={{ xs: 2, md: 4 }}
                gap="400"
                figures={[
                  { labelAs: "h3", term: "left-in-carts", label: "Left in carts", value: money(carts.summary.valueMinor, currency) },
                  { labelAs: "h3", term: "customers", label: "Customers", value: count(carts.summary.customers) },
                ]}
              />
              {carts.summary.unpricedCustomers > 0 && (
                <Text as="p" variant="bodySm" tone="subdued">
                  {count(carts.summary.unpricedCustomers)} of these carts were priced in another currency than your shop&apos;s and are not in the sum.
                </Text>
              )}
              <Text as="p">
                Each customer&apos;s latest abandoned checkout, with the link that brings them back to it. All of them, and Shopify&apos;s
                recovery emails, are in <Link url={carts.adminUrl} target="_blank">Abandoned checkouts in Shopify</Link>.
              </Text>
              {page.rows.length > 0 && (
                <DataTable
                  columnContentTypes={["text", "numeric", "text", "text"]}
                  headings={[termHeading("customers", "Customer"), termHeading("left-in-carts", "Cart value"), termHeading("checkout-started"), termHeading("recovery-link")] as never}
                  rows={page.rows.map((customer) => {
                    const cart = carts.carts[customer.id];
                    return [
                      customer.name,
                      cart?.totalPriceMinor == null ? "—" : money(cart.totalPriceMinor, currency),
                      cart ? cart.startedAt.slice(0, 10) : "—",
                      cart?.abandonedCheckoutUrl ? (
                        <Link url={cart.abandonedCheckoutUrl} target="_blank" key={customer.id}>
                          Recover checkout
                        </Link>
                      ) : (
                        "—"
                      ),
                    ];
                  })}
                />
              )}
            </HeadingCard>
          </Layout.Section>
        )}
        <CustomerTableSections
          caption={`Customers in ${detail.name}`}
          problems={problems}
          page={page}
          currency={currency}
          sort={sort}
          direction={direction}
          filters={{ segment: detail.kind === "behaviour", behaviour: detail.kind === "rfm" }}
          active={active}
          horizonDays={detail.horizonDays}
          basis={basis}
          hasPredictions={hasPredictions}
        />
      </Layout>
    </Page>
  );
}

export function ErrorBoundary() {
  return <PageErrorBoundary backUrl="/app/segments" backLabel="Segments" />;
}
