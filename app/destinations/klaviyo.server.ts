// The Klaviyo adapter: HOW Tenure's segments and figures reach a Klaviyo account (the
// engine in sync.server.ts decides WHAT). Plain fetch through http.server.ts (ADR 0017),
// JSON:API documents, the revision header on every request, and a rate limiter per
// endpoint shared by every adapter of the same key in this process.
//
// Profiles are upserted with Bulk Import Profiles jobs (at most 10,000 profiles and 5 MB
// each); a job's list relationship adds its profiles to lists, which does not subscribe
// them (no subscription endpoint is ever called). Removals go through the list's profile
// relationship. Erasure is a data-privacy deletion job per person. docs/destinations/klaviyo.md.

import { createHash } from "node:crypto";
import {
  DestinationAuthError,
  DestinationRetryableError,
  type AdapterOptions,
  type DestinationAdapter,
  type DestinationProfile,
  type ErasureTarget,
  type MemberChange,
  type MemberOutcome,
  type SegmentTarget,
  type Verification,
} from "./adapter";
import { consoleLogger, type Logger } from "~/lib/log.server";
import { errorDetail, requestJson, sleep, slidingWindowLimiter, type JsonResponse, type RateLimiter, type RequestOptions } from "./http.server";

export const KLAVIYO_API_URL = "https://a.klaviyo.com";
/** The API revision Tenure is written against (latest stable when written; docs/destinations/klaviyo.md). */
export const KLAVIYO_REVISION = "2026-10-15";

/** Klaviyo's documented limits per profile-bulk-import-job. */
export const KLAVIYO_IMPORT_MAX_PROFILES = 10_000;
/** 5 MB read as the smaller meaning (5,000,000 bytes), so a job is never refused for size. */
export const KLAVIYO_IMPORT_MAX_BYTES = 5_000_000;
/** Klaviyo refuses a single profile larger than this inside an import job. */
export const KLAVIYO_IMPORT_MAX_PROFILE_BYTES = 100_000;
export const KLAVIYO_REMOVE_MAX_PROFILES = 1_000;
/**
 * Engine batches (one import job each in a full pass) a pass keeps going at once. A job
 * mostly waits (created, processed, polled): 8 going keep close to the 10 creations a
 * second Klaviyo allows even when a job takes most of a second, where 3 waited on each other.
 */
export const KLAVIYO_BATCHES_IN_FLIGHT = 8;
/** The shortest wait before a job's first status read, whatever the last job took. */
const MIN_FIRST_POLL_MS = 50;
/** Page sizes: profiles and import errors allow 100 per page, lists 10. */
const PROFILE_PAGE_SIZE = 100;
const LIST_PAGE_SIZE = 10;

/**
 * Each endpoint's documented limits (x-klaviyo-ratelimit in Klaviyo's OpenAPI, revision
 * 2026-07-15 and later): bursts per second, steady per minute, and create-list's daily cap.
 * Klaviyo counts them per account and endpoint in fixed windows.
 */
export const KLAVIYO_ENDPOINT_LIMITS = {
  "accounts.get": { burst: 1, steady: 15 },
  "lists.get": { burst: 75, steady: 750 },
  "list.get": { burst: 75, steady: 750 },
  "list.update": { burst: 10, steady: 150 },
  "lists.create": { burst: 10, steady: 150, daily: 150 },
  "list-profiles.remove": { burst: 10, steady: 150 },
  "profiles.get": { burst: 75, steady: 750 },
  "bulk-import.create": { burst: 10, steady: 150 },
  "bulk-import.get": { burst: 10, steady: 150 },
  "bulk-import.errors": { burst: 10, steady: 150 },
  "data-privacy-deletion.create": { burst: 3, steady: 60 },
} as const;
export type KlaviyoEndpoint = keyof typeof KLAVIYO_ENDPOINT_LIMITS;

/** The scopes Tenure needs, and how Klaviyo's API-key screen names each. */
export const KLAVIYO_SCOPES = {
  "lists:read": "Lists: Read Access",
  "lists:write": "Lists: Full Access",
  "profiles:read": "Profiles: Read Access",
  "profiles:write": "Profiles: Full Access",
  "data-privacy:write": "Data Privacy: Full Access",
} as const;
export type KlaviyoScope = keyof typeof KLAVIYO_SCOPES;

/**
 * How long an import job took by Klaviyo's own times, or null when they do not say. Times in
 * whole seconds (Klaviyo's documented examples have no fraction) cannot tell 50 ms from 900:
 * then no less than `wholeSecondFloorMs` is taken, so short jobs are not polled every 50 ms.
 */
export function measuredJobMs(createdAt: string | null | undefined, completedAt: string | null | undefined, wholeSecondFloorMs: number): number | null {
  const took = Date.parse(completedAt ?? "") - Date.parse(createdAt ?? "");
  if (!Number.isFinite(took)) return null;
  const subSecond = (time: string) => /\.\d*[1-9]/.test(time);
  return subSecond(createdAt!) || subSecond(completedAt!) ? Math.max(0, took) : Math.max(wholeSecondFloorMs, took);
}

export interface KlaviyoOptions extends AdapterOptions {
  /**
   * Wait before the first status read of an adapter's first import job (default 0.5 s);
   * later jobs' first read waits as long as the last completed job took by Klaviyo's own
   * times (completed_at − created_at). Each further read waits twice the one before, up to
   * maxPollIntervalMs (default 10 s).
   */
  pollIntervalMs?: number;
  maxPollIntervalMs?: number;
  /** How long one push waits for its jobs before giving up with DestinationRetryableError (default 15 min). */
  maxJobWaitMs?: number;
  /** Passed to requestJson: retries after 5xx/timeouts, and the first backoff. */
  retries?: number;
  baseBackoffMs?: number;
  /** Where a deletion Klaviyo refuses for one person is written (default: the workers' log). */
  logger?: Logger;
}

/** The account facts stored with the destination (from GET /api/accounts when the key may read it). */
export interface KlaviyoAccount {
  accountId?: string;
  name?: string;
  [key: string]: unknown;
}

// One set of limiters per key (and API host) in this process: two passes of the same
// account share its budget, as Klaviyo counts it.
const limiterRegistry = new Map<string, Map<KlaviyoEndpoint, RateLimiter>>();

function keyId(baseUrl: string, apiKey: string): string {
  return createHash("sha256").update(`${baseUrl}\n${apiKey}`).digest("hex").slice(0, 16);
}

function limiterFor(id: string, endpoint: KlaviyoEndpoint): RateLimiter {
  let limiters = limiterRegistry.get(id);
  if (!limiters) {
    limiters = new Map();
    limiterRegistry.set(id, limiters);
  }
  let limiter = limiters.get(endpoint);
  if (!limiter) {
    const limits: { burst: number; steady: number; daily?: number } = KLAVIYO_ENDPOINT_LIMITS[endpoint];
    limiter = slidingWindowLimiter([
      { limit: limits.burst, windowMs: 1_000 },
      { limit: limits.steady, windowMs: 60_000 },
      ...(limits.daily ? [{ limit: limits.daily, windowMs: 86_400_000 }] : []),
    ]);
    limiters.set(endpoint, limiter);
  }
  return limiter;
}

// ---------------------------------------------------------------------------------------
// JSON:API shapes Tenure reads (the parts it uses).

interface Resource<A = Record<string, unknown>> {
  type: string;
  id: string;
  attributes: A;
}
interface Document<D> {
  data: D;
  links?: { self?: string; next?: string | null; prev?: string | null };
}
interface ImportJobAttributes {
  status: "queued" | "processing" | "complete" | "cancelled";
  created_at?: string | null;
  completed_at?: string | null;
  total_count: number;
  completed_count?: number | null;
  failed_count?: number | null;
}
interface ImportErrorAttributes {
  code: string;
  title: string;
  detail: string;
  source?: { pointer?: string | null };
  original_payload?: { attributes?: { email?: string; external_id?: string } } | null;
}

/** A profile resource for an import job: Tenure's figures as properties, nulls unset (imports ignore null). */
export function profileResource(profile: DestinationProfile): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  let unset: string[] | null = null;
  // for…in, not Object.entries: no array a property (a full pass writes a million of these).
  const figures = profile.properties as unknown as Record<string, unknown>;
  for (const name in figures) {
    const value = figures[name];
    if (value === null) (unset ??= []).push(name);
    else properties[name] = value;
  }
  const attributes: Record<string, unknown> = { email: profile.email, external_id: profile.customerId };
  if (profile.firstName) attributes.first_name = profile.firstName;
  if (profile.lastName) attributes.last_name = profile.lastName;
  // Klaviyo refuses a phone number that is not E.164; Shopify's may be anything.
  if (profile.phone && isE164(profile.phone)) attributes.phone_number = profile.phone;
  attributes.properties = properties;
  const resource: Record<string, unknown> = { type: "profile", attributes };
  if (unset !== null) resource.meta = { patch_properties: { unset } };
  return resource;
}

/** A profile as an import job carries it (the engine's hash covers this text: DestinationAdapter.profileText). */
export function profileText(profile: DestinationProfile): string {
  return JSON.stringify(profileResource(profile));
}

export function isE164(phone: string): boolean {
  return /^\+[1-9]\d{6,14}$/.test(phone);
}

/** A JSON:API filter string literal (double quotes, backslash-escaped). */
function quoted(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** The import job document up to its first profile (importJobBody's text). */
const IMPORT_JOB_HEAD = `{"data":{"type":"profile-bulk-import-job","attributes":{"profiles":{"data":[`;

/** The import job document after its last profile: the list relationship, if any. */
function importJobTail(listIds: readonly string[]): string {
  const lists = listIds.length > 0 ? `,"relationships":${JSON.stringify({ lists: { data: listIds.map((id) => ({ type: "list", id })) } })}` : "";
  return `]}}${lists}}}`;
}

/**
 * The import job's JSON:API document, from profile resources already serialised: the same
 * text as JSON.stringify of { data: { type, attributes: { profiles: { data } }, relationships } }.
 */
export function importJobBody(profiles: readonly string[], listIds: readonly string[]): string {
  return `${IMPORT_JOB_HEAD}${profiles.join(",")}${importJobTail(listIds)}`;
}

/** A UTF-16 code unit is at most 3 bytes of UTF-8: a string this long or shorter surely fits in `bytes`. */
const surelyFits = (text: string, bytes: number) => text.length * 3 <= bytes;

/** A profile resource's UTF-8 size is over `limit` (measured only when its length cannot tell). */
export function utf8Over(text: string, limit: number): boolean {
  return !surelyFits(text, limit) && Buffer.byteLength(text) > limit;
}

/**
 * Splits profiles into import jobs of at most `maxProfiles` profiles and `maxBytes` bytes
 * of request body (UTF-8), keeping their order, and writes each job's request body
 * (importJobBody's text, for `listIds`) as bytes. Each item comes with its profile
 * resource serialised once (`serialized`): it is encoded once, straight into the body, and
 * measured apart only near a job's size limit (a million profiles measured, joined and
 * encoded again by fetch cost more than serialising them).
 */
export function splitIntoJobs<T>(
  items: readonly T[],
  serialized: (item: T) => string,
  listIds: readonly string[],
  maxProfiles = KLAVIYO_IMPORT_MAX_PROFILES,
  maxBytes = KLAVIYO_IMPORT_MAX_BYTES,
): ImportJobPart<T>[] {
  const head = Buffer.from(IMPORT_JOB_HEAD);
  const tail = Buffer.from(importJobTail(listIds));
  const room = maxBytes - head.length - tail.length; // for the profiles and their commas
  const jobs: ImportJobPart<T>[] = [];
  let buffer: Buffer<ArrayBuffer> | null = null;
  let used = 0; // bytes of profiles and commas in `buffer`
  let current: T[] = [];
  const finish = () => {
    if (buffer === null) return;
    tail.copy(buffer, head.length + used);
    jobs.push({ items: current, body: buffer.subarray(0, head.length + used + tail.length) });
    buffer = null;
  };
  for (let index = 0; index < items.length; index += 1) {
    const item = items[index]!;
    const profile = serialized(item);
    const comma = current.length > 0 ? 1 : 0;
    let size = surelyFits(profile, room - used - comma) ? -1 : Buffer.byteLength(profile);
    if (size > room) throw new Error(`one profile is ${size + head.length + tail.length} bytes, more than a Klaviyo import job takes`);
    if (buffer === null || current.length >= maxProfiles || (size >= 0 && used + comma + size > room)) {
      finish();
      // Sized for what is left (3 bytes a unit at most), up to a whole job.
      let estimate = 0;
      for (let rest = index; rest < items.length && estimate < room; rest += 1) estimate += serialized(items[rest]!).length * 3 + 1;
      buffer = Buffer.allocUnsafe(head.length + Math.min(room, estimate) + tail.length);
      head.copy(buffer, 0);
      used = 0;
      current = [];
      size = -1;
    }
    if (current.length > 0) buffer[head.length + used++] = 0x2c; // ","
    used += buffer.write(profile, head.length + used);
    current.push(item);
  }
  finish();
  return jobs;
}

/** One import job's changes and its request body (UTF-8). */
export interface ImportJobPart<T> {
  items: T[];
  body: Uint8Array<ArrayBuffer>;
}

// ---------------------------------------------------------------------------------------

class KlaviyoClient {
  readonly baseUrl: string;
  private readonly id: string;

  constructor(
    private readonly apiKey: string,
    private readonly options: KlaviyoOptions,
  ) {
    this.baseUrl = (options.baseUrl ?? KLAVIYO_API_URL).replace(/\/+$/, "");
    this.id = keyId(this.baseUrl, apiKey);
  }

  url(path: string, query: Record<string, string> = {}): string {
    const search = new URLSearchParams(query).toString();
    return `${this.baseUrl}${path}${search ? `?${search}` : ""}`;
  }

  request<T>(endpoint: KlaviyoEndpoint, url: string, init: RequestOptions = {}): Promise<JsonResponse<T>> {
    const headers: Record<string, string> = {
      Authorization: `Klaviyo-API-Key ${this.apiKey}`,
      revision: KLAVIYO_REVISION,
      accept: "application/vnd.api+json",
    };
    if (init.body !== undefined) headers["content-type"] = "application/vnd.api+json";
    return requestJson<T>(url, {
      ...init,
      headers: { ...headers, ...(init.headers as Record<string, string> | undefined) },
      limiter: limiterFor(this.id, endpoint),
      fetch: this.options.fetch,
      timeoutMs: this.options.timeoutMs,
      retries: this.options.retries,
      baseBackoffMs: this.options.baseBackoffMs,
      rateLimitRetries: 20,
    });
  }
}

/** A 4xx that is neither auth nor rate limiting, as a sentence for the merchant. */
function refusal(what: string, answer: JsonResponse<unknown>): string {
  return `Klaviyo refused ${what} (${answer.status}): ${errorDetail(answer.body) ?? "no reason given"}`;
}

/** A 2xx answer, or the refusal thrown as a plain error (an engine bug or Klaviyo change, not a customer's fault). */
function expectOk<T>(what: string, answer: JsonResponse<T>): T {
  if (answer.status >= 200 && answer.status < 300 && answer.body !== null) return answer.body;
  throw new Error(refusal(what, answer));
}

// ---------------------------------------------------------------------------------------
// Verification

const MISSING_SCOPE_ADVICE =
  "In Klaviyo, open Settings → API keys, edit this private key (or create a new one) with Custom access, give it those, and paste it again.";

/**
 * Checks a private API key with real calls: one cheap request per scope Tenure needs. Reads
 * use a one-item GET; writes use a request whose body Klaviyo refuses (400) after checking
 * the scope (403 without it), so nothing is created or deleted. Account facts come from
 * GET /api/accounts when the key may read them (accounts:read is optional).
 */
export async function verifyKlaviyoKey(apiKey: string, options: KlaviyoOptions = {}): Promise<Verification> {
  const key = apiKey.trim();
  if (!/^pk_[A-Za-z0-9_]+$/.test(key)) {
    return {
      ok: false,
      reason:
        "That is not a Klaviyo private API key: private keys start with pk_ (the 6-character public key or site ID cannot write profiles). Create one in Klaviyo under Settings → API keys.",
    };
  }
  const client = new KlaviyoClient(key, options);
  const probe = async (endpoint: KlaviyoEndpoint, url: string, init: RequestOptions = {}) => {
    const answer = await client.request<unknown>(endpoint, url, { ...init, throwOnAuthError: false });
    return answer;
  };

  try {
    const first = await probe("lists.get", client.url("/api/lists", { "fields[list]": "name", "page[size]": "1" }));
    if (first.status === 401) {
      return {
        ok: false,
        reason: `Klaviyo did not accept this key (${errorDetail(first.body) ?? "not authenticated"}). Check that you copied the whole private key and that it has not been revoked.`,
      };
    }
    const missing: KlaviyoScope[] = [];
    if (first.status === 403) missing.push("lists:read");

    const profilesRead = await probe("profiles.get", client.url("/api/profiles", { "fields[profile]": "email", "page[size]": "1" }));
    if (profilesRead.status === 403) missing.push("profiles:read");

    const listsWrite = await probe("lists.create", client.url("/api/lists"), {
      method: "POST",
      body: JSON.stringify({ data: { type: "list", attributes: {} } }),
    });
    if (listsWrite.status === 403) missing.push("lists:write");

    // The import endpoint needs lists:write AND profiles:write: a 403 here with lists:write
    // present means profiles:write is missing.
    const profilesWrite = await probe("bulk-import.create", client.url("/api/profile-bulk-import-jobs"), {
      method: "POST",
      body: JSON.stringify({ data: { type: "profile-bulk-import-job", attributes: { profiles: { data: [] } } } }),
    });
    if (profilesWrite.status === 403 && !missing.includes("lists:write")) missing.push("profiles:write");

    const privacyWrite = await probe("data-privacy-deletion.create", client.url("/api/data-privacy-deletion-jobs"), {
      method: "POST",
      body: JSON.stringify({ data: { type: "data-privacy-deletion-job", attributes: { profile: { data: { type: "profile", attributes: {} } } } } }),
    });
    if (privacyWrite.status === 403) missing.push("data-privacy:write");

    for (const answer of [first, profilesRead]) {
      if (answer.status >= 400 && answer.status !== 403) {
        return { ok: false, reason: refusal("the key check", answer) };
      }
    }
    if (missing.length > 0) {
      const words = [...new Set(missing.map((scope) => KLAVIYO_SCOPES[scope]))];
      return {
        ok: false,
        reason: `This key lacks access Tenure needs: ${words.join(", ")}. ${MISSING_SCOPE_ADVICE}`,
        missingScopes: missing,
      };
    }

    const account: KlaviyoAccount = {};
    const accounts = await probe("accounts.get", client.url("/api/accounts"));
    if (accounts.status === 200) {
      const data = (accounts.body as Document<Resource<{ contact_information?: { organization_name?: string }; test_account?: boolean }>[]>)
        .data?.[0];
      if (data) {
        account.accountId = data.id;
        account.name = data.attributes?.contact_information?.organization_name ?? undefined;
        if (typeof data.attributes?.test_account === "boolean") account.testAccount = data.attributes.test_account;
      }
    }
    return { ok: true, account };
  } catch (error) {
    if (error instanceof DestinationRetryableError) {
      return { ok: false, reason: `Klaviyo could not be reached to check the key: ${error.message}. Try again in a minute.` };
    }
    throw error;
  }
}

// ---------------------------------------------------------------------------------------
// The adapter

export function klaviyoAdapter(apiKey: string, _account: KlaviyoAccount | Record<string, unknown>, options: KlaviyoOptions = {}): DestinationAdapter {
  const client = new KlaviyoClient(apiKey, options);
  const pollIntervalMs = options.pollIntervalMs ?? 500;
  const maxPollIntervalMs = options.maxPollIntervalMs ?? 10_000;
  const maxJobWaitMs = options.maxJobWaitMs ?? 15 * 60_000;
  // How long the last completed job took, by Klaviyo's clock (null until one completed).
  let lastJobMs: number | null = null;

  /** The list's name, or null when Klaviyo has no list with this id (deleted in Klaviyo). */
  async function listName(id: string): Promise<string | null> {
    const answer = await client.request<Document<Resource<{ name: string }>>>("list.get", client.url(`/api/lists/${encodeURIComponent(id)}`, { "fields[list]": "name" }));
    if (answer.status === 404) return null;
    return expectOk(`reading list ${id}`, answer).data.attributes.name;
  }

  async function renameList(id: string, name: string): Promise<void> {
    const answer = await client.request<Document<Resource>>("list.update", client.url(`/api/lists/${encodeURIComponent(id)}`), {
      method: "PATCH",
      body: JSON.stringify({ data: { type: "list", id, attributes: { name } } }),
    });
    expectOk(`renaming list ${id} to "${name}"`, answer);
  }

  async function findListByName(name: string): Promise<string | null> {
    const answer = await client.request<Document<Resource<{ name: string }>[]>>(
      "lists.get",
      client.url("/api/lists", { filter: `equals(name,${quoted(name)})`, "fields[list]": "name", "page[size]": String(LIST_PAGE_SIZE) }),
    );
    const body = expectOk(`finding list "${name}"`, answer);
    const match = body.data.find((list) => list.attributes.name === name);
    return match ? match.id : null;
  }

  async function createList(name: string): Promise<string> {
    const answer = await client.request<Document<Resource>>("lists.create", client.url("/api/lists"), {
      method: "POST",
      body: JSON.stringify({ data: { type: "list", attributes: { name } } }),
    });
    return expectOk(`creating list "${name}"`, answer).data.id;
  }

  async function ensureTargets(targets: readonly SegmentTarget[]): Promise<Map<string, string>> {
    const ids = new Map<string, string>();
    for (const target of targets) {
      const current = target.remoteId ? await listName(target.remoteId) : null;
      if (target.remoteId && current !== null) {
        // The merchant relabelled the segment: the list keeps its members and takes the new name.
        if (current !== target.name) await renameList(target.remoteId, target.name);
        ids.set(target.segmentKey, target.remoteId);
        continue;
      }
      ids.set(target.segmentKey, (await findListByName(target.name)) ?? (await createList(target.name)));
    }
    return ids;
  }

  /** Starts one import job; a refusal of the whole job comes back as its reason. */
  async function startJob(body: Uint8Array<ArrayBuffer>): Promise<{ id: string } | { refused: string }> {
    const answer = await client.request<Document<Resource<ImportJobAttributes>>>("bulk-import.create", client.url("/api/profile-bulk-import-jobs"), {
      method: "POST",
      body,
    });
    if (answer.status >= 200 && answer.status < 300 && answer.body) return { id: answer.body.data.id };
    return { refused: refusal("the profile import", answer) };
  }

  async function waitForJob(id: string): Promise<ImportJobAttributes> {
    const started = Date.now();
    // A job just created is not done yet: the first read waits about as long as the last job
    // took (jobs of one pass are alike), so most jobs need one status read (150 a minute),
    // whether Klaviyo takes 0.1 s or a minute; without a completed job yet, pollIntervalMs.
    let interval = lastJobMs === null ? pollIntervalMs : Math.min(maxPollIntervalMs, Math.max(MIN_FIRST_POLL_MS, lastJobMs));
    for (;;) {
      await sleep(interval);
      interval = Math.min(maxPollIntervalMs, interval * 2);
      const answer = await client.request<Document<Resource<ImportJobAttributes>>>(
        "bulk-import.get",
        client.url(`/api/profile-bulk-import-jobs/${encodeURIComponent(id)}`),
      );
      const job = expectOk(`reading import job ${id}`, answer).data.attributes;
      if (job.status === "complete") {
        lastJobMs = measuredJobMs(job.created_at, job.completed_at, pollIntervalMs) ?? lastJobMs;
        return job;
      }
      if (job.status === "cancelled") throw new DestinationRetryableError(`Klaviyo cancelled import job ${id}`);
      if (Date.now() - started > maxJobWaitMs) {
        throw new DestinationRetryableError(`Klaviyo import job ${id} still ${job.status} after ${Math.round(maxJobWaitMs / 1000)} s`);
      }
    }
  }

  async function importErrors(id: string): Promise<ImportErrorAttributes[]> {
    const errors: ImportErrorAttributes[] = [];
    let url: string | null = client.url(`/api/profile-bulk-import-jobs/${encodeURIComponent(id)}/import-errors`, {
      "page[size]": String(PROFILE_PAGE_SIZE),
    });
    while (url) {
      const answer: JsonResponse<Document<Resource<ImportErrorAttributes>[]>> = await client.request("bulk-import.errors", url);
      const body = expectOk(`reading the errors of import job ${id}`, answer);
      errors.push(...body.data.map((error) => error.attributes));
      url = body.links?.next ?? null;
    }
    return errors;
  }

  /** Runs one import job to its end: each change's failure reason, if Klaviyo refused it. */
  async function runJob(job: ImportJobPart<MemberChange>): Promise<Map<MemberChange, string>> {
    const failures = new Map<MemberChange, string>();
    const started = await startJob(job.body);
    // Sent: the body's bytes may go while the job runs (several jobs wait at once).
    job.body = new Uint8Array(0);
    if ("refused" in started) {
      for (const change of job.items) failures.set(change, started.refused);
      return failures;
    }
    const result = await waitForJob(started.id);
    if ((result.failed_count ?? 0) === 0) return failures;
    const byEmail = new Map(job.items.map((change) => [change.profile.email.toLowerCase(), change]));
    const byCustomer = new Map(job.items.map((change) => [change.profile.customerId, change]));
    for (const error of await importErrors(started.id)) {
      const payload = error.original_payload?.attributes;
      const index = /\/profiles\/data\/(\d+)/.exec(error.source?.pointer ?? "")?.[1];
      const change =
        (payload?.email ? byEmail.get(payload.email.toLowerCase()) : undefined) ??
        (payload?.external_id ? byCustomer.get(payload.external_id) : undefined) ??
        (index !== undefined ? job.items[Number(index)] : undefined);
      if (change && !failures.has(change)) failures.set(change, `${error.title}: ${error.detail}`);
    }
    return failures;
  }

  /** Klaviyo profile ids for these emails (lower-cased keys); emails Klaviyo does not know are absent. */
  async function profileIdsByEmail(emails: readonly string[]): Promise<Map<string, string>> {
    const ids = new Map<string, string>();
    const unique = [...new Set(emails.map((email) => email.toLowerCase()))];
    for (let at = 0; at < unique.length; at += PROFILE_PAGE_SIZE) {
      const slice = unique.slice(at, at + PROFILE_PAGE_SIZE);
      let url: string | null = client.url("/api/profiles", {
        filter: `any(email,[${slice.map(quoted).join(",")}])`,
        "fields[profile]": "email",
        "page[size]": String(PROFILE_PAGE_SIZE),
      });
      while (url) {
        const answer: JsonResponse<Document<Resource<{ email: string | null }>[]>> = await client.request("profiles.get", url);
        const body = expectOk("looking profiles up by email", answer);
        for (const profile of body.data) {
          if (profile.attributes.email) ids.set(profile.attributes.email.toLowerCase(), profile.id);
        }
        url = body.links?.next ?? null;
      }
    }
    return ids;
  }

  async function removeFromList(listId: string, profileIds: readonly string[]): Promise<string | null> {
    for (let at = 0; at < profileIds.length; at += KLAVIYO_REMOVE_MAX_PROFILES) {
      const slice = profileIds.slice(at, at + KLAVIYO_REMOVE_MAX_PROFILES);
      const answer = await client.request("list-profiles.remove", client.url(`/api/lists/${encodeURIComponent(listId)}/relationships/profiles`), {
        method: "DELETE",
        body: JSON.stringify({ data: slice.map((id) => ({ type: "profile", id })) }),
      });
      // A list the merchant deleted holds nobody: the removal is done.
      if (answer.status === 404) return null;
      if (answer.status >= 400) return refusal("the removal from a list", answer);
    }
    return null;
  }

  /** The address Klaviyo knew the customer by, when it is not the one they have now. */
  function movedFrom(change: MemberChange): string | null {
    const previous = change.previousEmail?.trim();
    return previous && previous.toLowerCase() !== change.profile.email.trim().toLowerCase() ? previous : null;
  }

  async function push(changes: readonly MemberChange[], targets: ReadonlyMap<string, string>): Promise<MemberOutcome[]> {
    const failures = new Map<MemberChange, string>();
    const fail = (change: MemberChange, reason: string) => {
      if (!failures.has(change)) failures.set(change, reason);
    };
    const listId = (segmentKey: string): string => {
      const id = targets.get(segmentKey);
      if (!id) throw new Error(`no Klaviyo list for segment ${segmentKey}: ensureTargets first`);
      return id;
    };

    // Upserts: every customer who stays in or joins a list gets their profile written;
    // grouped by list to join (a customer joining two lists is imported in both jobs), and
    // a job without lists for those whose only change is their figures.
    // Each profile is serialised once (by the engine for its hash, through profileText, or
    // here): checked, split into jobs and encoded into their bodies.
    const upserts: MemberChange[] = [];
    const serialized = new Map<MemberChange, string>();
    for (const change of changes) {
      if (change.add.length === 0 && change.keep.length === 0) continue;
      const json = change.profileText ?? profileText(change.profile);
      if (utf8Over(json, KLAVIYO_IMPORT_MAX_PROFILE_BYTES)) {
        fail(change, `the profile is ${Buffer.byteLength(json)} bytes; Klaviyo takes at most ${KLAVIYO_IMPORT_MAX_PROFILE_BYTES} per profile`);
      } else {
        upserts.push(change);
        serialized.set(change, json);
      }
    }
    const byList = new Map<string, MemberChange[]>();
    for (const change of upserts) {
      // A new address may land on another profile than the old one (see below): it joins
      // its kept lists again (joining a list it is in already changes nothing).
      const joins = movedFrom(change) ? [...change.add, ...change.keep] : change.add;
      const lists = joins.length > 0 ? joins.map(listId) : [""];
      for (const id of lists) {
        const group = byList.get(id) ?? [];
        group.push(change);
        byList.set(id, group);
      }
    }
    const jobs: ImportJobPart<MemberChange>[] = [];
    for (const [id, group] of byList) jobs.push(...splitIntoJobs(group, (change) => serialized.get(change)!, id === "" ? [] : [id]));
    // The text is in the bodies now (the changes wait for their jobs without it).
    serialized.clear();
    for (const change of changes) if (change.profileText !== undefined) change.profileText = undefined;
    // Jobs start one after another (the limiter paces them) and are awaited together; every
    // job is seen to its end before an error is thrown, so none runs on unobserved.
    const settled = await Promise.allSettled(jobs.map(runJob));
    const rejected = settled.filter((result) => result.status === "rejected").map((result) => result.reason as unknown);
    if (rejected.length > 0) throw rejected.find((error) => error instanceof DestinationAuthError) ?? rejected[0];
    for (const result of settled) if (result.status === "fulfilled") for (const [change, reason] of result.value) fail(change, reason);

    // Removals need Klaviyo's profile ids: the one an earlier sync learned, else by email.
    // A customer whose address changed is looked up by both addresses once the imports are
    // done: the import moves the profile to the new address when external_id finds it
    // (then nothing is left under the old one), but when the new address already had a
    // profile of its own, the old profile stays behind and must leave every Tenure list.
    const removals = changes.filter((change) => change.remove.length > 0 || movedFrom(change));
    const needLookup = removals.flatMap((change) => {
      const previous = movedFrom(change);
      if (previous) return [previous, change.profile.email];
      return change.remoteProfileId ? [] : [change.profile.email];
    });
    const found = needLookup.length > 0 ? await profileIdsByEmail(needLookup) : new Map<string, string>();
    const remoteIds = new Map<MemberChange, string | null>();
    const removeByList = new Map<string, { ids: string[]; changes: MemberChange[] }>();
    const leave = (change: MemberChange, profileId: string, segmentKeys: readonly string[]) => {
      for (const segmentKey of segmentKeys) {
        const list = targets.get(segmentKey);
        if (!list) continue; // a segment no longer synced has no list to leave
        const group = removeByList.get(list) ?? { ids: [], changes: [] };
        group.ids.push(profileId);
        group.changes.push(change);
        removeByList.set(list, group);
      }
    };
    for (const change of removals) {
      const previous = movedFrom(change);
      const id = previous
        ? (found.get(change.profile.email.toLowerCase()) ?? null)
        : (change.remoteProfileId ?? found.get(change.profile.email.toLowerCase()) ?? null);
      remoteIds.set(change, id);
      if (id) leave(change, id, change.remove); // else Klaviyo has no such profile: it is in no list.
      // Only once the new address has its profile: a refused import leaves the old one as it is.
      const left = previous && !failures.has(change) ? found.get(previous.toLowerCase()) : undefined;
      if (left && left !== id) leave(change, left, [...new Set([...change.add, ...change.keep, ...change.remove])]);
    }
    for (const [list, group] of removeByList) {
      const reason = await removeFromList(list, group.ids);
      if (reason) for (const change of group.changes) fail(change, reason);
    }

    return changes.map((change): MemberOutcome => {
      const reason = failures.get(change);
      if (reason !== undefined) return { customerId: change.profile.customerId, ok: false, reason };
      const remoteProfileId = remoteIds.get(change) ?? change.remoteProfileId ?? null;
      return { customerId: change.profile.customerId, ok: true, remoteProfileId };
    });
  }

  // Auth trouble and outages are thrown (the engine keeps the erasures for a later pass);
  // an answer about this one person is final either way, so it never blocks the others.
  async function erase(people: readonly ErasureTarget[]): Promise<void> {
    const logger = options.logger ?? consoleLogger;
    const requestDeletion = (profile: Record<string, unknown>) =>
      client.request("data-privacy-deletion.create", client.url("/api/data-privacy-deletion-jobs"), {
        method: "POST",
        body: JSON.stringify({ data: { type: "data-privacy-deletion-job", attributes: { profile: { data: profile } } } }),
      });
    for (const person of people) {
      // One identifier per request: Klaviyo refuses a request naming several.
      let answer = person.remoteProfileId
        ? await requestDeletion({ type: "profile", id: person.remoteProfileId, attributes: {} })
        : null;
      // No profile by that id (a stale id): the email may still name one.
      if ((answer === null || answer.status === 404) && person.email) {
        answer = await requestDeletion({ type: "profile", attributes: { email: person.email } });
      }
      // 404: no such profile (never synced, or deleted already): nothing of theirs is left.
      if (answer === null || answer.status === 404 || (answer.status >= 200 && answer.status < 300)) continue;
      // Any other refusal (an address Klaviyo cannot read, ...) will not change on a retry.
      logger.error("Klaviyo refused a deletion request", {
        remoteProfileId: person.remoteProfileId,
        reason: refusal("the deletion request", answer),
      });
    }
  }

  return { kind: "klaviyo", batchSize: KLAVIYO_IMPORT_MAX_PROFILES, maxBatchesInFlight: KLAVIYO_BATCHES_IN_FLIGHT, ensureTargets, push, erase, profileText };
}

/** Forgets the shared limiters (tests that restart a fake on the same port and key). */
export function resetKlaviyoLimiters(): void {
  limiterRegistry.clear();
}
