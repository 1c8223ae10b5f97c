import type pg from "pg";
import { CART_ABANDONMENT_WINDOW_DAYS } from "~/analytics/behaviour";
import { pgPool, pgTransaction } from "~/db/pg.server";
import { ABANDONED_CHECKOUT_FIELDS, mapGraphqlAbandonedCheckout } from "~/ingest/graphql-mappers";
import { PayloadValidationError } from "~/ingest/mappers";
import { upsertCheckout } from "~/ingest/upsert-checkout.server";
import { type AdminGraphql, ShopifyAdminError } from "./shopify-admin.server";

// Past abandoned checkouts (issue 17, cart abandoners): the import reads the checkouts of the
// last 30 days (the segment's window) from Admin GraphQL `abandonedCheckouts` (read_orders,
// which the import holds already) into the webhooks' checkout write path (upsertCheckout:
// newer wins, idempotent, a redacted customer's checkout not kept). Without it the segment
// would fill only as new checkouts arrive by webhook.
//
// A paged query, not a second bulk operation: a month of checkouts is small next to the
// orders, and the orders' bulk operation stays the shop's one running bulk query (ADR 0023; API versions
// before 2026-01 allow one at a time, and the run's lifecycle follows one operation).

/**
 * Checkouts per page (ADR 0025). A checkout node costs 8 points plus one per line id
 * (ABANDONED_CHECKOUT_LINE_IDS), so 20 × 33 + 2 = 662 requested points, under Shopify's
 * 1,000-point single query limit with room (50 per page with 50 line ids was 2,902: refused).
 */
export const ABANDONED_CHECKOUTS_PER_PAGE = 20;

const ABANDONED_CHECKOUTS_QUERY = `#graphql
  query TenureAbandonedCheckouts($first: Int!, $after: String, $query: String!) {
    abandonedCheckouts(first: $first, after: $after, query: $query) {
      edges { node { ${ABANDONED_CHECKOUT_FIELDS} } }
      pageInfo { hasNextPage endCursor }
    }
  }`;

interface CheckoutsPage {
  abandonedCheckouts: {
    edges: { node: Record<string, unknown> }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

export interface CheckoutImportReport {
  seen: number;
  /** Checkouts stored or updated (a replay of what the webhooks stored writes nothing). */
  written: number;
  /** Guest checkouts left out: GraphQL gives them no email, so no segment and no redaction could find them. */
  guests: number;
  /** Malformed checkouts, named. */
  skipped: string[];
  /** Customers whose checkouts changed (the import's refit rescores every customer anyway). */
  customerIds: bigint[];
}

/** The search that selects the checkouts started in the segment's window before `now`. */
export function abandonedCheckoutsSearch(now: Date): string {
  const from = new Date(now.getTime() - CART_ABANDONMENT_WINDOW_DAYS * 86_400_000);
  return `created_at:>='${from.toISOString()}'`;
}

/**
 * Reads the shop's abandoned checkouts of the last 30 days into the Checkout table, one
 * transaction per checkout (each takes the checkout's and its customer's locks, as a webhook
 * delivery does, so pages never hold several customers' locks at once). Throws
 * ShopifyAdminError when Shopify refuses or stays unavailable after the client's retries.
 */
export async function importAbandonedCheckouts(
  deps: { admin: AdminGraphql; pool?: pg.Pool; now?: () => Date; pageSize?: number },
  shop: string,
): Promise<CheckoutImportReport> {
  const pageSize = deps.pageSize ?? ABANDONED_CHECKOUTS_PER_PAGE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > ABANDONED_CHECKOUTS_PER_PAGE) {
    throw new RangeError(`abandoned checkouts pageSize ${pageSize}: give 1 to ${ABANDONED_CHECKOUTS_PER_PAGE} (more would exceed Shopify's single query cost limit)`);
  }
  const pool = deps.pool ?? pgPool();
  const query = abandonedCheckoutsSearch(deps.now?.() ?? new Date());
  const report: CheckoutImportReport = { seen: 0, written: 0, guests: 0, skipped: [], customerIds: [] };
  const customers = new Map<string, bigint>();
  let after: string | null = null;
  for (;;) {
    const page: CheckoutsPage = await deps.admin.request<CheckoutsPage>(shop, ABANDONED_CHECKOUTS_QUERY, { first: pageSize, after, query });
    for (const { node } of page.abandonedCheckouts.edges) {
      report.seen += 1;
      let row;
      try {
        row = mapGraphqlAbandonedCheckout(node);
      } catch (error) {
        if (!(error instanceof PayloadValidationError)) throw error;
        report.skipped.push(`${String(node.id)}: ${error.message}`);
        continue;
      }
      if (row.customerId === null) {
        report.guests += 1;
        continue;
      }
      try {
        const result = await pgTransaction(pool, (tx) => upsertCheckout(tx, shop, row));
        if (result.changed) report.written += 1;
        for (const id of result.affectedCustomerIds) customers.set(id.toString(), id);
      } catch (error) {
        // A checkout in another currency than the shop's: refused by the write path, named here.
        if (!(error instanceof PayloadValidationError)) throw error;
        report.skipped.push(`${String(node.id)}: ${error.message}`);
      }
    }
    if (!page.abandonedCheckouts.pageInfo.hasNextPage || !page.abandonedCheckouts.pageInfo.endCursor) break;
    after = page.abandonedCheckouts.pageInfo.endCursor;
  }
  report.customerIds = [...customers.values()];
  return report;
}

/**
 * The import's step: past checkouts, or the reason they were not read (a refusal by Shopify,
 * e.g. a shop that withdrew the access, is reported on the run rather than failing the orders'
 * import: the webhooks still fill the segment from now on). Database errors propagate.
 */
export async function importAbandonedCheckoutsStep(
  deps: { admin: AdminGraphql; pool?: pg.Pool },
  shop: string,
): Promise<string | null> {
  try {
    const report = await importAbandonedCheckouts(deps, shop);
    if (report.skipped.length === 0) return null;
    return `${report.skipped.length} malformed abandoned checkouts skipped: ${report.skipped.slice(0, 5).join(" | ")}`;
  } catch (error) {
    if (!(error instanceof ShopifyAdminError)) throw error;
    return `abandoned checkouts of the last ${CART_ABANDONMENT_WINDOW_DAYS} days not imported: ${error.message}`;
  }
}
