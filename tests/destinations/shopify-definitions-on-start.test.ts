import { type Job } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readShopMetafieldDefinitions } from "~/data/shop-metafield-definitions.server";
import { TENURE_METAFIELD_DEFINITIONS } from "~/destinations/shopify/metafields";
import { redactShop } from "~/ingest/gdpr.server";
import { AdminGraphql } from "~/integrations/shopify-admin.server";
import { type Logger } from "~/lib/log.server";
import { type BackfillJob } from "~/queues/contract";
import { backfillProcessor, makeSureOfMetafieldDefinitions, makeSureOfMetafieldDefinitionsOfInstalledShops } from "~/worker/registry.server";
import { installShop, testDb, testPool, uniqueShop } from "../support/db";
import { FakeShopify } from "../support/fake-shopify";
import { waitFor } from "../support/wait-for";

// Tenure's customer metafield definitions made sure of on install (the backfill's `start`
// job) and on every worker start (one pass over installed shops), through the app's Admin
// GraphQL client against the Shopify fake: a refusal or an unreachable Shopify is logged and
// recorded, and never fails the import.

let fake: FakeShopify;
let admin: AdminGraphql;
beforeAll(async () => {
  fake = await new FakeShopify({ appId: "4343" }).start();
  admin = new AdminGraphql({ db: testDb(), backoffMs: 10 });
});
afterAll(() => fake.close());

function recordingLogger() {
  const lines: { level: "info" | "error"; message: string; fields?: Record<string, unknown> }[] = [];
  const logger: Logger = {
    info: (message, fields) => lines.push({ level: "info", message, fields }),
    error: (message, fields) => lines.push({ level: "error", message, fields }),
  };
  return { lines, logger };
}

async function shopWithSession(label: string): Promise<string> {
  const shop = await installShop(uniqueShop(label));
  await fake.installSession(testDb(), shop, "read_orders,read_all_orders,read_customers,write_customers");
  return shop;
}

const KEYS = TENURE_METAFIELD_DEFINITIONS.map((definition) => definition.key);
const definitionRequests = (shop: string) => fake.requests.filter((r) => r.shop === shop && /metafieldDefinition/.test(r.query));

describe("makeSureOfMetafieldDefinitions", () => {
  it("creates the definitions and records the namespace segment queries name", async () => {
    const shop = await shopWithSession("defs");
    const { lines, logger } = recordingLogger();

    expect(await makeSureOfMetafieldDefinitions({ admin, pool: testPool(), logger }, shop)).toEqual({ complete: true });

    expect(fake.shopData(shop).definitions.map((d) => d.key)).toEqual(KEYS);
    expect(await readShopMetafieldDefinitions(testPool(), shop)).toMatchObject({ namespace: "app--4343", problem: null, completeAt: expect.any(Date) });
    expect(lines).toMatchObject([{ level: "info", fields: { shop, namespace: "app--4343", created: KEYS } }]);
  });

  it("logs and records Shopify's refusal in its words, keeps the namespace it learnt, and does not throw", async () => {
    const shop = await shopWithSession("defs-refused");
    const { lines, logger } = recordingLogger();
    fake.definitionUserErrorsNext = [{ field: ["definition"], message: "Reached the limit of definitions pinned", code: "PINNED_LIMIT_REACHED" }];

    expect(await makeSureOfMetafieldDefinitions({ admin, pool: testPool(), logger }, shop)).toEqual({ complete: false });

    const row = await readShopMetafieldDefinitions(testPool(), shop);
    expect(row).toMatchObject({ namespace: "app--4343", completeAt: null });
    expect(row?.problem).toContain("PINNED_LIMIT_REACHED");
    expect(lines).toEqual([
      expect.objectContaining({ level: "error", message: expect.stringMatching(/^Shopify refused some of Tenure's customer metafield definitions/), fields: expect.objectContaining({ shop }) }),
    ]);

    // The next run completes them and clears the problem.
    expect(await makeSureOfMetafieldDefinitions({ admin, pool: testPool(), logger }, shop)).toEqual({ complete: true });
    expect(await readShopMetafieldDefinitions(testPool(), shop)).toMatchObject({ problem: null, completeAt: expect.any(Date) });
  });

  it("logs and records a shop Shopify cannot be asked about (no session), and does not throw", async () => {
    const shop = await installShop(uniqueShop("defs-no-session"));
    const { lines, logger } = recordingLogger();

    expect(await makeSureOfMetafieldDefinitions({ admin, pool: testPool(), logger }, shop)).toEqual({ complete: false });

    expect(await readShopMetafieldDefinitions(testPool(), shop)).toMatchObject({ namespace: null, completeAt: null, problem: expect.any(String) });
    expect(lines).toMatchObject([{ level: "error", message: expect.stringMatching(/^could not make sure of Tenure's customer metafield definitions/) }]);
  });

  it("records nothing for a shop redacted meanwhile", async () => {
    const shop = await shopWithSession("defs-redacted");
    await redactShop(testDb(), shop);
    await makeSureOfMetafieldDefinitions({ admin, pool: testPool(), logger: recordingLogger().logger }, shop);
    expect(await readShopMetafieldDefinitions(testPool(), shop)).toBeNull();
  });
});

describe("on a worker start", () => {
  it("makes sure of every installed shop's definitions, one shop after the other, and none of an uninstalled shop", async () => {
    const first = await shopWithSession("start-a");
    const second = await shopWithSession("start-b");
    const gone = await shopWithSession("start-gone");
    await testDb().shop.update({ where: { domain: gone }, data: { uninstalledAt: new Date() } });

    const pass = makeSureOfMetafieldDefinitionsOfInstalledShops({ admin, pool: testPool(), logger: recordingLogger().logger });
    const tally = await pass.done;
    expect(tally.shops).toBeGreaterThanOrEqual(2);

    for (const shop of [first, second]) expect(fake.shopData(shop).definitions.map((d) => d.key)).toEqual(KEYS);
    expect(definitionRequests(gone)).toEqual([]);
    // One at a time: the second shop's first request comes after the first shop's last.
    const a = definitionRequests(first).map((r) => r.at);
    const b = definitionRequests(second).map((r) => r.at);
    expect(Math.min(...b)).toBeGreaterThanOrEqual(Math.max(...a));
  });

  it("starts no further shop once stopped", async () => {
    await shopWithSession("start-stop");
    const pass = makeSureOfMetafieldDefinitionsOfInstalledShops({ admin, pool: testPool(), logger: recordingLogger().logger });
    pass.stop();
    expect(await pass.done).toEqual({ shops: 0, complete: 0 });
  });
});

describe("on install (the backfill's start job)", () => {
  const startJob = (shop: string) => ({ data: { task: "start", shop, force: false }, attemptsMade: 0 }) as unknown as Job;

  it("starts the import whatever the definitions' fate, and makes sure of them beside it", async () => {
    const shop = await shopWithSession("install");
    const { lines, logger } = recordingLogger();
    const enqueued: BackfillJob[] = [];
    fake.definitionUserErrorsNext = [{ field: ["definition", "key"], message: "Key is invalid", code: "INVALID" }];
    const processor = backfillProcessor({ db: testDb(), admin, pool: testPool(), log: logger, enqueue: async (job) => void enqueued.push(job) });

    expect(await processor(startJob(shop))).toMatchObject({ state: "started", status: "CREATED" });
    expect(enqueued).toMatchObject([{ task: "advance" }]);

    const row = await waitFor(async () => readShopMetafieldDefinitions(testPool(), shop), 10_000, "the definitions check to be recorded");
    expect(row).toMatchObject({ namespace: "app--4343", completeAt: null });
    expect(row.problem).toContain("Key is invalid");
    expect(lines.some((line) => line.level === "error" && line.fields?.shop === shop)).toBe(true);
  });

  it("can be left out (a test of the import alone)", async () => {
    const shop = await shopWithSession("install-no-defs");
    const processor = backfillProcessor({ db: testDb(), admin, pool: testPool(), enqueue: async () => {} }, { metafieldDefinitions: false });
    await processor(startJob(shop));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(definitionRequests(shop)).toEqual([]);
  });
});
