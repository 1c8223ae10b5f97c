// The export's row and consent state, pure: shared by the export's read
// (customer-export.server.ts) and its presets (app/pages/export.ts).

/** Shopify's email marketing state that allows marketing email (GraphQL enum spelling). */
export const EMAIL_SUBSCRIBED = "SUBSCRIBED";

/** One customer as the export reads them: every value as text or a JS number (no Date, no bigint to convert per row). */
export interface ExportRow {
  /** Shopify's customer id, decimal. */
  id: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
  tags: string[];
  rScore: number | null;
  fScore: number | null;
  mScore: number | null;
  segment: string | null;
  behaviours: string[];
  orders: number;
  /** Integer minor units, as decimal text (bigint); so are the other *Minor columns. */
  netSpentMinor: string;
  /** The stored prediction over Settings' horizon. */
  predictedClvMinor: string | null;
  /** Expected orders in the next 365 days and the expected order value: the 12-month value with another horizon (profile-properties.ts). */
  expectedPurchases365d: number | null;
  expectedOrderValueMinor: string | null;
  chanceOfOrder90d: number | null;
  chanceOfOrder365d: number | null;
  pAlive: number | null;
  /** YYYY-MM-DD (shop days, as stored). */
  expectedNextOrderDay: string | null;
  firstOrderDay: string | null;
  lastOrderDay: string | null;
  emailConsentState: string | null;
  emailOptInLevel: string | null;
  /** ISO 8601, UTC. */
  emailConsentUpdatedAt: string | null;
  smsConsentState: string | null;
  smsOptInLevel: string | null;
  smsConsentUpdatedAt: string | null;
}

