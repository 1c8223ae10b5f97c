import { useRouteLoaderData } from "@remix-run/react";

// The shop's time zone (Shop.timezone, as Shopify reports it), read once by the app layout's
// loader (routes/app.tsx) so every page shows times in it without loading it again.

/** The shop's IANA time zone; UTC outside the app layout (error pages). */
export function useShopTimeZone(): string {
  const data = useRouteLoaderData("routes/app") as { timeZone?: string } | undefined;
  return data?.timeZone ?? "UTC";
}
