import { loadMetricsSettings } from "~/data/settings.server";
import { type Queryable } from "~/db/pg.server";
import { type GlossaryPageData } from "./glossary";

// Glossary page data: the shop's settings that definitions depend on (one indexed single-row read).

export async function loadGlossaryPage(db: Queryable, shop: string): Promise<GlossaryPageData> {
  const settings = await loadMetricsSettings(db, shop);
  return {
    settings: {
      horizonDays: settings.horizonDays,
      revenueBasis: settings.revenueBasis,
      grossMargin: settings.grossMargin,
      costs: settings.costs ?? null,
      currency: settings.currency,
    },
    segmentLabels: settings.segmentLabels,
  };
}
