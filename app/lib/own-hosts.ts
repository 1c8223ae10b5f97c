// The shop's own hosts as marketing sources name them (issue 17), shared by the order write
// path (app/ingest/marketing-source.ts sourceForShop) and the Shop row's install write
// (app/data/shop.server.ts, which relabels stored orders). Pure.

/** What a referral source ends with: "instagram.com (referral)". */
export const REFERRAL_SUFFIX = " (referral)";
/** Longest source label kept (a source is a group name, not a URL). */
export const SOURCE_MAX_LENGTH = 80;

/** A host as sources name it: lower case, no "www.", no trailing dot; null when it is not a host name. */
export function normalHost(host: string | null | undefined): string | null {
  const text = host?.trim().toLowerCase().replace(/\.$/, "").replace(/^www\./, "");
  return text && /^[a-z0-9.-]+$/.test(text) ? text : null;
}

/** The labels a referral from each of the shop's own hosts is stored under ("shop.example (referral)"). */
export function ownHostReferralLabels(ownHosts: readonly string[]): string[] {
  const labels = new Set<string>();
  for (const ownHost of ownHosts) {
    const host = normalHost(ownHost);
    if (host) labels.add(`${host}${REFERRAL_SUFFIX}`.slice(0, SOURCE_MAX_LENGTH));
  }
  return [...labels];
}
