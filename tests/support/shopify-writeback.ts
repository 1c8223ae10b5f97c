import { type CustomerMetricsValues } from "~/analytics/customer-metrics";
import { writeCustomerMetrics } from "~/data/customer-metrics.server";
import { ensureShopifyDestination, markDestinationChanges, readCustomerSyncStates } from "~/data/destinations.server";
import { loadMetricsSettings } from "~/data/settings.server";
import { pgTransaction } from "~/db/pg.server";
import { type AdminGraphqlClient, ensureTenureMetafieldDefinitions } from "~/destinations/shopify/definitions.server";
import { tenureMetafieldValues } from "~/destinations/shopify/metafields";
import { customerGid } from "~/destinations/shopify/writeback.server";
import { installShop, testDb, testPool, uniqueShop } from "./db";
import { type FakeShopify } from "./fake-shopify";

// Shops for the Shopify write-back tests (tests/destinations/shopify-writeback*.test.ts): an
// installed shop with its offline session in the Shopify fake, Tenure's metafield definitions
// made there, and its write-back destination; metrics written and marked as the live
// recompute does (one transaction), at a chosen computedAt (the last_scored metafield).

export async function writebackShop(fake: FakeShopify, admin: AdminGraphqlClient, label: string): Promise<{ shop: string; destinationId: string }> {
  const shop = await installShop(uniqueShop(label));
  await fake.installSession(testDb(), shop, "read_orders,read_all_orders,read_customers,write_customers");
  await ensureTenureMetafieldDefinitions(admin, shop);
  const { id } = await ensureShopifyDestination(testPool(), shop);
  return { shop, destinationId: id };
}

/** Metrics rows written at `computedAt` and marked in every destination's outbox, in one commit. */
export async function scoreAndMark(shop: string, rows: readonly CustomerMetricsValues[], computedAt = new Date()): Promise<void> {
  await pgTransaction(testPool(), async (_tx, client) => {
    await writeCustomerMetrics(client, shop, rows, { modelVersion: 1, asOfDay: 20_110, source: "live", computedAt });
    await markDestinationChanges(client, shop, rows.map((r) => r.customerId));
  });
}

/** Tenure's metafields of a customer in the fake (key -> value; Tenure's namespace only). */
export function metafieldsInShopify(fake: FakeShopify, shop: string, customerId: string | number): Record<string, string> {
  const owner = fake.shopData(shop).metafields.get(customerGid(String(customerId)));
  const values: Record<string, string> = {};
  for (const metafield of owner?.values() ?? []) if (metafield.namespace === fake.appNamespace) values[metafield.key] = metafield.value;
  return values;
}

/** What Tenure's rows say the customer's metafields are (tenureMetafieldValues of the current metrics); {} without a metrics row. */
export async function metafieldsOfTenure(shop: string, destinationId: string, customerId: string | number): Promise<Record<string, string>> {
  const [state] = await readCustomerSyncStates(testPool(), shop, destinationId, "all", [String(customerId)]);
  if (!state?.scored || !state.scoredAt) return {};
  const settings = await loadMetricsSettings(testPool(), shop);
  const { set } = tenureMetafieldValues(state, { currency: settings.currency, labels: settings.segmentLabels, horizonDays: settings.horizonDays }, new Date(state.scoredAt));
  return Object.fromEntries(set.map((value) => [value.key, value.value]));
}
