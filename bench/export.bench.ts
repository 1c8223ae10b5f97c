// CSV export against the real server (issue 14): the production build run by `npm start`'s
// command, in demo mode (the bench shop is the demo shop), real PostgreSQL. A shop of
// --customers customers (default 1,000,000) is written set-based (Customer and
// CustomerMetrics rows, names with commas, quotes and non-Latin scripts, about half
// subscribed to email marketing), then the whole customer table is exported over HTTP
// (/app/customers/export.csv?preset=klaviyo&consent=all) and a segment with the default
// consent filter. Measured: time to the first byte, rows/s to the last byte, and the
// server's RSS (sampled every 20 ms from /proc) against its idle value after a warm-up.
//
// Targets (issue 14): the export starts in < 1 s, ≥ 100,000 rows/s for the whole table (a
// segment's rate is reported: its time is the scan of the whole shop), peak RSS within 150 MB
// of idle. Options: --customers <n>, --keep (leave the database for another look).
// The client reads as fast as it can and asks for no compression (identity): the figures
// are the server's cursor and CSV work; a gzip case is reported beside it.

import { readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { installShop } from "../app/data/shop.server";
import { applyMigrations } from "../app/db/migrations.server";
import { ensureAppBuild, startAppServer, type ServerProcess } from "../scripts/app-build";
import { PROJECT_ROOT, ensureLocalServices, freePort } from "../scripts/local-services";
import { benchDatabase } from "./lib/database";
import { type BenchResult, round } from "./lib/report";

const DATABASE = "tenure_bench_export";
const SHOP = "bench-export.myshopify.com";
const TARGET_FIRST_BYTE_MS = 1_000;
const TARGET_ROWS_PER_S = 100_000;
const TARGET_RSS_GROWTH_MB = 150;
const log = (line: string) => console.error(`bench export: ${line}`);

const SEGMENTS = ["champions", "loyal", "potential-loyalist", "need-attention", "at-risk", "hibernating", "lost"];

async function buildShop(url: string, customers: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await installShop(client, SHOP);
    await client.query("SET synchronous_commit = off");
    await client.query(
      `INSERT INTO "Customer" (shop, id, email, "firstName", "lastName", phone, tags, "shopifyUpdatedAt",
         "emailConsentState", "emailOptInLevel", "emailConsentUpdatedAt")
       SELECT $1, g,
         CASE WHEN g % 10 = 0 THEN NULL ELSE 'customer' || g || '@example.com' END,
         (ARRAY['Ada', 'Björn', 'Анна', '山田', 'O''Neil "Nan"', 'Smith, Jr.', '=cmd', 'Zoë'])[1 + g % 8],
         'Last' || g,
         CASE WHEN g % 3 = 0 THEN '+1555' || lpad((g % 10000000)::text, 7, '0') END,
         '{}', now(),
         CASE WHEN g % 2 = 0 THEN 'SUBSCRIBED' WHEN g % 5 = 1 THEN 'UNSUBSCRIBED' WHEN g % 7 = 1 THEN NULL ELSE 'NOT_SUBSCRIBED' END,
         CASE WHEN g % 2 = 0 THEN 'SINGLE_OPT_IN' END,
         CASE WHEN g % 7 <> 1 THEN timestamptz '2026-01-01' + (g % 300) * interval '1 day' END
       FROM generate_series(1, $2::int) AS g`,
      [SHOP, customers],
    );
    await client.query(
      `INSERT INTO "CustomerMetrics" (shop, "customerId", orders, "netSpentMinor", "aovMinor", "firstOrderDay", "lastOrderDay",
         "recencyDays", "rScore", "fScore", "mScore", segment, behaviours, "pAlive", "chanceOfOrder90d", "chanceOfOrder365d",
         "expectedPurchases90d", "expectedPurchases365d", "expectedOrderValueMinor", "predictedClvMinor", "expectedNextOrderDay",
         "modelVersion", "asOfDay")
       SELECT $1, g, 1 + g % 9, 1000 + (g::bigint * 7919) % 500000, 1000 + (g::bigint * 31) % 20000, date '2022-01-01' + (g % 900), date '2024-06-01' + (g % 500),
         g % 700, 1 + g % 5, 1 + (g / 5) % 5, 1 + (g / 25) % 5, ($3::text[])[1 + g % 7],
         CASE WHEN g % 4 = 0 THEN ARRAY['repeat-buyer', 'vip'] WHEN g % 4 = 1 THEN ARRAY['first-time-buyer'] ELSE '{}' END,
         (g % 1000) / 1000.0, (g % 997) / 997.0, (g % 991) / 991.0, 0.5, 1.5, 5000, 2000 + (g::bigint * 13) % 90000, date '2026-01-01' + (g % 200),
         1, 20400
       FROM generate_series(1, $2::int) AS g`,
      [SHOP, customers, SEGMENTS],
    );
    await client.query(`VACUUM ANALYZE "Customer"`);
    await client.query(`VACUUM ANALYZE "CustomerMetrics"`);
  } finally {
    await client.end();
  }
}

/** The process's resident set (MB), from /proc. */
function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

interface Download {
  status: number;
  firstByteMs: number;
  totalMs: number;
  bytes: number;
  lines: number;
  peakRssMb: number;
}

/** GETs `url`, reading as fast as it comes; samples the server's RSS meanwhile. */
function download(url: string, pid: number, encoding: "identity" | "gzip"): Promise<Download> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let peak = rssMb(pid);
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMb(pid));
    }, 20);
    const request = http.get(url, { headers: { "Accept-Encoding": encoding } }, (response) => {
      let firstByteMs = -1;
      let bytes = 0;
      let lines = 0;
      response.on("data", (chunk: Buffer) => {
        if (firstByteMs < 0) firstByteMs = performance.now() - started;
        bytes += chunk.length;
        if (encoding === "identity") for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines += 1;
      });
      response.on("end", () => {
        clearInterval(sampler);
        peak = Math.max(peak, rssMb(pid));
        resolve({ status: response.statusCode ?? 0, firstByteMs, totalMs: performance.now() - started, bytes, lines, peakRssMb: peak });
      });
      response.on("error", (error) => {
        clearInterval(sampler);
        reject(error);
      });
    });
    request.on("error", (error) => {
      clearInterval(sampler);
      reject(error);
    });
  });
}

export async function run(argv: readonly string[] = []): Promise<BenchResult[]> {
  const { values } = parseArgs({
    args: [...argv],
    options: { customers: { type: "string" }, keep: { type: "boolean" } },
    strict: false,
  });
  const customers = Number(values.customers ?? process.env.BENCH_EXPORT_CUSTOMERS ?? 1_000_000);
  if (!Number.isInteger(customers) || customers < 1) throw new RangeError(`--customers must be a whole number above 0 (got ${String(values.customers)})`);
  const services = await ensureLocalServices({ pgDataDir: path.join(PROJECT_ROOT, ".demo", "bench-pg"), log });
  const database = await benchDatabase(services.databaseUrl, DATABASE);
  let server: ServerProcess | undefined;
  try {
    await applyMigrations(database.url);
    const built = Date.now();
    await buildShop(database.url, customers);
    log(`shop of ${customers.toLocaleString("en-US")} customers written in ${((Date.now() - built) / 1000).toFixed(1)} s`);
    await ensureAppBuild({ log, logFile: path.join(PROJECT_ROOT, ".demo", "logs", "build.log") });
    const port = await freePort();
    server = await startAppServer({
      port,
      stdio: "ignore",
      env: {
        ...process.env,
        // Demo mode serves the bench shop without Shopify; it is refused under NODE_ENV=production.
        NODE_ENV: "test",
        DATABASE_URL: database.url,
        REDIS_URL: services.redisUrl,
        SHOPIFY_API_KEY: "bench",
        SHOPIFY_API_SECRET: "bench-secret",
        SHOPIFY_APP_URL: `http://localhost:${port}`,
        TENURE_DEMO_MODE: "true",
        TENURE_DEMO_SHOP: SHOP,
      },
    });
    const pid = server.process.pid!;
    // Warm-up: a small segment's export, so modules and the pool are loaded before idle is read.
    await download(`${server.url}/app/customers/export.csv?preset=klaviyo&chanceMax=0.5`, pid, "identity");
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const idle = rssMb(pid);
    log(`server ${server.url}, idle RSS ${idle.toFixed(0)} MB`);

    const cases: { name: string; path: string; encoding: "identity" | "gzip"; rows: number | null }[] = [
      { name: "whole table, klaviyo, everyone", path: "/app/customers/export.csv?preset=klaviyo&consent=all", encoding: "identity", rows: customers },
      { name: "whole table, tenure (every figure), everyone", path: "/app/customers/export.csv?preset=tenure&consent=all", encoding: "identity", rows: customers },
      { name: "whole table, klaviyo, everyone, gzip", path: "/app/customers/export.csv?preset=klaviyo&consent=all", encoding: "gzip", rows: customers },
      { name: "segment champions, klaviyo, subscribed only", path: "/app/segments/champions/export.csv?preset=klaviyo", encoding: "identity", rows: null },
    ];
    const results: BenchResult[] = [];
    for (const c of cases) {
      const result = await download(`${server.url}${c.path}`, pid, c.encoding);
      if (result.status !== 200) throw new Error(`${c.path} answered ${result.status}`);
      const rows = c.encoding === "identity" ? result.lines - 1 : (c.rows ?? 0);
      if (c.rows !== null && c.encoding === "identity" && rows !== c.rows) throw new Error(`${c.path}: ${rows} rows for ${c.rows} customers`);
      const rowsPerS = rows / (result.totalMs / 1000);
      // The rate target is the whole shop's: a segment's file costs the scan of every customer
      // (the segment is spread over the shop), so its rows/s is reported, not held to it.
      const rateTarget = c.rows !== null && rows >= 10_000;
      const growth = result.peakRssMb - idle;
      log(`${c.name}: first byte ${result.firstByteMs.toFixed(0)} ms, ${rows} rows in ${(result.totalMs / 1000).toFixed(1)} s, peak RSS +${growth.toFixed(0)} MB`);
      results.push({
        name: `export: ${c.name}`,
        metrics: {
          customers,
          rows,
          "first byte ms": round(result.firstByteMs, 0),
          "total s": round(result.totalMs / 1000, 2),
          "rows/s": round(rowsPerS, 0),
          "MB sent": round(result.bytes / 1e6, 1),
          "idle RSS MB": round(idle, 0),
          "peak RSS MiB": round(result.peakRssMb, 0),
          "RSS growth MB": round(growth, 0),
        },
        target: `first byte < ${TARGET_FIRST_BYTE_MS} ms, ${rateTarget ? `≥ ${TARGET_ROWS_PER_S.toLocaleString("en-US")} rows/s, ` : ""}RSS within ${TARGET_RSS_GROWTH_MB} MB of idle`,
        pass: result.firstByteMs < TARGET_FIRST_BYTE_MS && (!rateTarget || rowsPerS >= TARGET_ROWS_PER_S) && growth <= TARGET_RSS_GROWTH_MB,
        notes: `${c.encoding === "gzip" ? "gzip (the client counts compressed bytes; rows are the customers)" : "no compression"}; the client reads as fast as it can on the same 2 cores${rateTarget ? "" : "; a part of the shop: its time is the scan of the whole shop, no rate target"}`,
      });
    }
    return results;
  } finally {
    await server?.stop();
    if (!values.keep) await database.drop();
    await services.stop();
  }
}
