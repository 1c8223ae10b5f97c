import { DestinationRetryableError } from "../adapter";
import { type BulkLineResult, type BulkMutationOptions, runBulkMutation } from "./bulk-mutation.server";
import { type AdminGraphqlClient } from "./definitions.server";
import { METAFIELDS_PER_CALL, type MetafieldsSetUserError, TENURE_METAFIELD_NAMESPACE, type TenureMetafieldValue, customerGid, metafieldInputIndex } from "./metafields";

// The bulk-mutation path of the metafield write-back (issue 15, part 1): after a refit
// rewrites every customer, large batches go to Shopify as bulk operations (a staged upload of
// JSONL, then bulkOperationRunMutation running metafieldsSet per line: bulk-mutation.server.ts)
// instead of thousands of metafieldsSet calls.
//
// Each JSONL line is the variables of ONE metafieldsSet call: several customers' values, at
// most 25 metafields (Shopify's limit per call), never one customer split across lines.
// metafieldsSet is atomic per call, so a line is written whole or not at all:
//  - a line refused with userErrors: each error points at a metafield (elementIndex, or the
//    index in its field path), hence at its customer, who is refused for good with Shopify's
//    words; the other customers of that line were not written either, and go again in the
//    next operation (a follow-up one after the last file), on lines of their own kind;
//  - a line without a result (the operation FAILED or was canceled: partialDataUrl holds what
//    ran) or with top-level `errors`: its customers go again, up to `maxAttempts` times;
//  - what still could not be written is thrown as BulkWriteIncompleteError (retryable), which
//    carries the outcomes settled so far. Nothing is reported written that Shopify did not
//    confirm.
// Files are cut under Shopify's file size limit (100 MB: https://shopify.dev/changelog/posts/faster-bulk-operations)
// and run one after the other.
//
// Docs: https://shopify.dev/docs/api/admin-graphql/latest/mutations/metafieldsSet (25 per
// call, atomic, userErrors { field message code elementIndex }),
// https://shopify.dev/docs/api/usage/bulk-operations/imports.

/** One customer's metafields to set (values already differing from what Shopify holds). */
export interface CustomerMetafieldWrite {
  /** Shopify's customer id (decimal). */
  customerId: string;
  set: readonly TenureMetafieldValue[];
}

/** Per customer: written, or refused for good with Shopify's reason (userErrors). Transient trouble is thrown. */
export type CustomerWriteOutcome = { customerId: string; ok: true } | { customerId: string; ok: false; reason: string };

export interface BulkWriteOptions {
  /** The namespace metafieldsSet writes under ("$app" by default). */
  namespace?: string;
  /** How often a running bulk operation is polled at most (ms; the first poll comes sooner, bulk-mutation.server.ts). */
  pollIntervalMs?: number;
  /** The largest JSONL file one operation takes (default 100,000,000 bytes, under Shopify's 100 MB). */
  maxFileBytes?: number;
  /** How many operations may leave a customer unwritten without a verdict before giving up (default 3). */
  maxAttempts?: number;
  /** Passed to each operation: backoff and failure counts of the upload, download and polls. */
  transfer?: Pick<BulkMutationOptions, "backoffMs" | "maxTransientFailures">;
  /** Called after each operation (progress, the benchmark). */
  onOperation?: (summary: { operationId: string; status: string; lines: number; bytes: number }) => void;
}

/**
 * Some customers could not be written after every attempt: retry later. `outcomes` holds what
 * was settled (written or refused), `pending` the customers to send again.
 */
export class BulkWriteIncompleteError extends DestinationRetryableError {
  constructor(
    message: string,
    readonly outcomes: CustomerWriteOutcome[],
    readonly pending: string[],
  ) {
    super(message);
    this.name = "BulkWriteIncompleteError";
  }
}

export const DEFAULT_MAX_FILE_BYTES = 100_000_000;

export const BULK_METAFIELDS_SET = `mutation TenureBulkMetafieldsSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) { userErrors { field message code elementIndex } }
}`;

interface Pending {
  write: CustomerMetafieldWrite;
  /** Operations that left this customer without a verdict. */
  attempts: number;
  /** Sent on a line of its own (a refusal on its line could not be pinned on one customer). */
  alone: boolean;
}

interface Line {
  text: string;
  customers: Pending[];
}

/** Input the caller got wrong: thrown before anything is sent, so nothing is lost. */
function checkWrites(writes: readonly CustomerMetafieldWrite[]): void {
  const seen = new Set<string>();
  for (const write of writes) {
    if (!/^\d+$/.test(write.customerId)) throw new TypeError(`writeMetafieldsInBulk: customerId ${JSON.stringify(write.customerId)} is not a decimal Shopify customer id`);
    if (seen.has(write.customerId)) throw new TypeError(`writeMetafieldsInBulk: customer ${write.customerId} appears twice; merge their values into one write`);
    seen.add(write.customerId);
    if (write.set.length > METAFIELDS_PER_CALL) {
      throw new TypeError(`writeMetafieldsInBulk: customer ${write.customerId} has ${write.set.length} values; one metafieldsSet call takes at most ${METAFIELDS_PER_CALL}`);
    }
  }
}

/**
 * Writes the customers' metafields through one or more bulk mutation operations (one running
 * per shop at a time) and returns one outcome per customer, in the order given.
 */
export async function writeMetafieldsInBulk(
  admin: AdminGraphqlClient,
  shop: string,
  writes: readonly CustomerMetafieldWrite[],
  options: BulkWriteOptions = {},
): Promise<CustomerWriteOutcome[]> {
  checkWrites(writes);
  const namespace = options.namespace ?? TENURE_METAFIELD_NAMESPACE;
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const maxAttempts = options.maxAttempts ?? 3;
  const outcomes = new Map<string, CustomerWriteOutcome>();
  const unresolved: Pending[] = [];

  // The customers still to send: first those going again, then the rest of the input.
  let next = 0;
  let again: Pending[] = [];
  const take = (): Pending | null => {
    const retry = again.pop();
    if (retry) return retry;
    while (next < writes.length) {
      const write = writes[next++];
      if (write.set.length > 0) return { write, attempts: 0, alone: false };
      outcomes.set(write.customerId, { customerId: write.customerId, ok: true }); // nothing to write
    }
    return null;
  };

  const lineText = (customers: readonly Pending[]) => {
    const metafields = customers.flatMap(({ write }) =>
      write.set.map((value) => ({ ownerId: customerGid(write.customerId), namespace, key: value.key, type: value.type, value: value.value })),
    );
    return JSON.stringify({ metafields });
  };

  for (;;) {
    // One file: lines of whole customers, up to 25 metafields each, under maxFileBytes.
    const lines: Line[] = [];
    let bytes = 0;
    let open: Pending[] = [];
    let openCount = 0;
    const close = (): boolean => {
      if (open.length === 0) return true;
      const text = lineText(open);
      const size = Buffer.byteLength(text) + 1;
      if (size > maxFileBytes) throw new Error(`writeMetafieldsInBulk: one line takes ${size} bytes, more than the file limit of ${maxFileBytes}`);
      if (bytes + size > maxFileBytes) return false;
      lines.push({ text, customers: open });
      bytes += size;
      open = [];
      openCount = 0;
      return true;
    };
    let full = false;
    for (let customer = take(); customer; customer = take()) {
      const count = customer.write.set.length;
      if (open.length > 0 && (customer.alone || open[0].alone || openCount + count > METAFIELDS_PER_CALL)) {
        if (!close()) {
          // The open line does not fit this file: it starts the next one (order kept: `again` pops from its end).
          again.push(customer, ...open.reverse());
          full = true;
          break;
        }
      }
      open.push(customer);
      openCount += count;
    }
    if (!full && !close()) {
      again.push(...open.reverse());
      full = true;
    }
    if (lines.length === 0) break;

    const result = await runBulkMutation(admin, shop, BULK_METAFIELDS_SET, lines.map((line) => line.text), {
      pollIntervalMs: options.pollIntervalMs,
      ...options.transfer,
    });
    options.onOperation?.({ operationId: result.operationId, status: result.status, lines: lines.length, bytes });

    const goAgain: Pending[] = [];
    for (const [index, line] of lines.entries()) {
      settleLine(line, result.results.get(index), outcomes, goAgain, unresolved, maxAttempts);
    }
    // Sent again before the rest of the input, in their original order.
    again = again.concat(goAgain.reverse());
  }

  if (unresolved.length > 0) {
    const settled = writes.flatMap((write) => outcomes.get(write.customerId) ?? []);
    throw new BulkWriteIncompleteError(
      `${unresolved.length} of ${writes.length} customers' metafields could not be written on ${shop} after ${maxAttempts} bulk operations; retry them later`,
      settled,
      unresolved.map((pending) => pending.write.customerId),
    );
  }
  return writes.map((write) => outcomes.get(write.customerId)!);
}

function settleLine(
  line: Line,
  result: BulkLineResult | undefined,
  outcomes: Map<string, CustomerWriteOutcome>,
  goAgain: Pending[],
  unresolved: Pending[],
  maxAttempts: number,
): void {
  const payload = (result?.data as { metafieldsSet?: { userErrors?: MetafieldsSetUserError[] } | null } | null | undefined)?.metafieldsSet;
  if (!result || (result.errors?.length ?? 0) > 0 || !payload) {
    // Not run, or Shopify could not run it: nothing of the line was written.
    for (const customer of line.customers) {
      customer.attempts += 1;
      (customer.attempts >= maxAttempts ? unresolved : goAgain).push(customer);
    }
    return;
  }
  const userErrors = payload.userErrors ?? [];
  if (userErrors.length === 0) {
    for (const { write } of line.customers) outcomes.set(write.customerId, { customerId: write.customerId, ok: true });
    return;
  }
  // Which customer each refusal is about, by the metafield it points at.
  const starts: number[] = [];
  line.customers.reduce((start, customer) => (starts.push(start), start + customer.write.set.length), 0);
  const reasons = new Map<Pending, string[]>();
  let unplaced = false;
  for (const error of userErrors) {
    const index = metafieldInputIndex(error);
    const position = index === null ? -1 : line.customers.findIndex((customer, i) => index >= starts[i] && index < starts[i] + customer.write.set.length);
    if (position < 0) {
      unplaced = true;
      continue;
    }
    const customer = line.customers[position];
    const key = customer.write.set[index! - starts[position]].key;
    const list = reasons.get(customer) ?? [];
    list.push(`Shopify refused ${key}: ${error.message}${error.code ? ` [${error.code}]` : ""}`);
    reasons.set(customer, list);
  }
  for (const customer of line.customers) {
    const reason = reasons.get(customer);
    if (reason) outcomes.set(customer.write.customerId, { customerId: customer.write.customerId, ok: false, reason: reason.join("; ") });
    else if (unplaced && line.customers.length === 1) {
      const message = userErrors.map((error) => `${error.message}${error.code ? ` [${error.code}]` : ""}`).join("; ");
      outcomes.set(customer.write.customerId, { customerId: customer.write.customerId, ok: false, reason: `Shopify refused the metafields: ${message}` });
    } else {
      // Not written (the call is atomic), through no fault of its own, or the refusal could
      // not be pinned on one customer: again, alone when it could not.
      customer.alone ||= unplaced;
      goAgain.push(customer);
    }
  }
}
