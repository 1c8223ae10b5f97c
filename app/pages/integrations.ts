// The Integrations page (issue 14): the email tools a shop's segments go to, as the loader,
// the route and its components see them, and the page's form, checked before anything is
// written (no server code; the loader and action are integrations.server.ts).

import { DESTINATION_KINDS, type DestinationKind } from "~/destinations/adapter";

export { DESTINATION_KINDS };
export type DestinationKindName = DestinationKind;

export const DESTINATION_LABELS: Readonly<Record<DestinationKindName, string>> = { klaviyo: "Klaviyo", mailchimp: "Mailchimp" };

export const CONSENT_SCOPES = ["subscribed", "all"] as const;
export type ConsentScope = (typeof CONSENT_SCOPES)[number];

/** The longest API key accepted: Klaviyo's and Mailchimp's are well under 100 characters. */
export const MAX_API_KEY_LENGTH = 200;

export interface DestinationRunView {
  kind: string;
  status: string;
  total: number | null;
  compared: number;
  sent: number;
  failed: number;
  leftOut: number;
  error: string | null;
  startedAtIso: string;
  finishedAtIso: string | null;
}

export interface DestinationCardData {
  kind: DestinationKindName;
  label: string;
  connected: boolean;
  /** 'active' | 'paused'; null when not connected. */
  status: string | null;
  notice: string | null;
  /** Paused because the Mailchimp audience is missing or was deleted (not the key): choosing an audience resumes it. */
  pausedForSetup: boolean;
  /** The account's name as the tool reported it, when it did. */
  accountName: string | null;
  /** Mailchimp: the audience chosen (id and name), null before the choice. */
  audience: { id: string; name: string | null } | null;
  consentScope: ConsentScope;
  segments: { key: string; name: string; remoteName: string | null }[];
  lastRun: DestinationRunView | null;
  /** The newest first or full sync that ended (its sent, failed and left out cover every customer). */
  lastFullRun: DestinationRunView | null;
  runningRun: DestinationRunView | null;
  /** At most countCap + 1 (shown as "1,000+"). */
  pendingChanges: number;
  pendingErasures: number;
  failures: { email: string | null; reason: string; atIso: string }[];
  connectedAtIso: string | null;
  /**
   * Mailchimp, connected: the audiences to choose from (read from Mailchimp when no audience
   * is chosen yet, or the merchant asked to change it); null when not read.
   */
  audiences: { id: string; name: string; memberCount: number }[] | null;
  /** Why the audiences could not be read, in the merchant's words. */
  audiencesError: string | null;
}

/** One email tool a segment is synced to, as the segment page's "Synced to" shows it. */
export interface SegmentDestinationView {
  kind: string;
  /** 'active' | 'paused' */
  status: string;
  notice: string | null;
  /** The list (Klaviyo) or tag (Mailchimp) name once created. */
  remoteName: string | null;
  /** When the newest completed pass ended. */
  lastSentAtIso: string | null;
  /** A pass is running now. */
  running: boolean;
}

export interface SegmentChoice {
  key: string;
  name: string;
}

export interface IntegrationsPageData {
  shop: string;
  destinations: DestinationCardData[];
  segmentChoices: { rfm: SegmentChoice[]; behaviour: SegmentChoice[] };
  countCap: number;
}

/** What the page's forms ask for, checked. */
export type IntegrationsCommand =
  | { intent: "connect"; kind: DestinationKindName; apiKey: string }
  | { intent: "audience"; kind: "mailchimp"; audienceId: string }
  | { intent: "segments"; kind: DestinationKindName; segmentKeys: string[] }
  | { intent: "consent"; kind: DestinationKindName; scope: ConsentScope }
  | { intent: "sync"; kind: DestinationKindName }
  | { intent: "disconnect"; kind: DestinationKindName };

export type IntegrationsIntent = IntegrationsCommand["intent"];
const INTENTS: readonly IntegrationsIntent[] = ["connect", "audience", "segments", "consent", "sync", "disconnect"];

export type IntegrationsActionResult =
  | {
      ok: true;
      intent: IntegrationsIntent;
      kind: DestinationKindName;
      message: string;
      /** The server's clock when the action began: a sync pass it asked for starts after it. */
      atIso: string;
    }
  | {
      ok: false;
      intent: IntegrationsIntent | null;
      kind: DestinationKindName | null;
      message: string;
      /** Scopes the key lacks (connect), in the tool's names. */
      missingScopes?: string[];
      /** The form field the message belongs to. */
      field?: "apiKey" | "audienceId" | "segments" | "scope";
    };

export type ParsedIntegrationsForm = { ok: true; command: IntegrationsCommand } | { ok: false; result: Extract<IntegrationsActionResult, { ok: false }> };

/** The form's values: FormData, or a plain reader in tests. */
export interface FormValues {
  get(name: string): FormDataEntryValue | null;
  getAll(name: string): FormDataEntryValue[];
}

const text = (value: FormDataEntryValue | null): string | null => (typeof value === "string" ? value : null);

/**
 * Checks a submission of the Integrations page against what can be done. `segmentKeys`:
 * every segment key a destination may receive (RFM and behavioural).
 */
export function parseIntegrationsForm(form: FormValues, segmentKeys: ReadonlySet<string>): ParsedIntegrationsForm {
  const refuse = (message: string, extra: Partial<Extract<IntegrationsActionResult, { ok: false }>> = {}): ParsedIntegrationsForm => ({
    ok: false,
    result: { ok: false, intent: null, kind: null, message, ...extra },
  });
  const intentText = text(form.get("intent"));
  const intent = INTENTS.find((known) => known === intentText);
  if (!intent) return refuse(`Unknown action${intentText ? ` "${intentText.slice(0, 30)}"` : ""}: reload the page and try again.`);
  const kindText = text(form.get("kind"));
  const kind = DESTINATION_KINDS.find((known) => known === kindText);
  if (!kind) return refuse(`"${(kindText ?? "").slice(0, 30)}" is not an email tool Tenure connects to: choose Klaviyo or Mailchimp.`, { intent });
  const base = { intent, kind };

  switch (intent) {
    case "connect": {
      const apiKey = (text(form.get("apiKey")) ?? "").trim();
      if (apiKey === "") {
        return refuse(`Paste your ${DESTINATION_LABELS[kind]} ${kind === "klaviyo" ? "private API key" : "API key"} to connect.`, { ...base, field: "apiKey" });
      }
      if (apiKey.length > MAX_API_KEY_LENGTH || /\s/.test(apiKey)) {
        return refuse(`That does not look like a ${DESTINATION_LABELS[kind]} API key: a key is one word of letters, digits and dashes. Copy it again.`, { ...base, field: "apiKey" });
      }
      return { ok: true, command: { intent, kind, apiKey } };
    }
    case "audience": {
      if (kind !== "mailchimp") return refuse("Only Mailchimp has audiences to choose.", base);
      const audienceId = (text(form.get("audienceId")) ?? "").trim();
      if (audienceId === "" || audienceId.length > 100) return refuse("Choose the audience Tenure's tags go to.", { ...base, field: "audienceId" });
      return { ok: true, command: { intent, kind, audienceId } };
    }
    case "segments": {
      const chosen = form.getAll("segment").map((value) => (typeof value === "string" ? value.trim() : ""));
      const unknown = chosen.filter((key) => !segmentKeys.has(key));
      if (unknown.length > 0) {
        return refuse(`${unknown.map((key) => `"${key.slice(0, 40)}"`).join(", ")} ${unknown.length === 1 ? "is not a segment" : "are not segments"}: nothing was changed. Reload the page and choose again.`, {
          ...base,
          field: "segments",
        });
      }
      return { ok: true, command: { intent, kind, segmentKeys: [...new Set(chosen)] } };
    }
    case "consent": {
      const scopeText = text(form.get("scope"));
      const scope = CONSENT_SCOPES.find((known) => known === scopeText);
      if (!scope) return refuse(`"${(scopeText ?? "").slice(0, 30)}" is not a choice: send only customers subscribed to email marketing, or everyone.`, { ...base, field: "scope" });
      return { ok: true, command: { intent, kind, scope } };
    }
    case "sync":
    case "disconnect":
      return { ok: true, command: { intent, kind } };
  }
}

/**
 * Whether the sync pass an action asked for has shown up: a pass of that destination that
 * started after the action (a full one for choices that compare everyone; connect asks for
 * the changes waiting). Both instants are the server's.
 */
export function requestedRunSeen(destination: { kind: string; lastRun: DestinationRunView | null; runningRun: DestinationRunView | null }, request: { kind: string; intent: IntegrationsIntent; atIso: string }): boolean {
  if (destination.kind !== request.kind) return false;
  const wantsFull = request.intent !== "connect";
  return [destination.runningRun, destination.lastRun].some(
    (run) => run !== null && Date.parse(run.startedAtIso) >= Date.parse(request.atIso) && (!wantsFull || run.kind !== "changes"),
  );
}

/** Runs that show a progress bar: the first pass of a segment and full comparisons. */
export function showsProgress(run: DestinationRunView | null): boolean {
  return run !== null && run.status === "running" && (run.kind === "initial" || run.kind === "full");
}
