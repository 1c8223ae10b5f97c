import { requestRefit } from "~/refit/request-refit.server";
import { loadMetricsSettings, ORDERS_WITHOUT_PARTS_CAP, readSettingsPageExtras, saveSettings } from "~/data/settings.server";
import { AGGREGATE_KIND } from "~/data/aggregates";
import { parseSettingsForm, type SettingsFieldErrors, type SettingsFormInput, settingsFormInputOf } from "~/pages/settings-form";
import { type Queryable } from "~/db/pg.server";

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
}

export async function loadSettingsPage(db: Queryable, shop: string): Promise<SettingsPageData> {
  const [settings, row] = await Promise.all([
    loadMetricsSettings(db, shop),
    readSettingsPageExtras(db, shop, AGGREGATE_KIND.retention),
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
  };
}

export type SaveSettingsOutcome =
  | { ok: false; fieldErrors: SettingsFieldErrors }
  /** refitQueued false: saved, but Redis did not take the refit (the nightly refit will apply the settings). */
  | { ok: true; refitQueued: boolean; warnings: string[]; savedAtIso: string };

/** The settings action: validate against the shop's currency, write, ask for a refit. Nothing is written on a field error. */
export async function submitSettings(db: Queryable, shop: string, input: unknown): Promise<SaveSettingsOutcome> {
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
  return { ok: true, refitQueued, warnings: parsed.warnings, savedAtIso: new Date().toISOString() };
}
