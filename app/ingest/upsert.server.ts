import { Prisma } from "@prisma/client";
import {
  CONSENT_STATE_PRECEDENCE,
  type ConsentUpdate,
  type CustomerRow,
  type MarketingConsent,
  OPT_IN_LEVEL_PRECEDENCE,
  type OrderBundle,
  type OrderRow,
  type RefundRow,
  PayloadValidationError,
  foreignCurrencyProblem,
} from "./mappers";
import { sourceForShop } from "./marketing-source";
import { shopCurrency } from "./shop-currency.server";
import { shopHosts } from "./shop-hosts.server";
import { NET_SALES_REFUND_RETURNS, recomputeCustomerSummaries, recomputeOrderNets } from "./summary.server";
import { type RawTx } from "~/db/pg.server";
import { countCustomerDeletion } from "~/data/destinations.server";
import { type RawDb, withRawTransaction } from "~/db/tx.server";
import { distinctIds, lockCustomers, lockOrders } from "./locks.server";
import { applyLaterRefunds, recostOrders, refundLineUnitsJson, replaceWrittenOrderLinesAndCost } from "./costs.server";

// The one write path for orders, customers and refunds, whatever their source: webhooks,
// bulk backfill, reconciliation, demo seeding. Every function:
//  - is scoped by shop;
//  - applies a row only when its updated_at is newer than the stored one, or equal with
//    different content (so a replay of the same state writes nothing);
//  - honours tombstones (a deleted order or customer never comes back);
//  - recomputes the order net and the customer summaries it touched, in the same
//    transaction, under the shop's import lock (shared) and per-order and per-customer
//    advisory locks (see tx.server.ts), so concurrent deliveries for one customer cannot
//    lose an update and a backfill batch never interleaves with them.
// Pass a transaction (pg's PgTx or Prisma's) to join it (the ingest processor does, so the
// delivery is marked PROCESSED atomically with its effects); a PrismaClient opens one.

export interface WriteResult {
  /** Whether any row changed. */
  changed: boolean;
  /** The customer the change is attributed to (null: guest, or the customer is deleted). */
  customerId: bigint | null;
  /**
   * The delivery concerns a deleted or redacted order or customer: nothing of it was
   * kept, or the order was kept unattributed. The caller should not retain its payload.
   */
  concernsDeleted: boolean;
  /**
   * Every customer whose orders or profile this write changed (both ends of an order that
   * moved, the refunded order's customer, a deleted order's customer, a deleted customer):
   * whose metrics must be recomputed once it commits.
   */
  affectedCustomerIds: bigint[];
}

/** Placeholder customers sort before any real profile, so the real one always wins. */
export const PLACEHOLDER_UPDATED_AT = new Date(0);

interface Tombstones {
  orders: Set<bigint>;
  customers: Set<bigint>;
}

async function tombstonesFor(
  tx: RawTx,
  shop: string,
  orderIds: (bigint | null)[],
  customerIds: (bigint | null)[],
): Promise<Tombstones> {
  const orders = distinctIds(orderIds);
  const customers = distinctIds(customerIds);
  const result: Tombstones = { orders: new Set(), customers: new Set() };
  if (orders.length === 0 && customers.length === 0) return result;
  const rows = await tx.$queryRaw<{ resource: string; id: bigint }[]>`
    SELECT resource, id FROM "Tombstone"
    WHERE shop = ${shop}
      AND ((resource = 'order' AND id = ANY(${orders}::bigint[]))
        OR (resource = 'customer' AND id = ANY(${customers}::bigint[])))`;
  for (const row of rows) (row.resource === "order" ? result.orders : result.customers).add(row.id);
  return result;
}

export async function addTombstones(tx: RawTx, shop: string, resource: "order" | "customer", ids: bigint[]): Promise<void> {
  if (ids.length === 0) return;
  await tx.$executeRaw`
    INSERT INTO "Tombstone" (shop, resource, id, "deletedAt")
    SELECT ${shop}, ${resource}, id, now() AT TIME ZONE 'UTC' FROM unnest(${ids}::bigint[]) AS id
    ON CONFLICT (shop, resource, id) DO NOTHING`;
}

/** The Customer columns of one channel's consent. */
const CONSENT_COLUMNS = {
  email: { state: "emailConsentState", level: "emailOptInLevel", at: "emailConsentUpdatedAt" },
  sms: { state: "smsConsentState", level: "smsOptInLevel", at: "smsConsentUpdatedAt" },
} as const;
type ConsentChannel = keyof typeof CONSENT_COLUMNS;

/** A constant text[] literal (the precedence lists: fixed enum names, no quoting needed). */
const textArray = (values: readonly string[]) => `ARRAY[${values.map((value) => `'${value}'`).join(", ")}]::text[]`;

/**
 * Whether the incoming row's consent on `channel` stands over the stored one: the order of
 * compareConsent (mappers.ts), in SQL. A row that says nothing (null state) never does, so
 * a source without consent erases none. Consent has its own clock, Shopify's consent date,
 * not the profile's updated_at: the consent topics carry no profile, and a profile without
 * consent may be newer than the consent it must not erase, so only a clock of the consent's
 * own keeps the outcome independent of arrival order.
 */
export function consentNewerSql(channel: ConsentChannel): Prisma.Sql {
  const c = CONSENT_COLUMNS[channel];
  const key = (alias: string) =>
    Prisma.raw(
      `(COALESCE(${alias}."${c.at}", '-infinity'::timestamp), ` +
        `COALESCE(array_position(${textArray(CONSENT_STATE_PRECEDENCE)}, ${alias}."${c.state}"), 0), ` +
        `COALESCE(array_position(${textArray(OPT_IN_LEVEL_PRECEDENCE)}, ${alias}."${c.level}"), 0))`,
    );
  return Prisma.sql`(excluded.${Prisma.raw(`"${c.state}"`)} IS NOT NULL AND ${key("excluded")} > ${key("cur")})`;
}

/** The profile's columns (everything but consent); updated_at last, the clock. */
const PROFILE_COLUMNS = ["email", "firstName", "lastName", "phone", "state", "tags", "currency", "shopifyCreatedAt", "shopifyUpdatedAt"];

/**
 * The profile (`columns`, the clock last) moves forward to a newer updated_at, or different
 * content at the same one.
 */
function profileNewer(columns: readonly string[]): Prisma.Sql {
  const content = (alias: string) => columns.slice(0, -1).map((column) => `${alias}."${column}"`).join(", ");
  return Prisma.raw(`(excluded."shopifyUpdatedAt" > cur."shopifyUpdatedAt"
     OR (excluded."shopifyUpdatedAt" = cur."shopifyUpdatedAt"
         AND (${content("excluded")}) IS DISTINCT FROM (${content("cur")})))`);
}

/**
 * Which profile the SET keeps once the WHERE let the row through: the incoming one at a
 * newer or equal updated_at. The same values as keeping it only when profileNewer: at an
 * equal updated_at it is not newer only when every compared column is not distinct, that
 * is equal, so either side's values are the ones stored. One comparison instead of
 * profileNewer per column: PostgreSQL builds the SET's expressions at every execution.
 */
const PROFILE_KEPT = Prisma.sql`excluded."shopifyUpdatedAt" >= cur."shopifyUpdatedAt"`;

function setIf(condition: Prisma.Sql, columns: readonly string[]): Prisma.Sql {
  return Prisma.join(columns.map((column) => Prisma.sql`${Prisma.raw(`"${column}"`)} = CASE WHEN ${condition} THEN excluded.${Prisma.raw(`"${column}"`)} ELSE cur.${Prisma.raw(`"${column}"`)} END`), ", ");
}
const consentColumns = (channel: ConsentChannel) => Object.values(CONSENT_COLUMNS[channel]);

/**
 * The conflict rule of a profile write whose incoming rows state consent on `channels`
 * (and on no other: a channel left out must be null in every row): the profile newer-wins
 * as for orders; each listed channel's consent by its own clock (consentNewerSql). A channel
 * a row says nothing about never changes (consentNewerSql is false), so leaving it out
 * changes no outcome and keeps the statement small; without consent it is the profile rule.
 * Without `tagsKnown` (CustomerRow.tags null, API 2025-01+ payloads) the stored tags are
 * neither compared nor replaced: the outcome of comparing and keeping the stored ones,
 * without reading them in a subquery first.
 */
function customerNewerWins(channels: readonly ConsentChannel[], tagsKnown = true): Prisma.Sql {
  const profile = tagsKnown ? PROFILE_COLUMNS : PROFILE_COLUMNS.filter((column) => column !== "tags");
  const newer = profileNewer(profile);
  if (channels.length === 0) {
    return Prisma.sql`
  ON CONFLICT (shop, id) DO UPDATE SET ${Prisma.join(profile.map((column) => Prisma.raw(`"${column}" = excluded."${column}"`)), ", ")}
  WHERE ${newer}`;
  }
  return Prisma.sql`
  ON CONFLICT (shop, id) DO UPDATE SET
    ${Prisma.join([setIf(PROFILE_KEPT, profile), ...channels.map((channel) => setIf(consentNewerSql(channel), consentColumns(channel)))], ", ")}
  WHERE ${Prisma.join([newer, ...channels.map(consentNewerSql)], " OR ")}`;
}

/** The conflict rule of every customer-profile write (one by one and batched), whatever consent the rows state. */
export const CUSTOMER_NEWER_WINS = customerNewerWins(["email", "sms"]);

/** writeCustomer's rules by the consent its row states and whether it carries tags: the smallest statement with the same outcome. */
const CONSENT_CHANNEL_SETS = { none: [], email: ["email"], sms: ["sms"], both: ["email", "sms"] } as const satisfies Record<string, readonly ConsentChannel[]>;
type ConsentChannelSet = keyof typeof CONSENT_CHANNEL_SETS;
const rulesByConsent = (tagsKnown: boolean) =>
  Object.fromEntries(Object.entries(CONSENT_CHANNEL_SETS).map(([set, channels]) => [set, customerNewerWins(channels, tagsKnown)])) as Record<ConsentChannelSet, Prisma.Sql>;
const CUSTOMER_RULES = { tagsKnown: rulesByConsent(true), tagsUnknown: rulesByConsent(false) };
function customerRuleFor(c: CustomerRow): Prisma.Sql {
  const set: ConsentChannelSet = c.emailConsent === null ? (c.smsConsent === null ? "none" : "sms") : c.smsConsent === null ? "email" : "both";
  return CUSTOMER_RULES[c.tags === null ? "tagsUnknown" : "tagsKnown"][set];
}

/** The conflict rule of a consent-only write (the consent topics): that channel's consent, nothing else. */
const consentOnlyNewerWins = (channel: ConsentChannel) => Prisma.sql`
  ON CONFLICT (shop, id) DO UPDATE SET ${setIf(consentNewerSql(channel), consentColumns(channel))}
  WHERE ${consentNewerSql(channel)}`;
const CONSENT_ONLY_NEWER_WINS = { email: consentOnlyNewerWins("email"), sms: consentOnlyNewerWins("sms") };

const consentValues = (consent: MarketingConsent | null) =>
  Prisma.sql`${consent?.state ?? null}::text, ${consent?.optInLevel ?? null}::text, ${consent?.updatedAt ?? null}::timestamp`;

/** A profile without tags (CustomerRow.tags null) is inserted with none and keeps the stored ones (customerNewerWins). */
async function writeCustomer(tx: RawTx, shop: string, c: CustomerRow): Promise<boolean> {
  return (await tx.$executeRaw`${customerWriteSql(shop, c)}`) > 0;
}

/** writeCustomer's statement. */
function customerWriteSql(shop: string, c: CustomerRow): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO "Customer" AS cur (shop, id, email, "firstName", "lastName", phone, state, tags, currency,
                                   "shopifyCreatedAt", "shopifyUpdatedAt",
                                   "emailConsentState", "emailOptInLevel", "emailConsentUpdatedAt",
                                   "smsConsentState", "smsOptInLevel", "smsConsentUpdatedAt")
    VALUES (${shop}, ${c.id}::bigint, ${c.email}, ${c.firstName}, ${c.lastName}, ${c.phone}, ${c.state},
            ${c.tags ?? []}::text[], ${c.currency}, ${c.shopifyCreatedAt}::timestamp, ${c.shopifyUpdatedAt}::timestamp,
            ${consentValues(c.emailConsent)}, ${consentValues(c.smsConsent)})
    ${customerRuleFor(c)}`;
}

/** A customer row for an order that arrived before its customer: the real profile replaces it. */
function ensureCustomerSql(shop: string, id: bigint): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO "Customer" (shop, id, tags, "shopifyUpdatedAt")
    VALUES (${shop}, ${id}::bigint, '{}', ${PLACEHOLDER_UPDATED_AT}::timestamp)
    ON CONFLICT (shop, id) DO NOTHING`;
}

/** The order's customer row, as upsertOrder writes it: the embedded profile, else a placeholder. */
const orderCustomerSql = (shop: string, customerId: bigint, profile: CustomerRow | null) =>
  profile?.id === customerId ? customerWriteSql(shop, profile) : ensureCustomerSql(shop, customerId);

/**
 * The conflict rule of every order write (one by one and batched): a stored order moves
 * forward only to a newer Shopify updated_at, or to different content at the same one.
 */
export const ORDER_NEWER_WINS = Prisma.sql`
  ON CONFLICT (shop, id) DO UPDATE SET
    name = excluded.name, "customerId" = excluded."customerId", "processedAt" = excluded."processedAt",
    "shopifyCreatedAt" = excluded."shopifyCreatedAt", "shopifyUpdatedAt" = excluded."shopifyUpdatedAt",
    currency = excluded.currency, "currentTotalMinor" = excluded."currentTotalMinor", "netMinor" = excluded."netMinor",
    test = excluded.test, "cancelledAt" = excluded."cancelledAt", "financialStatus" = excluded."financialStatus",
    "sourceName" = excluded."sourceName", "discountCodes" = excluded."discountCodes", tags = excluded.tags,
    "firstProductId" = excluded."firstProductId", "firstProductTitle" = excluded."firstProductTitle",
    "lineItemCount" = excluded."lineItemCount",
    -- A source once known stays when a later version does not say; the journey's first visit (import,
    -- reconciliation) is never replaced by a webhook's landing/referrer (the order's last arrival).
    "marketingSource" = CASE WHEN cur."marketingSourceFromJourney" AND NOT excluded."marketingSourceFromJourney"
                             THEN cur."marketingSource" ELSE COALESCE(excluded."marketingSource", cur."marketingSource") END,
    "marketingSourceFromJourney" = cur."marketingSourceFromJourney" OR excluded."marketingSourceFromJourney",
    "grossSalesMinor" = excluded."grossSalesMinor", "discountsMinor" = excluded."discountsMinor", "returnsMinor" = excluded."returnsMinor",
    "taxMinor" = excluded."taxMinor", "shippingMinor" = excluded."shippingMinor", "dutiesMinor" = excluded."dutiesMinor",
    "netSalesMinor" = excluded."netSalesMinor"
  WHERE excluded."shopifyUpdatedAt" > cur."shopifyUpdatedAt"
     OR (excluded."shopifyUpdatedAt" = cur."shopifyUpdatedAt"
         AND (excluded.name, excluded."customerId", excluded."processedAt", excluded."shopifyCreatedAt",
              excluded.currency, excluded."currentTotalMinor", excluded.test, excluded."cancelledAt",
              excluded."financialStatus", excluded."sourceName", excluded."discountCodes", excluded.tags,
              excluded."firstProductId", excluded."firstProductTitle", excluded."lineItemCount",
              excluded."grossSalesMinor", excluded."discountsMinor", excluded."returnsMinor",
              excluded."taxMinor", excluded."shippingMinor", excluded."dutiesMinor")
             IS DISTINCT FROM (cur.name, cur."customerId", cur."processedAt", cur."shopifyCreatedAt",
              cur.currency, cur."currentTotalMinor", cur.test, cur."cancelledAt",
              cur."financialStatus", cur."sourceName", cur."discountCodes", cur.tags,
              cur."firstProductId", cur."firstProductTitle", cur."lineItemCount",
              cur."grossSalesMinor", cur."discountsMinor", cur."returnsMinor",
              cur."taxMinor", cur."shippingMinor", cur."dutiesMinor"))`;

/**
 * The order and its customer's row (`customer`: orderCustomerSql, or null for none) in one
 * statement, a round trip fewer for every order delivery: two inserts into different tables,
 * neither reading the other. Returns whether each changed a row.
 */
async function writeOrderAndCustomer(tx: RawTx, shop: string, o: OrderRow, customer: Prisma.Sql | null): Promise<{ customerChanged: boolean; orderChanged: boolean }> {
  const order = await orderWriteSql(tx, shop, o);
  const [row] = await tx.$queryRaw<{ customer: number; order: number }[]>`
    WITH ${customer === null ? Prisma.empty : Prisma.sql`c AS (${customer} RETURNING 1), `}o AS (${order} RETURNING 1)
    SELECT ${customer === null ? Prisma.sql`0` : Prisma.sql`(SELECT count(*) FROM c)`}::int AS customer, (SELECT count(*) FROM o)::int AS "order"`;
  await adoptJourneySources(tx, shop, [o]);
  return { customerChanged: row.customer > 0, orderChanged: row.order > 0 };
}

/** The order's newer-wins upsert (ORDER_NEWER_WINS), its nets computed as recomputeOrderNets would. */
async function orderWriteSql(tx: RawTx, shop: string, o: OrderRow): Promise<Prisma.Sql> {
  // The two nets as recomputeOrderNets would compute them, so a written order needs no
  // second statement (its refunds are inserted first, under the same order lock).
  const unreflected = (amount: Prisma.Sql) => Prisma.sql`COALESCE((
        SELECT sum(${amount}) FROM "Refund" AS r
        WHERE r.shop = ${shop} AND r."orderId" = ${o.id}::bigint AND r."createdAt" > ${o.shopifyUpdatedAt}::timestamp), 0)`;
  const netSql = o.test
    ? Prisma.sql`0::bigint`
    : Prisma.sql`GREATEST(0, ${o.currentTotalMinor}::bigint - ${unreflected(Prisma.sql`r."amountMinor"`)})::bigint`;
  const p = o.parts;
  const netSalesSql = p === null
    ? Prisma.sql`NULL::bigint`
    : o.test || o.cancelledAt !== null
      ? Prisma.sql`0::bigint`
      : Prisma.sql`GREATEST(0, ${p.grossSalesMinor - p.discountsMinor - p.returnsMinor}::bigint - ${unreflected(NET_SALES_REFUND_RETURNS)})::bigint`;
  // A referral from the shop's own domains is direct (issue 17).
  const source = sourceForShop(o.marketingSource, shop, await shopHosts(tx, shop));
  return Prisma.sql`
    INSERT INTO "Order" AS cur (shop, id, name, "customerId", "processedAt", "shopifyCreatedAt", "shopifyUpdatedAt",
                                currency, "currentTotalMinor", "netMinor", test, "cancelledAt", "financialStatus",
                                "sourceName", "discountCodes", tags, "firstProductId", "firstProductTitle", "lineItemCount",
                                "marketingSource", "marketingSourceFromJourney",
                                "grossSalesMinor", "discountsMinor", "returnsMinor", "taxMinor", "shippingMinor", "dutiesMinor", "netSalesMinor")
    VALUES (${shop}, ${o.id}::bigint, ${o.name}, ${o.customerId}::bigint, ${o.processedAt}::timestamp,
            ${o.shopifyCreatedAt}::timestamp, ${o.shopifyUpdatedAt}::timestamp, ${o.currency},
            ${o.currentTotalMinor}::bigint, ${netSql}, ${o.test}::boolean, ${o.cancelledAt}::timestamp,
            ${o.financialStatus}, ${o.sourceName}, ${o.discountCodes}::text[], ${o.tags}::text[],
            ${o.firstProductId}::bigint, ${o.firstProductTitle}, ${o.lineItemCount}::int,
            ${source}, ${o.marketingSourceFromJourney}::boolean,
            ${p?.grossSalesMinor ?? null}::bigint, ${p?.discountsMinor ?? null}::bigint, ${p?.returnsMinor ?? null}::bigint,
            ${p?.taxMinor ?? null}::bigint, ${p?.shippingMinor ?? null}::bigint, ${p?.dutiesMinor ?? null}::bigint, ${netSalesSql})
    ${ORDER_NEWER_WINS}`;
}

/**
 * The journey's first-visit source replaces a webhook-derived one whatever the versions: the
 * import often brings an order at the updated_at a webhook already stored, which the newer-wins
 * rule leaves alone. Only the source moves, not the order's version.
 */
export async function adoptJourneySources(tx: RawTx, shop: string, orders: OrderRow[]): Promise<void> {
  const journey = orders.filter((o) => o.marketingSourceFromJourney && o.marketingSource !== null);
  if (journey.length === 0) return;
  const hosts = await shopHosts(tx, shop);
  await tx.$executeRaw`
    UPDATE "Order" AS o SET "marketingSource" = x.source, "marketingSourceFromJourney" = true
    FROM unnest(${journey.map((j) => j.id.toString())}::bigint[], ${journey.map((j) => sourceForShop(j.marketingSource, shop, hosts))}::text[]) AS x(id, source)
    WHERE o.shop = ${shop} AND o.id = x.id
      AND (NOT o."marketingSourceFromJourney" OR o."marketingSource" IS DISTINCT FROM x.source)`;
}

/**
 * Refuses, before anything is written, amounts not in the shop's currency (see
 * foreignCurrencyProblem): the delivery fails with the reason. A shop without a row (no
 * install recorded) has no currency to check against.
 */
async function requireShopCurrency(tx: RawTx, shop: string, what: string, order: OrderRow | null, refunds: RefundRow[]): Promise<void> {
  const currency = await shopCurrency(tx, shop);
  const problem = currency === null ? null : foreignCurrencyProblem(currency, order, refunds);
  if (problem !== null) throw new PayloadValidationError(what, [problem]);
}

/**
 * Refunds are immutable in Shopify: the first copy stored stays, except that a copy with
 * parts fills in a stored copy without them (which changes no amount, only the split), and a
 * copy listing its line units (refunds/create) fills in a copy without them (a GraphQL refund).
 */
const FILLS_PARTS = Prisma.sql`(cur."returnsMinor" IS NULL AND excluded."returnsMinor" IS NOT NULL)`;
const fillPart = (column: string) => Prisma.sql`CASE WHEN ${FILLS_PARTS} THEN excluded.${Prisma.raw(`"${column}"`)} ELSE cur.${Prisma.raw(`"${column}"`)} END`;
export const REFUND_PARTS_FILL = Prisma.sql`
  ON CONFLICT (shop, id) DO UPDATE SET
    "returnsMinor" = ${fillPart("returnsMinor")}, "taxMinor" = ${fillPart("taxMinor")},
    "shippingMinor" = ${fillPart("shippingMinor")}, "dutiesMinor" = ${fillPart("dutiesMinor")},
    "lineUnits" = COALESCE(cur."lineUnits", excluded."lineUnits")
  WHERE ${FILLS_PARTS} OR (cur."lineUnits" IS NULL AND excluded."lineUnits" IS NOT NULL)`;
async function insertRefunds(tx: RawTx, shop: string, refunds: RefundRow[]): Promise<number> {
  let inserted = 0;
  for (const r of refunds) {
    // A copy with parts completes a copy stored without (a GraphQL refund, then its refunds/create).
    inserted += await tx.$executeRaw`
      INSERT INTO "Refund" AS cur (shop, id, "orderId", "createdAt", "amountMinor", "returnsMinor", "taxMinor", "shippingMinor", "dutiesMinor", "lineUnits")
      VALUES (${shop}, ${r.id}::bigint, ${r.orderId}::bigint, ${r.createdAt}::timestamp, ${r.amountMinor}::bigint,
              ${r.parts?.returnsMinor ?? null}::bigint, ${r.parts?.taxMinor ?? null}::bigint,
              ${r.parts?.shippingMinor ?? null}::bigint, ${r.parts?.dutiesMinor ?? null}::bigint, ${refundLineUnitsJson(r)}::jsonb)
      ${REFUND_PARTS_FILL}`;
  }
  return inserted;
}

async function storedOrderCustomer(tx: RawTx, shop: string, orderId: bigint): Promise<{ exists: boolean; customerId: bigint | null }> {
  const rows = await tx.$queryRaw<{ customerId: bigint | null }[]>`
    SELECT "customerId" FROM "Order" WHERE shop = ${shop} AND id = ${orderId}::bigint`;
  return { exists: rows.length > 0, customerId: rows[0]?.customerId ?? null };
}

/**
 * orders/create|updated|cancelled, backfill, reconciliation: the order, its embedded
 * customer profile and its embedded refunds. An order whose customer was deleted is
 * kept unattributed; a deleted order is not brought back.
 */
export async function upsertOrder(db: RawDb, shop: string, bundle: OrderBundle): Promise<WriteResult> {
  return withRawTransaction(db, async (tx) => {
    const { order } = bundle;
    await requireShopCurrency(tx, shop, "order", order, bundle.refunds);
    await lockOrders(tx, shop, [order.id]);
    const before = await storedOrderCustomer(tx, shop, order.id);
    await lockCustomers(tx, shop, [before.customerId, order.customerId]);
    const tombstones = await tombstonesFor(tx, shop, [order.id], [order.customerId]);
    const orderDeleted = tombstones.orders.has(order.id);
    const customerDeleted = order.customerId !== null && tombstones.customers.has(order.customerId);
    const customerId = customerDeleted ? null : order.customerId;

    // The customer lives on whether or not this order was deleted, so their profile is
    // written either way: the outcome must not depend on which delivery came first. With a
    // profile, its write inserts the row or finds it there: no placeholder needed.
    const customerSql = customerId === null ? null : orderCustomerSql(shop, customerId, bundle.customer);
    if (orderDeleted) {
      const customerChanged = customerSql !== null && (await tx.$executeRaw`${customerSql}`) > 0;
      const affectedCustomerIds = customerChanged ? distinctIds([customerId]) : [];
      await recomputeCustomerSummaries(tx, shop, affectedCustomerIds);
      return { changed: customerChanged, customerId, concernsDeleted: true, affectedCustomerIds };
    }

    // Refunds first: the order's nets read them. The customer's row and the order in one statement.
    const refundsInserted = await insertRefunds(tx, shop, bundle.refunds);
    const { customerChanged, orderChanged } = await writeOrderAndCustomer(tx, shop, { ...order, customerId }, customerSql);
    // A stale order with refunds new to us: the stored order's net may change.
    if (!orderChanged && refundsInserted > 0) await recomputeOrderNets(tx, shop, [order.id]);
    // Cost of goods (costs.server.ts): the stored version's lines, then the order's cost from them
    // (one statement for a version just written with its lines). The lines take off the units of
    // stored refunds created after this version.
    if (orderChanged && bundle.lines) await replaceWrittenOrderLinesAndCost(tx, shop, { id: order.id, shopifyUpdatedAt: order.shopifyUpdatedAt, lines: bundle.lines });
    else {
      if (refundsInserted > 0) await applyLaterRefunds(tx, shop, [order.id]);
      if (orderChanged || refundsInserted > 0) await recostOrders(tx, shop, [order.id]);
    }
    const storedCustomerId = orderChanged ? customerId : before.customerId;
    const changed = customerChanged || orderChanged || refundsInserted > 0;
    const affectedCustomerIds = changed ? distinctIds([before.customerId, storedCustomerId, customerId]) : [];
    await recomputeCustomerSummaries(tx, shop, affectedCustomerIds);
    return { changed, customerId: storedCustomerId, concernsDeleted: customerDeleted, affectedCustomerIds };
  });
}

/** customers/create|update, backfill: the profile only (the summary comes from orders). */
export async function upsertCustomer(db: RawDb, shop: string, customer: CustomerRow): Promise<WriteResult> {
  return withRawTransaction(db, async (tx) => {
    await lockCustomers(tx, shop, [customer.id]);
    const tombstones = await tombstonesFor(tx, shop, [], [customer.id]);
    if (tombstones.customers.has(customer.id)) return { changed: false, customerId: null, concernsDeleted: true, affectedCustomerIds: [] };
    const changed = await writeCustomer(tx, shop, customer);
    if (changed) await recomputeCustomerSummaries(tx, shop, [customer.id]);
    return { changed, customerId: customer.id, concernsDeleted: false, affectedCustomerIds: changed ? [customer.id] : [] };
  });
}

/**
 * customers_email_marketing_consent/update, customers_marketing_consent/update: one channel's
 * consent, by its own clock (consentNewerSql); the profile is left alone. A customer not yet
 * stored gets a placeholder row (as for an order that arrives first) holding the consent,
 * which their profile then completes. A redacted or deleted customer is not brought back.
 */
export async function upsertCustomerConsent(db: RawDb, shop: string, update: ConsentUpdate): Promise<WriteResult> {
  return withRawTransaction(db, async (tx) => {
    const { customerId, channel, consent } = update;
    await lockCustomers(tx, shop, [customerId]);
    const tombstones = await tombstonesFor(tx, shop, [], [customerId]);
    if (tombstones.customers.has(customerId)) return { changed: false, customerId: null, concernsDeleted: true, affectedCustomerIds: [] };
    if (consent === null) return { changed: false, customerId, concernsDeleted: false, affectedCustomerIds: [] };
    const columns = Prisma.raw(consentColumns(channel).map((column) => `"${column}"`).join(", "));
    const written = await tx.$executeRaw`
      INSERT INTO "Customer" AS cur (shop, id, tags, "shopifyUpdatedAt", ${columns})
      VALUES (${shop}, ${customerId}::bigint, '{}', ${PLACEHOLDER_UPDATED_AT}::timestamp, ${consentValues(consent)})
      ${CONSENT_ONLY_NEWER_WINS[channel]}`;
    const changed = written > 0;
    return { changed, customerId, concernsDeleted: false, affectedCustomerIds: changed ? [customerId] : [] };
  });
}

/**
 * refunds/create: stores the refund (even before its order arrives) and recomputes the
 * order net and its customer's summary. A refund for a deleted order is dropped.
 */
export async function applyRefund(db: RawDb, shop: string, refund: RefundRow): Promise<WriteResult> {
  return withRawTransaction(db, async (tx) => {
    await requireShopCurrency(tx, shop, "refund", null, [refund]);
    await lockOrders(tx, shop, [refund.orderId]);
    const order = await storedOrderCustomer(tx, shop, refund.orderId);
    await lockCustomers(tx, shop, [order.customerId]);
    const tombstones = await tombstonesFor(tx, shop, [refund.orderId], []);
    if (tombstones.orders.has(refund.orderId)) return { changed: false, customerId: null, concernsDeleted: true, affectedCustomerIds: [] };
    const changed = (await insertRefunds(tx, shop, [refund])) > 0;
    const affectedCustomerIds = changed && order.exists ? distinctIds([order.customerId]) : [];
    if (changed && order.exists) {
      // The lines less the units of refunds after the stored version: derived, so a copy that
      // completes a stored one, or a replay, takes nothing off twice.
      await applyLaterRefunds(tx, shop, [refund.orderId]);
      await recomputeOrderNets(tx, shop, [refund.orderId]);
      await recostOrders(tx, shop, [refund.orderId]); // costed sales stay within the lowered net sales
      await recomputeCustomerSummaries(tx, shop, affectedCustomerIds);
    }
    return { changed, customerId: order.customerId, concernsDeleted: false, affectedCustomerIds };
  });
}

/** orders/delete: removes the order and its refunds for good (tombstone). */
export async function deleteOrder(db: RawDb, shop: string, orderId: bigint): Promise<WriteResult> {
  return withRawTransaction(db, async (tx) => {
    await lockOrders(tx, shop, [orderId]);
    const order = await storedOrderCustomer(tx, shop, orderId);
    await lockCustomers(tx, shop, [order.customerId]);
    const refunds = await tx.$executeRaw`DELETE FROM "Refund" WHERE shop = ${shop} AND "orderId" = ${orderId}::bigint`;
    const orders = await tx.$executeRaw`DELETE FROM "Order" WHERE shop = ${shop} AND id = ${orderId}::bigint`;
    await tx.$executeRaw`DELETE FROM "OrderLine" WHERE shop = ${shop} AND "orderId" = ${orderId}::bigint`;
    await addTombstones(tx, shop, "order", [orderId]);
    await recomputeCustomerSummaries(tx, shop, distinctIds([order.customerId]));
    const changed = refunds + orders > 0;
    return { changed, customerId: order.customerId, concernsDeleted: false, affectedCustomerIds: changed ? distinctIds([order.customerId]) : [] };
  });
}

/**
 * customers/delete: removes the customer for good (tombstone). Shopify only deletes
 * customers without orders; should any be stored, they stay, attributed to no one.
 */
export async function deleteCustomer(db: RawDb, shop: string, customerId: bigint): Promise<WriteResult> {
  return withRawTransaction(db, async (tx) => {
    const orderIds = await ordersOfCustomer(tx, shop, customerId);
    await lockOrders(tx, shop, orderIds);
    await lockCustomers(tx, shop, [customerId]);
    const detached = await tx.$executeRaw`
      UPDATE "Order" SET "customerId" = NULL WHERE shop = ${shop} AND "customerId" = ${customerId}::bigint`;
    const deleted = await tx.$executeRaw`DELETE FROM "Customer" WHERE shop = ${shop} AND id = ${customerId}::bigint`;
    await addTombstones(tx, shop, "customer", [customerId]);
    // Counted: a pass's commit then probes whether its customers still exist (ADR 0022).
    await countCustomerDeletion(tx, shop);
    // The deleted customer's metrics row must go too: the metrics job finds no customer.
    return { changed: detached + deleted > 0, customerId: null, concernsDeleted: false, affectedCustomerIds: deleted > 0 ? [customerId] : [] };
  });
}

export async function ordersOfCustomer(tx: RawTx, shop: string, customerId: bigint): Promise<bigint[]> {
  const rows = await tx.$queryRaw<{ id: bigint }[]>`
    SELECT id FROM "Order" WHERE shop = ${shop} AND "customerId" = ${customerId}::bigint`;
  return rows.map((row) => row.id);
}
