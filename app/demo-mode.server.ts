import { env } from "./env.server";
import { API_VERSION, authenticate } from "./shopify.server";

// Every /app loader and action asks for its shop here, never calls authenticate.admin
// itself, so demo mode has exactly one switch. env.server.ts refuses demo mode when
// NODE_ENV=production.

type AdminContext = Awaited<ReturnType<typeof authenticate.admin>>;

export type ShopContext =
  /** Authenticated by Shopify: the session's shop and its Admin API context. */
  | { demo: false; shop: string; admin: AdminContext["admin"]; session: AdminContext["session"] }
  /** Demo mode: the demo shop only, without Shopify admin. */
  | { demo: true; shop: string; admin: null; session: null };

export function isDemoMode(): boolean {
  return env().TENURE_DEMO_MODE;
}

/**
 * The shop a request to /app may see. In demo mode that is always the demo shop,
 * whatever the request says; otherwise Shopify authenticates the request (and throws the
 * redirect, bounce or 401 response when it is not authenticated).
 */
export async function requireShop(request: Request): Promise<ShopContext> {
  const config = env();
  if (config.TENURE_DEMO_MODE) {
    return { demo: true, shop: config.TENURE_DEMO_SHOP, admin: null, session: null };
  }
  const { admin, session } = await authenticate.admin(request);
  return { demo: false, shop: session.shop, admin, session };
}

/** An Admin GraphQL client as app/destinations/shopify expects one (its AdminGraphqlClient). */
export interface DemoAdminClient {
  request<T>(shop: string, query: string, variables?: Record<string, unknown>): Promise<T>;
}

/** The token the demo's client sends: the fake wants one, as Shopify does; it stands for no real access. */
const DEMO_ACCESS_TOKEN = "shpat_tenure_demo";

/**
 * Demo mode's Admin API: the demo's fake Shopify at SHOPIFY_ADMIN_API_URL (demo/fakes/shopify.ts,
 * started by `npm run demo` and the browser tests), for the demo shop. null outside demo mode
 * or without the variable: publishing then says there is no Shopify store behind the demo.
 */
export function demoAdminClient(): DemoAdminClient | null {
  const config = env();
  if (!config.TENURE_DEMO_MODE || !config.SHOPIFY_ADMIN_API_URL) return null;
  return adminClientAt(config.SHOPIFY_ADMIN_API_URL, config.TENURE_DEMO_SHOP);
}

/** THROTTLED answers waited out before the client gives up (the demo worker's write-back sends many calls at once). */
const THROTTLED_RETRIES = 20;

/**
 * A client for one shop whose Admin API answers at `url` instead of https://<shop>: POSTs the
 * query to <url>/admin/api/<version>/graphql.json and returns its data; a THROTTLED answer is
 * waited out (the time the bucket needs to hold the query's cost, as the worker's AdminGraphql
 * does) and sent again; a non-2xx answer or one without data throws with what Shopify said.
 * (Real shops go through their session: requestAdminClient in pages/segments-publish.server.ts,
 * AdminGraphql in the worker.)
 */
export function adminClientAt(url: string, shop: string): DemoAdminClient {
  const endpoint = `${url.replace(/\/+$/, "")}/admin/api/${API_VERSION}/graphql.json`;
  return {
    async request<T>(forShop: string, query: string, variables?: Record<string, unknown>): Promise<T> {
      if (forShop !== shop) throw new Error(`the Admin API at ${url} stands in for ${shop} only, not ${forShop}`);
      for (let attempt = 0; ; attempt += 1) {
        const response = await fetch(endpoint, {
          method: "POST",
          headers: { "content-type": "application/json", "x-shopify-access-token": DEMO_ACCESS_TOKEN },
          body: JSON.stringify({ query, variables }),
          signal: AbortSignal.timeout(10_000),
        });
        const text = await response.text();
        if (!response.ok) throw new Error(`Shopify answered ${response.status}: ${text.slice(0, 300)}`);
        const body = JSON.parse(text) as { data?: T; errors?: unknown; extensions?: { cost?: QueryCost } };
        if (body.data) return body.data;
        const waitMs = attempt < THROTTLED_RETRIES ? throttledWaitMs(body) : null;
        if (waitMs === null) throw new Error(`Shopify answered without data: ${JSON.stringify(body.errors ?? body).slice(0, 300)}`);
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    },
  };
}

interface QueryCost {
  requestedQueryCost?: number;
  throttleStatus?: { currentlyAvailable: number; restoreRate: number };
}

/** For a THROTTLED answer, how long until the bucket holds the query's cost (at least 100 ms); null for any other. */
function throttledWaitMs(body: { errors?: unknown; extensions?: { cost?: QueryCost } }): number | null {
  const throttled = Array.isArray(body.errors) && body.errors.some((error: { extensions?: { code?: string } }) => error?.extensions?.code === "THROTTLED");
  if (!throttled) return null;
  const cost = body.extensions?.cost;
  const missing = (cost?.requestedQueryCost ?? 0) - (cost?.throttleStatus?.currentlyAvailable ?? 0);
  const restoreRate = cost?.throttleStatus?.restoreRate ?? 0;
  return Math.max(100, restoreRate > 0 ? Math.ceil((missing / restoreRate) * 1000) : 1000);
}
