import { type CustomerMetricsValues } from "~/analytics/customer-metrics";
import { writeCustomerMetrics } from "~/data/customer-metrics.server";
import { markDestinationChanges } from "~/data/destinations.server";
import { pgTransaction } from "~/db/pg.server";
import { type AdapterFactory } from "~/destinations/adapters.server";
import { klaviyoAdapter } from "~/destinations/klaviyo.server";
import { mailchimpAdapter } from "~/destinations/mailchimp.server";
import { testPool } from "./db";

// Shops for the destinations tests (tests/destinations): customers with consent, their
// metrics rows written and marked in the outbox as the live recompute does (one
// transaction), and the real adapters pointed at the fakes with test-sized waits.

export interface CustomerSpec {
  id: number;
  email?: string | null;
  consent?: string | null;
  firstName?: string;
}

/** Customer rows as the write path leaves them (profile and email consent only). */
export async function insertCustomers(shop: string, customers: readonly CustomerSpec[]): Promise<void> {
  for (const c of customers) {
    await testPool().query(
      `INSERT INTO "Customer" (shop, id, email, "firstName", "lastName", "shopifyUpdatedAt", "emailConsentState")
       VALUES ($1, $2, $3, $4, 'Buyer', now(), $5)
       ON CONFLICT (shop, id) DO UPDATE SET email = EXCLUDED.email, "emailConsentState" = EXCLUDED."emailConsentState"`,
      [shop, c.id, c.email === undefined ? `customer-${c.id}@example.com` : c.email, c.firstName ?? "Sam", c.consent === undefined ? "SUBSCRIBED" : c.consent],
    );
  }
}

/** Metrics rows written and their customers put in every destination's outbox, in one commit (as recomputeCustomerMetrics does). */
export async function writeAndMark(shop: string, rows: readonly CustomerMetricsValues[]): Promise<string[]> {
  return pgTransaction(testPool(), async (_tx, client) => {
    await writeCustomerMetrics(client, shop, rows, { modelVersion: 1, asOfDay: 20_110, source: "live" });
    return markDestinationChanges(client, shop, rows.map((r) => r.customerId));
  });
}

/** A consent change as customers/update leaves it, and the outbox mark its recompute makes. */
export async function changeConsent(shop: string, customerId: number, consent: string | null): Promise<void> {
  await testPool().query(`UPDATE "Customer" SET "emailConsentState" = $3 WHERE shop = $1 AND id = $2`, [shop, customerId, consent]);
  await markDestinationChanges(testPool(), shop, [String(customerId)]);
}

/** The real adapters against the fakes, with short polls and retries so failures surface quickly. */
export function fakeAdapters(urls: { klaviyo?: string; mailchimp?: string }): AdapterFactory {
  return (kind, apiKey, account) =>
    kind === "klaviyo"
      ? klaviyoAdapter(apiKey, account, { baseUrl: urls.klaviyo, pollIntervalMs: 10, maxPollIntervalMs: 50, timeoutMs: 1_000, retries: 2, baseBackoffMs: 10 })
      : mailchimpAdapter(apiKey, account, { baseUrl: urls.mailchimp, timeoutMs: 1_000 });
}

export async function outboxOf(destinationId: string): Promise<string[]> {
  const result = await testPool().query<{ id: string }>(`SELECT "customerId"::text AS id FROM "DestinationOutbox" WHERE "destinationId" = $1 ORDER BY 1`, [destinationId]);
  return result.rows.map((r) => r.id);
}

export async function destinationOf(shop: string, kind: string): Promise<{ id: string; status: string; notice: string | null } | undefined> {
  const result = await testPool().query<{ id: string; status: string; notice: string | null }>(
    `SELECT id::text AS id, status, notice FROM "Destination" WHERE shop = $1 AND kind = $2`,
    [shop, kind],
  );
  return result.rows[0];
}
