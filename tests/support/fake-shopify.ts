import { once } from "node:events";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import { type AddressInfo, connect as netConnect } from "node:net";
import { Agent, type Dispatcher, getGlobalDispatcher, setGlobalDispatcher } from "undici";
import { type PrismaClient } from "@prisma/client";
import { FakeBulkMutations, type FakeBulkMutationsOptions } from "./fake-shopify-bulk-mutations";
import { resolveCustomerOperations } from "./fake-shopify-customers";
import { type GraphqlOrderWithLines, bulkJsonl } from "./graphql-shapes";
import { flowTriggerReceive } from "./fake-shopify-flow";
import {
  CostBucket, THROTTLED_ERRORS, type FakeShopData, FakeGraphqlErrors, type MetafieldsSetInput, emptyShopData, metafieldsSet, resolveDefinitionsAndSegments,
} from "../../demo/fakes/shopify-rules";

// The metafield and segment rules live in demo/fakes/shopify-rules.ts (the demo's fake answers
// with them too); their types are exported from here as before.
export type { FakeMetafield, FakeMetafieldDefinition, FakeSegment, FakeShopData } from "../../demo/fakes/shopify-rules";
export { FakeGraphqlErrors, segmentQueryProblem } from "../../demo/fakes/shopify-rules";

// A fake Shopify Admin API at the HTTP boundary: a node:http server on 127.0.0.1 speaking
// the real response shapes (bulk operation lifecycle, JSONL results, the `orders`
// connection, `ordersCount`, cost extensions with a leaky bucket, THROTTLED errors,
// userErrors, 401 and 5xx, the offline token refresh; per shop, from the Host header:
// metafield definitions, customer metafields (metafieldsSet) and customer segments whose
// queries are checked against the segment query grammar: demo/fakes/shopify-rules.ts).
//
// Shopify's admin client always calls https://<shop>/admin/api/<version>/graphql.json (it
// forces https). Rather than stub any of our code, the test routes the process's fetch
// connections to this server: undici's global dispatcher gets a connector that opens a
// plain TCP socket to 127.0.0.1:<port> whatever the host, like an /etc/hosts entry plus a
// TLS-terminating proxy. Everything above the socket is the real library and our code.

export interface BulkOperationState {
  id: string;
  query: string;
  status: "CREATED" | "RUNNING" | "COMPLETED" | "FAILED";
  polls: number;
  errorCode: string | null;
}

export interface FakeShopifyOptions {
  accessToken?: string;
  /** Polls of a bulk operation before it reports COMPLETED (default 1: CREATED, RUNNING, then COMPLETED). */
  pollsUntilComplete?: number;
  /** The leaky bucket: capacity, refill per second, and the cost of each query. */
  bucket?: { maximumAvailable: number; restoreRate: number; queryCost: number };
  /** The app's API client id: "$app" resolves to "app--<appId>" (default 9876543). */
  appId?: string;
  /** Staged uploads and bulk mutations: limits and processing (tests/support/fake-shopify-bulk-mutations.ts). */
  bulkMutations?: FakeBulkMutationsOptions;
}

export interface RecordedRequest {
  path: string;
  /** The shop the call was for (its Host header). */
  shop: string;
  query: string;
  variables: Record<string, unknown>;
  at: number;
  status: number;
  throttled: boolean;
}

export class FakeShopify {
  orders: GraphqlOrderWithLines[] = [];
  /** InventoryItem nodes (`inventoryItems(query: "updated_at:>'…'")`, reconciliation of unit costs). */
  inventoryItems: Record<string, unknown>[] = [];
  /** AbandonedCheckout nodes (`abandonedCheckouts(query: "created_at:>='…'")`, the backfill's past checkouts). */
  abandonedCheckouts: Record<string, unknown>[] = [];
  /** The orders the bulk JSONL holds; defaults to `orders` at the time the operation completes. */
  readonly operations: BulkOperationState[] = [];
  readonly requests: RecordedRequest[] = [];
  /** HTTP statuses to answer the next GraphQL calls with, in order (e.g. 503, 401). */
  failNext: number[] = [];
  /** The next GraphQL calls whose connection is cut before any answer (a network error), counted down. */
  dropNext = 0;
  /** The next bulkOperationRunQuery answers with this user error. */
  userErrorNext: { code: string; message: string } | null = null;
  /** Rewrites the JSONL file of each operation completed from now on (to corrupt a line, say). */
  editJsonl: ((file: string) => string) | null = null;
  /** The next JSONL download stops (connection destroyed) after this many bytes. */
  cutJsonlAfterBytes: number | null = null;
  tokenRefreshes = 0;
  accessToken: string;
  /**
   * Answers a call before the fake's own resolvers (direct calls and each line of a bulk
   * mutation): return the `data` to answer with, throw FakeGraphqlErrors for a top-level error,
   * or return undefined to let the fake answer (tests inject one-off refusals with it).
   */
  answerFirst: ((query: string, variables: Record<string, unknown>, shop: string) => unknown) | null = null;
  /** The next metafieldDefinitionCreate answers with these userErrors (e.g. PINNED_LIMIT_REACHED). */
  definitionUserErrorsNext: { field: string[] | null; message: string; code: string }[] | null = null;
  /** Per shop (the request's Host): metafield definitions, customer metafields, segments. */
  readonly shops = new Map<string, FakeShopData>();
  readonly appId: string;
  /** Staged uploads and bulk mutation operations (tests/support/fake-shopify-bulk-mutations.ts). */
  readonly bulkMutations: FakeBulkMutations;
  private readonly costBucket: CostBucket;
  private readonly jsonl = new Map<string, string>();
  private readonly server = createServer((req, res) => {
    this.handle(req, res).catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });
  private previousDispatcher: Dispatcher | undefined;
  port = 0;

  constructor(private readonly options: FakeShopifyOptions = {}) {
    this.accessToken = options.accessToken ?? "shpat_fake_token";
    this.costBucket = new CostBucket(options.bucket ?? { maximumAvailable: 2_000, restoreRate: 100, queryCost: 10 });
    this.appId = options.appId ?? "9876543";
    this.bulkMutations = new FakeBulkMutations(
      { origin: () => this.origin, execute: (query, variables, shop) => this.resolve(query, variables, shop) },
      options.bulkMutations,
    );
  }

  /** What "$app" resolves to for this app: its reserved namespace. */
  get appNamespace(): string {
    return `app--${this.appId}`;
  }

  /** The shop's metafield definitions, metafields and segments (created on first use). */
  shopData(shop: string): FakeShopData {
    let data = this.shops.get(shop);
    if (!data) {
      data = emptyShopData();
      this.shops.set(shop, data);
    }
    return data;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the server and routes every fetch of this process to it. */
  async start(): Promise<this> {
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
    this.port = (this.server.address() as AddressInfo).port;
    this.previousDispatcher = getGlobalDispatcher();
    setGlobalDispatcher(
      new Agent({
        connect: (_options, callback) => {
          const socket = netConnect({ host: "127.0.0.1", port: this.port });
          socket.once("connect", () => callback(null, socket));
          socket.once("error", (error) => callback(error, null));
        },
      }),
    );
    return this;
  }

  async close(): Promise<void> {
    if (this.previousDispatcher) setGlobalDispatcher(this.previousDispatcher);
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, "close").catch(() => {});
  }

  /** Stores the shop's offline session, as the OAuth / token exchange flow would. */
  async installSession(
    db: PrismaClient,
    shop: string,
    scope = "read_orders,read_all_orders,read_customers",
    expiry?: { expires: Date; refreshToken: string },
  ): Promise<void> {
    await db.session.upsert({
      where: { id: `offline_${shop}` },
      create: {
        id: `offline_${shop}`, shop, state: "", isOnline: false, scope, accessToken: this.accessToken,
        expires: expiry?.expires ?? null, refreshToken: expiry?.refreshToken ?? null,
      },
      update: { scope, accessToken: this.accessToken, expires: expiry?.expires ?? null, refreshToken: expiry?.refreshToken ?? null },
    });
  }

  graphqlRequests(match: string): RecordedRequest[] {
    return this.requests.filter((r) => r.query.includes(match));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (this.bulkMutations.handlesHttp(req, url)) return this.bulkMutations.serveHttp(req, url, Buffer.concat(chunks), res);
    const raw = Buffer.concat(chunks).toString("utf8");

    if (req.method === "GET" && url.pathname.startsWith("/jsonl/")) return this.serveJsonl(url.pathname.slice(7), res);
    if (req.method === "POST" && url.pathname === "/admin/oauth/access_token") {
      this.tokenRefreshes += 1;
      this.accessToken = `shpat_refreshed_${this.tokenRefreshes}`;
      await new Promise((resolve) => setTimeout(resolve, 50)); // long enough for a race to show
      return json(res, 200, {
        access_token: this.accessToken, scope: "read_orders,read_all_orders,read_customers",
        expires_in: 3_600, refresh_token: `refresh-${this.tokenRefreshes}`, refresh_token_expires_in: 86_400,
      });
    }
    if (req.method !== "POST" || !/^\/admin\/api\/[\w-]+\/graphql\.json$/.test(url.pathname)) return json(res, 404, { errors: "Not Found" });

    const body = JSON.parse(raw) as { query: string; variables?: Record<string, unknown> };
    const now = Date.now();
    const record: RecordedRequest = { path: url.pathname, shop: (req.headers.host ?? "").replace(/:\d+$/, ""), query: body.query, variables: body.variables ?? {}, at: now, status: 200, throttled: false };
    this.requests.push(record);
    if (this.dropNext > 0) {
      this.dropNext -= 1;
      record.status = 0;
      req.socket.destroy();
      return;
    }
    const forced = this.failNext.shift();
    if (forced !== undefined) {
      record.status = forced;
      return json(res, forced, { errors: forced === 401 ? "[API] Invalid API key or access token (unrecognized login or wrong password)" : "Internal Server Error" });
    }
    if (req.headers["x-shopify-access-token"] !== this.accessToken) {
      record.status = 401;
      return json(res, 401, { errors: "[API] Invalid API key or access token (unrecognized login or wrong password)" });
    }
    // Priced from the query's text: MAX_COST_EXCEEDED over 1,000 points, THROTTLED when the bucket is short.
    const refused = this.costBucket.check(body.query, body.variables ?? {}, now);
    if (refused) {
      record.throttled = refused.errors === THROTTLED_ERRORS;
      return json(res, 200, refused);
    }
    try {
      return json(res, 200, { data: this.resolve(body.query, body.variables ?? {}, record.shop), extensions: this.costBucket.extensions() });
    } catch (error) {
      if (!(error instanceof FakeGraphqlErrors)) throw error;
      return json(res, 200, { errors: error.errors, extensions: this.costBucket.extensions() });
    }
  }

  private resolve(query: string, variables: Record<string, unknown>, shop: string): unknown {
    const first = this.answerFirst?.(query, variables, shop);
    if (first !== undefined) return first;
    const bulkMutation = this.bulkMutations.resolve(query, variables, shop);
    if (bulkMutation !== undefined) return bulkMutation;
    const customers = resolveCustomerOperations(this, this.shopData(shop), query, variables);
    if (customers !== undefined) return customers;
    const custom = resolveCustomData(this, query, variables, shop);
    if (custom !== undefined) return custom;
    if (query.includes("bulkOperationRunQuery")) {
      if (this.userErrorNext) {
        const error = this.userErrorNext;
        this.userErrorNext = null;
        return { bulkOperationRunQuery: { bulkOperation: null, userErrors: [{ field: ["query"], code: error.code, message: error.message }] } };
      }
      const operation: BulkOperationState = {
        id: `gid://shopify/BulkOperation/${7_000 + this.operations.length + 1}`,
        query: String(variables.query ?? ""),
        status: "CREATED",
        polls: 0,
        errorCode: null,
      };
      this.operations.push(operation);
      return { bulkOperationRunQuery: { bulkOperation: this.describe(operation), userErrors: [] } };
    }
    if (query.includes("ordersCount")) return { ordersCount: { count: this.orders.length, precision: "EXACT" } };
    if (query.includes("bulkOperation(id:")) {
      const operation = this.operations.find((o) => o.id === variables.id);
      if (!operation) return { bulkOperation: null };
      operation.polls += 1;
      if (operation.status === "CREATED") operation.status = "RUNNING";
      else if (operation.status === "RUNNING" && operation.polls > (this.options.pollsUntilComplete ?? 1)) this.complete(operation);
      return { bulkOperation: this.describe(operation) };
    }
    if (query.includes("inventoryItems(")) return { inventoryItems: pageOf(this.inventoryItems, variables, "updatedAt", /updated_at:>'([^']+)'/) };
    if (query.includes("abandonedCheckouts(")) return { abandonedCheckouts: pageOf(this.abandonedCheckouts, variables, "createdAt", /created_at:>='([^']+)'/) };
    if (query.includes("orders(")) return { orders: this.ordersPage(query, variables) };
    if (query.includes("order(id:")) return { order: this.orderLines(variables) };
    throw new Error(`the fake Admin API does not know this query: ${query.slice(0, 200)}`);
  }

  /** The JSONL file an operation's url serves. */
  jsonlOf(operationId: string): string {
    return this.jsonl.get(operationId.slice(operationId.lastIndexOf("/") + 1)) ?? "";
  }

  /** Completes an operation now (as Shopify does before sending bulk_operations/finish). */
  complete(operation: BulkOperationState): void {
    operation.status = "COMPLETED";
    const file = bulkJsonl(this.orders);
    this.jsonl.set(operation.id.slice(operation.id.lastIndexOf("/") + 1), this.editJsonl ? this.editJsonl(file) : file);
  }

  private describe(operation: BulkOperationState) {
    const key = operation.id.slice(operation.id.lastIndexOf("/") + 1);
    const file = this.jsonl.get(key);
    const completed = operation.status === "COMPLETED";
    return {
      id: operation.id,
      status: operation.status,
      errorCode: operation.errorCode,
      createdAt: "2025-05-01T00:00:00Z",
      completedAt: completed ? "2025-05-01T00:01:00Z" : null,
      objectCount: completed && file ? String(file.split("\n").filter(Boolean).length) : "0",
      fileSize: completed && file ? String(Buffer.byteLength(file)) : null,
      url: completed ? `${this.origin}/jsonl/${key}` : null,
      partialDataUrl: null,
      query: operation.query,
    };
  }

  private serveJsonl(key: string, res: ServerResponse): void {
    const file = this.jsonl.get(key);
    if (file === undefined) return json(res, 404, { error: "expired" });
    res.writeHead(200, { "content-type": "application/jsonl" });
    const cut = this.cutJsonlAfterBytes;
    if (cut !== null) {
      this.cutJsonlAfterBytes = null;
      res.write(file.slice(0, cut));
      setTimeout(() => res.destroy(), 20);
      return;
    }
    res.end(file);
  }

  /**
   * `order(id) { lineItems(first, after) }`: the rest of an order's lines from a cursor, or null
   * for an order the fake does not hold (deleted).
   */
  private orderLines(variables: Record<string, unknown>) {
    const order = this.orders.find((o) => o.order.id === variables.id);
    if (!order) return null;
    return { lineItems: linesPage(order.lineItems, Number(variables.first ?? 0), variables.after ? String(variables.after) : null) };
  }

  /**
   * `orders(first, after, query: "updated_at:>'…'", sortKey: UPDATED_AT)`, each order's lines as
   * `lineItems(first: N)` in the query asks: the first N, with pageInfo (cursors for order(id)).
   */
  private ordersPage(query: string, variables: Record<string, unknown>) {
    const sized = /lineItems\(first:\s*(?:(\d+)|\$(\w+))/.exec(query);
    const linesFirst = sized ? Number(sized[1] ?? variables[sized[2]]) : Number.POSITIVE_INFINITY;
    const first = Number(variables.first ?? 50);
    const search = String(variables.query ?? "");
    const since = /updated_at:>'([^']+)'/.exec(search)?.[1];
    const sorted = [...this.orders]
      .filter((o) => (since ? Date.parse(String(o.order.updatedAt)) > Date.parse(since) : true))
      .sort((a, b) => Date.parse(String(a.order.updatedAt)) - Date.parse(String(b.order.updatedAt)) || String(a.order.id).localeCompare(String(b.order.id)));
    const start = variables.after ? Number(Buffer.from(String(variables.after), "base64").toString("utf8")) + 1 : 0;
    const page = sorted.slice(start, start + first);
    return {
      edges: page.map((o, i) => ({
        cursor: Buffer.from(String(start + i)).toString("base64"),
        node: { ...o.order, lineItems: linesPage(o.lineItems, linesFirst, null) },
      })),
      pageInfo: { hasNextPage: start + first < sorted.length, endCursor: page.length ? Buffer.from(String(start + page.length - 1)).toString("base64") : null },
    };
  }
}

/** A page of an order's line items: `first` after the cursor (base64 of the index), with edge cursors and pageInfo. */
function linesPage(lines: readonly unknown[], first: number, after: string | null) {
  const start = after ? Number(Buffer.from(after, "base64").toString("utf8")) + 1 : 0;
  const page = lines.slice(start, start + first);
  return {
    edges: page.map((node, i) => ({ cursor: Buffer.from(String(start + i)).toString("base64"), node })),
    pageInfo: { hasNextPage: start + page.length < lines.length, endCursor: page.length ? Buffer.from(String(start + page.length - 1)).toString("base64") : null },
  };
}

/** A connection page of `nodes` after the query's time filter on `field` (strictly after, or from, as the pattern says), in id order. */
function pageOf(nodes: Record<string, unknown>[], variables: Record<string, unknown>, field: string, filter: RegExp) {
  const first = Number(variables.first ?? 50);
  const since = filter.exec(String(variables.query ?? ""))?.[1];
  const strict = filter.source.includes(":>'");
  const matching = nodes.filter((n) => {
    if (!since) return true;
    const t = Date.parse(String(n[field]));
    return strict ? t > Date.parse(since) : t >= Date.parse(since);
  });
  const start = variables.after ? Number(Buffer.from(String(variables.after), "base64").toString("utf8")) + 1 : 0;
  const page = matching.slice(start, start + first);
  return {
    edges: page.map((node, i) => ({ cursor: Buffer.from(String(start + i)).toString("base64"), node })),
    pageInfo: { hasNextPage: start + first < matching.length, endCursor: page.length ? Buffer.from(String(start + page.length - 1)).toString("base64") : null },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/** The metafield and segment operations, or undefined for a query this part does not answer. */
function resolveCustomData(fake: FakeShopify, query: string, variables: Record<string, unknown>, shop: string): unknown {
  const data = fake.shopData(shop);
  if (query.includes("flowTriggerReceive(")) return { flowTriggerReceive: flowTriggerReceive(fake, shop, variables) };
  if (query.includes("metafieldsSet(")) return { metafieldsSet: metafieldsSet(fake, data, (variables.metafields ?? []) as MetafieldsSetInput[]) };
  // Metafield definitions and segments: the rules the demo's fake answers with too.
  return resolveDefinitionsAndSegments(fake, data, query, variables);
}

