import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { QUEUE } from "~/queues/contract";
import { closeProducerQueues } from "~/queues/connections.server";
import { loadSettingsPage, submitSettings } from "~/pages/settings.server";
import type * as SettingsRouteModule from "~/routes/app.settings";
import { defaultRuleInputs, type SettingsFormInput } from "~/pages/settings-form";
import { uniqueShop } from "../support/db";
import { closedPort } from "../support/ports";
import { insertShop, poolForTests } from "../support/precomputed-rows";

// Saving settings: validated against the shop's currency, written to ShopSettings, a refit
// requested on a real BullMQ queue (own prefix); a field error writes nothing; Redis down
// still saves; one shop never sees or changes another's settings.

const pool = poolForTests();
type SettingsRoute = typeof SettingsRouteModule;
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
let redis: Redis;
let refits: Queue;

beforeEach(() => {
  process.env.TENURE_QUEUE_PREFIX = `tenure-test-settings-${process.pid}-${Date.now()}`;
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  refits = new Queue(QUEUE.shopRefit, { connection: redis, prefix: process.env.TENURE_QUEUE_PREFIX });
});

afterEach(async () => {
  await closeProducerQueues();
  process.env.REDIS_URL = REDIS_URL;
  await refits.obliterate({ force: true }).catch(() => {});
  await refits.close();
  redis.disconnect();
});

const input = (overrides: Partial<SettingsFormInput> = {}): SettingsFormInput => ({
  grossMarginPercent: "45",
  cac: "30.00",
  annualDiscountRatePercent: "12",
  horizonDays: "180",
  segmentRules: defaultRuleInputs(),
  segmentLabels: { "at-risk": "Slipping" },
  excludedOrderTags: ["wholesale"],
  excludedSourceNames: ["pos"],
  excludedCustomerTags: ["staff"],
  revenueBasis: "total_sales",
  ...overrides,
});

async function storedRow(shop: string) {
  const result = await pool().query(`SELECT * FROM "ShopSettings" WHERE shop = $1`, [shop]);
  return result.rows[0] as Record<string, unknown> | undefined;
}

async function queuedRefits() {
  const jobs = await refits.getJobs(["waiting", "delayed", "prioritized", "active"]);
  return jobs.map((job) => job.data as unknown);
}

describe("saving settings", () => {
  it("writes the settings in minor units and shares, and requests a refit for the shop", async () => {
    const shop = uniqueShop("save");
    await insertShop(pool(), shop, { currency: "EUR" });
    const outcome = await submitSettings(pool(), shop, input());
    expect(outcome).toMatchObject({ ok: true, refitQueued: true });

    const row = await storedRow(shop);
    expect(row).toMatchObject({
      grossMargin: 0.45,
      cacMinor: 3000n,
      annualDiscountRate: 0.12,
      horizonDays: 180,
      segmentLabels: { "at-risk": "Slipping" },
      excludedOrderTags: ["wholesale"],
      excludedSourceNames: ["pos"],
      excludedCustomerTags: ["staff"],
      revenueBasis: "total_sales",
    });
    expect((row!.segmentRules as unknown[]).length).toBe(11);
    expect(await queuedRefits()).toEqual([{ task: "shop", shop, trigger: "settings" }]);

    // The page shows what was saved.
    const page = await loadSettingsPage(pool(), shop);
    expect(page.form).toMatchObject({
      grossMarginPercent: "45",
      cac: "30.00",
      horizonDays: "180",
      excludedSourceNames: ["pos"],
      excludedCustomerTags: ["staff"],
      revenueBasis: "total_sales",
    });
    expect(page.form.segmentLabels["at-risk"]).toBe("Slipping");
    expect(page.savedAtIso).not.toBeNull();
    expect(page.channelOptions).toContain("pos");
  });

  it("reads the CAC in the shop's own currency (no decimals in JPY)", async () => {
    const shop = uniqueShop("yen");
    await insertShop(pool(), shop, { currency: "JPY" });
    expect(await submitSettings(pool(), shop, input({ cac: "30.00" }))).toMatchObject({ ok: true });
    expect((await storedRow(shop))!.cacMinor).toBe(30n);
    const refused = await submitSettings(pool(), shop, input({ cac: "30.50" }));
    expect(refused).toMatchObject({ ok: false, fieldErrors: { cac: [expect.stringMatching(/JPY/)] } });
    expect((await storedRow(shop))!.cacMinor).toBe(30n);
  });

  it("returns field errors and writes nothing, enqueues nothing, when a value is wrong", async () => {
    const shop = uniqueShop("invalid");
    await insertShop(pool(), shop);
    expect(await submitSettings(pool(), shop, input())).toMatchObject({ ok: true });
    const before = await storedRow(shop);
    await refits.obliterate({ force: true });

    const rules = defaultRuleInputs().slice(0, 3);
    const outcome = await submitSettings(pool(), shop, input({ grossMarginPercent: "150", horizonDays: "0", segmentRules: rules, excludedOrderTags: ["b2b"] }));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(Object.keys(outcome.fieldErrors).sort()).toEqual(["grossMarginPercent", "horizonDays", "segmentRules"]);
    expect(await storedRow(shop)).toEqual(before);
    expect(await queuedRefits()).toEqual([]);
  });

  it("still saves when Redis refuses the refit, and says the nightly refit will apply it", async () => {
    const shop = uniqueShop("no-redis");
    await insertShop(pool(), shop);
    await closeProducerQueues();
    process.env.REDIS_URL = `redis://127.0.0.1:${await closedPort()}`;
    const outcome = await submitSettings(pool(), shop, input({ grossMarginPercent: "70" }));
    expect(outcome).toMatchObject({ ok: true, refitQueued: false });
    expect((await storedRow(shop))!.grossMargin).toBe(0.7);
  });

  it("keeps shops apart: saving one leaves another's settings and page untouched", async () => {
    const mine = uniqueShop("mine");
    const theirs = uniqueShop("theirs");
    await insertShop(pool(), mine);
    await insertShop(pool(), theirs);
    await submitSettings(pool(), theirs, input({ grossMarginPercent: "20", excludedOrderTags: ["their-tag"] }));
    const theirsBefore = await storedRow(theirs);

    await submitSettings(pool(), mine, input({ grossMarginPercent: "90" }));
    expect(await storedRow(theirs)).toEqual(theirsBefore);
    const page = await loadSettingsPage(pool(), mine);
    expect(page.form.grossMarginPercent).toBe("90");
    expect(JSON.stringify(page)).not.toContain("their-tag");
    expect((await queuedRefits()).map((job) => (job as { shop: string }).shop).sort()).toEqual([mine, theirs].sort());
  });

  it("shows defaults to a shop that never saved", async () => {
    const page = await loadSettingsPage(pool(), uniqueShop("defaults"));
    expect(page.savedAtIso).toBeNull();
    expect(page.form).toMatchObject({ grossMarginPercent: "100", cac: "", annualDiscountRatePercent: "10", horizonDays: "365", excludedOrderTags: [] });
    // Net sales, Shopify's own definition, unless the merchant chooses otherwise.
    expect(page.form.revenueBasis).toBe("net_sales");
    expect(page.form.segmentRules).toEqual(defaultRuleInputs());
    expect(page.ordersWithoutParts).toBe(0);
  });

  it("counts the orders that still count at total sales because their parts were never read (test orders aside)", async () => {
    const shop = uniqueShop("unknown-parts");
    const insert = (id: number, parts: number | null, test = false) =>
      pool().query(
        `INSERT INTO "Order" (shop, id, "processedAt", "shopifyCreatedAt", "shopifyUpdatedAt", currency, "currentTotalMinor", "netMinor", test,
                              "discountCodes", tags, "grossSalesMinor", "discountsMinor", "returnsMinor", "taxMinor", "shippingMinor", "dutiesMinor", "netSalesMinor")
         VALUES ($1, $2, now(), now(), now(), 'USD', 1000, 1000, $3, '{}', '{}', $4, 0, 0, 0, 0, 0, $4)`,
        [shop, id, test, parts],
      );
    await insert(1, null);
    await insert(2, null);
    await insert(3, null, true);
    await insert(4, 1_000);
    expect((await loadSettingsPage(pool(), shop)).ordersWithoutParts).toBe(2);
  });
});

describe("the settings route (demo mode)", () => {
  const demoShop = uniqueShop("demo-settings");
  let route: SettingsRoute;

  beforeAll(async () => {
    vi.resetModules();
    process.env.TENURE_DEMO_MODE = "true";
    process.env.TENURE_DEMO_SHOP = demoShop;
    route = await import("~/routes/app.settings");
  });

  afterAll(async () => {
    const { closePgPool } = await import("~/db/pg.server");
    const queues = await import("~/queues/connections.server");
    await queues.closeProducerQueues();
    await closePgPool();
    process.env.TENURE_DEMO_MODE = "false";
    delete process.env.TENURE_DEMO_SHOP;
    vi.resetModules();
  });

  const post = (body: string) =>
    route.action({ request: new Request("https://tenure.test/app/settings", { method: "POST", body, headers: { "Content-Type": "application/json" } }), params: {}, context: {} });

  it("answers 400 with field errors, and 200 after a valid save that the loader then shows", async () => {
    await insertShop(pool(), demoShop);
    const bad = await post(JSON.stringify(input({ cac: "abc" })));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ ok: false, fieldErrors: { cac: [expect.any(String)] } });
    expect(await storedRow(demoShop)).toBeUndefined();

    const broken = await post("{not json");
    expect(broken.status).toBe(400);
    expect(await broken.json()).toMatchObject({ ok: false, fieldErrors: { form: [expect.any(String)] } });

    const good = await post(JSON.stringify(input({ cac: "12.34" })));
    expect(good.status).toBe(200);
    expect(await good.json()).toMatchObject({ ok: true });
    const page = await route.loader({ request: new Request("https://tenure.test/app/settings"), params: {}, context: {} });
    expect(page).toMatchObject({ shop: demoShop, form: { cac: "12.34" } });
  });
});
