import {
  type DestinationAdapter,
  DestinationAuthError,
  DestinationRetryableError,
  type ErasureTarget,
  type MemberChange,
  type MemberOutcome,
  SHOPIFY_DESTINATION_KIND,
} from "../adapter";
import { deleteMetafieldsInBulk, DELETES_PER_CALL, packWhole } from "./bulk-metafield-deletes.server";
import { BulkWriteIncompleteError, type CustomerWriteOutcome, writeMetafieldsInBulk } from "./bulk-metafields.server";
import { type AdminGraphqlClient } from "./definitions.server";
import { waitForUnfinishedMutations } from "./mutation-operations.server";
import {
  METAFIELDS_PER_CALL,
  type MetafieldsSetUserError,
  RFM_SEGMENT_VALUES,
  TENURE_METAFIELD_DEFINITIONS,
  TENURE_METAFIELD_NAMESPACE,
  type TenureMetafieldValue,
  customerGid,
  metafieldInputIndex,
} from "./metafields";

// The Shopify metafield write-back (issue 15, part 1) as one more destination of the outbox
// (app/destinations/README.md, ADR 0016): the engine decides what each customer's metafields
// and Tenure tags must be (compareShopifyCustomer in sync.server.ts); this adapter says it to
// Shopify through the worker's Admin GraphQL client, which paces by the cost bucket and
// retries THROTTLED, 5xx and network errors itself (app/integrations/shopify-admin.server.ts).
//
// - Only what differs goes out: per customer, the keys whose value differs from what Shopify
//   holds (as last written), with metafieldsSet; keys that became empty with metafieldsDelete.
// - metafieldsSet takes at most 25 metafields per call and is atomic: several customers share
//   a call, a customer's metafields never split across calls (one customer's write is all or
//   nothing), and on userErrors the customers they point at (elementIndex, else the index in
//   `field`) are refused with Shopify's message and the others sent again.
// - From BULK_THRESHOLD customers with values to set in one push (a refit's full pass, or a
//   backlog after an outage), the values go through one bulk mutation instead
//   (writeMetafieldsInBulk): it does not draw on the cost bucket the live path shares. What a
//   bulk write leaves pending (BulkWriteIncompleteError) goes live; what it settled stays.
//   Deletions likewise from BULK_THRESHOLD customers (bulk-metafield-deletes.server.ts: the
//   first full pass deletes every key without a value).
// - Before live metafield writes and before an erasure, the push waits for any unfinished
//   bulk mutation operation of the shop (one query; mutation-operations.server.ts): an older
//   operation abandoned by a restarted worker would otherwise land after the newer values.
// - metafieldsDelete userErrors: each customer of the call is sent alone; only the one Shopify
//   refuses is refused. An erasure Shopify refuses is not confirmed: its rows stay.
// - Tags: tenure-<RFM segment key> added and removed on transitions only (tagsAdd/tagsRemove),
//   never a tag Tenure does not own.
//
// Docs (Admin GraphQL 2025-10 .. 2026-10):
//  https://shopify.dev/docs/api/admin-graphql/latest/mutations/metafieldsSet (25 per call,
//    atomic, MetafieldsSetUserError { field message code elementIndex })
//  https://shopify.dev/docs/api/admin-graphql/latest/mutations/metafieldsDelete (ownerId,
//    namespace, key; a metafield that does not exist comes back null, not an error)
//  https://shopify.dev/docs/api/admin-graphql/latest/mutations/tagsAdd and tagsRemove
//    (id: ID!, tags: [String!]!) -> { node { id } userErrors { field message } }

/**
 * Customers per push. Large enough that a refit's full pass reaches BULK_THRESHOLD in one
 * push; a live pass rarely holds more than a few hundred changes.
 */
export const WRITEBACK_BATCH_SIZE = 5_000;

/**
 * From this many customers with values to set in one push, the bulk-mutation path. Below it
 * the live path is quicker: 1,000 customers are about 150-350 metafieldsSet calls (3 to 8
 * customers per call), under a minute at a standard shop's restore rate, while a bulk
 * operation's staged upload, run and polls take about as long for any size. Above it the
 * live calls would hold the shop's cost bucket (shared with the import and reconciliation)
 * for minutes.
 */
export const BULK_THRESHOLD = 1_000;

/** The tag Tenure owns for an RFM segment: tenure-<segment key>. */
export const tenureTag = (segmentKey: string): string => `tenure-${segmentKey}`;

/** Every tag Tenure may have put on a customer (what an erasure removes). */
export const TENURE_TAGS: readonly string[] = RFM_SEGMENT_VALUES.map(tenureTag);

const ALL_KEYS = TENURE_METAFIELD_DEFINITIONS.map((definition) => definition.key);

export const METAFIELDS_SET = `#graphql
  mutation TenureMetafieldsSet($metafields: [MetafieldsSetInput!]!) {
    metafieldsSet(metafields: $metafields) { metafields { id } userErrors { field message code elementIndex } }
  }`;

export const METAFIELDS_DELETE = `#graphql
  mutation TenureMetafieldsDelete($metafields: [MetafieldIdentifierInput!]!) {
    metafieldsDelete(metafields: $metafields) { deletedMetafields { ownerId namespace key } userErrors { field message } }
  }`;

export const TAGS_ADD = `#graphql
  mutation TenureTagsAdd($id: ID!, $tags: [String!]!) {
    tagsAdd(id: $id, tags: $tags) { node { id } userErrors { field message } }
  }`;

export const TAGS_REMOVE = `#graphql
  mutation TenureTagsRemove($id: ID!, $tags: [String!]!) {
    tagsRemove(id: $id, tags: $tags) { node { id } userErrors { field message } }
  }`;

type UserError = MetafieldsSetUserError;

export interface ShopifyWritebackOptions {
  /** Customers with values to set from which a push takes the bulk path (default BULK_THRESHOLD). */
  bulkThreshold?: number;
  /** How often a running bulk operation is polled (ms; the bulk path's default otherwise). */
  bulkPollIntervalMs?: number;
}

export { customerGid };

/**
 * The engine's errors of a failed Admin API call: Shopify refusing Tenure itself (401/403, the
 * shop uninstalled or its offline session gone) pauses the destination with a notice; anything
 * else (THROTTLED, 5xx or network errors still failing after the client's own retries, a
 * GraphQL-level error such as a one-off INTERNAL_SERVER_ERROR) keeps the changes for a later
 * pass: pausing on those would stop the write-back until the next install or worker start.
 * The client's ShopifyAdminError is recognised by its `auth` flag: destinations/ may not import
 * integrations/ (docs/architecture.md).
 */
export function writebackError(error: unknown): Error {
  if (error instanceof DestinationAuthError || error instanceof DestinationRetryableError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const auth = error !== null && typeof error === "object" && "auth" in error && (error as { auth: unknown }).auth === true;
  if (auth) {
    return new DestinationAuthError(
      `Shopify refused Tenure's write-back of customer metafields (${message}). It is paused and no change is lost: it resumes when Tenure is installed again or restarts.`,
      "setup",
    );
  }
  return new DestinationRetryableError(message);
}

const sentence = (errors: readonly UserError[]) => errors.map((error) => error.message.replace(/\.$/, "")).join("; ");

interface CustomerSet {
  customerId: string;
  values: TenureMetafieldValue[];
}

interface Deletion {
  customerId: string;
  keys: readonly string[];
}

/** The values that differ from what Shopify holds (every value when that is unknown). */
function valuesToSet(change: MemberChange): TenureMetafieldValue[] {
  const { wanted, held } = change.metafields!;
  return Object.entries(wanted)
    .filter(([key, { value }]) => held?.[key] !== value)
    .map(([key, { type, value }]) => ({ key, type, value }) as TenureMetafieldValue);
}

/** The keys that must not exist any more: held but no longer wanted (every key not wanted when what is held is unknown). */
function keysToDelete(change: MemberChange): string[] {
  const { wanted, held } = change.metafields!;
  return (held === null ? ALL_KEYS : Object.keys(held)).filter((key) => !(key in wanted));
}

/** Greedy packing in order: as many whole customers as fit in METAFIELDS_PER_CALL. */
const packCustomers = (sets: readonly CustomerSet[]): CustomerSet[][] => packWhole(sets, (set) => set.values.length, METAFIELDS_PER_CALL);

/** The Shopify write-back adapter of one shop. */
export function shopifyWritebackAdapter(admin: AdminGraphqlClient, shop: string, options: ShopifyWritebackOptions = {}): DestinationAdapter {
  const bulkThreshold = options.bulkThreshold ?? BULK_THRESHOLD;

  const call = async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
    try {
      return await admin.request<T>(shop, query, variables);
    } catch (error) {
      throw writebackError(error);
    }
  };

  /** One metafieldsSet call of whole customers; returns those Shopify refused, with why. Nothing is written when any is refused. */
  const setPack = async (pack: readonly CustomerSet[]): Promise<{ refused: Map<string, string>; unattributed: string | null }> => {
    const inputs = pack.flatMap((set) =>
      set.values.map((value) => ({ ownerId: customerGid(set.customerId), namespace: TENURE_METAFIELD_NAMESPACE, key: value.key, type: value.type, value: value.value })),
    );
    const owners = pack.flatMap((set) => set.values.map(() => set.customerId));
    const data = await call<{ metafieldsSet: { userErrors: UserError[] } }>(METAFIELDS_SET, { metafields: inputs });
    const refused = new Map<string, UserError[]>();
    const unattributed: UserError[] = [];
    for (const error of data.metafieldsSet.userErrors) {
      const index = metafieldInputIndex(error);
      const owner = index === null ? undefined : owners[index];
      if (owner === undefined) unattributed.push(error);
      else refused.set(owner, [...(refused.get(owner) ?? []), error]);
    }
    return {
      refused: new Map([...refused].map(([id, errors]) => [id, `Shopify refused the metafields: ${sentence(errors)}.`])),
      unattributed: unattributed.length > 0 ? `Shopify refused the metafields: ${sentence(unattributed)}.` : null,
    };
  };

  /** The live path: packed calls; a refused customer is left out and the rest of their call sent again. */
  const setLive = async (sets: readonly CustomerSet[], refusals: Map<string, string>): Promise<void> => {
    for (const pack of packCustomers(sets)) {
      let remaining = pack;
      while (remaining.length > 0) {
        const { refused, unattributed } = await setPack(remaining);
        if (refused.size === 0 && unattributed === null) break;
        if (refused.size === 0) {
          // Errors Shopify did not tie to an input: each customer alone tells whose they are.
          if (remaining.length === 1) {
            refusals.set(remaining[0]!.customerId, unattributed!);
            break;
          }
          for (const single of remaining) {
            const alone = await setPack([single]);
            const reason = alone.refused.get(single.customerId) ?? alone.unattributed;
            if (reason !== null) refusals.set(single.customerId, reason);
          }
          break;
        }
        for (const [customerId, reason] of refused) refusals.set(customerId, reason);
        remaining = remaining.filter((set) => !refused.has(set.customerId));
      }
    }
  };

  /**
   * The bulk path. An incomplete write (some lines never ran or kept failing: a line Shopify
   * cannot run, an operation failing again and again) keeps what it settled, and the customers
   * still pending go through the live path, whose calls pin a refusal on its customer: no
   * change is lost, and one bad customer neither redoes the batch nor blocks a full pass.
   */
  const setBulk = async (sets: readonly CustomerSet[], refusals: Map<string, string>): Promise<void> => {
    let outcomes: CustomerWriteOutcome[];
    let pending: string[] = [];
    try {
      outcomes = await writeMetafieldsInBulk(
        admin,
        shop,
        sets.map((set) => ({ customerId: set.customerId, set: set.values })),
        { namespace: TENURE_METAFIELD_NAMESPACE, ...(options.bulkPollIntervalMs === undefined ? {} : { pollIntervalMs: options.bulkPollIntervalMs }) },
      );
    } catch (error) {
      if (!(error instanceof BulkWriteIncompleteError)) throw writebackError(error);
      outcomes = error.outcomes;
      pending = error.pending;
    }
    for (const outcome of outcomes) if (!outcome.ok) refusals.set(outcome.customerId, outcome.reason);
    if (pending.length > 0) {
      const waiting = new Set(pending);
      await setLive(sets.filter((set) => waiting.has(set.customerId)), refusals);
    }
  };

  /** One metafieldsDelete call of whole customers: Shopify's userErrors, none when done. */
  const deletePack = async (pack: readonly Deletion[]): Promise<UserError[]> => {
    const data = await call<{ metafieldsDelete: { userErrors: UserError[] } }>(METAFIELDS_DELETE, {
      metafields: pack.flatMap(({ customerId, keys }) => keys.map((key) => ({ ownerId: customerGid(customerId), namespace: TENURE_METAFIELD_NAMESPACE, key }))),
    });
    return data.metafieldsDelete.userErrors;
  };

  /**
   * metafieldsDelete, whole customers per call, at most 25 identifiers (the limit metafieldsSet
   * has; metafieldsDelete documents none). A metafield that is not there comes back null, not
   * as an error. On userErrors (their field points at an identifier, not at a customer) each
   * customer of the call is sent alone, so only the one Shopify refuses is refused. From the
   * bulk threshold of customers, one bulk operation instead (bulk-metafield-deletes.server.ts);
   * what it could not confirm goes live. Returns the customers refused, with Shopify's reason.
   */
  const deleteMetafields = async (targets: readonly Deletion[]): Promise<Map<string, string>> => {
    const refused = new Map<string, string>();
    let live = targets.filter((target) => target.keys.length > 0);
    if (live.length >= bulkThreshold) {
      try {
        live = await deleteMetafieldsInBulk(admin, shop, live, options.bulkPollIntervalMs === undefined ? {} : { pollIntervalMs: options.bulkPollIntervalMs });
      } catch (error) {
        throw writebackError(error);
      }
    }
    for (const pack of packWhole(live, (target) => target.keys.length, DELETES_PER_CALL)) {
      const errors = await deletePack(pack);
      if (errors.length === 0) continue;
      for (const single of pack.length === 1 ? [] : pack) {
        const alone = await deletePack([single]);
        if (alone.length > 0) refused.set(single.customerId, `Shopify refused to delete the metafields: ${sentence(alone)}.`);
      }
      if (pack.length === 1) refused.set(pack[0]!.customerId, `Shopify refused to delete the metafields: ${sentence(errors)}.`);
    }
    return refused;
  };

  /** Before live metafield writes: no older bulk operation of the shop may land after them (mutation-operations.server.ts). */
  const waitForBulkOperations = async (): Promise<void> => {
    try {
      await waitForUnfinishedMutations(admin, shop, options.bulkPollIntervalMs === undefined ? {} : { pollMs: options.bulkPollIntervalMs });
    } catch (error) {
      throw writebackError(error);
    }
  };

  /** tagsAdd / tagsRemove on one customer: null when done, else Shopify's reason. */
  const changeTags = async (mutation: "tagsAdd" | "tagsRemove", customerId: string, tags: readonly string[]): Promise<string | null> => {
    const data = await call<Record<string, { userErrors: UserError[] }>>(mutation === "tagsAdd" ? TAGS_ADD : TAGS_REMOVE, { id: customerGid(customerId), tags });
    const errors = data[mutation]?.userErrors ?? [];
    return errors.length === 0 ? null : `Shopify refused to ${mutation === "tagsAdd" ? "add" : "remove"} the tags ${tags.join(", ")}: ${sentence(errors)}.`;
  };

  return {
    kind: SHOPIFY_DESTINATION_KIND,
    batchSize: WRITEBACK_BATCH_SIZE,
    // No lists: tags are named after the segment key and need no making.
    ensureTargets: async () => new Map(),
    async push(changes) {
      const refusals = new Map<string, string>();
      const sets = changes.filter((c) => c.metafields).map((c) => ({ customerId: c.profile.customerId, values: valuesToSet(c) })).filter((s) => s.values.length > 0);
      const bulk = sets.length >= bulkThreshold;
      // The bulk path waits for older operations itself (bulk-mutation.server.ts); live writes
      // wait here, once per push: an older operation landing after them would win.
      if (!bulk && changes.some((c) => c.metafields)) await waitForBulkOperations();
      if (bulk) await setBulk(sets, refusals);
      else await setLive(sets, refusals);

      const written = changes.filter((c) => !refusals.has(c.profile.customerId));
      const deletions = await deleteMetafields(written.filter((c) => c.metafields).map((c) => ({ customerId: c.profile.customerId, keys: keysToDelete(c) })));
      for (const [customerId, reason] of deletions) refusals.set(customerId, reason);
      for (const change of changes.filter((c) => !refusals.has(c.profile.customerId))) {
        const id = change.profile.customerId;
        const problem =
          (change.add.length > 0 ? await changeTags("tagsAdd", id, change.add.map(tenureTag)) : null) ??
          (change.remove.length > 0 ? await changeTags("tagsRemove", id, change.remove.map(tenureTag)) : null);
        if (problem !== null) refusals.set(id, problem);
      }
      return changes.map((c): MemberOutcome => {
        const reason = refusals.get(c.profile.customerId);
        return reason === undefined ? { customerId: c.profile.customerId, ok: true } : { customerId: c.profile.customerId, ok: false, reason };
      });
    },
    async erase(people: readonly ErasureTarget[]) {
      const ids = people.map((person) => person.customerId).filter((id): id is string => typeof id === "string" && id !== "");
      if (ids.length === 0) return;
      // An older bulk operation landing after the deletion would put the metafields back.
      await waitForBulkOperations();
      const refused = await deleteMetafields(ids.map((customerId) => ({ customerId, keys: ALL_KEYS })));
      // A customer Shopify no longer has has no tags left: a tagsRemove refusal is taken as done.
      for (const id of ids) await changeTags("tagsRemove", id, TENURE_TAGS);
      // A metafield already gone is no error (metafieldsDelete answers null for it); a refusal
      // is: the erasure is not confirmed, its rows stay and the pass is retried.
      if (refused.size > 0) {
        throw new DestinationRetryableError(
          `Shopify did not confirm the erasure of ${refused.size} customer(s)' metafields: ${[...refused].map(([id, reason]) => `customer ${id}: ${reason}`).join(" ")}`,
        );
      }
    },
  };
}
