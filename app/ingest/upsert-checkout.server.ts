import { createHash } from "node:crypto";
import { Prisma } from "@prisma/client";
import { type RawTx } from "~/db/pg.server";
import { type RawDb, withRawTransaction } from "~/db/tx.server";
import { type CheckoutRow, type OrderCheckoutRefs } from "./checkouts";
import { distinctIds, lockCustomers, lockKeys } from "./locks.server";
import { foreignCurrencyProblem, PayloadValidationError } from "./mappers";
import { shopCurrency } from "./shop-currency.server";
import { type WriteResult } from "./upsert.server";

// Checkouts on the one write path's rules (app/ingest/README.md): scoped by shop, newer
// updated_at wins (equal: only different content), a replay writes nothing, and a checkout of
// a redacted or deleted customer is not kept. The customer's lock (shared shop import lock
// first) orders the write against a redaction of the same customer. The customers a write
// moves in or out of "Cart abandoners" get a metrics recompute after commit.

const CONTENT = `"customerId", currency, "totalPriceMinor", "subtotalPriceMinor",
  "abandonedCheckoutUrl", "lineItemCount", "shopifyCreatedAt", "completedAt"`;
/**
 * Known to the webhook only: the Admin GraphQL AbandonedCheckout (the backfill's source) has no
 * token, cart token or email, so a source without them keeps the stored ones (a source that says
 * nothing erases nothing) and they take part in "different content" only when stated.
 */
const STATED_ONLY = Prisma.sql`(COALESCE(excluded.token, cur.token), COALESCE(excluded."cartToken", cur."cartToken"), COALESCE(excluded.email, cur.email))
  IS DISTINCT FROM (cur.token, cur."cartToken", cur.email)`;
/** The incoming version replaces the stored one's content (the WHERE admits equal versions only with different content). */
const WINS = Prisma.sql`excluded."shopifyUpdatedAt" >= cur."shopifyUpdatedAt"`;
/** A column of the winning version. */
const pick = (column: string) => Prisma.sql`CASE WHEN ${WINS} THEN excluded.${Prisma.raw(`"${column}"`)} ELSE cur.${Prisma.raw(`"${column}"`)} END`;
/** What an older version can still fill in. */
const FILLS = Prisma.sql`((cur.token IS NULL AND excluded.token IS NOT NULL) OR (cur."cartToken" IS NULL AND excluded."cartToken" IS NOT NULL)
  OR (cur.email IS NULL AND excluded.email IS NOT NULL))`;

/** checkouts/create, checkouts/update. */
export async function upsertCheckout(db: RawDb, shop: string, checkout: CheckoutRow): Promise<WriteResult> {
  return withRawTransaction(db, async (tx) => {
    // The checkout's own lock first (as an order's), so the stored customer read next cannot
    // change before its lock is ours: every checkout write takes it.
    await lockKeys(tx, shop, [checkoutLockKey(shop, checkout.id)]);
    const stored = await tx.$queryRaw<{ customerId: bigint | null }[]>`
      SELECT "customerId" FROM "Checkout" WHERE shop = ${shop} AND id = ${checkout.id}::bigint`;
    const before = stored[0]?.customerId ?? null;
    await lockCustomers(tx, shop, distinctIds([checkout.customerId, before]));
    if (checkout.customerId !== null && (await customerTombstoned(tx, shop, checkout.customerId))) {
      return { changed: false, customerId: null, concernsDeleted: true, affectedCustomerIds: [] };
    }
    // A guest checkout under the address of a redacted customer is theirs too (customers/redact
    // records a hash of the address, not the address).
    if (checkout.customerId === null && checkout.email !== null && (await emailTombstoned(tx, shop, checkout.email))) {
      return { changed: false, customerId: null, concernsDeleted: true, affectedCustomerIds: [] };
    }
    const currency = await shopCurrency(tx, shop);
    if (currency !== null && checkout.currency !== null && checkout.totalPriceMinor !== null) {
      const problem = foreignCurrencyProblem(currency, { id: checkout.id, currency: checkout.currency }, []);
      if (problem !== null) throw new PayloadValidationError("checkouts", [problem.replace(/^order /, "checkout ")]);
    }
    const written = await tx.$executeRaw`
      INSERT INTO "Checkout" AS cur (shop, id, token, "cartToken", "customerId", email, currency, "totalPriceMinor",
        "subtotalPriceMinor", "abandonedCheckoutUrl", "lineItemCount", "shopifyCreatedAt", "shopifyUpdatedAt", "completedAt")
      VALUES (${shop}, ${checkout.id}::bigint, ${checkout.token}, ${checkout.cartToken}, ${checkout.customerId}::bigint,
        ${checkout.email}, ${checkout.currency}, ${checkout.totalPriceMinor}::bigint, ${checkout.subtotalPriceMinor}::bigint,
        ${checkout.abandonedCheckoutUrl}, ${checkout.lineItemCount}::int, ${checkout.shopifyCreatedAt}::timestamp,
        ${checkout.shopifyUpdatedAt}::timestamp, ${checkout.completedAt}::timestamp)
      ON CONFLICT (shop, id) DO UPDATE SET
        -- Tokens never change for a checkout; an email some source lacks is kept (STATED_ONLY).
        token = COALESCE(excluded.token, cur.token), "cartToken" = COALESCE(excluded."cartToken", cur."cartToken"),
        email = CASE WHEN ${WINS} THEN COALESCE(excluded.email, cur.email) ELSE COALESCE(cur.email, excluded.email) END,
        "customerId" = ${pick("customerId")}, currency = ${pick("currency")}, "totalPriceMinor" = ${pick("totalPriceMinor")},
        "subtotalPriceMinor" = ${pick("subtotalPriceMinor")}, "abandonedCheckoutUrl" = ${pick("abandonedCheckoutUrl")},
        "lineItemCount" = ${pick("lineItemCount")}, "shopifyCreatedAt" = ${pick("shopifyCreatedAt")},
        "shopifyUpdatedAt" = ${pick("shopifyUpdatedAt")},
        -- Completion is final: an older or equal version without it does not undo it.
        "completedAt" = COALESCE(${pick("completedAt")}, cur."completedAt")
      WHERE excluded."shopifyUpdatedAt" > cur."shopifyUpdatedAt"
         OR (excluded."shopifyUpdatedAt" = cur."shopifyUpdatedAt"
             AND ((${raw(CONTENT, "excluded")}) IS DISTINCT FROM (${raw(CONTENT, "cur")}) OR ${STATED_ONLY}))
         -- An older version (e.g. the webhook's, after the import read a later state without
         -- them) still fills in what the stored row lacks, so the outcome is order-free.
         OR ${FILLS}`;
    const changed = written > 0;
    const affected = changed ? distinctIds([checkout.customerId, before]) : [];
    return { changed, customerId: checkout.customerId, concernsDeleted: false, affectedCustomerIds: affected };
  });
}

/**
 * An order's checkout references, written once (they never change). The customer who placed
 * it is recomputed by the order's own write; a checkout of another customer (rare: the buyer
 * logged in at the last step) leaves that one's abandoned carts, so they are returned too.
 */
export async function recordOrderCheckout(tx: RawTx, shop: string, refs: OrderCheckoutRefs): Promise<bigint[]> {
  // One statement: the owners are read only when the row is new (the probes do not read OrderCheckout).
  const owners = await tx.$queryRaw<{ customerId: bigint }[]>`
    WITH inserted AS (
      INSERT INTO "OrderCheckout" (shop, "orderId", "checkoutId", "checkoutToken", "cartToken")
      VALUES (${shop}, ${refs.orderId}::bigint, ${refs.checkoutId}::bigint, ${refs.checkoutToken}, ${refs.cartToken})
      ON CONFLICT (shop, "orderId") DO NOTHING
      RETURNING 1
    )
    SELECT owners."customerId" FROM (${checkoutOwnersSql(shop, refs)}) AS owners WHERE EXISTS (SELECT 1 FROM inserted)`;
  return owners.map((row) => row.customerId);
}

/**
 * The customers of the checkouts an order names: three probes, one per index ((shop, id),
 * (shop, token), (shop, "cartToken")), instead of one OR across the columns, which the
 * planner can only answer by reading the shop's checkouts. Exported for the plan's test.
 */
export function checkoutOwnersSql(shop: string, refs: Pick<OrderCheckoutRefs, "checkoutId" | "checkoutToken" | "cartToken">): Prisma.Sql {
  return Prisma.sql`
    SELECT "customerId" FROM "Checkout" WHERE shop = ${shop} AND id = ${refs.checkoutId}::bigint AND "customerId" IS NOT NULL
    UNION
    SELECT "customerId" FROM "Checkout" WHERE shop = ${shop} AND token = ${refs.checkoutToken}::text AND "customerId" IS NOT NULL
    UNION
    SELECT "customerId" FROM "Checkout" WHERE shop = ${shop} AND "cartToken" = ${refs.cartToken}::text AND "customerId" IS NOT NULL`;
}

const checkoutLockKey = (shop: string, id: bigint) => `tenure:checkout:${shop}:${id}`;

/**
 * The Tombstone id of a redacted customer's email address (resource "customer-email"): the
 * first 8 bytes of SHA-256 of the trimmed, lower-cased address, so the tombstone holds no
 * address; a collision (about 2^-64 per pair) would only keep out a stranger's guest checkout.
 */
export function emailTombstoneId(email: string): bigint {
  return createHash("sha256").update(email.trim().toLowerCase()).digest().readBigInt64BE(0);
}

/** customers/redact: the redacted customer's addresses, as hashes, keep their later guest checkouts out. */
export async function addEmailTombstones(tx: RawTx, shop: string, emails: readonly string[]): Promise<void> {
  const ids = [...new Set(emails.map(emailTombstoneId))];
  if (ids.length === 0) return;
  await tx.$executeRaw`
    INSERT INTO "Tombstone" (shop, resource, id, "deletedAt")
    SELECT ${shop}, 'customer-email', id, now() AT TIME ZONE 'UTC' FROM unnest(${ids}::bigint[]) AS id
    ON CONFLICT (shop, resource, id) DO NOTHING`;
}

async function emailTombstoned(tx: RawTx, shop: string, email: string): Promise<boolean> {
  const rows = await tx.$queryRaw<{ found: number }[]>`
    SELECT 1 AS found FROM "Tombstone" WHERE shop = ${shop} AND resource = 'customer-email' AND id = ${emailTombstoneId(email)}::bigint`;
  return rows.length > 0;
}

async function customerTombstoned(tx: RawTx, shop: string, customerId: bigint): Promise<boolean> {
  const rows = await tx.$queryRaw<{ found: number }[]>`
    SELECT 1 AS found FROM "Tombstone" WHERE shop = ${shop} AND resource = 'customer' AND id = ${customerId}::bigint`;
  return rows.length > 0;
}

// The content columns as a row expression of `alias` (fixed names: no user input).
function raw(columns: string, alias: string): Prisma.Sql {
  return Prisma.raw(columns.split(",").map((column) => `${alias}.${column.trim()}`).join(", "));
}
