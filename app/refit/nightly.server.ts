import { installedShops } from "~/data/shop.server";
import { type Queryable } from "~/db/pg.server";
import { requestRefit } from "./request-refit.server";

// The nightly fan-out (the shop-refit queue's `nightly-all` job, on the schedule in
// app/queues/contract.ts): one refit per installed shop, which also ages recency, P(alive)
// and next-order dates of customers who did not order.

/** Asks for a nightly refit of every installed shop, oldest first; returns how many. */
export async function requestNightlyRefits(db: Queryable): Promise<number> {
  const shops = await installedShops(db);
  // One request per shop: a shop already waiting for a refit is not queued twice.
  for (const shop of shops) await requestRefit(shop, "nightly");
  return shops.length;
}
