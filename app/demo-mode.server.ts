import { env } from "./env.server";
import { authenticate } from "./shopify.server";

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
