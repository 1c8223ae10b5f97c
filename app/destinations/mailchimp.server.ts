import { createHash } from "node:crypto";
import {
  type AdapterOptions,
  type DestinationAdapter,
  DestinationAuthError,
  DestinationRetryableError,
  type DestinationProfile,
  type ErasureTarget,
  type MemberChange,
  type MemberOutcome,
  type SegmentTarget,
  type Verification,
} from "./adapter";
import { TENURE_MERGE_FIELDS, tenureMergeFieldValues } from "~/display/mailchimp-merge-fields";
import { type JsonResponse, errorDetail, requestJson } from "./http.server";

// The Mailchimp adapter (Marketing API 3.0; docs/destinations/mailchimp.md). One audience
// per destination. Members are upserted 500 per request through the batch members endpoint
// (POST /lists/{id}), in two groups by Shopify consent:
// - subscribed in Shopify: `update_existing: true` with status `subscribed`, so new members
//   are created subscribed and existing ones get their merge fields and become subscribed
//   (a transactional or pending member's consent given in Shopify reaches Mailchimp).
//   Mailchimp refuses to subscribe a member who unsubscribed or was cleaned there (a
//   per-member "compliance state" error); those get their merge fields by a PATCH without a
//   status, so Mailchimp's unsubscribe or clean always wins.
// - not subscribed (synced only when the merchant chose everyone): `update_existing: false`
//   with status `transactional`, because the batch endpoint applies the status it is sent to
//   existing members and would turn a subscriber transactional; the members it reports as
//   existing get their merge fields by a PATCH without a status.
// Tenure never downgrades or unsubscribes anyone. Each Tenure segment is a tag, which in
// Mailchimp is a static segment: one request per segment adds and removes up to 500 members
// at once (the per-member tags endpoint would take one request per member). Mailchimp
// limits a key to 10 simultaneous connections, so every request here waits for one of 10
// places per key in this process.

export const MAILCHIMP_BATCH_SIZE = 500;
/** Mailchimp answers 429 past 10 simultaneous connections per API key. */
export const MAILCHIMP_MAX_CONNECTIONS = 10;

/** Tenure's merge fields (tag, name, type, value): app/display/mailchimp-merge-fields.ts, shared with the export's Mailchimp preset. */
export { TENURE_MERGE_FIELDS };

export interface MailchimpAudience {
  id: string;
  name: string;
  memberCount: number;
}

// ------------------------------------------------------------------ keys and hosts

/** The data centre a key ends with ("…-us21" → "us21"), or null when the key has none. */
export function mailchimpDataCentre(apiKey: string): string | null {
  const match = /^[A-Za-z0-9]+-([a-z]{2,}[0-9]+)$/.exec(apiKey.trim());
  return match ? match[1] : null;
}

/** Mailchimp's member id: the MD5 of the lowercase email. */
export function subscriberHash(email: string): string {
  return createHash("md5").update(email.trim().toLowerCase()).digest("hex");
}

/** The status Tenure sends: subscribed only when Shopify says so (new and existing members); everyone else transactional (new members only). */
export function statusFromConsent(profile: Pick<DestinationProfile, "emailConsentState">): "subscribed" | "transactional" {
  return profile.emailConsentState === "SUBSCRIBED" ? "subscribed" : "transactional";
}

/** Tenure's figures as merge field values; "" clears a figure Tenure no longer has. */
export function tenureMergeFields(profile: DestinationProfile): Record<string, string | number> {
  const { properties } = profile;
  const fields = tenureMergeFieldValues(properties);
  // Names only when Shopify has them: an empty one would wipe what the merchant typed in Mailchimp.
  if (profile.firstName) fields.FNAME = profile.firstName;
  if (profile.lastName) fields.LNAME = profile.lastName;
  return fields;
}

// ------------------------------------------------------------------ the connection cap

/** At most `size` holders at once; the rest wait in order. */
class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly size: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active += 1;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }
}

// One cap per key for the whole process: two passes of the same account share the 10 places.
const capsByKey = new Map<string, Semaphore>();

function capFor(apiKey: string): Semaphore {
  const id = createHash("sha256").update(apiKey).digest("hex");
  let cap = capsByKey.get(id);
  if (!cap) {
    cap = new Semaphore(MAILCHIMP_MAX_CONNECTIONS);
    capsByKey.set(id, cap);
  }
  return cap;
}

// ------------------------------------------------------------------ the client

interface Client {
  request<T>(method: string, path: string, body?: unknown): Promise<JsonResponse<T>>;
}

function client(apiKey: string, options: AdapterOptions): Client {
  const dc = mailchimpDataCentre(apiKey);
  if (!dc) throw new DestinationAuthError(MISSING_DC);
  const base = `${(options.baseUrl ?? `https://${dc}.api.mailchimp.com`).replace(/\/+$/, "")}/3.0`;
  const authorization = `Basic ${Buffer.from(`tenure:${apiKey.trim()}`).toString("base64")}`;
  const cap = capFor(apiKey.trim());
  return {
    request: <T>(method: string, path: string, body?: unknown) =>
      cap.run(() =>
        requestJson<T>(`${base}${path}`, {
          method,
          headers: { authorization, accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
          body: body === undefined ? undefined : JSON.stringify(body),
          fetch: options.fetch,
          timeoutMs: options.timeoutMs,
        }),
      ),
  };
}

const MISSING_DC =
  "A Mailchimp API key ends with its data centre, like …-us21, and this one has none: copy the whole key from Mailchimp (Profile → Extras → API keys).";

const NO_AUDIENCE = "No Mailchimp audience is chosen for Tenure's tags: choose one in Integrations and the sync resumes.";

/** A refusal of our own request (4xx other than auth and 429): a bug or a changed audience, never retried blindly. */
function unexpected(what: string, response: JsonResponse<unknown>): Error {
  return new Error(`Mailchimp refused ${what} (${response.status}): ${errorDetail(response.body) ?? "no detail"}`);
}

// ------------------------------------------------------------------ connecting

/** Checks a key with a real call: the key's format first, then the account root. */
export async function verifyMailchimpKey(apiKey: string, options: AdapterOptions = {}): Promise<Verification> {
  const dc = mailchimpDataCentre(apiKey);
  if (!dc) return { ok: false, reason: MISSING_DC };
  try {
    const response = await client(apiKey, options).request<{ account_id?: string; account_name?: string }>(
      "GET",
      "/?fields=account_id,account_name",
    );
    if (response.status !== 200 || !response.body) {
      return { ok: false, reason: `Mailchimp answered ${response.status}: ${errorDetail(response.body) ?? "no detail"}` };
    }
    return { ok: true, account: { dc, accountId: response.body.account_id ?? null, accountName: response.body.account_name ?? null } };
  } catch (error) {
    if (error instanceof DestinationAuthError) return { ok: false, reason: `Mailchimp refused the key: ${error.message}` };
    if (error instanceof DestinationRetryableError) {
      return { ok: false, reason: `Mailchimp did not answer (${error.message}); try again in a minute.` };
    }
    throw error;
  }
}

/** The account's audiences, for the merchant to choose one. */
export async function listMailchimpAudiences(apiKey: string, options: AdapterOptions = {}): Promise<MailchimpAudience[]> {
  const api = client(apiKey, options);
  const audiences: MailchimpAudience[] = [];
  const count = 1000;
  for (let offset = 0; ; offset += count) {
    const response = await api.request<{ lists: { id: string; name: string; stats?: { member_count?: number } }[]; total_items: number }>(
      "GET",
      `/lists?count=${count}&offset=${offset}&fields=lists.id,lists.name,lists.stats.member_count,total_items`,
    );
    if (response.status !== 200 || !response.body) throw unexpected("the audience list", response);
    for (const list of response.body.lists) audiences.push({ id: list.id, name: list.name, memberCount: list.stats?.member_count ?? 0 });
    if (response.body.lists.length < count || audiences.length >= response.body.total_items) return audiences;
  }
}

// ------------------------------------------------------------------ the adapter

interface BatchResponse {
  new_members?: { email_address: string; id: string }[];
  updated_members?: { email_address: string; id: string }[];
  errors?: { email_address: string; error: string; error_code?: string; field?: string; field_message?: string }[];
}

interface SegmentBatchResponse {
  errors?: { email_addresses: string[]; error: string }[];
}

/** `account` is the stored destination account: verifyMailchimpKey's facts plus the chosen `audienceId`. */
export function mailchimpAdapter(apiKey: string, account: Record<string, unknown>, options: AdapterOptions = {}): DestinationAdapter {
  const audienceId = typeof account.audienceId === "string" && account.audienceId !== "" ? account.audienceId : null;
  // A destination that cannot work without the merchant (no audience chosen, a key without
  // its data centre) refuses every call with DestinationAuthError: the engine pauses it with
  // the reason as its notice, rather than retrying a pass that cannot succeed.
  const refusal = !audienceId ? new DestinationAuthError(NO_AUDIENCE, "setup") : mailchimpDataCentre(apiKey) ? null : new DestinationAuthError(MISSING_DC);
  const api: Client = refusal ? { request: () => Promise.reject(refusal) } : client(apiKey, options);
  const list = `/lists/${encodeURIComponent(audienceId ?? "")}`;
  let mergeFieldsReady: Promise<void> | null = null;

  const audienceGone = (response: JsonResponse<unknown>) =>
    new DestinationAuthError(
      `The Mailchimp audience ${audienceId} no longer exists (${errorDetail(response.body) ?? response.status}): choose another audience.`,
      "setup",
    );

  async function createMissingMergeFields(): Promise<void> {
    const response = await api.request<{ merge_fields: { tag: string }[] }>("GET", `${list}/merge-fields?count=1000&fields=merge_fields.tag`);
    if (response.status === 404) throw audienceGone(response);
    if (response.status !== 200 || !response.body) throw unexpected("the merge field list", response);
    const present = new Set(response.body.merge_fields.map((field) => field.tag));
    for (const field of TENURE_MERGE_FIELDS) {
      if (present.has(field.tag)) continue;
      const created = await api.request("POST", `${list}/merge-fields`, {
        tag: field.tag,
        name: field.name,
        type: field.type,
        required: false,
        public: false,
        // A date field keeps Mailchimp's default display format; values are sent as YYYY-MM-DD.
      });
      // 400 "already exists": an earlier try landed though its answer was lost (a timeout).
      if (created.status === 400 && /already exists/i.test(errorDetail(created.body) ?? "")) continue;
      if (created.status !== 200) throw unexpected(`the merge field ${field.tag}`, created);
    }
  }

  /** Once per adapter: the fields are checked (and created) before the first push. */
  function ensureMergeFields(): Promise<void> {
    mergeFieldsReady ??= createMissingMergeFields().catch((error: unknown) => {
      mergeFieldsReady = null; // the next push tries again
      throw error;
    });
    return mergeFieldsReady;
  }

  async function staticSegmentsByName(): Promise<Map<string, string>> {
    const byName = new Map<string, string>();
    const count = 1000;
    for (let offset = 0; ; offset += count) {
      const response = await api.request<{ segments: { id: number; name: string }[]; total_items: number }>(
        "GET",
        `${list}/segments?type=static&count=${count}&offset=${offset}&fields=segments.id,segments.name,total_items`,
      );
      if (response.status === 404) throw audienceGone(response);
      if (response.status !== 200 || !response.body) throw unexpected("the tag list", response);
      for (const segment of response.body.segments) if (!byName.has(segment.name)) byName.set(segment.name, String(segment.id));
      if (response.body.segments.length < count || offset + count >= response.body.total_items) return byName;
    }
  }

  async function ensureTargets(targets: readonly SegmentTarget[]): Promise<Map<string, string>> {
    const ids = new Map<string, string>();
    let byName: Map<string, string> | null = null;
    for (const target of targets) {
      if (target.remoteId !== null) {
        const found = await api.request<{ id: number; name: string }>("GET", `${list}/segments/${encodeURIComponent(target.remoteId)}?fields=id,name`);
        if (found.status === 200 && found.body) {
          // The merchant renamed the segment in Tenure: the tag follows.
          if (found.body.name !== target.name) {
            const renamed = await api.request("PATCH", `${list}/segments/${encodeURIComponent(target.remoteId)}`, { name: target.name });
            if (renamed.status !== 200) throw unexpected(`renaming the tag "${found.body.name}"`, renamed);
          }
          ids.set(target.segmentKey, target.remoteId);
          continue;
        }
        if (found.status !== 404) throw unexpected(`the tag ${target.remoteId}`, found);
      }
      byName ??= await staticSegmentsByName();
      const existing = byName.get(target.name);
      if (existing) {
        ids.set(target.segmentKey, existing);
        continue;
      }
      const created = await api.request<{ id: number }>("POST", `${list}/segments`, { name: target.name, static_segment: [] });
      if (created.status === 404) throw audienceGone(created);
      if (created.status === 400) {
        // Created by an earlier try whose answer was lost, or by someone meanwhile: find it again.
        const found = (await staticSegmentsByName()).get(target.name);
        if (found) {
          byName.set(target.name, found);
          ids.set(target.segmentKey, found);
          continue;
        }
      }
      if (created.status !== 200 || !created.body) throw unexpected(`creating the tag "${target.name}"`, created);
      const id = String(created.body.id);
      byName.set(target.name, id);
      ids.set(target.segmentKey, id);
    }
    return ids;
  }

  async function push(changes: readonly MemberChange[], targets: ReadonlyMap<string, string>): Promise<MemberOutcome[]> {
    if (changes.length > MAILCHIMP_BATCH_SIZE) throw new Error(`A Mailchimp push takes at most ${MAILCHIMP_BATCH_SIZE} changes (got ${changes.length}).`);
    for (const change of changes) {
      for (const key of [...change.add, ...change.keep, ...change.remove]) {
        if (!targets.has(key)) throw new Error(`The segment "${key}" has no Mailchimp tag: ensureTargets first.`);
      }
    }
    const failed = new Map<string, string>(); // customerId -> Mailchimp's reason

    // Someone who is in no synced segment any more (left them all, unsubscribed, no email)
    // is only untagged: no upsert, so nobody is (re)created in the audience.
    const upserts = changes.filter((change) => change.add.length + change.keep.length > 0);
    if (upserts.length > 0) {
      await ensureMergeFields();
      await upsertMembers(upserts, failed);
    }
    await setTags(changes, targets, failed, await formerAddresses(changes));

    return changes.map((change) => {
      const reason = failed.get(change.profile.customerId);
      return reason === undefined
        ? { customerId: change.profile.customerId, ok: true, remoteProfileId: subscriberHash(change.profile.email) }
        : { customerId: change.profile.customerId, ok: false, reason };
    });
  }

  /**
   * One member per address (two customers sharing an email are one member; Mailchimp refuses
   * the second copy in a request): every change of that address shares its outcome. The
   * subscribed in Shopify go in one batch that updates existing members, the rest in one that
   * only creates (see the header); whoever must keep their Mailchimp status gets a PATCH.
   */
  async function upsertMembers(upserts: readonly MemberChange[], failed: Map<string, string>): Promise<void> {
    const byEmail = groupByEmail(upserts);
    const members = [...byEmail.values()].map((sharing) => sharing[0]);
    const subscribed = members.filter((change) => statusFromConsent(change.profile) === "subscribed");
    const others = members.filter((change) => statusFromConsent(change.profile) !== "subscribed");
    const mergeFieldsOnly: MemberChange[] = []; // who keeps their Mailchimp status
    await settleAll(
      [
        subscribed.length > 0 ? batchUpsert(subscribed, "subscribed", byEmail, failed, mergeFieldsOnly) : null,
        others.length > 0 ? batchUpsert(others, "transactional", byEmail, failed, mergeFieldsOnly) : null,
      ].filter((work): work is Promise<void> => work !== null),
    );
    await updateMergeFieldsOnly(mergeFieldsOnly, byEmail, failed);
  }

  async function batchUpsert(
    members: readonly MemberChange[],
    status: "subscribed" | "transactional",
    byEmail: ReadonlyMap<string, MemberChange[]>,
    failed: Map<string, string>,
    mergeFieldsOnly: MemberChange[],
  ): Promise<void> {
    // Only a subscribe may update existing members: a transactional status sent with
    // update_existing would downgrade a Mailchimp subscriber.
    const updateExisting = status === "subscribed";
    const response = await api.request<BatchResponse>("POST", list, {
      members: members.map((change) => ({ email_address: change.profile.email, status, merge_fields: tenureMergeFields(change.profile) })),
      update_existing: updateExisting,
    });
    if (response.status === 404) throw audienceGone(response);
    if (response.status !== 200 || !response.body) throw unexpected("the batch of members", response);
    for (const error of response.body.errors ?? []) {
      const sharing = byEmail.get(error.email_address.trim().toLowerCase()) ?? [];
      if (sharing.length === 0) continue;
      const keepsItsStatus = updateExisting ? isComplianceRefusal(error) : error.error_code === "ERROR_CONTACT_EXISTS";
      if (keepsItsStatus) mergeFieldsOnly.push(sharing[0]);
      else for (const change of sharing) failed.set(change.profile.customerId, memberReason(error));
    }
  }

  /** Merge fields with no status in the body: the member's subscription stays what it is in Mailchimp. */
  async function updateMergeFieldsOnly(
    members: readonly MemberChange[],
    byEmail: ReadonlyMap<string, MemberChange[]>,
    failed: Map<string, string>,
  ): Promise<void> {
    await settleAll(
      members.map(async (change) => {
        const response = await api.request("PATCH", `${list}/members/${subscriberHash(change.profile.email)}`, {
          merge_fields: tenureMergeFields(change.profile),
        });
        if (response.status === 200) return;
        if (response.status === 404 || response.status === 400) {
          const reason = errorDetail(response.body) ?? `Mailchimp answered ${response.status}`;
          for (const sharing of byEmail.get(change.profile.email.trim().toLowerCase()) ?? [change]) failed.set(sharing.profile.customerId, reason);
          return;
        }
        throw unexpected("a member's update", response);
      }),
    );
  }

  /**
   * The address Mailchimp knew a customer by when it is not their email now (they changed it
   * in Shopify): the earlier sync's member id is the old address's hash. customerId -> old email.
   */
  async function formerAddresses(changes: readonly MemberChange[]): Promise<Map<string, string>> {
    const former = new Map<string, string>();
    const moved = changes.filter(
      (change) => change.remoteProfileId !== null && /^[0-9a-f]{32}$/.test(change.remoteProfileId) && change.remoteProfileId !== subscriberHash(change.profile.email),
    );
    await settleAll(
      moved.map(async (change) => {
        const response = await api.request<{ email_address: string }>("GET", `${list}/members/${change.remoteProfileId}?fields=email_address`);
        if (response.status === 200 && response.body) former.set(change.profile.customerId, response.body.email_address);
        else if (response.status !== 404) throw unexpected("a member's former address", response);
      }),
    );
    return former;
  }

  /** Tags through their static segments: per segment, up to 500 added and 500 removed per request. */
  async function setTags(
    changes: readonly MemberChange[],
    targets: ReadonlyMap<string, string>,
    failed: Map<string, string>,
    former: ReadonlyMap<string, string>,
  ): Promise<void> {
    const byEmail = groupByEmail(changes);
    const work: Promise<void>[] = [];
    for (const [segmentKey, segmentId] of targets) {
      const toAdd: string[] = [];
      const toRemove: string[] = [];
      for (const change of changes) {
        if (failed.has(change.profile.customerId)) continue;
        // Kept memberships are sent again: a tag removed by hand in Mailchimp comes back.
        if (change.add.includes(segmentKey) || change.keep.includes(segmentKey)) toAdd.push(change.profile.email);
        else if (change.remove.includes(segmentKey)) toRemove.push(change.profile.email);
        // The customer's old address carries no Tenure tag any more.
        const formerEmail = former.get(change.profile.customerId);
        if (formerEmail !== undefined) toRemove.push(formerEmail);
      }
      for (let start = 0; start < Math.max(toAdd.length, toRemove.length); start += MAILCHIMP_BATCH_SIZE) {
        const members_to_add = toAdd.slice(start, start + MAILCHIMP_BATCH_SIZE);
        const members_to_remove = toRemove.slice(start, start + MAILCHIMP_BATCH_SIZE);
        work.push(
          (async () => {
            const response = await api.request<SegmentBatchResponse>("POST", `${list}/segments/${encodeURIComponent(segmentId)}`, {
              members_to_add,
              members_to_remove,
            });
            if (response.status === 404) {
              // Deleted in Mailchimp since ensureTargets: the next pass finds or creates it again.
              throw new DestinationRetryableError(`The Mailchimp tag ${segmentId} (${segmentKey}) was deleted during the sync.`);
            }
            if (response.status !== 200 || !response.body) throw unexpected(`the tag ${segmentId}'s members`, response);
            const adding = new Set(members_to_add.map((email) => email.trim().toLowerCase()));
            for (const error of response.body.errors ?? []) {
              for (const email of error.email_addresses) {
                const normalised = email.trim().toLowerCase();
                // A removal that finds nobody to remove is what we wanted; an add that fails is a refusal.
                if (!adding.has(normalised) || /already/i.test(error.error)) continue;
                for (const change of byEmail.get(normalised) ?? []) failed.set(change.profile.customerId, error.error);
              }
            }
          })(),
        );
      }
    }
    await settleAll(work);
  }

  async function erase(people: readonly ErasureTarget[]): Promise<void> {
    await settleAll(
      people.map(async (person) => {
        const hash = person.email ? subscriberHash(person.email) : person.remoteProfileId;
        if (!hash) return;
        const response = await api.request("POST", `${list}/members/${hash}/actions/delete-permanent`);
        // 404: already gone (deleted by hand, or an earlier pass), which is what was asked.
        if (response.status === 204 || response.status === 200 || response.status === 404) return;
        throw unexpected("a permanent deletion", response);
      }),
    );
  }

  return { kind: "mailchimp", batchSize: MAILCHIMP_BATCH_SIZE, ensureTargets, push, erase };
}

function groupByEmail(changes: readonly MemberChange[]): Map<string, MemberChange[]> {
  const byEmail = new Map<string, MemberChange[]>();
  for (const change of changes) {
    const email = change.profile.email.trim().toLowerCase();
    byEmail.set(email, [...(byEmail.get(email) ?? []), change]);
  }
  return byEmail;
}

/**
 * Mailchimp's refusal to subscribe a member who unsubscribed or was cleaned: "<email> is in
 * a compliance state due to unsubscribe, bounce, or compliance review and cannot be
 * subscribed." Its error_code is the catch-all ERROR_GENERIC (the only other code is
 * ERROR_CONTACT_EXISTS), so it is told by its words.
 */
export function isComplianceRefusal(error: { error: string }): boolean {
  return /\bcompliance state\b/i.test(error.error);
}

function memberReason(error: NonNullable<BatchResponse["errors"]>[number]): string {
  return error.field_message ? `${error.error} (${error.field}: ${error.field_message})` : error.error;
}

/** Waits for every request, then throws the first failure (an auth error first): none is left running unobserved. */
async function settleAll(work: readonly Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(work);
  const failures = results.flatMap((result) => (result.status === "rejected" ? [result.reason as unknown] : []));
  if (failures.length === 0) return;
  throw failures.find((failure) => failure instanceof DestinationAuthError) ?? failures[0];
}
