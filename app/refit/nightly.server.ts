import { shopsWithChangesSince } from "~/data/shop-fit.server";
import { installedShops } from "~/data/shop.server";
import { type Queryable } from "~/db/pg.server";
import { REFIT_DEBOUNCE } from "./debounce";
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

/**
 * At worker start: asks for the refit of every installed shop whose changes have waited past
 * the debounce's maxWaitMs with no refit, which otherwise waits for the shop's next webhook or
 * the night: a debounced request lost with Redis, or the one refit the issue 13 migration
 * (20261206170000) asks of every shop. Returns the shops asked for.
 */
export async function requestOverdueRefits(db: Queryable, now: Date = new Date()): Promise<string[]> {
  const shops = await shopsWithChangesSince(db, new Date(now.getTime() - REFIT_DEBOUNCE.maxWaitMs));
  for (const shop of shops) await requestRefit(shop, "debounce");
  return shops;
}
