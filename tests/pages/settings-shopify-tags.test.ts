import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ensureShopifyDestination, readDestination } from "~/data/destinations.server";
import { readShopifyTagging } from "~/data/settings.server";
import { loadSettingsPage, submitShopifyTags } from "~/pages/settings.server";
import { closeProducerQueues } from "~/queues/connections.server";
import { QUEUE } from "~/queues/contract";
import { installShop, testPool, uniqueShop } from "../support/db";

// Settings' "Tag customers in Shopify with their Tenure segment" (issue 15): off by default,
// saved on its own; switching wants and queues a full pass of the shop's Shopify write-back
// (the pass adds or removes the tags: tests/destinations/shopify-writeback.test.ts); a body
// that is not on or off is refused in words and changes nothing.

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
let redis: Redis;
let destinations: Queue;

beforeEach(() => {
  process.env.TENURE_QUEUE_PREFIX = `tenure-test-settings-tags-${process.pid}-${Date.now()}`;
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  destinations = new Queue(QUEUE.destinations, { connection: redis, prefix: process.env.TENURE_QUEUE_PREFIX });
});
afterEach(async () => {
  await closeProducerQueues();
  await destinations.obliterate({ force: true }).catch(() => {});
  await destinations.close();
  redis.disconnect();
});

describe("Settings' Shopify tags switch", () => {
  it("is off by default, and switching it on wants and queues a full pass of the write-back", async () => {
    const shop = await installShop(uniqueShop("tags-on"));
    const { id } = await ensureShopifyDestination(testPool(), shop);
    await testPool().query(`UPDATE "Destination" SET "fullWantedAt" = NULL, "fullWantedReason" = NULL WHERE id = $1`, [id]);
    expect((await loadSettingsPage(testPool(), shop)).shopifyTags).toBe(false);

    expect(await submitShopifyTags(testPool(), shop, { intent: "shopify-tags", on: true })).toMatchObject({ ok: true, on: true });

    expect((await loadSettingsPage(testPool(), shop)).shopifyTags).toBe(true);
    expect(await readDestination(testPool(), id)).toMatchObject({ fullWantedAt: expect.any(String), fullWantedReason: "settings" });
    const jobs = await destinations.getJobs(["waiting", "delayed"]);
    expect(jobs.map((job) => job.data)).toEqual([{ task: "full", destinationId: id, reason: "settings" }]);
  });

  it("switching to what it already is changes nothing and queues nothing", async () => {
    const shop = await installShop(uniqueShop("tags-same"));
    expect(await submitShopifyTags(testPool(), shop, { intent: "shopify-tags", on: false })).toEqual({ ok: true, on: false, message: "Tagging in Shopify is already off." });
    expect(await destinations.getJobs(["waiting", "delayed"])).toEqual([]);
  });

  it.each([[{ intent: "shopify-tags" }], [{ intent: "shopify-tags", on: "yes" }], [{ intent: "shopify-tags", on: 1 }]])("refuses %j in words and changes nothing", async (body) => {
    const shop = await installShop(uniqueShop("tags-bad"));
    expect(await submitShopifyTags(testPool(), shop, body)).toEqual({ ok: false, error: expect.stringMatching(/could not be read/) });
    expect(await readShopifyTagging(testPool(), shop)).toBe(false);
  });
});
