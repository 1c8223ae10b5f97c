import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DestinationAuthError, DestinationRetryableError } from "~/destinations/adapter";
import {
  BULK_METAFIELDS_SET, BulkWriteIncompleteError, type BulkWriteOptions, type CustomerMetafieldWrite, writeMetafieldsInBulk,
} from "~/destinations/shopify/bulk-metafields.server";
import { ensureTenureMetafieldDefinitions } from "~/destinations/shopify/definitions.server";
import { TENURE_METAFIELD_KEYS as KEYS, type TenureMetafieldValue } from "~/destinations/shopify/metafields";
import { AdminGraphql } from "~/integrations/shopify-admin.server";
import { testDb, uniqueShop } from "../support/db";
import { FakeShopify } from "../support/fake-shopify";
import { STAGED_UPLOADS_URL } from "../support/fake-shopify-bulk-mutations";
import { type CostBucket } from "../../demo/fakes/shopify-rules";

// The bulk-mutation path of the metafield write-back, through the app's Admin GraphQL client
// (offline session in PostgreSQL, cost bucket, its retries) against the Shopify fake at the
// HTTP boundary: staged upload, bulkOperationRunMutation, polls, the result file, and every
// line run by the fake's own metafieldsSet (definitions, validations, atomicity).

const NAMESPACE = "app--4242";
let fake: FakeShopify;
let admin: AdminGraphql;
beforeAll(async () => {
  fake = await new FakeShopify({ appId: "4242", bulkMutations: { maxFileBytes: 64 * 1024 } }).start();
  admin = new AdminGraphql({ db: testDb(), backoffMs: 5 });
});
afterAll(() => fake.close());

const FAST: BulkWriteOptions = { pollIntervalMs: 5, transfer: { backoffMs: 5 }, maxFileBytes: 64 * 1024 };

async function shopWithDefinitions(): Promise<string> {
  const shop = uniqueShop("bulk-metafields");
  await fake.installSession(testDb(), shop, "read_orders,read_all_orders,read_customers,write_customers");
  await ensureTenureMetafieldDefinitions(admin, shop);
  return shop;
}

/** All seven of Tenure's values, as after a refit; `chance` may be made invalid on purpose. */
function values(n: number, chance = `0.${String(10 + (n % 80))}`): TenureMetafieldValue[] {
  return [
    { key: KEYS.rfmSegment, type: "single_line_text_field", value: n % 2 ? "champions" : "at-risk" },
    { key: KEYS.behaviours, type: "list.single_line_text_field", value: JSON.stringify(["repeat-buyer"]) },
    { key: KEYS.expectedSpend12m, type: "number_decimal", value: `${100 + n}.50` },
    { key: KEYS.historicValue, type: "number_decimal", value: `${200 + n}.00` },
    { key: KEYS.chanceOfOrdering90d, type: "number_decimal", value: chance },
    { key: KEYS.expectedNextOrder, type: "date", value: "2027-01-15" },
    { key: KEYS.lastScored, type: "date_time", value: "2026-12-07T00:30:00Z" },
  ];
}

const customers = (count: number, from = 1): CustomerMetafieldWrite[] =>
  Array.from({ length: count }, (_, i) => ({ customerId: String(7_000_000_000 + from + i), set: values(from + i) }));

const gid = (customerId: string) => `gid://shopify/Customer/${customerId}`;

/** What the fake holds for a customer: key -> value. */
function stored(shop: string, customerId: string): Record<string, string> {
  const owner = fake.shopData(shop).metafields.get(gid(customerId));
  return Object.fromEntries([...(owner?.values() ?? [])].filter((m) => m.namespace === NAMESPACE).map((m) => [m.key, m.value]));
}

function expectWritten(shop: string, writes: readonly CustomerMetafieldWrite[]): void {
  for (const write of writes) expect(stored(shop, write.customerId)).toEqual(Object.fromEntries(write.set.map((v) => [v.key, v.value])));
}

const operationsOf = (shop: string) => fake.bulkMutations.operations.filter((o) => o.shop === shop);
/** The customers (decimal ids) each line of an operation carries. */
const lineCustomers = (line: string) => [...new Set((JSON.parse(line) as { metafields: { ownerId: string }[] }).metafields.map((m) => m.ownerId.split("/").pop()!))];
const customersOf = (operation: { lines: string[] }) => operation.lines.flatMap(lineCustomers);

describe("writeMetafieldsInBulk", () => {
  it("packs whole customers into metafieldsSet lines of at most 25, runs one operation and writes every value", async () => {
    const shop = await shopWithDefinitions();
    const writes = customers(10);
    const outcomes = await writeMetafieldsInBulk(admin, shop, writes, FAST);

    expect(outcomes).toEqual(writes.map((w) => ({ customerId: w.customerId, ok: true })));
    expectWritten(shop, writes);
    const [operation, ...more] = operationsOf(shop);
    expect(more).toEqual([]);
    expect(operation.mutation).toBe(BULK_METAFIELDS_SET);
    // 7 values each: 3 customers (21 metafields) a line, none split across lines.
    expect(operation.lines.map((line) => (JSON.parse(line) as { metafields: unknown[] }).metafields.length)).toEqual([21, 21, 21, 7]);
    expect(customersOf(operation)).toEqual(writes.map((w) => w.customerId));
    // The upload went to the staged target, and the operation was started with its key.
    expect(fake.bulkMutations.uploads.find((u) => u.key === operation.stagedUploadPath)?.status).toBe(201);
    expect(JSON.parse(operation.lines[0]).metafields[0]).toEqual({ ownerId: gid(writes[0].customerId), namespace: "$app", key: "rfm_segment", type: "single_line_text_field", value: "champions" });
  });

  it("answers ok at once for a customer with nothing to set, and sends nothing when no one has", async () => {
    const shop = await shopWithDefinitions();
    const before = fake.requests.length;
    expect(await writeMetafieldsInBulk(admin, shop, [{ customerId: "71", set: [] }], FAST)).toEqual([{ customerId: "71", ok: true }]);
    expect(fake.requests.length).toBe(before);
  });

  it("cuts a file larger than the size limit into several operations, run one after the other", async () => {
    const shop = await shopWithDefinitions();
    const writes = customers(120);
    const outcomes = await writeMetafieldsInBulk(admin, shop, writes, FAST);

    expect(outcomes.every((o) => o.ok)).toBe(true);
    expectWritten(shop, writes);
    const operations = operationsOf(shop);
    expect(operations.length).toBeGreaterThan(1);
    for (const [i, operation] of operations.entries()) {
      expect(Buffer.byteLength(`${operation.lines.join("\n")}\n`)).toBeLessThanOrEqual(64 * 1024);
      if (i > 0) expect(operation.createdAt).toBeGreaterThanOrEqual(operations[i - 1].completedAt!);
    }
    expect(operations.flatMap(customersOf)).toEqual(writes.map((w) => w.customerId));
  });

  it("runs concurrent calls for one shop one after the other", async () => {
    const shop = await shopWithDefinitions();
    const first = customers(6, 1);
    const second = customers(6, 100);
    const [a, b] = await Promise.all([writeMetafieldsInBulk(admin, shop, first, FAST), writeMetafieldsInBulk(admin, shop, second, FAST)]);

    expect([...a, ...b].every((o) => o.ok)).toBe(true);
    expectWritten(shop, [...first, ...second]);
    expect(operationsOf(shop)).toHaveLength(2);
    expect(fake.bulkMutations.mostRunning.get(shop)).toBe(1);
  });

  it("stages the next call's file while the shop's operation runs, and still runs one operation at a time", async () => {
    const shop = await shopWithDefinitions();
    const first = customers(6, 1);
    const second = customers(6, 100);
    const [a, b] = await Promise.all([writeMetafieldsInBulk(admin, shop, first, FAST), writeMetafieldsInBulk(admin, shop, second, FAST)]);

    expect([...a, ...b].every((o) => o.ok)).toBe(true);
    const [earlier, later] = operationsOf(shop);
    const stagings = fake.requests.filter((r) => r.shop === shop && r.query.includes("stagedUploadsCreate("));
    expect(stagings).toHaveLength(2);
    // Both files were asked for before the first operation ended; the second started after it.
    for (const staging of stagings) expect(staging.at).toBeLessThan(earlier.completedAt!);
    expect(later.createdAt).toBeGreaterThanOrEqual(earlier.completedAt!);
    expect(fake.bulkMutations.mostRunning.get(shop)).toBe(1);
  });

  it("waits for a bulk mutation already running on the shop (another process's, or a leftover) before starting its own", async () => {
    const shop = await shopWithDefinitions();
    const [write] = customers(1);
    // A leftover operation from an earlier pass, still running with an older value.
    const stale = { metafields: [{ ownerId: gid(write.customerId), namespace: "$app", key: "chance_of_ordering_90d", type: "number_decimal", value: "0.99" }] };
    const leftover = fake.bulkMutations.startOperation(shop, BULK_METAFIELDS_SET, [JSON.stringify(stale)]);

    await writeMetafieldsInBulk(admin, shop, [write], FAST);
    const mine = operationsOf(shop).find((o) => o !== leftover)!;
    expect(leftover.status).toBe("COMPLETED");
    expect(mine.createdAt).toBeGreaterThanOrEqual(leftover.completedAt!);
    expect(stored(shop, write.customerId)[KEYS.chanceOfOrdering90d]).toBe(write.set[4].value);
    expect(fake.bulkMutations.mostRunning.get(shop)).toBe(1);
  });

  it.each(["OPERATION_IN_PROGRESS", "LIMIT_REACHED"])("waits and starts again when Shopify answers %s", async (code) => {
    const shop = await shopWithDefinitions();
    const writes = customers(4);
    fake.bulkMutations.runUserErrorsNext.push(
      { code, message: code === "LIMIT_REACHED" ? "Bulk operations limit reached. Please try again later." : "A bulk mutation operation for this app and shop is already in progress: gid://shopify/BulkOperation/1." },
      { code, message: "still busy" },
    );
    const outcomes = await writeMetafieldsInBulk(admin, shop, writes, FAST);

    expect(outcomes.every((o) => o.ok)).toBe(true);
    expectWritten(shop, writes);
    expect(fake.requests.filter((r) => r.shop === shop && r.query.includes("bulkOperationRunMutation(")).length).toBe(3);
    expect(operationsOf(shop)).toHaveLength(1);
  });

  it("retries a 5xx on stagedUploadsCreate, on the upload, on bulkOperationRunMutation and on the polls (mid-bulk)", async () => {
    const shop = await shopWithDefinitions();
    const writes = customers(7);
    const failed = new Set<string>();
    // The first call is stagedUploadsCreate (the file goes up before the shop's turn); then
    // each answer arms a 5xx for the call that follows it.
    fake.failNext.push(503);
    fake.bulkMutations.onCall = (field) => {
      if (field === "bulkOperations" && !failed.has(field)) fake.failNext.push(502);
      if (field === "bulkOperationRunMutation" && !failed.has(field)) fake.failNext.push(503, 500);
      failed.add(field);
    };
    fake.bulkMutations.failUploadsNext.push(503, 500);
    try {
      const outcomes = await writeMetafieldsInBulk(admin, shop, writes, FAST);
      expect(outcomes.every((o) => o.ok)).toBe(true);
    } finally {
      fake.bulkMutations.onCall = null;
    }
    expectWritten(shop, writes);
    const failedCalls = fake.requests.filter((r) => r.shop === shop && r.status >= 500).map((r) => /(?:mutation|query) (\w+)/.exec(r.query)?.[1]);
    expect(failedCalls).toEqual(["TenureStagedUpload", "TenureBulkMutation", "TenureBulkMutationPoll", "TenureBulkMutationPoll"]);
    expect(fake.bulkMutations.uploads.filter((u) => u.status >= 500)).toHaveLength(2);
    expect(operationsOf(shop)).toHaveLength(1);
  });

  it("an operation Shopify ends with ACCESS_DENIED is a setup problem in the merchant's words (no API key to paste), not a retry", async () => {
    const shop = await shopWithDefinitions();
    fake.bulkMutations.failNextOperation = { afterLines: 0, errorCode: "ACCESS_DENIED" };
    const error = await writeMetafieldsInBulk(admin, shop, customers(3), FAST).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DestinationAuthError);
    expect((error as DestinationAuthError).kind).toBe("setup");
    expect((error as Error).message).toMatch(/ACCESS_DENIED.*write_customers/);
  });

  it("sends again only the lines an operation that FAILED midway did not run (partialDataUrl)", async () => {
    const shop = await shopWithDefinitions();
    const writes = customers(10);
    fake.bulkMutations.failNextOperation = { afterLines: 2, errorCode: "INTERNAL_SERVER_ERROR" };
    const outcomes = await writeMetafieldsInBulk(admin, shop, writes, FAST);

    expect(outcomes.every((o) => o.ok)).toBe(true);
    expectWritten(shop, writes);
    const [failedOperation, followUp] = operationsOf(shop);
    expect(failedOperation.status).toBe("FAILED");
    expect(failedOperation.ran).toBe(2);
    expect(customersOf(followUp).sort()).toEqual(writes.slice(6).map((w) => w.customerId).sort());
  });

  it("throws a retryable BulkWriteIncompleteError, with what was settled, when operations keep failing", async () => {
    const shop = await shopWithDefinitions();
    const writes = customers(9);
    fake.bulkMutations.failNextOperation = { afterLines: 1, errorCode: "INTERNAL_SERVER_ERROR" };
    fake.bulkMutations.onEnded = () => (fake.bulkMutations.failNextOperation = { afterLines: 0, errorCode: "INTERNAL_SERVER_ERROR" });
    let error: unknown;
    try {
      error = await writeMetafieldsInBulk(admin, shop, writes, { ...FAST, maxAttempts: 2 }).catch((caught: unknown) => caught);
    } finally {
      fake.bulkMutations.onEnded = null;
      fake.bulkMutations.failNextOperation = null;
    }
    expect(error).toBeInstanceOf(BulkWriteIncompleteError);
    expect(error).toBeInstanceOf(DestinationRetryableError);
    const incomplete = error as BulkWriteIncompleteError;
    expect(incomplete.outcomes).toEqual(writes.slice(0, 3).map((w) => ({ customerId: w.customerId, ok: true })));
    expect(incomplete.pending.sort()).toEqual(writes.slice(3).map((w) => w.customerId).sort());
    expectWritten(shop, writes.slice(0, 3));
    expect(stored(shop, writes[3].customerId)).toEqual({});
  });

  it("refuses the customer Shopify refused, in its words, and writes the others of the same line in a follow-up", async () => {
    const shop = await shopWithDefinitions();
    const writes = customers(9);
    writes[4] = { ...writes[4], set: values(5, "1.5") }; // above the definition's max of 1
    const outcomes = await writeMetafieldsInBulk(admin, shop, writes, FAST);

    expect(outcomes[4]).toEqual({ customerId: writes[4].customerId, ok: false, reason: "Shopify refused chance_of_ordering_90d: Value has a maximum of 1. [INVALID_VALUE]" });
    expect(outcomes.filter((o) => o.ok)).toHaveLength(8);
    expectWritten(shop, writes.filter((_, i) => i !== 4));
    expect(stored(shop, writes[4].customerId)).toEqual({});
    const [, followUp] = operationsOf(shop);
    expect(customersOf(followUp)).toEqual([writes[3].customerId, writes[5].customerId]);
  });

  it("refuses a customer deleted (redacted) in Shopify mid-write and writes the rest", async () => {
    const shop = await shopWithDefinitions();
    const writes = customers(6);
    fake.shopData(shop).deletedCustomers.add(gid(writes[1].customerId));
    const outcomes = await writeMetafieldsInBulk(admin, shop, writes, FAST);

    expect(outcomes[1]).toMatchObject({ ok: false, reason: expect.stringContaining("Owner does not exist.") as string });
    expect(outcomes.filter((o) => o.ok).map((o) => o.customerId)).toEqual(writes.filter((_, i) => i !== 1).map((w) => w.customerId));
    expectWritten(shop, writes.filter((_, i) => i !== 1));
  });

  it.each([
    ["a customer id that is not decimal", [{ customerId: "gid://shopify/Customer/1", set: values(1) }], /not a decimal Shopify customer id/],
    ["a customer twice", [...customers(1), ...customers(1)], /appears twice/],
    ["more than 25 values for one customer", [{ customerId: "5", set: [...values(1), ...values(2), ...values(3), ...values(4)] }], /28 values; one metafieldsSet call takes at most 25/],
  ])("refuses %s before sending anything", async (_case, writes, message) => {
    const shop = await shopWithDefinitions();
    const before = fake.requests.length;
    await expect(writeMetafieldsInBulk(admin, shop, writes, FAST)).rejects.toThrow(message);
    expect(fake.requests.length).toBe(before);
    expect(operationsOf(shop)).toEqual([]);
  });
});

describe("the fake's staged uploads and bulk mutations", () => {
  it("refuses an upload above its file size limit (EntityTooLarge), and an operation on a file never uploaded (NO_SUCH_FILE)", async () => {
    const shop = await shopWithDefinitions();
    const { stagedUploadsCreate } = await admin.request<{ stagedUploadsCreate: { stagedTargets: { url: string; parameters: { name: string; value: string }[] }[] } }>(
      shop,
      `mutation { stagedUploadsCreate(input: [{ resource: BULK_MUTATION_VARIABLES, filename: "x.jsonl", mimeType: "text/jsonl", httpMethod: POST }]) { stagedTargets { url parameters { name value } } userErrors { field message } } }`,
      { input: [{ resource: "BULK_MUTATION_VARIABLES", filename: "x.jsonl", mimeType: "text/jsonl", httpMethod: "POST" }] },
    );
    const [target] = stagedUploadsCreate.stagedTargets;
    expect(target.url).toBe(STAGED_UPLOADS_URL);
    const form = new FormData();
    for (const parameter of target.parameters) form.append(parameter.name, parameter.value);
    form.append("file", new Blob(["{}\n".repeat(30_000)]), "x.jsonl");
    const response = await fetch(target.url, { method: "POST", body: form });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("<Code>EntityTooLarge</Code>");

    const key = target.parameters.find((p) => p.name === "key")!.value;
    const run = await admin.request<{ bulkOperationRunMutation: { bulkOperation: unknown; userErrors: { code: string }[] } }>(
      shop,
      `mutation Run($mutation: String!, $stagedUploadPath: String!) { bulkOperationRunMutation(mutation: $mutation, stagedUploadPath: $stagedUploadPath) { bulkOperation { id } userErrors { field message code } } }`,
      { mutation: BULK_METAFIELDS_SET, stagedUploadPath: key },
    );
    expect(run.bulkOperationRunMutation).toMatchObject({ bulkOperation: null, userErrors: [{ code: "NO_SUCH_FILE" }] });
  });

  it("answers a line over metafieldsSet's 25 with that line's GraphQL errors, as Shopify's result file does", async () => {
    const shop = await shopWithDefinitions();
    const tooMany = { metafields: Array.from({ length: 26 }, (_, i) => ({ ownerId: gid(String(900 + i)), namespace: "$app", key: "historic_value", type: "number_decimal", value: "1.00" })) };
    const operation = fake.bulkMutations.startOperation(shop, BULK_METAFIELDS_SET, [JSON.stringify(tooMany)]);
    fake.bulkMutations.finish(operation);
    expect(JSON.parse(operation.results[0])).toMatchObject({ errors: [{ extensions: { code: "MAX_INPUT_SIZE_EXCEEDED" } }], __lineNumber: 0 });
  });
});

// Last: it leaves the fake's one cost bucket (shared by every shop here) empty for a while.
describe("a THROTTLED poll", () => {
  it("keeps polling through THROTTLED answers when the shop's cost bucket runs dry mid-bulk (another worker or app spent it)", async () => {
    const shop = await shopWithDefinitions();
    const writes = customers(7);
    // Let the bucket refill a second (100 points) after the tests before: the client must see room, then lose it.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    fake.bulkMutations.onCall = (field) => {
      // Once the answer (with its cost extensions) is out, someone else spends the bucket (2,000
      // points, 100 restored a second) to empty: the client cannot know, and its next poll is THROTTLED.
      if (field === "bulkOperationRunMutation") {
        const bucket = (fake as unknown as { costBucket: CostBucket }).costBucket; // the fake's own, not our code
        // Kept empty until a poll has been THROTTLED, however late it comes on a loaded machine
        // (a fixed half second missed it once in CI), 10 s at most.
        const throttledPoll = () => fake.requests.some((r) => r.shop === shop && r.throttled && r.query.includes("TenureBulkMutationPoll"));
        const spend = setInterval(() => {
          while (bucket.take()) {
            // spent
          }
          if (throttledPoll()) clearInterval(spend);
        }, 2);
        setTimeout(() => clearInterval(spend), 10_000);
      }
    };
    try {
      expect((await writeMetafieldsInBulk(admin, shop, writes, FAST)).every((o) => o.ok)).toBe(true);
    } finally {
      fake.bulkMutations.onCall = null;
    }
    expectWritten(shop, writes);
    expect(fake.requests.some((r) => r.shop === shop && r.throttled && r.query.includes("TenureBulkMutationPoll"))).toBe(true);
  });
});
