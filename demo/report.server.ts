import { type PrismaClient } from "@prisma/client";
import { ABANDONED_CHECKOUT_SQL } from "../app/data/checkouts.server";
import { countedOrdersParams, countedOrdersSql } from "../app/data/counted-orders.server";
import { loadMetricsSettings } from "../app/data/settings.server";
import { type Queryable } from "../app/db/pg.server";
import { readThroughOutages } from "./database-outages.server";
import { type ConsentSplit, type ExpectedIngest } from "./deliveries";

// What the database holds for the demo shop after seeding, read back from the rows the
// ingest wrote (never from the generator), and compared with what the generator expects.

export interface IngestSnapshot {
  /** WebhookDelivery rows by status. */
  stored: number;
  pending: number;
  processed: number;
  failed: number;
  customers: number;
  orders: number;
  testOrders: number;
  guestOrders: number;
  cancelledOrders: number;
  refunds: number;
  /** Customers with at least one counted order (Customer.ordersCount >= 1). */
  buyers: number;
  repeatBuyers: number;
  /** Sum of Order.netMinor, total sales, over every order (guest orders in; test orders count 0): what the generator's totals are checked against. */
  netRevenueMinor: number;
  /** Orders with their parts whose gross - discounts - returns + tax + shipping + duties is not their current total (docs/analytics/revenue.md): 0 when the generated parts add up. */
  ordersWithPartsOff: number;
  /** Customers by stored marketing consent (Customer.emailConsentState, smsConsentState). */
  consent: ConsentSplit;
  /** When each abandoned checkout started (ms; ABANDONED_CHECKOUT_SQL: not completed, no order from it, no order since). */
  abandonedCheckoutStarts: number[];
}

/** Prisma as the pg Queryable the app's data functions take (the demo holds a Prisma client only). */
function asQueryable(db: PrismaClient): Queryable {
  const query = async (text: string, values?: unknown[]) => ({ rows: await db.$queryRawUnsafe<unknown[]>(text, ...(values ?? [])) });
  return { query } as unknown as Queryable;
}

/**
 * What the app counts for the shop, through its one definition of counted orders
 * (countedOrdersSql under the shop's settings: no test or guest orders, none excluded), on
 * both revenue bases. For the final report only: two reads of every order, too much to poll.
 */
export async function readCountedRevenue(db: PrismaClient, shop: string): Promise<{ orders: number; netSalesMinor: number; totalSalesMinor: number }> {
  const pg = asQueryable(db);
  const settings = await loadMetricsSettings(pg, shop);
  const sums = async (revenueBasis: "net_sales" | "total_sales") => {
    const result = await pg.query<{ orders: bigint; revenue: bigint | null }>(
      `SELECT count(*) AS orders, sum(c.net) AS revenue FROM (${countedOrdersSql({ ...settings, revenueBasis })}) AS c`,
      countedOrdersParams(shop, { ...settings, revenueBasis }),
    );
    return { orders: int(result.rows[0]?.orders ?? 0), revenue: int(result.rows[0]?.revenue ?? 0) };
  };
  const [net, total] = [await sums("net_sales"), await sums("total_sales")];
  return { orders: net.orders, netSalesMinor: net.revenue, totalSalesMinor: total.revenue };
}

const int = (value: bigint | number | null) => Number(value ?? 0);

export async function readIngest(db: PrismaClient, shop: string): Promise<IngestSnapshot> {
  const [deliveries] = await db.$queryRaw<{ stored: bigint; pending: bigint; processed: bigint; failed: bigint }[]>`
    SELECT count(*) AS stored,
           count(*) FILTER (WHERE status = 'PENDING') AS pending,
           count(*) FILTER (WHERE status = 'PROCESSED') AS processed,
           count(*) FILTER (WHERE status = 'FAILED') AS failed
    FROM "WebhookDelivery" WHERE shop = ${shop}`;
  const [orders] = await db.$queryRaw<{ orders: bigint; test: bigint; guest: bigint; cancelled: bigint; net: bigint | null; parts_off: bigint }[]>`
    SELECT count(*) AS orders,
           count(*) FILTER (WHERE test) AS test,
           count(*) FILTER (WHERE "customerId" IS NULL) AS guest,
           count(*) FILTER (WHERE "cancelledAt" IS NOT NULL) AS cancelled,
           sum("netMinor") AS net,
           count(*) FILTER (WHERE "grossSalesMinor" IS NOT NULL AND "grossSalesMinor" - "discountsMinor" - "returnsMinor"
                                  + "taxMinor" + "shippingMinor" + "dutiesMinor" <> "currentTotalMinor") AS parts_off
    FROM "Order" WHERE shop = ${shop}`;
  const [customers] = await db.$queryRaw<
    { customers: bigint; buyers: bigint; repeat: bigint; subscribed: bigint; pending: bigint; unsubscribed: bigint; not_subscribed: bigint; no_email_consent: bigint; sms: bigint }[]
  >`
    SELECT count(*) AS customers,
           count(*) FILTER (WHERE "ordersCount" >= 1) AS buyers,
           count(*) FILTER (WHERE "ordersCount" >= 2) AS repeat,
           count(*) FILTER (WHERE "emailConsentState" = 'SUBSCRIBED') AS subscribed,
           count(*) FILTER (WHERE "emailConsentState" = 'PENDING') AS pending,
           count(*) FILTER (WHERE "emailConsentState" = 'UNSUBSCRIBED') AS unsubscribed,
           count(*) FILTER (WHERE "emailConsentState" = 'NOT_SUBSCRIBED') AS not_subscribed,
           count(*) FILTER (WHERE "emailConsentState" IS NULL) AS no_email_consent,
           count(*) FILTER (WHERE "smsConsentState" = 'SUBSCRIBED') AS sms
    FROM "Customer" WHERE shop = ${shop}`;
  const refunds = await db.refund.count({ where: { shop } });
  const abandoned = await db.$queryRawUnsafe<{ started: Date }[]>(
    `SELECT c."shopifyCreatedAt" AS started FROM "Checkout" AS c WHERE c.shop = $1 AND ${ABANDONED_CHECKOUT_SQL}`,
    shop,
  );
  return {
    abandonedCheckoutStarts: abandoned.map((row) => row.started.getTime()),
    stored: int(deliveries.stored),
    pending: int(deliveries.pending),
    processed: int(deliveries.processed),
    failed: int(deliveries.failed),
    customers: int(customers.customers),
    orders: int(orders.orders),
    testOrders: int(orders.test),
    guestOrders: int(orders.guest),
    cancelledOrders: int(orders.cancelled),
    refunds,
    buyers: int(customers.buyers),
    repeatBuyers: int(customers.repeat),
    netRevenueMinor: int(orders.net),
    ordersWithPartsOff: int(orders.parts_off),
    consent: {
      emailSubscribed: int(customers.subscribed),
      emailPending: int(customers.pending),
      emailUnsubscribed: int(customers.unsubscribed),
      emailNotSubscribed: int(customers.not_subscribed),
      emailNone: int(customers.no_email_consent),
      smsSubscribed: int(customers.sms),
    },
  };
}

/** "52.1% subscribed to email (1,803), 2.3% pending, 6.9% unsubscribed, 38.7% never asked; 6.1% to SMS" */
export function formatConsentSplit(split: ConsentSplit, customers: number): string {
  const share = (n: number) => `${((n / Math.max(1, customers)) * 100).toFixed(1)}%`;
  return (
    `${share(split.emailSubscribed)} subscribed to email (${formatCount(split.emailSubscribed)}), ${share(split.emailPending)} pending, ` +
    `${share(split.emailUnsubscribed)} unsubscribed, ${share(split.emailNotSubscribed)} never asked` +
    (split.emailNone > 0 ? `, ${share(split.emailNone)} no consent stored` : "") +
    `; ${share(split.smsSubscribed)} subscribed to SMS`
  );
}

/**
 * A digest of the shop's orders, customers (with their summaries) and refunds: equal
 * digests mean equal rows, so two runs can be compared at a glance. Bookkeeping columns
 * (summaryAt, delivery timestamps) are left out.
 */
export async function rowsFingerprint(db: PrismaClient, shop: string): Promise<string> {
  const [row] = await db.$queryRaw<{ digest: string | null }[]>`
    SELECT md5(
      coalesce((SELECT string_agg(concat_ws('|', id, "customerId", "processedAt", "shopifyUpdatedAt", "currentTotalMinor",
                                            "netMinor", test, "cancelledAt", "financialStatus", "sourceName",
                                            array_to_string("discountCodes", ','), "lineItemCount"), ';' ORDER BY id)
                FROM "Order" WHERE shop = ${shop}), '') || '#' ||
      coalesce((SELECT string_agg(concat_ws('|', id, email, "shopifyUpdatedAt", "ordersCount", "netSpentMinor",
                                            "firstOrderAt", "lastOrderAt", array_to_string(tags, ','),
                                            "emailConsentState", "emailOptInLevel", "emailConsentUpdatedAt",
                                            "smsConsentState", "smsOptInLevel", "smsConsentUpdatedAt"), ';' ORDER BY id)
                FROM "Customer" WHERE shop = ${shop}), '') || '#' ||
      coalesce((SELECT string_agg(concat_ws('|', id, "orderId", "createdAt", "amountMinor"), ';' ORDER BY id)
                FROM "Refund" WHERE shop = ${shop}), '')
    ) AS digest`;
  return row?.digest ?? "";
}

export interface WaitOptions {
  timeoutMs?: number;
  pollMs?: number;
  onProgress?: (snapshot: IngestSnapshot) => void;
  /** Told once when the database goes away and once when it is back; the wait goes on meanwhile. */
  onDatabaseOutage?: (line: string) => void;
  signal?: AbortSignal;
}

/**
 * Polls until every expected delivery is stored and none is PENDING (or time runs out).
 * A database that is down or restarting meanwhile is waited for (readThroughOutages).
 */
export async function waitForIngest(db: PrismaClient, shop: string, expectedDeliveries: number, options: WaitOptions = {}): Promise<{ snapshot: IngestSnapshot; complete: boolean }> {
  const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
  for (;;) {
    const snapshot = await readThroughOutages(() => readIngest(db, shop), { deadline, signal: options.signal, onOutage: options.onDatabaseOutage });
    options.onProgress?.(snapshot);
    const complete = snapshot.stored >= expectedDeliveries && snapshot.pending === 0;
    if (complete || Date.now() >= deadline || options.signal?.aborted) return { snapshot, complete };
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1_000));
  }
}

export interface Check {
  label: string;
  expected: number;
  actual: number;
  ok: boolean;
}

/** Row counts and money the database should agree on with the generator. */
export function checkAgainstExpected(snapshot: IngestSnapshot, expected: ExpectedIngest): Check[] {
  const check = (label: string, want: number, got: number): Check => ({ label, expected: want, actual: got, ok: want === got });
  return [
    check("delivery rows", expected.deliveries, snapshot.stored),
    check("processed", expected.deliveries, snapshot.processed),
    check("failed", 0, snapshot.failed),
    check("customers", expected.customers, snapshot.customers),
    check("orders", expected.orders, snapshot.orders),
    check("test orders", expected.testOrders, snapshot.testOrders),
    check("guest orders", expected.guestOrders, snapshot.guestOrders),
    check("cancelled orders", expected.cancelledOrders, snapshot.cancelledOrders),
    check("refunds", expected.refunds, snapshot.refunds),
    check("buyers", expected.buyers, snapshot.buyers),
    check("repeat buyers", expected.repeatBuyers, snapshot.repeatBuyers),
    check("total sales of every order (cents)", expected.netRevenueMinor, snapshot.netRevenueMinor),
    check("orders whose parts do not add up to their total", 0, snapshot.ordersWithPartsOff),
    check("customers subscribed to email", expected.consent.emailSubscribed, snapshot.consent.emailSubscribed),
    check("customers pending email confirmation", expected.consent.emailPending, snapshot.consent.emailPending),
    check("customers unsubscribed from email", expected.consent.emailUnsubscribed, snapshot.consent.emailUnsubscribed),
    check("customers never asked for email consent", expected.consent.emailNotSubscribed, snapshot.consent.emailNotSubscribed),
    check("customers subscribed to SMS", expected.consent.smsSubscribed, snapshot.consent.smsSubscribed),
    check(
      "checkouts abandoned in the last 30 days (not completed, no order since)",
      expected.recentAbandonedCheckouts,
      snapshot.abandonedCheckoutStarts.filter((started) => started >= expected.abandonedSince).length,
    ),
  ];
}

export function formatMoney(minor: number, currency = "USD"): string {
  return new Intl.NumberFormat("en-US", { style: "currency", currency }).format(minor / 100);
}

export function formatCount(n: number): string {
  return new Intl.NumberFormat("en-US").format(n);
}
