// Sales channels in the words Shopify admin uses. An order's source_name is a short code for
// Shopify's own channels ("web", "pos") and the numeric id of the app that created it for
// any other channel (issue 13: "2329312" and "shopify_draft_order" are not names). Known
// values get their name; an unknown app id is named as an app, with the id kept so the
// merchant can look it up; any other text is shown as it is.

/** Shopify's own channels and checkouts (source_name values documented by Shopify and seen in order payloads). */
const SHOPIFY_CHANNELS: Readonly<Record<string, string>> = {
  web: "Online Store",
  checkout_next: "Online Store",
  pos: "Point of Sale",
  shopify_draft_order: "Draft orders",
  iphone: "Shopify mobile app",
  android: "Shopify mobile app",
  subscription_contract: "Subscription renewals",
};

/**
 * Apps whose id we could check against a published list of order source ids
 * (learn.fueled.io, "Shopify Order Source IDs"). Others read "Other app (<id>)".
 */
const KNOWN_APPS: Readonly<Record<string, string>> = {
  "3613079": "Alloy",
  "3041525761": "Ankorstore",
};

const APP_ID = /^\d+$/;

/** The human name of a sales channel (an order's source_name); null or empty: "No channel recorded". */
export function channelName(sourceName: string | null | undefined): string {
  const code = (sourceName ?? "").trim();
  if (code === "") return "No channel recorded";
  const known = SHOPIFY_CHANNELS[code.toLowerCase()] ?? KNOWN_APPS[code];
  if (known) return known;
  if (APP_ID.test(code)) return `Other app (${code})`;
  return code;
}
