import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import { type AddressInfo } from "node:net";
import { FakeBulkMutations, type FakeBulkMutationsOptions } from "./shopify-bulk-mutations";
import { resolveCustomerOperations } from "./shopify-customers";
import {
  CostBucket,
  type CostBucketLimits,
  FakeGraphqlErrors,
  type FakeShopData,
  type FakeShopifyRules,
  type MetafieldsSetInput,
  THROTTLED_ERRORS,
  emptyShopData,
  metafieldsSet,
  resolveDefinitionsAndSegments,
} from "./shopify-rules";

// A fake Shopify Admin GraphQL API for the demo and the browser tests (plain Node: no test
// framework), standing in for the one demo store: what publishing a segment needs, i.e.
// metafield definitions (list, create, update; "$app" resolves to "app--<app id>") and
// segmentCreate / segmentUpdate with their queries checked against the segment query
// grammar, with cost extensions and THROTTLED from a leaky bucket; and what the metafield
// write-back sends from the demo's worker: metafieldsSet, metafieldsDelete, tagsAdd /
// tagsRemove, and the bulk path (stagedUploadsCreate, whose target is this server's own
// /staged-uploads/ since the worker's fetch goes where the url says, bulkOperationRunMutation,
// bulkOperation polls, the result file). Its answers come from demo/fakes/shopify-rules.ts,
// shopify-customers.ts and shopify-bulk-mutations.ts, the same code the tests' fake
// (tests/support/fake-shopify.ts) answers with.
//
// The app reaches it in demo mode only, through SHOPIFY_ADMIN_API_URL (app/demo-mode.server.ts):
// POST <url>/admin/api/<version>/graphql.json with an X-Shopify-Access-Token header, as it
// would https://<shop>/admin/api/<version>/graphql.json.

export interface FakeShopifyAdminOptions {
  port?: number;
  /** The app's API client id: "$app" resolves to "app--<appId>" (default 9876543). */
  appId?: string;
  /** The leaky bucket (default: Shopify's Standard plan, 2,000 points restored at 100 per second). */
  bucket?: CostBucketLimits;
  /** Staged uploads and bulk mutations: limits and processing (staged uploads always go to this server). */
  bulkMutations?: Omit<FakeBulkMutationsOptions, "stagedUploadsOnOrigin">;
}

export interface FakeShopifyAdminRequest {
  query: string;
  variables: Record<string, unknown>;
  status: number;
  throttled: boolean;
}

export interface FakeShopifyAdmin {
  url: string;
  /** The store's metafield definitions, customer metafields (data.metafields, by customer GID) and segments. */
  data: FakeShopData;
  /** Staged uploads and bulk mutation operations (demo/fakes/shopify-bulk-mutations.ts). */
  bulkMutations: FakeBulkMutations;
  /** What "$app" resolves to: the namespace of Tenure's definitions. */
  appNamespace: string;
  /** Every GraphQL request, in order. */
  requests: FakeShopifyAdminRequest[];
  /** The requests whose query contains `match` (e.g. "segmentCreate("). */
  requestsFor(match: string): FakeShopifyAdminRequest[];
  close(): Promise<void>;
}

const GRAPHQL_PATH = /^\/admin\/api\/[\w-]+\/graphql\.json$/;
/** Larger bodies are refused: publishing sends a few hundred bytes. */
const MAX_BODY_BYTES = 1024 * 1024;
/** The one store's name for the bulk operations' bookkeeping (the fake stands for one store). */
const DEMO_STORE = "demo-store";

export async function startFakeShopifyAdmin(options: FakeShopifyAdminOptions = {}): Promise<FakeShopifyAdmin> {
  const data = emptyShopData();
  const rules: FakeShopifyRules = { appNamespace: `app--${options.appId ?? "9876543"}`, definitionUserErrorsNext: null };
  const bucket = new CostBucket(options.bucket ?? { maximumAvailable: 2_000, restoreRate: 100, queryCost: 10 });
  const requests: FakeShopifyAdminRequest[] = [];
  let origin = "";
  // Each bulk line runs through `resolve` below: the same validation as a direct call.
  const bulkMutations = new FakeBulkMutations(
    { origin: () => origin, execute: (query, variables) => resolve(query, variables) },
    { ...options.bulkMutations, stagedUploadsOnOrigin: true },
  );

  const resolve = (query: string, variables: Record<string, unknown>): unknown => {
    if (query.includes("metafieldsSet(")) return { metafieldsSet: metafieldsSet(rules, data, (variables.metafields ?? []) as MetafieldsSetInput[]) };
    const answer =
      bulkMutations.resolve(query, variables, DEMO_STORE) ??
      resolveCustomerOperations(rules, data, query, variables) ??
      resolveDefinitionsAndSegments(rules, data, query, variables);
    if (answer !== undefined) return answer;
    throw new FakeGraphqlErrors([{ message: `The demo's fake Shopify does not answer this query: ${query.replace(/\s+/g, " ").trim().slice(0, 120)}` }]);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? "/", "http://fake");
    if (bulkMutations.handlesHttp(request, url)) {
      // The staged upload (a multipart POST of the JSONL file) and the result files.
      const raw = await readBody(request, bulkMutations.maxFileBytes + MAX_BODY_BYTES);
      if (raw === null) return send(response, 413, { errors: "Request body too large" });
      return bulkMutations.serveHttp(request, url, raw, response);
    }
    if (request.method !== "POST" || !GRAPHQL_PATH.test(url.pathname)) return send(response, 404, { errors: "Not Found" });
    if (!request.headers["x-shopify-access-token"]) {
      return send(response, 401, { errors: "[API] Invalid API key or access token (unrecognized login or wrong password)" });
    }
    const rawBody = await readBody(request, MAX_BODY_BYTES);
    if (rawBody === null) return send(response, 413, { errors: "Request body too large" });
    const raw = rawBody.toString("utf8");
    let body: { query?: unknown; variables?: unknown };
    try {
      body = JSON.parse(raw) as typeof body;
    } catch {
      return send(response, 400, { errors: { query: "Required parameter missing or invalid" } });
    }
    if (typeof body?.query !== "string" || body.query.trim() === "") return send(response, 400, { errors: { query: "Required parameter missing or invalid" } });
    const variables = body.variables && typeof body.variables === "object" ? (body.variables as Record<string, unknown>) : {};
    const record: FakeShopifyAdminRequest = { query: body.query, variables, status: 200, throttled: false };
    requests.push(record);
    const refused = bucket.check(body.query, variables);
    if (refused) {
      record.throttled = refused.errors === THROTTLED_ERRORS;
      return send(response, 200, refused);
    }
    try {
      return send(response, 200, { data: resolve(body.query, variables), extensions: bucket.extensions() });
    } catch (error) {
      if (!(error instanceof FakeGraphqlErrors)) throw error;
      return send(response, 200, { errors: error.errors, extensions: bucket.extensions() });
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => send(response, 500, { errors: `Internal Server Error: ${String(error)}` }));
  });
  await new Promise<void>((done, fail) => {
    server.once("error", fail);
    server.listen(options.port ?? 0, "127.0.0.1", () => done());
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;

  return {
    url: origin,
    data,
    bulkMutations,
    appNamespace: rules.appNamespace,
    requests,
    requestsFor: (match) => requests.filter((request) => request.query.includes(match)),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/** The body, or null when it is larger than `maxBytes`. */
async function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(response: ServerResponse, status: number, json: unknown): void {
  if (response.headersSent) return;
  const text = JSON.stringify(json);
  response.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  response.end(text);
}
