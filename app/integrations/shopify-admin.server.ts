import { type PrismaClient } from "@prisma/client";
import { GraphqlQueryError, HttpResponseError, HttpRetriableError, HttpRequestError } from "@shopify/shopify-api";
import { db as defaultDb } from "~/db.server";
import { unauthenticated } from "~/shopify.server";

// Admin GraphQL from the workers (backfill, reconciliation), through the app's one Shopify
// configuration: `unauthenticated.admin(shop)` loads the shop's offline session and, with
// expiring offline tokens, refreshes it when it is about to lapse.
//
// Token refreshes are serialised per shop at two levels:
//  - in process: one promise per shop, so concurrent jobs of one worker share one refresh;
//  - across processes: the acquisition runs inside a PostgreSQL transaction holding
//    pg_advisory_xact_lock(hash('tenure:shopify-token:<shop>')). A second process waits on
//    the lock and then loads the session the first one stored, instead of spending the
//    refresh token a second time (a refresh token is single use).
//
// Rate limit: Shopify's cost-based bucket. Every response's `extensions.cost.throttleStatus`
// (currentlyAvailable, restoreRate) is remembered per shop; before the next call we wait
// until the bucket holds what the last query cost. A THROTTLED error is retried after the
// time the bucket needs to refill, with exponential backoff on top; 5xx and network errors
// are retried with backoff; 401/403 are not (the shop uninstalled or the token was revoked).

export interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

export interface QueryCost {
  requestedQueryCost?: number;
  actualQueryCost?: number | null;
  throttleStatus?: ThrottleStatus;
}

/**
 * A call that failed after the client's own retries. `retriable`: it gave up on THROTTLED, 5xx
 * or the network (sending it later may work). `auth`: the shop refused Tenure itself (no usable
 * offline session, 401/403): only a new install or approval cures it. A GraphQL-level error is
 * neither (it may be a one-off INTERNAL_SERVER_ERROR or a query Shopify rejects).
 */
export class ShopifyAdminError extends Error {
  constructor(
    message: string,
    readonly shop: string,
    readonly retriable = false,
    readonly auth = false,
  ) {
    super(message);
    this.name = "ShopifyAdminError";
  }
}

export interface AdminGraphqlOptions {
  db?: PrismaClient;
  /** How many times one call is retried after throttling or a transient failure (default 6). */
  maxRetries?: number;
  /** First backoff step (default 500 ms), doubled per retry, capped at 30 s. */
  backoffMs?: number;
  /** How long an acquired admin context is reused before asking the session storage again (default 60 s). */
  contextTtlMs?: number;
}

type AdminContext = Awaited<ReturnType<typeof unauthenticated.admin>>;

interface ShopState {
  context?: { value: AdminContext; expiresAt: number };
  acquiring?: Promise<AdminContext>;
  throttle?: { status: ThrottleStatus; at: number; lastCost: number };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** How long to wait before a call costing `cost` fits the bucket, given its last known state. */
export function throttleWaitMs(status: ThrottleStatus, observedAt: number, cost: number, now = Date.now()): number {
  if (status.restoreRate <= 0) return 0;
  const restored = ((now - observedAt) / 1000) * status.restoreRate;
  const available = Math.min(status.maximumAvailable, status.currentlyAvailable + restored);
  const wanted = Math.min(cost, status.maximumAvailable);
  return available >= wanted ? 0 : Math.ceil(((wanted - available) / status.restoreRate) * 1000);
}

interface GraphqlErrorEntry {
  message?: string;
  extensions?: { code?: string };
}

/** Admin GraphQL for one worker process. Create one and share it. */
export class AdminGraphql {
  private readonly shops = new Map<string, ShopState>();
  private readonly options: Required<Omit<AdminGraphqlOptions, "db">> & { db?: PrismaClient };

  constructor(options: AdminGraphqlOptions = {}) {
    this.options = {
      db: options.db,
      maxRetries: options.maxRetries ?? 6,
      backoffMs: options.backoffMs ?? 500,
      contextTtlMs: options.contextTtlMs ?? 60_000,
    };
  }

  private state(shop: string): ShopState {
    let state = this.shops.get(shop);
    if (!state) {
      state = {};
      this.shops.set(shop, state);
    }
    return state;
  }

  /** The shop's admin context (session + client), refreshing its token at most once at a time. */
  async context(shop: string): Promise<AdminContext> {
    const state = this.state(shop);
    if (state.context && state.context.expiresAt > Date.now()) return state.context.value;
    state.acquiring ??= this.acquire(shop).finally(() => {
      state.acquiring = undefined;
    });
    return state.acquiring;
  }

  private async acquire(shop: string): Promise<AdminContext> {
    const prisma = this.options.db ?? defaultDb();
    const context = await prisma.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`tenure:shopify-token:${shop}`}, 0))::text AS locked`;
        try {
          return await unauthenticated.admin(shop);
        } catch (error) {
          throw new ShopifyAdminError(`no usable offline session for ${shop}: ${describe(error)}`, shop, false, true);
        }
      },
      { maxWait: 30_000, timeout: 60_000 },
    );
    const state = this.state(shop);
    const expires = context.session.expires?.getTime();
    // Reuse until the TTL, or a minute before the token lapses, whichever is first.
    const expiresAt = Math.min(Date.now() + this.options.contextTtlMs, expires ? expires - 60_000 : Infinity);
    state.context = { value: context, expiresAt };
    return context;
  }

  /** The scopes granted to the app on this shop (from its offline session). */
  async grantedScopes(shop: string): Promise<string[]> {
    const { session } = await this.context(shop);
    return (session.scope ?? "").split(",").map((scope) => scope.trim()).filter(Boolean);
  }

  /** Runs one query or mutation and returns its `data`, waiting for the rate limit and retrying as above. */
  async request<T>(shop: string, query: string, variables?: Record<string, unknown>): Promise<T> {
    const state = this.state(shop);
    for (let attempt = 0; ; attempt += 1) {
      if (state.throttle) {
        const wait = throttleWaitMs(state.throttle.status, state.throttle.at, state.throttle.lastCost);
        if (wait > 0) await sleep(wait);
      }
      const { admin } = await this.context(shop);
      let body: { data?: T; extensions?: { cost?: QueryCost }; errors?: unknown };
      try {
        const response = await admin.graphql(query, { variables });
        body = (await response.json()) as typeof body;
      } catch (error) {
        const failure = classify(error);
        if (failure.cost) this.remember(shop, failure.cost);
        if (failure.kind === "fatal" || attempt >= this.options.maxRetries) {
          if (failure.kind === "auth") state.context = undefined;
          throw new ShopifyAdminError(`Admin API call for ${shop} failed: ${failure.message}`, shop, failure.kind !== "fatal" && failure.kind !== "auth", failure.kind === "auth");
        }
        if (failure.kind === "auth") {
          state.context = undefined; // a fresh session may carry a refreshed token: try once more
          if (attempt >= 1) throw new ShopifyAdminError(`Admin API refused ${shop}: ${failure.message}`, shop, false, true);
        }
        const backoff = Math.min(30_000, this.options.backoffMs * 2 ** attempt);
        const refill = failure.kind === "throttled" && state.throttle
          ? throttleWaitMs(state.throttle.status, state.throttle.at, state.throttle.lastCost)
          : 0;
        await sleep(Math.max(backoff, refill));
        continue;
      }
      if (body.extensions?.cost) this.remember(shop, body.extensions.cost);
      if (body.data === undefined || body.data === null) {
        throw new ShopifyAdminError(`Admin API returned no data for ${shop}: ${JSON.stringify(body.errors ?? body).slice(0, 500)}`, shop);
      }
      return body.data;
    }
  }

  private remember(shop: string, cost: QueryCost): void {
    if (!cost.throttleStatus) return;
    const lastCost = Math.max(cost.requestedQueryCost ?? 0, cost.actualQueryCost ?? 0, 1);
    this.state(shop).throttle = { status: cost.throttleStatus, at: Date.now(), lastCost };
  }
}

type Failure = { kind: "throttled" | "transient" | "auth" | "fatal"; message: string; cost?: QueryCost };

function classify(error: unknown): Failure {
  if (error instanceof GraphqlQueryError) {
    const body = error.body as { errors?: { graphQLErrors?: GraphqlErrorEntry[] }; extensions?: { cost?: QueryCost } } | undefined;
    const errors = body?.errors?.graphQLErrors ?? [];
    const throttled = errors.some((entry) => entry.extensions?.code === "THROTTLED");
    return {
      kind: throttled ? "throttled" : "fatal",
      message: errors.map((entry) => entry.message).join("; ") || error.message,
      cost: body?.extensions?.cost,
    };
  }
  if (error instanceof HttpRetriableError) return { kind: error.response.code === 429 ? "throttled" : "transient", message: error.message };
  if (error instanceof HttpResponseError) {
    const code = error.response.code;
    return { kind: code === 401 || code === 403 ? "auth" : "fatal", message: `HTTP ${code} ${error.response.statusText}` };
  }
  if (error instanceof HttpRequestError) return { kind: "transient", message: error.message };
  return { kind: "fatal", message: describe(error) };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
