import type pg from "pg";
import { ALL_SEGMENT_KEYS as SEGMENT_KEYS } from "~/analytics/segments";
import {
  countErasures,
  deleteDestination,
  forgetDestinationMembers,
  mergeDestinationAccount,
  readShopDestination,
  replaceDestinationSegments,
  resumeDestination,
  setDestinationConsentScope,
  upsertDestination,
  wantFullPass,
} from "~/data/destinations.server";
import { pgTransaction } from "~/db/pg.server";
import { errorMessage } from "~/lib/log.server";
import { type DestinationJob } from "~/queues/contract";
import { enqueueDestination } from "~/queues/enqueue.server";
import { DESTINATION_KINDS, type DestinationKind } from "./adapter";
import { type Audience, mailchimpAudiences, verifyKey } from "./adapters.server";
import { SecretError, destinationSecretContext, openSecret, sealSecret } from "./secrets.server";
import { DestinationBusyError, runErasurePass } from "./sync.server";

// What the Destinations page does to a shop's email tools: connect with a key (checked by a
// real call, then sealed), choose the Mailchimp audience, the segments and the consent
// scope, ask for a sync, disconnect. No function here returns the API key: the page only
// ever gets the account's public facts (read by app/data/destination-status.server.ts).

/** A refusal the page shows as it is (bad input, a kind that is not connected). Nothing was written. */
export class DestinationRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DestinationRequestError";
  }
}

export type ConnectOutcome = { ok: true } | { ok: false; reason: string; missingScopes?: string[] };

function checkedKind(kind: string): DestinationKind {
  if (!DESTINATION_KINDS.includes(kind as DestinationKind)) throw new DestinationRequestError(`"${kind}" is not an email tool Tenure syncs to (${DESTINATION_KINDS.join(", ")})`);
  return kind as DestinationKind;
}

async function connected(pool: pg.Pool, shop: string, kind: DestinationKind) {
  const destination = await readShopDestination(pool, shop, kind);
  if (!destination) throw new DestinationRequestError(`${kind} is not connected for ${shop}`);
  return destination;
}

/**
 * Asks for a pass; Redis being down is reported to the caller. A full pass is also recorded
 * on the destination (wantFullPass, with the change that needs it), so the sweep asks for it
 * again whatever becomes of this job.
 */
async function enqueue(job: DestinationJob): Promise<void> {
  await enqueueDestination(job);
}

/**
 * Connects (or reconnects) an email tool: the key is checked with a real call; on success it
 * is sealed and stored with the account's public facts, the destination is active (a
 * reconnect un-pauses it) and a pass of the waiting changes is queued. On failure nothing
 * is stored and the reason (and missing scopes) come back.
 */
export async function connectDestination(pool: pg.Pool, shop: string, kind: string, input: { apiKey: string }): Promise<ConnectOutcome> {
  const checked = checkedKind(kind);
  const apiKey = input.apiKey.trim();
  if (apiKey === "") return { ok: false, reason: "Paste an API key: the field is empty." };
  const verification = await verifyKey(checked, apiKey);
  if (!verification.ok) return { ok: false, reason: verification.reason, missingScopes: verification.missingScopes };
  let sealed: string;
  try {
    sealed = sealSecret(apiKey, destinationSecretContext(shop, checked));
  } catch (error) {
    // The server cannot store keys (TENURE_ENCRYPTION_KEY unset): said, nothing stored.
    if (error instanceof SecretError) return { ok: false, reason: `Tenure cannot store API keys on this server: ${error.message}` };
    throw error;
  }
  // A (re)connected destination compares everyone: while it was paused or disconnected, a
  // full pass it was asked for may not have run.
  const destination = await pgTransaction(pool, async (_tx, client) => {
    const row = await upsertDestination(client, { shop, kind: checked, sealedCredentials: sealed, account: verification.account });
    await wantFullPass(client, row.id, "settings");
    return row;
  });
  await enqueue({ task: "changes", destinationId: destination.id });
  await enqueue({ task: "erase", destinationId: destination.id });
  await enqueue({ task: "full", destinationId: destination.id, reason: "settings" });
  return { ok: true };
}

/** The connected Mailchimp account's audiences (one call to Mailchimp). */
export async function listAudiences(pool: pg.Pool, shop: string): Promise<Audience[]> {
  const destination = await connected(pool, shop, "mailchimp");
  const { plaintext } = openSecret(destination.sealedCredentials, destinationSecretContext(shop, "mailchimp"));
  return mailchimpAudiences(plaintext);
}

/**
 * Chooses the Mailchimp audience Tenure's tags go to. Another audience than before holds
 * nothing Tenure sent: members are forgotten and a full pass sends everyone there. Redacted
 * customers still waiting to be deleted are deleted from the audience they were in first
 * (their erasure rows carry no audience); if Mailchimp cannot confirm that now, the audience
 * stays as it was and the merchant is asked to try again. A destination paused because its
 * audience was missing or deleted is active again.
 */
export async function chooseAudience(pool: pg.Pool, shop: string, audienceId: string): Promise<void> {
  const destination = await connected(pool, shop, "mailchimp");
  const audience = (await listAudiences(pool, shop)).find((a) => a.id === audienceId);
  if (!audience) throw new DestinationRequestError(`Mailchimp has no audience "${audienceId}" for this key`);
  const pausedForSetup = destination.status === "paused" && destination.account.pausedFor === "setup";
  if (destination.account.audienceId === audience.id) {
    if (pausedForSetup) {
      await pgTransaction(pool, async (_tx, client) => {
        await resumeDestination(client, destination.id);
        await wantFullPass(client, destination.id, "settings");
      });
      await enqueue({ task: "changes", destinationId: destination.id });
      await enqueue({ task: "erase", destinationId: destination.id });
      await enqueue({ task: "full", destinationId: destination.id, reason: "settings" });
    }
    return;
  }
  // An audience paused for setup is gone (or was never chosen): its erasures have nowhere
  // to run and stay for the new audience, where deleting the address is still the redaction.
  const previous = destination.account.audienceId;
  if (typeof previous === "string" && destination.status === "active" && (await countErasures(pool, destination.id)) > 0) {
    await eraseFromAudience(pool, destination.id, previous);
  }
  await pgTransaction(pool, async (_tx, client) => {
    await mergeDestinationAccount(client, destination.id, { audienceId: audience.id, audienceName: audience.name });
    await forgetDestinationMembers(client, destination.id);
    if (pausedForSetup) await resumeDestination(client, destination.id);
    await wantFullPass(client, destination.id, "initial");
  });
  await enqueue({ task: "full", destinationId: destination.id, reason: "initial" });
}

/** The pending erasures run against the audience they belong to, or the audience change is refused (nothing changed). */
async function eraseFromAudience(pool: pg.Pool, destinationId: string, audienceId: string): Promise<void> {
  const retry = `Tenure must first delete redacted customers from the audience ${audienceId}, and Mailchimp did not confirm it`;
  let status: string;
  try {
    ({ status } = await runErasurePass({ pool }, destinationId));
  } catch (error) {
    // No final period: the page adds ". Nothing was changed."
    if (error instanceof DestinationBusyError) throw new DestinationRequestError(`A sync is running: choose the audience again in a minute (${retry})`);
    throw new DestinationRequestError(`${retry} (${errorMessage(error)}): try again in a minute`);
  }
  if (status !== "done" || (await countErasures(pool, destinationId)) > 0) {
    throw new DestinationRequestError(`${retry}: try again in a minute`);
  }
}

/**
 * The segments a destination receives. Added segments get an initial full pass (their
 * lists created, their customers sent); removed ones a full pass too (their members leave
 * the lists). Unknown keys are refused and nothing changes.
 */
export async function setDestinationSegments(pool: pg.Pool, shop: string, kind: string, segmentKeys: readonly string[]): Promise<{ added: string[]; removed: string[] }> {
  const unknown = segmentKeys.filter((key) => !SEGMENT_KEYS.has(key));
  if (unknown.length > 0) throw new DestinationRequestError(`unknown segment ${unknown.map((k) => `"${k}"`).join(", ")}`);
  const destination = await connected(pool, shop, checkedKind(kind));
  const change = await pgTransaction(pool, async (_tx, client) => {
    const replaced = await replaceDestinationSegments(client, destination.id, [...new Set(segmentKeys)]);
    if (replaced.added.length > 0 || replaced.removed.length > 0) await wantFullPass(client, destination.id, replaced.added.length > 0 ? "initial" : "settings");
    return replaced;
  });
  if (change.added.length > 0) await enqueue({ task: "full", destinationId: destination.id, reason: "initial" });
  else if (change.removed.length > 0) await enqueue({ task: "full", destinationId: destination.id, reason: "settings" });
  return change;
}

/** Who is sent: subscribed customers only (default) or everyone in the chosen segments. A change compares everyone again. */
export async function setConsentScope(pool: pg.Pool, shop: string, kind: string, scope: "subscribed" | "all"): Promise<void> {
  if (scope !== "subscribed" && scope !== "all") throw new DestinationRequestError(`consent scope must be "subscribed" or "all", not "${String(scope)}"`);
  const destination = await connected(pool, shop, checkedKind(kind));
  if (destination.consentScope === scope) return;
  await pgTransaction(pool, async (_tx, client) => {
    await setDestinationConsentScope(client, destination.id, scope);
    await wantFullPass(client, destination.id, "settings");
  });
  await enqueue({ task: "full", destinationId: destination.id, reason: "settings" });
}

/** "Sync now": every customer compared with what the destination holds. */
export async function requestSync(pool: pg.Pool, shop: string, kind: string): Promise<void> {
  const destination = await connected(pool, shop, checkedKind(kind));
  await wantFullPass(pool, destination.id, "manual");
  await enqueue({ task: "full", destinationId: destination.id, reason: "manual" });
}

/**
 * Stops the sync and deletes the key (and what Tenure recorded of the destination). The
 * tool's lists stay. Refused while redacted customers are still to be deleted from the tool:
 * disconnecting would drop those requests, so they run first (asked for here) and the
 * merchant disconnects once they are done.
 */
export async function disconnectDestination(pool: pg.Pool, shop: string, kind: string): Promise<void> {
  const checked = checkedKind(kind);
  const destination = await readShopDestination(pool, shop, checked);
  if (!destination) return;
  const pending = await countErasures(pool, destination.id);
  if (pending > 0) {
    await enqueue({ task: "erase", destinationId: destination.id }).catch(() => {});
    const label = checked === "klaviyo" ? "Klaviyo" : "Mailchimp";
    const waiting = destination.status === "paused" ? "sync is paused: resume it (see its notice) so they can run, then disconnect" : "try again in a few minutes";
    // No final period: the page adds ". Nothing was changed."
    throw new DestinationRequestError(
      `Tenure must first delete ${pending} redacted customer${pending === 1 ? "" : "s"} from ${label} (customers who asked the shop to forget them), and ${label} has not confirmed it yet: ${waiting}`,
    );
  }
  await deleteDestination(pool, destination.id);
}
