import type pg from "pg";
import { COUNT_CAP, FAILED_SHOWN } from "~/pages/sync";
import { countDroppedDelivery } from "~/data/shop-admission.server";
import { loadSyncPage } from "~/pages/sync.server";
import { uniqueShop } from "../support/db";
import type * as SyncRouteModule from "~/routes/app.sync";
import { insertShop, poolForTests } from "../support/precomputed-rows";

// The sync status page: newest import, last webhook, last reconciliation and refit, failed
// deliveries newest first with their reasons (limited), pending count (capped), per shop.

const pool = poolForTests();
type SyncRoute = typeof SyncRouteModule;

async function delivery(db: pg.Pool, shop: string, n: number, status: "PENDING" | "PROCESSED" | "FAILED", receivedAt: Date, error?: string) {
  await db.query(
    `INSERT INTO "WebhookDelivery" (shop, "webhookId", topic, status, error, attempts, "receivedAt") VALUES ($1, $2, 'orders/updated', $3::"DeliveryStatus", $4, $5, $6)`,
    [shop, `wh-${n}`, status, error ?? null, status === "FAILED" ? 3 : 1, receivedAt.toISOString()],
  );
}

async function backfill(db: pg.Pool, shop: string, values: { status: string; processed: number; expected: number | null; notice?: string; startedAt: Date }) {
  await db.query(
    `INSERT INTO "BackfillRun" (shop, status, "ordersProcessed", "expectedCount", notice, "startedAt", "updatedAt") VALUES ($1, $2, $3, $4, $5, $6, now())`,
    [shop, values.status, values.processed, values.expected, values.notice ?? null, values.startedAt.toISOString()],
  );
}

const at = (iso: string) => new Date(iso);

describe("sync page data", () => {
  it("shows a just-installed shop with nothing received yet", async () => {
    const shop = uniqueShop("fresh");
    await insertShop(pool(), shop);
    const page = await loadSyncPage(pool(), shop);
    expect(page).toMatchObject({ shop, backfill: null, refit: null, lastWebhookAtIso: null, reconciledAtIso: null, pendingCount: 0, failedCount: 0, failed: [] });
    expect(page.installedAtIso).not.toBeNull();
  });

  it("reports the newest import with its notice, the last webhook of any status, the reconciliation and the refit", async () => {
    const db = pool();
    const shop = uniqueShop("sync");
    await insertShop(db, shop, { reconciledAt: at("2026-11-20T03:00:00Z") });
    await backfill(db, shop, { status: "COMPLETED", processed: 900, expected: 900, startedAt: at("2026-10-01T00:00:00Z") });
    await backfill(db, shop, { status: "DOWNLOADING", processed: 250, expected: 1000, notice: "Only the last 60 days of orders could be read", startedAt: at("2026-11-22T00:00:00Z") });
    await delivery(db, shop, 1, "PROCESSED", at("2026-11-22T10:00:00Z"));
    await delivery(db, shop, 2, "FAILED", at("2026-11-22T11:00:00Z"), "payload is not an order");
    await delivery(db, shop, 3, "PENDING", at("2026-11-22T12:30:00Z"));
    await delivery(db, shop, 4, "PROCESSED", at("2026-11-22T12:00:00Z"));
    await db.query(
      `INSERT INTO "ShopFit" (shop, status, "segmentRules", "asOfDay", trigger, "finishedAt", "durationMs", "changesSinceFit", "updatedAt")
       VALUES ($1, 'ready', '[]'::jsonb, 20000, 'backfill', $2, 1234, 17, now())`,
      [shop, "2026-11-22T13:00:00.000Z"],
    );

    const page = await loadSyncPage(db, shop);
    expect(page.backfill).toMatchObject({ status: "DOWNLOADING", ordersProcessed: 250, expectedCount: 1000, notice: "Only the last 60 days of orders could be read" });
    expect(page.lastWebhookAtIso).toBe("2026-11-22T12:30:00.000Z");
    expect(page.reconciledAtIso).toBe("2026-11-20T03:00:00.000Z");
    expect(page.refit).toMatchObject({ status: "ready", trigger: "backfill", finishedAtIso: "2026-11-22T13:00:00.000Z", durationMs: 1234, changesSinceFit: 17 });
    expect(page.pendingCount).toBe(1);
    expect(page.failed).toEqual([{ id: expect.any(String), topic: "orders/updated", receivedAtIso: "2026-11-22T11:00:00.000Z", attempts: 3, error: "payload is not an order" }]);
  });

  it("lists failed deliveries newest first, at most FAILED_SHOWN, with the full count; never another shop's", async () => {
    const db = pool();
    const shop = uniqueShop("failing");
    const other = uniqueShop("neighbour");
    const total = FAILED_SHOWN + 5;
    for (let n = 0; n < total; n++) await delivery(db, shop, n, "FAILED", new Date(Date.UTC(2026, 10, 1, 0, n)), `reason ${n}`);
    await delivery(db, other, 1, "FAILED", at("2026-12-01T00:00:00Z"), "the neighbour's problem");
    await delivery(db, other, 2, "PENDING", at("2026-12-01T00:00:00Z"));

    const page = await loadSyncPage(db, shop);
    expect(page.failedCount).toBe(total);
    expect(page.failed).toHaveLength(FAILED_SHOWN);
    expect(page.failed.map((row) => row.error)).toEqual(Array.from({ length: FAILED_SHOWN }, (_, i) => `reason ${total - 1 - i}`));
    expect(page.pendingCount).toBe(0);
    expect(page.lastWebhookAtIso).toBe(new Date(Date.UTC(2026, 10, 1, 0, total - 1)).toISOString());
    expect(JSON.stringify(page)).not.toContain("neighbour");
  });

  it("lists the deliveries acknowledged but not applied, per topic and reason, most recent first; never another shop's", async () => {
    const db = pool();
    const shop = uniqueShop("dropping");
    const other = uniqueShop("neighbour");
    await insertShop(db, shop);
    const count = async (owner: string, topic: string, reason: string) => countDroppedDelivery(db, { shop: owner, topic, reason });
    await count(shop, "orders/create", "shop uninstalled");
    await count(shop, "orders/create", "shop uninstalled");
    await count(shop, "customers/update", "shop uninstalled");
    await count(other, "orders/create", "shop redacted");

    const page = await loadSyncPage(db, shop);
    expect(page.dropped.map(({ topic, reason, count }) => ({ topic, reason, count }))).toEqual([
      { topic: "customers/update", reason: "shop uninstalled", count: 1 },
      { topic: "orders/create", reason: "shop uninstalled", count: 2 },
    ]);
    expect(page.dropped[0].lastAtIso).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await loadSyncPage(db, uniqueShop("clean"))).dropped).toEqual([]);
  });

  it("caps the pending count instead of counting every row", async () => {
    const db = pool();
    const shop = uniqueShop("backlog");
    await db.query(
      `INSERT INTO "WebhookDelivery" (shop, "webhookId", topic, status, "receivedAt")
       SELECT $1, 'bulk-' || n, 'orders/create', 'PENDING', now() FROM generate_series(1, $2::int) AS n`,
      [shop, COUNT_CAP + 50],
    );
    const page = await loadSyncPage(db, shop);
    expect(page.pendingCount).toBe(COUNT_CAP + 1);
  });
});

describe("the sync route (demo mode)", () => {
  const demoShop = uniqueShop("demo-sync");
  let route: SyncRoute;

  beforeAll(async () => {
    vi.resetModules();
    process.env.TENURE_DEMO_MODE = "true";
    process.env.TENURE_DEMO_SHOP = demoShop;
    route = await import("~/routes/app.sync");
  });

  afterAll(async () => {
    const { closePgPool } = await import("~/db/pg.server");
    await closePgPool();
    process.env.TENURE_DEMO_MODE = "false";
    delete process.env.TENURE_DEMO_SHOP;
    vi.resetModules();
  });

  it("refuses a re-import in demo mode with a reason, and shows the demo shop's status", async () => {
    await insertShop(pool(), demoShop);
    const response = await route.action({
      request: new Request("https://tenure.test/app/sync", { method: "POST", body: new URLSearchParams({ intent: "reimport" }) }),
      params: {},
      context: {},
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ ok: false, message: expect.stringMatching(/not available in demo mode/) });
    const runs = await pool().query(`SELECT count(*)::int AS n FROM "BackfillRun" WHERE shop = $1`, [demoShop]);
    expect(runs.rows[0].n).toBe(0);
    const page = await route.loader({ request: new Request("https://tenure.test/app/sync"), params: {}, context: {} });
    expect(page).toMatchObject({ shop: demoShop, demo: true, backfill: null });
  });
});
