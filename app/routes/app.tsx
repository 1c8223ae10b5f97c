import { type HeadersFunction, type LoaderFunctionArgs } from "@remix-run/node";
import { Link, Outlet, useLoaderData, useRouteError } from "@remix-run/react";
import { NavMenu } from "@shopify/app-bridge-react";
import { Banner, Box, InlineStack, Link as PolarisLink } from "@shopify/polaris";
import polarisStyles from "@shopify/polaris/build/esm/styles.css?url";
import { AppProvider } from "@shopify/shopify-app-remix/react";
import { boundary } from "@shopify/shopify-app-remix/server";
import { requireShop } from "~/demo-mode.server";
import { env } from "~/env.server";
import { pgPool } from "~/db/pg.server";
import { loadShopTimeZone } from "~/pages/shop-time-zone.server";

export const links = () => [{ rel: "stylesheet", href: polarisStyles }];

/** The app's pages, in the admin's navigation (embedded) or the demo bar (demo mode). */
const PAGES = [
  { to: "/app", label: "Dashboard" },
  { to: "/app/segments", label: "Segments" },
  { to: "/app/customers", label: "Customers" },
  { to: "/app/cohorts", label: "Cohorts" },
  { to: "/app/drivers", label: "Acquisition drivers" },
  { to: "/app/model", label: "Model" },
  { to: "/app/integrations", label: "Integrations" },
  { to: "/app/settings", label: "Settings" },
  { to: "/app/sync", label: "Sync status" },
  { to: "/app/glossary", label: "Glossary" },
] as const;

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { demo, shop } = await requireShop(request);
  // Every page shows times in the shop's time zone (components/ShopTimeZone.tsx reads it from here).
  return { apiKey: env().SHOPIFY_API_KEY, demo, shop, timeZone: await loadShopTimeZone(pgPool(), shop) };
};

export default function AppLayout() {
  const { apiKey, demo, shop } = useLoaderData<typeof loader>();

  if (demo) {
    // Demo mode: plain Polaris at localhost, no App Bridge and no Shopify admin around it.
    return (
      <AppProvider isEmbeddedApp={false} apiKey={apiKey}>
        <Box padding="400">
          <Banner tone="info" title={`Demo mode: ${shop}`}>
            Synthetic data, served without Shopify admin. Demo mode is refused in production.
          </Banner>
          <Box paddingBlockStart="200">
            <InlineStack gap="400">
              {PAGES.map((page) => (
                <PolarisLink key={page.to} url={page.to}>
                  {page.label}
                </PolarisLink>
              ))}
            </InlineStack>
          </Box>
        </Box>
        <Outlet />
      </AppProvider>
    );
  }

  return (
    <AppProvider isEmbeddedApp apiKey={apiKey}>
      <NavMenu>
        {PAGES.map((page, index) => (
          <Link key={page.to} to={page.to} rel={index === 0 ? "home" : undefined}>
            {page.label}
          </Link>
        ))}
      </NavMenu>
      <Outlet />
    </AppProvider>
  );
}

// Shopify's auth flow throws responses whose headers must reach the browser.
export function ErrorBoundary() {
  return boundary.error(useRouteError());
}

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs);
