import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type SyncDeps, runDestinationPass, runErasurePass } from "~/destinations/sync.server";
import { BULK_METAFIELDS_SET } from "~/destinations/shopify/bulk-metafields.server";
import { TENURE_METAFIELD_DEFINITIONS } from "~/destinations/shopify/metafields";
import { METAFIELDS_SET, customerGid } from "~/destinations/shopify/writeback.server";
import { redactCustomer } from "~/ingest/gdpr.server";
import { AdminGraphql } from "~/integrations/shopify-admin.server";
import { testDb, testPool } from "../support/db";
import { insertCustomers, outboxOf } from "../support/destinations";
import { metricsRow } from "../support/customer-metrics-rows";
import { FakeGraphqlErrors, FakeShopify } from "../support/fake-shopify";
import { metafieldsInShopify, metafieldsOfTenure, scoreAndMark, writebackShop } from "../support/shopify-writeback";

// The review of the Shopify write-back (task H): an older bulk operation never lands after a
// live write or an erasure; a GraphQL-level error does not pause; a metafieldsDelete refusal
// refuses only its customer and an erasure it refuses stays; an incomplete bulk write keeps
// what it settled and answers the rest live; a first full pass deletes in bulk; the member
// row keeps no email. Real engine, real Admin client, PostgreSQL, the fake at the HTTP boundary.

let fake: FakeShopify;
let admin: AdminGraphql;
let deps: SyncDeps;

beforeAll(async () => {
  fake = await new FakeShopify({ appId: "6262" }).start();
  admin = new AdminGraphql({ db: testDb(), backoffMs: 5, maxRetries: 2 });
  deps = { pool: testPool(), shopifyAdmin: admin, shopifyWriteback: { bulkThreshold: 5, bulkPollIntervalMs: 10 } };
});
afterEach(() => {
  fake.answerFirst = null;
  fake.failNext = [];
});
afterAll(() => fake.close());

const T0 = new Date("2026-12-01T10:00:00Z");
const T1 = new Date("2026-12-02T11:30:00Z");
const FIGURES = { chanceOfOrder90d: 0.4321, predictedClv: 12_345, expectedNextOrderDay: 20_500, behaviours: ["vip"] as never };

const requestsOf = (shop: string, match: string) => fake.requests.filter((r) => r.shop === shop && r.query.includes(match));
type Identifier = { ownerId: string; key: string };
const identifiersOf = (variables: Record<string, unknown>) => (variables.metafields ?? []) as Identifier[];

async function expectShopifyEqualsTenure(shop: string, destinationId: string, customers: readonly number[]): Promise<void> {
  for (const id of customers) expect(metafieldsInShopify(fake, shop, id), `customer ${id}`).toEqual(await metafieldsOfTenure(shop, destinationId, id));
}

/** A bulk operation another worker started and stopped polling: metafieldsSet of these values, still unfinished in Shopify. */
function leftoverOperation(shop: string, values: readonly { ownerId: string; key: string; type: string; value: string }[]) {
  return fake.bulkMutations.startOperation(shop, BULK_METAFIELDS_SET, [JSON.stringify({ metafields: values.map((v) => ({ ...v, namespace: "$app" })) })]);
}

/** The values the live path last sent for a customer (their full first write). */
function firstWriteOf(shop: string, customerId: number) {
  return requestsOf(shop, "TenureMetafieldsSet(")
    .flatMap((r) => r.variables.metafields as { ownerId: string; key: string; type: string; value: string }[])
    .filter((input) => input.ownerId === customerGid(String(customerId)));
}

describe("an older bulk operation still running in Shopify", () => {
  it("is waited for before the live path writes newer values, so it cannot overwrite them", async () => {
    const { shop, destinationId } = await writebackShop(fake, admin, "wbr-leftover");
    await insertCustomers(shop, [{ id: 1 }]);
    await scoreAndMark(shop, [metricsRow(1, { netSpent: 5_000, ...FIGURES })], T0);
    await runDestinationPass(deps, destinationId, "changes");
    const v1 = firstWriteOf(shop, 1);
    expect(v1.length).toBe(7);

    // A refit's operation holding V1 was abandoned (worker restart) and runs on in Shopify.
    const leftover = leftoverOperation(shop, v1);
    await scoreAndMark(shop, [metricsRow(1, { netSpent: 9_000, ...FIGURES })], T1);
    expect(await runDestinationPass(deps, destinationId, "changes")).toMatchObject({ status: "done", counts: { sent: 1 } });
    fake.bulkMutations.finish(leftover); // whatever it still had to run lands now

    expect(leftover.status).toBe("COMPLETED");
    await expectShopifyEqualsTenure(shop, destinationId, [1]);
    expect(metafieldsInShopify(fake, shop, 1).historic_value).not.toBe(v1.find((v) => v.key === "historic_value")!.value);
  });

  it("is waited for before an erasure, so it cannot put the metafields back", async () => {
    const { shop, destinationId } = await writebackShop(fake, admin, "wbr-leftover-erase");
    await insertCustomers(shop, [{ id: 1 }]);
    await scoreAndMark(shop, [metricsRow(1, FIGURES)], T0);
    await runDestinationPass(deps, destinationId, "changes");
    const leftover = leftoverOperation(shop, firstWriteOf(shop, 1));

    await redactCustomer(testDb(), shop, { customerId: 1n, email: "customer-1@example.com", phone: null, orderIds: [] });
    expect(await runErasurePass(deps, destinationId)).toEqual({ status: "done", erased: 1 });
    fake.bulkMutations.finish(leftover);

    expect(metafieldsInShopify(fake, shop, 1)).toEqual({});
  });
});

describe("a GraphQL-level error", () => {
  it("keeps the changes for the next pass instead of pausing the write-back", async () => {
    const { shop, destinationId } = await writebackShop(fake, admin, "wbr-graphql-error");
    await insertCustomers(shop, [{ id: 1 }]);
    await scoreAndMark(shop, [metricsRow(1)], T0);
    let once = true;
    fake.answerFirst = (query) => {
      if (!query.includes("TenureMetafieldsSet(") || !once) return undefined;
      once = false;
      throw new FakeGraphqlErrors([{ message: "Internal error. Looks like something went wrong on our end.", extensions: { code: "INTERNAL_SERVER_ERROR" } }]);
    };

    await expect(runDestinationPass(deps, destinationId, "changes")).rejects.toThrow(/Internal error/);
    const row = await testPool().query<{ status: string }>(`SELECT status FROM "Destination" WHERE id = $1`, [destinationId]);
    expect(row.rows[0]!.status).toBe("active");
    expect(await outboxOf(destinationId)).toEqual(["1"]);

    expect(await runDestinationPass(deps, destinationId, "changes")).toMatchObject({ status: "done", counts: { sent: 1, failed: 0 } });
    await expectShopifyEqualsTenure(shop, destinationId, [1]);
  });

  it("still pauses when Shopify refuses Tenure itself (401)", async () => {
    const { shop, destinationId } = await writebackShop(fake, admin, "wbr-401");
    await insertCustomers(shop, [{ id: 1 }]);
    await scoreAndMark(shop, [metricsRow(1)], T0);
    fake.failNext = [401, 401, 401];
    expect(await runDestinationPass(deps, destinationId, "changes")).toMatchObject({ status: "paused" });
    expect(await outboxOf(destinationId)).toEqual(["1"]);
  });
});

/** metafieldsDelete answered with a userError whenever the call holds one of customer `id`'s identifiers. */
function refuseDeletesOf(id: number) {
  fake.answerFirst = (query, variables) => {
    if (!query.includes("metafieldsDelete(")) return undefined;
    const index = identifiersOf(variables).findIndex((identifier) => identifier.ownerId === customerGid(String(id)));
    if (index < 0) return undefined;
    return { metafieldsDelete: { deletedMetafields: null, userErrors: [{ field: ["metafields", String(index), "ownerId"], message: "Owner is being merged" }] } };
  };
}

describe("metafieldsDelete refusals", () => {
  it("refuse only the customer Shopify points at; the others of the same call are deleted and recorded", async () => {
    const { shop, destinationId } = await writebackShop(fake, admin, "wbr-delete-refused");
    const ids = [1, 2, 3];
    await insertCustomers(shop, ids.map((id) => ({ id })));
    await scoreAndMark(shop, ids.map((id) => metricsRow(id, FIGURES)), T0);
    await runDestinationPass(deps, destinationId, "changes");

    // Every customer loses their behaviour: one metafieldsDelete call of three identifiers.
    refuseDeletesOf(2);
    await scoreAndMark(shop, ids.map((id) => metricsRow(id, { ...FIGURES, behaviours: [] as never })), T1);
    expect(await runDestinationPass(deps, destinationId, "changes")).toMatchObject({ status: "done", counts: { sent: 2, failed: 1 } });

    const failures = await testPool().query<{ customerId: string; reason: string }>(
      `SELECT "customerId"::text AS "customerId", reason FROM "DestinationFailure" WHERE "destinationId" = $1`,
      [destinationId],
    );
    expect(failures.rows).toEqual([{ customerId: "2", reason: expect.stringContaining("Owner is being merged") }]);
    await expectShopifyEqualsTenure(shop, destinationId, [1, 3]);
    expect(metafieldsInShopify(fake, shop, 2)).toHaveProperty("behaviours");
  });

  it("keep an erasure's row when Shopify refuses it, and the next pass erases", async () => {
    const { shop, destinationId } = await writebackShop(fake, admin, "wbr-erase-refused");
    await insertCustomers(shop, [{ id: 1 }]);
    await scoreAndMark(shop, [metricsRow(1, FIGURES)], T0);
    await runDestinationPass(deps, destinationId, "changes");
    await redactCustomer(testDb(), shop, { customerId: 1n, email: "customer-1@example.com", phone: null, orderIds: [] });

    refuseDeletesOf(1);
    await expect(runErasurePass(deps, destinationId)).rejects.toThrow(/Owner is being merged/);
    const rows = await testPool().query<{ customerId: string }>(`SELECT "customerId"::text AS "customerId" FROM "DestinationErasure" WHERE "destinationId" = $1`, [destinationId]);
    expect(rows.rows).toEqual([{ customerId: "1" }]);
    expect(metafieldsInShopify(fake, shop, 1)).not.toEqual({});

    fake.answerFirst = null;
    expect(await runErasurePass(deps, destinationId)).toEqual({ status: "done", erased: 1 });
    expect(metafieldsInShopify(fake, shop, 1)).toEqual({});
  });
});

describe("a bulk write ending incomplete", () => {
  it("keeps the customers it settled and writes the pending ones live: the pass completes", async () => {
    const { shop, destinationId } = await writebackShop(fake, admin, "wbr-bulk-incomplete");
    const ids = [1, 2, 3, 4, 5, 6];
    await insertCustomers(shop, ids.map((id) => ({ id })));
    await scoreAndMark(shop, ids.map((id) => metricsRow(id, FIGURES)), T0);
    // The bulk line holding customer 4 cannot run, in every operation (a poison line).
    fake.answerFirst = (query, variables) => {
      if (!query.includes("TenureBulkMetafieldsSet(")) return undefined;
      if (!identifiersOf(variables).some((identifier) => identifier.ownerId === customerGid("4"))) return undefined;
      throw new FakeGraphqlErrors([{ message: "Internal error. Looks like something went wrong on our end.", extensions: { code: "INTERNAL_SERVER_ERROR" } }]);
    };

    expect(await runDestinationPass(deps, destinationId, "full", "refit")).toMatchObject({ status: "done", counts: { sent: 6, failed: 0 } });
    expect(requestsOf(shop, "bulkOperationRunMutation").length).toBeGreaterThanOrEqual(2); // the first, then the retries of the failing line
    const live = requestsOf(shop, "TenureMetafieldsSet(").flatMap((r) => identifiersOf(r.variables).map((i) => i.ownerId));
    expect(live).toContain(customerGid("4"));
    expect(live).not.toContain(customerGid("1")); // settled by the bulk operation, not sent again
    await expectShopifyEqualsTenure(shop, destinationId, ids);
    expect(await outboxOf(destinationId)).toEqual([]);
  });
});

describe("the first full pass's deletions", () => {
  it("go through a bulk operation from the bulk threshold, not thousands of metafieldsDelete calls", async () => {
    const { shop, destinationId } = await writebackShop(fake, admin, "wbr-bulk-deletes");
    const ids = [1, 2, 3, 4, 5, 6];
    await insertCustomers(shop, ids.map((id) => ({ id })));
    // A value left from an earlier install: the first pass (nothing known held) must delete it.
    const behaviours = TENURE_METAFIELD_DEFINITIONS.find((definition) => definition.key === "behaviours")!;
    await admin.request(shop, METAFIELDS_SET, { metafields: [{ ownerId: customerGid("3"), namespace: "$app", key: "behaviours", type: behaviours.type, value: JSON.stringify(["vip"]) }] });
    expect(metafieldsInShopify(fake, shop, 3)).toHaveProperty("behaviours");
    await scoreAndMark(shop, ids.map((id) => metricsRow(id)), T0);

    expect(await runDestinationPass(deps, destinationId, "full", "initial")).toMatchObject({ status: "done", counts: { sent: 6, failed: 0 } });
    expect(requestsOf(shop, "TenureMetafieldsDelete(")).toEqual([]);
    const deleting = fake.bulkMutations.operations.filter((operation) => operation.shop === shop && operation.mutation.includes("metafieldsDelete("));
    expect(deleting).toHaveLength(1);
    expect(deleting[0]!.status).toBe("COMPLETED");
    await expectShopifyEqualsTenure(shop, destinationId, ids);
    expect(metafieldsInShopify(fake, shop, 3)).not.toHaveProperty("behaviours");
  });
});

describe("the write-back's member rows", () => {
  it("keep no email (Shopify finds customers by id), nor do their erasure rows", async () => {
    const { shop, destinationId } = await writebackShop(fake, admin, "wbr-no-email");
    await insertCustomers(shop, [{ id: 1, email: "someone@example.com" }]);
    await scoreAndMark(shop, [metricsRow(1)], T0);
    await runDestinationPass(deps, destinationId, "changes");
    const members = await testPool().query<{ email: string }>(`SELECT email FROM "DestinationMember" WHERE "destinationId" = $1`, [destinationId]);
    expect(members.rows).toEqual([{ email: "" }]);

    await redactCustomer(testDb(), shop, { customerId: 1n, email: "someone@example.com", phone: null, orderIds: [] });
    const erasures = await testPool().query<{ email: string }>(`SELECT email FROM "DestinationErasure" WHERE "destinationId" = $1`, [destinationId]);
    expect(erasures.rows).toEqual([{ email: "" }]);
  });
});
