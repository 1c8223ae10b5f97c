import { type Queryable } from "~/db/pg.server";

// Reads of Customer rows for the pages (the webhooks and the import write them).

/** The customer as Shopify described them, or undefined. `id`: decimal text. */
export async function readCustomerRow(db: Queryable, shop: string, id: string) {
  const result = await db.query<{ firstName: string | null; lastName: string | null; email: string | null; tags: string[]; ordersCount: number }>(
    `SELECT "firstName", "lastName", email, tags, "ordersCount" FROM "Customer" WHERE shop = $1 AND id = $2::bigint`,
    [shop, id],
  );
  return result.rows[0];
}
