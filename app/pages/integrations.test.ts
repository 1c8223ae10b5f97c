import { type DestinationRunView, parseIntegrationsForm, requestedRunSeen, showsProgress } from "./integrations";

// The Integrations page's form check (pure): what each action needs, refused with a reason
// the merchant can act on; and how the page knows the pass it asked for has shown up.

const KEYS = new Set(["champions", "vip"]);

function form(fields: Record<string, string | string[]>) {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) for (const item of Array.isArray(value) ? value : [value]) data.append(name, item);
  return data;
}

describe("parseIntegrationsForm", () => {
  it("reads each action", () => {
    expect(parseIntegrationsForm(form({ intent: "connect", kind: "klaviyo", apiKey: "  pk_abc  " }), KEYS)).toEqual({
      ok: true,
      command: { intent: "connect", kind: "klaviyo", apiKey: "pk_abc" },
    });
    expect(parseIntegrationsForm(form({ intent: "segments", kind: "mailchimp", segment: ["vip", "champions", "vip"] }), KEYS)).toEqual({
      ok: true,
      command: { intent: "segments", kind: "mailchimp", segmentKeys: ["vip", "champions"] },
    });
    expect(parseIntegrationsForm(form({ intent: "segments", kind: "klaviyo" }), KEYS)).toEqual({ ok: true, command: { intent: "segments", kind: "klaviyo", segmentKeys: [] } });
    expect(parseIntegrationsForm(form({ intent: "consent", kind: "klaviyo", scope: "all" }), KEYS)).toEqual({ ok: true, command: { intent: "consent", kind: "klaviyo", scope: "all" } });
    expect(parseIntegrationsForm(form({ intent: "audience", kind: "mailchimp", audienceId: "a1" }), KEYS)).toEqual({
      ok: true,
      command: { intent: "audience", kind: "mailchimp", audienceId: "a1" },
    });
    expect(parseIntegrationsForm(form({ intent: "disconnect", kind: "mailchimp" }), KEYS)).toEqual({ ok: true, command: { intent: "disconnect", kind: "mailchimp" } });
  });

  it("refuses what cannot be done, saying why, without echoing a key", () => {
    const message = (fields: Record<string, string | string[]>) => {
      const parsed = parseIntegrationsForm(form(fields), KEYS);
      if (parsed.ok) throw new Error("accepted");
      return parsed.result.message;
    };
    expect(message({})).toBe("Unknown action: reload the page and try again.");
    expect(message({ intent: "connect" })).toMatch(/is not an email tool Tenure connects to/);
    expect(message({ intent: "connect", kind: "mailchimp" })).toBe("Paste your Mailchimp API key to connect.");
    expect(message({ intent: "connect", kind: "klaviyo", apiKey: "x".repeat(201) })).toMatch(/does not look like a Klaviyo API key/);
    expect(message({ intent: "connect", kind: "klaviyo", apiKey: "pk_secret value" })).not.toContain("secret");
    expect(message({ intent: "segments", kind: "klaviyo", segment: ["champions", "nope"] })).toMatch(/^"nope" is not a segment: nothing was changed/);
    expect(message({ intent: "consent", kind: "klaviyo" })).toMatch(/is not a choice/);
    expect(message({ intent: "audience", kind: "mailchimp", audienceId: " " })).toBe("Choose the audience Tenure's tags go to.");
  });
});

const run = (kind: string, startedAtIso: string, status = "running"): DestinationRunView => ({
  kind,
  status,
  total: 10,
  compared: 2,
  sent: 1,
  failed: 0,
  leftOut: 0,
  error: null,
  startedAtIso,
  finishedAtIso: null,
});

describe("requestedRunSeen", () => {
  const request = { kind: "klaviyo", intent: "segments" as const, atIso: "2026-12-06T10:00:00.000Z" };
  it("waits for a full pass started after the action; a changes pass or an older pass is not it", () => {
    const destination = (runs: { lastRun?: DestinationRunView; runningRun?: DestinationRunView }) => ({ kind: "klaviyo", lastRun: runs.lastRun ?? null, runningRun: runs.runningRun ?? null });
    expect(requestedRunSeen(destination({ runningRun: run("initial", "2026-12-06T10:00:01.000Z") }), request)).toBe(true);
    expect(requestedRunSeen(destination({ lastRun: run("full", "2026-12-06T10:00:02.000Z", "done") }), request)).toBe(true);
    expect(requestedRunSeen(destination({ runningRun: run("changes", "2026-12-06T10:00:01.000Z") }), request)).toBe(false);
    expect(requestedRunSeen(destination({ lastRun: run("initial", "2026-12-06T09:59:59.000Z", "done") }), request)).toBe(false);
    expect(requestedRunSeen(destination({ runningRun: run("changes", "2026-12-06T10:00:01.000Z") }), { ...request, intent: "connect" })).toBe(true);
    expect(requestedRunSeen({ ...destination({ runningRun: run("full", "2026-12-06T10:00:01.000Z") }), kind: "mailchimp" }, request)).toBe(false);
  });

  it("shows a progress bar for running first and full syncs only", () => {
    expect(showsProgress(run("initial", request.atIso))).toBe(true);
    expect(showsProgress(run("full", request.atIso))).toBe(true);
    expect(showsProgress(run("changes", request.atIso))).toBe(false);
    expect(showsProgress(run("full", request.atIso, "done"))).toBe(false);
    expect(showsProgress(null)).toBe(false);
  });
});
