import { type ActionFunctionArgs, json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useLoaderData, useRevalidator } from "@remix-run/react";
import { Page, Text } from "@shopify/polaris";
import { useCallback, useEffect, useState } from "react";
import { CardColumn } from "~/components/CardColumn";
import { DestinationCard, type RunRequest } from "~/components/destinations/DestinationCard";
import { PageErrorBoundary, PageSkeleton, useLeavingPage } from "~/components/states";
import { pgPool } from "~/db/pg.server";
import { requireShop } from "~/demo-mode.server";
import { env } from "~/env.server";
import { loadIntegrationsPage, submitIntegrations } from "~/pages/integrations.server";
import { type IntegrationsActionResult, requestedRunSeen } from "~/pages/integrations";

export function ErrorBoundary() {
  return <PageErrorBoundary backUrl="/app" backLabel="Dashboard" />;
}

export const meta: MetaFunction = () => [{ title: "Integrations · Tenure" }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { shop } = await requireShop(request);
  const chooseAudience = new URL(request.url).searchParams.get("audiences") === "change";
  return loadIntegrationsPage(pgPool(), shop, { chooseAudience });
};

/** Connect, choose, sync or disconnect an email tool (form posts; each card's own fetcher). */
export const action = async ({ request }: ActionFunctionArgs) => {
  const { shop } = await requireShop(request);
  const { status, result } = await submitIntegrations(pgPool(), shop, request, env().SHOPIFY_APP_URL);
  return json<IntegrationsActionResult>(result, { status });
};

/** How often the page reads the figures again while a sync runs or is about to start. */
const REFRESH_MS = 2_000;
/** How long after a request the page waits for its sync pass to appear. */
const WAIT_FOR_RUN_MS = 120_000;

export default function Integrations() {
  const page = useLoaderData<typeof loader>();
  const revalidator = useRevalidator();
  // The last action that asked for a pass, and when (this browser's clock) it was answered.
  const [requested, setRequested] = useState<{ request: RunRequest; answeredAt: number } | null>(null);
  const onRunRequested = useCallback((request: RunRequest) => setRequested({ request, answeredAt: Date.now() }), []);
  const running = page.destinations.some((d) => d.runningRun !== null);
  const seen = requested !== null && page.destinations.some((d) => requestedRunSeen(d, requested.request));
  const waiting = requested !== null && !seen && Date.now() - requested.answeredAt < WAIT_FOR_RUN_MS;
  // Re-read only while something is moving: a pass runs, or one was just asked for.
  useEffect(() => {
    if (!running && !waiting) return;
    const timer = setInterval(() => revalidator.state === "idle" && revalidator.revalidate(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [running, waiting, revalidator]);
  const leaving = useLeavingPage();
  if (leaving) return <PageSkeleton cards={2} />;
  return (
    <Page title="Integrations" subtitle="Send your segments to your email tool and keep them current">
      <CardColumn>
        <Text as="p" tone="subdued">
          Each segment you choose becomes a list in Klaviyo or a tag in Mailchimp, with every customer's Tenure figures on their profile, updated within minutes as customers
          move. By default only customers subscribed to email marketing are sent, and Tenure never subscribes anyone.
        </Text>
        {page.destinations.map((destination) => (
          <DestinationCard key={destination.kind} destination={destination} segmentChoices={page.segmentChoices} countCap={page.countCap} onRunRequested={onRunRequested} />
        ))}
      </CardColumn>
    </Page>
  );
}
