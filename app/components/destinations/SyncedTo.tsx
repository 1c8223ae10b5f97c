import { Badge, BlockStack, InlineStack, Link, Text } from "@shopify/polaris";
import { HeadingCard } from "~/components/HeadingCard";
import { DESTINATION_LABELS, type DestinationKindName, type SegmentDestinationView } from "~/pages/integrations";
import { timeAgo } from "./time-ago";

// A segment page's "Synced to": the email tools this segment goes to, each as a badge
// ("Klaviyo: list Tenure: Champions, last sent 5 min ago"), paused ones in red with the
// reason; none: where to start a sync.

function describe(destination: SegmentDestinationView, nowIso: string): string {
  const label = DESTINATION_LABELS[destination.kind as DestinationKindName] ?? destination.kind;
  if (destination.status === "paused") return `${label}: paused`;
  const where = destination.remoteName ? `${destination.kind === "mailchimp" ? "tag" : "list"} ${destination.remoteName}` : "list being created";
  const when = destination.running ? "syncing now" : destination.lastSentAtIso ? `last sent ${timeAgo(destination.lastSentAtIso, nowIso)}` : "first sync waiting";
  return `${label}: ${where}, ${when}`;
}

export function SyncedTo({ destinations, nowIso }: { destinations: readonly SegmentDestinationView[]; nowIso: string }) {
  return (
    <HeadingCard title="Synced to" term="synced-to" gap="200">
      {destinations.length === 0 ? (
        <Text as="p" tone="subdued">
          Not synced to an email tool. <Link url="/app/integrations">Sync it to Klaviyo or Mailchimp</Link> to keep a list of these customers current there.
        </Text>
      ) : (
        <BlockStack gap="200">
          <InlineStack gap="200" wrap>
            {destinations.map((destination) => (
              <Badge key={destination.kind} tone={destination.status === "paused" ? "critical" : "success"}>
                {describe(destination, nowIso)}
              </Badge>
            ))}
          </InlineStack>
          {destinations
            .filter((destination) => destination.status === "paused")
            .map((destination) => (
              <Text as="p" tone="critical" key={destination.kind}>
                {destination.notice ?? "The email tool refused Tenure's key."} <Link url="/app/integrations">Reconnect on the Integrations page</Link>.
              </Text>
            ))}
        </BlockStack>
      )}
    </HeadingCard>
  );
}
