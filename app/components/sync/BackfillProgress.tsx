import { Badge, BlockStack, InlineStack, ProgressBar, Text } from "@shopify/polaris";
import { useId } from "react";
import { count, instant } from "~/display/format";
import { useShopTimeZone } from "~/components/ShopTimeZone";
import type { SyncPageData } from "~/pages/sync";

// The newest order import: a progress bar against the order count Shopify reported when
// it started, its state in words, and its notice (e.g. only the last 60 days readable).

type Backfill = NonNullable<SyncPageData["backfill"]>;

const STATUS: Record<string, { label: string; tone: "info" | "success" | "critical" | "attention" }> = {
  CREATED: { label: "Starting", tone: "info" },
  RUNNING: { label: "Shopify is preparing the export", tone: "info" },
  DOWNLOADING: { label: "Importing", tone: "info" },
  COMPLETED: { label: "Complete", tone: "success" },
  FAILED: { label: "Failed", tone: "critical" },
};

export function BackfillProgress({ backfill }: { backfill: Backfill }) {
  const timeZone = useShopTimeZone();
  const labelId = useId();
  const status = STATUS[backfill.status] ?? { label: backfill.status, tone: "attention" as const };
  const done = backfill.status === "COMPLETED";
  const expected = backfill.expectedCount;
  const progress = done ? 100 : expected && expected > 0 ? Math.min(100, Math.round((backfill.ordersProcessed / expected) * 100)) : 0;
  const label = expected ? `${count(backfill.ordersProcessed)} of about ${count(expected)} orders imported` : `${count(backfill.ordersProcessed)} orders imported`;
  return (
    <BlockStack gap="200">
      <InlineStack gap="200" blockAlign="center">
        <Badge tone={status.tone}>{status.label}</Badge>
        <Text as="span" id={labelId}>
          {label}
        </Text>
      </InlineStack>
      <ProgressBar progress={progress} tone={backfill.status === "FAILED" ? "critical" : done ? "success" : "highlight"} ariaLabelledBy={labelId} />
      <Text as="p" variant="bodySm" tone="subdued">
        Started {instant(backfill.startedAtIso, timeZone)}
        {backfill.finishedAtIso ? `; finished ${instant(backfill.finishedAtIso, timeZone)}` : `; last progress ${instant(backfill.updatedAtIso, timeZone)}`}.
      </Text>
      {backfill.notice && (
        <Text as="p" tone="caution">
          {backfill.notice}
        </Text>
      )}
      {backfill.error && (
        <Text as="p" tone="critical">
          {backfill.error}
        </Text>
      )}
    </BlockStack>
  );
}
