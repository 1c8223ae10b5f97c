import { type Prisma } from "@prisma/client";
import { recomputeCustomerSummaries } from "./summary.server";
import { type Db, type Tx, withTransaction } from "~/db/tx.server";
import { distinctIds, lockCustomers, lockOrders, lockShopExclusive } from "./locks.server";
import { addTombstones, ordersOfCustomer } from "./upsert.server";
import { addEmailTombstones } from "./upsert-checkout.server";
import { dropAbandonedTablesIn } from "~/data/customer-metrics-tables.server";
import { countCustomerDeletion, deleteShopDestinations, forgetCustomerDeletions, recordDestinationErasures } from "~/data/destinations.server";
import { eraseFlowCustomer } from "~/data/flow-triggers.server";
import { recordShopRedaction } from "~/data/shop-admission.server";
import { deleteShopFitIn } from "~/data/shop-fit.server";

// Mandatory compliance topics. Redaction really deletes: rows go, delivery payloads are
// emptied, and only tombstones (ids, no personal data) remain so that a late or retried
// delivery cannot bring the data back.

export const SCRUBBED_NOTE = "payload removed: it concerned a redacted or deleted customer or order";

export interface RedactCustomerRequest {
  customerId: bigint;
  email: string | null;
  phone: string | null;
  orderIds: bigint[];
  /** The redaction delivery itself: the processor empties it after this returns. */
  deliveryId?: bigint;
}

export interface RedactionReport {
  orders: number;
  refunds: number;
  customers: number;
  deliveriesScrubbed: number;
  dataRequests: number;
  /** Destinations (email tools) asked to erase the customer: their deletion is requested after commit. */
  erasureDestinations: string[];
}

/** customers/redact: deletes the customer, their orders and refunds, and every payload about them. */
export async function redactCustomer(db: Db, shop: string, request: RedactCustomerRequest): Promise<RedactionReport> {
  return withTransaction(db, async (tx) => {
    const { customerId, email } = request;
    const orderIds = distinctIds([...(await ordersOfCustomer(tx, shop, customerId)), ...request.orderIds]);
    await lockOrders(tx, shop, orderIds);
    // Orders listed for redaction may belong to someone else: their summaries change too.
    const owners = await tx.$queryRaw<{ customerId: bigint }[]>`
      SELECT DISTINCT "customerId" FROM "Order"
      WHERE shop = ${shop} AND id = ANY(${orderIds}::bigint[]) AND "customerId" IS NOT NULL`;
    const otherCustomers = distinctIds(owners.map((row) => row.customerId)).filter((id) => id !== customerId);
    await lockCustomers(tx, shop, [customerId, ...otherCustomers]);

    // Orders attributed to the customer after the first read (none can be written now that
    // their lock is ours) are deleted too.
    const allOrderIds = distinctIds([...orderIds, ...(await ordersOfCustomer(tx, shop, customerId))]);
    const refunds = await tx.$executeRaw`
      DELETE FROM "Refund" WHERE shop = ${shop} AND "orderId" = ANY(${allOrderIds}::bigint[])`;
    const orders = await tx.$executeRaw`
      DELETE FROM "Order" WHERE shop = ${shop} AND id = ANY(${allOrderIds}::bigint[])`;
    await tx.$executeRaw`DELETE FROM "OrderLine" WHERE shop = ${shop} AND "orderId" = ANY(${allOrderIds}::bigint[])`;
    // The stored email (the customer's row is locked): their guest checkouts are found by it too,
    // and the email tools' erasures need it after the row is gone.
    const stored = await tx.$queryRaw<{ email: string | null }[]>`
      SELECT email FROM "Customer" WHERE shop = ${shop} AND id = ${customerId}::bigint`;
    // Addresses are case-insensitive in practice (Shopify keeps what the buyer typed).
    const emails = [...new Set([email, stored[0]?.email].filter((e): e is string => !!e && e.trim() !== "").map((e) => e.trim().toLowerCase()))];
    // Their checkouts (cart abandoners), guest ones under either address too, and their orders' checkout references.
    await tx.$executeRaw`
      DELETE FROM "Checkout"
      WHERE shop = ${shop} AND ("customerId" = ${customerId}::bigint OR lower(trim(email)) = ANY(${emails}::text[]))`;
    await tx.$executeRaw`DELETE FROM "OrderCheckout" WHERE shop = ${shop} AND "orderId" = ANY(${allOrderIds}::bigint[])`;
    const customers = await tx.$executeRaw`
      DELETE FROM "Customer" WHERE shop = ${shop} AND id = ${customerId}::bigint`;
    // After the customer row: a live metrics recompute holding it (KEY SHARE) has committed
    // its row by now, and a later one finds the customer gone.
    await tx.$executeRaw`DELETE FROM "CustomerMetrics" WHERE shop = ${shop} AND "customerId" = ${customerId}::bigint`;
    await tx.$executeRaw`DELETE FROM "SegmentTransition" WHERE shop = ${shop} AND "customerId" = ${customerId}::bigint`;
    // Every email tool of the shop gets an erasure request (after the customer row: it takes
    // the shop's member lock, so a sync pass writing them has committed its member rows, or
    // finds the customer gone: ADR 0022).
    const erasureDestinations = await recordDestinationErasures(tx, shop, customerId, stored[0]?.email ?? email ?? null);
    // Counted: a pass's commit then probes whether its customers still exist (ADR 0022).
    await countCustomerDeletion(tx, shop);
    // What Shopify Flow was told about them and their trigger events not yet sent (Flow keeps nothing of Tenure's to erase).
    await eraseFlowCustomer(tx, shop, customerId);
    await addTombstones(tx, shop, "order", allOrderIds);
    await addTombstones(tx, shop, "customer", [customerId]);
    // A guest checkout under their address arriving later is not stored (upsertCheckout).
    await addEmailTombstones(tx, shop, emails);
    await recomputeCustomerSummaries(tx, shop, otherCustomers);

    const dataRequests = await tx.$executeRaw`
      DELETE FROM "DataRequest"
      WHERE shop = ${shop} AND ("customerId" = ${customerId}::bigint OR (${email}::text IS NOT NULL AND email = ${email}::text))`;
    const deliveriesScrubbed = await scrubDeliveries(tx, shop, request, allOrderIds, emails);
    return { orders, refunds, customers, deliveriesScrubbed, dataRequests, erasureDestinations };
  });
}

/**
 * Empties every stored delivery about the customer: by the customer id recorded at
 * ingest, and by JSON path for deliveries not yet processed (or processed without one).
 * Rows stay (payload-less) so Shopify's retries of them are still recognised as
 * duplicates. Rows locked by an in-flight delivery are skipped: that delivery finds
 * the tombstones when it gets its locks and empties itself. `emails` (lower-cased: the
 * request's and the stored one) match any case, as a guest checkout's address may differ.
 */
async function scrubDeliveries(tx: Tx, shop: string, request: RedactCustomerRequest, orderIds: bigint[], emails: string[]): Promise<number> {
  const customerText = request.customerId.toString();
  const orderTexts = orderIds.map(String);
  const phone = request.phone || null;
  return tx.$executeRaw`
    UPDATE "WebhookDelivery" AS d
    SET payload = NULL, "rawBody" = NULL, "customerId" = NULL, error = ${SCRUBBED_NOTE},
        status = CASE WHEN d.status = 'PENDING' THEN 'PROCESSED'::"DeliveryStatus" ELSE d.status END,
        "processedAt" = COALESCE(d."processedAt", now() AT TIME ZONE 'UTC')
    WHERE d.id IN (
      SELECT w.id FROM "WebhookDelivery" AS w
      WHERE w.shop = ${shop}
        AND w.id <> ${request.deliveryId ?? -1n}::bigint
        AND (w.payload IS NOT NULL OR w."rawBody" IS NOT NULL)
        AND (
          w."customerId" = ${request.customerId}::bigint
          OR w.payload -> 'customer' ->> 'id' = ${customerText}
          OR (w.topic ILIKE 'customers%' AND w.payload ->> 'id' = ${customerText})
          -- customers_email_marketing_consent/update names the customer customer_id, the address email_address.
          OR (w.topic ILIKE 'customers%' AND w.payload ->> 'customer_id' = ${customerText})
          OR (w.topic ILIKE 'orders%' AND w.payload ->> 'id' = ANY(${orderTexts}::text[]))
          OR (w.topic ILIKE 'refunds%' AND w.payload ->> 'order_id' = ANY(${orderTexts}::text[]))
          OR lower(w.payload ->> 'email') = ANY(${emails}::text[])
          OR lower(w.payload ->> 'contact_email') = ANY(${emails}::text[])
          OR lower(w.payload -> 'customer' ->> 'email') = ANY(${emails}::text[])
          OR lower(w.payload ->> 'email_address') = ANY(${emails}::text[])
          OR (${phone}::text IS NOT NULL AND (w.payload ->> 'phone' = ${phone}::text
              OR w.payload -> 'customer' ->> 'phone' = ${phone}::text))
          OR (w."rawBody" IS NOT NULL AND (strpos(w."rawBody", ${customerText}) > 0
              OR EXISTS (SELECT 1 FROM unnest(${emails}::text[]) AS e WHERE strpos(lower(w."rawBody"), e) > 0)))
        )
      FOR UPDATE SKIP LOCKED
    )`;
}

/** shop/redact (48 hours after uninstall): every row the shop has, gone. */
export async function redactShop(db: Db, shop: string): Promise<Record<string, number>> {
  return withTransaction(db, async (tx) => {
    const counts: Record<string, number> = {};
    // Deliveries first: this waits for any in-flight delivery of the shop to commit, before
    // we hold locks on the rows it may be writing (no deadlock), and then removes its effects.
    counts.deliveries = await tx.$executeRaw`DELETE FROM "WebhookDelivery" WHERE shop = ${shop}`;
    // Then the shop's import lock (after the deliveries, whose processors take it after their
    // row): an import batch in flight commits first, and deleting its run makes the next
    // batch's offset check fail, so no import writes the shop's rows back.
    await lockShopExclusive(tx, shop);
    counts.backfillRuns = await tx.$executeRaw`DELETE FROM "BackfillRun" WHERE shop = ${shop}`;
    counts.refunds = await tx.$executeRaw`DELETE FROM "Refund" WHERE shop = ${shop}`;
    counts.orders = await tx.$executeRaw`DELETE FROM "Order" WHERE shop = ${shop}`;
    // Product costs (issue 17): the orders' lines, the variant map and the cost history.
    counts.orderLines = await tx.$executeRaw`DELETE FROM "OrderLine" WHERE shop = ${shop}`;
    counts.productVariants = await tx.$executeRaw`DELETE FROM "ProductVariant" WHERE shop = ${shop}`;
    counts.inventoryItemCosts = await tx.$executeRaw`DELETE FROM "InventoryItemCost" WHERE shop = ${shop}`;
    counts.checkouts = await tx.$executeRaw`DELETE FROM "Checkout" WHERE shop = ${shop}`;
    counts.orderCheckouts = await tx.$executeRaw`DELETE FROM "OrderCheckout" WHERE shop = ${shop}`;
    counts.customers = await tx.$executeRaw`DELETE FROM "Customer" WHERE shop = ${shop}`;
    // Metrics after customers (see redactCustomer), then the shop's fit and aggregates.
    counts.customerMetrics = await tx.$executeRaw`DELETE FROM "CustomerMetrics" WHERE shop = ${shop}`;
    counts.segmentTransitions = await tx.$executeRaw`DELETE FROM "SegmentTransition" WHERE shop = ${shop}`;
    counts.segmentDailyCounts = await tx.$executeRaw`DELETE FROM "SegmentDailyCount" WHERE shop = ${shop}`;
    counts.shopAggregates = await tx.$executeRaw`DELETE FROM "ShopAggregate" WHERE shop = ${shop}`;
    counts.shopFits = await deleteShopFitIn(tx, shop);
    counts.shopSettings = await tx.$executeRaw`DELETE FROM "ShopSettings" WHERE shop = ${shop}`;
    counts.tombstones = await tx.$executeRaw`DELETE FROM "Tombstone" WHERE shop = ${shop}`;
    counts.dataRequests = await tx.$executeRaw`DELETE FROM "DataRequest" WHERE shop = ${shop}`;
    counts.droppedDeliveryCounts = await tx.$executeRaw`DELETE FROM "DroppedDelivery" WHERE shop = ${shop}`;
    counts.sessions = await tx.$executeRaw`DELETE FROM "Session" WHERE shop = ${shop}`;
    // Email tools: keys, members, outbox and pending erasures (uninstall deleted them already, normally).
    counts.destinations = await deleteShopDestinations(tx, shop);
    await forgetCustomerDeletions(tx, shop);
    // Shopify Flow's lifecycle state and the metafield definitions' last check (issue 15).
    counts.flowTriggers = await tx.$executeRaw`DELETE FROM "FlowTriggerLifecycle" WHERE shop = ${shop}`;
    counts.metafieldDefinitions = await tx.$executeRaw`DELETE FROM "ShopMetafieldDefinitions" WHERE shop = ${shop}`;
    counts.shopifySegments = await tx.$executeRaw`DELETE FROM "ShopifySegment" WHERE shop = ${shop}`;
    counts.shops = await tx.$executeRaw`DELETE FROM "Shop" WHERE domain = ${shop}`;
    // A refit killed before its partition swap leaves a table of the shop's metrics that
    // no DELETE above reaches.
    counts.abandonedRefitTables = (await dropAbandonedTablesIn(tx, shop)).length;
    // The one row that outlives the redaction: with the deliveries and tombstones gone, it
    // is what makes a retried delivery a drop instead of the shop's data coming back
    // (ADR 0013). No personal data; a reinstall removes it.
    await recordShopRedaction(tx, shop);
    return counts;
  });
}

type JsonObject = { [key: string]: Prisma.InputJsonValue | null };

/** BigInt and Date made JSON-safe (ids as strings, times as ISO 8601). */
function jsonSafe(row: Record<string, unknown>): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(row)) {
    if (typeof value === "bigint") out[key] = value.toString();
    else if (value instanceof Date) out[key] = value.toISOString();
    else out[key] = (value ?? null) as Prisma.InputJsonValue | null;
  }
  return out;
}

/** Everything Tenure stores about one customer of one shop. */
export async function exportCustomerData(tx: Tx, shop: string, customerId: bigint): Promise<JsonObject> {
  const customer = await tx.customer.findUnique({ where: { shop_id: { shop, id: customerId } } });
  const orders = await tx.order.findMany({ where: { shop, customerId }, orderBy: { processedAt: "asc" } });
  const refunds = await tx.refund.findMany({
    where: { shop, orderId: { in: orders.map((order) => order.id) } },
    orderBy: { createdAt: "asc" },
  });
  const checkouts = await tx.checkout.findMany({ where: { shop, customerId }, orderBy: { shopifyCreatedAt: "asc" } });
  const deliveries = await tx.webhookDelivery.findMany({
    where: { shop, customerId },
    select: { id: true, topic: true, webhookId: true, receivedAt: true, status: true, payload: true },
    orderBy: { id: "asc" },
  });
  return {
    shop,
    customerId: customerId.toString(),
    customer: customer ? jsonSafe(customer) : null,
    orders: orders.map(jsonSafe),
    refunds: refunds.map(jsonSafe),
    checkouts: checkouts.map(jsonSafe),
    webhookDeliveries: deliveries.map(jsonSafe),
  };
}

export interface DataRequestInput {
  customerId: bigint;
  email: string | null;
  dataRequestId: string | null;
  requestedAt: Date;
}

/** customers/data_request: records the request with the export the merchant must provide. */
export async function recordDataRequest(
  db: Db,
  shop: string,
  input: DataRequestInput,
): Promise<{ id: bigint; redacted: boolean }> {
  return withTransaction(db, async (tx) => {
    await lockCustomers(tx, shop, [input.customerId]);
    const redacted = await tx.tombstone.findUnique({
      where: { shop_resource_id: { shop, resource: "customer", id: input.customerId } },
    });
    const exported = redacted
      ? { shop, customerId: input.customerId.toString(), customer: null, note: "the customer was deleted or redacted: nothing is stored" }
      : await exportCustomerData(tx, shop, input.customerId);
    const row = await tx.dataRequest.create({
      data: {
        shop,
        customerId: input.customerId,
        email: redacted ? null : input.email,
        dataRequestId: input.dataRequestId,
        requestedAt: input.requestedAt,
        export: { ...exported, generatedAt: new Date().toISOString() },
      },
    });
    return { id: row.id, redacted: redacted !== null };
  });
}
