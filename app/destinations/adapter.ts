import { type TenureProfileProperties } from "~/display/profile-properties";

// The contract between the sync engine (app/destinations/sync.server.ts) and each email
// tool's adapter (klaviyo.server.ts, mailchimp.server.ts). The engine decides WHAT each
// destination must hold (from CustomerMetrics, consent and DestinationMember); an adapter
// only knows HOW to say it to its tool. Adapters never read the database or the
// environment, so the same adapter runs against the real API and the fakes (demo/fakes).

// The email tools a merchant connects on the Integrations page (with an API key).
export const DESTINATION_KINDS = ["klaviyo", "mailchimp"] as const;
export type DestinationKind = (typeof DESTINATION_KINDS)[number];

/**
 * The Shopify write-back (issue 15): each installed shop's own store, one more destination
 * of the same outbox, made by Tenure at install (no key, never offered on the page).
 */
export const SHOPIFY_DESTINATION_KIND = "shopify";
/** Every kind the engine syncs: the email tools and the Shopify write-back. */
export type SyncKind = DestinationKind | typeof SHOPIFY_DESTINATION_KIND;

// Tenure's figures as profile properties: one definition for syncs and exports.
export type { TenureProfileProperties };

/** One customer as a destination receives them. */
export interface DestinationProfile {
  /** Shopify's customer id (decimal): Klaviyo's external_id. */
  customerId: string;
  email: string;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
  /** Shopify's email marketing state, GraphQL spelling (SUBSCRIBED, NOT_SUBSCRIBED, ...); null: never asked. */
  emailConsentState: string | null;
  properties: TenureProfileProperties;
}

/** A synced segment: its key, the remote list or tag name ("Tenure: <segment name>") and its remote id once created. */
export interface SegmentTarget {
  segmentKey: string;
  name: string;
  remoteId: string | null;
}

/**
 * What must change at the destination for one customer. `add`, `remove` and `keep` are
 * segment keys (their remote ids come with push's `targets`). A customer who stops being
 * sendable (unsubscribed, no email, redacted, no longer scored) arrives with only `remove`;
 * their `profile` then carries the email the destination knows them by.
 */
export interface MemberChange {
  profile: DestinationProfile;
  /** The destination's own id for the profile, when an earlier sync learned it. */
  remoteProfileId: string | null;
  /**
   * The email the destination holds the customer under when it differs from
   * profile.email (the customer changed their address in Shopify): removals and the
   * old profile's lists are found by it. null: unchanged or never sent.
   */
  previousEmail?: string | null;
  add: string[];
  remove: string[];
  keep: string[];
  /** The Shopify write-back only: the customer's metafields Tenure wants and those Shopify holds. */
  metafields?: MetafieldsChange;
  /**
   * `profile` as this adapter's profileText wrote it, when the engine made it for its hash:
   * push sends it instead of serialising the profile again (each profile is serialised
   * once), and may clear it once it is in the request, so batches in flight do not hold it.
   */
  profileText?: string;
}

/**
 * A customer's metafields for the Shopify write-back. `wanted`: key -> value and type Tenure
 * computes now (keys absent have no figure and must not exist in Shopify); `held`: key ->
 * value as last written (null: unknown, every key is sent and every absent key deleted).
 */
export interface MetafieldsChange {
  wanted: Readonly<Record<string, { type: string; value: string }>>;
  held: Readonly<Record<string, string>> | null;
}

/**
 * The result of one change: ok (with the remote profile id when the tool told it), or a
 * permanent refusal of this profile (invalid email, ...) with the tool's reason, which the
 * engine records and does not retry. Transient trouble is thrown, never returned.
 */
export type MemberOutcome =
  | { customerId: string; ok: true; remoteProfileId?: string | null }
  | { customerId: string; ok: false; reason: string };

/** Someone to delete permanently at the destination (customers/redact). */
export interface ErasureTarget {
  email: string;
  remoteProfileId: string | null;
  /** Shopify's customer id (decimal): the Shopify write-back erases by it ('' email). */
  customerId?: string;
}

export interface DestinationAdapter {
  readonly kind: SyncKind;
  /** The most changes one push takes (the engine never passes more). */
  readonly batchSize: number;
  /**
   * How many pushes the engine may have running at once (default MAX_BATCHES_IN_FLIGHT in
   * sync.server.ts): a tool whose pushes mostly wait (Klaviyo's import jobs) keeps more going.
   */
  readonly maxBatchesInFlight?: number;
  /**
   * Makes sure every target exists remotely: found by remoteId, else by name, else created.
   * Returns segmentKey -> remote id for every target.
   */
  ensureTargets(targets: readonly SegmentTarget[]): Promise<Map<string, string>>;
  /**
   * Sends the changes: profile properties upserted, memberships added and removed. Never
   * subscribes anyone. Returns one outcome per change (any order). Throws
   * DestinationAuthError when the key is revoked or lacks a scope (the engine pauses the
   * destination) and DestinationRetryableError when the tool stays unavailable after the
   * adapter's own retries (the engine keeps the changes for a later pass).
   */
  push(changes: readonly MemberChange[], targets: ReadonlyMap<string, string>): Promise<MemberOutcome[]>;
  /**
   * Optional: a profile serialised as this adapter sends it (Klaviyo: an import job's profile
   * resource). The engine then hashes this text (sentTextHash: the member row keeps the
   * segments beside it) and hands it to push on the change (MemberChange.profileText).
   */
  profileText?(profile: DestinationProfile): string;
  /** Requests permanent deletion of these people; the same errors as push. */
  erase(people: readonly ErasureTarget[]): Promise<void>;
}

/** Where an adapter sends its requests: the real API by default, a fake in tests and the demo. */
export interface AdapterOptions {
  /** Klaviyo: replaces https://a.klaviyo.com; Mailchimp: replaces https://<dc>.api.mailchimp.com. */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** Per-request timeout (ms). */
  timeoutMs?: number;
}

/** What connecting found out: the account's public facts to store, or why the key cannot be used. */
export type Verification =
  | { ok: true; account: Record<string, unknown> }
  | { ok: false; reason: string; missingScopes?: string[] };

/**
 * Why a destination cannot work until the merchant acts: `key`, the tool refused the API key
 * (revoked, lacking access); `setup`, the key is fine but something chosen is missing (no
 * Mailchimp audience, or it no longer exists). The message is the merchant's sentence.
 */
export type DestinationAuthKind = "key" | "setup";

export class DestinationAuthError extends Error {
  constructor(
    message: string,
    readonly kind: DestinationAuthKind = "key",
  ) {
    super(message);
    this.name = "DestinationAuthError";
  }
}

export class DestinationRetryableError extends Error {
  constructor(
    message: string,
    /** When the tool said to come back (Retry-After), in ms from now. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = "DestinationRetryableError";
  }
}
