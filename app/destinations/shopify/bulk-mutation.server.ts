import { DestinationAuthError, DestinationRetryableError } from "../adapter";
import { type AdminGraphqlClient } from "./definitions.server";
import { ENDED_OPERATION_STATUSES, UNFINISHED_MUTATION_OPERATIONS } from "./mutation-operations.server";

// One Shopify bulk mutation operation, end to end (issue 15): the JSONL of variables goes up
// as a staged upload, bulkOperationRunMutation runs the mutation once per line, the operation
// is polled until it ends, and its result file (or, after a failure, its partial one) is read
// back as one result per input line.
//
// Docs (Admin GraphQL 2026-10, the app's API_VERSION):
//  - https://shopify.dev/docs/api/usage/bulk-operations/imports: stagedUploadsCreate with
//    resource BULK_MUTATION_VARIABLES, a multipart POST of every parameter then `file` to the
//    target's url, stagedUploadPath = the `key` parameter; results one JSONL line per input
//    line, {"data":{...},"__lineNumber":N} (0-based, in any order) or {"errors":[...],...};
//    the operation must finish within 24 hours.
//  - https://shopify.dev/changelog/posts/faster-bulk-operations: files up to 100 MB (20 MB
//    before), up to five bulk operations per shop at a time (2026-01 and later).
//  - https://shopify.dev/docs/api/admin-graphql/latest/enums/BulkMutationErrorCode and
//    .../queries/bulkOperations: every unfinished status is asked for (created, running,
//    canceling; status:running alone misses the other two, as mutation-operations.server.ts
//    found), and ended ones are filtered out in code too.
//
// One running per shop, from Tenure (issue 15), although 2026-10 allows five: operations of a
// shop are serialised in this process, and before each one any mutation operation still
// running on the shop (another process's, or one left by a crashed worker) is waited for.
// A leftover may hold older values: waiting lets the newer ones land last. Shopify answering
// OPERATION_IN_PROGRESS or LIMIT_REACHED is waited out the same way. Two processes starting
// at the same instant can still overlap (Shopify allows it); nothing else depends on it.
// Only the operation itself holds the shop's turn: the next file is staged while the
// previous operation runs, and a result file is read after the turn has passed on, so
// back-to-back pushes (a refit's full pass) wait on Shopify's processing, not on transfers.
//
// Transient trouble: the Admin client retries THROTTLED, 5xx and network errors of each call
// (AdminGraphql); the upload and the download are plain fetches retried here. What stays
// unavailable is thrown as DestinationRetryableError: the caller keeps its changes.

/** One result line: the line's `data`, or the `errors` of a line Shopify could not run. */
export interface BulkLineResult {
  data?: Record<string, unknown> | null;
  errors?: { message: string }[];
}

export interface BulkMutationResult {
  operationId: string;
  status: "COMPLETED" | "FAILED" | "CANCELED" | "EXPIRED";
  errorCode: string | null;
  /** By 0-based input line number; a line without an entry did not run (failed or partial operation). */
  results: Map<number, BulkLineResult>;
}

export interface BulkMutationOptions {
  /** How often a running operation is polled at most (default 2 s): the first poll comes after 250 ms, each next one after twice the wait, up to this. */
  pollIntervalMs?: number;
  /** Consecutive failed polls, uploads or downloads before giving up as retryable (default 5). */
  maxTransientFailures?: number;
  /** First backoff of the upload and download retries (default 500 ms), doubled each time. */
  backoffMs?: number;
  /** Identifies the operation in Shopify's list (10-255 characters). */
  clientIdentifier?: string;
  /** Called once the operation is created (tests and logs). */
  onOperationCreated?: (operationId: string) => void;
}

interface UserError {
  field?: string[] | null;
  message: string;
  code?: string | null;
}

interface OperationView {
  id: string;
  status: string;
  errorCode: string | null;
  objectCount: string | null;
  url: string | null;
  partialDataUrl: string | null;
}

const STAGED_UPLOADS_CREATE = `#graphql
  mutation TenureStagedUpload($input: [StagedUploadInput!]!) {
    stagedUploadsCreate(input: $input) {
      stagedTargets { url resourceUrl parameters { name value } }
      userErrors { field message }
    }
  }`;

const RUN_BULK_MUTATION = `#graphql
  mutation TenureBulkMutation($mutation: String!, $stagedUploadPath: String!, $clientIdentifier: String) {
    bulkOperationRunMutation(mutation: $mutation, stagedUploadPath: $stagedUploadPath, clientIdentifier: $clientIdentifier) {
      bulkOperation { id status }
      userErrors { field message code }
    }
  }`;

const OPERATION_FIELDS = "id status errorCode objectCount url partialDataUrl";

const POLL_OPERATION = `#graphql
  query TenureBulkMutationPoll($id: ID!) {
    bulkOperation(id: $id) { ${OPERATION_FIELDS} }
  }`;


const FIRST_POLL_MS = 250;
/** Waiting out another operation: how many times Shopify may say "in progress" before we give up (about an hour at the default poll). */
const MAX_BUSY_ANSWERS = 1_800;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Operations of one shop, one after the other in this process. */
const shopTails = new Map<string, Promise<void>>();

async function oneAtATimePerShop<T>(shop: string, work: () => Promise<T>): Promise<T> {
  const previous = shopTails.get(shop) ?? Promise.resolve();
  let release = () => {};
  const mine = new Promise<void>((resolve) => (release = resolve));
  const tail = previous.then(() => mine);
  shopTails.set(shop, tail);
  await previous;
  try {
    return await work();
  } finally {
    release();
    if (shopTails.get(shop) === tail) shopTails.delete(shop);
  }
}

function describeUserErrors(errors: readonly UserError[]): string {
  return errors.map((error) => `${error.message}${error.code ? ` [${error.code}]` : ""}`).join("; ");
}

/** The Admin client's own verdict: `retriable` when it gave up on THROTTLED, 5xx or the network. */
function isRetriable(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { retriable?: unknown }).retriable === true;
}

/**
 * Runs `mutation` once per line of variables as one bulk operation on `shop` and returns each
 * line's result. Lines are JSON objects (the mutation's variables), already serialised.
 */
export async function runBulkMutation(
  admin: AdminGraphqlClient,
  shop: string,
  mutation: string,
  lines: readonly string[],
  options: BulkMutationOptions = {},
): Promise<BulkMutationResult> {
  if (lines.length === 0) throw new Error("runBulkMutation: no lines to run");
  for (const [index, line] of lines.entries()) {
    if (line.includes("\n")) throw new Error(`runBulkMutation: line ${index} holds a newline; each line must be one JSON object`);
  }
  // The file as one Blob (its bytes outside the JS heap), without joining the lines into one more string.
  const file = new Blob(lines.flatMap((line) => [line, "\n"]), { type: "text/jsonl" });
  // Only the operation takes the shop's turn: the file goes up while the shop's previous
  // operation still runs, and the result is read once the turn has passed to the next one.
  const stagedPath = await stageFile(admin, shop, file, options);
  const ended = await oneAtATimePerShop(shop, () => runStaged(admin, shop, mutation, file, stagedPath, options));
  if (ended.errorCode === "ACCESS_DENIED") {
    // "setup": the merchant reads this sentence as it is; there is no API key to paste (pauseNotice).
    throw new DestinationAuthError(`Shopify denied Tenure's bulk write on ${shop} (ACCESS_DENIED): reinstall or approve the app's write_customers access.`, "setup");
  }
  const resultUrl = ended.status === "COMPLETED" ? ended.url : ended.partialDataUrl;
  const results = resultUrl ? await downloadResults(resultUrl, options) : new Map<number, BulkLineResult>();
  return { operationId: ended.id, status: ended.status as BulkMutationResult["status"], errorCode: ended.errorCode, results };
}

/** In the shop's turn: waits for any mutation operation running on the shop, starts this one and polls it until it ends. */
async function runStaged(admin: AdminGraphqlClient, shop: string, mutation: string, file: Blob, staged: string, options: BulkMutationOptions): Promise<OperationView> {
  const pollMs = options.pollIntervalMs ?? 2_000;
  await waitForRunningMutations(admin, shop, pollMs);

  let stagedPath = staged;
  let operationId: string | null = null;
  for (let busy = 0, restaged = 0; operationId === null; ) {
    const answer = await call(shop, "bulkOperationRunMutation", () =>
      admin.request<{ bulkOperationRunMutation: { bulkOperation: { id: string } | null; userErrors: UserError[] } }>(shop, RUN_BULK_MUTATION, {
        mutation,
        stagedUploadPath: stagedPath,
        clientIdentifier: options.clientIdentifier ?? null,
      }),
    );
    const { bulkOperation, userErrors } = answer.bulkOperationRunMutation;
    if (bulkOperation && userErrors.length === 0) {
      operationId = bulkOperation.id;
      break;
    }
    const codes = new Set(userErrors.map((error) => error.code));
    if (codes.has("OPERATION_IN_PROGRESS") || codes.has("LIMIT_REACHED")) {
      if ((busy += 1) > MAX_BUSY_ANSWERS) throw new DestinationRetryableError(`Shopify kept answering that a bulk mutation is running on ${shop}: ${describeUserErrors(userErrors)}`);
      const waited = await waitForRunningMutations(admin, shop, pollMs);
      if (!waited) await sleep(pollMs); // none visible to us yet: back off, then ask again
      continue;
    }
    if ((codes.has("NO_SUCH_FILE") || codes.has("INTERNAL_FILE_SERVER_ERROR")) && (restaged += 1) <= 2) {
      stagedPath = await stageFile(admin, shop, file, options);
      continue;
    }
    // INVALID_MUTATION, INVALID_STAGED_UPLOAD_FILE: our request is wrong, and sending it again changes nothing.
    throw new Error(`bulkOperationRunMutation refused on ${shop}: ${describeUserErrors(userErrors) || "no operation returned"}`);
  }
  options.onOperationCreated?.(operationId);

  return pollUntilEnded(admin, shop, operationId, pollMs, options.maxTransientFailures ?? 5);
}

/** The Admin client's call, its final transient failure turned into DestinationRetryableError. */
async function call<T>(shop: string, what: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    if (isRetriable(error)) throw new DestinationRetryableError(`${what} on ${shop} stayed unavailable: ${error instanceof Error ? error.message : String(error)}`);
    throw error;
  }
}

/** Waits until no bulk mutation runs on the shop; true when there was one to wait for. */
async function waitForRunningMutations(admin: AdminGraphqlClient, shop: string, pollMs: number): Promise<boolean> {
  let waited = false;
  for (;;) {
    const answer = await call(shop, "bulkOperations", () =>
      admin.request<{ bulkOperations: { nodes: { id: string; status: string }[] } }>(shop, UNFINISHED_MUTATION_OPERATIONS),
    );
    const running = answer.bulkOperations.nodes.filter((operation) => !ENDED_OPERATION_STATUSES.has(operation.status));
    if (running.length === 0) return waited;
    waited = true;
    await sleep(pollMs);
  }
}

async function stageFile(admin: AdminGraphqlClient, shop: string, file: Blob, options: BulkMutationOptions): Promise<string> {
  const filename = "tenure-bulk-variables.jsonl";
  const answer = await call(shop, "stagedUploadsCreate", () =>
    admin.request<{
      stagedUploadsCreate: { stagedTargets: { url: string; resourceUrl: string | null; parameters: { name: string; value: string }[] }[] | null; userErrors: UserError[] };
    }>(shop, STAGED_UPLOADS_CREATE, {
      input: [{ resource: "BULK_MUTATION_VARIABLES", filename, mimeType: "text/jsonl", httpMethod: "POST" }],
    }),
  );
  const { stagedTargets, userErrors } = answer.stagedUploadsCreate;
  const target = stagedTargets?.[0];
  if (userErrors.length > 0 || !target) throw new Error(`stagedUploadsCreate refused on ${shop}: ${describeUserErrors(userErrors) || "no target returned"}`);
  const key = target.parameters.find((parameter) => parameter.name === "key")?.value;
  if (!key) throw new Error(`stagedUploadsCreate on ${shop} returned a target without a key parameter`);

  await withTransferRetries(`the upload of the bulk variables for ${shop}`, options, async () => {
    const form = new FormData();
    for (const parameter of target.parameters) form.append(parameter.name, parameter.value);
    form.append("file", file, filename);
    const response = await fetch(target.url, { method: "POST", body: form });
    const text = await response.text();
    if (response.ok) return;
    throw new TransferError(`the staged upload answered ${response.status}: ${text.slice(0, 300)}`, response.status >= 500 || response.status === 429);
  });
  return key;
}

class TransferError extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
  }
}

/** Retries a plain fetch exchange on 5xx, 429 and network errors; other answers are thrown as they are. */
async function withTransferRetries<T>(what: string, options: BulkMutationOptions, attempt: () => Promise<T>): Promise<T> {
  const tries = options.maxTransientFailures ?? 5;
  for (let failures = 0; ; ) {
    try {
      return await attempt();
    } catch (error) {
      const transient = error instanceof TransferError ? error.transient : true; // fetch's own errors: the network
      if (!transient) throw new Error(`${what} failed: ${(error as Error).message}`);
      if ((failures += 1) >= tries) throw new DestinationRetryableError(`${what} failed ${failures} times: ${error instanceof Error ? error.message : String(error)}`);
      await sleep((options.backoffMs ?? 500) * 2 ** (failures - 1));
    }
  }
}

async function pollUntilEnded(admin: AdminGraphqlClient, shop: string, id: string, pollMs: number, maxFailures: number): Promise<OperationView> {
  // Short operations (a push of a few thousand customers) end in seconds: look soon, then less often.
  let wait = Math.min(FIRST_POLL_MS, pollMs);
  const nextWait = () => {
    const current = wait;
    wait = Math.min(pollMs, wait * 2);
    return current;
  };
  await sleep(nextWait());
  for (let failures = 0; ; ) {
    let operation: OperationView | null;
    try {
      operation = (await admin.request<{ bulkOperation: OperationView | null }>(shop, POLL_OPERATION, { id })).bulkOperation;
      failures = 0;
    } catch (error) {
      // A poll is only a look: the operation runs on in Shopify. Look again, a few times.
      if (!isRetriable(error)) throw error;
      if ((failures += 1) >= maxFailures) {
        throw new DestinationRetryableError(`polling bulk operation ${id} on ${shop} kept failing: ${error instanceof Error ? error.message : String(error)}`);
      }
      await sleep(nextWait());
      continue;
    }
    if (!operation) throw new DestinationRetryableError(`bulk operation ${id} is unknown to Shopify on ${shop}`);
    if (ENDED_OPERATION_STATUSES.has(operation.status)) return operation;
    await sleep(nextWait());
  }
}

/** The result file, streamed line by line into line number -> result. */
async function downloadResults(url: string, options: BulkMutationOptions): Promise<Map<number, BulkLineResult>> {
  return withTransferRetries("the bulk operation's result download", options, async () => {
    const response = await fetch(url);
    if (!response.ok || !response.body) {
      const text = await response.text().catch(() => "");
      throw new TransferError(`the result file answered ${response.status}: ${text.slice(0, 300)}`, response.status >= 500 || response.status === 429);
    }
    const results = new Map<number, BulkLineResult>();
    let rest = "";
    const take = (line: string) => {
      if (line.trim() === "") return;
      const parsed = JSON.parse(line) as BulkLineResult & { __lineNumber?: number };
      if (typeof parsed.__lineNumber !== "number") throw new Error(`a result line without __lineNumber: ${line.slice(0, 200)}`);
      results.set(parsed.__lineNumber, { data: parsed.data, errors: parsed.errors });
    };
    const decoder = new TextDecoder();
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      rest += decoder.decode(chunk, { stream: true });
      let start = 0;
      for (let newline = rest.indexOf("\n"); newline >= 0; newline = rest.indexOf("\n", start)) {
        take(rest.slice(start, newline));
        start = newline + 1;
      }
      rest = rest.slice(start);
    }
    take(rest + decoder.decode());
    return results;
  });
}
