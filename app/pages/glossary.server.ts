import { loadMetricsSettings } from "~/data/settings.server";
import { type Queryable } from "~/db/pg.server";
import { type GlossaryShopContext } from "~/display/glossary";
import { type GlossaryPageData } from "./glossary";

// Glossary page data: the shop's settings that definitions depend on (one indexed single-row read).

export async function loadGlossaryPage(db: Queryable, shop: string): Promise<GlossaryPageData> {
  const settings = await loadMetricsSettings(db, shop);
  return {
    shop: {
      horizonDays: settings.horizonDays,
      revenueBasis: revenueBasisOf(settings),
      grossMargin: settings.grossMargin,
      currency: settings.currency,
    },
    segmentLabels: settings.segmentLabels,
  };
}

/** The revenue basis setting; net sales, the default, until a shop has chosen. */
function revenueBasisOf(settings: object): GlossaryShopContext["revenueBasis"] {
  const value = (settings as { revenueBasis?: unknown }).revenueBasis;
  return value === "total_sales" ? "total_sales" : "net_sales";
}
