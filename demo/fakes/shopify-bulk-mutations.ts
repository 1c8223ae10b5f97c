import { randomUUID } from "node:crypto";
import { type IncomingMessage, type ServerResponse } from "node:http";

// A fake Shopify's staged uploads and bulk mutation operations: the tests' fake
// (tests/support/fake-shopify.ts) dispatches to this class, and so does the fake of
// bench/metafield-bulk.bench.ts (a plain Node process: no test framework here). Shapes from the Admin GraphQL reference and the bulk import guide
// (2026-10, https://shopify.dev/docs/api/usage/bulk-operations/imports):
//  - stagedUploadsCreate(input: [{ resource: BULK_MUTATION_VARIABLES, filename, mimeType,
//    httpMethod: POST }]) -> stagedTargets { url resourceUrl parameters { name value } }: the
//    url is Shopify's Google Cloud Storage bucket, the parameters a signed POST policy whose
//    `key` is the stagedUploadPath. Every fetch of the test process reaches this server (the
//    fake's dispatcher), so the multipart POST to that url lands here: 201 with GCS's
//    PostResponse XML, 400 EntityTooLarge above the size limit.
//  - bulkOperationRunMutation(mutation, stagedUploadPath, clientIdentifier) -> bulkOperation,
//    userErrors { field message code } with BulkMutationErrorCode (NO_SUCH_FILE,
//    INVALID_STAGED_UPLOAD_FILE, OPERATION_IN_PROGRESS, LIMIT_REACHED, INVALID_MUTATION).
//  - bulkOperation(id:) and bulkOperations(query: "operation_type:mutation status:running"):
//    status, errorCode, objectCount, url (COMPLETED), partialDataUrl (FAILED with lines run).
//  - the result file: one line per input line that ran, {"data":{...},"__lineNumber":N}, or
//    {"errors":[...],"__lineNumber":N} for a line whose mutation raised a GraphQL error.
//
// Each line runs through the fake's own resolver (the same metafieldsSet as a direct call:
// validation, definitions' types and choices, atomicity, deleted customers), so values land
// in shopData(shop).metafields. A line's data keeps only the fields the mutation selects
// (matched by name, enough for the payloads used).
//
// Limits enforced: the file size (100 MB, https://shopify.dev/changelog/posts/faster-bulk-operations;
// `maxFileBytes` to test the split), and concurrency by API version: up to 5 running bulk
// mutations per shop from 2026-01 (LIMIT_REACHED beyond), 1 before (OPERATION_IN_PROGRESS).
// Not simulated: the 24-hour limit, expiry of the staged upload and of result urls (7 days).
// Processing rate: Shopify documents none. By default an operation is CREATED, RUNNING at
// its first poll and COMPLETED at the next (`pollsUntilComplete`); with `linesPerSecond` it
// runs its lines at that rate in time, whoever looks.

export const STAGED_UPLOADS_URL = "https://shopify-staged-uploads.storage.googleapis.com/";
const STAGED_UPLOADS_HOST = new URL(STAGED_UPLOADS_URL).host;
const RESULTS_PATH = "/bulk-mutation-results/";
/** Where staged uploads go with stagedUploadsOnOrigin: a path of the fake's own server. */
const STAGED_UPLOADS_ON_ORIGIN_PATH = "/staged-uploads/";
const MEGABYTE = 1_048_576;

export interface FakeBulkMutationsOptions {
  /** The Admin API version the app calls (sets the concurrency rule; default 2026-10). */
  apiVersion?: string;
  /** The largest staged file accepted (default 100 MB). */
  maxFileBytes?: number;
  /** Polls of an operation after RUNNING before it completes (default 1). Ignored with linesPerSecond. */
  pollsUntilComplete?: number;
  /** Lines run per second of wall time, whoever looks (default: all at completion). */
  linesPerSecond?: number | null;
  /**
   * Staged upload targets at the fake's own origin (<origin>/staged-uploads/) instead of
   * STAGED_UPLOADS_URL: for a process whose fetch is not routed to the fake (the demo's worker).
   */
  stagedUploadsOnOrigin?: boolean;
}

export interface FakeBulkMutationOperation {
  id: string;
  shop: string;
  mutation: string;
  stagedUploadPath: string;
  clientIdentifier: string | null;
  status: "CREATED" | "RUNNING" | "COMPLETED" | "FAILED" | "CANCELED";
  errorCode: string | null;
  polls: number;
  createdAt: number;
  startedAt: number | null;
  completedAt: number | null;
  lines: string[];
  /** Lines run so far, and their result lines. */
  ran: number;
  results: string[];
  /** Fail once this many lines ran (set by failNextOperation). */
  failAfter: { lines: number; errorCode: string } | null;
}

interface StagedFile {
  shop: string;
  text: string | null;
}

type Execute = (query: string, variables: Record<string, unknown>, shop: string) => unknown;

export class FakeBulkMutations {
  readonly operations: FakeBulkMutationOperation[] = [];
  /** stagedUploadPath -> the shop it was made for and the uploaded text (null until uploaded). */
  readonly staged = new Map<string, StagedFile>();
  /** Upload requests received (a rejected one too), with their byte size and status. */
  readonly uploads: { key: string; bytes: number; status: number }[] = [];
  /** HTTP statuses to answer the next uploads with, in order (e.g. 503). */
  failUploadsNext: number[] = [];
  /** The next bulkOperationRunMutation calls answer with these userErrors, one call each. */
  runUserErrorsNext: { code: string; message: string }[] = [];
  /** The next operation created fails (errorCode) once this many of its lines ran. */
  failNextOperation: { afterLines: number; errorCode: string } | null = null;
  /** Called after each GraphQL call this part answered, with its field (to fail the next call, say). */
  onCall: ((field: "stagedUploadsCreate" | "bulkOperationRunMutation" | "bulkOperations" | "bulkOperation") => void) | null = null;
  /** Called when an operation ends (the benchmark clears the stored values to save memory). */
  onEnded: ((operation: FakeBulkMutationOperation) => void) | null = null;
  /** Most mutation operations seen running at once, per shop. */
  readonly mostRunning = new Map<string, number>();
  readonly maxFileBytes: number;
  readonly concurrentPerShop: number;
  private readonly pollsUntilComplete: number;
  private readonly linesPerSecond: number | null;
  private readonly stagedUploadsOnOrigin: boolean;
  private nextId = 9_000;

  constructor(
    private readonly host: { origin: () => string; execute: Execute },
    options: FakeBulkMutationsOptions = {},
  ) {
    this.maxFileBytes = options.maxFileBytes ?? 100 * MEGABYTE;
    this.concurrentPerShop = (options.apiVersion ?? "2026-10") >= "2026-01" ? 5 : 1;
    this.pollsUntilComplete = options.pollsUntilComplete ?? 1;
    this.linesPerSecond = options.linesPerSecond ?? null;
    this.stagedUploadsOnOrigin = options.stagedUploadsOnOrigin ?? false;
  }

  /** The url staged upload targets name. */
  private stagedUploadsUrl(): string {
    return this.stagedUploadsOnOrigin ? `${this.host.origin()}${STAGED_UPLOADS_ON_ORIGIN_PATH}` : STAGED_UPLOADS_URL;
  }

  /** Whether this request is the staged upload POST or a result download. */
  handlesHttp(req: IncomingMessage, url: URL): boolean {
    if (req.method === "POST" && (req.headers.host ?? "").replace(/:\d+$/, "") === STAGED_UPLOADS_HOST) return true;
    if (req.method === "POST" && this.stagedUploadsOnOrigin && url.pathname === STAGED_UPLOADS_ON_ORIGIN_PATH) return true;
    return req.method === "GET" && url.pathname.startsWith(RESULTS_PATH);
  }

  serveHttp(req: IncomingMessage, url: URL, body: Buffer, res: ServerResponse): void {
    if (req.method === "GET") return this.serveResult(url.pathname.slice(RESULTS_PATH.length), res);
    const form = parseMultipart(String(req.headers["content-type"] ?? ""), body);
    const key = form?.fields.get("key") ?? "";
    const record = { key, bytes: form?.file?.length ?? 0, status: 201 };
    this.uploads.push(record);
    const xml = (status: number, code: string, message: string, extra = "") => {
      record.status = status;
      res.writeHead(status, { "content-type": "application/xml; charset=UTF-8" });
      res.end(`<?xml version='1.0' encoding='UTF-8'?><Error><Code>${code}</Code><Message>${message}</Message>${extra}</Error>`);
    };
    const forced = this.failUploadsNext.shift();
    if (forced !== undefined) return xml(forced, forced >= 500 ? "InternalError" : "BadRequest", "We encountered an internal error. Please try again.");
    if (!form || !form.file) return xml(400, "InvalidArgument", "Invalid argument: the POST has no file.");
    const staged = this.staged.get(key);
    if (!staged || form.fields.get("policy") !== policyFor(key)) return xml(403, "AccessDenied", "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$key\"]");
    if (form.file.length > this.maxFileBytes) {
      return xml(400, "EntityTooLarge", "Your proposed upload is larger than the maximum object size specified in your Policy Document.", `<Details>Content-length exceeds upper bound on range</Details>`);
    }
    staged.text = form.file.toString("utf8");
    res.writeHead(201, { "content-type": "application/xml; charset=UTF-8" });
    res.end(`<?xml version='1.0' encoding='UTF-8'?><PostResponse><Location>${this.stagedUploadsUrl()}${key}</Location><Bucket>shopify-staged-uploads</Bucket><Key>${key}</Key><ETag>"${randomUUID().replace(/-/g, "")}"</ETag></PostResponse>`);
  }

  /** The answer to a GraphQL call this part handles, else undefined. */
  resolve(query: string, variables: Record<string, unknown>, shop: string): unknown {
    const answer = this.answer(query, variables, shop);
    if (answer !== undefined) this.onCall?.(Object.keys(answer)[0] as Parameters<NonNullable<FakeBulkMutations["onCall"]>>[0]);
    return answer;
  }

  private answer(query: string, variables: Record<string, unknown>, shop: string): Record<string, unknown> | undefined {
    if (query.includes("stagedUploadsCreate(")) return { stagedUploadsCreate: this.stagedUploadsCreate(shop, (variables.input ?? []) as Record<string, unknown>[]) };
    if (query.includes("bulkOperationRunMutation(")) {
      return {
        bulkOperationRunMutation: this.run(shop, String(variables.mutation ?? ""), String(variables.stagedUploadPath ?? ""), (variables.clientIdentifier as string | null | undefined) ?? null),
      };
    }
    if (query.includes("bulkOperations(")) return { bulkOperations: this.list(shop, String(variables.query ?? /query:\s*"([^"]*)"/.exec(query)?.[1] ?? "")) };
    if (query.includes("bulkOperation(id:")) {
      const operation = this.operations.find((o) => o.id === variables.id);
      if (!operation) return undefined; // a bulk query's: the fake's own answer
      this.observe(operation);
      return { bulkOperation: this.describe(operation) };
    }
    return undefined;
  }

  /** Starts an operation as another process of the app would (a leftover, say), with these lines. */
  startOperation(shop: string, mutation: string, lines: string[]): FakeBulkMutationOperation {
    const key = this.newStagedPath(shop);
    this.staged.set(key, { shop, text: lines.join("\n") });
    const answer = this.run(shop, mutation, key, null);
    if (!answer.bulkOperation) throw new Error(`the fake refused to start the operation: ${JSON.stringify(answer.userErrors)}`);
    return this.operations.find((o) => o.id === answer.bulkOperation!.id)!;
  }

  /** Runs an operation's remaining lines now and completes it (tests). */
  finish(operation: FakeBulkMutationOperation): void {
    this.runLines(operation, operation.lines.length);
    if (operation.status === "CREATED" || operation.status === "RUNNING") this.end(operation, "COMPLETED", null);
  }

  private running(shop: string): FakeBulkMutationOperation[] {
    for (const operation of this.operations) if (operation.shop === shop) this.advance(operation);
    return this.operations.filter((o) => o.shop === shop && (o.status === "CREATED" || o.status === "RUNNING"));
  }

  private newStagedPath(shop: string): string {
    return `tmp/${shopNumber(shop)}/bulk/${randomUUID()}/bulk_op_vars`;
  }

  private stagedUploadsCreate(shop: string, inputs: Record<string, unknown>[]) {
    const userErrors: { field: string[]; message: string }[] = [];
    const stagedTargets = inputs.map((input, index) => {
      if (input.resource !== "BULK_MUTATION_VARIABLES") throw new Error(`the fake's staged uploads serve BULK_MUTATION_VARIABLES only, not ${String(input.resource)}`);
      if (!input.filename) userErrors.push({ field: ["input", String(index), "filename"], message: "Filename can't be blank" });
      if (input.httpMethod !== undefined && input.httpMethod !== "POST") userErrors.push({ field: ["input", String(index), "httpMethod"], message: "Bulk mutation variables are uploaded with POST" });
      const key = this.newStagedPath(shop);
      this.staged.set(key, { shop, text: null });
      const now = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
      return {
        url: this.stagedUploadsUrl(),
        resourceUrl: `${this.stagedUploadsUrl()}${key}`,
        parameters: [
          { name: "Content-Type", value: String(input.mimeType ?? "text/jsonl") },
          { name: "success_action_status", value: "201" },
          { name: "acl", value: "private" },
          { name: "key", value: key },
          { name: "x-goog-date", value: now },
          { name: "x-goog-credential", value: `merchant-assets@shopify-tiers.iam.gserviceaccount.com/${now.slice(0, 8)}/auto/storage/goog4_request` },
          { name: "x-goog-algorithm", value: "GOOG4-RSA-SHA256" },
          { name: "x-goog-signature", value: randomUUID().replace(/-/g, "").repeat(8) },
          { name: "policy", value: policyFor(key) },
        ],
      };
    });
    return userErrors.length > 0 ? { stagedTargets: null, userErrors } : { stagedTargets, userErrors: [] };
  }

  private run(shop: string, mutation: string, stagedUploadPath: string, clientIdentifier: string | null) {
    const refuse = (code: string, message: string, field: string[] | null = null) => ({ bulkOperation: null, userErrors: [{ field, message, code }] });
    const forced = this.runUserErrorsNext.shift();
    if (forced) return refuse(forced.code, forced.message);
    if (!/^\s*mutation\b/.test(mutation) || !/\{[\s\S]*\}/.test(mutation)) return refuse("INVALID_MUTATION", "Invalid mutation: expected a single mutation.", ["mutation"]);
    const staged = this.staged.get(stagedUploadPath);
    if (!staged || staged.shop !== shop || staged.text === null) {
      return refuse("NO_SUCH_FILE", "The JSONL file could not be found. Try uploading the file again, and check that you've entered the URL correctly for the stagedUploadPath mutation argument.", ["stagedUploadPath"]);
    }
    const lines = staged.text.split("\n").filter((line) => line.trim() !== "");
    for (const line of lines) {
      try {
        const parsed: unknown = JSON.parse(line);
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
      } catch {
        return refuse("INVALID_STAGED_UPLOAD_FILE", "Unexpected file structure - expected JSONL", ["stagedUploadPath"]);
      }
    }
    const running = this.running(shop);
    if (running.length >= this.concurrentPerShop) {
      return this.concurrentPerShop === 1
        ? refuse("OPERATION_IN_PROGRESS", `A bulk mutation operation for this app and shop is already in progress: ${running[0].id}.`)
        : refuse("LIMIT_REACHED", "Bulk operations limit reached. Please try again later.");
    }
    const operation: FakeBulkMutationOperation = {
      id: `gid://shopify/BulkOperation/${(this.nextId += 1)}`,
      shop, mutation, stagedUploadPath, clientIdentifier,
      status: "CREATED", errorCode: null, polls: 0, createdAt: Date.now(), startedAt: null, completedAt: null,
      lines, ran: 0, results: [],
      failAfter: this.failNextOperation ? { lines: this.failNextOperation.afterLines, errorCode: this.failNextOperation.errorCode } : null,
    };
    this.failNextOperation = null;
    this.operations.push(operation);
    const now = this.operations.filter((o) => o.shop === shop && (o.status === "CREATED" || o.status === "RUNNING")).length;
    this.mostRunning.set(shop, Math.max(this.mostRunning.get(shop) ?? 0, now));
    return { bulkOperation: { id: operation.id, status: operation.status }, userErrors: [] };
  }

  /** Someone looked at the operation (its poll, a list): it moves on. */
  private observe(operation: FakeBulkMutationOperation): void {
    if (operation.status !== "CREATED" && operation.status !== "RUNNING") return;
    operation.polls += 1;
    this.advance(operation);
  }

  /** Moves an operation on: RUNNING once seen, lines run by looks or by time, then ended. */
  private advance(operation: FakeBulkMutationOperation): void {
    if (operation.status !== "CREATED" && operation.status !== "RUNNING") return;
    const now = Date.now();
    if (this.linesPerSecond !== null) {
      operation.status = "RUNNING";
      operation.startedAt ??= operation.createdAt;
      this.runLines(operation, Math.floor(((now - operation.startedAt) / 1000) * this.linesPerSecond));
    } else if (operation.status === "CREATED") {
      operation.status = "RUNNING";
      operation.startedAt = now;
      return;
    } else if (operation.polls > this.pollsUntilComplete) {
      this.runLines(operation, operation.lines.length);
    }
    if (operation.status === "RUNNING" && operation.ran >= operation.lines.length) this.end(operation, "COMPLETED", null);
  }

  private runLines(operation: FakeBulkMutationOperation, upTo: number): void {
    const until = Math.min(upTo, operation.lines.length);
    while (operation.ran < until && operation.status !== "FAILED") {
      if (operation.failAfter && operation.ran >= operation.failAfter.lines) {
        this.end(operation, "FAILED", operation.failAfter.errorCode);
        return;
      }
      const index = operation.ran;
      operation.results.push(this.runLine(operation, index));
      operation.ran += 1;
    }
  }

  private runLine(operation: FakeBulkMutationOperation, index: number): string {
    const variables = JSON.parse(operation.lines[index]) as Record<string, unknown>;
    try {
      const data = this.host.execute(operation.mutation, variables, operation.shop);
      return JSON.stringify({ data: selected(data, operation.mutation), __lineNumber: index });
    } catch (error) {
      const errors = (error as { errors?: unknown }).errors;
      if (!Array.isArray(errors)) throw error;
      return JSON.stringify({ errors, __lineNumber: index });
    }
  }

  private end(operation: FakeBulkMutationOperation, status: "COMPLETED" | "FAILED", errorCode: string | null): void {
    operation.status = status;
    operation.errorCode = errorCode;
    operation.completedAt = Date.now();
    this.onEnded?.(operation);
  }

  private describe(operation: FakeBulkMutationOperation) {
    const key = operation.id.slice(operation.id.lastIndexOf("/") + 1);
    const ended = operation.status === "COMPLETED" || operation.status === "FAILED";
    return {
      id: operation.id,
      type: "MUTATION",
      status: operation.status,
      errorCode: operation.errorCode,
      createdAt: new Date(operation.createdAt).toISOString(),
      completedAt: operation.completedAt ? new Date(operation.completedAt).toISOString() : null,
      objectCount: String(operation.ran),
      rootObjectCount: String(operation.ran),
      fileSize: ended ? String(operation.results.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0)) : null,
      url: operation.status === "COMPLETED" ? `${this.host.origin()}${RESULTS_PATH}${key}` : null,
      partialDataUrl: operation.status === "FAILED" && operation.ran > 0 ? `${this.host.origin()}${RESULTS_PATH}${key}` : null,
      query: operation.mutation,
    };
  }

  /** `bulkOperations(query:)` over this app's mutation operations: operation_type and status terms (several statuses: any). */
  private list(shop: string, search: string) {
    const type = /operation_type:(\w+)/.exec(search)?.[1]?.toLowerCase();
    const statuses = [...search.matchAll(/status:(\w+)/g)].map((match) => match[1].toUpperCase());
    for (const operation of this.operations) if (operation.shop === shop) this.observe(operation);
    const nodes = type === "query"
      ? []
      : this.operations
          .filter((o) => o.shop === shop && (statuses.length === 0 || statuses.includes(o.status)))
          .sort((a, b) => b.createdAt - a.createdAt)
          .map((o) => this.describe(o));
    return { nodes, edges: nodes.map((node) => ({ cursor: node.id, node })), pageInfo: { hasNextPage: false, endCursor: null } };
  }

  private serveResult(key: string, res: ServerResponse): void {
    const operation = this.operations.find((o) => o.id.endsWith(`/${key}`));
    if (!operation || (operation.status !== "COMPLETED" && operation.status !== "FAILED")) {
      res.writeHead(404, { "content-type": "application/xml" });
      res.end("<?xml version='1.0' encoding='UTF-8'?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>");
      return;
    }
    res.writeHead(200, { "content-type": "application/jsonl" });
    // Lines in any order, as Shopify's are: odd lines first.
    const odd = operation.results.filter((_, i) => i % 2 === 1);
    const even = operation.results.filter((_, i) => i % 2 === 0);
    res.end([...odd, ...even].map((line) => `${line}\n`).join(""));
  }
}

function shopNumber(shop: string): number {
  let hash = 7;
  for (const char of shop) hash = (hash * 31 + char.charCodeAt(0)) % 100_000_000;
  return 10_000_000 + hash;
}

/** The signed policy of a key (the fake checks that the upload carries the one it issued). */
function policyFor(key: string): string {
  return Buffer.from(JSON.stringify({ conditions: [["eq", "$key", key], ["content-length-range", 1, 104_857_600]] })).toString("base64");
}

/** A GraphQL answer cut to the fields the mutation's selection names (by name: enough for payloads like metafieldsSet's). */
function selected(data: unknown, mutation: string): unknown {
  const names = new Set(mutation.replace(/\([^)]*\)/g, " ").match(/[A-Za-z_]\w*/g) ?? []);
  const cut = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(cut);
    if (typeof value !== "object" || value === null) return value;
    return Object.fromEntries(Object.entries(value).filter(([key]) => names.has(key)).map(([key, inner]) => [key, cut(inner)]));
  };
  return cut(data);
}

/** multipart/form-data: its text fields and the `file` part (null when the body is not one). */
function parseMultipart(contentType: string, body: Buffer): { fields: Map<string, string>; file: Buffer | null } | null {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!boundary) return null;
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const fields = new Map<string, string>();
  let file: Buffer | null = null;
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === "--") break;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    const part = body.subarray(start + 2, next - 2); // after CRLF, before CRLF
    const headerEnd = part.indexOf("\r\n\r\n");
    if (headerEnd >= 0) {
      const headers = part.subarray(0, headerEnd).toString("utf8");
      const name = /name="([^"]*)"/.exec(headers)?.[1] ?? "";
      const content = part.subarray(headerEnd + 4);
      if (/filename="/.test(headers)) file = content;
      else fields.set(name, content.toString("utf8"));
    }
    at = next;
  }
  return { fields, file };
}
