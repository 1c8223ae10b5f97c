import { type ScoringContext } from "~/analytics/customer-metrics";
import { type MetricsSettings, loadMetricsSettings } from "~/data/settings.server";
import { loadStoredFit, scoringContextOf, shopFitVersion } from "~/data/shop-fit.server";
import { type Queryable } from "~/db/pg.server";

// Per-process caches of the live recompute: the shop's restored fit and its settings, both
// keyed by the fit version, so a refit's new fit (or a settings save, which asks for one)
// replaces them on the next recompute.

/** Shops remembered at most per cache (the oldest goes first). */
export const CACHED_SHOPS = 1_000;

interface CachedFit {
  version: number;
  modelVersion: number | null;
  context: Omit<ScoringContext, "asOfDay">;
}

/** Restored fits by shop: restoring a model per job would cost more than scoring with it. */
const fitCache = new Map<string, CachedFit>();

/** The shop's scoring context (without its as-of day): the stored fit, restored once per fit version. */
export async function storedScoring(
  db: Queryable,
  shop: string,
): Promise<{ version: number | null; context: Omit<ScoringContext, "asOfDay">; modelVersion: number | null }> {
  const version = await shopFitVersion(db, shop);
  let cached = version === undefined ? undefined : fitCache.get(shop);
  if (!cached || cached.version !== version) {
    const fit = version === undefined ? null : await loadStoredFit(db, shop);
    if (!fit) {
      // Never fitted: scored without predictions, RFM scores or behaviours until the first refit.
      fitCache.delete(shop);
      const { asOfDay: _day, ...context } = scoringContextOf(null, 0);
      return { version: null, context, modelVersion: null };
    }
    const { asOfDay: _day, ...context } = scoringContextOf(fit, fit.asOfDay);
    cached = { version: fit.version, modelVersion: fit.model ? fit.version : null, context };
    fitCache.delete(shop);
    if (fitCache.size >= CACHED_SHOPS) fitCache.delete(fitCache.keys().next().value as string);
    fitCache.set(shop, cached);
  }
  return { version: cached.version, context: cached.context, modelVersion: cached.modelVersion };
}

/** Settings by shop, kept while the fit version stays and for at most SETTINGS_TTL_MS. */
const settingsCache = new Map<string, { version: number | null; at: number; settings: MetricsSettings }>();
/**
 * A settings save asks for a refit, whose new fit version drops the cached settings; the
 * time limit covers the Shop row's time zone, which no refit announces.
 */
const SETTINGS_TTL_MS = 30_000;

export async function shopSettings(db: Queryable, shop: string, fitVersion: number | null): Promise<MetricsSettings> {
  const cached = settingsCache.get(shop);
  if (cached && cached.version === fitVersion && Date.now() - cached.at < SETTINGS_TTL_MS) return cached.settings;
  const settings = await loadMetricsSettings(db, shop);
  settingsCache.delete(shop);
  if (settingsCache.size >= CACHED_SHOPS) settingsCache.delete(settingsCache.keys().next().value as string);
  settingsCache.set(shop, { version: fitVersion, at: Date.now(), settings });
  return settings;
}
