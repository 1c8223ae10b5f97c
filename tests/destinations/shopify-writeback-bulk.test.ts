import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SyncDeps, runDestinationPass } from "~/destinations/sync.server";
import { AdminGraphql } from "~/integrations/shopify-admin.server";
import { testDb, testPool } from "../support/db";
import { insertCustomers, outboxOf } from "../support/destinations";
import { metricsRow } from "../support/customer-metrics-rows";
import { FakeShopify } from "../support/fake-shopify";
import { metafieldsInShopify, metafieldsOfTenure, scoreAndMark, writebackShop } from "../support/shopify-writeback";

// The write-back's choice of path (issue 15 part 1): a push with at least the bulk threshold of
// customers to write (1,000 in production; 5 here) goes through writeMetafieldsInBulk (a staged
// JSONL upload and bulkOperationRunMutation, against the fake's bulk mutations), a smaller one
// through metafieldsSet calls; both leave Shopify equal to Tenure's rows.

let fake: FakeShopify;
let admin: AdminGraphql;
let deps: SyncDeps;

beforeAll(async () => {
  fake = await new FakeShopify({ appId: "7373" }).start();
  admin = new AdminGraphql({ db: testDb(), backoffMs: 5, maxRetries: 2 });
  deps = { pool: testPool(), shopifyAdmin: admin, shopifyWriteback: { bulkThreshold: 5, bulkPollIntervalMs: 10 } };
});
afterAll(() => fake.close());

const shopRequests = (shop: string, match: string) => fake.requests.filter((r) => r.shop === shop && r.query.includes(match));
/** The bulk operations started on the shop whose mutation is `mutation` (metafieldsSet, metafieldsDelete). */
const bulkRuns = (shop: string, mutation: string) => shopRequests(shop, "bulkOperationRunMutation").filter((r) => String(r.variables.mutation).includes(`${mutation}(`));

describe("the write-back's bulk threshold", () => {
  it("writes a full pass of as many customers as the threshold as a bulk operation, then a live change with metafieldsSet", async () => {
    const { shop, destinationId } = await writebackShop(fake, admin, "wb-bulk");
    const ids = [1, 2, 3, 4, 5, 6, 7, 8];
    await insertCustomers(shop, ids.map((id) => ({ id })));
    await scoreAndMark(shop, ids.map((id) => metricsRow(id, { chanceOfOrder90d: 0.5, predictedClv: 4_000, behaviours: ["vip"] as never })), new Date("2026-12-01T10:00:00Z"));

    expect(await runDestinationPass(deps, destinationId, "full", "refit")).toMatchObject({ status: "done", counts: { sent: 8, failed: 0 } });
    expect(bulkRuns(shop, "metafieldsSet")).toHaveLength(1);
    // The first pass knows nothing held: the keys without a value are deleted, in bulk too.
    expect(bulkRuns(shop, "metafieldsDelete")).toHaveLength(1);
    expect(shopRequests(shop, "TenureMetafieldsDelete(")).toEqual([]);
    expect(shopRequests(shop, "TenureMetafieldsSet(")).toEqual([]);
    for (const id of ids) expect(metafieldsInShopify(fake, shop, id), `customer ${id}`).toEqual(await metafieldsOfTenure(shop, destinationId, id));
    expect(await outboxOf(destinationId)).toEqual([]);

    // One customer changes: below the threshold, a metafieldsSet call with only what differs.
    await scoreAndMark(shop, [metricsRow(3, { chanceOfOrder90d: 0.25, predictedClv: 4_000, behaviours: ["vip"] as never })], new Date("2026-12-01T10:00:00Z"));
    await runDestinationPass(deps, destinationId, "changes");
    expect(shopRequests(shop, "bulkOperationRunMutation")).toHaveLength(2);
    const live = shopRequests(shop, "TenureMetafieldsSet(").flatMap((r) => r.variables.metafields as { key: string }[]);
    expect(live.map((input) => input.key)).toEqual(["chance_of_ordering_90d"]);
    expect(metafieldsInShopify(fake, shop, 3)).toEqual(await metafieldsOfTenure(shop, destinationId, 3));
  });
});
