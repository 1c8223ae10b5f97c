import { ZodError } from "zod";
import { parseShopHosts, recordShopInstall } from "../../app/shopify.server";
import { testDb, testPool, uniqueShop } from "../support/db";
import { createShop, deliver } from "../support/ingested-shops";
import { orderPayload } from "../support/webhook-payloads";

// The shop's own custom domains (issue 17): read at authentication from Admin GraphQL
// `shop { primaryDomain { host } domains { host } }`, stored on the Shop row; a referrer on one
// of them is the buyer moving within the store, so the order's marketing source is "direct".

let nextId = 7_300_000;
async function orderWithReferrer(shop: string, referrer: string): Promise<string | null> {
  const id = nextId++;
  const at = new Date("2026-05-01T12:00:00Z");
  const payload = orderPayload({ id, customerId: 9301, totalCents: 5_000, processedAt: at, createdAt: at, updatedAt: at });
  payload.landing_site = "/products/sock";
  payload.referring_site = referrer;
  await deliver(shop, "orders/create", payload);
  const { rows } = await testPool().query<{ source: string | null }>(`SELECT "marketingSource" AS source FROM "Order" WHERE shop = $1 AND id = $2`, [shop, id]);
  return rows[0].source;
}

describe("parseShopHosts", () => {
  it("reads the primary domain and the others, primary first, each once, in lower case", () => {
    const body = {
      data: { shop: { primaryDomain: { host: "www.SockShop.example" }, domains: [{ host: "sock-shop.myshopify.com" }, { host: "www.sockshop.example" }, { host: "socks.example.co.uk" }] } },
      extensions: {},
    };
    expect(parseShopHosts(body)).toEqual(["www.sockshop.example", "sock-shop.myshopify.com", "socks.example.co.uk"]);
    // An API version without Shop.domains: the primary domain alone.
    expect(parseShopHosts({ data: { shop: { primaryDomain: { host: "sockshop.example" } } } })).toEqual(["sockshop.example"]);
  });

  it("refuses an answer without a shop (a GraphQL error)", () => {
    expect(() => parseShopHosts({ errors: [{ message: "Field 'domains' doesn't exist on type 'Shop'" }] })).toThrow(ZodError);
    expect(() => parseShopHosts({ data: { shop: { primaryDomain: { host: "" } } } })).toThrow(ZodError);
  });
});

describe("referrals from the shop's own domains", () => {
  it("stores an order referred from the shop's custom domain as direct, another site's as a referral", async () => {
    const shop = uniqueShop("own-hosts");
    await recordShopInstall({ shop, currency: "USD", timezone: "UTC", scopes: null, hosts: ["www.sockshop.example", "socks.example.co.uk"] }, testDb());
    expect((await testDb().shop.findUniqueOrThrow({ where: { domain: shop } })).hosts).toEqual(["www.sockshop.example", "socks.example.co.uk"]);
    expect(await orderWithReferrer(shop, "https://www.sockshop.example/collections/all")).toBe("direct");
    expect(await orderWithReferrer(shop, "https://socks.example.co.uk/")).toBe("direct");
    expect(await orderWithReferrer(shop, "https://www.instagram.com/p/x")).toBe("instagram.com (referral)");
    expect(await orderWithReferrer(shop, "https://blog.sockshop.example/")).toBe("blog.sockshop.example (referral)");
  });

  it("relabels orders stored before the hosts were known when the shop authenticates, and keeps the hosts when Shopify did not say", async () => {
    const shop = uniqueShop("own-hosts-late");
    await createShop(shop);
    expect(await orderWithReferrer(shop, "https://sockshop.example/")).toBe("sockshop.example (referral)");
    expect(await orderWithReferrer(shop, "https://www.pinterest.com/")).toBe("pinterest.com (referral)");

    await recordShopInstall({ shop, currency: "USD", timezone: "UTC", scopes: null, hosts: ["sockshop.example"] }, testDb());
    const { rows } = await testPool().query<{ source: string }>(`SELECT "marketingSource" AS source FROM "Order" WHERE shop = $1 ORDER BY id`, [shop]);
    expect(rows.map((row) => row.source)).toEqual(["direct", "pinterest.com (referral)"]);

    // A later authentication whose hosts query failed (null) keeps the stored hosts.
    await recordShopInstall({ shop, currency: "USD", timezone: "UTC", scopes: null, hosts: null }, testDb());
    expect((await testDb().shop.findUniqueOrThrow({ where: { domain: shop } })).hosts).toEqual(["sockshop.example"]);
  });
});
