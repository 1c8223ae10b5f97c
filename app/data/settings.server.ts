import { DEFAULT_SEGMENT_RULES, type SegmentRule } from "~/analytics/segments";
import { type Queryable } from "~/db/pg.server";

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
  }>(
    `SELECT s.timezone, s.currency, ss."grossMargin", ss."cacMinor", ss."annualDiscountRate", ss."horizonDays",
            ss."segmentRules", ss."segmentLabels", ss."excludedOrderTags", ss."excludedSourceNames"
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
  };
}

/**
 * The orders that count for metrics, with their day index in the shop's time zone:
 * not test orders, with a customer, none of the excluded tags, not from an excluded
 * channel. Parameters: $1 shop, $2 time zone, $3 excluded tags, $4 excluded channels;
 * callers append their own conditions (`AND o."customerId" = ...`) and ordering.
 * The live worker and the refit both read orders through this, so they count alike.
 */
export const COUNTED_ORDERS_SQL = `
  SELECT o."customerId" AS customer_id,
         ((o."processedAt" AT TIME ZONE 'UTC') AT TIME ZONE $2::text)::date - DATE '1970-01-01' AS day,
         o."netMinor" AS net,
         cardinality(o."discountCodes") > 0 AS discounted,
         -- Acquisition dimensions of a customer's first order (the refit's retention filters).
         o."sourceName" AS channel,
         o."firstProductTitle" AS first_product,
         (array_remove(o."discountCodes", ''))[1] AS first_discount_code
  FROM "Order" AS o
  WHERE o.shop = $1 AND NOT o.test AND o."customerId" IS NOT NULL
    AND NOT (o.tags && $3::text[])
    AND (o."sourceName" IS NULL OR NOT (o."sourceName" = ANY($4::text[])))`;

export const countedOrdersParams = (shop: string, s: MetricsSettings) => [shop, s.timezone, s.excludedOrderTags, s.excludedSourceNames];
