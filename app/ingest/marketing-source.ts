// An order's marketing source, in one short label the acquisition drivers page groups by
// (docs/analytics/acquisition.md). Pure. The first that is known wins:
//   1. UTM parameters (Shopify's customer journey, else the landing site's query):
//      "<utm_source> / <utm_medium>" ("google / cpc"), or "<utm_source>" alone;
//   2. the referrer's host without "www." ("instagram.com (referral)"), except Shopify's own
//      checkout hosts (checkout.shopify.com, shop.app) and the shop's own domains, myshopify.com
//      and custom (sourceForShop),
//      which are the buyer coming back from checkout or moving within the store: "direct";
//   3. a landing site without either: "direct";
//   4. nothing known (POS, draft orders, apps): null.
// Lower-cased and trimmed, so "Google" and "google " are one source.

import { REFERRAL_SUFFIX, SOURCE_MAX_LENGTH as MAX_LENGTH, normalHost, ownHostReferralLabels } from "~/lib/own-hosts";

export interface MarketingSourceInput {
  /** landing_site of a webhook, or the journey's landingPage: a path or URL with its query. */
  landingSite?: string | null;
  /** referring_site of a webhook, or the journey's referrerUrl. */
  referringSite?: string | null;
  /** UTM parameters Shopify parsed (customerJourneySummary.firstVisit.utmParameters). */
  utm?: { source?: string | null; medium?: string | null; campaign?: string | null } | null;
}

const clean = (value: string | null | undefined): string | null => {
  const text = value?.trim().toLowerCase();
  return text ? text.slice(0, MAX_LENGTH) : null;
};

function queryOf(site: string): URLSearchParams | null {
  try {
    return new URL(site, "https://shop.invalid").searchParams;
  } catch {
    return null;
  }
}

function hostOf(site: string): string | null {
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:/i.test(site) ? site : `https://${site}`);
    // android-app://com.google.android.gm has its app in the host as well.
    return url.hostname.replace(/^www\./, "") || null;
  } catch {
    return null;
  }
}

/** Hosts a buyer passes through inside Shopify's checkout: not where they came from. */
const CHECKOUT_HOSTS = ["checkout.shopify.com", "shop.app"];

const isHostOrSubdomain = (host: string, domain: string) => host === domain || host.endsWith(`.${domain}`);

export function marketingSource(input: MarketingSourceInput): string | null {
  const landing = input.landingSite?.trim() || null;
  const query = landing ? queryOf(landing) : null;
  const source = clean(input.utm?.source) ?? clean(query?.get("utm_source"));
  if (source) {
    const medium = clean(input.utm?.medium) ?? clean(query?.get("utm_medium"));
    return (medium ? `${source} / ${medium}` : source).slice(0, MAX_LENGTH);
  }
  const referrer = input.referringSite?.trim() || null;
  const host = referrer ? hostOf(referrer) : null;
  if (host && CHECKOUT_HOSTS.some((checkout) => isHostOrSubdomain(host, checkout))) return "direct";
  if (host) return `${host} (referral)`.slice(0, MAX_LENGTH);
  return landing ? "direct" : null;
}

/**
 * The source as the shop sees it: a referral from the shop's own domain is "direct" (the buyer
 * moving within the store), whether its myshopify.com domain (the Shop row's id, or a
 * subdomain of it) or one of `ownHosts`, its custom domains as Shopify lists them
 * (Shop.hosts: the primary domain and the others; www. or not). Applied where orders are
 * written, the one place that knows the shop (the mappers do not).
 */
export function sourceForShop(source: string | null, shopDomain: string, ownHosts: readonly string[] = []): string | null {
  if (source === null || !source.endsWith(REFERRAL_SUFFIX)) return source;
  const host = source.slice(0, -REFERRAL_SUFFIX.length);
  const own = normalHost(shopDomain);
  if (own && isHostOrSubdomain(host, own)) return "direct";
  return ownHostReferralLabels(ownHosts).includes(source) ? "direct" : source;
}
