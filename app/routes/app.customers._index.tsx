import { type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { Layout, Page } from "@shopify/polaris";
import { CustomerTableSections } from "~/components/CustomerTable";
import { isoDay } from "~/display/format";
import { NoPredictionsBanner, NotReadyState, PageErrorBoundary, PageSkeleton, useLeavingPage } from "~/components/states";
import { pgPool } from "~/db/pg.server";
import { requireShop } from "~/demo-mode.server";
import { activeFilters, parseListParams } from "~/pages/customer-list";
import { customerTableContext, listCustomers, queryInStoredMoney } from "~/pages/customer-list.server";
import { moneyBasisOf } from "~/pages/money-basis";
import { MoneyBasisToggle } from "~/components/MoneyBasisToggle";
import { loadFitState } from "~/pages/fit-state.server";
import { ExportMenu } from "~/components/export/ExportMenu";

// Every customer of the shop with their metrics, sorted, filtered and paged in PostgreSQL
// (keyset pages on indexed columns), so the table is as fast at a million customers as at ten.

export const meta: MetaFunction = () => [{ title: "Customers · Tenure" }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { shop } = await requireShop(request);
  const db = pgPool();
  const url = new URL(request.url);
  const [context, fit] = await Promise.all([customerTableContext(db, shop), loadFitState(db, shop)]);
  const hasPredictions = fit.status === "ready";
  const { query, problems } = parseListParams(url.searchParams, context.currency, { sort: hasPredictions ? "predictedClv" : "netSpent" });
  const basis = moneyBasisOf(url.searchParams, context.grossMargin, context.costs);
  const page = await listCustomers(db, shop, queryInStoredMoney(query, basis), context.labels);
  return {
    currency: context.currency,
    horizonDays: context.horizonDays,
    basis,
    fit,
    page,
    sort: query.sort,
    direction: query.direction,
    problems,
    hasPredictions,
    active: activeFilters(url.searchParams),
  };
};

export default function Customers() {
  const { currency, fit, page, sort, direction, problems, hasPredictions, active, horizonDays, basis } = useLoaderData<typeof loader>();
  const leaving = useLeavingPage();
  if (leaving) return <PageSkeleton cards={2} />;
  const neverFitted = fit.status === null;
  return (
    <Page
      fullWidth
      title="Customers"
      subtitle={fit.asOfIso ? `Scores as of ${isoDay(fit.asOfIso)}` : undefined}
      primaryAction={page.rows.length > 0 ? <ExportMenu csvPath="/app/customers/export.csv" countsPath="/app/customers/export-counts" query={exportQuery({ ...active, basis: basis.basis === "profit" ? "profit" : null })} /> : undefined}
    >
      <Layout>
        {basis.toggle && (
          <Layout.Section>
            <MoneyBasisToggle basis={basis} />
          </Layout.Section>
        )}
        {neverFitted && page.rows.length === 0 ? (
          <Layout.Section>
            <NotReadyState fit={fit} what="Your customers" />
          </Layout.Section>
        ) : (
          <>
            {fit.status === "no-predictions" && (
              <Layout.Section>
                <NoPredictionsBanner reason={fit.reason} predictionSource={fit.predictionSource} />
              </Layout.Section>
            )}
            <CustomerTableSections
              caption="All customers"
              problems={problems}
              page={page}
              currency={currency}
              horizonDays={horizonDays}
              basis={basis}
              sort={sort}
              direction={direction}
              filters={{ segment: true, behaviour: true }}
              active={active}
              hasPredictions={hasPredictions}
            />
          </>
        )}
      </Layout>
    </Page>
  );
}

/** The table's filters as typed in its URL, for the export of the same view (sort and page do not matter to a file). */
function exportQuery(active: Record<string, string | null>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(active)) if (value) params.set(name, value);
  return params.toString();
}

export function ErrorBoundary() {
  return <PageErrorBoundary backUrl="/app" backLabel="Dashboard" />;
}
