import { isRouteErrorResponse, useLocation, useNavigation, useRouteError } from "@remix-run/react";
import {
  Banner,
  BlockStack,
  Button,
  Card,
  InlineGrid,
  Layout,
  List,
  Page,
  ProgressBar,
  SkeletonBodyText,
  SkeletonDisplayText,
  SkeletonPage,
  Text,
} from "@shopify/polaris";
import { boundary } from "@shopify/shopify-app-remix/server";
import { type ReactNode } from "react";
import { count, isoDay } from "~/display/format";

// Empty, loading and error states shared by the pages: each says what is going on and
// what to do next, in the merchant's words.

export interface FitStateView {
  status: string | null;
  reason: string | null;
  error: string | null;
  /** "averages": the predicted figures are the estimate from averages (a no-predictions shop). */
  predictionSource?: string | null;
  backfill: { status: string; ordersProcessed: number; expectedCount: number | null; error: string | null } | null;
}

/** A shop without results yet: the import or first refit is running (or failed), with a link to Sync status. */
export function NotReadyState({ fit, what }: { fit: FitStateView; what: string }) {
  const backfill = fit.backfill;
  const importing = backfill && !["COMPLETED", "FAILED"].includes(backfill.status);
  const progress = backfill?.expectedCount ? Math.min(100, Math.round((backfill.ordersProcessed / backfill.expectedCount) * 100)) : null;
  const failed = fit.status === "failed" || backfill?.status === "FAILED";
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          {failed ? `${what} could not be worked out yet` : `${what} will appear here shortly`}
        </Text>
        {failed ? (
          <Text as="p">
            {backfill?.status === "FAILED"
              ? `The order import stopped: ${backfill.error ?? "no reason was recorded"}.`
              : `The last analysis of your shop failed${fit.error ? `: ${fit.error}` : ""}.`}{" "}
            Tenure retries on its own; if this message stays, open Sync status to see what failed.
          </Text>
        ) : importing ? (
          <BlockStack gap="200">
            <Text as="p" id="import-progress-label">
              Tenure is importing your orders ({count(backfill.ordersProcessed)}
              {backfill.expectedCount ? ` of ${count(backfill.expectedCount)}` : ""} so far). Your customers are scored as soon as the
              import finishes.
            </Text>
            {progress !== null && <ProgressBar progress={progress} size="small" ariaLabelledBy="import-progress-label" />}
          </BlockStack>
        ) : (
          <Text as="p">
            Tenure is analysing your orders for the first time: models are fitted and every customer is scored. This takes a few
            minutes for most shops; the page fills in on its own next time you open it.
          </Text>
        )}
        <div>
          <Button url="/app/sync">Open Sync status</Button>
        </div>
      </BlockStack>
    </Card>
  );
}

/**
 * The latest refresh failed but earlier results exist: they are still shown, and this says
 * how old they are and where to look.
 */
export function RefreshFailedBanner({ error, asOfIso }: { error: string | null; asOfIso: string | null }) {
  if (!error) return null;
  return (
    <Banner tone="critical" title="The latest refresh of your figures failed" action={{ content: "Open Sync status", url: "/app/sync" }}>
      <p>
        {error}. The figures below are from the last successful refresh{asOfIso ? ` (as of ${isoDay(asOfIso)})` : ""}. Tenure retries on
        its own; if this stays, check Sync status.
      </p>
    </Banner>
  );
}

/**
 * The shop has metrics but no model (thin data): why, and where to read more; with the
 * estimate from averages in its place, says that the predicted figures are that estimate.
 */
export function NoPredictionsBanner({ reason, predictionSource }: { reason: string | null; predictionSource?: string | null }) {
  const why = reason ? `${reason.charAt(0).toUpperCase()}${reason.slice(1)}.` : "There is too little order history for the model.";
  if (predictionSource === "averages") {
    return (
      <Banner tone="info" title="Expected spend is an estimate from averages" action={{ content: "See the model page", url: "/app/model" }}>
        <p>
          {why} Until there is enough history for the model, expected spend is your shop&apos;s average order value × its repeat orders per
          customer per year over the horizon, the same for every customer. The model&apos;s figures, P(alive) and the chance of ordering appear once
          there is enough data.
        </p>
      </Banner>
    );
  }
  return (
    <Banner tone="warning" title="No predictions for this shop yet" action={{ content: "See the model page", url: "/app/model" }}>
      <p>
        {reason ? `${reason.charAt(0).toUpperCase()}${reason.slice(1)}.` : "There is too little order history to predict."} Historic
        figures and RFM segments are shown; expected spend and the chance of ordering appear once there is enough data.
      </p>
    </Banner>
  );
}

/**
 * A page's layout once it may have results: until it has (`ready` false) only the not-ready
 * state; then the failed-refresh and no-predictions banners above the page's own sections.
 */
export function FitStateLayout({ fit, what, ready, children }: { fit: FitStateView & { asOfIso: string | null }; what: string; ready: boolean; children: ReactNode }) {
  return (
    <Layout>
      {!ready ? (
        <Layout.Section>
          <NotReadyState fit={fit} what={what} />
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
              <NoPredictionsBanner reason={fit.reason} predictionSource={fit.predictionSource} />
            </Layout.Section>
          )}
          {children}
        </>
      )}
    </Layout>
  );
}

/** A banner whose body is a list of messages. */
export function ListBanner({ tone, title, messages }: { tone: "warning" | "critical"; title: string; messages: string[] }) {
  return (
    <Banner tone={tone} title={title}>
      <List>
        {messages.map((message) => (
          <List.Item key={message}>{message}</List.Item>
        ))}
      </List>
    </Banner>
  );
}

/** What was wrong with the page's URL (filters, sort, page link), and what was done instead. */
export function ProblemsBanner({ problems }: { problems: string[] }) {
  if (problems.length === 0) return null;
  return <ListBanner tone="warning" title="Some of the table settings in this link were not used" messages={problems} />;
}

/** True while the app navigates to another page (not a sort or filter of this one). */
export function useLeavingPage(): boolean {
  const navigation = useNavigation();
  const location = useLocation();
  return navigation.state === "loading" && navigation.location.pathname !== location.pathname;
}

/** True while this page reloads for new search parameters (sort, filter, page). */
export function useReloadingPage(): boolean {
  const navigation = useNavigation();
  const location = useLocation();
  return navigation.state === "loading" && navigation.location.pathname === location.pathname;
}

/** The loading skeleton shown while the next page's data arrives. */
export function PageSkeleton({ cards = 4 }: { cards?: number }) {
  return (
    <SkeletonPage primaryAction>
      <Layout>
        <Layout.Section>
          <InlineGrid columns={{ xs: 1, sm: 2, md: cards }} gap="400">
            {Array.from({ length: cards }, (_, index) => (
              <Card key={index}>
                <BlockStack gap="200">
                  <SkeletonDisplayText size="small" />
                  <SkeletonBodyText lines={2} />
                </BlockStack>
              </Card>
            ))}
          </InlineGrid>
        </Layout.Section>
        <Layout.Section>
          <Card>
            <SkeletonBodyText lines={8} />
          </Card>
        </Layout.Section>
      </Layout>
    </SkeletonPage>
  );
}

/**
 * A page's error boundary: not-found and bad-request answers get a page that says what to
 * do; anything else goes to Shopify's boundary (its auth responses must reach App Bridge).
 */
export function PageErrorBoundary({ backUrl, backLabel }: { backUrl: string; backLabel: string }) {
  const error = useRouteError();
  if (isRouteErrorResponse(error) && (error.status === 404 || error.status === 400)) {
    const message = typeof error.data === "string" && error.data ? error.data : "This page does not exist.";
    return (
      <Page title={error.status === 404 ? "Not found" : "Cannot show this page"} backAction={{ content: backLabel, url: backUrl }}>
        <Banner tone="warning" title={message} action={{ content: backLabel, url: backUrl }}>
          <p>The link may be old, or it may belong to another shop. Go back and pick from the list.</p>
        </Banner>
      </Page>
    );
  }
  if (isRouteErrorResponse(error)) return boundary.error(error);
  return (
    <Page title="Something went wrong" backAction={{ content: backLabel, url: backUrl }}>
      <Banner tone="critical" title="This page could not be loaded">
        <p>
          Reload the page in a minute. If it keeps failing, open Sync status to check that Tenure is running, and contact support with
          the time this happened.
        </p>
      </Banner>
    </Page>
  );
}
