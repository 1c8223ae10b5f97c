import { Badge, BlockStack, InlineStack, List, ProgressBar, Text } from "@shopify/polaris";
import { useId } from "react";
import { count, instant } from "~/display/format";
import { FigureGrid } from "~/components/Figure";
import { HelpLabel } from "~/components/HelpLabel";
import { useShopTimeZone } from "~/components/ShopTimeZone";
import { type DestinationCardData, type DestinationRunView, showsProgress } from "~/pages/integrations";

// A destination's sync passes: the running one's progress (a bar during a first or full
// sync), the last one's counts (sent, failed, left out) with its state, what waits, and the
// newest profiles the tool refused, each with its reason.

const RUN_KIND: Record<string, string> = {
  initial: "First sync",
  full: "Full sync",
  changes: "Latest changes",
};

const RUN_STATUS: Record<string, { label: string; tone: "info" | "success" | "critical" | "attention" }> = {
  running: { label: "Running", tone: "info" },
  done: { label: "Done", tone: "success" },
  failed: { label: "Failed, retrying", tone: "attention" },
  paused: { label: "Paused", tone: "critical" },
};

export const capped = (value: number, cap: number) => (value > cap ? `${count(cap)}+` : count(value));

function RunProgress({ run }: { run: DestinationRunView }) {
  const labelId = useId();
  const total = run.total ?? 0;
  const progress = total > 0 ? Math.min(100, Math.round((run.compared / total) * 100)) : 0;
  return (
    <BlockStack gap="200">
      <InlineStack gap="200" blockAlign="center">
        <Badge tone="info">{`${RUN_KIND[run.kind] ?? run.kind} running`}</Badge>
        <Text as="span" id={labelId}>
          {total > 0 ? `${count(run.compared)} of ${count(total)} customers compared` : "Counting the customers to compare"}
          {` · ${count(run.sent)} sent so far`}
        </Text>
      </InlineStack>
      <ProgressBar progress={progress} tone="highlight" ariaLabelledBy={labelId} />
    </BlockStack>
  );
}

const sameRun = (a: DestinationRunView | null, b: DestinationRunView | null) =>
  a !== null && b !== null && a.kind === b.kind && a.startedAtIso === b.startedAtIso;

function RunLine({ run, timeZone }: { run: DestinationRunView; timeZone: string }) {
  const status = RUN_STATUS[run.status] ?? { label: run.status, tone: "attention" as const };
  return (
    <BlockStack gap="100">
      <InlineStack gap="200" blockAlign="center">
        <span data-run-status={run.status} data-run-kind={run.kind}>
          <Badge tone={status.tone}>{status.label}</Badge>
        </span>
        <Text as="span" tone="subdued">
          {RUN_KIND[run.kind] ?? run.kind}, started {instant(run.startedAtIso, timeZone)}
          {run.finishedAtIso ? `, finished ${instant(run.finishedAtIso, timeZone)}` : ""}
          {run.kind === "changes" ? `: ${count(run.sent)} sent, ${count(run.failed)} failed` : ""}
        </Text>
      </InlineStack>
      {run.error && (
        <Text as="p" tone="critical">
          {run.error}
        </Text>
      )}
    </BlockStack>
  );
}

export function SyncRun({ destination, countCap }: { destination: DestinationCardData; countCap: number }) {
  const timeZone = useShopTimeZone();
  const { lastRun, runningRun } = destination;
  // The figures are the last first or full sync's (they cover every customer); a later pass of changes is a line of its own.
  const shown = destination.lastFullRun ?? lastRun;
  const laterChanges = lastRun !== null && !sameRun(lastRun, shown) ? lastRun : null;
  return (
    <BlockStack gap="300">
      <Text as="h3" variant="headingSm">
        <HelpLabel term="last-sync" label={runningRun ? "Sync in progress" : "Last sync"} />
      </Text>
      {runningRun && showsProgress(runningRun) && <RunProgress run={runningRun} />}
      {runningRun && !showsProgress(runningRun) && (
        <Text as="p" tone="subdued">
          Sending the latest changes ({count(runningRun.sent)} sent so far).
        </Text>
      )}
      {shown ? <RunLine run={shown} timeZone={timeZone} /> : !runningRun && <Text as="p">No sync has run yet.</Text>}
      {laterChanges && <RunLine run={laterChanges} timeZone={timeZone} />}
      <FigureGrid
        size="sm"
        columns={{ xs: 2, md: destination.pendingErasures > 0 ? 5 : 4 }}
        gap="300"
        figures={[
          { label: "Sent", term: "sync-sent", value: shown ? count(shown.sent) : "–" },
          { label: "Failed", term: "sync-failed", value: shown ? count(shown.failed) : "–" },
          { label: "Left out", term: "left-out", value: shown ? count(shown.leftOut) : "–" },
          { label: "Pending changes", term: "pending-changes", value: capped(destination.pendingChanges, countCap) },
          ...(destination.pendingErasures > 0
            ? [{ label: "Deletions waiting", term: "pending-erasures", value: capped(destination.pendingErasures, countCap) }]
            : []),
        ]}
      />
      {destination.failures.length > 0 && (
        <BlockStack gap="200">
          <Text as="h3" variant="headingSm">
            <HelpLabel term="sync-failed" label="Refused profiles" />
          </Text>
          <Text as="p" variant="bodySm" tone="subdued">
            {destination.label} refused these profiles; the newest {destination.failures.length} are listed. Tenure tries each again at the next full sync.
          </Text>
          <List type="bullet">
            {destination.failures.map((failure, index) => (
              <List.Item key={`${failure.atIso}-${index}`}>
                <Text as="span" fontWeight="semibold">
                  {failure.email ?? "A customer without an email"}
                </Text>
                {`: ${failure.reason} (${instant(failure.atIso, timeZone)})`}
              </List.Item>
            ))}
          </List>
        </BlockStack>
      )}
    </BlockStack>
  );
}
