import { useFetcher } from "@remix-run/react";
import { Badge, Banner, BlockStack, Button, ChoiceList, Divider, InlineGrid, InlineStack, Link, Select, Text, TextField } from "@shopify/polaris";
import { useEffect, useState } from "react";
import { instant } from "~/display/format";
import { HeadingCard } from "~/components/HeadingCard";
import { HelpLabel } from "~/components/HelpLabel";
import { useShopTimeZone } from "~/components/ShopTimeZone";
import {
  type ConsentScope,
  type DestinationCardData,
  type IntegrationsActionResult,
  type IntegrationsIntent,
  type IntegrationsPageData,
} from "~/pages/integrations";
import { SyncRun } from "./SyncRun";

// One email tool on the Integrations page: connected or not, the connect form (the key is a
// password field and never comes back), Mailchimp's audience, the segments to sync, who is
// sent (consent), the last sync and "Sync now", and disconnect behind a confirmation. Each
// card posts through its own fetcher, so its answer shows on it.

const KEY_HELP: Record<string, string> = {
  klaviyo:
    "A private API key from Klaviyo (Settings › API keys), with read and write access to lists and profiles and write access to data privacy. Tenure checks it with Klaviyo and stores it encrypted.",
  mailchimp:
    "An API key from Mailchimp (Profile › Extras › API keys); it ends with your data centre, for example -us21. Tenure checks it with Mailchimp and stores it encrypted.",
};

/** An action that asked for a sync pass, for the page to watch for it. */
export interface RunRequest {
  kind: string;
  intent: IntegrationsIntent;
  atIso: string;
}

/** Intents after which a sync pass is expected to start. */
const STARTS_A_RUN: ReadonlySet<IntegrationsIntent> = new Set(["connect", "segments", "consent", "sync", "audience"]);

export function DestinationCard({
  destination,
  segmentChoices,
  countCap,
  onRunRequested,
}: {
  destination: DestinationCardData;
  segmentChoices: IntegrationsPageData["segmentChoices"];
  countCap: number;
  onRunRequested: (request: RunRequest) => void;
}) {
  const timeZone = useShopTimeZone();
  const fetcher = useFetcher<IntegrationsActionResult>({
    key: `destination-${destination.kind}`,
  });
  const result = fetcher.data ?? null;
  const busy = (intent: IntegrationsIntent) => fetcher.state !== "idle" && fetcher.formData?.get("intent") === intent;
  const send = (intent: IntegrationsIntent, fields: Record<string, string | string[]> = {}) => {
    const form = new FormData();
    form.set("intent", intent);
    form.set("kind", destination.kind);
    for (const [name, value] of Object.entries(fields)) {
      if (Array.isArray(value)) for (const item of value) form.append(name, item);
      else form.set(name, value);
    }
    fetcher.submit(form, { method: "post" });
  };

  useEffect(() => {
    if (fetcher.state === "idle" && result?.ok && STARTS_A_RUN.has(result.intent))
      onRunRequested({
        kind: result.kind,
        intent: result.intent,
        atIso: result.atIso,
      });
    // Once per answer: the fetcher's data changes with each submission.
  }, [fetcher.state, result, onRunRequested]);

  const paused = destination.status === "paused";
  const needsAudience = destination.kind === "mailchimp" && destination.connected && destination.audience === null;
  return (
    // data-destination: the card's kind, for tests and the Synced to links.
    <div data-destination={destination.kind}>
      <HeadingCard title={destination.label} term="destination">
        <InlineStack gap="200" blockAlign="center">
          {destination.connected ? paused ? <Badge tone="critical">Paused</Badge> : <Badge tone="success">Connected</Badge> : <Badge>Not connected</Badge>}
          {destination.connected && (
            <Text as="span" tone="subdued">
              {destination.accountName ? `Account ${destination.accountName}, ` : ""}
              connected {instant(destination.connectedAtIso, timeZone)}
            </Text>
          )}
        </InlineStack>
        {result && <ResultBanner result={result} label={destination.label} />}
        {paused && (
          <Banner tone="critical" title={`Sync to ${destination.label} is paused`}>
            <p>{destination.notice ?? `${destination.label} refused Tenure's key.`}</p>
            <p>
              {destination.pausedForSetup
                ? "Choose an audience below to resume. Pending changes are kept and sent as soon as it is chosen."
                : "Reconnect: paste a valid key below. Pending changes are kept and sent as soon as the key works."}
            </p>
          </Banner>
        )}
        {destination.pausedForSetup && <AudienceForm destination={destination} busy={busy("audience")} send={send} />}
        {(!destination.connected || (paused && !destination.pausedForSetup)) && (
          <ConnectForm destination={destination} busy={busy("connect")} send={send} clearAfter={result?.ok === true && result.intent === "connect"} />
        )}
        {destination.connected && !paused && needsAudience && <AudienceForm destination={destination} busy={busy("audience")} send={send} />}
        {destination.connected && !paused && !needsAudience && (
          <>
            {destination.kind === "mailchimp" && destination.audience && (
              <Text as="p">
                <HelpLabel term="audience" />
                {`: ${destination.audience.name ?? destination.audience.id}. `}
                <Link url="/app/integrations?audiences=change">Change audience</Link>
              </Text>
            )}
            {destination.kind === "mailchimp" && destination.audiences && <AudienceForm destination={destination} busy={busy("audience")} send={send} />}
            <Divider />
            <SegmentsForm destination={destination} segmentChoices={segmentChoices} busy={busy("segments")} send={send} />
            <Divider />
            <ConsentForm destination={destination} busy={busy("consent")} send={send} />
          </>
        )}
        {destination.connected && (
          <>
            <Divider />
            <SyncRun destination={destination} countCap={countCap} />
            <SyncActions destination={destination} busy={busy} send={send} />
          </>
        )}
      </HeadingCard>
    </div>
  );
}

type Send = (intent: IntegrationsIntent, fields?: Record<string, string | string[]>) => void;

function ResultBanner({ result, label }: { result: IntegrationsActionResult; label: string }) {
  if (result.ok) {
    return (
      <Banner tone="success" title={result.intent === "connect" ? `${label} connected` : "Done"}>
        <p>{result.message}</p>
      </Banner>
    );
  }
  return (
    <Banner tone="critical" title={result.intent === "connect" ? `${label} not connected` : "Not saved"}>
      <p>{result.message}</p>
      {result.missingScopes && result.missingScopes.length > 0 && (
        <p>{`Missing access: ${result.missingScopes.join(", ")}. Give the key these scopes, or make a new key that has them.`}</p>
      )}
    </Banner>
  );
}

function ConnectForm({ destination, busy, send, clearAfter }: { destination: DestinationCardData; busy: boolean; send: Send; clearAfter: boolean }) {
  const [apiKey, setApiKey] = useState("");
  // The key stays in this field only until it is sent; it is never shown again.
  useEffect(() => {
    if (clearAfter) setApiKey("");
  }, [clearAfter]);
  const id = `connect-${destination.kind}`;
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        send("connect", { apiKey });
      }}
    >
      <BlockStack gap="200">
        <TextField
          id={`${id}-key`}
          label={destination.kind === "klaviyo" ? "Klaviyo private API key" : "Mailchimp API key"}
          type="password"
          name="apiKey"
          autoComplete="off"
          value={apiKey}
          onChange={setApiKey}
          helpText={KEY_HELP[destination.kind]}
        />
        <div>
          <Button submit variant="primary" loading={busy}>
            {destination.connected ? `Reconnect ${destination.label}` : `Connect ${destination.label}`}
          </Button>
        </div>
      </BlockStack>
    </form>
  );
}

function AudienceForm({ destination, busy, send }: { destination: DestinationCardData; busy: boolean; send: Send }) {
  const audiences = destination.audiences ?? [];
  const [audienceId, setAudienceId] = useState(destination.audience?.id ?? audiences[0]?.id ?? "");
  if (destination.audiencesError) {
    return (
      <Banner tone="warning" title="Audiences not listed">
        <p>{destination.audiencesError}</p>
      </Banner>
    );
  }
  if (audiences.length === 0) {
    return <Text as="p">Your Mailchimp account has no audience yet. Create one in Mailchimp, then reload this page.</Text>;
  }
  return (
    <BlockStack gap="200">
      <Text as="h3" variant="headingSm">
        <HelpLabel term="audience" />
      </Text>
      <Select
        label="Audience Tenure's tags go to"
        options={audiences.map((audience) => ({
          label: `${audience.name} (${audience.memberCount.toLocaleString("en-US")} contacts)`,
          value: audience.id,
        }))}
        value={audienceId}
        onChange={setAudienceId}
      />
      <div>
        <Button onClick={() => send("audience", { audienceId })} loading={busy}>
          Use this audience
        </Button>
      </div>
    </BlockStack>
  );
}

function SegmentsForm({
  destination,
  segmentChoices,
  busy,
  send,
}: {
  destination: DestinationCardData;
  segmentChoices: IntegrationsPageData["segmentChoices"];
  busy: boolean;
  send: Send;
}) {
  const stored = destination.segments.map((segment) => segment.key);
  const [chosen, setChosen] = useState<string[]>(stored);
  const storedKey = stored.join(",");
  // After a save the loader reads the stored choice back: start from it.
  useEffect(() => setChosen(storedKey === "" ? [] : storedKey.split(",")), [storedKey]);
  const rfmKeys = new Set(segmentChoices.rfm.map((choice) => choice.key));
  const listName = destination.kind === "klaviyo" ? "list" : "tag";
  return (
    <BlockStack gap="200">
      <Text as="h3" variant="headingSm">
        <HelpLabel term="synced-segments" label="Segments to sync" />
      </Text>
      <Text as="p" tone="subdued">
        Each becomes a {destination.label} {listName} named “Tenure: segment name”, kept current as customers move.
      </Text>
      <InlineGrid columns={{ xs: 1, md: 2 }} gap="400">
        <ChoiceList
          title="RFM segments"
          allowMultiple
          choices={segmentChoices.rfm.map((choice) => ({
            label: choice.name,
            value: choice.key,
          }))}
          selected={chosen.filter((key) => rfmKeys.has(key))}
          onChange={(selected) => setChosen([...selected, ...chosen.filter((key) => !rfmKeys.has(key))])}
        />
        <ChoiceList
          title="Behavioural segments"
          allowMultiple
          choices={segmentChoices.behaviour.map((choice) => ({
            label: choice.name,
            value: choice.key,
          }))}
          selected={chosen.filter((key) => !rfmKeys.has(key))}
          onChange={(selected) => setChosen([...chosen.filter((key) => rfmKeys.has(key)), ...selected])}
        />
      </InlineGrid>
      <div>
        <Button onClick={() => send("segments", { segment: chosen })} loading={busy} disabled={chosen.join(",") === storedKey}>
          Save segments
        </Button>
      </div>
    </BlockStack>
  );
}

function ConsentForm({ destination, busy, send }: { destination: DestinationCardData; busy: boolean; send: Send }) {
  const [scope, setScope] = useState<ConsentScope>(destination.consentScope);
  useEffect(() => setScope(destination.consentScope), [destination.consentScope]);
  return (
    <BlockStack gap="200">
      <Text as="h3" variant="headingSm">
        <HelpLabel term="consent-scope" />
      </Text>
      <ChoiceList
        title="Who is sent"
        titleHidden
        choices={[
          {
            label: "Subscribed to email marketing only",
            value: "subscribed",
            helpText: "Customers who agreed in Shopify to receive marketing email. Everyone else in the segment is left out and counted.",
          },
          {
            label: "Everyone",
            value: "all",
            helpText: "For analysis, not for sending: customers who did not subscribe are added to lists with their figures but never subscribed.",
          },
        ]}
        selected={[scope]}
        onChange={([value]) => setScope(value === "all" ? "all" : "subscribed")}
      />
      {scope === "all" && (
        <Banner tone="warning" title="For analysis, not for sending">
          <p>
            Customers who never agreed to marketing email will be in these {destination.kind === "klaviyo" ? "lists" : "tags"}. Tenure never subscribes anyone,
            but do not send campaigns to them: only subscribed contacts may receive marketing.
          </p>
        </Banner>
      )}
      <div>
        <Button onClick={() => send("consent", { scope })} loading={busy} disabled={scope === destination.consentScope}>
          Save who is sent
        </Button>
      </div>
    </BlockStack>
  );
}

function SyncActions({ destination, busy, send }: { destination: DestinationCardData; busy: (intent: IntegrationsIntent) => boolean; send: Send }) {
  const [confirming, setConfirming] = useState(false);
  const running = destination.runningRun !== null;
  const paused = destination.status === "paused";
  return (
    <BlockStack gap="300">
      <InlineStack gap="200" blockAlign="center">
        <Button onClick={() => send("sync")} loading={busy("sync")} disabled={running || paused || destination.segments.length === 0}>
          Sync now
        </Button>
        <Button tone="critical" variant="plain" onClick={() => setConfirming(true)} disabled={confirming}>
          {`Disconnect ${destination.label}`}
        </Button>
      </InlineStack>
      {destination.segments.length === 0 && !paused && (
        <Text as="p" variant="bodySm" tone="subdued">
          Choose a segment to sync first.
        </Text>
      )}
      {confirming && (
        <Banner tone="warning" title={`Disconnect ${destination.label}?`} onDismiss={() => setConfirming(false)}>
          <BlockStack gap="200">
            <p>
              Tenure stops syncing, deletes the key and forgets what it sent. The lists and profiles already in {destination.label} stay there until you delete
              them in {destination.label}.
            </p>
            <InlineStack gap="200">
              <Button
                tone="critical"
                variant="primary"
                loading={busy("disconnect")}
                onClick={() => {
                  send("disconnect");
                  setConfirming(false);
                }}
              >
                {`Yes, disconnect ${destination.label}`}
              </Button>
              <Button onClick={() => setConfirming(false)}>Cancel</Button>
            </InlineStack>
          </BlockStack>
        </Banner>
      )}
    </BlockStack>
  );
}
