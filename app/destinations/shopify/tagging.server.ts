import type pg from "pg";
import { readShopDestination, wantFullPass } from "~/data/destinations.server";
import { saveShopifyTagging } from "~/data/settings.server";
import { pgTransaction } from "~/db/pg.server";
import { enqueueDestination } from "~/queues/enqueue.server";
import { SHOPIFY_DESTINATION_KIND } from "../adapter";

// Settings' "Tag customers in Shopify with their Tenure segment" (issue 15): off by default,
// because tags show up everywhere in Shopify admin (orders, customers, exports). Switching it
// wants a full pass of the shop's write-back ('settings'), in the same transaction: on, each
// scored customer gets tenure-<RFM segment key>; off, every tag Tenure put is removed. Tenure
// only ever adds and removes its own tags (tenure-<segment key>), never a merchant's.

export interface TaggingOutcome {
  /** The setting changed (a full pass is wanted). */
  changed: boolean;
  /** The full pass was queued now (false: Redis did not take it; the sweep queues it within a minute). */
  queued: boolean;
}

export async function switchShopifyTagging(pool: pg.Pool, shop: string, on: boolean): Promise<TaggingOutcome> {
  const destinationId = await pgTransaction(pool, async (_tx, client) => {
    if (!(await saveShopifyTagging(client, shop, on))) return null;
    const destination = await readShopDestination(client, shop, SHOPIFY_DESTINATION_KIND);
    if (destination) await wantFullPass(client, destination.id, "settings");
    return destination?.id ?? "";
  });
  if (destinationId === null) return { changed: false, queued: false };
  // No write-back destination yet (made at install and worker start): it starts with a full pass anyway.
  if (destinationId === "") return { changed: true, queued: false };
  try {
    await enqueueDestination({ task: "full", destinationId, reason: "settings" });
    return { changed: true, queued: true };
  } catch {
    return { changed: true, queued: false };
  }
}
