import { requestRefit } from "~/refit/request-refit.server";
import type pg from "pg";
import { loadMetricsSettings, ORDERS_WITHOUT_PARTS_CAP, readSettingsPageExtras, readShopifyTagging, saveSettings } from "~/data/settings.server";
import { switchShopifyTagging } from "~/destinations/shopify/tagging.server";
import { AGGREGATE_KIND } from "~/data/aggregates";
import { parseSettingsForm, type SettingsFieldErrors, type SettingsFormInput, settingsFormInputOf } from "~/pages/settings-form";
import { type Queryable } from "~/db/pg.server";
import { type AdminGraphqlClient } from "~/destinations/shopify/definitions.server";
import { requestShopifySegmentsUpdate, updatePublishedShopifySegments } from "~/destinations/shopify/segments.server";
import { consoleLogger, errorMessage } from "~/lib/log.server";

// Settings page data: the stored settings as form text, the sales channels worth offering as
// exclusions, and the save (validate, write, ask for a refit). Two indexed single-row reads.

export interface SettingsPageData {
  shop: string;
  currency: string;
  form: SettingsFormInput;
  /** Sales channels seen on first orders (from the last refit) plus those already excluded. */
  channelOptions: string[];
  /** When the merchant last saved; null: never (defaults in use). */
  savedAtIso: string | null;
  /**
   * Orders whose parts Tenure has not read (stored before it did): they count at total sales
   * until the orders are imported again. At most ORDERS_WITHOUT_PARTS_CAP ("or more" beyond).
   */
  ordersWithoutParts: number;
  ordersWithoutPartsCap: number;
  /** Settings' "Tag customers in Shopify with their Tenure segment" (saved on its own, not with the form). */
  shopifyTags: boolean;
}

export async function loadSettingsPage(db: Queryable, shop: string): Promise<SettingsPageData> {
  const [settings, row, shopifyTags] = await Promise.all([
    loadMetricsSettings(db, shop),
    readSettingsPageExtras(db, shop, AGGREGATE_KIND.retention),
    readShopifyTagging(db, shop),
  ]);
  const channels = new Set<string>((row?.channels ?? []).map((channel) => channel.value).filter((value) => value !== "Other" && value !== "(none)"));
  for (const excluded of settings.excludedSourceNames) channels.add(excluded);
  return {
    shop,
    currency: settings.currency,
    form: settingsFormInputOf(settings, settings.currency),
    channelOptions: [...channels],
    savedAtIso: row?.updatedAt ? row.updatedAt.toISOString() : null,
    ordersWithoutParts: row?.ordersWithoutParts ?? 0,
    ordersWithoutPartsCap: ORDERS_WITHOUT_PARTS_CAP,
    shopifyTags,
  };
}

export type SaveSettingsOutcome =
  | { ok: false; fieldErrors: SettingsFieldErrors }
  /** refitQueued false: saved, but Redis did not take the refit (the nightly refit will apply the settings). */
  | { ok: true; refitQueued: boolean; warnings: string[]; savedAtIso: string };

export interface SubmitSettingsOptions {
  /**
   * How published Shopify segments follow a relabel: by a job for the worker's Admin client
   * (default), or, in demo mode, updated here with the demo's fake Shopify (the demo's worker
   * has no Shopify); null: not at all (demo mode without the fake).
   */
  shopifySegments?: "queue" | { admin: AdminGraphqlClient | null };
}

/**
 * The settings action: validate against the shop's currency, write, ask for a refit and for
 * the update of published Shopify segments whose name the labels changed. Nothing is written
 * on a field error.
 */
export async function submitSettings(db: Queryable, shop: string, input: unknown, options: SubmitSettingsOptions = {}): Promise<SaveSettingsOutcome> {
  const { currency } = await loadMetricsSettings(db, shop);
  const parsed = parseSettingsForm(input, currency);
  if (!parsed.ok) return { ok: false, fieldErrors: parsed.fieldErrors };
  await saveSettings(db, shop, parsed.values);
  let refitQueued = true;
  try {
    await requestRefit(shop, "settings");
  } catch {
    // The settings are stored; the nightly refit reads them even if Redis is down now.
    refitQueued = false;
  }
  await followRelabelInShopify(db, shop, options.shopifySegments ?? "queue");
  return { ok: true, refitQueued, warnings: parsed.warnings, savedAtIso: new Date().toISOString() };
}

/**
 * Published Shopify segments renamed after the merchant's labels (issue 15), never a manual
 * step. Never fails the save: the settings are stored, a refusal is kept on the segment's row
 * (the Segments page shows it), and the next worker start asks again.
 */
async function followRelabelInShopify(db: Queryable, shop: string, how: NonNullable<SubmitSettingsOptions["shopifySegments"]>): Promise<void> {
  try {
    if (how === "queue") await requestShopifySegmentsUpdate(db, shop);
    else if (how.admin) await updatePublishedShopifySegments({ db, admin: how.admin }, shop);
  } catch (error) {
    consoleLogger.error("could not update the shop's published Shopify segments after a settings save", { shop, error: errorMessage(error) });
  }
}

/** The tag switch's request body: { intent: "shopify-tags", on: true | false }. */
export const isShopifyTagsRequest = (body: unknown): body is { intent: "shopify-tags" } =>
  typeof body === "object" && body !== null && (body as { intent?: unknown }).intent === "shopify-tags";

export type ShopifyTagsOutcome = { ok: true; on: boolean; message: string } | { ok: false; error: string };

/**
 * Switches Settings' "Tag customers in Shopify with their Tenure segment" (saved at once, on
 * its own): a full pass of the Shopify write-back adds or removes Tenure's tags. Anything but
 * a true or false `on` is refused in words, and nothing changes.
 */
export async function submitShopifyTags(pool: pg.Pool, shop: string, body: unknown): Promise<ShopifyTagsOutcome> {
  const on = (body as { on?: unknown }).on;
  if (typeof on !== "boolean") return { ok: false, error: "The tag setting could not be read (expected on or off). Reload the page and try again." };
  const outcome = await switchShopifyTagging(pool, shop, on);
  const message = !outcome.changed
    ? on
      ? "Customers are already tagged in Shopify."
      : "Tagging in Shopify is already off."
    : on
      ? "Tagging customers in Shopify: each scored customer gets tenure-<segment> within a few minutes."
      : "Tagging is off: Tenure removes its tenure-<segment> tags from your customers within a few minutes. Your own tags stay.";
  return { ok: true, on, message };
}
