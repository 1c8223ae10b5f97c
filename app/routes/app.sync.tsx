import { type ActionFunctionArgs, json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useActionData, useLoaderData, useNavigation, useRevalidator, Form } from "@remix-run/react";
import { Banner, BlockStack, Button, DataTable, EmptyState, Page, Text } from "@shopify/polaris";
import { useEffect } from "react";
import { EMPTY_STATE_IMAGE } from "~/components/cohorts/empty-illustration";
import { count, instant } from "~/display/format";
import { useShopTimeZone } from "~/components/ShopTimeZone";
import { BackfillProgress } from "~/components/sync/BackfillProgress";
import { PageErrorBoundary, PageSkeleton, useLeavingPage } from "~/components/states";
import { CardColumn } from "~/components/CardColumn";
import { HeadingCard } from "~/components/HeadingCard";
import { pgPool } from "~/db/pg.server";
import { requireShop } from "~/demo-mode.server";
import { requestBackfill } from "~/queues/enqueue.server";
import { COUNT_CAP, FAILED_SHOWN, type SyncPageData } from "~/pages/sync";
import { loadSyncPage } from "~/pages/sync.server";
import { FigureGrid } from "~/components/Figure";
import { HelpLabel } from "~/components/HelpLabel";

export function ErrorBoundary() {
  return <PageErrorBoundary backUrl="/app" backLabel="Dashboard" />;
}

export const meta: MetaFunction = () => [{ title: "Sync status · Tenure" }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { shop, demo } = await requireShop(request);
  return { ...(await loadSyncPage(pgPool(), shop)), demo };
};

export type SyncActionResult = { ok: true; message: string } | { ok: false; message: string };

/** Re-import orders: a fresh Shopify bulk export (not in demo mode: there is no Shopify store behind it). */
export const action = async ({ request }: ActionFunctionArgs) => {
  const { shop, demo } = await requireShop(request);
  const form = await request.formData();
  if (form.get("intent") !== "reimport") return json<SyncActionResult>({ ok: false, message: "Unknown action." }, { status: 400 });
  if (demo) {
    return json<SyncActionResult>(
      { ok: false, message: "Re-import is not available in demo mode: the demo store's orders come from the generator, not from Shopify." },
      { status: 400 },
    );
  }
  try {
    await requestBackfill(shop, { force: true });
  } catch {
    return json<SyncActionResult>({ ok: false, message: "The job queue did not answer, so the import was not started. Try again in a minute." }, { status: 503 });
  }
  return json<SyncActionResult>({ ok: true, message: "Re-import requested. Progress shows here within a minute; existing figures stay until it finishes." });
};

const ACTIVE = new Set(["CREATED", "RUNNING", "DOWNLOADING"]);
const capped = (value: number) => (value > COUNT_CAP ? `${count(COUNT_CAP)}+` : count(value));

export default function Sync() {
  const timeZone = useShopTimeZone();
  const page = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const revalidator = useRevalidator();
  const importing = page.backfill !== null && ACTIVE.has(page.backfill.status);
  // While an import runs, refresh every 10 s (the figures are cheap to read).
  useEffect(() => {
    if (!importing) return;
    const timer = setInterval(() => revalidator.state === "idle" && revalidator.revalidate(), 10_000);
    return () => clearInterval(timer);
  }, [importing, revalidator]);
  const submitting = navigation.state === "submitting" && navigation.formData?.get("intent") === "reimport";
  const leaving = useLeavingPage();
  if (leaving) return <PageSkeleton cards={4} />;
  return (
    <Page title="Sync status" subtitle="How current Tenure's copy of your orders is">
      <CardColumn>
        {result && (
          <Banner tone={result.ok ? "success" : "warning"} title={result.ok ? "Re-import started" : "Re-import not started"}>
            <p>{result.message}</p>
          </Banner>
        )}
        <HeadingCard title="Order import" term="reconciliation">
          {page.backfill ? (
            <BackfillProgress backfill={page.backfill} />
          ) : (
            <EmptyState heading="No import has run yet" image={EMPTY_STATE_IMAGE}>
              <p>
                {page.demo
                  ? "The demo store's orders arrive through the webhook route; no Shopify import runs in demo mode."
                  : "Tenure imports your order history right after install. If nothing shows here within a few minutes, start the import below."}
              </p>
            </EmptyState>
          )}
          <ReimportForm page={page} importing={importing} submitting={submitting} />
        </HeadingCard>
        <HeadingCard title="Live updates" term="webhook">
          <FigureGrid
            size="sm"
            columns={{ xs: 1, sm: 2, md: 4 }}
            gap="300"
            figures={[
              { label: "Last webhook received", term: "webhook", value: page.lastWebhookAtIso ? instant(page.lastWebhookAtIso, timeZone) : "None yet" },
              { label: "Last reconciliation", term: "reconciliation", value: page.reconciledAtIso ? instant(page.reconciledAtIso, timeZone) : "Not yet" },
              { label: "Last refit", term: "refit", value: refitText(page, timeZone) },
              { label: "Waiting to be processed", term: "pending-deliveries", value: capped(page.pendingCount) },
            ]}
          />
          <Text as="p" variant="bodySm" tone="subdued">
            Orders and customers arrive by webhook within seconds. A reconciliation sweep fetches anything a webhook missed; the refit recomputes
            models, segments and cohorts nightly and after imports or settings changes.
            {page.refit && page.refit.changesSinceFit > 0 ? ` ${count(page.refit.changesSinceFit)} customer changes since the last refit.` : ""}
          </Text>
          {page.refit?.error && (
            <Banner tone="critical" title="The last refit failed">
              <p>{page.refit.error} The figures from the previous refit stay in place; the next nightly refit tries again.</p>
            </Banner>
          )}
        </HeadingCard>
        <FailedDeliveries page={page} />
        <DroppedDeliveries page={page} />
      </CardColumn>
    </Page>
  );
}

function refitText(page: SyncPageData, timeZone: string): string {
  if (!page.refit?.finishedAtIso) return "Not yet";
  const why = page.refit.trigger ? ` (${page.refit.trigger})` : "";
  return `${instant(page.refit.finishedAtIso, timeZone)}${why}`;
}

function ReimportForm({ page, importing, submitting }: { page: SyncPageData & { demo: boolean }; importing: boolean; submitting: boolean }) {
  if (page.demo) {
    return (
      <Text as="p" tone="subdued">
        Re-importing orders is not available in demo mode: there is no Shopify store to import from.
      </Text>
    );
  }
  return (
    <Form method="post">
      <input type="hidden" name="intent" value="reimport" />
      <BlockStack gap="100">
        <div>
          <Button submit loading={submitting} disabled={importing}>
            Re-import orders
          </Button>
        </div>
        <Text as="p" variant="bodySm" tone="subdued">
          {importing ? "An import is running; wait for it to finish." : "Reads every order from Shopify again. Safe to repeat: orders are never counted twice."}
        </Text>
      </BlockStack>
    </Form>
  );
}

function FailedDeliveries({ page }: { page: SyncPageData }) {
  const timeZone = useShopTimeZone();
  return (
    <HeadingCard title="Failed deliveries" term="failed-deliveries">
      {page.failed.length === 0 ? (
        <Text as="p">No failed webhook deliveries. Every update Shopify sent has been applied.</Text>
      ) : (
        <>
          <Text as="p" tone="subdued">
            {capped(page.failedCount)} {page.failedCount === 1 ? "delivery" : "deliveries"} could not be applied
            {page.failedCount > FAILED_SHOWN ? `; the newest ${FAILED_SHOWN} are listed` : ""}. Each is kept with its reason; the
            reconciliation sweep re-reads orders changed since its last run, and a re-import reads every order again.
          </Text>
          <DataTable
            columnContentTypes={["text", "text", "numeric", "text"]}
            headings={[
              <HelpLabel key="received" term="webhook" label="Received" />,
              <HelpLabel key="topic" term="webhook" label="Topic" />,
              <HelpLabel key="attempts" term="failed-deliveries" label="Attempts" />,
              <HelpLabel key="reason" term="failed-deliveries" label="Reason" />,
            ]}
            rows={page.failed.map((delivery) => [instant(delivery.receivedAtIso, timeZone), delivery.topic, count(delivery.attempts), delivery.error ?? "No reason recorded"])}
            truncate={false}
          />
        </>
      )}
    </HeadingCard>
  );
}

/** Why a delivery was not applied, in the merchant's words (reasons: ingest/shop-admission.server.ts). */
const DROP_EXPLANATIONS: Record<string, string> = {
  "shop uninstalled": "Sent while Tenure was uninstalled from your store",
  "shop redacted": "Sent after your store's data in Tenure was erased at Shopify's request",
  "shop never installed": "Sent before Tenure was installed on your store",
};

function DroppedDeliveries({ page }: { page: SyncPageData }) {
  const timeZone = useShopTimeZone();
  if (page.dropped.length === 0) return null;
  const total = page.dropped.reduce((sum, row) => sum + row.count, 0);
  return (
    <HeadingCard title="Updates not applied" term="dropped-updates">
      <Text as="p" tone="subdued">
        Shopify sent {count(total)} {total === 1 ? "update" : "updates"} that Tenure acknowledged but did not apply, because your store was not
        installed at the time. They were not stored. Orders changed since you installed are read again by the import and the reconciliation sweep.
      </Text>
      <DataTable
        columnContentTypes={["text", "text", "numeric", "text"]}
        headings={[
          <HelpLabel key="topic" term="webhook" label="Topic" />,
          <HelpLabel key="why" term="dropped-updates" label="Why" />,
          <HelpLabel key="updates" term="dropped-updates" label="Updates" />,
          <HelpLabel key="last" term="dropped-updates" label="Last one" />,
        ]}
        rows={page.dropped.map((row) => [row.topic, DROP_EXPLANATIONS[row.reason] ?? row.reason, count(row.count), instant(row.lastAtIso, timeZone)])}
        truncate={false}
      />
    </HeadingCard>
  );
}
