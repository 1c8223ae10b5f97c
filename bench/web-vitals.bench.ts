// Web vitals of the merchant's pages: LCP and CLS of each page of the demo store, loaded
// cold (fresh browser context: no cache, no cookies) in headless Chromium (Debian's, via
// playwright-core) from the production build served by server.mjs in demo mode, measured
// by Google's web-vitals library injected before the page's own scripts.
//
// The store: a fresh database (migrated) with the demo's default store of 3,600 customers
// (BENCH_VITALS_CUSTOMERS) seeded through the app's write path and a refit
// (scripts/seed-demo-shop.ts). No network or CPU throttling: loopback, this machine's CPU;
// requests to other hosts (Polaris's font CSS on cdn.shopify.com) answer empty at once.
//
// Targets (issue 5, Core Web Vitals "good"): LCP <= 2.5 s and CLS <= 0.1 at the 75th
// percentile of --loads (default 5) loads per page.

import { benchDatabase } from "./lib/database";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { applyMigrations } from "../app/db/migrations.server";
import { createPrismaClient } from "../app/db.server";
import { createPgPool } from "../app/db/pg.server";
import { ensureAppBuild } from "../scripts/app-build";
import { PROJECT_ROOT, ensureLocalServices } from "../scripts/local-services";
import { seedDemoShop } from "../scripts/seed-demo-shop";
import { isolateFromInternet, launchChromium, startDemoServer } from "../tests/browser/browser";
import { type BenchResult, percentile, round } from "./lib/report";

const CUSTOMERS = Number(process.env.BENCH_VITALS_CUSTOMERS ?? 3_600);
const DATABASE = "tenure_bench_vitals";
const SHOP = "bench-vitals.myshopify.com";
const LCP_TARGET_MS = 2_500;
const CLS_TARGET = 0.1;
const log = (line: string) => console.error(`bench web-vitals: ${line}`);

const WEB_VITALS_IIFE = path.join(PROJECT_ROOT, "node_modules", "web-vitals", "dist", "web-vitals.iife.js");
/** Runs before the page's scripts: web-vitals reports every change into window.__vitals. */
const RECORDER = `
  window.__vitals = { lcp: null, cls: null, shifts: 0 };
  webVitals.onLCP((metric) => { window.__vitals.lcp = metric.value; }, { reportAllChanges: true });
  webVitals.onCLS((metric) => { window.__vitals.cls = metric.value; }, { reportAllChanges: true });
  new PerformanceObserver((list) => { window.__vitals.shifts += list.getEntries().filter((e) => !e.hadRecentInput).length; })
    .observe({ type: "layout-shift", buffered: true });
`;


interface Vitals {
  lcp: number | null;
  cls: number | null;
  shifts: number;
}

export async function run(argv: readonly string[] = []): Promise<BenchResult[]> {
  const { values } = parseArgs({ args: [...argv], options: { loads: { type: "string", default: "5" } }, strict: false });
  const loads = Number(values.loads);
  const services = await ensureLocalServices({ pgDataDir: path.join(PROJECT_ROOT, ".demo", "bench-pg"), log });
  const database = await benchDatabase(services.databaseUrl, DATABASE);
  const prisma = createPrismaClient(database.url);
  const pool = createPgPool(database.url, { max: 4 });
  const stops: (() => Promise<unknown>)[] = [];
  try {
    await applyMigrations(database.url);
    const seeded = await seedDemoShop({ prisma, pool, shop: SHOP, customers: CUSTOMERS, seed: "tenure-demo" });
    log(`demo shop: ${seeded.customers} customers, ${seeded.orders} orders, refit ${seeded.refit?.status} (${seeded.durationMs} ms)`);
    await ensureAppBuild({ log, logFile: path.join(PROJECT_ROOT, ".demo", "logs", "build.log") });
    const server = await startDemoServer({
      buildDir: "build",
      shop: SHOP,
      env: { DATABASE_URL: database.url, REDIS_URL: services.redisUrl, TENURE_QUEUE_PREFIX: `tenure-bench-vitals-${process.pid}` },
    });
    stops.push(server.stop);
    const browser = await launchChromium();
    stops.unshift(() => browser.close());

    const segment = await pool.query<{ segment: string }>(
      `SELECT segment FROM "CustomerMetrics" WHERE shop = $1 AND segment IS NOT NULL GROUP BY segment ORDER BY count(*) DESC LIMIT 1`,
      [SHOP],
    );
    const customer = await pool.query<{ id: string }>(
      `SELECT "customerId"::text AS id FROM "CustomerMetrics" WHERE shop = $1 ORDER BY orders DESC, "customerId" LIMIT 1`,
      [SHOP],
    );
    const pages = [
      "/app",
      "/app/segments",
      `/app/segments/${segment.rows[0]?.segment ?? "champions"}`,
      "/app/customers",
      `/app/customers/${customer.rows[0]?.id ?? "0"}`,
      "/app/cohorts",
      "/app/model",
      "/app/settings",
      "/app/sync",
    ];
    const recorder = `${readFileSync(WEB_VITALS_IIFE, "utf8")}\n${RECORDER}`;
    const results: BenchResult[] = [];
    for (const pagePath of pages) {
      const samples: Vitals[] = [];
      let status = 0;
      for (let i = 0; i < loads + 1; i++) {
        const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
        await isolateFromInternet(context);
        await context.addInitScript({ content: recorder });
        const page = await context.newPage();
        const response = await page.goto(`${server.url}${pagePath}`, { waitUntil: "networkidle" });
        status = response?.status() ?? 0;
        // Late shifts (charts sizing themselves, fonts) count too: give the page a moment.
        await page.waitForTimeout(1_000);
        const vitals = (await page.evaluate("window.__vitals")) as Vitals;
        await context.close();
        // The first load warms the server (module loading, connection pools), not the page.
        if (i > 0) samples.push(vitals);
      }
      const lcp = percentile(samples.map((s) => s.lcp ?? Number.POSITIVE_INFINITY), 75);
      // web-vitals reports CLS only once a shift happens: no report means no shift.
      const cls = percentile(samples.map((s) => s.cls ?? 0), 75);
      const pass = status === 200 && lcp <= LCP_TARGET_MS && cls <= CLS_TARGET;
      results.push({
        name: pagePath,
        metrics: {
          "LCP p75 ms": round(lcp),
          "LCP max ms": round(Math.max(...samples.map((s) => s.lcp ?? Number.POSITIVE_INFINITY))),
          "CLS p75": round(cls, 3),
          "layout shifts (all loads)": samples.reduce((n, s) => n + s.shifts, 0),
          "HTTP status": status,
        },
        target: `LCP <= ${LCP_TARGET_MS} ms, CLS <= ${CLS_TARGET}`,
        pass,
      });
      log(`${pagePath}: LCP p75 ${round(lcp)} ms, CLS p75 ${round(cls, 3)}, status ${status}`);
    }
    results.push({
      name: "the store measured",
      metrics: { customers: seeded.customers, orders: seeded.orders, "loads per page": loads },
      notes: "cold loads (fresh context) at 1280x900 over loopback, no throttling; first load per page discarded as server warm-up",
    });
    return results;
  } finally {
    for (const stop of stops) await stop().catch(() => {});
    await prisma.$disconnect();
    await pool.end();
    await database.drop();
    await services.stop();
  }
}
