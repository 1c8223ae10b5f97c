import { type Job, Queue, UnrecoverableError } from "bullmq";
import { Redis } from "ioredis";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dayIndex } from "~/analytics/dates";
import { createPgPool } from "~/db/pg.server";
import { QUEUE, shopRefitDedupId } from "~/queues/contract";
import { closeProducerQueues } from "~/queues/connections.server";
import { requestOverdueRefits } from "~/refit/nightly.server";
import { refitShop } from "~/refit/refit.server";
import { shopRefitProcessor } from "~/worker/registry.server";
import { uniqueShop } from "../support/db";
import { insertSyntheticShop } from "./synthetic-shop";

let pool: pg.Pool;
let redis: Redis;
let queue: Queue;

beforeAll(async () => {
  process.env.TENURE_QUEUE_PREFIX = `tenure-test-refit-${process.pid}-${Date.now()}`;
  pool = createPgPool(process.env.DATABASE_URL!, { max: 2 });
  redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
  queue = new Queue(QUEUE.shopRefit, { connection: redis, prefix: process.env.TENURE_QUEUE_PREFIX });
});
afterAll(async () => {
  await closeProducerQueues();
  await queue.obliterate({ force: true }).catch(() => {});
  await queue.close();
  redis.disconnect();
  await pool.end();
});

const job = (data: unknown) => ({ data }) as Job;
/** The processor as the worker runs it: the payload parsed first (worker/registry.server.ts). */
const processor = () => shopRefitProcessor({ pool });

describe("shop-refit processor", () => {
  it("nightly-all enqueues one nightly refit per installed shop, once", async () => {
    const installed = uniqueShop("installed");
    const gone = uniqueShop("uninstalled");
    await pool.query(`INSERT INTO "Shop" (domain, "updatedAt") VALUES ($1, now())`, [installed]);
    await pool.query(`INSERT INTO "Shop" (domain, "uninstalledAt", "updatedAt") VALUES ($1, now(), now())`, [gone]);
    const process = processor();
    await process(job({ task: "nightly-all" }));
    await process(job({ task: "nightly-all" })); // a second fan-out while the first waits adds nothing
    const waiting = await queue.getJobs(["waiting", "delayed"]);
    const mine = waiting.filter((j) => j.data.shop === installed);
    expect(mine).toHaveLength(1);
    expect(mine[0].data).toEqual({ task: "shop", shop: installed, trigger: "nightly" });
    expect(await queue.getDeduplicationJobId(shopRefitDedupId(installed))).toBe(mine[0].id);
    expect(waiting.some((j) => j.data.shop === gone)).toBe(false);
  });

  it("at worker start asks for the refits the migration marked or a lost request left waiting, of installed shops only", async () => {
    const now = new Date();
    const today = dayIndex(now.toISOString().slice(0, 10));
    const [marked, recent, gone] = [uniqueShop("overdue"), uniqueShop("recent"), uniqueShop("overdue-gone")];
    for (const shop of [marked, recent, gone]) {
      await insertSyntheticShop(pool, { shop, customers: 30, asOfDay: today });
      await refitShop(pool, shop, { trigger: "manual", now });
    }
    await pool.query(`UPDATE "Shop" SET "uninstalledAt" = now() WHERE domain = $1`, [gone]);
    // As the issue 13 migration marks fits; a change a minute old is the debounce's to ask for.
    await pool.query(`UPDATE "ShopFit" SET "changesSinceFit" = 1, "firstChangeAt" = TIMESTAMP '1970-01-01' WHERE shop = ANY($1)`, [[marked, gone]]);
    await pool.query(`UPDATE "ShopFit" SET "changesSinceFit" = 1, "firstChangeAt" = $2::timestamp WHERE shop = $1`, [recent, new Date(now.getTime() - 60_000).toISOString()]);
    const asked = await requestOverdueRefits(pool, now);
    expect(asked).toContain(marked);
    expect(asked).not.toContain(recent);
    expect(asked).not.toContain(gone);
    const waiting = await queue.getJobs(["waiting", "delayed"]);
    expect(waiting.filter((j) => j.data.shop === marked).map((j) => j.data)).toEqual([{ task: "shop", shop: marked, trigger: "debounce" }]);
  });

  it("a shop job refits the shop", async () => {
    const shop = uniqueShop("job");
    await insertSyntheticShop(pool, { shop, customers: 30, asOfDay: dayIndex(new Date().toISOString().slice(0, 10)) });
    const result = await processor()(job({ task: "shop", shop, trigger: "manual" }));
    expect(result).toMatchObject({ shop, version: 1, customers: 30 });
    const fit = await pool.query(`SELECT trigger FROM "ShopFit" WHERE shop = $1`, [shop]);
    expect(fit.rows[0].trigger).toBe("manual");
  });

  it("refuses malformed jobs without retrying them", async () => {
    const process = processor();
    await expect(process(job({ task: "shop", shop: "not a domain!", trigger: "manual" }))).rejects.toBeInstanceOf(UnrecoverableError);
    await expect(process(job({ task: "shop", shop: "a.myshopify.com", trigger: "whenever" }))).rejects.toBeInstanceOf(UnrecoverableError);
  });
});
