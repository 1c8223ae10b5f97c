import { Prisma } from "@prisma/client";
import { type CustomerRow, type MarketingConsent, type OrderBundle, type OrderRow, compareConsent, foreignCurrencyProblem } from "./mappers";
import { shopCurrency } from "./shop-currency.server";
import { NET_SALES_REFUND_RETURNS, recomputeCustomerSummaries, recomputeOrderNets } from "./summary.server";
import { type RawTx } from "~/db/pg.server";
import { distinctIds, lockShopExclusive } from "./locks.server";
import { applyLaterRefunds, orderLineCostsSql, recostAffected, recostOrders, refundLineUnitsJson, replaceOrderLines, writeUnitCosts, writeVariants } from "./costs.server";
import { sourceForShop } from "./marketing-source";
import { shopHosts } from "./shop-hosts.server";
import { CUSTOMER_NEWER_WINS, ORDER_NEWER_WINS, PLACEHOLDER_UPDATED_AT, REFUND_PARTS_FILL, adoptJourneySources } from "./upsert.server";

// The batched form of upsertOrder, for the bulk backfill and reconciliation: the same
// rules (newer-or-different wins, tombstones honoured, net and summaries recomputed from
// source rows) in a fixed number of set-based statements per batch instead of several per
// order. Rows travel as one array parameter per column, read with unnest. The result is the
// rows upsertOrder would leave after applying the batch's bundles one by one (a test
// checks it on the same data). The caller supplies the transaction.
//
// A batch holds the shop's import lock exclusively (tx.server.ts) instead of one advisory
// lock per order and customer: deliveries of the shop wait for it to commit, and it waits
// for theirs, so its set-based reads (tombstones, refunds for nets) see every committed
// write, as upsertOrder's do under its row locks.

export interface BatchOptions {
  /**
   * "now" (default): recompute the summaries of the customers the batch changed, in its
   * transaction. "deferred": leave them to one set-based pass at the end of a bulk import
   * (recomputeShopCustomerSummaries), which rewrites each customer once instead of per batch.
   */
  summaries?: "now" | "deferred";
  /**
   * Customers the caller knows have a row in the shop (a bulk import's committed batches
   * wrote them): no placeholder insert is tried for them. Each try is an index probe that
   * finds the row, and an export repeats a customer on every order.
   */
  knownCustomers?: ReadonlySet<bigint>;
}

export interface BatchResult {
  /** Orders inserted or updated. */
  ordersWritten: number;
  /**
   * Customers whose orders (either end of a moved order, an order's net) or profile the
   * batch changed: whose metrics need recomputing once it commits. Empty when summaries are
   * deferred: the import's end recomputes every summary and rescores the whole shop.
   */
  customerIds: bigint[];
  /** Orders left out whole, with the reason: amounts not in the shop's currency (foreignCurrencyProblem). */
  refused: string[];
}

const iso = (date: Date | null) => (date ? date.toISOString() : null);
// Orders' and customers' times travel as epoch milliseconds: PostgreSQL reads a bigint[]
// and adds it to the epoch faster than it parses ISO text, four times per order (ADR 0009).
const ms = (date: Date | null) => (date ? date.getTime() : null);
const fromMs = (alias: string, column: string) => Prisma.raw(`(timestamp 'epoch' + ${alias}."${column}" * interval '1 millisecond')`);
const text = (id: bigint | null) => (id === null ? null : id.toString());
const part = (minor: bigint | undefined) => (minor === undefined ? null : minor.toString());

/** A PostgreSQL text[] literal ('{"a","b"}'), for an array-valued column passed inside an array parameter. */
function arrayLiteral(values: string[]): string {
  if (values.length === 0) return "{}";
  return `{${values.map((value) => `"${value.replace(/[\\"]/g, "\\$&")}"`).join(",")}}`;
}

/** Latest per key; for equal updated_at the later one, as applying them in order would leave. */
function latestBy<T>(rows: T[], key: (row: T) => bigint, updatedAt: (row: T) => Date): T[] {
  const byKey = new Map<bigint, T>();
  for (const row of rows) {
    const current = byKey.get(key(row));
    if (!current || updatedAt(row).getTime() >= updatedAt(current).getTime()) byKey.set(key(row), row);
  }
  return [...byKey.values()];
}

/**
 * The latest profiles, each with the standing consent per channel among every copy of that
 * customer in the batch (compareConsent): what writing the copies one by one would leave,
 * since consent has its own clock and an older copy's consent can outrank a newer copy's.
 */
function withStandingConsent(latest: CustomerRow[], copies: CustomerRow[]): CustomerRow[] {
  const standing = new Map<bigint, { email: MarketingConsent | null; sms: MarketingConsent | null }>();
  for (const copy of copies) {
    const best = standing.get(copy.id);
    if (!best) {
      standing.set(copy.id, { email: copy.emailConsent, sms: copy.smsConsent });
      continue;
    }
    if (compareConsent(copy.emailConsent, best.email) > 0) best.email = copy.emailConsent;
    if (compareConsent(copy.smsConsent, best.sms) > 0) best.sms = copy.smsConsent;
  }
  return latest.map((profile) => {
    const best = standing.get(profile.id)!;
    return { ...profile, emailConsent: best.email, smsConsent: best.sms };
  });
}

/**
 * Inserts these orders (with `conflictRule`, the newer-wins upsert for stored ones) from one
 * array per column, read with unnest: PostgreSQL decodes typed arrays several times faster
 * than JSON records, and orders are most of a backfill's rows. Array-valued columns travel
 * as array literals, one per row; ids and times as text (pg and Prisma both send a text
 * array, which the casts read). With `costs` (orderLineCostsSql over the orders whose bundle
 * carries lines, `lined`), a new row is inserted with the cost recostOrders would give it
 * once its lines are stored; a stored row's update leaves its cost to recostOrders.
 * Returns each written row's id, owner and whether it is new (`fresh`).
 */
function insertOrders(
  shop: string,
  orders: OrderRow[],
  options: { refunded: Set<bigint>; deletedCustomers: Set<bigint>; conflictRule: Prisma.Sql; hosts: readonly string[]; costs?: { sql: Prisma.Sql; lined: ReadonlySet<bigint> } },
): Prisma.Sql {
  const col = <T>(pick: (o: OrderRow) => T) => orders.map(pick);
  const columns = Prisma.sql`shop, id, name, "customerId", "processedAt", "shopifyCreatedAt", "shopifyUpdatedAt",
                                currency, "currentTotalMinor", "netMinor", test, "cancelledAt", "financialStatus",
                                "sourceName", "discountCodes", tags, "firstProductId", "firstProductTitle", "lineItemCount", "marketingSource",
                                "marketingSourceFromJourney", "grossSalesMinor", "discountsMinor", "returnsMinor", "taxMinor", "shippingMinor", "dutiesMinor", "netSalesMinor"`;
  const rows = Prisma.sql`
    SELECT ${shop} AS shop, x.id, x.name, x."customerId", ${fromMs("x", "processedAt")} AS "processedAt", ${fromMs("x", "shopifyCreatedAt")} AS "shopifyCreatedAt",
           ${fromMs("x", "shopifyUpdatedAt")} AS "shopifyUpdatedAt",
           x.currency, x."currentTotalMinor",
           CASE WHEN x.test THEN 0
                WHEN NOT x.refunded THEN GREATEST(0, x."currentTotalMinor")
                ELSE GREATEST(0, x."currentTotalMinor" - COALESCE((
                  SELECT sum(r."amountMinor") FROM "Refund" AS r
                  WHERE r.shop = ${shop} AND r."orderId" = x.id AND r."createdAt" > ${fromMs("x", "shopifyUpdatedAt")}), 0)) END AS "netMinor",
           x.test, ${fromMs("x", "cancelledAt")} AS "cancelledAt", x."financialStatus", x."sourceName", x."discountCodes"::text[] AS "discountCodes",
           x.tags::text[] AS tags, x."firstProductId", x."firstProductTitle", x."lineItemCount", x."marketingSource", x."marketingSourceFromJourney",
           x."grossSalesMinor", x."discountsMinor", x."returnsMinor", x."taxMinor", x."shippingMinor", x."dutiesMinor",
           -- Net sales as recomputeOrderNets computes it (summary.server.ts).
           CASE WHEN x."grossSalesMinor" IS NULL THEN NULL
                WHEN x.test OR x."cancelledAt" IS NOT NULL THEN 0
                WHEN NOT x.refunded THEN GREATEST(0, x."grossSalesMinor" - x."discountsMinor" - x."returnsMinor")
                ELSE GREATEST(0, x."grossSalesMinor" - x."discountsMinor" - x."returnsMinor" - COALESCE((
                  SELECT sum(${NET_SALES_REFUND_RETURNS}) FROM "Refund" AS r
                  WHERE r.shop = ${shop} AND r."orderId" = x.id AND r."createdAt" > ${fromMs("x", "shopifyUpdatedAt")}), 0)) END AS "netSalesMinor"
           ${options.costs ? Prisma.sql`, x.lined` : Prisma.empty}
    FROM unnest(${col((o) => o.id.toString())}::bigint[], ${col((o) => o.name)}::text[],
                ${col((o) => (o.customerId !== null && options.deletedCustomers.has(o.customerId) ? null : text(o.customerId)))}::bigint[],
                ${col((o) => ms(o.processedAt))}::bigint[], ${col((o) => ms(o.shopifyCreatedAt))}::bigint[],
                ${col((o) => ms(o.shopifyUpdatedAt))}::bigint[], ${col((o) => o.currency)}::text[],
                ${col((o) => o.currentTotalMinor.toString())}::bigint[], ${col((o) => o.test)}::boolean[],
                ${col((o) => ms(o.cancelledAt))}::bigint[], ${col((o) => o.financialStatus)}::text[],
                ${col((o) => o.sourceName)}::text[], ${col((o) => arrayLiteral(o.discountCodes))}::text[],
                ${col((o) => arrayLiteral(o.tags))}::text[], ${col((o) => text(o.firstProductId))}::bigint[],
                ${col((o) => o.firstProductTitle)}::text[], ${col((o) => o.lineItemCount)}::int[],
                ${col((o) => sourceForShop(o.marketingSource, shop, options.hosts))}::text[], ${col((o) => o.marketingSourceFromJourney)}::boolean[],
                ${col((o) => options.refunded.has(o.id))}::boolean[],
                ${col((o) => part(o.parts?.grossSalesMinor))}::bigint[], ${col((o) => part(o.parts?.discountsMinor))}::bigint[],
                ${col((o) => part(o.parts?.returnsMinor))}::bigint[], ${col((o) => part(o.parts?.taxMinor))}::bigint[],
                ${col((o) => part(o.parts?.shippingMinor))}::bigint[], ${col((o) => part(o.parts?.dutiesMinor))}::bigint[]
                ${options.costs ? Prisma.sql`, ${col((o) => options.costs!.lined.has(o.id))}::boolean[]` : Prisma.empty})
         AS x(id, name, "customerId", "processedAt", "shopifyCreatedAt", "shopifyUpdatedAt", currency,
              "currentTotalMinor", test, "cancelledAt", "financialStatus", "sourceName", "discountCodes", tags,
              "firstProductId", "firstProductTitle", "lineItemCount", "marketingSource", "marketingSourceFromJourney", refunded,
              "grossSalesMinor", "discountsMinor", "returnsMinor", "taxMinor", "shippingMinor", "dutiesMinor"
              ${options.costs ? Prisma.sql`, lined` : Prisma.empty})`;
  if (!options.costs) {
    return Prisma.sql`
    INSERT INTO "Order" AS cur (${columns})
    ${rows}
    ${options.conflictRule}
    RETURNING id, "customerId", (cur.xmax = 0) AS fresh`;
  }
  // The cost as recostOrders computes it (costs.server.ts recostSql): 0 for test and
  // cancelled orders, the costed net sales never above the order's net sales.
  return Prisma.sql`
    INSERT INTO "Order" AS cur (${columns}, "costOfGoodsMinor", "costedNetSalesMinor")
    SELECT y.shop, y.id, y.name, y."customerId", y."processedAt", y."shopifyCreatedAt", y."shopifyUpdatedAt",
           y.currency, y."currentTotalMinor", y."netMinor", y.test, y."cancelledAt", y."financialStatus",
           y."sourceName", y."discountCodes", y.tags, y."firstProductId", y."firstProductTitle", y."lineItemCount", y."marketingSource",
           y."marketingSourceFromJourney", y."grossSalesMinor", y."discountsMinor", y."returnsMinor", y."taxMinor", y."shippingMinor", y."dutiesMinor", y."netSalesMinor",
           CASE WHEN NOT y.lined THEN NULL WHEN y.test OR y."cancelledAt" IS NOT NULL THEN 0 ELSE COALESCE(c.cogs, 0) END::bigint,
           CASE WHEN NOT y.lined THEN NULL WHEN y.test OR y."cancelledAt" IS NOT NULL THEN 0
                ELSE LEAST(COALESCE(c.costed, 0), GREATEST(0, COALESCE(y."netSalesMinor", y."netMinor"))) END::bigint
    FROM (${rows}) AS y
    LEFT JOIN (${options.costs.sql}) AS c ON c."orderId" = y.id
    ${options.conflictRule}
    RETURNING id, "customerId", (cur.xmax = 0) AS fresh`;
}

/** The shop's own hosts are read here (a referral from them is direct, issue 17). */
type OrderWriteOptions = Omit<Parameters<typeof insertOrders>[2], "hosts">;

/** Writes the orders; the rows written (an older copy is not), with their owners. */
async function writeOrders(tx: RawTx, shop: string, orders: OrderRow[], options: OrderWriteOptions) {
  const hosts = await shopHosts(tx, shop);
  return tx.$queryRaw<{ id: bigint; customerId: bigint | null }[]>`${insertOrders(shop, orders, { ...options, hosts })}`;
}

/**
 * Writes the orders; how many were written, which of `among` were, and which were not
 * inserted new (`notFresh`: stored ones updated or left, usually none in an import). A
 * deferred batch needs no more: the rows themselves would be 5,000 rows back per batch, parsed for nothing.
 */
async function writeOrdersCounted(tx: RawTx, shop: string, orders: OrderRow[], options: OrderWriteOptions, among: bigint[]) {
  const hosts = await shopHosts(tx, shop);
  const [row] = await tx.$queryRaw<{ written: number; among: string[] | null; notFresh: string[] | null }[]>`
    WITH written AS (${insertOrders(shop, orders, { ...options, hosts })})
    SELECT (SELECT count(*)::int FROM written) AS written,
           (SELECT array_agg(id::text) FROM written WHERE id = ANY(${among}::bigint[])) AS among,
           (SELECT array_agg(x::text) FROM unnest(${orders.map((o) => o.id.toString())}::bigint[]) AS x
            WHERE x NOT IN (SELECT id FROM written WHERE fresh)) AS "notFresh"`;
  const notFresh = new Set((row.notFresh ?? []).map(BigInt));
  return { written: row.written, among: (row.among ?? []).map(BigInt), fresh: new Set(orders.map((o) => o.id).filter((id) => !notFresh.has(id))) };
}

/**
 * Orders with any refund stored (this batch's or earlier ones'): only their net needs the
 * refunds read back; the rest is the current total. One index scan instead of a subquery per order.
 */
async function ordersWithRefunds(tx: RawTx, shop: string, orders: OrderRow[]): Promise<Set<bigint>> {
  const rows = await tx.$queryRaw<{ orderId: bigint }[]>`
    SELECT DISTINCT "orderId" FROM "Refund" WHERE shop = ${shop} AND "orderId" = ANY(${orders.map((o) => o.id)}::bigint[])`;
  return new Set(rows.map((row) => row.orderId));
}

/** The orders (latest versions) whose bundle carries lines, with them. */
function ordersWithLines(bundles: OrderBundle[], liveOrders: OrderRow[]) {
  const linesOf = new Map(bundles.map((b) => [b.order, b.lines]));
  return liveOrders.flatMap((o) => {
    const lines = linesOf.get(o);
    return lines ? [{ id: o.id, shopifyUpdatedAt: o.shopifyUpdatedAt, processedAt: o.processedAt, lines }] : [];
  });
}

/** The variants and unit costs the lines carry (the bulk import reads them); what changed. */
async function writeCarriedCosts(tx: RawTx, shop: string, withLines: ReturnType<typeof ordersWithLines>) {
  const carried = withLines.flatMap((o) => o.lines);
  const variantsChanged = await writeVariants(tx, shop, carried.flatMap((l) => (l.variantId !== null && l.inventoryItem ? [{ id: l.variantId, productId: null, inventoryItemId: l.inventoryItem.id, shopifyUpdatedAt: l.inventoryItem.updatedAt }] : [])));
  // A line whose unit cost is missing or in another currency says nothing of the cost: no
  // history row (a null row would end a known cost from the item's updatedAt).
  const costsChanged = await writeUnitCosts(tx, shop, carried.flatMap((l) => (l.inventoryItem && l.inventoryItem.costMinor !== null ? [{ inventoryItemId: l.inventoryItem.id, validFrom: l.inventoryItem.updatedAt, costMinor: l.inventoryItem.costMinor }] : [])));
  return { variantsChanged, costsChanged };
}

/**
 * Cost of goods for a batch (costs.server.ts): the variants and unit costs its lines carry
 * (written here, or by the caller before its orders: `pre`), the lines of the versions stored
 * (less the units of refunds after them), then the cost of those orders, of stale ones whose
 * net sales moved and of those whose lines new refunds changed. Orders in `pre.fresh` were
 * inserted with their cost (insertOrders' `costs`) and are not recosted. Returns the customers
 * whose orders' cost changed.
 */
async function costBatch(
  tx: RawTx, shop: string, withLines: ReturnType<typeof ordersWithLines>, staleWithNewRefunds: bigint[], withNewRefunds: bigint[],
  pre?: Awaited<ReturnType<typeof writeCarriedCosts>> & { fresh: ReadonlySet<bigint> },
): Promise<bigint[]> {
  const { variantsChanged, costsChanged } = pre ?? (await writeCarriedCosts(tx, shop, withLines));
  const fresh = pre?.fresh ?? new Set<bigint>();
  const replaced = await replaceOrderLines(tx, shop, withLines, fresh);
  // Orders with refunds new to us whose lines stay: they lose the units of those after their version.
  const replacedSet = new Set(replaced);
  const relined = await applyLaterRefunds(tx, shop, withNewRefunds.filter((id) => !replacedSet.has(id)));
  // The batch holds the shop's import lock exclusive: orders stored earlier (by webhooks or an
  // earlier batch) whose variant or cost in force this batch brought are recosted too.
  const recosted = await recostOrders(tx, shop, distinctIds([...replaced.filter((id) => !fresh.has(id)), ...staleWithNewRefunds, ...relined]));
  return distinctIds([...recosted, ...(await recostAffected(tx, shop, variantsChanged, costsChanged))]);
}

export async function upsertOrdersBatch(tx: RawTx, shop: string, incoming: OrderBundle[], options: BatchOptions = {}): Promise<BatchResult> {
  if (incoming.length === 0) return { ordersWritten: 0, customerIds: [], refused: [] };
  // As upsertOrder: an order whose amounts are not in the shop's currency is not applied,
  // nor anything of it (its customer's profile included); the rest of the batch is.
  const currency = await shopCurrency(tx, shop);
  const refused: string[] = [];
  const bundles = incoming.filter((bundle) => {
    const problem = currency === null ? null : foreignCurrencyProblem(currency, bundle.order, bundle.refunds);
    if (problem !== null) refused.push(problem);
    return problem === null;
  });
  if (refused.length > 0) console.warn(`tenure: ${shop}: ${refused.length} order(s) left out of a batch: ${refused.slice(0, 3).join("; ")}`);
  if (bundles.length === 0) return { ordersWritten: 0, customerIds: [], refused };
  const orders = latestBy(bundles.map((b) => b.order), (o) => o.id, (o) => o.shopifyUpdatedAt);
  const orderIds = orders.map((o) => o.id);

  await lockShopExclusive(tx, shop);
  const deferred = options.summaries === "deferred";
  // Which orders exist (new ones take a plain insert) and their owners (whose summary a
  // moved order changes). A deferred batch needs neither: every order goes through the
  // newer-wins upsert, whose conflict check is the probe this lookup would have made (5,000
  // probes per batch, and a plan that turned into a sequential scan while the table grew).
  const stored = deferred
    ? []
    : await tx.$queryRaw<{ id: bigint; customerId: bigint | null }[]>`
        SELECT id, "customerId" FROM "Order" WHERE shop = ${shop} AND id = ANY(${orderIds}::bigint[])`;
  // Every bundle's customer, not only the winning versions': upsertOrder writes the
  // customer of a stale order too.
  const incomingCustomerIds = distinctIds(bundles.map((b) => b.order.customerId));

  const tombstoned = await tx.$queryRaw<{ resource: string; id: bigint }[]>`
    SELECT resource, id FROM "Tombstone"
    WHERE shop = ${shop}
      AND ((resource = 'order' AND id = ANY(${orderIds}::bigint[]))
        OR (resource = 'customer' AND id = ANY(${incomingCustomerIds}::bigint[])))`;
  const deletedOrders = new Set(tombstoned.filter((t) => t.resource === "order").map((t) => t.id));
  const deletedCustomers = new Set(tombstoned.filter((t) => t.resource === "customer").map((t) => t.id));

  // Customers: every profile the batch carries (even on a deleted order, as upsertOrder does),
  // then placeholders for customers known only by id.
  const carried = bundles
    .filter((b) => b.customer !== null && b.customer.id === b.order.customerId)
    .map((b) => b.customer as CustomerRow)
    .filter((c) => !deletedCustomers.has(c.id));
  const profiles = withStandingConsent(latestBy(carried, (c) => c.id, (c) => c.shopifyUpdatedAt), carried);
  let profilesWritten: bigint[] = [];
  if (profiles.length > 0) {
    const col = <T>(pick: (c: CustomerRow) => T) => profiles.map(pick);
    const rows = await tx.$queryRaw<{ id: bigint }[]>`
      INSERT INTO "Customer" AS cur (shop, id, email, "firstName", "lastName", phone, state, tags, currency,
                                     "shopifyCreatedAt", "shopifyUpdatedAt",
                                     "emailConsentState", "emailOptInLevel", "emailConsentUpdatedAt",
                                     "smsConsentState", "smsOptInLevel", "smsConsentUpdatedAt")
      SELECT ${shop}, x.id, x.email, x."firstName", x."lastName", x.phone, x.state,
             -- A profile without tags (API 2025-01+ payloads) keeps the stored ones (CustomerRow.tags).
             COALESCE(x.tags::text[], (SELECT k.tags FROM "Customer" AS k WHERE k.shop = ${shop} AND k.id = x.id), '{}'::text[]), x.currency,
             ${fromMs("x", "shopifyCreatedAt")}, ${fromMs("x", "shopifyUpdatedAt")},
             x."emailConsentState", x."emailOptInLevel", ${fromMs("x", "emailConsentUpdatedAt")},
             x."smsConsentState", x."smsOptInLevel", ${fromMs("x", "smsConsentUpdatedAt")}
      FROM unnest(${col((c) => c.id.toString())}::bigint[], ${col((c) => c.email)}::text[], ${col((c) => c.firstName)}::text[],
                  ${col((c) => c.lastName)}::text[], ${col((c) => c.phone)}::text[], ${col((c) => c.state)}::text[],
                  ${col((c) => (c.tags === null ? null : arrayLiteral(c.tags)))}::text[], ${col((c) => c.currency)}::text[],
                  ${col((c) => ms(c.shopifyCreatedAt))}::bigint[], ${col((c) => ms(c.shopifyUpdatedAt))}::bigint[],
                  ${col((c) => c.emailConsent?.state ?? null)}::text[], ${col((c) => c.emailConsent?.optInLevel ?? null)}::text[],
                  ${col((c) => ms(c.emailConsent?.updatedAt ?? null))}::bigint[],
                  ${col((c) => c.smsConsent?.state ?? null)}::text[], ${col((c) => c.smsConsent?.optInLevel ?? null)}::text[],
                  ${col((c) => ms(c.smsConsent?.updatedAt ?? null))}::bigint[])
           AS x(id, email, "firstName", "lastName", phone, state, tags, currency, "shopifyCreatedAt", "shopifyUpdatedAt",
                "emailConsentState", "emailOptInLevel", "emailConsentUpdatedAt", "smsConsentState", "smsOptInLevel", "smsConsentUpdatedAt")
      ${CUSTOMER_NEWER_WINS}
      RETURNING id`;
    profilesWritten = rows.map((row) => row.id);
  }
  const liveCustomerIds = incomingCustomerIds.filter((id) => !deletedCustomers.has(id));
  // A profile written above already made the row: placeholders only for the others.
  const withProfile = new Set(profiles.map((c) => c.id));
  const known = options.knownCustomers;
  const placeholders = liveCustomerIds.filter((id) => !withProfile.has(id) && !known?.has(id));
  if (placeholders.length > 0) {
    await tx.$executeRaw`
      INSERT INTO "Customer" (shop, id, tags, "shopifyUpdatedAt")
      SELECT ${shop}, id, '{}', ${PLACEHOLDER_UPDATED_AT}::timestamp FROM unnest(${placeholders}::bigint[]) AS id
      ON CONFLICT (shop, id) DO NOTHING`;
  }

  // Refunds of live orders (immutable: the first copy stays), then the orders themselves.
  const liveOrders = orders.filter((o) => !deletedOrders.has(o.id));
  const withLines = ordersWithLines(bundles, liveOrders);
  let deferredCosts: Parameters<typeof costBatch>[5];
  const refunds = bundles.flatMap((b) => (deletedOrders.has(b.order.id) ? [] : b.refunds));
  let ordersWithNewRefunds: bigint[] = [];
  if (refunds.length > 0) {
    const inserted = await tx.$queryRaw<{ orderId: bigint }[]>`
      INSERT INTO "Refund" AS cur (shop, id, "orderId", "createdAt", "amountMinor", "returnsMinor", "taxMinor", "shippingMinor", "dutiesMinor", "lineUnits")
      SELECT DISTINCT ON (x.id) ${shop}, x.id, x."orderId", x."createdAt", x."amountMinor", x."returnsMinor", x."taxMinor", x."shippingMinor", x."dutiesMinor",
             x."lineUnits"::jsonb
      FROM unnest(${refunds.map((r) => r.id.toString())}::bigint[], ${refunds.map((r) => r.orderId.toString())}::bigint[],
                  ${refunds.map((r) => iso(r.createdAt))}::timestamp[], ${refunds.map((r) => r.amountMinor.toString())}::bigint[],
                  ${refunds.map((r) => part(r.parts?.returnsMinor))}::bigint[], ${refunds.map((r) => part(r.parts?.taxMinor))}::bigint[],
                  ${refunds.map((r) => part(r.parts?.shippingMinor))}::bigint[], ${refunds.map((r) => part(r.parts?.dutiesMinor))}::bigint[],
                  ${refunds.map(refundLineUnitsJson)}::text[])
           WITH ORDINALITY AS x(id, "orderId", "createdAt", "amountMinor", "returnsMinor", "taxMinor", "shippingMinor", "dutiesMinor", "lineUnits", at)
      -- One copy per refund (ON CONFLICT DO UPDATE may touch a row once): the first, as upsertOrder keeps.
      ORDER BY x.id, x.at
      ${REFUND_PARTS_FILL}
      RETURNING "orderId"`;
    ordersWithNewRefunds = distinctIds(inserted.map((r) => r.orderId));
  }

  // The orders written: every row for a batch that recomputes summaries now (their owners);
  // for a deferred one only their number, and which orders with new refunds were among them.
  const written: { id: bigint; customerId: bigint | null }[] = [];
  let ordersWritten = 0;
  let writtenIds = new Set<bigint>();
  if (liveOrders.length > 0) {
    const refunded = await ordersWithRefunds(tx, shop, liveOrders);
    if (deferred) {
      // Every order through the newer-wins upsert; new ones with their cost, the variants and
      // unit costs their lines carry written first (ADR 0023: an update of every order right
      // after its insert was most of a costed import's PostgreSQL time).
      const pre = await writeCarriedCosts(tx, shop, withLines);
      const lined = new Set(withLines.map((o) => o.id));
      const costs = withLines.length > 0 ? { sql: orderLineCostsSql(shop, withLines), lined } : undefined;
      const result = await writeOrdersCounted(tx, shop, liveOrders, { refunded, deletedCustomers, conflictRule: ORDER_NEWER_WINS, costs }, ordersWithNewRefunds);
      ordersWritten = result.written;
      writtenIds = new Set(result.among);
      deferredCosts = { ...pre, fresh: result.fresh };
    } else {
      const storedIds = new Set(stored.map((row) => row.id));
      // New orders take a plain insert (nothing can insert them meanwhile: the batch holds the
      // shop's import lock exclusively); stored ones the newer-wins upsert.
      const subsets = [
        [liveOrders.filter((o) => !storedIds.has(o.id)), Prisma.empty],
        [liveOrders.filter((o) => storedIds.has(o.id)), ORDER_NEWER_WINS],
      ] as const;
      for (const [subset, conflictRule] of subsets) {
        if (subset.length > 0) written.push(...(await writeOrders(tx, shop, subset, { refunded, deletedCustomers, conflictRule })));
      }
      ordersWritten = written.length;
      writtenIds = new Set(written.map((row) => row.id));
    }
  }
  // A new row already carries its journey's source (insertOrders): adopting it again would change nothing.
  await adoptJourneySources(tx, shop, deferredCosts ? liveOrders.filter((o) => !deferredCosts!.fresh.has(o.id)) : liveOrders);
  // A stale order with refunds new to us: its stored net may change (written ones are already right).
  const staleWithNewRefunds = ordersWithNewRefunds.filter((id) => !writtenIds.has(id));
  if (staleWithNewRefunds.length > 0) await recomputeOrderNets(tx, shop, staleWithNewRefunds);
  const recosted = await costBatch(tx, shop, withLines, staleWithNewRefunds, ordersWithNewRefunds, deferredCosts);
  if (deferred) return { ordersWritten, customerIds: [], refused };

  // Whose summary can have changed: both ends of every written order, the owners of stale
  // orders whose net moved; and whose profile changed (metrics show it too).
  const storedOwner = new Map(stored.map((row) => [row.id, row.customerId]));
  const staleSet = new Set(staleWithNewRefunds);
  const summaryIds = distinctIds([
    ...written.flatMap((row) => [storedOwner.get(row.id), row.customerId]),
    ...stored.filter((row) => staleSet.has(row.id)).map((row) => row.customerId),
    ...recosted,
  ]);
  await recomputeCustomerSummaries(tx, shop, summaryIds);
  return { ordersWritten, customerIds: distinctIds([...summaryIds, ...profilesWritten]), refused };
}
