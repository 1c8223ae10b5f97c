import { BEHAVIOURAL_SEGMENT_KEYS } from "~/analytics/behaviour";
import { ALL_SEGMENT_KEYS } from "~/analytics/segments";
import {
  DESTINATION_COUNT_CAP,
  type DestinationRunRow,
  type DestinationStatusRow,
  destinationsOfSegment,
  readDestinationStatuses,
} from "~/data/destination-status.server";
import { loadMetricsSettings } from "~/data/settings.server";
import { type Queryable } from "~/db/pg.server";
import {
  chooseAudience,
  connectDestination,
  DestinationRequestError,
  disconnectDestination,
  listAudiences,
  requestSync,
  setConsentScope,
  setDestinationSegments,
} from "~/destinations/connections.server";
import { RFM_SEGMENT_KEYS, segmentName } from "~/display/segment-names";
import type pg from "pg";
import {
  type ConsentScope,
  DESTINATION_KINDS,
  DESTINATION_LABELS,
  type DestinationCardData,
  type DestinationKindName,
  type DestinationRunView,
  type IntegrationsActionResult,
  type IntegrationsCommand,
  type IntegrationsPageData,
  parseIntegrationsForm,
  type SegmentDestinationView,
} from "./integrations";

// The Integrations page (issue 14, section 5): one card per email tool with what Tenure
// holds of it (app/data/destination-status.server.ts: never the sealed key), and the
// page's action: each form checked (parseIntegrationsForm), then handed to the
// destinations room's connection functions (app/destinations/connections.server.ts),
// which verify keys with a real call, seal them and queue the sync passes.

const iso = (date: Date | null) => (date ? date.toISOString() : null);

function runView(run: DestinationRunRow | null): DestinationRunView | null {
  if (!run) return null;
  const { id: _id, startedAt, finishedAt, ...rest } = run;
  return { ...rest, startedAtIso: startedAt.toISOString(), finishedAtIso: iso(finishedAt) };
}

const stringOf = (value: unknown): string | null => (typeof value === "string" && value.trim() !== "" ? value : null);

function card(kind: DestinationKindName, row: DestinationStatusRow | undefined, labels: Record<string, string>): DestinationCardData {
  const account = row?.account ?? {};
  const audienceId = stringOf(account.audienceId);
  return {
    kind,
    label: DESTINATION_LABELS[kind],
    connected: row !== undefined,
    status: row?.status ?? null,
    notice: row?.notice ?? null,
    pausedForSetup: row?.status === "paused" && account.pausedFor === "setup",
    accountName: stringOf(account.name) ?? stringOf(account.accountName) ?? stringOf(account.organizationName),
    audience: audienceId ? { id: audienceId, name: stringOf(account.audienceName) } : null,
    consentScope: row?.consentScope === "all" ? "all" : "subscribed",
    segments: (row?.segments ?? []).map((segment) => ({ key: segment.segmentKey, name: segmentName(segment.segmentKey, labels), remoteName: segment.remoteName })),
    lastRun: runView(row?.lastRun ?? null),
    lastFullRun: runView(row?.lastFullRun ?? null),
    runningRun: runView(row?.runningRun ?? null),
    pendingChanges: row?.pendingChanges ?? 0,
    pendingErasures: row?.pendingErasures ?? 0,
    failures: (row?.failures ?? []).map((failure) => ({ email: failure.email, reason: failure.reason, atIso: failure.at.toISOString() })),
    connectedAtIso: iso(row?.connectedAt ?? null),
    audiences: null,
    audiencesError: null,
  };
}

/**
 * The page's data. `options.chooseAudience`: read Mailchimp's audiences even when one is
 * chosen (the merchant asked to change it); without a chosen audience they are always read.
 */
export async function loadIntegrationsPage(pool: pg.Pool, shop: string, options: { chooseAudience?: boolean } = {}): Promise<IntegrationsPageData> {
  const [settings, rows] = await Promise.all([loadMetricsSettings(pool, shop), readDestinationStatuses(pool, shop)]);
  const labels = settings.segmentLabels;
  const destinations = DESTINATION_KINDS.map((kind) =>
    card(
      kind,
      rows.find((row) => row.kind === kind),
      labels,
    ),
  );
  const mailchimp = destinations.find((d) => d.kind === "mailchimp");
  // A setup pause (the audience is missing or was deleted) ends with a new audience: offer them.
  const canChoose = mailchimp?.connected === true && (mailchimp.status !== "paused" || mailchimp.pausedForSetup);
  if (mailchimp && canChoose && (mailchimp.audience === null || mailchimp.pausedForSetup || options.chooseAudience)) {
    // The one read that leaves Tenure: only while an audience is to be chosen.
    try {
      mailchimp.audiences = await listAudiences(pool, shop);
    } catch (error) {
      mailchimp.audiencesError = `Mailchimp did not list your audiences (${error instanceof Error ? error.message : String(error)}). Reload the page to try again.`;
    }
  }
  return {
    shop,
    destinations,
    segmentChoices: {
      rfm: RFM_SEGMENT_KEYS.map((key) => ({ key, name: segmentName(key, labels) })),
      behaviour: BEHAVIOURAL_SEGMENT_KEYS.map((key) => ({ key, name: segmentName(key, labels) })),
    },
    countCap: DESTINATION_COUNT_CAP,
  };
}

/** A segment page's "Synced to": the email tools the segment goes to, and the loader's clock ("last sent 5 min ago"). */
export async function loadSegmentDestinations(db: Queryable, shop: string, segmentKey: string): Promise<{ destinations: SegmentDestinationView[]; nowIso: string }> {
  const rows = await destinationsOfSegment(db, shop, segmentKey);
  return {
    destinations: rows.map((row) => ({
      kind: row.kind,
      status: row.status,
      notice: row.notice,
      remoteName: row.remoteName,
      lastSentAtIso: iso(row.lastSentAt),
      running: row.running,
    })),
    nowIso: new Date().toISOString(),
  };
}

export type IntegrationsSubmission = { status: number; result: IntegrationsActionResult };

/**
 * Refuses a form posted from another site: a browser names the page that sent a POST in
 * Origin (and Sec-Fetch-Site), so a form on a stranger's page cannot connect or
 * disconnect a shop's email tools. `appUrl`: the app's public URL (SHOPIFY_APP_URL), whose
 * host also counts as this site behind a proxy.
 */
export function crossSiteRefusal(request: Request, appUrl: string | null): string | null {
  const site = request.headers.get("sec-fetch-site");
  if (site === "cross-site") return "This form was sent from another website, so it was refused. Open Tenure and use the page itself.";
  const origin = request.headers.get("origin");
  if (origin === null) return null;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return "This form was sent from a page Tenure cannot identify, so it was refused. Open Tenure and use the page itself.";
  }
  const hosts = new Set([new URL(request.url).host, request.headers.get("host") ?? ""]);
  if (appUrl) hosts.add(new URL(appUrl).host);
  return hosts.has(originHost) ? null : "This form was sent from another website, so it was refused. Open Tenure and use the page itself.";
}

/** The page's action: method and origin checked, the form parsed, the command run. Nothing is written on a refusal. */
export async function submitIntegrations(pool: pg.Pool, shop: string, request: Request, appUrl: string | null): Promise<IntegrationsSubmission> {
  if (request.method.toUpperCase() !== "POST") {
    return { status: 405, result: { ok: false, intent: null, kind: null, message: `${request.method} is not how this page changes anything: use its forms.` } };
  }
  const crossSite = crossSiteRefusal(request, appUrl);
  if (crossSite) return { status: 403, result: { ok: false, intent: null, kind: null, message: crossSite } };
  let form: FormData;
  try {
    form = await request.formData();
  } catch {
    return { status: 400, result: { ok: false, intent: null, kind: null, message: "The form could not be read. Reload the page and try again." } };
  }
  const parsed = parseIntegrationsForm(form, ALL_SEGMENT_KEYS);
  if (!parsed.ok) return { status: 400, result: parsed.result };
  return runCommand(pool, shop, parsed.command);
}

const CONSENT_WORDS: Record<ConsentScope, string> = {
  subscribed: "only customers subscribed to email marketing",
  all: "everyone in the chosen segments, subscribed or not (none of them is subscribed by Tenure)",
};

async function isConnected(db: Queryable, shop: string, kind: DestinationKindName): Promise<boolean> {
  const { rowCount } = await db.query(`SELECT 1 FROM "Destination" WHERE shop = $1 AND kind = $2`, [shop, kind]);
  return (rowCount ?? 0) > 0;
}

async function runCommand(pool: pg.Pool, shop: string, command: IntegrationsCommand): Promise<IntegrationsSubmission> {
  const { intent, kind } = command;
  const label = DESTINATION_LABELS[kind];
  // Taken before anything is queued: the pass this asks for starts after it.
  const atIso = new Date().toISOString();
  const done = (message: string): IntegrationsSubmission => ({ status: 200, result: { ok: true, intent, kind, message, atIso } });
  const refused = (status: number, message: string, extra: Partial<Extract<IntegrationsActionResult, { ok: false }>> = {}): IntegrationsSubmission => ({
    status,
    result: { ok: false, intent, kind, message, ...extra },
  });
  if (intent !== "connect" && !(await isConnected(pool, shop, kind))) return refused(409, `${label} is not connected: connect it first.`);
  try {
    switch (command.intent) {
      case "connect": {
        const outcome = await connectDestination(pool, shop, kind, { apiKey: command.apiKey });
        if (!outcome.ok) return refused(400, outcome.reason, { missingScopes: outcome.missingScopes, field: "apiKey" });
        return done(`${label} is connected. Choose the segments to sync below.`);
      }
      case "audience":
        await chooseAudience(pool, shop, command.audienceId);
        return done("Audience chosen. Tenure's segments go to it as tags.");
      case "segments":
        await setDestinationSegments(pool, shop, kind, command.segmentKeys);
        return done(
          command.segmentKeys.length === 0
            ? `No segment is synced to ${label} any more; Tenure takes its customers out of the lists it made.`
            : command.segmentKeys.length === 1
              ? `Saved. Tenure syncs this segment to ${label} now, then keeps it current.`
              : `Saved. Tenure syncs these ${command.segmentKeys.length} segments to ${label} now, then keeps them current.`,
        );
      case "consent":
        await setConsentScope(pool, shop, kind, command.scope);
        return done(`Saved: ${label} receives ${CONSENT_WORDS[command.scope]}.`);
      case "sync":
        await requestSync(pool, shop, kind);
        return done(`Sync requested: Tenure compares every customer with what ${label} holds; progress shows here.`);
      case "disconnect":
        await disconnectDestination(pool, shop, kind);
        return done(`${label} is disconnected and its key deleted. The lists Tenure made stay in ${label} until you delete them there.`);
    }
  } catch (error) {
    // The connection functions refused it (an audience the key does not have): nothing was written.
    if (error instanceof DestinationRequestError) return refused(400, `${label}: ${error.message}. Nothing was changed.`);
    // The tool or the job queue did not answer.
    const reason = error instanceof Error ? error.message : String(error);
    return refused(503, `${label}: that could not be finished right now (${reason}). Try again in a minute.`);
  }
}
