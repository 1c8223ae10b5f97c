import { type PrismaClient } from "@prisma/client";
import type pg from "pg";
import { INVENTORY_ITEM_FIELDS, LINE_ITEM_FIELDS, ORDER_FIELDS, mapGraphqlInventoryItem, mapGraphqlOrder } from "~/ingest/graphql-mappers";
import { type UnitCostRow, type VariantRow } from "~/ingest/cost-mappers";
import { upsertCostsBatch } from "~/ingest/costs.server";
import { type OrderBundle, PayloadValidationError } from "~/ingest/mappers";
import { pgPool, pgTransaction } from "~/db/pg.server";
import { upsertOrdersBatch } from "~/ingest/upsert-batch.server";
import { enqueueCustomerMetrics } from "~/queues/enqueue.server";
import { type AdminGraphql, ShopifyAdminError } from "./shopify-admin.server";

// Reconciliation: whatever a lost webhook would have told us. Per shop, page through the
// orders updated since the last sweep (Admin GraphQL, sorted by updated_at, cursor
// pagination, paced by AdminGraphql's cost-bucket logic) into the same upsert path. The
// upsert's newer-wins rule makes re-reading orders we already have a no-op, so the window
// overlaps the previous sweep by a margin instead of trying to be exact.
//
// The customers a sweep changed get a metrics recompute before the sweep is marked done.
// If Redis refuses, the job fails and its retry reads the same window again: the rows are
// already written then, so a retry (`resendSeen`) enqueues every customer it sees.

// Page sizes (ADR 0025): Shopify refuses a query whose requested cost exceeds 1,000 points (MAX_COST_EXCEEDED), and a
// connection costs 2 + first × a node's cost, so orders × line items multiply: an order node
// costs about 24 points and a line item about 10 (the fake computes them: demo/fakes/shopify-cost.ts).
// A page of 5 orders with 10 lines each requests about 622 points; an order with more lines
// has the rest read by ORDER_LINES_QUERY from its lineItems cursor (60 lines, about 603 points),
// so no line is dropped.
/** Orders per page (the most `pageSize` may ask for). */
export const RECONCILE_ORDERS_PER_PAGE = 5;
/** Line items read with each order of a page; the rest come from ORDER_LINES_QUERY. */
export const RECONCILE_LINES_PER_ORDER = 10;
/** Line items per follow-up page of one order's lines. */
export const RECONCILE_MORE_LINES_PER_PAGE = 60;
/** Inventory items per page of the cost pass (about 302 points). */
export const RECONCILE_ITEMS_PER_PAGE = 100;

const RECONCILE_QUERY = `#graphql
  query TenureReconcile($first: Int!, $after: String, $query: String!) {
    orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
      edges {
        node {
          ${ORDER_FIELDS}
          lineItems(first: ${RECONCILE_LINES_PER_ORDER}) { edges { node { ${LINE_ITEM_FIELDS} } } pageInfo { hasNextPage endCursor } }
        }
      }
      pageInfo { hasNextPage endCursor }
    }
  }`;

const ORDER_LINES_QUERY = `#graphql
  query TenureReconcileOrderLines($id: ID!, $first: Int!, $after: String) {
    order(id: $id) {
      lineItems(first: $first, after: $after) {
        edges { node { ${LINE_ITEM_FIELDS} } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }`;

interface LineItemsConnection {
  edges: { node: unknown }[];
  pageInfo?: { hasNextPage: boolean; endCursor: string | null };
}

// Unit costs (issue 17): an inventory_items/update or products/update delivery that never came
// leaves costs stale. With read_products and read_inventory granted, each sweep also pages
// through the inventory items updated in the same window (an item's updatedAt moves when its
// cost does) and writes their variants and unit costs through the cost write path
// (upsertCostsBatch: the webhooks' newer-wins history, exclusive import lock, recost of the
// orders whose cost in force changed).
const RECONCILE_COSTS_QUERY = `#graphql
  query TenureReconcileCosts($first: Int!, $after: String, $query: String!) {
    inventoryItems(first: $first, after: $after, query: $query) {
      edges { node { ${INVENTORY_ITEM_FIELDS} } }
      pageInfo { hasNextPage endCursor }
    }
  }`;

interface InventoryItemsPage {
  inventoryItems: {
    edges: { node: Record<string, unknown> }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

/** Orders indexed late or clocks slightly apart: each sweep re-reads this much of the previous one. */
export const SWEEP_OVERLAP_MS = 10 * 60_000;

export interface ReconcileDeps {
  db: PrismaClient;
  admin: AdminGraphql;
  /** The pg pool batches are written on (default pgPool(), on DATABASE_URL). */
  pool?: pg.Pool;
  /** Hands customers to the metrics queue; throws when it cannot (default enqueueCustomerMetrics). */
  enqueueMetrics?: (shop: string, customerIds: bigint[]) => Promise<void>;
  /** Orders per page (default and most RECONCILE_ORDERS_PER_PAGE, for Shopify's query cost limit; each page is one committed batch). */
  pageSize?: number;
  now?: () => Date;
}

export interface ReconcileReport {
  since: Date;
  pages: number;
  ordersSeen: number;
  ordersWritten: number;
  skipped: string[];
  /** Follow-up queries that read the lines of orders with more than RECONCILE_LINES_PER_ORDER. */
  linePages: number;
  /** Why the cost pass did not complete (Shopify refused it), or null: the orders' sweep is kept either way. */
  costsNotReconciled: string | null;
  /** Inventory items read back (0 without the cost scopes) and unit costs that were new to the history. */
  inventoryItemsSeen: number;
  costsWritten: number;
  /** Customers whose rows the sweep changed (their metrics were enqueued). */
  customerIds: bigint[];
  /** Customers enqueued for metrics: the changed ones, or every one seen on a retry. */
  metricsEnqueued: number;
}

interface OrdersPage {
  orders: {
    edges: { node: Record<string, unknown> & { lineItems?: LineItemsConnection } }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

/** Where a shop's next sweep starts: its last sweep, else the start of its latest import, else its install. */
async function sweepStart(db: PrismaClient, shop: string, now: Date): Promise<Date> {
  const row = await db.shop.findUnique({ where: { domain: shop }, select: { reconciledAt: true, installedAt: true } });
  if (row?.reconciledAt) return new Date(row.reconciledAt.getTime() - SWEEP_OVERLAP_MS);
  const backfill = await db.backfillRun.findFirst({ where: { shop, status: "COMPLETED" }, orderBy: { startedAt: "desc" } });
  const from = backfill?.startedAt ?? row?.installedAt ?? now;
  return new Date(from.getTime() - SWEEP_OVERLAP_MS);
}

export async function reconcileShop(deps: ReconcileDeps, shop: string, options: { resendSeen?: boolean } = {}): Promise<ReconcileReport> {
  const { db, admin } = deps;
  const now = deps.now?.() ?? new Date();
  const since = await sweepStart(db, shop, now);
  const search = `updated_at:>'${since.toISOString()}'`;
  const pageSize = deps.pageSize ?? RECONCILE_ORDERS_PER_PAGE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > RECONCILE_ORDERS_PER_PAGE) {
    throw new RangeError(`reconcile pageSize ${pageSize}: give 1 to ${RECONCILE_ORDERS_PER_PAGE} orders per page (more would exceed Shopify's single query cost limit)`);
  }
  const report: ReconcileReport = {
    since, pages: 0, ordersSeen: 0, ordersWritten: 0, skipped: [], linePages: 0, costsNotReconciled: null, inventoryItemsSeen: 0, costsWritten: 0, customerIds: [], metricsEnqueued: 0,
  };
  const customers = new Map<string, bigint>();
  const seen = new Map<string, bigint>();
  let after: string | null = null;
  for (;;) {
    const page: OrdersPage = await admin.request<OrdersPage>(shop, RECONCILE_QUERY, { first: pageSize, after, query: search });
    report.pages += 1;
    const bundles: OrderBundle[] = [];
    for (const { node } of page.orders.edges) {
      report.ordersSeen += 1;
      const lines = await orderLines(deps, shop, node, report);
      if (lines === null) continue;
      try {
        bundles.push(mapGraphqlOrder(node, lines));
      } catch (error) {
        if (!(error instanceof PayloadValidationError)) throw error;
        report.skipped.push(`${String(node.id)}: ${error.message}`);
      }
    }
    for (const { order } of bundles) if (order.customerId !== null) seen.set(order.customerId.toString(), order.customerId);
    if (bundles.length > 0) {
      const result = await pgTransaction(deps.pool ?? pgPool(), (tx) => upsertOrdersBatch(tx, shop, bundles));
      report.ordersWritten += result.ordersWritten;
      for (const id of result.customerIds) customers.set(id.toString(), id);
    }
    if (!page.orders.pageInfo.hasNextPage || !page.orders.pageInfo.endCursor) break;
    after = page.orders.pageInfo.endCursor;
  }
  const scopes = await admin.grantedScopes(shop);
  if (scopes.includes("read_products") && scopes.includes("read_inventory")) {
    // A refusal by Shopify here is reported, not thrown: failing the sweep would keep
    // reconciledAt where it is and the orders' window would grow at every sweep. The costs
    // written before the refusal stay (their customers are enqueued); the next sweep reads
    // the items updated since its own start, as the webhooks cover the rest.
    try {
      await reconcileCosts(deps, shop, search, report, customers);
    } catch (error) {
      if (!(error instanceof ShopifyAdminError)) throw error;
      report.costsNotReconciled = `unit costs not reconciled: ${error.message}`;
      console.warn(`[reconcile] ${shop}: ${report.costsNotReconciled}`);
    }
  }
  report.customerIds = [...customers.values()];
  const metricsFor = options.resendSeen ? [...new Map([...customers, ...seen]).values()] : report.customerIds;
  // Before the mark: if Redis refuses, the retry sweeps this window again.
  if (metricsFor.length > 0) await (deps.enqueueMetrics ?? enqueueCustomerMetrics)(shop, metricsFor);
  report.metricsEnqueued = metricsFor.length;
  // The mark is when this sweep began: anything updated during it is read again next time.
  await db.shop.upsert({ where: { domain: shop }, create: { domain: shop, reconciledAt: now }, update: { reconciledAt: now } });
  return report;
}

/**
 * All of an order's line items: those the page read, then the rest from its lineItems cursor.
 * Null when the order is gone by then (named in report.skipped: its lines cannot be complete).
 */
async function orderLines(deps: ReconcileDeps, shop: string, node: OrdersPage["orders"]["edges"][number]["node"], report: ReconcileReport): Promise<unknown[] | null> {
  const lines = (node.lineItems?.edges ?? []).map((edge) => edge.node);
  let info = node.lineItems?.pageInfo;
  while (info?.hasNextPage && info.endCursor) {
    const more: { order: { lineItems: LineItemsConnection } | null } = await deps.admin.request(shop, ORDER_LINES_QUERY, {
      id: node.id, first: RECONCILE_MORE_LINES_PER_PAGE, after: info.endCursor,
    });
    report.linePages += 1;
    if (!more.order) {
      report.skipped.push(`${String(node.id)}: gone while its line items were read`);
      return null;
    }
    lines.push(...more.order.lineItems.edges.map((edge) => edge.node));
    info = more.order.lineItems.pageInfo;
  }
  return lines;
}

/**
 * The cost pass of a sweep: adds the customers whose orders' cost changed to `customers` as
 * each page commits, so a ShopifyAdminError part-way still has them enqueued.
 */
async function reconcileCosts(deps: ReconcileDeps, shop: string, search: string, report: ReconcileReport, customers: Map<string, bigint>): Promise<void> {
  const pool = deps.pool ?? pgPool();
  // Shopify states unit costs in the shop's currency; a shop without a row reads as USD (as the webhook handler does).
  const currency = (await deps.db.shop.findUnique({ where: { domain: shop }, select: { currency: true } }))?.currency ?? "USD";
  let after: string | null = null;
  for (;;) {
    const page: InventoryItemsPage = await deps.admin.request<InventoryItemsPage>(shop, RECONCILE_COSTS_QUERY, { first: RECONCILE_ITEMS_PER_PAGE, after, query: search });
    report.pages += 1;
    const variants: VariantRow[] = [];
    const costs: UnitCostRow[] = [];
    for (const { node } of page.inventoryItems.edges) {
      report.inventoryItemsSeen += 1;
      try {
        const { variant, cost } = mapGraphqlInventoryItem(node, currency);
        if (variant) variants.push(variant);
        if (cost) costs.push(cost);
      } catch (error) {
        if (!(error instanceof PayloadValidationError)) throw error;
        report.skipped.push(`${String(node.id)}: ${error.message}`);
      }
    }
    if (variants.length > 0 || costs.length > 0) {
      const result = await pgTransaction(pool, (tx) => upsertCostsBatch(tx, shop, variants, costs));
      report.costsWritten += result.costsWritten;
      for (const id of result.affectedCustomerIds) customers.set(id.toString(), id);
    }
    if (!page.inventoryItems.pageInfo.hasNextPage || !page.inventoryItems.pageInfo.endCursor) break;
    after = page.inventoryItems.pageInfo.endCursor;
  }
}
