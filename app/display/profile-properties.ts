import { minorToMajor } from "~/analytics/money";
import { segmentName } from "./segment-names";

// Tenure's figures as they leave the app: the email tools' profile properties (Klaviyo
// properties, Mailchimp merge fields) and the export presets' Tenure columns. One
// definition, so a figure in Klaviyo, in Mailchimp and in a CSV file is the same number.

/**
 * The property names issue 14 fixed. Money is in the shop currency's major units (12.5 =
 * 12.50), chances are fractions 0..1 rounded to 4 places, dates YYYY-MM-DD in the shop's
 * time zone; null: Tenure has no figure (no prediction, no order).
 */
export interface TenureProfileProperties {
  /** The RFM segment's name as the merchant sees it (their own label when they set one). */
  tenure_rfm_segment: string | null;
  /** The behavioural segments' names. */
  tenure_behaviours: string[];
  tenure_predicted_value_12m: number | null;
  tenure_historic_value: number;
  tenure_chance_of_ordering_90d: number | null;
  tenure_p_alive: number | null;
  tenure_next_order_date: string | null;
}

/** The columns of a customer's metrics row the properties are made of (minor units as decimal text). */
export interface ProfileFigures {
  segment: string | null;
  behaviours: readonly string[];
  netSpentMinor: string | null;
  predictedClvMinor: string | null;
  expectedPurchases365d: number | null;
  expectedOrderValueMinor: string | null;
  chanceOfOrder90d: number | null;
  pAlive: number | null;
  expectedNextOrderDay: string | null;
}

/** What the properties need to know about the shop. */
export interface ProfileShop {
  currency: string;
  labels: Readonly<Record<string, string>>;
  /** Settings' horizon of the stored prediction (days). */
  horizonDays: number;
}

/** The remote list or tag of a segment: "Tenure: <segment name>" (the merchant's label when set). */
export function destinationSegmentName(key: string, labels: Readonly<Record<string, string>>): string {
  return `Tenure: ${segmentName(key, labels)}`;
}

const major = (minor: string | null, currency: string): number | null => (minor === null ? null : minorToMajor(Number(minor), currency));

/** A fraction 0..1 rounded to 4 places (0.1234 = 12.34 %). */
export const roundedFraction = (value: number | null): number | null => (value === null ? null : Math.round(value * 10_000) / 10_000);

/**
 * Expected spend over the next 12 months, major units. With Settings' horizon at 365 days
 * (the default) it is the stored prediction, the figure the pages show; with another
 * horizon the stored prediction covers other months, so the 12-month figure is expected
 * orders in 365 days x expected order value (undiscounted), from the two stored columns
 * without a refit (app/destinations/README.md).
 */
export function predictedValue12m(figures: ProfileFigures, shop: ProfileShop): number | null {
  if (shop.horizonDays === 365) return major(figures.predictedClvMinor, shop.currency);
  if (figures.expectedPurchases365d === null || figures.expectedOrderValueMinor === null) return null;
  return major(String(Math.round(figures.expectedPurchases365d * Number(figures.expectedOrderValueMinor))), shop.currency);
}

export function tenureProfileProperties(figures: ProfileFigures, shop: ProfileShop): TenureProfileProperties {
  return {
    tenure_rfm_segment: figures.segment === null ? null : segmentName(figures.segment, shop.labels),
    tenure_behaviours: figures.behaviours.map((key) => segmentName(key, shop.labels)),
    tenure_predicted_value_12m: predictedValue12m(figures, shop),
    tenure_historic_value: major(figures.netSpentMinor, shop.currency) ?? 0,
    tenure_chance_of_ordering_90d: roundedFraction(figures.chanceOfOrder90d),
    tenure_p_alive: roundedFraction(figures.pAlive),
    tenure_next_order_date: figures.expectedNextOrderDay,
  };
}
