import { createHash, hash as hashOnce } from "node:crypto";
import type pg from "pg";
import {
  type CustomerSyncState,
  type DestinationRow,
  type FullPassReason,
  type MemberWrite,
  type OutboxEntry,
  type RunCounts,
  type RunKind,
  countFullCandidates,
  countShopifyFullCandidates,
  clearFullWantedIfUnchanged,
  countOutbox,
  deleteErasures,
  deleteOutboxIfUnchanged,
  failInterruptedRuns,
  finishDestinationRun,
  forgetEmptyRetiredTargets,
  noteErasureFailure,
  pauseDestination,
  readCustomerSyncStates,
  readDestination,
  readDestinationSegments,
  readErasures,
  fullPassGroups,
  readFullBatch,
  readFullBatchStates,
  readShopifyFullBatch,
  readOutboxBatch,
  readOutboxOf,
  recordDestinationFailures,
  saveSegmentRemoteIds,
  startDestinationRun,
  tryLockDestination,
  unlockDestination,
  updateDestinationRun,
  updateSealedCredentials,
  writeMembers,
} from "~/data/destinations.server";
import { loadMetricsSettings, readShopifyTagging } from "~/data/settings.server";
import { checkOut, clientTransaction } from "~/db/pg.server";
import { type ProfileShop, destinationSegmentName, tenureProfileProperties } from "~/display/profile-properties";
import { type Logger, errorMessage, silentLogger } from "~/lib/log.server";
import {
  DESTINATION_KINDS,
  type DestinationAdapter,
  DestinationAuthError,
  type DestinationAuthKind,
  type DestinationKind,
  type DestinationProfile,
  type MemberChange,
  type MemberOutcome,
  type SegmentTarget,
  SHOPIFY_DESTINATION_KIND,
  type SyncKind,
} from "./adapter";
import { type AdapterFactory, createAdapter } from "./adapters.server";
import { type AdminGraphqlClient } from "./shopify/definitions.server";
import { RFM_SEGMENT_VALUES, tenureMetafieldValues, TENURE_METAFIELD_DEFINITIONS } from "./shopify/metafields";
import { type ShopifyWritebackOptions, shopifyWritebackAdapter } from "./shopify/writeback.server";
import { SecretError, destinationSecretContext, openSecret, sealSecret } from "./secrets.server";

// The sync engine: decides WHAT a destination must hold and sends the difference through
// its adapter (HOW). State-based, keyed by customer (ADR 0016): a pass compares each
// candidate's current state (consent, metrics, chosen segments) with what the destination
// holds (DestinationMember) and sends only what differs, so any number of passes in any
// order converge on Tenure's segments. README.md in this folder has the rules.

export interface SyncDeps {
  pool: pg.Pool;
  /** Builds a destination's adapter (default: the registry, adapters.server.ts). */
  adapterFor?: AdapterFactory;
  logger?: Logger;
  /**
   * The worker's Admin GraphQL client (app/integrations/shopify-admin.server.ts), through which
   * the Shopify write-back writes. Without it (a process with no Shopify work: tests, the demo)
   * a "shopify" destination's passes return `waiting` and its changes wait in the outbox.
   */
  shopifyAdmin?: AdminGraphqlClient;
  /** The Shopify write-back adapter's options (tests: a smaller bulk threshold). */
  shopifyWriteback?: ShopifyWritebackOptions;
}

export type FullReason = FullPassReason;

export interface PassResult {
  /**
   * done: the pass ran to the end; paused: the key was refused (or the destination was
   * paused); gone: disconnected; waiting: Mailchimp without a chosen audience (changes wait).
   */
  status: "done" | "paused" | "gone" | "waiting";
  runId: string | null;
  counts: RunCounts;
}

/** Another pass of this destination holds its lock: the job waits and runs again (never dropped). */
export class DestinationBusyError extends Error {
  constructor(readonly destinationId: string) {
    super(`destination ${destinationId} has a pass running`);
    this.name = "DestinationBusyError";
  }
}

/**
 * What a merchant reads on the Destinations page when a destination pauses: a refused key
 * asks for a valid one; a setup problem (no audience, a deleted audience) is the adapter's
 * own sentence, which says what to choose.
 */
export function pauseNotice(kind: string, reason: string, cause: DestinationAuthKind = "key"): string {
  if (cause === "setup") return reason;
  const label = kind === "klaviyo" ? "Klaviyo" : kind === "mailchimp" ? "Mailchimp" : kind;
  return `${label} refused Tenure's API key (${reason}). Sync is paused and no change is lost: paste a valid key to resume.`;
}

const emptyCounts = (): RunCounts => ({ compared: 0, sent: 0, failed: 0, leftOut: 0 });

/**
 * Runs `work` holding the destination's pass lock on a connection of its own. Runs still
 * 'running' are failed as interrupted first: the lock is ours, so their worker died. A lock
 * that could not be released never returns to the pool: its connection is destroyed (which
 * ends the session and its lock).
 */
export async function withDestinationLock<T>(pool: pg.Pool, destinationId: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await checkOut(pool);
  let releaseError: Error | undefined;
  try {
    if (!(await tryLockDestination(client, destinationId))) throw new DestinationBusyError(destinationId);
    try {
      await failInterruptedRuns(client, destinationId);
      return await work(client);
    } finally {
      await unlockDestination(client, destinationId).catch((error: unknown) => {
        releaseError = error instanceof Error ? error : new Error(String(error));
      });
    }
  } finally {
    client.release(releaseError);
  }
}

interface Opened {
  destination: DestinationRow;
  kind: SyncKind;
  adapter: DestinationAdapter;
}

/**
 * The destination and its adapter, or null when there is nothing to do (gone, paused, or a
 * key that cannot be opened, which pauses it with a notice: an operator's missing key must
 * not become a retry loop).
 */
async function openDestination(client: pg.PoolClient, destinationId: string, deps: SyncDeps): Promise<Opened | { status: "gone" | "paused" | "waiting" }> {
  const destination = await readDestination(client, destinationId);
  if (!destination) return { status: "gone" };
  if (destination.status === "paused") return { status: "paused" };
  if (destination.kind === "mailchimp" && typeof destination.account.audienceId !== "string") return { status: "waiting" };
  // The Shopify write-back has no key: it writes with the shop's own session, through the worker's client.
  if (destination.kind === SHOPIFY_DESTINATION_KIND) {
    if (!deps.shopifyAdmin) return { status: "waiting" };
    return { destination, kind: SHOPIFY_DESTINATION_KIND, adapter: shopifyWritebackAdapter(deps.shopifyAdmin, destination.shop, deps.shopifyWriteback) };
  }
  const kind = destination.kind as DestinationKind;
  if (!DESTINATION_KINDS.includes(kind)) throw new Error(`destination ${destinationId} has an unknown kind "${destination.kind}"`);
  const context = destinationSecretContext(destination.shop, destination.kind);
  let apiKey: string;
  try {
    const opened = openSecret(destination.sealedCredentials, context);
    apiKey = opened.plaintext;
    // Key rotation: a secret sealed under a retired key is sealed again under the current one.
    if (opened.needsReseal) await updateSealedCredentials(client, destinationId, sealSecret(apiKey, context), destination.sealedCredentials);
  } catch (error) {
    if (!(error instanceof SecretError)) throw error;
    (deps.logger ?? silentLogger).error("destination key cannot be opened: paused", { destinationId, error: error.message });
    await pauseDestination(client, destinationId, "Tenure could not read the stored API key. Sync is paused and no change is lost: paste the key again to resume.");
    return { status: "paused" };
  }
  return { destination, kind, adapter: (deps.adapterFor ?? createAdapter)(kind, apiKey, destination.account) };
}

// ------------------------------------------------------------------ desired state

type ShopView = ProfileShop;

/** The chosen segments the customer is in (whatever their consent), sorted; no Set or spread per customer (a full pass compares millions). */
const segmentsOf = (state: CustomerSyncState, chosen: ReadonlySet<string>): string[] => {
  const keys: string[] = [];
  if (state.segment !== null && chosen.has(state.segment)) keys.push(state.segment);
  for (const key of state.behaviours) if (chosen.has(key) && !keys.includes(key)) keys.push(key);
  return keys.length > 1 ? keys.sort() : keys;
};

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));

/** sha1 of the canonical JSON of what was sent: the profile and the segments. */
export function syncHash(profile: DestinationProfile, segments: readonly string[]): string {
  // One-shot: a Hash object per customer cost more than the hashing (the same digest).
  return hashOnce("sha1", JSON.stringify({ profile, segments: [...segments].sort() }), "hex");
}

/** Marks a sentTextHash: a member's syncedHash without it is a syncHash (written before it). */
export const SENT_TEXT_HASH_PREFIX = "t1:";

/**
 * The hash of what an adapter that serialises its own profiles (DestinationAdapter.profileText)
 * sent: its text, serialised once for this hash and for the request (docs/destinations/
 * klaviyo.md, task K6T). The segments are not in it: the member row keeps them beside the
 * hash and compareCustomer compares them as a set.
 */
export function sentTextHash(text: string): string {
  return SENT_TEXT_HASH_PREFIX + hashOnce("sha1", text, "hex");
}

export interface Comparison {
  customerId: string;
  /** null: the destination already holds this, or holds nothing and should hold nothing. */
  change: MemberChange | null;
  desired: string[];
  /** What the member row keeps once the change is sent ("" when there is nothing to send and no row). */
  hash: string;
  /** In a chosen segment but not sent (no email, not subscribed). */
  leftOut: boolean;
  /**
   * Once sent, the destination holds the customer (a member row is kept): an email tool when
   * they are in some list; the Shopify write-back whenever they are scored (metafields, tags or not).
   */
  hold: boolean;
  /** The Shopify write-back: the metafield values Shopify holds once this change is sent. */
  heldValues?: Record<string, string> | null;
  /** The destination held no member row for the customer when read (their row is then a plain insert: writeMembers). */
  first?: boolean;
}

/**
 * What the destination must change for one customer (pure). With `profileText` (the
 * adapter's serialisation) the hash is sentTextHash of its text, made once and handed to the
 * adapter on the change (MemberChange.profileText); a member whose row still has a syncHash (synced before) is
 * compared by that, so nobody is sent again only because the hash's form changed.
 */
export function compareCustomer(
  state: CustomerSyncState,
  chosen: ReadonlySet<string>,
  shop: ShopView,
  profileText?: (profile: DestinationProfile) => string,
): Comparison {
  const inChosen = segmentsOf(state, chosen);
  const desired = state.sendable ? inChosen : [];
  const member = state.member;
  const leftOut = !state.sendable && inChosen.length > 0;
  const hold = desired.length > 0;
  const customerId = state.customerId;
  // Nothing held and nothing to send: no profile, no hash (no row is written).
  if (desired.length === 0 && member === null) return { customerId, change: null, desired, hash: "", leftOut, hold };
  const email = state.sendable ? state.email!.trim() : (member?.email ?? state.email ?? "");
  const profile: DestinationProfile = {
    customerId,
    email,
    firstName: state.firstName,
    lastName: state.lastName,
    phone: state.phone,
    emailConsentState: state.emailConsentState,
    properties: tenureProfileProperties(state, shop),
  };
  const text = profileText?.(profile);
  const hash = text === undefined ? syncHash(profile, desired) : sentTextHash(text);
  if (member === null) {
    // A first send (an initial sync's everyone): every desired segment is added.
    return { customerId, first: true, change: { profile, remoteProfileId: null, add: desired, remove: [], keep: [], profileText: text }, desired, hash, leftOut, hold };
  }
  const held = member.segments;
  if (
    sameSet(held, desired) &&
    (member.syncedHash === hash ||
      (text !== undefined && member.syncedHash !== null && !member.syncedHash.startsWith(SENT_TEXT_HASH_PREFIX) && member.syncedHash === syncHash(profile, desired)))
  ) {
    return { customerId, change: null, desired, hash, leftOut, hold };
  }
  // The destination holds the customer under another address: the adapter finds them by it.
  const previousEmail = member.email.trim().toLowerCase() !== email.toLowerCase() ? member.email : null;
  return {
    customerId,
    first: false,
    change: {
      profile,
      remoteProfileId: member.remoteProfileId,
      ...(previousEmail === null ? {} : { previousEmail }),
      add: held.length === 0 ? desired : desired.filter((key) => !held.includes(key)),
      remove: desired.length === 0 ? held : held.filter((key) => !desired.includes(key)),
      keep: held.length === 0 || desired.length === 0 ? [] : desired.filter((key) => held.includes(key)),
      profileText: text,
    },
    desired,
    hash,
    leftOut,
    hold,
  };
}

const ALL_METAFIELD_KEYS = TENURE_METAFIELD_DEFINITIONS.map((definition) => definition.key);

/**
 * What the Shopify write-back must change for one customer (pure). Every scored customer is
 * written, consent or email aside (metafields are the merchant's own data in their own store);
 * a customer with no metrics row any more has their metafields deleted and their tags removed.
 * Desired "segments" are the customer's Tenure tags: their RFM segment when tagging is on,
 * else none. The hash covers only what Shopify gets (metafield values and tags), so a change
 * of name or email rewrites nothing.
 */
export function compareShopifyCustomer(state: CustomerSyncState, tagging: boolean, shop: ShopView): Comparison {
  const scored = state.scored && typeof state.scoredAt === "string";
  const desired = tagging && scored && state.segment !== null && RFM_SEGMENT_VALUES.includes(state.segment) ? [state.segment] : [];
  const held = state.member?.segments ?? [];
  const write = scored ? tenureMetafieldValues(state, shop, new Date(state.scoredAt!)) : { set: [], clear: ALL_METAFIELD_KEYS };
  const wanted: Record<string, { type: string; value: string }> = {};
  const heldValues: Record<string, string> = {};
  for (const value of [...write.set].sort((a, b) => a.key.localeCompare(b.key))) {
    wanted[value.key] = { type: value.type, value: value.value };
    heldValues[value.key] = value.value;
  }
  const hash = createHash("sha1").update(JSON.stringify({ metafields: heldValues, tags: desired })).digest("hex");
  const none = { customerId: state.customerId, desired, hash, leftOut: false, hold: scored, heldValues };
  if (!scored && state.member === null) return { change: null, ...none };
  if (state.member !== null && state.member.syncedHash === hash && sameSet(held, desired)) return { change: null, ...none };
  return {
    first: state.member === null,
    change: {
      profile: {
        customerId: state.customerId,
        // Shopify finds the customer by id: no email is kept (on the member row or an erasure's).
        email: "",
        firstName: state.firstName,
        lastName: state.lastName,
        phone: state.phone,
        emailConsentState: state.emailConsentState,
        properties: tenureProfileProperties(state, shop),
      },
      remoteProfileId: null,
      add: desired.filter((key) => !held.includes(key)),
      remove: held.filter((key) => !desired.includes(key)),
      keep: desired.filter((key) => held.includes(key)),
      metafields: { wanted, held: state.member?.heldValues ?? null },
    },
    ...none,
  };
}

// ------------------------------------------------------------------ a pass

/** A connection and the queue that runs its work one piece at a time. */
interface Lane {
  client: pg.PoolClient;
  /** Runs database work on `client` one piece at a time: a read never lands inside another's transaction. */
  serial: <T>(work: () => Promise<T>) => Promise<T>;
  /** Pieces of work queued or running. */
  readonly queued: number;
}

function laneOf(client: pg.PoolClient): Lane {
  let queue: Promise<unknown> = Promise.resolve();
  let queued = 0;
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    queued += 1;
    const result = queue.then(work).finally(() => void (queued -= 1));
    queue = result.catch(() => {});
    return result;
  };
  return {
    client,
    serial,
    get queued() {
      return queued;
    },
  };
}

/** How long a pass waits for a spare connection (to read or commit on) before it uses its lock's. */
const SPARE_CONNECTION_WAIT_MS = 2_000;

/** The share of a pool's connections a pass leaves free when it borrows spares (the worker's other jobs share the pool). */
const SPARE_HEADROOM_SHARE = 0.25;

/**
 * A spare connection for the pass: its reads (the next batch is read while earlier ones
 * commit) or a second lane of commits; null when the pool has no room. Taken only while
 * nobody waits and a quarter of the pool stays free after it, and never waited for long: a
 * pass must not wait for a connection other passes hold (a worker pool whose connections are
 * all held by passes waiting for another would deadlock), nor crowd out the worker's other jobs.
 */
async function borrowSpareConnection(pool: pg.Pool): Promise<pg.PoolClient | null> {
  const max = pool.options.max ?? 10;
  const free = max - pool.totalCount + pool.idleCount;
  if (pool.waitingCount > 0 || free - 1 < Math.ceil(max * SPARE_HEADROOM_SHARE)) return null;
  const pending = checkOut(pool);
  let timer: NodeJS.Timeout | undefined;
  const got = await Promise.race([
    pending.catch(() => null),
    new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), SPARE_CONNECTION_WAIT_MS);
    }),
  ]);
  clearTimeout(timer);
  // Too late: the connection goes back as soon as it comes.
  if (got === null) void pending.then((client) => client.release(), () => {});
  return got;
}

interface PassContext {
  /** Holds the pass lock; the pass's writes go through it, by `serial`. */
  client: pg.PoolClient;
  /** Runs database work on `client` one piece at a time (the run's counts, and commits given to its lane). */
  serial: <T>(work: () => Promise<T>) => Promise<T>;
  /** Where candidates and states are read: a second connection when the pool had room, else `client`'s lane. */
  read: Lane;
  /**
   * Where batches commit: `client`'s lane, and a spare connection's when the pool had room.
   * Batches in flight hold different customers (sendAll), so their commits may run at once.
   */
  writes: readonly Lane[];
  destination: DestinationRow;
  adapter: DestinationAdapter;
  shop: ShopView;
  chosen: ReadonlySet<string>;
  /** Compares one customer: the email tools' rule, or the Shopify write-back's. */
  compare: (state: CustomerSyncState) => Comparison;
  targets: ReadonlyMap<string, string>;
  runId: string;
  counts: RunCounts;
}

/** Targets ensured remotely; returns segmentKey -> remote id, the retired targets included (their members leave them). */
async function ensureTargets(client: pg.PoolClient, destination: DestinationRow, adapter: DestinationAdapter, shop: ShopView): Promise<Map<string, string>> {
  const rows = await readDestinationSegments(client, destination.id);
  const targets: SegmentTarget[] = rows.map((row) => ({ segmentKey: row.segmentKey, name: destinationSegmentName(row.segmentKey, shop.labels), remoteId: row.remoteId }));
  const ensured = targets.length === 0 ? new Map<string, string>() : await adapter.ensureTargets(targets);
  await saveSegmentRemoteIds(
    client,
    destination.id,
    targets.filter((t) => ensured.has(t.segmentKey)).map((t) => ({ segmentKey: t.segmentKey, remoteId: ensured.get(t.segmentKey)!, remoteName: t.name })),
  );
  const retired = (destination.account.retiredTargets ?? {}) as Record<string, string>;
  const all = new Map<string, string>();
  for (const [key, remoteId] of Object.entries(retired)) if (typeof remoteId === "string") all.set(key, remoteId);
  for (const [key, remoteId] of ensured) all.set(key, remoteId);
  return all;
}

/** Batches sent at once: the next is read and compared while the previous ones' requests run (an adapter may ask for more). */
export const MAX_BATCHES_IN_FLIGHT = 3;

interface Candidates {
  customerIds: readonly string[];
  /** The candidates' outbox rows, read before their state or with it (they leave once sent, each only if unchanged). */
  outbox: readonly OutboxEntry[] | null;
  /** Their states, when read with the candidates (a full pass's segment groups); else prepareBatch reads them. */
  states?: CustomerSyncState[];
}

interface PreparedBatch {
  customerIds: readonly string[];
  outbox: readonly OutboxEntry[] | null;
  /** Each customer's comparison (their state read is not kept: batches in flight hold only what they send). */
  compared: Comparison[];
}

/** Reads and compares one batch. */
async function prepareBatch(ctx: PassContext, candidates: Candidates): Promise<PreparedBatch> {
  const { destination, read } = ctx;
  const states =
    candidates.states ?? (await read.serial(() => readCustomerSyncStates(read.client, destination.shop, destination.id, destination.consentScope, candidates.customerIds)));
  return { customerIds: candidates.customerIds, outbox: candidates.outbox, compared: states.map(ctx.compare) };
}

/**
 * Sends one compared batch and commits its outcomes (members, failures, outbox rows: each
 * leaves only if unchanged since read). Counts go onto the run.
 */
async function sendBatch(ctx: PassContext, batch: PreparedBatch): Promise<void> {
  const { client, destination, adapter } = ctx;
  const { compared, outbox } = batch;
  const changes = compared.filter((c) => c.change !== null);
  const outcomes = changes.length === 0 ? [] : await adapter.push(changes.map((c) => c.change!), ctx.targets);
  // A loop, not new Map(outcomes.map(...)): no pair array per customer.
  const byId = new Map<string, MemberOutcome>();
  for (const outcome of outcomes) byId.set(outcome.customerId, outcome);

  const writes: MemberWrite[] = [];
  const deletes: string[] = [];
  const failures: { customerId: string; email: string | null; reason: string }[] = [];
  // A change the adapter gave no outcome for stays in the outbox (never dropped).
  const unanswered = new Set<string>();
  for (const c of changes) {
    const outcome = byId.get(c.customerId);
    if (!outcome) unanswered.add(c.customerId);
    else if (!outcome.ok) failures.push({ customerId: c.customerId, email: c.change!.profile.email || null, reason: outcome.reason });
    else if (!c.hold) deletes.push(c.customerId);
    else
      writes.push({
        customerId: c.customerId,
        email: c.change!.profile.email,
        remoteProfileId: outcome.remoteProfileId ?? c.change!.remoteProfileId,
        segments: c.desired,
        syncedHash: c.hash,
        heldValues: c.heldValues ?? null,
        first: c.first === true,
      });
  }
  // The least busy lane: a commit waits for no other batch's when a lane is free.
  const lane = ctx.writes.reduce((best, candidate) => (candidate.queued < best.queued ? candidate : best));
  await lane.serial(async () => {
    await clientTransaction(lane.client, async () => {
      await writeMembers(lane.client, destination.shop, destination.id, writes, deletes);
      await recordDestinationFailures(lane.client, destination.shop, destination.id, ctx.runId, failures);
      if (outbox) await deleteOutboxIfUnchanged(lane.client, destination.id, outbox.filter((e) => !unanswered.has(e.customerId)));
    });
  });
  ctx.counts.compared += compared.length;
  ctx.counts.sent += writes.length + deletes.length;
  ctx.counts.failed += failures.length;
  for (const c of compared) if (c.leftOut) ctx.counts.leftOut += 1;
  // On the lock's lane, in the order the counts grew (a copy: a later batch adds to them meanwhile).
  const counts = { ...ctx.counts };
  await ctx.serial(() => updateDestinationRun(client, ctx.runId, counts));
}

/**
 * Sends every batch `next` gives, up to MAX_BATCHES_IN_FLIGHT at once (or the adapter's maxBatchesInFlight): while a batch's
 * requests run (Klaviyo's import jobs, Mailchimp's calls), the next is read and compared, so
 * the pass waits on the tool's limits rather than on each batch in turn. The read after a
 * batch starts as soon as that batch's read has come back, so the database reads it while
 * this process compares and serialises the one before. Memory stays bounded by the batches
 * in flight (and the one read ahead). A customer still being sent in an earlier batch (their
 * group changed during a full pass) waits until that batch committed: two sends of one
 * customer never race. States read with the candidates are read again when such a batch
 * was uncommitted or committed at any moment after their read began (its snapshot may
 * predate that commit). After a failure no batch starts; every batch in flight is seen to
 * its end before the first error (an auth error first) is thrown.
 */
async function sendAll(ctx: PassContext, next: () => Promise<Candidates | null>): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  const sending = new Set<string>();
  // Batches ended (committed or failed) since the read ahead began: `at` counts endings,
  // and a read notes the count when it begins.
  let ended = 0;
  let endedSince: { at: number; ids: readonly string[] }[] = [];
  const errors: unknown[] = [];
  type Read = { candidates: Candidates | null; begunAt: number } | { error: unknown; begunAt: number };
  // Settled as a value (never rejected): a read ahead that fails is thrown when it is its turn.
  const readNext = (): Promise<Read> => {
    const begunAt = ended;
    return next().then(
      (candidates) => ({ candidates, begunAt }),
      (error: unknown) => ({ error, begunAt }),
    );
  };
  let ahead: Promise<Read> | null = readNext();
  try {
    while (errors.length === 0 && ahead !== null) {
      const read: Read = await ahead;
      ahead = null;
      if ("error" in read) throw read.error;
      const { candidates, begunAt } = read;
      if (!candidates) break;
      // Read ahead: the database works on the next batch while this one is compared and sent.
      ahead = readNext();
      const aheadBegunAt = ended;
      if (candidates.customerIds.some((id) => sending.has(id)) || (candidates.states !== undefined && endedDuring(endedSince, begunAt, candidates.customerIds))) {
        await Promise.all(inFlight);
        // States read with the candidates may predate that commit: read again (the outbox rows stay: read before).
        delete candidates.states;
      }
      // Only the read ahead is still to be checked: endings before it began cannot race with it.
      endedSince = endedSince.filter((batch) => batch.at > aheadBegunAt);
      if (errors.length > 0) break;
      const batch = await prepareBatch(ctx, candidates);
      // Only the ids outlive the comparison: the closure below must not keep the states read.
      const ids = candidates.customerIds;
      for (const id of ids) sending.add(id);
      const task: Promise<void> = sendBatch(ctx, batch)
        .catch((error: unknown) => void errors.push(error))
        .finally(() => {
          for (const id of ids) sending.delete(id);
          endedSince.push({ at: ++ended, ids });
          inFlight.delete(task);
        });
      inFlight.add(task);
      while (inFlight.size >= (ctx.adapter.maxBatchesInFlight ?? MAX_BATCHES_IN_FLIGHT)) await Promise.race(inFlight);
    }
  } finally {
    await Promise.all(inFlight);
    // A read still under way holds the read connection: it ends before the pass releases it.
    if (ahead !== null) await ahead;
  }
  if (errors.length > 0) throw errors.find((error) => error instanceof DestinationAuthError) ?? errors[0];
}

/** Whether a batch that ended after a read began (its count past `begunAt`) sent any of these customers. */
function endedDuring(batches: readonly { at: number; ids: readonly string[] }[], begunAt: number, customerIds: readonly string[]): boolean {
  const later = batches.filter((batch) => batch.at > begunAt);
  if (later.length === 0) return false;
  const ids = new Set(customerIds);
  return later.some((batch) => batch.ids.some((id) => ids.has(id)));
}

/**
 * The database's clock: outbox times are written by it, so a pass's horizon is read from it
 * too, at the outbox column's precision (timestamp(3), which ROUNDS). Read with microseconds
 * and truncated to a JS Date instead, a change marked less than half a millisecond before the
 * pass started was stored rounded up past the horizon and skipped by the pass (the flaky
 * "customer 2 missing from the Champions tag after a move").
 */
export async function databaseNow(client: pg.PoolClient): Promise<Date> {
  const result = await client.query<{ now: string }>(
    `SELECT to_char((clock_timestamp() AT TIME ZONE 'UTC')::timestamp(3), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS now`,
  );
  return new Date(result.rows[0]!.now);
}

/**
 * One pass of a destination: `changes` sends its outbox, `full` compares every customer in
 * a chosen segment or held by the destination. One pass per destination at a time
 * (DestinationBusyError otherwise). A refused key pauses the destination (the outbox is
 * kept, no retry); a destination that stays unavailable fails the run and throws, so the
 * job retries with backoff.
 */
export async function runDestinationPass(deps: SyncDeps, destinationId: string, kind: "changes" | "full", reason: FullReason | null = null): Promise<PassResult> {
  return withDestinationLock(deps.pool, destinationId, async (client) => {
    const opened = await openDestination(client, destinationId, deps);
    if ("status" in opened) return { status: opened.status, runId: null, counts: emptyCounts() };
    const { destination, adapter } = opened;
    const settings = await loadMetricsSettings(client, destination.shop);
    const shop: ShopView = { currency: settings.currency, labels: settings.segmentLabels, horizonDays: settings.horizonDays };
    const chosen = new Set((await readDestinationSegments(client, destination.id)).map((s) => s.segmentKey));
    const writeback = opened.kind === SHOPIFY_DESTINATION_KIND;
    const tagging = writeback && (await readShopifyTagging(client, destination.shop));
    const profileText = adapter.profileText?.bind(adapter);
    const compare = writeback
      ? (state: CustomerSyncState) => compareShopifyCustomer(state, tagging, shop)
      : (state: CustomerSyncState) => compareCustomer(state, chosen, shop, profileText);
    const until = await databaseNow(client);
    const initial = reason === "initial" || (reason !== null && destination.fullWantedReason === "initial");
    const runKind: RunKind = kind === "changes" ? "changes" : initial ? "initial" : "full";
    const total =
      kind === "changes"
        ? await countOutbox(client, destination.id, until)
        : writeback
          ? await countShopifyFullCandidates(client, destination.shop, destination.id)
          : await countFullCandidates(client, destination.shop, destination.id, [...chosen]);
    // An empty outbox (its changes sent by the previous pass) is not a run worth showing.
    if (kind === "changes" && total === 0) return { status: "done", runId: null, counts: emptyCounts() };
    const runId = await startDestinationRun(client, destination.id, runKind, total);
    const counts = emptyCounts();
    let reader: pg.PoolClient | null = null;
    let writer: pg.PoolClient | null = null;
    try {
      const targets = await ensureTargets(client, destination, adapter, shop);
      const lockLane = laneOf(client);
      // Spares pay only when there is a next batch to read or a second commit to run.
      const batchSize = Math.max(1, adapter.batchSize);
      reader = total > batchSize ? await borrowSpareConnection(deps.pool) : null;
      writer = reader ? await borrowSpareConnection(deps.pool) : null;
      const read: Lane = reader ? laneOf(reader) : lockLane;
      const writes = writer ? [lockLane, laneOf(writer)] : [lockLane];
      const ctx: PassContext = { client, serial: lockLane.serial, read, writes, destination, adapter, shop, chosen, compare, targets, runId, counts };
      if (kind === "changes") {
        let after: OutboxEntry | null = null;
        await sendAll(ctx, async () => {
          const entries = await read.serial(() => readOutboxBatch(read.client, destination.id, until, after, batchSize));
          if (entries.length === 0) return null;
          after = entries[entries.length - 1]!;
          return { customerIds: entries.map((e) => e.customerId), outbox: entries };
        });
      } else {
        // Group by group (fullPassGroups): a batch's customers share their list. The Shopify
        // write-back has no lists: every scored customer, then the members no longer scored.
        const groups: (string | null)[] = writeback ? ["scored", "unscored"] : fullPassGroups([...chosen]);
        let after = "0";
        await sendAll(ctx, async () => {
          while (groups.length > 0) {
            const group = groups[0] ?? null;
            if (!writeback && group !== null) {
              // A segment's group: candidates, states and outbox rows in one read.
              const { states, outbox } = await read.serial(() =>
                readFullBatchStates(read.client, destination.shop, destination.id, destination.consentScope, [...chosen], group, after, batchSize),
              );
              if (states.length > 0) {
                after = states[states.length - 1]!.customerId;
                return { customerIds: states.map((state) => state.customerId), outbox, states };
              }
              groups.shift();
              after = "0";
              continue;
            }
            const ids = await read.serial(() =>
              writeback
                ? readShopifyFullBatch(read.client, destination.shop, destination.id, group === "scored" ? "scored" : "unscored", after, batchSize)
                : readFullBatch(read.client, destination.shop, destination.id, [...chosen], group, after, batchSize),
            );
            if (ids.length > 0) {
              after = ids[ids.length - 1]!;
              // Read before their state (prepareBatch): the comparison covers these changes.
              return { customerIds: ids, outbox: await read.serial(() => readOutboxOf(read.client, destination.id, ids)) };
            }
            groups.shift();
            after = "0";
          }
          return null;
        });
        await forgetEmptyRetiredTargets(client, destination.id);
        // The request this pass read is done; one made since stays for the next pass.
        if (destination.fullWantedAt !== null) await clearFullWantedIfUnchanged(client, destination.id, destination.fullWantedAt);
      }
      await finishDestinationRun(client, runId, "done", counts);
      return { status: "done", runId, counts };
    } catch (error) {
      if (error instanceof DestinationAuthError) {
        await pauseDestination(client, destination.id, pauseNotice(destination.kind, error.message, error.kind), error.kind);
        await finishDestinationRun(client, runId, "paused", counts, error.message);
        (deps.logger ?? silentLogger).error("destination paused: key refused", { destinationId, error: error.message });
        return { status: "paused", runId, counts };
      }
      await finishDestinationRun(client, runId, "failed", counts, errorMessage(error)).catch(() => {});
      throw error;
    } finally {
      // checkOut's release destroys a connection that failed.
      reader?.release();
      writer?.release();
    }
  });
}

export interface ErasurePassResult {
  status: "done" | "paused" | "gone" | "waiting";
  erased: number;
}

/** Erasures requested per adapter call. */
const ERASURE_BATCH = 100;

/**
 * Requests the deletion of the destination's redacted customers. Each confirmed request's
 * row goes (with the email it kept); a failed one keeps its row with attempts and the error.
 */
export async function runErasurePass(deps: SyncDeps, destinationId: string): Promise<ErasurePassResult> {
  return withDestinationLock(deps.pool, destinationId, async (client) => {
    const opened = await openDestination(client, destinationId, deps);
    if ("status" in opened) return { status: opened.status, erased: 0 };
    const { destination, adapter } = opened;
    let erased = 0;
    for (;;) {
      const rows = await readErasures(client, destinationId, ERASURE_BATCH);
      if (rows.length === 0) break;
      try {
        await adapter.erase(rows.map((row) => ({ email: row.email, remoteProfileId: row.remoteProfileId, customerId: row.customerId })));
      } catch (error) {
        await noteErasureFailure(client, rows.map((row) => row.id), errorMessage(error));
        if (error instanceof DestinationAuthError) {
          await pauseDestination(client, destinationId, pauseNotice(destination.kind, error.message, error.kind), error.kind);
          return { status: "paused", erased };
        }
        throw error;
      }
      await deleteErasures(client, rows.map((row) => row.id));
      erased += rows.length;
    }
    return { status: "done", erased };
  });
}
