import { type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { Badge, Banner, BlockStack, DataTable, List, Page, Text } from "@shopify/polaris";
import { COUNT_MODEL_LABELS } from "~/analytics/clv/count-model";
import { chartLinks } from "~/components/charts";
import { count, instant, isoDay, MISSING, percent, ratio } from "~/display/format";
import { useShopTimeZone } from "~/components/ShopTimeZone";
import { BacktestChart } from "~/components/model/BacktestChart";
import { PARAMETER_MEANINGS, UNIT_WORDS } from "~/display/model-params";
import { NotReadyState, PageErrorBoundary, PageSkeleton, useLeavingPage } from "~/components/states";
import { CardColumn } from "~/components/CardColumn";
import { HeadingCard } from "~/components/HeadingCard";
import { pgPool } from "~/db/pg.server";
import { requireShop } from "~/demo-mode.server";
import { type ModelPageData } from "~/pages/model";
import { loadModelPage } from "~/pages/model.server";
import { FigureGrid } from "~/components/Figure";

export const links = chartLinks;
export const meta: MetaFunction = () => [{ title: "Model · Tenure" }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { shop } = await requireShop(request);
  return loadModelPage(pgPool(), shop);
};

const modelLabel = (name: string | null | undefined) =>
  name && name in COUNT_MODEL_LABELS ? COUNT_MODEL_LABELS[name as keyof typeof COUNT_MODEL_LABELS] : (name ?? MISSING);

const number = (value: number) => (Math.abs(value) >= 1000 ? value.toFixed(1) : value.toPrecision(4));

export default function Model() {
  const page = useLoaderData<typeof loader>();
  const leaving = useLeavingPage();
  if (leaving) return <PageSkeleton cards={4} />;
  return (
    <Page title="Model" subtitle="How Tenure predicts each customer's next orders and lifetime value">
      <CardColumn>
        <StatusNotice page={page} />
        {page.model && <ChosenModel page={page} />}
        {page.model && <Parameters page={page} />}
        {page.status !== "none" && <Backtest page={page} />}
        {page.model && <Assumptions page={page} />}
      </CardColumn>
    </Page>
  );
}

export function ErrorBoundary() {
  return <PageErrorBoundary backUrl="/app" backLabel="Dashboard" />;
}

function StatusNotice({ page }: { page: ModelPageData }) {
  if (page.status === "none") {
    return page.notReady ? <NotReadyState fit={page.notReady} what="The prediction model" /> : null;
  }
  if (page.status === "no-predictions") {
    return (
      <Banner tone="warning" title="Too little data to predict yet">
        <BlockStack gap="200">
          <p>{page.reason ? `${capitalise(page.reason)}.` : "The shop's order history is too thin for a reliable model."}</p>
          <p>
            Historic figures (orders, spend, RFM segments, cohorts) are still exact. Predicted CLV, P(alive) and expected next orders appear
            automatically once there is enough history; nothing needs to be done.
          </p>
        </BlockStack>
      </Banner>
    );
  }
  if (page.status === "failed") {
    return (
      <Banner tone="critical" title="The last refit failed">
        <p>
          {page.error ?? "No reason was recorded."} The previous figures stay in place. Tenure retries at the nightly refit; saving settings starts one
          sooner.
        </p>
      </Banner>
    );
  }
  return null;
}

function capitalise(text: string) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function ChosenModel({ page }: { page: ModelPageData }) {
  const timeZone = useShopTimeZone();
  const model = page.model!;
  const candidates = Object.entries(model.candidates);
  return (
    <HeadingCard title={<>Chosen model: {modelLabel(model.chosen)}</>}>
      <Text as="p">{model.choiceReason}</Text>
      <FigureGrid
        size="md"
        columns={{ xs: 2, md: 4 }}
        gap="300"
        figures={[
          { label: "Customers fitted", value: count(model.customers) },
          { label: "Repeat buyers", value: count(model.repeatBuyers) },
          { label: "Data as of", value: isoDay(page.asOfIso) },
          { label: "Fitted", value: instant(page.finishedAtIso, timeZone) },
        ]}
      />
      <DataTable
        columnContentTypes={["text", "numeric", "numeric", "text"]}
        headings={["Candidate", "Log-likelihood (higher fits better)", "Holdout error per customer", "Converged"]}
        rows={candidates.map(([name, fit]) => [
          <span key={name}>
            {modelLabel(name)} {name === model.chosen && <Badge tone="success">Chosen</Badge>}
          </span>,
          fit ? ratio(fit.logLikelihood) : MISSING,
          fit?.holdoutMeanAbsoluteError === undefined ? MISSING : ratio(fit.holdoutMeanAbsoluteError),
          fit?.converged ? "Yes" : "No",
        ])}
      />
      {candidates
        .filter(([, fit]) => fit && !fit.converged)
        .map(([name, fit]) => (
          <Text key={name} as="p" variant="bodySm" tone="subdued">
            {modelLabel(name)} did not converge: {fit!.message}. A model that did not converge is never used.
          </Text>
        ))}
    </HeadingCard>
  );
}

function Parameters({ page }: { page: ModelPageData }) {
  const model = page.model!;
  const unit = UNIT_WORDS[model.assumptions.unit] ?? model.assumptions.unit;
  const rows = Object.entries(model.params).map(([name, value]) => [name, number(value as number), PARAMETER_MEANINGS[name] ?? ""]);
  const spend = model.gammaGamma;
  return (
    <HeadingCard
      title="Parameters"
      help={
        <>
          Purchases ({modelLabel(model.chosen)}), time in {unit}s; log-likelihood {ratio(model.logLikelihood)}.
        </>
      }
    >
      <DataTable columnContentTypes={["text", "numeric", "text"]} headings={["Parameter", "Value", "Meaning"]} rows={rows} />
      <Text as="h3" variant="headingSm">
        Spend (Gamma-Gamma)
      </Text>
      {spend ? (
        <>
          <DataTable
            columnContentTypes={["text", "numeric", "text"]}
            headings={["Parameter", "Value", "Meaning"]}
            rows={Object.entries(spend.params).map(([name, value]) => [name, number(value), PARAMETER_MEANINGS[name] ?? ""])}
          />
          <Text as="p" variant="bodySm" tone="subdued">
            Fitted on {count(spend.customers)} repeat customers. The spend model assumes order values do not depend on how often a customer orders:
            correlation here {spend.spendFrequencyCorrelation === null ? MISSING : ratio(spend.spendFrequencyCorrelation)} (near 0 is good).
          </Text>
        </>
      ) : (
        <Text as="p">No spend model{model.gammaGammaNote ? `: ${model.gammaGammaNote}` : ""}. Predicted CLV is not shown without one.</Text>
      )}
    </HeadingCard>
  );
}

function Backtest({ page }: { page: ModelPageData }) {
  const backtest = page.backtest;
  return (
    <HeadingCard title="Backtest: predicted vs actual repeat purchases">
      {!backtest ? (
        <Text as="p">The backtest appears after the next refit.</Text>
      ) : backtest.weeks.length === 0 ? (
        <Text as="p">No backtest{backtest.note ? `: ${backtest.note}` : ""}.</Text>
      ) : (
        <>
          <FigureGrid
            size="md"
            columns={{ xs: 2, md: 4 }}
            gap="300"
            figures={[
              { label: "Holdout", value: `${count(backtest.holdoutDays)} days` },
              { label: "Repeat purchases in holdout, actual", value: count(backtest.totalActual) },
              { label: "Predicted", value: backtest.totalPredicted === null ? MISSING : count(Math.round(backtest.totalPredicted)) },
              { label: "Error per customer", value: ratio(backtest.meanAbsoluteError) },
            ]}
          />
          <BacktestChart backtest={backtest} />
        </>
      )}
    </HeadingCard>
  );
}

function Assumptions({ page }: { page: ModelPageData }) {
  const a = page.model!.assumptions;
  const changed =
    a.grossMargin !== page.settings.grossMargin || a.annualDiscountRate !== page.settings.annualDiscountRate || a.horizonDays !== page.settings.horizonDays;
  return (
    <HeadingCard title="Assumptions">
      <List>
        <List.Item>Predicted CLV covers the next {count(a.horizonDays)} days.</List.Item>
        <List.Item>Gross margin {percent(a.grossMargin, 0)}: CLV is profit, not revenue, when this is below 100%.</List.Item>
        <List.Item>Discount rate {percent(a.annualDiscountRate, 1)} a year. Discounting: {a.discounting}.</List.Item>
        <List.Item>Expected next order: {a.nextOrder}.</List.Item>
        <List.Item>Amounts in {page.currency}, net of refunds; orders excluded in settings do not count.</List.Item>
      </List>
      {changed && (
        <Banner tone="info">
          <p>Your settings changed since this fit; the next refit uses them.</p>
        </Banner>
      )}
    </HeadingCard>
  );
}
