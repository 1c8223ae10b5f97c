import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDb, uniqueShop } from "../support/db";
import { FakeShopify } from "../support/fake-shopify";
import { AdminGraphql, ShopifyAdminError, throttleWaitMs } from "../../app/integrations/shopify-admin.server";

const COUNT = `#graphql
  query { ordersCount(limit: null) { count precision } }`;

describe("AdminGraphql against a fake Admin API", () => {
  let fake: FakeShopify;
  beforeAll(async () => {
    fake = await new FakeShopify({ bucket: { maximumAvailable: 40, restoreRate: 100, queryCost: 20 } }).start();
  });
  afterAll(() => fake.close());

  it("waits for the cost bucket instead of being throttled, and retries a THROTTLED answer", async () => {
    const shop = uniqueShop();
    await fake.installSession(testDb(), shop);
    const admin = new AdminGraphql({ db: testDb(), backoffMs: 10 });
    const startedAt = Date.now();
    for (let i = 0; i < 6; i += 1) {
      const data = await admin.request<{ ordersCount: { count: number } }>(shop, COUNT);
      expect(data.ordersCount.count).toBe(0);
    }
    // 6 calls of cost 20 from a bucket of 40 refilling 100/s: at least (120 - 40) / 100 s.
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(750);
    const calls = fake.graphqlRequests("ordersCount");
    // The first two drain the bucket; the client then paces itself: at most one THROTTLED answer.
    expect(calls.filter((c) => c.throttled).length).toBeLessThanOrEqual(1);
    expect(calls.filter((c) => !c.throttled)).toHaveLength(6);
  });

  it("retries a 5xx, refuses after a 401 that a fresh session does not cure", async () => {
    const shop = uniqueShop();
    await fake.installSession(testDb(), shop);
    const admin = new AdminGraphql({ db: testDb(), backoffMs: 10 });
    fake.failNext = [503, 502];
    await expect(admin.request(shop, COUNT)).resolves.toEqual({ ordersCount: { count: 0, precision: "EXACT" } });
    fake.failNext = [401, 401];
    await expect(admin.request(shop, COUNT)).rejects.toThrow(ShopifyAdminError);
    fake.failNext = [];
  });

  it("names a shop without a session", async () => {
    const admin = new AdminGraphql({ db: testDb() });
    await expect(admin.request(uniqueShop(), COUNT)).rejects.toThrow(/no usable offline session/);
  });

  it("refreshes an expiring token once when two processes ask at the same time", async () => {
    const shop = uniqueShop();
    await fake.installSession(testDb(), shop, undefined, { expires: new Date(Date.now() + 60_000), refreshToken: "refresh-0" });
    const before = fake.tokenRefreshes;
    // Two clients stand for two worker processes: only the advisory lock is shared.
    const [a, b] = [new AdminGraphql({ db: testDb() }), new AdminGraphql({ db: testDb() })];
    await Promise.all([a.request(shop, COUNT), b.request(shop, COUNT), a.request(shop, COUNT)]);
    expect(fake.tokenRefreshes - before).toBe(1);
    const session = await testDb().session.findUniqueOrThrow({ where: { id: `offline_${shop}` } });
    expect(session.accessToken).toBe(fake.accessToken);
  });
});

describe("throttleWaitMs", () => {
  const status = { maximumAvailable: 1_000, currentlyAvailable: 10, restoreRate: 50 };
  it("waits for the missing points at the restore rate", () => {
    expect(throttleWaitMs(status, 0, 60, 0)).toBe(1_000);
    expect(throttleWaitMs(status, 0, 60, 500)).toBe(500);
    expect(throttleWaitMs(status, 0, 10, 0)).toBe(0);
  });
});
