import { type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useLoaderData, useNavigate, useSearchParams } from "@remix-run/react";
import {
  Banner,
  BlockStack,
  Button,
  ButtonGroup,
  Card,
  InlineGrid,
  InlineStack,
  Page,
  Select,
  Text,
} from "@shopify/polaris";
import { useState } from "react";
import { chartLinks } from "~/components/charts";
import { LtvChart } from "~/components/cohorts/LtvChart";
import { LtvTable } from "~/components/cohorts/LtvTable";
import { RETENTION_MODE_LABELS, RetentionHeatmap, type RetentionMode } from "~/components/cohorts/RetentionHeatmap";
import { channelName } from "~/display/channel-names";
import { count, instant, isoDay, money, percent, ratio } from "~/display/format";
import { useShopTimeZone } from "~/components/ShopTimeZone";
import { NotReadyState, PageErrorBoundary, PageSkeleton, useLeavingPage, useReloadingPage } from "~/components/states";
import { CardColumn } from "~/components/CardColumn";
import { HeadingCard } from "~/components/HeadingCard";
import { HelpLabel } from "~/components/HelpLabel";
import { pgPool } from "~/db/pg.server";
import { requireShop } from "~/demo-mode.server";
import { RETENTION_DIMENSIONS, type RetentionDimension } from "~/data/aggregates";
import { type CohortsPageData, cohortsInBasis } from "~/pages/cohorts";
import { labelBasis, moneyBasisOf, type PageMoneyBasis, profitMarginOf } from "~/pages/money-basis";
import { MoneyBasisToggle } from "~/components/MoneyBasisToggle";
import { withBasis } from "~/display/glossary";
import { cohortFilterFromUrl, loadCohortsPage } from "~/pages/cohorts.server";
import { FigureGrid } from "~/components/Figure";

export const links = chartLinks;
export const meta: MetaFunction = () => [{ title: "Cohorts · Tenure" }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { shop } = await requireShop(request);
  const url = new URL(request.url);
  const page = await loadCohortsPage(pgPool(), shop, cohortFilterFromUrl(url));
  // One money basis per page (issue 13): LTV and spent to date as revenue, or all as profit.
  const basis = moneyBasisOf(url.searchParams, page.grossMargin, page.costs);
  return { ...cohortsInBasis(page, basis.factor), basis };
};

const DIMENSION_LABELS: Record<RetentionDimension, string> = {
  channel: "Sales channel of the first order",
  firstProduct: "Product of the first order",
  discountCode: "Discount code of the first order",
};

const filterText = (page: CohortsPageData) =>
  page.filter ? `Customers whose ${DIMENSION_LABELS[page.filter.dimension].toLowerCase()} was ${filterValueLabel(page.filter.dimension, page.filter.value)}` : "All customers";

/** A filter value as the merchant knows it: sales channels by name (app/display/channel-names.ts). */
const filterValueLabel = (dimension: RetentionDimension, value: string) => (dimension === "channel" ? channelName(value) : value);

export default function Cohorts() {
  const page = useLoaderData<typeof loader>();
  const leaving = useLeavingPage();
  // A new filter reloads this page: the figures dim in place (no skeleton, nothing moves).
  const loading = useReloadingPage();
  if (leaving) return <PageSkeleton cards={3} />;
  return (
    <Page title="Cohorts" subtitle="Retention and lifetime value by month of first order">
      {page.state === "none" || !page.ltv ? (
        page.fit ? <NotReadyState fit={page.fit} what="Your cohorts" /> : null
      ) : (
        <CohortsBody page={page} basis={page.basis} loading={loading} />
      )}
    </Page>
  );
}

export function ErrorBoundary() {
  return <PageErrorBoundary backUrl="/app" backLabel="Dashboard" />;
}

function FilterSelect({ page, disabled }: { page: CohortsPageData; disabled: boolean }) {
  const navigate = useNavigate();
  const [searchParams] = useSearchParams();
  const options = [
    { label: "All customers", value: "" },
    ...RETENTION_DIMENSIONS.filter((dimension) => page.filters[dimension].length > 0).map((dimension) => ({
      title: DIMENSION_LABELS[dimension],
      options: page.filters[dimension].map((item) => ({
        label: `${filterValueLabel(dimension, item.value)} (${count(item.customers)} customers)`,
        value: JSON.stringify([dimension, item.value]),
      })),
    })),
  ];
  // Option values carry both parts as JSON: any character can appear in a product or code name.
  const selected = page.filter ? JSON.stringify([page.filter.dimension, page.filter.value]) : "";
  return (
    <Select
      label="Show cohorts for"
      options={options}
      value={selected}
      disabled={disabled}
      onChange={(value) => {
        // The page's money basis stays with a new filter.
        const basisParam = searchParams.get("basis");
        const basis: Record<string, string> = basisParam ? { basis: basisParam } : {};
        if (value === "") return navigate(`/app/cohorts?${new URLSearchParams(basis)}`, { preventScrollReset: true });
        const [dimension, filterValue] = JSON.parse(value) as [string, string];
        navigate(`/app/cohorts?${new URLSearchParams({ dimension, value: filterValue, ...basis })}`, { preventScrollReset: true });
      }}
      helpText="Each filter counts only customers whose first order matched it."
    />
  );
}

function CohortsBody({ page, basis, loading }: { page: CohortsPageData; basis: PageMoneyBasis; loading: boolean }) {
  const timeZone = useShopTimeZone();
  const [mode, setMode] = useState<RetentionMode>("inMonth");
  const small = page.cohorts.filter((row) => row.small);
  const ltv = page.ltv;
  return (
    <CardColumn>
      {page.filterUnavailable && (
        <Banner tone="warning" title="That filter has no figures">
          <p>
            The last refit has no cohorts for {DIMENSION_LABELS[page.filterUnavailable.dimension].toLowerCase()} “{filterValueLabel(page.filterUnavailable.dimension, page.filterUnavailable.value)}”,
            so all customers are shown. Choose a value from the list.
          </p>
        </Banner>
      )}
      {basis.toggle && <MoneyBasisToggle basis={basis} />}
      <Card>
        <BlockStack gap="300">
          <InlineGrid columns={{ xs: 1, md: "2fr 3fr" }} gap="400">
            <FilterSelect page={page} disabled={loading} />
            <FigureGrid
              columns={3}
              gap="300"
              figures={[
                { label: "Customers", term: "customers", value: count(page.totals?.customers ?? null) },
                { label: "Repeat purchase rate", term: "repeat-purchase-rate", value: percent(page.totals?.repeatPurchaseRate ?? null) },
                { label: withBasis("LTV at 365 days", labelBasis(basis)), term: "cohort-ltv", value: money(ltv?.atDays.find((p) => p.days === 365)?.value ?? null, page.currency) },
              ]}
            />
          </InlineGrid>
          <Ltv365Note page={page} />
          <Text as="p" variant="bodySm" tone="subdued">
            As of {isoDay(page.asOfIso)}; computed {instant(page.computedAtIso, timeZone)}. Amounts in {page.currency}, net of refunds
            {basis.basis !== "profit"
              ? ", as revenue"
              : page.ltv?.profitByMonth
                ? ", as each order's own gross profit (product costs, the rest at your fallback margin)"
                : `, as profit (revenue × your ${percent(basis.grossMargin, 0)} margin)`}
            .
          </Text>
        </BlockStack>
      </Card>
      <PaybackCard page={page} />
      {small.length > 0 && (
        <Banner tone="info" title={`${small.length} small ${small.length === 1 ? "cohort" : "cohorts"}`}>
          <p>
            {small.length <= 6
              ? `${small.map((row) => row.month).join(", ")} ${small.length === 1 ? "has" : "have"} fewer than ${page.smallCohortSize} customers.`
              : `${small.length} of the ${page.cohorts.length} cohorts shown have fewer than ${page.smallCohortSize} customers (marked Small in the tables).`}{" "}
            In a small cohort a few customers move the percentages a lot: compare them with care, or look at all cohorts pooled.
          </p>
        </Banner>
      )}
      <Card>
        <BlockStack gap="300" >
          <InlineStack align="space-between" blockAlign="center" gap="300">
            <Text as="h2" variant="headingMd">
              <HelpLabel term="retention" label="Retention by month of first order" />
            </Text>
            <ButtonGroup variant="segmented">
              {(Object.keys(RETENTION_MODE_LABELS) as RetentionMode[]).map((key) => (
                <Button key={key} pressed={mode === key} onClick={() => setMode(key)}>
                  {RETENTION_MODE_LABELS[key].short}
                </Button>
              ))}
            </ButtonGroup>
          </InlineStack>
          <div aria-busy={loading} style={{ opacity: loading ? 0.5 : 1, transition: "opacity 120ms" }}>
            {page.cohorts.length > 0 ? (
              <RetentionHeatmap cohorts={page.cohorts} mode={mode} smallCohortSize={page.smallCohortSize} filterLabel={filterText(page)} />
            ) : (
              <Text as="p">No customer matches this filter.</Text>
            )}
          </div>
          {page.olderCohortsNotListed > 0 && (
            <Text as="p" variant="bodySm" tone="subdued">
              {page.olderCohortsNotListed} older cohorts are not listed; they still count in the pooled figures.
            </Text>
          )}
        </BlockStack>
      </Card>
      <HeadingCard
        title="Lifetime value per customer"
        term="cohort-ltv"
        help={
          <>
            Cumulative {basis.basis === "profit" ? "profit" : "revenue"} per customer since their first order. A cohort gets a figure once every one of its customers has had that
            many days.{page.cacMinor !== null ? " In brackets: gross profit over CAC (LTV:CAC)." : ""}
          </>
        }
      >
        <LtvChart
          page={page}
          title={`Cumulative ${basis.basis === "profit" ? "profit" : "revenue"} per customer by month since the first order (month 0 = the month of the first order), ${filterText(page).toLowerCase()}`}
        />
        <div aria-busy={loading} style={{ opacity: loading ? 0.5 : 1 }}>
          <LtvTable page={page} />
        </div>
      </HeadingCard>
    </CardColumn>
  );
}

/**
 * Why LTV at 365 days differs from the average spent to date (issue 13): it counts only the
 * customers with a full year since their first order, and only that year's revenue.
 */
function Ltv365Note({ page }: { page: CohortsPageData }) {
  const at365 = page.ltv?.atDays.find((point) => point.days === 365);
  if (!at365 || at365.value === null || !page.totals) return null;
  return (
    <Text as="p" variant="bodySm" tone="subdued">
      LTV at 365 days is what the {count(at365.customers)} customers whose first order is at least 365 days old spent in their first 365 days. The average
      spent to date ({money(page.totals.averageSpentToDate, page.currency)}) covers all {count(page.totals.customers)} customers, new ones included, and
      everything they spent so far, so the two differ.
    </Text>
  );
}

function PaybackCard({ page }: { page: CohortsPageData }) {
  const ltv = page.ltv;
  if (page.cacMinor === null) {
    return (
      <Banner tone="info" title="Set your customer acquisition cost to see payback" action={{ content: "Open settings", url: "/app/settings" }}>
        <p>With a CAC, Tenure shows the month in which a new customer's gross profit pays back what you spent to win them, and LTV:CAC.</p>
      </Banner>
    );
  }
  const at365 = ltv?.atDays.find((point) => point.days === 365) ?? ltv?.atDays[ltv.atDays.length - 1];
  return (
    <HeadingCard title="Payback" term="payback" gap="200">
      <FigureGrid
        columns={{ xs: 1, sm: 3 }}
        gap="300"
        figures={[
          { label: "CAC (settings)", term: "cac", value: money(page.cacMinor, page.currency) },
          { label: "Payback month", term: "payback", value: ltv?.paybackMonth == null ? "Not reached yet" : `Month ${ltv.paybackMonth}` },
          { label: `LTV:CAC at ${at365?.days ?? 365} days`, term: "ltv-to-cac", value: at365?.ltvToCac == null ? "—" : `${ratio(at365.ltvToCac)}×` },
        ]}
      />
      <Text as="p" variant="bodySm" tone="subdued">
        {ltv?.profitByMonth ? (
          <>Gross profit = each order&apos;s net sales − its product costs (sales without a cost at your fallback margin).</>
        ) : (
          <>
            Gross profit = revenue × {page.costs?.profitMargin != null && (page.costs.coverage ?? 0) > 0 ? "your profit margin to date from product costs" : "your gross margin"} of{" "}
            {percent(profitMarginOf(page.grossMargin, page.costs), 0)}.
          </>
        )}{" "}
        Month 0 is the month of the first order.
      </Text>
    </HeadingCard>
  );
}
