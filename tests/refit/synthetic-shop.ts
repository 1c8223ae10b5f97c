import type pg from "pg";

// A synthetic shop written straight into PostgreSQL with set-based SQL (generate_series),
// for the refit tests and bench/refit.bench.ts: a million customers take seconds, not the
// minutes the webhook path would. Deterministic: hashint8extended stands in for a seeded
// random number generator, so the same options give the same rows.
//
// Each customer: a first order `historyDays` or less before `asOfDay`; 1 + Geometric(2/3)
// orders (3 on average), the later ones spread over a lifetime that ends at a random point
// before as-of (so customers drop out, as BG/NBD assumes); a channel, a first product and,
// on 30% of orders, a discount code.

export interface SyntheticShopOptions {
  shop: string;
  customers: number;
  /** Day index the data ends at (orders on or before it). */
  asOfDay: number;
  historyDays?: number;
  /** Customer ids are firstCustomerId .. firstCustomerId + customers - 1. */
  firstCustomerId?: number;
  seed?: number;
  timezone?: string;
}

/** Inserts Shop, Customer and Order rows; returns how many orders were written. */
export async function insertSyntheticShop(db: Pick<pg.Pool, "query">, o: SyntheticShopOptions): Promise<number> {
  const history = o.historyDays ?? 730;
  const firstId = o.firstCustomerId ?? 1;
  const seed = o.seed ?? 1;
  await db.query(
    `INSERT INTO "Shop" (domain, currency, timezone, "updatedAt") VALUES ($1, 'USD', $2, now()) ON CONFLICT (domain) DO NOTHING`,
    [o.shop, o.timezone ?? "UTC"],
  );
  await db.query(
    `INSERT INTO "Customer" (shop, id, tags, "shopifyUpdatedAt")
     SELECT $1, id, '{}', now() FROM generate_series($2::bigint, $2::bigint + $3 - 1) AS id`,
    [o.shop, firstId, o.customers],
  );
  const result = await db.query(
    `WITH u AS (
       -- r(n) in (0, 1) from a hash of (customer, salt)
       SELECT id,
              ((hashint8extended(id, $4 * 10 + 1) & 2147483647)::float8 + 0.5) / 2147483648 AS r1,
              ((hashint8extended(id, $4 * 10 + 2) & 2147483647)::float8 + 0.5) / 2147483648 AS r2,
              ((hashint8extended(id, $4 * 10 + 3) & 2147483647)::float8 + 0.5) / 2147483648 AS r3,
              ((hashint8extended(id, $4 * 10 + 4) & 2147483647)::float8 + 0.5) / 2147483648 AS r4
       FROM generate_series($2::bigint, $2::bigint + $3 - 1) AS id
     ),
     c AS (
       SELECT id, LEAST(40, 1 + floor(ln(r1) / ln(2.0 / 3.0)))::int AS n,
              $5::int - floor(r2 * $6)::int AS first_day, r3, r4
       FROM u
     ),
     o AS (
       SELECT c.id AS customer_id, c.id * 64 + k AS order_id, k,
              CASE WHEN k = 1 THEN c.first_day
                   ELSE c.first_day + floor(((hashint8extended(c.id * 64 + k, $4) & 2147483647)::float8 / 2147483648)
                                            * floor(c.r3 * ($5 - c.first_day + 1)))::int END AS day,
              (hashint8extended(c.id * 64 + k, $4 + 7) & 2147483647) AS h,
              c.r4
       FROM c CROSS JOIN LATERAL generate_series(1, c.n) AS k
     )
     INSERT INTO "Order" (shop, id, "customerId", "processedAt", "shopifyCreatedAt", "shopifyUpdatedAt", currency,
                          "currentTotalMinor", "netMinor", "sourceName", "discountCodes", tags, "firstProductTitle", "lineItemCount")
     SELECT $1, order_id, customer_id, ts, ts, ts, 'USD', net, net,
            (ARRAY['web', 'pos', 'social'])[1 + floor(r4 * 3)::int],
            CASE WHEN h % 10 < 3 THEN ARRAY[(ARRAY['WELCOME10', 'SPRING', 'VIP20'])[1 + (h / 10) % 3]] ELSE '{}'::text[] END,
            '{}'::text[], 'Product ' || (1 + (h / 100) % 12), 1
     FROM (SELECT *, TIMESTAMP '1970-01-01 12:00' + day * INTERVAL '1 day' AS ts, 1000 + (h / 1000) % 9000 AS net FROM o) AS x`,
    [o.shop, firstId, o.customers, seed, o.asOfDay, history],
  );
  return result.rowCount ?? 0;
}
