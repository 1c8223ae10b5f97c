import { type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { Badge, Banner, BlockStack, DataTable, List, Page, Text } from "@shopify/polaris";
import { COUNT_MODEL_LABELS } from "~/analytics/clv/count-model";
import { gammaGammaExpectedValue } from "~/analytics/clv/gamma-gamma";
import { chartLinks } from "~/components/charts";
import { count, instant, isoDay, MISSING, money, percent, ratio } from "~/display/format";
import { useShopTimeZone } from "~/components/ShopTimeZone";
import { BacktestChart } from "~/components/model/BacktestChart";
import { ConditionalExpectationsChart } from "~/components/model/ConditionalExpectationsChart";
import { expectedSpendLabel } from "~/display/glossary";
import { PARAMETER_MEANINGS, PARAMETER_UNITS, UNIT_WORDS, spendCustomersNote } from "~/display/model-params";
import { NotReadyState, PageErrorBoundary, PageSkeleton, useLeavingPage } from "~/components/states";
import { CardColumn } from "~/components/CardColumn";
import { HeadingCard } from "~/components/HeadingCard";
import { HelpLabel, TermText } from "~/components/HelpLabel";
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
        {page.averages && !page.model && <AveragesEstimateCard page={page} averages={page.averages} />}
        {page.model && <ChosenModel page={page} />}
        {page.model && <Parameters page={page} />}
        {page.model && <CandidateParameters page={page} />}
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
          {page.averages ? (
            <p>
              Historic figures (orders, spend, RFM segments, cohorts) are exact. Expected spend is shown as an estimate from averages, below; the
              model&apos;s figures, P(alive), the chance of ordering and expected next orders replace it automatically once there is enough history.
            </p>
          ) : (
            <p>
              Historic figures (orders, spend, RFM segments, cohorts) are still exact. Expected spend, P(alive) and expected next orders appear
              automatically once there is enough history; nothing needs to be done.
            </p>
          )}
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

// The parameter tables' columns: the card's title carries their help (the Meaning column explains each row).
const PARAMETER_HEADINGS = ["Parameter", "Value", "Unit", "Meaning"].map((label) => <TermText key={label} term="model-parameters" label={label} />);

/** The estimate from averages a shop without a model shows: the formula with the shop's own figures, and its assumptions. */
function AveragesEstimateCard({ page, averages }: { page: ModelPageData; averages: NonNullable<ModelPageData["averages"]> }) {
  const years = averages.observedLifespanDays / 365.25;
  return (
    <HeadingCard title="Estimate from averages" term="estimate-from-averages">
      <Text as="p">
        Until the model can be fitted, each customer who has ordered is shown the same expected spend: the shop&apos;s average order value × its repeat
        orders per customer per year × the horizon, but never for longer than customers have been observed. It is the simple formula most CLV
        guides teach (average order value × orders per year × years as a customer), made from this shop&apos;s own orders.
      </Text>
      <FigureGrid
        size="md"
        columns={{ xs: 2, md: 4 }}
        gap="300"
        figures={[
          { label: "Average order value", term: "aov", value: money(averages.aov, page.currency) },
          { label: "Repeat orders per customer per year", term: "repeat-orders-per-year", value: ratio(averages.repeatOrdersPerYear) },
          { label: "Observed lifespan", term: "observed-lifespan", value: `${count(averages.observedLifespanDays)} days` },
          {
            label: `${expectedSpendLabel(averages.horizonDays)}, each customer`,
            term: "estimate-from-averages",
            value: money(averages.expectedSpend, page.currency),
          },
        ]}
      />
      <List>
        <List.Item>
          From {count(averages.customers)} customers with {count(averages.orders)} counted orders worth {money(averages.revenue, page.currency)}, as of{" "}
          {isoDay(page.asOfIso)}.
        </List.Item>
        <List.Item>
          Repeat orders per customer per year: the orders after each customer&apos;s first, divided by the years since their first orders, added over
          all customers.
        </List.Item>
        <List.Item>
          Observed lifespan: the longest any customer has been with the shop (since the earliest first order,{" "}
          {years >= 1 ? `${ratio(years)} years` : `${count(averages.observedLifespanDays)} days`}). The repeat rate is not carried further than that.
        </List.Item>
        <List.Item>
          Value of a new customer over the observed lifespan: {money(averages.newCustomerValue, page.currency)} (average order value × (1 + repeat
          orders per year × observed lifespan in years)).
        </List.Item>
        <List.Item>
          Discounted monthly at {percent(averages.annualDiscountRate, 1)} a year, as the model&apos;s figures are; in revenue, shown as profit on
          pages whose money basis is profit.
        </List.Item>
        <List.Item>
          It assumes every customer keeps ordering at the shop&apos;s average rate and value: it cannot tell a loyal customer from one who has left, so
          there is no P(alive) or chance of ordering until the model fits.
        </List.Item>
      </List>
    </HeadingCard>
  );
}

function capitalise(text: string) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A holdout error with its standard error, at the 4 decimals the choice compares them. */
const holdoutError = (error: number | null, standardError: number | null) =>
  error === null ? MISSING : standardError === null ? error.toFixed(4) : `${error.toFixed(4)} ± ${standardError.toFixed(4)}`;

/** The edge verdict in words: at the edge, with the nested plain NBD's log-likelihood. */
const dropOutWords = (edge: string | null, nestedLogLikelihood: number | null, identified: string) =>
  edge ? `${capitalise(edge)}${nestedLogLikelihood === null ? "" : ` (plain NBD log-likelihood ${ratio(nestedLogLikelihood)})`}` : identified;

function ChosenModel({ page }: { page: ModelPageData }) {
  const timeZone = useShopTimeZone();
  const model = page.model!;
  const candidates = page.choice?.candidates ?? [];
  // The choice uses a holdout only when one was given to the fit (the CLI can); the refit compares on the whole history.
  const holdoutCompared = candidates.some((candidate) => candidate.holdoutError !== null);
  // Fits stored before issue 16 carry no verdict: the column would say nothing.
  const edgeKnown = candidates.some((candidate) => candidate.effectiveParameters !== null);
  return (
    <HeadingCard title={`Chosen model: ${modelLabel(model.chosen)}`} term="count-model">
      <Text as="p">{model.choiceReason}</Text>
      <FigureGrid
        size="md"
        columns={{ xs: 2, md: 4 }}
        gap="300"
        figures={[
          { label: "Customers fitted", term: "customers", value: count(model.customers) },
          { label: "Repeat buyers", term: "segment-repeat-buyer", value: count(model.repeatBuyers) },
          { label: "Data as of", term: "fit-dates", value: isoDay(page.asOfIso) },
          { label: "Fitted", term: "fit-dates", value: instant(page.finishedAtIso, timeZone) },
        ]}
      />
      <Text as="p" variant="bodySm" tone="subdued">
        {count(model.customers)} customers have a counted order; {count(model.repeatBuyers)} of them ordered on more than one day (a repeat buyer; orders on
        the same day count as one purchase).
      </Text>
      <div data-model-candidates>
        <DataTable
          columnContentTypes={["text", "numeric", ...(holdoutCompared ? (["numeric"] as const) : []), ...(edgeKnown ? (["text"] as const) : []), "text"]}
          headings={[
            <HelpLabel key="candidate" term="count-model" label="Candidate" />,
            <HelpLabel key="ll" term="log-likelihood" label="Log-likelihood (higher fits better)" />,
            ...(holdoutCompared ? [<HelpLabel key="holdout" term="holdout-error" label="Holdout error per customer" />] : []),
            ...(edgeKnown ? [<HelpLabel key="edge" term="drop-out-edge" label="Drop-out" />] : []),
            <HelpLabel key="converged" term="model-parameters" label="Converged" />,
          ]}
          rows={candidates.map((candidate) => [
            <span key={candidate.name}>
              {modelLabel(candidate.name)} {candidate.chosen && <Badge tone="success">Chosen</Badge>}
            </span>,
            ratio(candidate.logLikelihood),
            ...(holdoutCompared ? [holdoutError(candidate.holdoutError, candidate.holdoutStandardError)] : []),
            ...(edgeKnown ? [dropOutWords(candidate.edge, candidate.nestedLogLikelihood, "Identified")] : []),
            candidate.converged ? "Yes" : "No",
          ])}
        />
      </div>
      {page.choice?.tie !== null && page.choice?.tie !== undefined && (
        <Text as="p" variant="bodySm" tone="subdued">
          <TermText term="choice-tie" label="Tie" />:{" "}
          {page.choice.tie
            ? `yes: the best candidates differed by less than the noise, so the tie rule chose. Rule: ${page.choice.tieRule}.`
            : "no: the chosen model was better by more than the noise."}
        </Text>
      )}
      {holdoutCompared && (
        <Text as="p" variant="bodySm" tone="subdued">
          Holdout errors are shown ± their standard error; a difference smaller than its paired standard error (both are scored on the same customers) counts as a tie.
        </Text>
      )}
      {!holdoutCompared && (
        <Text as="p" variant="bodySm" tone="subdued">
          The candidates are compared on how well they fit the whole history, with no period held back.{" "}
          {page.backtest && page.backtest.weeks.length > 0
            ? `The backtest below then tests the chosen model on a holdout: refitted without the last ${count(page.backtest.holdoutDays)} days, it forecasts them, and the forecast is compared with what happened.`
            : "A backtest on a holdout period appears below once the history is long enough."}
        </Text>
      )}
      {candidates
        .filter((candidate) => !candidate.converged)
        .map((candidate) => (
          <Text key={candidate.name} as="p" variant="bodySm" tone="subdued">
            {modelLabel(candidate.name)} did not converge: {candidate.message}. A model that did not converge is never used.
          </Text>
        ))}
    </HeadingCard>
  );
}

/** Every candidate's fitted parameters, and those of its calibration-period fit when the choice had a holdout. */
function CandidateParameters({ page }: { page: ModelPageData }) {
  const candidates = page.choice?.candidates ?? [];
  const calibrated = candidates.some((candidate) => candidate.calibration !== null);
  const rows = candidates.flatMap((candidate) =>
    Object.entries(candidate.params).map(([name, value], i) => [
      i === 0 ? modelLabel(candidate.name) : "",
      name,
      number(value),
      ...(calibrated ? [candidate.calibration?.params[name] === undefined ? MISSING : number(candidate.calibration.params[name])] : []),
      PARAMETER_MEANINGS[name] ?? "",
    ]),
  );
  const calibrationEdges = candidates.filter((candidate) => candidate.calibration?.edge);
  return (
    <HeadingCard
      title="Candidate parameters"
      term="candidate-parameters"
      help={<>Each candidate as fitted, in {UNIT_WORDS[page.model!.assumptions.unit] ?? page.model!.assumptions.unit}s; the chosen model&apos;s are also under Parameters.</>}
    >
      <div data-candidate-parameters>
        <DataTable
          columnContentTypes={["text", "text", "numeric", ...(calibrated ? (["numeric"] as const) : []), "text"]}
          headings={[
            <TermText key="candidate" term="count-model" label="Candidate" />,
            <TermText key="parameter" term="model-parameters" label="Parameter" />,
            <TermText key="whole" term="candidate-parameters" label="Fitted on the whole history" />,
            ...(calibrated ? [<TermText key="calibration" term="candidate-parameters" label="Fitted on the calibration period" />] : []),
            <TermText key="meaning" term="model-parameters" label="Meaning" />,
          ]}
          rows={rows}
        />
      </div>
      {calibrationEdges.map((candidate) => (
        <Text key={candidate.name} as="p" variant="bodySm" tone="subdued">
          {modelLabel(candidate.name)} on the calibration period: {candidate.calibration!.edge}.
        </Text>
      ))}
    </HeadingCard>
  );
}

function Parameters({ page }: { page: ModelPageData }) {
  const model = page.model!;
  const unit = UNIT_WORDS[model.assumptions.unit] ?? model.assumptions.unit;
  // The models run on minor units of the shop's currency: a money parameter is shown converted, with its currency.
  const value = (name: string, raw: number) => (PARAMETER_UNITS[name] === "money" ? money(raw, page.currency) : number(raw));
  const unitOf = (name: string) =>
    PARAMETER_UNITS[name] === "money" ? page.currency : PARAMETER_UNITS[name] === "time" ? `${unit}s` : "none (a shape or ratio)";
  const rowsOf = (params: Record<string, number>) =>
    Object.entries(params).map(([name, raw]) => [name, value(name, raw), unitOf(name), PARAMETER_MEANINGS[name] ?? ""]);
  const spend = model.gammaGamma;
  // The population mean pγ/(q − 1), or p/ν at the homogeneous limit (params.nu set: every customer's).
  const averageRepeatOrder = spend ? gammaGammaExpectedValue(spend.params, 0, 0) : null;
  const atLimit = spend?.params.nu !== undefined;
  return (
    <HeadingCard
      title="Parameters"
      term="model-parameters"
      help={
        <>
          Purchases ({modelLabel(model.chosen)}), time in {unit}s; log-likelihood {ratio(model.logLikelihood)}.
        </>
      }
    >
      <DataTable
        columnContentTypes={["text", "numeric", "text", "text"]}
        headings={PARAMETER_HEADINGS}
        rows={rowsOf(model.params as unknown as Record<string, number>)}
      />
      <Text as="h3" variant="headingSm">
        <HelpLabel term="model-parameters" label="Spend (Gamma-Gamma)" />
      </Text>
      {spend ? (
        <>
          <DataTable
            columnContentTypes={["text", "numeric", "text", "text"]}
            headings={PARAMETER_HEADINGS}
            rows={rowsOf({ p: spend.params.p, q: spend.params.q, gamma: spend.params.gamma })}
          />
          <Text as="p" variant="bodySm" tone="subdued">
            {spendCustomersNote(spend.customers, model.repeatBuyers)} The spend model assumes order values do not depend on how often a customer
            orders: correlation here {spend.spendFrequencyCorrelation === null ? MISSING : ratio(spend.spendFrequencyCorrelation)} (near 0 is good).
          </Text>
          {atLimit ? (
            <Text as="p" variant="bodySm" tone="subdued">
              Expected order value is the same for every customer here, the shop-wide average repeat order ({money(averageRepeatOrder, page.currency)}):
              customers&apos; average repeat orders vary no more than one customer&apos;s orders do, so the spend model is at its limit of one average
              for everyone (q and gamma are where the fit stopped on the way there, shown for the record). It is not the average order value (AOV),
              which averages every order, first orders included.
            </Text>
          ) : (
            <Text as="p" variant="bodySm" tone="subdued">
              Expected order value is not the average order value (AOV): it forecasts a customer&apos;s next order from their repeat orders only (first
              orders left out), drawn towards the shop-wide average repeat order ({money(averageRepeatOrder, page.currency)}) the fewer repeat orders the
              customer has; AOV averages every order, first orders included.
            </Text>
          )}
        </>
      ) : (
        <Text as="p">No spend model{model.gammaGammaNote ? `: ${model.gammaGammaNote}` : ""}. Expected spend is not shown without one.</Text>
      )}
    </HeadingCard>
  );
}

function Backtest({ page }: { page: ModelPageData }) {
  const backtest = page.backtest;
  return (
    <HeadingCard title="Backtest: predicted vs actual repeat purchases" term="holdout">
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
              { label: "Holdout", term: "holdout", value: `${count(backtest.holdoutDays)} days` },
              { label: "Repeat purchases in holdout, actual", term: "backtest-purchases", value: count(backtest.totalActual) },
              { label: "Predicted", term: "backtest-purchases", value: backtest.totalPredicted === null ? MISSING : count(Math.round(backtest.totalPredicted)) },
              { label: "Error per customer", term: "holdout-error", value: ratio(backtest.meanAbsoluteError) },
            ]}
          />
          <BacktestChart backtest={backtest} />
          <ConditionalExpectationsChart backtest={backtest} currency={page.currency} />
        </>
      )}
    </HeadingCard>
  );
}

function Assumptions({ page }: { page: ModelPageData }) {
  const a = page.model!.assumptions;
  const changed =
    a.annualDiscountRate !== page.settings.annualDiscountRate || a.horizonDays !== page.settings.horizonDays;
  return (
    <HeadingCard title="Assumptions" term="assumptions">
      <List>
        <List.Item>Expected spend covers the next {count(a.horizonDays)} days (the horizon in Settings).</List.Item>
        <List.Item>
          {/* A fit stored before issue 13 names a margin; it is scored in revenue all the same (restoreShopModel). */}
          {page.settings.grossMargin < 1
            ? `Predictions are in revenue; pages whose money basis is profit show them × your gross margin (${percent(page.settings.grossMargin, 0)}).`
            : "Predictions are in revenue (no gross margin is set in Settings, so there is no profit view)."}
        </List.Item>
        <List.Item>Discount rate {percent(a.annualDiscountRate, 1)} a year. Discounting: {a.discounting}.</List.Item>
        <List.Item>Expected next order: {a.nextOrder}.</List.Item>
        <List.Item>
          P(alive): the model&apos;s chance that a customer has not stopped buying for good. A customer may stop after any order, so it stays below
          100% even the day after an order; the chance of ordering in the next 90 days is the figure to plan with.
        </List.Item>
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
