import { DEFAULT_SEGMENT_RULES, type SegmentRule } from "~/analytics/segments";
import { type Queryable } from "~/db/pg.server";
import { type RevenueBasis } from "./counted-orders.server";
import { DEFAULT_CHURN_RISK_THRESHOLD } from "~/analytics/churn-risk";
import { DEFAULT_COST_FALLBACK_MARGIN } from "~/analytics/customer-metrics";
import { type ShopCosts } from "./aggregates";
import { DEFAULT_HOLIDAY_SEASON, type HolidaySeason } from "~/analytics/behaviour";

// The shop's settings as the workers use them: defaults filled in, time zone and currency
// from the Shop row. The settings page validates and saves (app/pages/settings-form.ts);
// workers only read.

export interface MetricsSettings {
  timezone: string;
  currency: string;
  grossMargin: number;
  cacMinor: number | null;
  annualDiscountRate: number;
  horizonDays: number;
  segmentRules: SegmentRule[];
  segmentLabels: Record<string, string>;
  excludedOrderTags: string[];
  excludedSourceNames: string[];
  /** Orders of customers carrying any of these tags do not count. */
  excludedCustomerTags: string[];
  /** What counts as an order's revenue: net sales (Shopify's definition) or total sales. */
  revenueBasis: RevenueBasis;
  /** Shopify Flow's churn-risk trigger: a chance of ordering in 90 days below this (0..1) is at risk. */
  churnRiskThreshold: number;
  /** Gross margin of sales without a known unit cost (issue 17; docs/analytics/revenue.md, "Cost of goods"). */
  costFallbackMargin: number;
  /** "Holiday-season first buyers": the season's first and last day, "MM-DD" (issue 17). */
  holidaySeason: HolidaySeason;
  /** The shop's gross profit and cost coverage as of its last refit (the kpis aggregate; issue 17); null before one. */
  costs?: ShopCosts | null;
}

export const DEFAULT_METRICS_SETTINGS: Omit<MetricsSettings, "timezone" | "currency"> = {
  grossMargin: 1,
  cacMinor: null,
  annualDiscountRate: 0.1,
  horizonDays: 365,
  segmentRules: [...DEFAULT_SEGMENT_RULES],
  segmentLabels: {},
  excludedOrderTags: [],
  excludedSourceNames: [],
  excludedCustomerTags: [],
  revenueBasis: "net_sales",
  churnRiskThreshold: DEFAULT_CHURN_RISK_THRESHOLD,
  costFallbackMargin: DEFAULT_COST_FALLBACK_MARGIN,
  holidaySeason: DEFAULT_HOLIDAY_SEASON,
};

export async function loadMetricsSettings(db: Queryable, shop: string): Promise<MetricsSettings> {
  const result = await db.query<{
    timezone: string | null;
    currency: string | null;
    grossMargin: number | null;
    cacMinor: bigint | string | null;
    annualDiscountRate: number | null;
    horizonDays: number | null;
    segmentRules: SegmentRule[] | null;
    segmentLabels: Record<string, string> | null;
    excludedOrderTags: string[] | null;
    excludedSourceNames: string[] | null;
    excludedCustomerTags: string[] | null;
    revenueBasis: string | null;
    churnRiskThreshold: number | null;
    costFallbackMargin: number | null;
    holidaySeasonStart: string | null;
    holidaySeasonEnd: string | null;
    costs: ShopCosts | null;
  }>(
    `SELECT s.timezone, s.currency, ss."grossMargin", ss."cacMinor", ss."annualDiscountRate", ss."horizonDays",
            ss."segmentRules", ss."segmentLabels", ss."excludedOrderTags", ss."excludedSourceNames",
            ss."excludedCustomerTags", ss."revenueBasis", ss."churnRiskThreshold", ss."costFallbackMargin",
            ss."holidaySeasonStart", ss."holidaySeasonEnd",
            (SELECT a.data->'costs' FROM "ShopAggregate" AS a WHERE a.shop = wanted.shop AND a.kind = 'kpis') AS costs
     FROM (SELECT $1::text AS shop) AS wanted
     LEFT JOIN "Shop" AS s ON s.domain = wanted.shop
     LEFT JOIN "ShopSettings" AS ss ON ss.shop = wanted.shop`,
    [shop],
  );
  const row = result.rows[0];
  const d = DEFAULT_METRICS_SETTINGS;
  return {
    timezone: row?.timezone ?? "UTC",
    currency: row?.currency ?? "USD",
    grossMargin: row?.grossMargin ?? d.grossMargin,
    cacMinor: row?.cacMinor == null ? null : Number(row.cacMinor),
    annualDiscountRate: row?.annualDiscountRate ?? d.annualDiscountRate,
    horizonDays: row?.horizonDays ?? d.horizonDays,
    segmentRules: row?.segmentRules ?? d.segmentRules,
    segmentLabels: row?.segmentLabels ?? {},
    excludedOrderTags: row?.excludedOrderTags ?? [],
    excludedSourceNames: row?.excludedSourceNames ?? [],
    excludedCustomerTags: row?.excludedCustomerTags ?? [],
    revenueBasis: row?.revenueBasis === "total_sales" ? "total_sales" : d.revenueBasis,
    churnRiskThreshold: row?.churnRiskThreshold ?? d.churnRiskThreshold,
    costFallbackMargin: row?.costFallbackMargin ?? d.costFallbackMargin,
    holidaySeason: row?.holidaySeasonStart && row.holidaySeasonEnd ? { start: row.holidaySeasonStart, end: row.holidaySeasonEnd } : d.holidaySeason,
    costs: row?.costs ?? null,
  };
}

// ------------------------------------------------------------------ the pages' reads and the settings save

/** When the shop was installed and last reconciled (sync page), or undefined without a Shop row. */
export async function readShopSyncTimes(db: Queryable, shop: string) {
  const result = await db.query<{ installedAt: Date; reconciledAt: Date | null }>(`SELECT "installedAt", "reconciledAt" FROM "Shop" WHERE domain = $1`, [shop]);
  return result.rows[0];
}

/**
 * For the settings page, in one statement: the sales channels of the whole-shop retention
 * aggregate (`retentionKind`), when the merchant last saved (null: never), and how many
 * orders count at total sales for want of their parts (up to ORDERS_WITHOUT_PARTS_CAP).
 */
export async function readSettingsPageExtras(db: Queryable, shop: string, retentionKind: string) {
  const result = await db.query<{ channels: { value: string }[] | null; updatedAt: Date | null; ordersWithoutParts: number }>(
    `SELECT (SELECT data->'filters'->'channel' FROM "ShopAggregate" WHERE shop = $1 AND kind = $2) AS channels,
              (SELECT "updatedAt" FROM "ShopSettings" WHERE shop = $1) AS "updatedAt",
              (SELECT count(*)::int FROM (
                 SELECT 1 FROM "Order" WHERE shop = $1 AND "grossSalesMinor" IS NULL AND NOT test LIMIT ${ORDERS_WITHOUT_PARTS_CAP}
               ) AS unknown) AS "ordersWithoutParts"`,
    [shop, retentionKind],
  );
  return result.rows[0];
}

/**
 * Orders stored before Tenure read their parts count at total sales until imported again;
 * the settings page counts them up to this many (the partial index Order_shop_parts_unknown_idx
 * serves the count).
 */
export const ORDERS_WITHOUT_PARTS_CAP = 10_000;

/** Writes a shop's settings (one upsert); the settings page validates them first (app/pages/settings-form.ts). */
export async function saveSettings(db: Queryable, shop: string, values: Omit<MetricsSettings, "timezone" | "currency">): Promise<void> {
  await db.query(
    `INSERT INTO "ShopSettings" (shop, "grossMargin", "cacMinor", "annualDiscountRate", "horizonDays", "segmentRules", "segmentLabels",
                                 "excludedOrderTags", "excludedSourceNames", "excludedCustomerTags", "revenueBasis", "churnRiskThreshold", "costFallbackMargin",
                                 "holidaySeasonStart", "holidaySeasonEnd", "updatedAt")
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8::text[], $9::text[], $10::text[], $11, $12, $13, $14, $15, now())
     ON CONFLICT (shop) DO UPDATE SET
       "grossMargin" = EXCLUDED."grossMargin", "cacMinor" = EXCLUDED."cacMinor", "annualDiscountRate" = EXCLUDED."annualDiscountRate",
       "horizonDays" = EXCLUDED."horizonDays", "segmentRules" = EXCLUDED."segmentRules", "segmentLabels" = EXCLUDED."segmentLabels",
       "excludedOrderTags" = EXCLUDED."excludedOrderTags", "excludedSourceNames" = EXCLUDED."excludedSourceNames",
       "excludedCustomerTags" = EXCLUDED."excludedCustomerTags", "revenueBasis" = EXCLUDED."revenueBasis",
       "churnRiskThreshold" = EXCLUDED."churnRiskThreshold", "costFallbackMargin" = EXCLUDED."costFallbackMargin",
       "holidaySeasonStart" = EXCLUDED."holidaySeasonStart", "holidaySeasonEnd" = EXCLUDED."holidaySeasonEnd", "updatedAt" = now()`,
    [
      shop,
      values.grossMargin,
      values.cacMinor === null ? null : String(values.cacMinor),
      values.annualDiscountRate,
      values.horizonDays,
      JSON.stringify(values.segmentRules),
      JSON.stringify(values.segmentLabels),
      values.excludedOrderTags,
      values.excludedSourceNames,
      values.excludedCustomerTags,
      values.revenueBasis,
      values.churnRiskThreshold,
      values.costFallbackMargin,
      values.holidaySeason.start,
      values.holidaySeason.end,
    ],
  );
}

// ------------------------------------------------------------------ Shopify tags (issue 15)

/** Settings' "Tag customers in Shopify with their Tenure segment" (off by default: tags show up everywhere in Shopify admin). */
export async function readShopifyTagging(db: Queryable, shop: string): Promise<boolean> {
  const result = await db.query<{ tagging: boolean }>(`SELECT "shopifyTags" AS tagging FROM "ShopSettings" WHERE shop = $1`, [shop]);
  return result.rows[0]?.tagging === true;
}

/** Switches tagging; returns whether it changed. A shop with no settings row switching it on gets one with the defaults. */
export async function saveShopifyTagging(db: Queryable, shop: string, on: boolean): Promise<boolean> {
  if (!on) {
    const off = await db.query(`UPDATE "ShopSettings" SET "shopifyTags" = false, "updatedAt" = now() WHERE shop = $1 AND "shopifyTags"`, [shop]);
    return (off.rowCount ?? 0) > 0;
  }
  const result = await db.query(
    `INSERT INTO "ShopSettings" (shop, "excludedOrderTags", "excludedSourceNames", "excludedCustomerTags", "shopifyTags", "updatedAt")
     VALUES ($1, '{}', '{}', '{}', $2, now())
     ON CONFLICT (shop) DO UPDATE SET "shopifyTags" = EXCLUDED."shopifyTags", "updatedAt" = now()
       WHERE "ShopSettings"."shopifyTags" IS DISTINCT FROM EXCLUDED."shopifyTags"`,
    [shop, on],
  );
  return (result.rowCount ?? 0) > 0;
}
