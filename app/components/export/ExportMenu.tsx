import { useFetcher, useRouteLoaderData } from "@remix-run/react";
import { Banner, BlockStack, Box, Button, ChoiceList, InlineStack, Popover, Spinner, Text } from "@shopify/polaris";
import { useEffect, useState } from "react";
import { EXPORT_PRESETS, type ExportConsent, type ExportCounts, type ExportPreset, leftOutText, PRESET_LABELS } from "~/pages/export";

// The Export button of a segment page and of the customers page: a format (the presets of
// app/pages/export.ts), who is in the file (subscribed to email marketing, the default, or
// everyone, with the warning that such a file is for analysis, not sending), and how many
// customers the file leaves out and why, counted when the menu opens (again when the view
// has changed since).
//
// The download: in demo mode the browser opens the file's URL (an attachment: it streams to disk). Inside
// Shopify admin a plain link carries no session, so the file is fetched with App Bridge's
// fetch, which adds the session token, and handed to the browser as a Blob (docs/exports.md).

interface CountsAnswer {
  counts: ExportCounts | null;
  problem: string | null;
}

/** `csvPath`: the export route without a query ("/app/segments/champions/export.csv"); `query`: the view's filters, kept as they are. */
export function ExportMenu({ csvPath, countsPath, query = "" }: { csvPath: string; countsPath: string; query?: string }) {
  const layout = useRouteLoaderData("routes/app") as { demo?: boolean } | undefined;
  const demo = layout?.demo ?? false;
  const [open, setOpen] = useState(false);
  const [preset, setPreset] = useState<ExportPreset>("klaviyo");
  const [consent, setConsent] = useState<ExportConsent>("subscribed");
  const [downloading, setDownloading] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const counts = useFetcher<CountsAnswer>();
  const countsUrl = `${countsPath}${query ? `?${query}` : ""}`;
  // The view the shown counts are of: the menu stays mounted while the customers page's
  // filters (or the segment page's segment) change, and counts of the old view would be wrong.
  const [countedUrl, setCountedUrl] = useState<string | null>(null);
  const { load } = counts;
  useEffect(() => {
    if (!open || countedUrl === countsUrl) return;
    setCountedUrl(countsUrl);
    load(countsUrl);
  }, [open, countedUrl, countsUrl, load]);
  const toggle = () => setOpen((wasOpen) => !wasOpen);

  const params = new URLSearchParams(query);
  params.set("preset", preset);
  if (consent === "all") params.set("consent", "all");
  const href = `${csvPath}?${params.toString()}`;

  const downloadEmbedded = async () => {
    setDownloading(true);
    setFailure(null);
    try {
      const response = await fetch(href);
      if (!response.ok) throw new Error((await response.text()) || `The export failed (${response.status}).`);
      const name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") ?? "")?.[1] ?? "export.csv";
      const url = URL.createObjectURL(await response.blob());
      const link = document.createElement("a");
      link.href = url;
      link.download = name;
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (error) {
      setFailure(error instanceof Error ? error.message : String(error));
    } finally {
      setDownloading(false);
    }
  };

  // Nothing shown until the current view's counts are in (never the previous view's).
  const answer = countedUrl === countsUrl && counts.state === "idle" ? counts.data : undefined;
  return (
    <Popover
      active={open}
      onClose={() => setOpen(false)}
      preferredAlignment="right"
      activator={
        <Button onClick={toggle} disclosure={open ? "up" : "down"}>
          Export CSV
        </Button>
      }
    >
      <Box padding="400" maxWidth="420px">
        <BlockStack gap="300">
          <ChoiceList
            title="Format"
            choices={EXPORT_PRESETS.map((value) => ({ value, label: PRESET_LABELS[value] }))}
            selected={[preset]}
            onChange={(selected) => setPreset(selected[0] as ExportPreset)}
          />
          <ChoiceList
            title="Who is in the file"
            choices={[
              { value: "subscribed", label: "Customers subscribed to email marketing" },
              { value: "all", label: "Everyone, for analysis (not for sending)" },
            ]}
            selected={[consent]}
            onChange={(selected) => setConsent(selected[0] as ExportConsent)}
          />
          {!answer ? (
            <InlineStack gap="200" blockAlign="center">
              <Spinner size="small" accessibilityLabel="Counting customers" />
              <Text as="span" tone="subdued">
                Counting customers…
              </Text>
            </InlineStack>
          ) : answer?.counts ? (
            <Text as="p" tone="subdued">
              {consent === "all"
                ? `All ${answer.counts.customers.toLocaleString("en-US")} customers are in the file, subscribed or not.`
                : leftOutText(answer.counts)}
            </Text>
          ) : answer?.problem ? (
            <Text as="p" tone="critical">
              {answer.problem}
            </Text>
          ) : null}
          {consent === "all" && (
            <Banner tone="warning" title="For analysis, not for sending">
              This file includes customers who have not agreed to email marketing. Do not import it into an email tool to send campaigns.
            </Banner>
          )}
          {failure && (
            <Banner tone="critical" title="The export failed">
              {failure}
            </Banner>
          )}
          {demo ? (
            // A document request, not a Remix link (which would fetch the file as page data): the
            // attachment downloads and the page stays.
            <Button variant="primary" onClick={() => window.location.assign(href)}>
              Download CSV
            </Button>
          ) : (
            <Button variant="primary" onClick={() => void downloadEmbedded()} loading={downloading}>
              Download CSV
            </Button>
          )}
        </BlockStack>
      </Box>
    </Popover>
  );
}
