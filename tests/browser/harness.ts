import { randomBytes } from "node:crypto";
import { type Browser } from "playwright-core";
import type pg from "pg";
import { afterAll, beforeAll, inject } from "vitest";
import { createPgPool } from "~/db/pg.server";
import { adminClientAt } from "~/demo-mode.server";
import { silentLogger } from "~/lib/log.server";
import { makeSureOfMetafieldDefinitions } from "~/worker/registry.server";
import { type FakeKlaviyo, startFakeKlaviyo } from "../../demo/fakes/klaviyo";
import { type FakeMailchimp, startFakeMailchimp } from "../../demo/fakes/mailchimp";
import { type FakeShopifyAdmin, startFakeShopifyAdmin } from "../../demo/fakes/shopify";
import { type SeededDemoShop, seedDemoShop } from "../../scripts/seed-demo-shop";
import { testDb, uniqueShop } from "../support/db";
import { type DemoServer, type WatchedPage, launchChromium, startDemoServer, watchedPage } from "./browser";

// One browser test file's world: its own demo shop in this worker's database, seeded
// through the app's write path and refit; server.mjs on the run's production build in demo
// mode for that shop; one Chromium; the email tools' fakes (demo/fakes), as `npm run demo`
// starts them, so the Integrations page connects to them; and the demo's fake Shopify Admin
// API, holding Tenure's metafield definitions as after an install, so the Segments page
// publishes to it. Everything is stopped after the file.

export interface DemoApp {
  shop: string;
  url: string;
  seeded: SeededDemoShop;
  browser: Browser;
  pool: pg.Pool;
  /** The fake Klaviyo and Mailchimp the server's KLAVIYO_API_URL / MAILCHIMP_API_URL point at (this process's too), and the fake Shopify at its SHOPIFY_ADMIN_API_URL. */
  fakes: { klaviyo: FakeKlaviyo; mailchimp: FakeMailchimp; shopify: FakeShopifyAdmin };
  /** A fresh page (own context) recording console errors and failed requests. */
  open(path: string): Promise<WatchedPage>;
}

/**
 * `endAt`: the end of the store's history (default now, to the minute). A test that needs a
 * segment of a given size fixes it: the generated store, and so the segments, follow it.
 */
export function demoAppForFile(options: { customers?: number; label?: string; endAt?: Date } = {}): DemoApp {
  const app = {} as DemoApp;
  let server: DemoServer | undefined;
  const pages: WatchedPage[] = [];

  beforeAll(async () => {
    const databaseUrl = process.env.DATABASE_URL;
    if (!databaseUrl) throw new Error("DATABASE_URL is not set: is tests/support/setup-env.ts loaded?");
    // Its own queue prefix: a settings save enqueues a refit on the shared Redis.
    process.env.TENURE_QUEUE_PREFIX = `tenure-test-browser-${options.label ?? "app"}-${process.pid}-${Date.now().toString(36)}`;
    app.shop = uniqueShop(options.label ?? "browser");
    app.pool = createPgPool(databaseUrl, { max: 4 });
    app.seeded = await seedDemoShop({ prisma: testDb(), pool: app.pool, shop: app.shop, customers: options.customers ?? 300, endAt: options.endAt });
    app.fakes = { klaviyo: await startFakeKlaviyo(), mailchimp: await startFakeMailchimp(), shopify: await startFakeShopifyAdmin() };
    // As an install does (scripts/demo.ts too): the definitions made in the store and their namespace recorded.
    const definitions = await makeSureOfMetafieldDefinitions({ admin: adminClientAt(app.fakes.shopify.url, app.shop), pool: app.pool, logger: silentLogger }, app.shop);
    if (!definitions.complete) throw new Error("the fake Shopify refused Tenure's metafield definitions (see ShopMetafieldDefinitions.problem)");
    // This process's too: a test that runs the destinations worker in it reaches the same fakes and opens the same sealed keys.
    process.env.KLAVIYO_API_URL = app.fakes.klaviyo.url;
    process.env.MAILCHIMP_API_URL = app.fakes.mailchimp.url;
    process.env.TENURE_ENCRYPTION_KEY ??= randomBytes(32).toString("base64");
    server = await startDemoServer({
      buildDir: inject("browserBuildDir"),
      shop: app.shop,
      env: {
        DATABASE_URL: databaseUrl,
        KLAVIYO_API_URL: app.fakes.klaviyo.url,
        MAILCHIMP_API_URL: app.fakes.mailchimp.url,
        SHOPIFY_ADMIN_API_URL: app.fakes.shopify.url,
        TENURE_ENCRYPTION_KEY: process.env.TENURE_ENCRYPTION_KEY,
      },
    });
    app.url = server.url;
    app.browser = await launchChromium(inject("chromium"));
    app.open = async (path: string) => {
      const watched = await watchedPage(app.browser);
      pages.push(watched);
      await watched.page.goto(`${app.url}${path}`, { waitUntil: "networkidle" });
      return watched;
    };
  });

  afterAll(async () => {
    for (const watched of pages) await watched.close().catch(() => {});
    await app.browser?.close();
    await server?.stop();
    await Promise.all([app.fakes?.klaviyo.close(), app.fakes?.mailchimp.close(), app.fakes?.shopify.close()]);
    await app.pool?.end();
  });

  return app;
}
