import { AGGREGATE_KIND, type DriversAggregate } from "~/data/aggregates";
import { loadAggregates } from "~/data/aggregates.server";
import { loadMetricsSettings } from "~/data/settings.server";
import { type Queryable } from "~/db/pg.server";
import { type DriversPageData } from "./drivers";
import { loadFitState } from "./fit-state.server";

// The acquisition drivers page's loader: the drivers row the refit wrote, one primary-key
// read whatever the shop's size (the figures are computed in the refit, never per load).

export async function loadDriversPage(db: Queryable, shop: string): Promise<DriversPageData> {
  const [rows, settings] = await Promise.all([loadAggregates(db, shop, [AGGREGATE_KIND.drivers]), loadMetricsSettings(db, shop)]);
  const row = rows.get(AGGREGATE_KIND.drivers);
  const { grossMargin } = settings;
  const costs = settings.costs ?? null;
  if (!row) return { shop, state: "none", fit: await loadFitState(db, shop), computedAtIso: null, drivers: null, grossMargin, costs };
  return { shop, state: "ready", fit: null, computedAtIso: row.computedAt.toISOString(), drivers: row.data as DriversAggregate, grossMargin, costs };
}
