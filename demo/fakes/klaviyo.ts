// A fake Klaviyo API at the HTTP boundary, for tests and the demo (plain Node: no test
// framework imports). A node:http server on loopback speaking the JSON:API documents of
// the endpoints Tenure calls, as Klaviyo's OpenAPI (revision 2026-07-15 and later)
// describes them:
//
//   GET  /api/accounts                                     accounts:read      1/s   15/m
//   GET  /api/lists (filter name/id, 10 a page)            lists:read        75/s  750/m
//   POST /api/lists                                        lists:write       10/s  150/m  150/day
//   GET  /api/lists/{id}                                   lists:read        75/s  750/m
//   PATCH /api/lists/{id} (rename)                         lists:write       10/s  150/m
//   POST|DELETE /api/lists/{id}/relationships/profiles    lists:write, profiles:write  10/s 150/m (1,000 a call)
//   GET  /api/profiles (filter email/id/external_id, 100 a page)  profiles:read  75/s 750/m
//   POST /api/profile-bulk-import-jobs (10,000 profiles, 5 MB)   lists:write, profiles:write  10/s 150/m
//   GET  /api/profile-bulk-import-jobs/{id}[/import-errors|/profiles]  10/s 150/m
//   POST /api/data-privacy-deletion-jobs (one identifier)  data-privacy:write  3/s 60/m
//
// Identity on import (Klaviyo's documented upsert, docs/destinations/klaviyo.md): a
// profile is matched by email first, then by external_id; matched by external_id with
// another email, the profile's email is updated in place (it keeps its lists).
//
// Import jobs live a real lifecycle (queued → processing → complete); a profile whose email
// contains "invalid" (or is not an address) becomes an import error. Rate limits are
// Klaviyo's: per account and endpoint, fixed 1-second and 1-minute windows, 429 with
// Retry-After. Every request must carry `Authorization: Klaviyo-API-Key <key>` and a
// `revision` header. Failure injection: revoked keys, 5xx, hanging requests, 429 storms.

import { randomBytes, randomUUID } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { type AddressInfo, type Socket } from "node:net";

export type FakeKlaviyoEndpoint =
  | "accounts.get"
  | "lists.get"
  | "list.get"
  | "list.update"
  | "lists.create"
  | "list-profiles.add"
  | "list-profiles.remove"
  | "profiles.get"
  | "bulk-import.create"
  | "bulk-import.get"
  | "bulk-import.errors"
  | "bulk-import.profiles"
  | "data-privacy-deletion.create";

export interface FakeKlaviyoLimit {
  burst: number;
  steady: number;
  daily?: number;
}

/** Klaviyo's documented limits for each endpoint the fake serves. */
export const FAKE_KLAVIYO_LIMITS: Record<FakeKlaviyoEndpoint, FakeKlaviyoLimit> = {
  "accounts.get": { burst: 1, steady: 15 },
  "lists.get": { burst: 75, steady: 750 },
  "list.get": { burst: 75, steady: 750 },
  "list.update": { burst: 10, steady: 150 },
  "lists.create": { burst: 10, steady: 150, daily: 150 },
  "list-profiles.add": { burst: 10, steady: 150 },
  "list-profiles.remove": { burst: 10, steady: 150 },
  "profiles.get": { burst: 75, steady: 750 },
  "bulk-import.create": { burst: 10, steady: 150 },
  "bulk-import.get": { burst: 10, steady: 150 },
  "bulk-import.errors": { burst: 10, steady: 150 },
  "bulk-import.profiles": { burst: 10, steady: 150 },
  "data-privacy-deletion.create": { burst: 3, steady: 60 },
};

const SCOPES_NEEDED: Record<FakeKlaviyoEndpoint, string[]> = {
  "accounts.get": ["accounts:read"],
  "lists.get": ["lists:read"],
  "list.get": ["lists:read"],
  "list.update": ["lists:write"],
  "lists.create": ["lists:write"],
  "list-profiles.add": ["lists:write", "profiles:write"],
  "list-profiles.remove": ["lists:write", "profiles:write"],
  "profiles.get": ["profiles:read"],
  "bulk-import.create": ["lists:write", "profiles:write"],
  "bulk-import.get": ["lists:read", "profiles:read"],
  "bulk-import.errors": ["profiles:read"],
  "bulk-import.profiles": ["profiles:read"],
  "data-privacy-deletion.create": ["data-privacy:write"],
};

export const FAKE_KLAVIYO_ALL_SCOPES = [
  "accounts:read",
  "lists:read",
  "lists:write",
  "profiles:read",
  "profiles:write",
  "data-privacy:write",
] as const;

export const FAKE_KLAVIYO_MAX_IMPORT_PROFILES = 10_000;
export const FAKE_KLAVIYO_MAX_IMPORT_BYTES = 5_000_000;
export const FAKE_KLAVIYO_MAX_PROFILE_BYTES = 100_000;

export interface FakeKlaviyoOptions {
  port?: number;
  /** Overrides of the documented limits, per endpoint (a benchmark or test may tighten or relax them). */
  limits?: Partial<Record<FakeKlaviyoEndpoint, FakeKlaviyoLimit>>;
  /**
   * The keys it accepts, each with its scopes (default all) and account. Without this, any
   * key starting with pk_ works with every scope, each key its own account.
   */
  apiKeys?: Record<string, { scopes?: readonly string[]; accountId?: string; name?: string }>;
  /** An import job waits queuedMs (default 20), then processes for processingMs (default 30) + its size at profilesPerSecond (default 200,000). */
  jobTiming?: { queuedMs?: number; processingMs?: number; profilesPerSecond?: number };
  /**
   * The fake's clock for the rate-limit windows and the import jobs' lifecycle (default
   * Date.now). With it, a job moves only as this clock does (completed when read past its
   * end, no timers): a test pins it and steps it, without racing the wall clock.
   */
  now?: () => number;
}

export interface FakeKlaviyoProfile {
  id: string;
  email: string | null;
  external_id: string | null;
  first_name: string | null;
  last_name: string | null;
  phone_number: string | null;
  properties: Record<string, unknown>;
  created: string;
  updated: string;
}

export interface FakeKlaviyoList {
  id: string;
  name: string;
  created: string;
  updated: string;
  readonly profileIds: Set<string>;
}

interface ImportError {
  id: string;
  code: string;
  title: string;
  detail: string;
  source: { pointer: string };
  original_payload: unknown;
}

export interface FakeKlaviyoJob {
  id: string;
  listIds: string[];
  /** The profile resources as sent (read again from the request once the job is complete). */
  readonly profiles: Record<string, unknown>[];
  /** How many profiles the job was sent. */
  totalCount: number;
  createdAt: number;
  startsAt: number;
  completesAt: number;
  status: "queued" | "processing" | "complete" | "cancelled";
  completedCount: number;
  failedCount: number;
  errors: ImportError[];
  profileIds: string[];
}

export interface FakeKlaviyoAccount {
  id: string;
  name: string;
  lists: Map<string, FakeKlaviyoList>;
  readonly profiles: Map<string, FakeKlaviyoProfile>;
  jobs: Map<string, FakeKlaviyoJob>;
  /** Every identifier a data-privacy deletion job named (emails, profile ids, phone numbers). */
  erasures: { email?: string; id?: string; phone_number?: string }[];
  /**
   * Lower-cased email → its profile and when the fake last changed that profile (an import
   * job completing with it, a list membership change; server clock). One map for both, and
   * profiles rather than their ids: an import of a new profile costs fewer lookups and
   * inserts into maps of a million (task K5). The time stays when the email leaves its
   * profile (deleted, or given a new email).
   */
  emails: Map<string, FakeKlaviyoEmail>;
  /** external_id → its profile (Klaviyo's other identifier). */
  externalIds: Map<string, FakeKlaviyoProfile>;
}

export interface FakeKlaviyoEmail {
  profile: FakeKlaviyoProfile | undefined;
  updatedAt: Date | undefined;
}

export interface FakeKlaviyoRequest {
  method: string;
  path: string;
  endpoint: FakeKlaviyoEndpoint | null;
  status: number;
  revision: string | null;
  at: number;
}

export interface FakeKlaviyo {
  url: string;
  close(): Promise<void>;
  state: FakeKlaviyoState;
  inject: FakeKlaviyoInject;
}

export interface FakeKlaviyoInject {
  /** The key answers 401 from now on (as a key deleted in Klaviyo does). */
  revokeKey(key: string): void;
  restoreKey(key: string): void;
  /** Replaces the key's scopes (a key edited in Klaviyo). */
  setScopes(key: string, scopes: readonly string[]): void;
  /** The next n requests answer this 5xx (default 503). */
  serverErrors(n: number, status?: number): void;
  /** The next n requests never get an answer (the client's timeout must cut them). */
  timeouts(n: number): void;
  /** The next n requests answer 429 with Retry-After (default 1 s). */
  rateLimitStorm(n: number, retryAfterSeconds?: number): void;
}

export class FakeKlaviyoState {
  readonly accounts = new Map<string, FakeKlaviyoAccount>();
  readonly requests: FakeKlaviyoRequest[] = [];
  /** Requests answered 429 (by the limits or a storm). */
  rateLimited = 0;

  /** The account of a key (or the only account there is). */
  account(key?: string): FakeKlaviyoAccount | undefined {
    if (key !== undefined) return this.accounts.get(this.accountIdOf(key));
    if (this.accounts.size > 1) throw new Error("several Klaviyo accounts in the fake: name the key");
    return [...this.accounts.values()][0];
  }

  /** Sorted emails of a list's members, by list name or id; [] when there is no such list. */
  listMembers(nameOrId: string, key?: string): string[] {
    const account = this.account(key);
    if (!account) return [];
    const list = account.lists.get(nameOrId) ?? [...account.lists.values()].find((candidate) => candidate.name === nameOrId);
    if (!list) return [];
    return [...list.profileIds]
      .map((id) => account.profiles.get(id)?.email ?? id)
      .sort();
  }

  /** Every list by name with its members' emails. */
  lists(key?: string): Map<string, string[]> {
    const account = this.account(key);
    const out = new Map<string, string[]>();
    for (const list of account?.lists.values() ?? []) out.set(list.name, this.listMembers(list.id, key));
    return out;
  }

  /** When the fake last changed this email's profile or list memberships (this machine's clock); undefined: never. */
  profileUpdatedAt(email: string, key?: string): Date | undefined {
    return this.account(key)?.emails.get(email.toLowerCase())?.updatedAt;
  }

  profile(email: string, key?: string): FakeKlaviyoProfile | undefined {
    return this.account(key)?.emails.get(email.toLowerCase())?.profile;
  }

  /** Emails (or profile ids where that was the identifier) asked to be deleted. */
  erased(key?: string): string[] {
    return (this.account(key)?.erasures ?? []).map((erasure) => erasure.email ?? erasure.id ?? erasure.phone_number ?? "");
  }

  jobs(key?: string): FakeKlaviyoJob[] {
    return [...(this.account(key)?.jobs.values() ?? [])];
  }

  /** Requests of one endpoint (for assertions on how the client paced or split its calls). */
  requestsTo(endpoint: FakeKlaviyoEndpoint): FakeKlaviyoRequest[] {
    return this.requests.filter((request) => request.endpoint === endpoint);
  }

  accountIdOf: (key: string) => string = (key) => `acct_${key}`;
}

function now(): string {
  return new Date().toISOString().replace("Z", "+00:00");
}

const ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
// Random bytes drawn 64 kB at a time: one draw per id cost more than the import around it.
let randomPool = Buffer.alloc(0);
let randomAt = 0;
const idScratch = Buffer.alloc(32);

/** Klaviyo-looking ids: lists 6 characters, profiles and jobs 26 (ULID-like). */
function newId(length: number): string {
  if (randomAt + length > randomPool.length) {
    randomPool = randomBytes(65_536);
    randomAt = 0;
  }
  for (let i = 0; i < length; i += 1) idScratch[i] = ID_ALPHABET.charCodeAt(randomPool[randomAt + i]! % ID_ALPHABET.length);
  randomAt += length;
  // One flat string (built by +=, a 26-character id was a chain every Map lookup flattened).
  return idScratch.toString("latin1", 0, length);
}

/**
 * An import job. Its parsed profiles are kept only until it completes; after that
 * `profiles` parses them again from the request's text: a million parsed resources kept
 * for ever made garbage collection the fake's largest cost, and a flat string costs it nothing.
 */
class ImportJob implements FakeKlaviyoJob {
  status: FakeKlaviyoJob["status"] = "queued";
  completedCount = 0;
  failedCount = 0;
  errors: ImportError[] = [];
  profileIds: string[] = [];
  readonly totalCount: number;
  #parsed: Record<string, unknown>[] | null;

  constructor(
    readonly id: string,
    readonly listIds: string[],
    parsed: Record<string, unknown>[],
    private readonly requestText: string,
    readonly createdAt: number,
    readonly startsAt: number,
    readonly completesAt: number,
  ) {
    this.#parsed = parsed;
    this.totalCount = parsed.length;
  }

  get profiles(): Record<string, unknown>[] {
    return this.#parsed ?? (JSON.parse(this.requestText) as { data: { attributes: { profiles: { data: Record<string, unknown>[] } } } }).data.attributes.profiles.data;
  }

  /** The job is complete: its parsed profiles may go. */
  settled(): void {
    this.#parsed = null;
  }
}

// An account's id index (`profiles`) and its lists' member sets are brought up to date when
// read, not as each import completes: during a sync nothing reads them (imports find
// profiles by email and external_id), and a map and a set insert of a new profile's
// 26-character id, hashed once each, were a tenth of the fake's CPU (task K6F). Every read
// goes through the getters, so each reader, inside the fake or out (state(), a bench), sees
// them as if they had been kept at once, in the same order.

/** A list: its members' ids, with those of completed imports still to be added. */
class AccountList implements FakeKlaviyoList {
  readonly #members = new Set<string>();
  /** Profile ids of completed import jobs not yet in the set (each job's, as it completed). */
  readonly #pending: string[][] = [];

  constructor(
    readonly id: string,
    public name: string,
    readonly created: string,
    public updated: string,
  ) {}

  get profileIds(): Set<string> {
    if (this.#pending.length > 0) {
      for (const ids of this.#pending) for (let i = 0; i < ids.length; i += 1) this.#members.add(ids[i]!);
      this.#pending.length = 0;
    }
    return this.#members;
  }

  /** A completed job's profiles join the list (`ids` no longer changes). */
  addLater(ids: string[]): void {
    this.#pending.push(ids);
  }
}

class Account implements FakeKlaviyoAccount {
  readonly lists = new Map<string, AccountList>();
  readonly jobs = new Map<string, FakeKlaviyoJob>();
  readonly erasures: { email?: string; id?: string; phone_number?: string }[] = [];
  readonly emails = new Map<string, FakeKlaviyoEmail>();
  readonly externalIds = new Map<string, FakeKlaviyoProfile>();
  readonly #profiles = new Map<string, FakeKlaviyoProfile>();
  /** Profiles made by imports and not yet in #profiles, in the order made. */
  readonly #made: FakeKlaviyoProfile[] = [];

  constructor(
    readonly id: string,
    readonly name: string,
  ) {}

  get profiles(): Map<string, FakeKlaviyoProfile> {
    if (this.#made.length > 0) {
      for (let i = 0; i < this.#made.length; i += 1) this.#profiles.set(this.#made[i]!.id, this.#made[i]!);
      this.#made.length = 0;
    }
    return this.#profiles;
  }

  /** A new profile, entered in `profiles` when that is next read. */
  made(profile: FakeKlaviyoProfile): void {
    this.#made.push(profile);
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

function errorDocument(status: number, code: string, title: string, detail: string, pointer = "/data/") {
  return { errors: [{ id: randomUUID(), status, code, title, detail, source: { pointer }, meta: {} }] };
}

const invalid = (detail: string) => new HttpError(400, "invalid", "Invalid input.", detail);
const notFound = (detail: string) => new HttpError(404, "not_found", "Not found.", detail);

/** Parses `equals(field,"v")` and `any(field,["a","b"])`, joined by commas inside and(...) or at top level. */
export function parseFilter(filter: string): { op: "equals" | "any"; field: string; values: string[] }[] {
  const terms: { op: "equals" | "any"; field: string; values: string[] }[] = [];
  const pattern = /(equals|any)\(([\w.]+),(\[(?:[^\]\\]|\\.)*\]|"(?:[^"\\]|\\.)*")\)/g;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(filter)) !== null) {
    const [, op, field, raw] = match;
    const values = raw.startsWith("[")
      ? [...raw.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((item) => unescape(item[1]))
      : [unescape(raw.slice(1, -1))];
    terms.push({ op: op as "equals" | "any", field, values });
  }
  if (terms.length === 0) throw invalid(`Invalid filter: ${filter}`);
  return terms;
}

function unescape(text: string): string {
  return text.replace(/\\(.)/g, "$1");
}

/**
 * Whether JSON.stringify(value) is more than `limit` bytes (UTF-8). A cheap walk bounds the
 * size from above (a UTF-16 unit is at most 6 bytes, \\uXXXX; a number at most 24
 * characters); only a value whose bound passes the limit is serialised and measured. Same
 * answer as measuring every profile, without a second serialisation of a million of them.
 */
export function jsonBytesOver(value: unknown, limit: number): boolean {
  return jsonBytesBound(value) > limit && Buffer.byteLength(JSON.stringify(value)) > limit;
}

function jsonBytesBound(value: unknown): number {
  switch (typeof value) {
    case "string":
      return 2 + 6 * value.length;
    case "number":
      return 24;
    case "boolean":
      return 5;
    case "object": {
      if (value === null) return 4;
      let bytes = 2;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i += 1) bytes += 1 + jsonBytesBound(value[i]);
        return bytes;
      }
      for (const key in value) bytes += 2 + 6 * key.length + 2 + jsonBytesBound((value as Record<string, unknown>)[key]);
      return bytes;
    }
    default:
      // What JSON.parse cannot give (undefined, functions): measured exactly.
      return Number.POSITIVE_INFINITY;
  }
}

/** Whether an import's properties can be a new profile's as they are: a plain object with no null (imports skip nulls). */
function keepable(properties: Record<string, unknown>): boolean {
  if (typeof properties !== "object" || properties === null || Object.getPrototypeOf(properties) !== Object.prototype) return false;
  for (const name in properties) if (properties[name] === null || !Object.hasOwn(properties, name)) return false;
  return true;
}

function isEmail(text: string): boolean {
  return /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(text) && !text.includes("invalid");
}

export async function startFakeKlaviyo(options: FakeKlaviyoOptions = {}): Promise<FakeKlaviyo> {
  const state = new FakeKlaviyoState();
  const limits: Record<FakeKlaviyoEndpoint, FakeKlaviyoLimit> = { ...FAKE_KLAVIYO_LIMITS, ...options.limits };
  const timing = { queuedMs: 20, processingMs: 30, profilesPerSecond: 200_000, ...options.jobTiming };
  const clock = options.now ?? Date.now;
  const revoked = new Set<string>();
  const scopeOverrides = new Map<string, Set<string>>();
  const counters = new Map<string, { second: number; secondCount: number; minute: number; minuteCount: number; day: number; dayCount: number }>();
  const injected = { serverErrors: 0, serverErrorStatus: 503, timeouts: 0, storm: 0, stormRetryAfter: 1 };
  const hanging = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let baseUrl = "";

  if (options.apiKeys) {
    state.accountIdOf = (key) => options.apiKeys?.[key]?.accountId ?? `acct_${key}`;
  }

  const keyAllowed = (key: string): boolean =>
    !revoked.has(key) && (options.apiKeys ? key in options.apiKeys : /^pk_[A-Za-z0-9_]+$/.test(key));

  const scopesOf = (key: string): Set<string> =>
    scopeOverrides.get(key) ?? new Set(options.apiKeys?.[key]?.scopes ?? FAKE_KLAVIYO_ALL_SCOPES);

  const accountFor = (key: string): Account => {
    const id = state.accountIdOf(key);
    // Every account is made here, so each is an Account.
    let account = state.accounts.get(id) as Account | undefined;
    if (!account) {
      account = new Account(id, options.apiKeys?.[key]?.name ?? "Tenure Demo Store");
      state.accounts.set(id, account);
    }
    return account;
  };

  /** Klaviyo's fixed windows: a second, a minute and (create-list) a day, per account and endpoint. */
  const checkRateLimit = (accountId: string, endpoint: FakeKlaviyoEndpoint): void => {
    const limit = limits[endpoint];
    const at = clock();
    const key = `${accountId}|${endpoint}`;
    const counter = counters.get(key) ?? { second: -1, secondCount: 0, minute: -1, minuteCount: 0, day: -1, dayCount: 0 };
    counters.set(key, counter);
    const second = Math.floor(at / 1000);
    const minute = Math.floor(at / 60_000);
    const day = Math.floor(at / 86_400_000);
    if (counter.second !== second) Object.assign(counter, { second, secondCount: 0 });
    if (counter.minute !== minute) Object.assign(counter, { minute, minuteCount: 0 });
    if (counter.day !== day) Object.assign(counter, { day, dayCount: 0 });
    let retryAfterMs = 0;
    if (counter.secondCount >= limit.burst) retryAfterMs = Math.max(retryAfterMs, (second + 1) * 1000 - at);
    if (counter.minuteCount >= limit.steady) retryAfterMs = Math.max(retryAfterMs, (minute + 1) * 60_000 - at);
    if (limit.daily !== undefined && counter.dayCount >= limit.daily) retryAfterMs = Math.max(retryAfterMs, (day + 1) * 86_400_000 - at);
    if (retryAfterMs > 0) throw throttled(Math.max(1, Math.ceil(retryAfterMs / 1000)));
    counter.secondCount += 1;
    counter.minuteCount += 1;
    counter.dayCount += 1;
  };

  function throttled(seconds: number): HttpError {
    return new HttpError(
      429,
      "throttled",
      "Request was throttled.",
      `Request was throttled. Expected available in ${seconds} second${seconds === 1 ? "" : "s"}.`,
      { "Retry-After": String(seconds) },
    );
  }

  const route = (method: string, path: string): { endpoint: FakeKlaviyoEndpoint; params: string[] } | null => {
    const parts = path.replace(/\/+$/, "").split("/").filter(Boolean); // ["api", ...]
    if (parts[0] !== "api") return null;
    const [, resource, id, sub, subsub] = parts;
    if (resource === "accounts" && !id && method === "GET") return { endpoint: "accounts.get", params: [] };
    if (resource === "lists") {
      if (!id && method === "GET") return { endpoint: "lists.get", params: [] };
      if (!id && method === "POST") return { endpoint: "lists.create", params: [] };
      if (id && !sub && method === "GET") return { endpoint: "list.get", params: [id] };
      if (id && !sub && method === "PATCH") return { endpoint: "list.update", params: [id] };
      if (id && sub === "relationships" && subsub === "profiles") {
        if (method === "POST") return { endpoint: "list-profiles.add", params: [id] };
        if (method === "DELETE") return { endpoint: "list-profiles.remove", params: [id] };
      }
    }
    if (resource === "profiles" && !id && method === "GET") return { endpoint: "profiles.get", params: [] };
    if (resource === "profile-bulk-import-jobs") {
      if (!id && method === "POST") return { endpoint: "bulk-import.create", params: [] };
      if (id && !sub && method === "GET") return { endpoint: "bulk-import.get", params: [id] };
      if (id && sub === "import-errors" && method === "GET") return { endpoint: "bulk-import.errors", params: [id] };
      if (id && sub === "profiles" && method === "GET") return { endpoint: "bulk-import.profiles", params: [id] };
    }
    if (resource === "data-privacy-deletion-jobs" && !id && method === "POST") return { endpoint: "data-privacy-deletion.create", params: [] };
    return null;
  };

  // --- resources as documents ---------------------------------------------------------

  const listResource = (list: FakeKlaviyoList) => ({
    type: "list",
    id: list.id,
    attributes: { name: list.name, created: list.created, updated: list.updated, opt_in_process: "single_opt_in" },
    links: { self: `${baseUrl}/api/lists/${list.id}/` },
  });

  const profileDocument = (profile: FakeKlaviyoProfile) => ({
    type: "profile",
    id: profile.id,
    attributes: {
      email: profile.email,
      phone_number: profile.phone_number,
      external_id: profile.external_id,
      first_name: profile.first_name,
      last_name: profile.last_name,
      created: profile.created,
      updated: profile.updated,
      properties: profile.properties,
    },
    links: { self: `${baseUrl}/api/profiles/${profile.id}/` },
  });

  const jobStatus = (job: FakeKlaviyoJob): FakeKlaviyoJob["status"] => {
    const at = clock();
    if (job.status === "complete" || job.status === "cancelled") return job.status;
    if (at >= job.completesAt) return "processing"; // the timer that completes it is due
    return at >= job.startsAt ? "processing" : "queued";
  };

  const jobResource = (job: FakeKlaviyoJob) => {
    const status = jobStatus(job);
    const iso = (ms: number) => new Date(ms).toISOString().replace("Z", "+00:00");
    return {
      type: "profile-bulk-import-job",
      id: job.id,
      attributes: {
        status,
        created_at: iso(job.createdAt),
        total_count: job.totalCount,
        completed_count: status === "complete" ? job.completedCount : 0,
        failed_count: status === "complete" ? job.failedCount : 0,
        completed_at: status === "complete" ? iso(job.completesAt) : null,
        expires_at: iso(job.createdAt + 7 * 86_400_000),
        started_at: status === "queued" ? null : iso(job.startsAt),
      },
      relationships: {
        lists: {
          data: job.listIds.map((id) => ({ type: "list", id })),
          links: { self: `${baseUrl}/api/profile-bulk-import-jobs/${job.id}/relationships/lists/`, related: `${baseUrl}/api/profile-bulk-import-jobs/${job.id}/lists/` },
        },
        profiles: {
          links: { self: `${baseUrl}/api/profile-bulk-import-jobs/${job.id}/relationships/profiles/`, related: `${baseUrl}/api/profile-bulk-import-jobs/${job.id}/profiles/` },
        },
        "import-errors": { links: { related: `${baseUrl}/api/profile-bulk-import-jobs/${job.id}/import-errors/` } },
      },
      links: { self: `${baseUrl}/api/profile-bulk-import-jobs/${job.id}/` },
    };
  };

  /** Cursor pagination over an array: the cursor is the offset, opaque to clients. */
  const page = <T>(url: URL, items: T[], maxSize: number, defaultSize: number) => {
    const sizeText = url.searchParams.get("page[size]");
    const size = sizeText === null ? defaultSize : Number(sizeText);
    if (!Number.isInteger(size) || size < 1 || size > maxSize) throw invalid(`page[size] must be an integer between 1 and ${maxSize}.`);
    const cursor = url.searchParams.get("page[cursor]");
    const offset = cursor ? Number(Buffer.from(cursor, "base64url").toString()) : 0;
    if (!Number.isInteger(offset) || offset < 0) throw invalid("Invalid page[cursor].");
    const slice = items.slice(offset, offset + size);
    const next = offset + size < items.length ? new URL(url.toString()) : null;
    next?.searchParams.set("page[cursor]", Buffer.from(String(offset + size)).toString("base64url"));
    return { slice, links: { self: url.toString(), next: next ? next.toString() : null, prev: null } };
  };

  // --- the import itself --------------------------------------------------------------

  // Called once per imported profile (a million in the benchmark): plain loops, no closures
  // or arrays made per profile.
  /** The entry of an email, made if there is none. */
  const emailEntry = (account: FakeKlaviyoAccount, email: string): FakeKlaviyoEmail => {
    let entry = account.emails.get(email);
    if (entry === undefined) {
      entry = { profile: undefined, updatedAt: undefined };
      account.emails.set(email, entry);
    }
    return entry;
  };

  /** touchedAt: the profile's email is stamped as changed then (an import job completing). */
  const upsertProfile = (account: Account, resource: Record<string, unknown>, stamp = now(), touchedAt?: Date): FakeKlaviyoProfile => {
    const attributes = (resource.attributes ?? {}) as Record<string, unknown>;
    const email = typeof attributes.email === "string" ? attributes.email.toLowerCase() : null;
    const externalId = typeof attributes.external_id === "string" ? attributes.external_id : null;
    const entry = email === null ? undefined : account.emails.get(email);
    const existing =
      (typeof resource.id === "string" ? account.profiles.get(resource.id) : undefined) ??
      entry?.profile ??
      (externalId === null ? undefined : account.externalIds.get(externalId));
    const sent = (attributes.properties ?? {}) as Record<string, unknown>;
    // A new profile keeps the request's parsed properties object as its own when nothing in
    // it is to be skipped: nothing else holds it once the job is complete (ImportJob).
    const keep = existing === undefined && keepable(sent);
    const profile: FakeKlaviyoProfile = existing ?? {
      id: newId(26),
      email: null,
      external_id: null,
      first_name: null,
      last_name: null,
      phone_number: null,
      properties: keep ? sent : {},
      created: stamp,
      updated: stamp,
    };
    // Imports never clear a field with null (Klaviyo's documented behaviour); unset does.
    if (email) {
      if (profile.email && profile.email !== email) {
        const old = account.emails.get(profile.email);
        if (old) old.profile = undefined;
      }
      profile.email = email;
      if (entry === undefined) account.emails.set(email, { profile, updatedAt: touchedAt });
      else {
        entry.profile = profile;
        if (touchedAt) entry.updatedAt = touchedAt;
      }
    } else if (touchedAt && profile.email) emailEntry(account, profile.email).updatedAt = touchedAt;
    if (externalId) {
      if (profile.external_id && profile.external_id !== externalId) account.externalIds.delete(profile.external_id);
      profile.external_id = externalId;
      account.externalIds.set(externalId, profile);
    }
    if (typeof attributes.first_name === "string") profile.first_name = attributes.first_name;
    if (typeof attributes.last_name === "string") profile.last_name = attributes.last_name;
    if (typeof attributes.phone_number === "string") profile.phone_number = attributes.phone_number;
    if (!keep) {
      for (const name in sent) {
        const value = sent[name];
        if (value !== null && Object.hasOwn(sent, name)) profile.properties[name] = value;
      }
    }
    const unset = (resource.meta as { patch_properties?: { unset?: string | string[] } } | undefined)?.patch_properties?.unset;
    if (unset !== undefined) for (const name of Array.isArray(unset) ? unset : [unset]) if (Object.hasOwn(profile.properties, name)) delete profile.properties[name];
    profile.updated = stamp;
    if (existing === undefined) account.made(profile);
    return profile;
  };

  const importPointer = (index: number) => `/data/attributes/profiles/data/${index}/attributes`;

  /** The import error of a profile Klaviyo would refuse, or null. */
  const importError = (resource: Record<string, unknown>, index: number): ImportError | null => {
    const attributes = (resource.attributes ?? {}) as Record<string, unknown>;
    const email = attributes.email;
    const phone = attributes.phone_number;
    if (email === undefined && phone === undefined && attributes.external_id === undefined) {
      return { id: randomUUID(), code: "invalid", title: "Invalid input.", detail: "One of email, phone_number or external_id is required.", source: { pointer: importPointer(index) }, original_payload: resource };
    }
    if (email !== undefined && (typeof email !== "string" || !isEmail(email))) {
      return { id: randomUUID(), code: "invalid", title: "Invalid input.", detail: `Invalid email address: ${String(email)}`, source: { pointer: `${importPointer(index)}/email` }, original_payload: resource };
    }
    if (phone !== undefined && (typeof phone !== "string" || !/^\+[1-9]\d{6,14}$/.test(phone))) {
      return { id: randomUUID(), code: "invalid", title: "Invalid input.", detail: "Invalid phone number format (Example of a valid phone number format: +12345678901)", source: { pointer: `${importPointer(index)}/phone_number` }, original_payload: resource };
    }
    return null;
  };

  const completeJob = (account: Account, job: FakeKlaviyoJob): void => {
    if (job.status === "complete") return;
    // One time for the whole job, as it completes at once.
    const stamp = now();
    const completedAt = new Date();
    const lists = job.listIds.map((listId) => account.lists.get(listId)).filter((list) => list !== undefined);
    const profiles = job.profiles;
    for (let index = 0; index < profiles.length; index += 1) {
      const resource = profiles[index]!;
      const error = importError(resource, index);
      if (error) {
        job.errors.push(error);
        continue;
      }
      const profile = upsertProfile(account, resource, stamp, completedAt);
      job.profileIds.push(profile.id);
    }
    for (const list of lists) list.addLater(job.profileIds);
    job.completedCount = job.profileIds.length;
    job.failedCount = job.errors.length;
    job.status = "complete";
    if (job instanceof ImportJob) job.settled();
  };

  /** An injected clock has no timers: a job read past its end completes then. */
  const advance = (account: Account, job: FakeKlaviyoJob): void => {
    if (options.now && clock() >= job.completesAt) completeJob(account, job);
  };

  /** Stamps a profile's last change (by its email) with the server clock. */
  const markUpdated = (account: FakeKlaviyoAccount, profileId: string, at = new Date()): void => {
    const email = account.profiles.get(profileId)?.email;
    if (email) emailEntry(account, email).updatedAt = at;
  };

  // --- handlers -----------------------------------------------------------------------

  type Handler = (ctx: { account: Account; url: URL; params: string[]; body: unknown; text: string; bytes: number }) => { status: number; body?: unknown };

  const handlers: Record<FakeKlaviyoEndpoint, Handler> = {
    "accounts.get": ({ account }) => ({
      status: 200,
      body: {
        data: [
          {
            type: "account",
            id: account.id,
            attributes: {
              test_account: false,
              contact_information: {
                default_sender_name: account.name,
                default_sender_email: "hello@example.com",
                website_url: "https://example.com",
                organization_name: account.name,
                street_address: { address1: "1 Main St", address2: null, city: "Boston", region: "MA", country: "US", zip: "02110" },
              },
              industry: "Retail",
              timezone: "UTC",
              preferred_currency: "USD",
              public_api_key: account.id.slice(-6),
              locale: "en-US",
            },
            links: { self: `${baseUrl}/api/accounts/${account.id}/` },
          },
        ],
        links: { self: `${baseUrl}/api/accounts/`, next: null, prev: null },
      },
    }),

    "lists.get": ({ account, url }) => {
      let lists = [...account.lists.values()];
      const filter = url.searchParams.get("filter");
      if (filter) {
        for (const term of parseFilter(filter)) {
          if (term.field !== "name" && term.field !== "id") throw invalid(`Filtering lists by ${term.field} is not supported.`);
          lists = lists.filter((list) => term.values.includes(term.field === "name" ? list.name : list.id));
        }
      }
      const { slice, links } = page(url, lists, 10, 10);
      return { status: 200, body: { data: slice.map(listResource), links } };
    },

    "list.get": ({ account, params }) => {
      const list = account.lists.get(params[0]);
      if (!list) throw notFound(`A list with id ${params[0]} does not exist.`);
      return { status: 200, body: { data: listResource(list), links: { self: `${baseUrl}/api/lists/${list.id}/` } } };
    },

    "list.update": ({ account, params, body }) => {
      const list = account.lists.get(params[0]);
      if (!list) throw notFound(`A list with id ${params[0]} does not exist.`);
      const data = (body as { data?: { type?: string; id?: string; attributes?: { name?: unknown } } } | null)?.data;
      if (data?.type !== "list") throw invalid("The type must be 'list'.");
      if (data.id !== list.id) throw invalid("The id in the body must match the id in the URL.");
      const name = data.attributes?.name;
      if (typeof name !== "string" || name.trim() === "") throw invalid("'name' must be a non-empty string.");
      list.name = name;
      list.updated = now();
      return { status: 200, body: { data: listResource(list), links: { self: `${baseUrl}/api/lists/${list.id}/` } } };
    },

    "lists.create": ({ account, body }) => {
      const data = (body as { data?: { type?: string; attributes?: { name?: unknown } } } | null)?.data;
      if (data?.type !== "list") throw invalid("The type must be 'list'.");
      const name = data.attributes?.name;
      if (typeof name !== "string" || name.trim() === "") throw invalid("'name' is a required field.");
      const stamp = now();
      const list = new AccountList(newId(6), name, stamp, stamp);
      account.lists.set(list.id, list);
      return { status: 201, body: { data: listResource(list), links: { self: `${baseUrl}/api/lists/${list.id}/` } } };
    },

    "list-profiles.add": ({ account, params, body }) => {
      const list = account.lists.get(params[0]);
      if (!list) throw notFound(`A list with id ${params[0]} does not exist.`);
      for (const id of relationshipIds(body)) if (account.profiles.has(id) && !list.profileIds.has(id)) markUpdated(account, id);
      for (const id of relationshipIds(body)) if (account.profiles.has(id)) list.profileIds.add(id);
      return { status: 204 };
    },

    "list-profiles.remove": ({ account, params, body }) => {
      const list = account.lists.get(params[0]);
      if (!list) throw notFound(`A list with id ${params[0]} does not exist.`);
      for (const id of relationshipIds(body)) if (list.profileIds.has(id)) markUpdated(account, id);
      for (const id of relationshipIds(body)) list.profileIds.delete(id);
      list.updated = now();
      return { status: 204 };
    },

    "profiles.get": ({ account, url }) => {
      let profiles: FakeKlaviyoProfile[] | null = null;
      const filter = url.searchParams.get("filter");
      if (filter) {
        for (const term of parseFilter(filter)) {
          if (!["email", "id", "external_id", "phone_number"].includes(term.field)) throw invalid(`Filtering profiles by ${term.field} is not supported.`);
          if (term.op === "any" && term.values.length > 100) throw invalid("The any operator takes at most 100 values.");
          const wanted = new Set(term.field === "email" ? term.values.map((value) => value.toLowerCase()) : term.values);
          if (profiles === null && term.field !== "phone_number") {
            // Served from the identifier indexes, as a real lookup would be.
            profiles = [...wanted]
              .map((value) =>
                term.field === "email" ? account.emails.get(value)?.profile : term.field === "external_id" ? account.externalIds.get(value) : account.profiles.get(value),
              )
              .filter((profile) => profile !== undefined);
          } else {
            profiles = (profiles ?? [...account.profiles.values()]).filter((profile) =>
              wanted.has(String(profile[term.field as "email" | "id" | "external_id" | "phone_number"])),
            );
          }
        }
      }
      const { slice, links } = page(url, profiles ?? [...account.profiles.values()], 100, 20);
      return { status: 200, body: { data: slice.map(profileDocument), links } };
    },

    "bulk-import.create": ({ account, body, text, bytes }) => {
      if (bytes > FAKE_KLAVIYO_MAX_IMPORT_BYTES) {
        throw new HttpError(413, "payload_too_large", "Payload too large.", `The maximum allowed payload size is 5MB; this one is ${bytes} bytes.`);
      }
      const data = (body as { data?: Record<string, unknown> } | null)?.data;
      if (data?.type !== "profile-bulk-import-job") throw invalid("The type must be 'profile-bulk-import-job'.");
      const profiles = (data.attributes as { profiles?: { data?: unknown } } | undefined)?.profiles?.data;
      if (!Array.isArray(profiles) || profiles.length === 0) throw invalid("'profiles' must contain at least one profile.");
      if (profiles.length > FAKE_KLAVIYO_MAX_IMPORT_PROFILES) throw invalid(`A job accepts at most ${FAKE_KLAVIYO_MAX_IMPORT_PROFILES} profiles; got ${profiles.length}.`);
      for (let index = 0; index < profiles.length; index += 1) {
        const profile: unknown = profiles[index];
        if ((profile as { type?: string } | null)?.type !== "profile") throw invalid(`Profile ${index}: the type must be 'profile'.`);
        if (jsonBytesOver(profile, FAKE_KLAVIYO_MAX_PROFILE_BYTES)) throw invalid(`Profile ${index} is larger than 100KB.`);
      }
      const listIds = ((data.relationships as { lists?: { data?: { type: string; id: string }[] } } | undefined)?.lists?.data ?? []).map((item) => item.id);
      for (const id of listIds) if (!account.lists.has(id)) throw notFound(`A list with id ${id} does not exist.`);
      const createdAt = clock();
      const startsAt = createdAt + timing.queuedMs;
      const completesAt = startsAt + timing.processingMs + Math.round((profiles.length / timing.profilesPerSecond) * 1000);
      const job = new ImportJob(newId(26), listIds, profiles as Record<string, unknown>[], text, createdAt, startsAt, completesAt);
      account.jobs.set(job.id, job);
      if (!options.now) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          completeJob(account, job);
        }, completesAt - createdAt);
        timers.add(timer);
      }
      return { status: 202, body: { data: jobResource(job), links: { self: `${baseUrl}/api/profile-bulk-import-jobs/${job.id}/` } } };
    },

    "bulk-import.get": ({ account, params }) => {
      const job = account.jobs.get(params[0]);
      if (!job) throw notFound(`A job with id ${params[0]} does not exist.`);
      advance(account, job);
      return { status: 200, body: { data: jobResource(job), links: { self: `${baseUrl}/api/profile-bulk-import-jobs/${job.id}/` } } };
    },

    "bulk-import.errors": ({ account, params, url }) => {
      const job = account.jobs.get(params[0]);
      if (!job) throw notFound(`A job with id ${params[0]} does not exist.`);
      advance(account, job);
      const { slice, links } = page(url, job.errors, 100, 20);
      return {
        status: 200,
        body: {
          data: slice.map((error) => ({
            type: "import-error",
            id: error.id,
            attributes: { code: error.code, title: error.title, detail: error.detail, source: error.source, original_payload: error.original_payload },
          })),
          links,
        },
      };
    },

    "bulk-import.profiles": ({ account, params, url }) => {
      const job = account.jobs.get(params[0]);
      if (!job) throw notFound(`A job with id ${params[0]} does not exist.`);
      advance(account, job);
      const profiles = job.profileIds.map((id) => account.profiles.get(id)).filter((profile) => profile !== undefined);
      const { slice, links } = page(url, profiles, 100, 20);
      return { status: 200, body: { data: slice.map(profileDocument), links } };
    },

    "data-privacy-deletion.create": ({ account, body }) => {
      const data = (body as { data?: Record<string, unknown> } | null)?.data;
      if (data?.type !== "data-privacy-deletion-job") throw invalid("The type must be 'data-privacy-deletion-job'.");
      const profile = (data.attributes as { profile?: { data?: { id?: string | null; attributes?: Record<string, unknown> } } } | undefined)?.profile?.data;
      const identifiers: { email?: string; id?: string; phone_number?: string } = {};
      if (typeof profile?.id === "string") identifiers.id = profile.id;
      if (typeof profile?.attributes?.email === "string") identifiers.email = profile.attributes.email.toLowerCase();
      if (typeof profile?.attributes?.phone_number === "string") identifiers.phone_number = profile.attributes.phone_number;
      if (Object.keys(identifiers).length !== 1) throw invalid("Exactly one of email, phone_number or id must be provided.");
      if (identifiers.email !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(identifiers.email)) {
        throw new HttpError(400, "invalid", "Invalid input.", `Invalid email address: ${identifiers.email}`);
      }
      // A profile id names one resource: one that does not exist (never did, or deleted already) is a 404.
      if (identifiers.id !== undefined && !account.profiles.has(identifiers.id)) throw notFound(`A profile with id ${identifiers.id} does not exist.`);
      account.erasures.push(identifiers);
      for (const candidate of [...account.profiles.values()]) {
        const matches =
          candidate.id === identifiers.id || (identifiers.email !== undefined && candidate.email === identifiers.email) || (identifiers.phone_number !== undefined && candidate.phone_number === identifiers.phone_number);
        if (!matches) continue;
        account.profiles.delete(candidate.id);
        const entry = candidate.email ? account.emails.get(candidate.email) : undefined;
        if (entry) entry.profile = undefined;
        if (candidate.external_id) account.externalIds.delete(candidate.external_id);
        for (const list of account.lists.values()) list.profileIds.delete(candidate.id);
      }
      return { status: 202 };
    },
  };

  function relationshipIds(body: unknown): string[] {
    const data = (body as { data?: unknown } | null)?.data;
    if (!Array.isArray(data)) throw invalid("'data' must be an array of profile identifiers.");
    if (data.length > 1000) throw invalid("At most 1000 profiles per call.");
    return data.map((item: { type?: string; id?: string }) => {
      if (item?.type !== "profile" || typeof item.id !== "string") throw invalid("Each item must be {type: 'profile', id}.");
      return item.id;
    });
  }

  // --- the server ---------------------------------------------------------------------

  // A body is read into a buffer kept for the next request (an import's is megabytes: one
  // allocation and copy less each). Decoded as UTF-8 even when all ASCII: Node makes a
  // Latin-1 text over 1 MB an external string, and a million profiles' kept request texts
  // outside the heap about doubled the garbage collector threads' CPU (task K6F).
  const spareBuffers: Buffer[] = [];

  /** The request's body as text, with its size in bytes. */
  const readBody = async (req: IncomingMessage): Promise<{ text: string; bytes: number }> => {
    const declared = Number(req.headers["content-length"]);
    let buffer = spareBuffers.pop() ?? Buffer.allocUnsafeSlow(65_536);
    try {
      if (declared > buffer.length && declared <= 4 * FAKE_KLAVIYO_MAX_IMPORT_BYTES) buffer = Buffer.allocUnsafeSlow(declared);
      let size = 0;
      for await (const chunk of req) {
        const bytes = chunk as Buffer;
        if (size + bytes.length > 4 * FAKE_KLAVIYO_MAX_IMPORT_BYTES) throw new HttpError(413, "payload_too_large", "Payload too large.", "The request body is too large.");
        if (size + bytes.length > buffer.length) {
          const larger = Buffer.allocUnsafeSlow(Math.max(2 * buffer.length, size + bytes.length));
          buffer.copy(larger, 0, 0, size);
          buffer = larger;
        }
        bytes.copy(buffer, size);
        size += bytes.length;
      }
      const body = buffer.subarray(0, size);
      return { text: size === 0 ? "" : body.toString("utf8"), bytes: size };
    } finally {
      // A few kept, none much larger than an import may be: an oversized body's goes.
      if (spareBuffers.length < 4 && buffer.length <= 2 * FAKE_KLAVIYO_MAX_IMPORT_BYTES) spareBuffers.push(buffer);
    }
  };

  const send = (res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { ...(body === undefined ? {} : { "Content-Type": "application/vnd.api+json" }), ...headers });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", baseUrl);
    const revision = typeof req.headers.revision === "string" ? req.headers.revision : null;
    const matched = route(method, url.pathname);
    const record = (status: number) => state.requests.push({ method, path: url.pathname, endpoint: matched?.endpoint ?? null, status, revision, at: Date.now() });

    // Infrastructure trouble first: it happens before Klaviyo's application sees the request.
    if (injected.timeouts > 0) {
      injected.timeouts -= 1;
      record(0);
      hanging.add(res);
      res.on("close", () => hanging.delete(res));
      return;
    }
    if (injected.serverErrors > 0) {
      injected.serverErrors -= 1;
      record(injected.serverErrorStatus);
      send(res, injected.serverErrorStatus, errorDocument(injected.serverErrorStatus, "error", "A server error occurred.", "A server error occurred."));
      return;
    }
    try {
      const { text, bytes } = await readBody(req);
      if (injected.storm > 0) {
        injected.storm -= 1;
        throw throttled(injected.stormRetryAfter);
      }
      const authorization = req.headers.authorization ?? "";
      const scheme = /^Klaviyo-API-Key\s+(\S+)$/.exec(authorization);
      if (!scheme) {
        throw new HttpError(401, "not_authenticated", "Authentication credentials were not provided.", "Missing or invalid authorization scheme. Please use Klaviyo-API-Key.");
      }
      const key = scheme[1];
      if (!keyAllowed(key)) throw new HttpError(401, "authentication_failed", "Incorrect authentication credentials.", "Incorrect authentication credentials.");
      if (!revision || !/^\d{4}-\d{2}-\d{2}(\.\w+)?$/.test(revision)) {
        throw new HttpError(400, "invalid", "Invalid input.", "A valid revision header (YYYY-MM-DD) is required.");
      }
      if (!matched) throw notFound(`No route for ${method} ${url.pathname}.`);
      const scopes = scopesOf(key);
      if (!SCOPES_NEEDED[matched.endpoint].every((scope) => scopes.has(scope))) {
        throw new HttpError(403, "permission_denied", "You do not have permission to perform this action.", "You do not have permission to perform this action.");
      }
      const account = accountFor(key);
      checkRateLimit(account.id, matched.endpoint);
      let body: unknown = null;
      if (bytes > 0) {
        try {
          body = JSON.parse(text);
        } catch {
          throw new HttpError(400, "parse_error", "Malformed request.", "The request body is not valid JSON.");
        }
      }
      const answer = handlers[matched.endpoint]({ account, url, params: matched.params, body, text, bytes });
      record(answer.status);
      send(res, answer.status, answer.body, { "RateLimit-Limit": String(limits[matched.endpoint].steady) });
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      if (error.status === 429) state.rateLimited += 1;
      record(error.status);
      send(res, error.status, errorDocument(error.status, error.code, error.title, error.detail), error.headers);
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, errorDocument(500, "error", "A server error occurred.", String(error)));
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.listen(options.port ?? 0, "127.0.0.1");
  await once(server, "listening");
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const inject: FakeKlaviyoInject = {
    revokeKey: (key) => void revoked.add(key),
    restoreKey: (key) => void revoked.delete(key),
    setScopes: (key, scopes) => void scopeOverrides.set(key, new Set(scopes)),
    serverErrors: (n, status = 503) => Object.assign(injected, { serverErrors: n, serverErrorStatus: status }),
    timeouts: (n) => void (injected.timeouts = n),
    rateLimitStorm: (n, retryAfterSeconds = 1) => Object.assign(injected, { storm: n, stormRetryAfter: retryAfterSeconds }),
  };

  return {
    url: baseUrl,
    state,
    inject,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const res of hanging) res.destroy();
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, "close").catch(() => undefined);
    },
  };
}
