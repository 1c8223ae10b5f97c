import { destinationApiUrls } from "~/env.server";
import { type AdapterOptions, type DestinationAdapter, type DestinationKind, type Verification } from "./adapter";
import { klaviyoAdapter, verifyKlaviyoKey } from "./klaviyo.server";
import { listMailchimpAudiences, mailchimpAdapter, verifyMailchimpKey } from "./mailchimp.server";

// The adapter registry: a destination's kind -> its adapter, pointed at the tool's API
// (KLAVIYO_API_URL / MAILCHIMP_API_URL replace the real hosts for the fakes and the demo).
// The engine and the connection functions reach the tools only through here.

/** Where requests go for this kind (the real API unless the environment names a fake). */
export function adapterOptions(kind: DestinationKind, source: Record<string, string | undefined> = process.env): AdapterOptions {
  const urls = destinationApiUrls(source);
  const baseUrl = kind === "klaviyo" ? urls.klaviyo : urls.mailchimp;
  return baseUrl ? { baseUrl } : {};
}

export type AdapterFactory = (kind: DestinationKind, apiKey: string, account: Record<string, unknown>) => DestinationAdapter;

/** The adapter of a connected destination. */
export const createAdapter: AdapterFactory = (kind, apiKey, account) => {
  const options = adapterOptions(kind);
  return kind === "klaviyo" ? klaviyoAdapter(apiKey, account, options) : mailchimpAdapter(apiKey, account, options);
};

/** Checks a pasted key with a real call: the account's public facts, or why it cannot be used. */
export function verifyKey(kind: DestinationKind, apiKey: string): Promise<Verification> {
  const options = adapterOptions(kind);
  return kind === "klaviyo" ? verifyKlaviyoKey(apiKey, options) : verifyMailchimpKey(apiKey, options);
}

export interface Audience {
  id: string;
  name: string;
  memberCount: number;
}

/** Mailchimp's audiences for this key. */
export async function mailchimpAudiences(apiKey: string): Promise<Audience[]> {
  const audiences = await listMailchimpAudiences(apiKey, adapterOptions("mailchimp"));
  return audiences.map((a) => ({ id: a.id, name: a.name, memberCount: a.memberCount }));
}
