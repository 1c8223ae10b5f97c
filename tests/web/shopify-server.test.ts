import { ZodError } from "zod";
import { testDb, uniqueShop } from "../support/db";
import { parseShopSettings, recordShopInstall, shopify } from "../../app/shopify.server";

describe("the Shopify app", () => {
  it("can be imported without an environment: nothing is read or connected until first use", async () => {
    const saved = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    vi.resetModules();
    try {
      const fresh = await import("../../app/shopify.server");
      expect(fresh.API_VERSION).toBe("2026-10");
    } finally {
      process.env.DATABASE_URL = saved;
      vi.resetModules();
    }
  });

  it("is one instance per process, with the login helper of an App Store app", () => {
    expect(shopify()).toBe(shopify());
    expect(shopify().login).toBeTypeOf("function");
  });
});

describe("parseShopSettings", () => {
  it("reads the currency and IANA time zone from the Admin GraphQL answer", () => {
    const body = { data: { shop: { currencyCode: "EUR", ianaTimezone: "Europe/Berlin" } }, extensions: {} };
    expect(parseShopSettings(body)).toEqual({ currency: "EUR", timezone: "Europe/Berlin" });
  });

  it("refuses an answer without them (a GraphQL error, a missing scope)", () => {
    expect(() => parseShopSettings({ errors: [{ message: "Access denied" }] })).toThrow(ZodError);
    expect(() => parseShopSettings({ data: { shop: { currencyCode: "euro", ianaTimezone: "UTC" } } })).toThrow(
      /currencyCode/,
    );
  });
});

describe("recordShopInstall", () => {
  const read = (shop: string) => testDb().shop.findUniqueOrThrow({ where: { domain: shop } });

  it("creates the shop with its currency, time zone and scopes", async () => {
    const shop = uniqueShop();
    await recordShopInstall({ shop, currency: "CAD", timezone: "America/Toronto", scopes: "read_orders" }, testDb());
    expect(await read(shop)).toMatchObject({
      currency: "CAD",
      timezone: "America/Toronto",
      scopes: "read_orders",
      uninstalledAt: null,
    });
  });

  it("keeps the install date when a token is merely renewed, and refreshes the settings", async () => {
    const shop = uniqueShop();
    await recordShopInstall({ shop, currency: "USD", timezone: "UTC", scopes: "read_orders" }, testDb());
    const installedAt = new Date("2025-01-01T00:00:00Z");
    await testDb().shop.update({ where: { domain: shop }, data: { installedAt } });

    await recordShopInstall({ shop, currency: "EUR", timezone: "Europe/Paris", scopes: null }, testDb());
    expect(await read(shop)).toMatchObject({ installedAt, currency: "EUR", timezone: "Europe/Paris", scopes: "read_orders" });
  });

  it("starts a new install after an uninstall, so a late app/uninstalled is recognisably older", async () => {
    const shop = uniqueShop();
    const uninstalledAt = new Date(Date.now() - 60_000);
    await testDb().shop.create({
      data: { domain: shop, installedAt: new Date("2024-06-01T00:00:00Z"), uninstalledAt },
    });

    await recordShopInstall({ shop, currency: "GBP", timezone: "Europe/London", scopes: "read_orders" }, testDb());
    const row = await read(shop);
    expect(row.uninstalledAt).toBeNull();
    expect(row.installedAt.getTime()).toBeGreaterThan(uninstalledAt.getTime());
  });
});
