import { type Queryable } from "~/db/pg.server";

// Reads of SegmentTransition rows (written with the metrics, customer-metrics.server.ts)
// for the dashboard and the customer page: newest first, LIMITed, on (shop, at) and
// (shop, customerId) indexes.

/** The shop's latest `limit` segment changes with the customers' names. */
export async function readLatestTransitions(db: Queryable, shop: string, limit: number) {
  // ORDER BY at alone: a refit writes many transitions with one timestamp, and a tie-break
  // on id would sort all of them; any order among equal times is fine here.
  const result = await db.query<{
    customerId: bigint;
    fromSegment: string | null;
    toSegment: string | null;
    at: Date;
    firstName: string | null;
    lastName: string | null;
    email: string | null;
  }>(
    `SELECT t."customerId", t."fromSegment", t."toSegment", t.at, c."firstName", c."lastName", c.email
       FROM (SELECT * FROM "SegmentTransition" WHERE shop = $1 ORDER BY at DESC LIMIT ${limit}) AS t
       LEFT JOIN "Customer" AS c ON c.shop = $1 AND c.id = t."customerId"
       ORDER BY t.at DESC`,
    [shop],
  );
  return result.rows;
}

/** One customer's latest `limit` segment changes. `id`: decimal text. */
export async function readCustomerTransitions(db: Queryable, shop: string, id: string, limit: number) {
  const result = await db.query<{ fromSegment: string | null; toSegment: string | null; at: Date; source: string }>(
    `SELECT "fromSegment", "toSegment", at, source FROM "SegmentTransition"
       WHERE shop = $1 AND "customerId" = $2::bigint ORDER BY at DESC, id DESC LIMIT ${limit}`,
    [shop, id],
  );
  return result.rows;
}
