import { redactShop } from "~/ingest/gdpr.server";
import { closeIntakePool, receiveWebhook, unknownShopDropCount } from "~/ingest/intake.server";
import { ShopAdmissionCache } from "~/ingest/shop-admission.server";
import { readShopAdmission } from "~/data/shop-admission.server";
import { upsertInstalledShop } from "~/data/shop.server";
import { createRebuildTable, rebuildTableName } from "~/refit/partition-swap.server";
import { closeProducerQueues } from "~/queues/connections.server";
import { installShop, installedShop, testDb, testPool, uniqueShop } from "../support/db";
import { isolatedIngestQueue } from "../support/queues";
import { type WebhookRequestInit, webhookHeaders, webhookRequest, shopifyHmac } from "../support/signed-webhooks";
import { fixtureText, fixtureTextFor } from "../support/webhook-fixtures";

// Shop admission at the intake (ADR 0013; issue 12, findings 2, 3 and 4): which shops'
// deliveries are stored, which are acknowledged and dropped, and what is counted.

isolatedIngestQueue("admission");

afterAll(async () => {
  await closeIntakePool();
  await closeProducerQueues();
});

/** Through the intake with a cache that never reuses a verdict, so each step sees the last. */
function send(init: WebhookRequestInit | Request): Promise<Response> {
  const request = init instanceof Request ? init : webhookRequest(init);
  return receiveWebhook(request, { pool: testPool(), admissionCache: new ShopAdmissionCache({ ttlMs: 0 }) });
}

async function stored(shop: string) {
  return testDb().webhookDelivery.findMany({ where: { shop }, select: { topic: true, status: true, error: true }, orderBy: { id: "asc" } });
}

async function dropCounts(shop: string) {
  return testDb().droppedDelivery.findMany({ where: { shop }, select: { topic: true, reason: true, count: true }, orderBy: [{ topic: "asc" }, { reason: "asc" }] });
}

async function uninstall(shop: string): Promise<void> {
  await testPool().query(`UPDATE "Shop" SET "uninstalledAt" = now() WHERE domain = $1`, [shop]);
}

describe("a shop that never installed", () => {
  it("gets 200 without its body being read; nothing is stored, and the drop is counted in the process only", async () => {
    const shop = uniqueShop("never");
    const body = fixtureText("orders-create");
    let pulled = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled = true;
        controller.enqueue(new TextEncoder().encode(body));
        controller.close();
      },
    }, { highWaterMark: 0 });
    const headers = webhookHeaders({ topic: "orders/create", shop, body });
    const request = new Request("https://tenure.test/webhooks/orders/create", { method: "POST", headers, body: stream, duplex: "half" } as RequestInit);
    const before = unknownShopDropCount();

    expect((await send(request)).status).toBe(200);
    expect(pulled).toBe(false);
    expect(await stored(shop)).toEqual([]);
    expect(unknownShopDropCount()).toBe(before + 1);
    // Unverified: no database row counts it.
    expect(await dropCounts(shop)).toEqual([]);
  });
});

describe("an uninstalled shop", () => {
  it("has its data topics dropped and counted, while shop/redact and app/uninstalled are stored", async () => {
    const shop = await installedShop("uninstalled");
    await uninstall(shop);

    expect((await send({ topic: "orders/create", shop, body: fixtureText("orders-create") })).status).toBe(200);
    expect((await send({ topic: "customers/update", shop, body: fixtureText("customers-update") })).status).toBe(200);
    expect((await send({ topic: "app/uninstalled", shop, body: fixtureTextFor("app-uninstalled", shop) })).status).toBe(200);
    expect((await send({ topic: "shop/redact", shop, body: fixtureTextFor("shop-redact", shop) })).status).toBe(200);

    expect(await stored(shop)).toEqual([
      { topic: "app/uninstalled", status: "PENDING", error: null },
      { topic: "shop/redact", status: "PENDING", error: null },
    ]);
    expect(await dropCounts(shop)).toEqual([
      { topic: "customers/update", reason: "shop uninstalled", count: 1n },
      { topic: "orders/create", reason: "shop uninstalled", count: 1n },
    ]);
  });
});

describe("a redacted shop", () => {
  it("has every delivery dropped and counted once verified; a forged one is refused and counts nothing", async () => {
    const shop = await installedShop("redacted");
    await redactShop(testDb(), shop);

    const body = fixtureText("orders-create");
    expect((await send({ topic: "orders/create", shop, body })).status).toBe(200);
    expect((await send({ topic: "orders/create", shop, body })).status).toBe(200);
    expect((await send({ topic: "orders/create", shop, body, hmac: shopifyHmac(body, "forged") })).status).toBe(401);

    expect(await stored(shop)).toEqual([]);
    expect(await dropCounts(shop)).toEqual([{ topic: "orders/create", reason: "shop redacted", count: 2n }]);
  });

  it("is admitted again once it reinstalls (the tombstone goes with the install)", async () => {
    const shop = await installedShop("reinstalled");
    await redactShop(testDb(), shop);
    expect(await readShopAdmission(testPool(), shop)).toBe("redacted");

    await upsertInstalledShop(testDb(), { shop, currency: "USD", timezone: "UTC", scopes: null });
    expect(await readShopAdmission(testPool(), shop)).toBe("installed");
    expect(await testDb().shopRedaction.count({ where: { domain: shop } })).toBe(0);
    expect((await send({ topic: "orders/create", shop, body: fixtureText("orders-create") })).status).toBe(200);
    expect(await stored(shop)).toEqual([{ topic: "orders/create", status: "PENDING", error: null }]);
  });

  it("loses the tables an interrupted refit left with its rows", async () => {
    const shop = await installedShop("refit-left");
    const other = await installedShop("refit-other");
    const [left, kept] = [rebuildTableName(shop), rebuildTableName(other)];
    for (const [table, owner] of [[left, shop], [kept, other]]) {
      await createRebuildTable(testPool(), table);
      await testPool().query(`INSERT INTO "${table}" (shop, "customerId", orders, "netSpentMinor", behaviours, "asOfDay") VALUES ($1, 1, 1, 100, '{}', 1)`, [owner]);
    }
    const report = await redactShop(testDb(), shop);
    expect(report.abandonedRefitTables).toBe(1);
    const tables = await testPool().query<{ name: string }>(`SELECT relname::text AS name FROM pg_class WHERE relname = ANY($1)`, [[left, kept]]);
    expect(tables.rows.map((row) => row.name)).toEqual([kept]);
    await testPool().query(`DROP TABLE "${kept}"`);
  });
});

describe("a signed body replayed elsewhere (issue 12, finding 3)", () => {
  it("an order body under customers/update fails the object-type check", async () => {
    const shop = await installedShop();
    expect((await send({ topic: "customers/update", shop, body: fixtureText("orders-create") })).status).toBe(200);
    const [row] = await stored(shop);
    expect(row).toMatchObject({ topic: "customers/update", status: "FAILED" });
    expect(row.error).toMatch(/admin_graphql_api_id "gid:\/\/shopify\/Order\/6123456789012" is not a Customer/);
  });

  it("an order body under another shop's header: dropped when that shop is not installed", async () => {
    const shop = await installedShop("victim-source");
    const body = fixtureText("orders-create");
    expect((await send({ topic: "orders/create", shop, body })).status).toBe(200);
    const elsewhere = await installShop(uniqueShop("elsewhere"));
    await uninstall(elsewhere);
    const never = uniqueShop("never-there");
    expect((await send({ topic: "orders/create", shop: elsewhere, body })).status).toBe(200);
    expect((await send({ topic: "orders/create", shop: never, body })).status).toBe(200);
    expect(await stored(elsewhere)).toEqual([]);
    expect(await stored(never)).toEqual([]);
  });

  it("a compliance body naming another shop is stored FAILED with the reason", async () => {
    const shop = await installedShop();
    const other = uniqueShop("named");
    expect((await send({ topic: "customers/redact", shop, body: fixtureTextFor("customers-redact", other) })).status).toBe(200);
    expect((await send({ topic: "app/uninstalled", shop, body: fixtureTextFor("app-uninstalled", other) })).status).toBe(200);
    const rows = await stored(shop);
    expect(rows.map((row) => [row.topic, row.status])).toEqual([
      ["customers/redact", "FAILED"],
      ["app/uninstalled", "FAILED"],
    ]);
    expect(rows[0].error).toBe(`payload's shop_domain "${other}" is not the X-Shopify-Shop-Domain ${shop}`);
    expect(rows[1].error).toBe(`payload's myshopify_domain "${other}" is not the X-Shopify-Shop-Domain ${shop}`);
  });

  it("an admin_graphql_api_id that does not carry the payload's id fails", async () => {
    const shop = await installedShop();
    const order = JSON.parse(fixtureText("orders-create")) as Record<string, unknown>;
    const body = JSON.stringify({ ...order, id: 6123456789013 });
    expect((await send({ topic: "orders/updated", shop, body })).status).toBe(200);
    expect((await stored(shop))[0]).toMatchObject({ status: "FAILED", error: expect.stringMatching(/does not carry its id 6123456789013/) });
  });
});


describe("the admission cache", () => {
  it("holds at most its size for a flood of random shops, and sees an install within its TTL", async () => {
    let clock = 0;
    const cache = new ShopAdmissionCache({ ttlMs: 1_000, maxEntries: 10, now: () => clock });
    for (let index = 0; index < 50; index += 1) expect(await cache.admission(testPool(), uniqueShop("random"))).toBe("unknown");
    expect(cache.size).toBe(10);

    const shop = uniqueShop("installing");
    expect(await cache.admission(testPool(), shop)).toBe("unknown");
    await installShop(shop);
    expect(await cache.admission(testPool(), shop)).toBe("unknown"); // within the TTL: the cached verdict
    clock += 1_001;
    expect(await cache.admission(testPool(), shop)).toBe("installed");
  });
});
