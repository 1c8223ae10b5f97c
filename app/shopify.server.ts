import "@shopify/shopify-app-remix/adapters/node";
import { ApiVersion, AppDistribution, shopifyApp } from "@shopify/shopify-app-remix/server";
import { PrismaSessionStorage } from "@shopify/shopify-app-session-storage-prisma";
import { z } from "zod";
import { db } from "./db.server";
import { upsertInstalledShop } from "./data/shop.server";
import { env } from "./env.server";
import { requestBackfill } from "./queues/enqueue.server";

// The one Shopify configuration module, set up as Shopify's Remix template does it.
// Everything is built on first use, not at import: importing this module must not read
// the environment or open a database connection (tests set DATABASE_URL in beforeAll).

/** The Admin API version, pinned. Keep shopify.app.toml's [webhooks] api_version the same. */
export const API_VERSION = ApiVersion.October26;

function createShopifyApp() {
  const config = env();
  return shopifyApp({
    apiKey: config.SHOPIFY_API_KEY,
    apiSecretKey: config.SHOPIFY_API_SECRET,
    apiVersion: API_VERSION,
    scopes: config.SCOPES.split(",").map((scope) => scope.trim()).filter(Boolean),
    appUrl: config.SHOPIFY_APP_URL,
    authPathPrefix: "/auth",
    sessionStorage: new PrismaSessionStorage(db()),
    distribution: AppDistribution.AppStore,
    future: {
      unstable_newEmbeddedAuthStrategy: true,
      expiringOfflineAccessTokens: true,
    },
    hooks: {
      afterAuth: async ({ session, admin }) => {
        const settings = await fetchShopSettings(admin.graphql);
        const hosts = await fetchShopHosts(admin.graphql);
        await recordShopInstall({ shop: session.shop, scopes: session.scope ?? null, ...settings, hosts });
        await afterShopInstalled(session.shop);
      },
    },
    ...(config.SHOP_CUSTOM_DOMAIN ? { customShopDomains: [config.SHOP_CUSTOM_DOMAIN] } : {}),
  });
}

type ShopifyApp = ReturnType<typeof createShopifyApp>;
let app: ShopifyApp | undefined;

/** The process-wide Shopify app, created on first use. */
export function shopify(): ShopifyApp {
  app ??= createShopifyApp();
  return app;
}

export const authenticate = {
  admin: (request: Request) => shopify().authenticate.admin(request),
};
export const login = (request: Request) => shopify().login(request);
export const addDocumentResponseHeaders = (request: Request, headers: Headers) =>
  shopify().addDocumentResponseHeaders(request, headers);
export const unauthenticated = {
  admin: (shop: string) => shopify().unauthenticated.admin(shop),
};

// --- Install --------------------------------------------------------------------------

const SHOP_SETTINGS_QUERY = `#graphql
  query TenureShopSettings {
    shop {
      currencyCode
      ianaTimezone
    }
  }`;

const ShopSettingsResponse = z.object({
  data: z.object({
    shop: z.object({ currencyCode: z.string().regex(/^[A-Z]{3}$/), ianaTimezone: z.string().min(1) }),
  }),
});

export interface ShopSettings {
  currency: string;
  timezone: string;
}

/** Reads an Admin GraphQL `shop { currencyCode ianaTimezone }` response; throws naming what is wrong. */
export function parseShopSettings(body: unknown): ShopSettings {
  const { shop } = ShopSettingsResponse.parse(body).data;
  return { currency: shop.currencyCode, timezone: shop.ianaTimezone };
}

type GraphqlClient = (query: string) => Promise<Response>;

async function fetchShopSettings(graphql: GraphqlClient): Promise<ShopSettings> {
  const response = await graphql(SHOP_SETTINGS_QUERY);
  return parseShopSettings(await response.json());
}

// The shop's own hosts (issue 17): a referrer on one of them is the buyer moving within the
// store, not a referral (app/ingest/marketing-source.ts). Read apart from the settings and
// never failing the install: Shop.domains is the older list of every domain, and a version
// without it still answers primaryDomain alone.
const SHOP_HOSTS_QUERY = `#graphql
  query TenureShopHosts {
    shop {
      primaryDomain { host }
      domains { host }
    }
  }`;
const SHOP_PRIMARY_HOST_QUERY = `#graphql
  query TenureShopPrimaryHost {
    shop {
      primaryDomain { host }
    }
  }`;

const Host = z.object({ host: z.string().min(1) });
const ShopHostsResponse = z.object({
  data: z.object({ shop: z.object({ primaryDomain: Host.nullish(), domains: z.array(Host).nullish() }) }),
});

/** The hosts of an Admin GraphQL `shop { primaryDomain { host } domains { host } }` response, primary first, each once; throws naming what is wrong. */
export function parseShopHosts(body: unknown): string[] {
  const { shop } = ShopHostsResponse.parse(body).data;
  const hosts = [shop.primaryDomain?.host, ...(shop.domains ?? []).map((domain) => domain.host)];
  return [...new Set(hosts.filter((host): host is string => Boolean(host)).map((host) => host.trim().toLowerCase()))];
}

/** The shop's hosts, or null when Shopify did not say (the stored ones then stand). */
async function fetchShopHosts(graphql: GraphqlClient): Promise<string[] | null> {
  for (const query of [SHOP_HOSTS_QUERY, SHOP_PRIMARY_HOST_QUERY]) {
    try {
      const response = await graphql(query);
      return parseShopHosts(await response.json());
    } catch (error) {
      console.error(`tenure: could not read the shop's domains: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return null;
}

export interface ShopInstall extends ShopSettings {
  shop: string;
  scopes: string | null;
  /** The shop's own hosts; null: not read (the stored ones stand). */
  hosts?: string[] | null;
}

/**
 * Upserts the Shop row after authentication (data/shop.server.ts). Runs on every new offline
 * token, not only on install, so `installedAt` moves only when the shop comes back after an
 * uninstall (a late app/uninstalled older than `installedAt` is then ignored by the worker).
 */
export async function recordShopInstall(install: ShopInstall, client = db()): Promise<void> {
  await upsertInstalledShop(client, install);
}

/**
 * Runs after every successful install or re-authentication, once the Shop row is stored:
 * asks the backfill worker to import the shop's past orders. Idempotent: the worker keeps
 * a running or completed import (integrations/bulk-orders.server.ts startBackfill). With
 * Redis down, auth still succeeds; the merchant can start the import from the app.
 */
export async function afterShopInstalled(shop: string): Promise<void> {
  try {
    await requestBackfill(shop);
  } catch (error) {
    console.error(`tenure: could not request the order import for ${shop}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
