// Live-metrics freshness: how long after Shopify's order webhook reaches us does the
// customer's metrics row show it? Signed orders/create deliveries at a sustained rate
// (default 200/s) through the real server (the production build run by `npm start`'s
// command) and the real worker process (`npm run worker`'s app/worker/main.ts: ingest,
// customer-metrics and shop-refit workers), on real PostgreSQL and Redis
// (scripts/local-services.ts: DATABASE_URL / REDIS_URL, else embedded PostgreSQL and a
// private redis-server).
//
// Before the measurement the shop is seeded with a demo store (1,200 customers) and
// refitted, so live recomputes score with a real model. During it, every delivery is a new
// order of a different customer (store customers first, then new ones), so each delivery
// maps to exactly one metrics row: freshness = CustomerMetrics.computedAt - the delivery's
// WebhookDelivery.receivedAt (both stamped on this machine). No refit runs meanwhile (the
// debounce keeps refits 5 minutes apart); the bench checks the fit version did not move.
//
// Options (environment): BENCH_FRESHNESS_RATE (orders/s, default 200),
// BENCH_FRESHNESS_SECONDS (default 30), BENCH_FRESHNESS_CUSTOMERS (seed store, default 1200).

import { benchDatabase } from "./lib/database";
import { type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import autocannon, { type Options as AutocannonOptions } from "autocannon";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import type pg from "pg";
import { applyMigrations } from "../app/db/migrations.server";
import { createPgPool } from "../app/db/pg.server";
import { ensureShopifyDestination } from "../app/data/destinations.server";
import { planDeliveries } from "../demo/deliveries";
import { scoreShop } from "../demo/scoring.server";
import { parseWebhookApiVersion, parseWebhookPaths, sendDeliveries, signBody } from "../demo/send";
import { generateStore } from "../demo/store";
import { QUEUE } from "../app/queues/contract";
import { closeProducerQueues } from "../app/queues/connections.server";
import { DEFAULT_METRICS_CONCURRENCY } from "../app/worker/workers.server";
import { ensureAppBuild, startAppServer, type ServerProcess } from "../scripts/app-build";
import { PROJECT_ROOT, ensureLocalServices, freePort } from "../scripts/local-services";
import { type CpuGroups, cpuSnapshot, machineBusyCpu, selfCpu, treeCpu } from "./lib/cpu";
import { type BenchResult, machineInfo, percentile, round } from "./lib/report";
import { startWorkerProcess, waitUntil } from "./lib/worker-process";

const RATE = Number(process.env.BENCH_FRESHNESS_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_FRESHNESS_SECONDS ?? 30);
const SEED_CUSTOMERS = Number(process.env.BENCH_FRESHNESS_CUSTOMERS ?? 1_200);
const CONNECTIONS = 32;
const TARGET_P95_MS = 2_000;
const LOG_DIR = path.join(PROJECT_ROOT, ".demo", "logs");

const log = (line: string) => console.error(`bench freshness: ${line}`);



/** A new order of the given customer, in the demo store's real payload shape, happening now. */
function orderBody(template: Record<string, unknown>, orderId: number, customerId: number): Buffer {
  const now = new Date().toISOString();
  const customer = { ...(template.customer as Record<string, unknown>), id: customerId, admin_graphql_api_id: `gid://shopify/Customer/${customerId}` };
  const body = {
    ...template,
    id: orderId,
    admin_graphql_api_id: `gid://shopify/Order/${orderId}`,
    name: `#B${orderId}`,
    order_number: orderId,
    created_at: now,
    processed_at: now,
    updated_at: now,
    customer,
  };
  return Buffer.from(JSON.stringify(body));
}

interface LoadResult {
  ok: number;
  non2xx: number;
  errors: number;
  durationS: number;
  p99: number;
}

function load(options: { url: string; shop: string; apiVersion: string; path: string; secret: string; nextBody: () => Buffer }): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    // overallRate (requests per second across connections) is autocannon's; its types omit it.
    const rate = { overallRate: RATE } as Partial<AutocannonOptions>;
    autocannon(
      {
        ...rate,
        url: options.url,
        connections: CONNECTIONS,
        duration: SECONDS,
        timeout: 30,
        requests: [
          {
            method: "POST",
            setupRequest: (request) => {
              const body = options.nextBody();
              return {
                ...request,
                method: "POST",
                path: options.path,
                body,
                headers: {
                  "content-type": "application/json",
                  "x-shopify-topic": "orders/create",
                  "x-shopify-hmac-sha256": signBody(body, options.secret),
                  "x-shopify-shop-domain": options.shop,
                  "x-shopify-webhook-id": randomUUID(),
                  "x-shopify-event-id": randomUUID(),
                  "x-shopify-triggered-at": new Date().toISOString(),
                  "x-shopify-api-version": options.apiVersion,
                },
              };
            },
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        resolve({ ok: Number(result.statusCodeStats?.["200"]?.count ?? 0), non2xx: result.non2xx, errors: result.errors, durationS: result.duration, p99: result.latency.p99 });
      },
    );
  });
}

export async function run(): Promise<BenchResult[]> {
  const runId = Date.now().toString(36);
  // A cluster of its own when embedded: another benchmark may be using .demo/bench-pg meanwhile.
  const services = await ensureLocalServices({ pgDataDir: path.join(PROJECT_ROOT, ".demo", "bench-pg-freshness"), log });
  let server: ServerProcess | undefined;
  let worker: { process: ChildProcess; stop: () => Promise<void> } | undefined;
  let database: { url: string; drop: () => Promise<void> } | undefined;
  let pool: pg.Pool | undefined;
  let inspector: Redis | undefined;
  try {
    database = await benchDatabase(services.databaseUrl, "tenure_bench_freshness");
    await applyMigrations(database.url);
    const { built } = await ensureAppBuild({ log, logFile: path.join(LOG_DIR, "build.log") });
    if (built) log("built the app");

    const toml = readFileSync(path.join(PROJECT_ROOT, "shopify.app.toml"), "utf8");
    const paths = parseWebhookPaths(toml);
    const apiVersion = parseWebhookApiVersion(toml) ?? "2026-10";
    const secret = randomBytes(24).toString("hex");
    const port = await freePort();
    const prefix = `bench-freshness-${runId}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: "production",
      // Production requires the key that seals destination API keys (app/env.server.ts).
      TENURE_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      DATABASE_URL: database.url,
      REDIS_URL: services.redisUrl,
      SHOPIFY_API_KEY: "bench",
      SHOPIFY_API_SECRET: secret,
      SHOPIFY_APP_URL: `http://localhost:${port}`,
      TENURE_DEMO_MODE: "false",
      TENURE_QUEUE_PREFIX: prefix,
    };
    server = await startAppServer({ port, stdio: "ignore", env });
    worker = await startWorkerProcess(env, "bench-freshness-worker");
    log(`server ${server.url} and worker (npm run worker's process); database ${services.postgres.description}; redis ${services.redis.description}`);

    // This process asks for the seed refit (requestRefit reads REDIS_URL and the prefix).
    process.env.REDIS_URL = services.redisUrl;
    process.env.TENURE_QUEUE_PREFIX = prefix;
    pool = createPgPool(database.url, { max: 4 });
    inspector = new Redis(services.redisUrl, { maxRetriesPerRequest: null });
    inspector.on("error", () => {});
    const metricsQueue = new Queue(QUEUE.customerMetrics, { connection: inspector, prefix });
    const refitQueue = new Queue(QUEUE.shopRefit, { connection: inspector, prefix });

    const shop = `bench-freshness-${runId}.myshopify.com`;
    await pool.query(`INSERT INTO "Shop" (domain, currency, timezone, "updatedAt") VALUES ($1, 'USD', 'America/New_York', now())`, [shop]);
    // As an install does: every installed shop has the Shopify write-back's destination, so
    // each recompute marks its outbox (its passes cannot reach Shopify here and wait or pause;
    // the marking is what this measures: docs/destinations/shopify.md).
    await ensureShopifyDestination(pool, shop);
    const store = generateStore({ seed: "bench-freshness", customers: SEED_CUSTOMERS, endAt: new Date(), shop });
    const plan = planDeliveries(store, { duplicateShare: 0, earlyUpdateShare: 0 });
    log(`seeding ${store.customers.length} customers, ${store.orders.length} orders (${plan.deliveries.length} deliveries)`);
    const target = { baseUrl: server.url, secret, shop, apiVersion, paths };
    const seeded = await sendDeliveries(plan.deliveries, target, { concurrency: 16 });
    if (seeded.failures.length > 0) throw new Error(`seeding: ${seeded.failures.length} deliveries rejected`);
    const pendingOf = async () =>
      Number((await pool!.query<{ n: string }>(`SELECT count(*) AS n FROM "WebhookDelivery" WHERE shop = $1 AND status = 'PENDING'`, [shop])).rows[0].n);
    await waitUntil(async () => (await pendingOf()) === 0, 10 * 60_000, "the seed deliveries to be processed");
    const scored = await scoreShop({ pool, shop, metricsQueue, refitQueue, timeoutMs: 10 * 60_000 });
    if (!scored.complete) throw new Error("the seed refit did not finish");
    const fitBefore = scored.snapshot.fit!;
    log(`seeded and refitted: ${scored.snapshot.scored} of ${scored.snapshot.buyers} buyers scored, fit v${fitBefore.version} (${fitBefore.status}, ${fitBefore.model ?? "no model"})`);

    // Each delivery: a new order of a customer no other delivery of the run touches.
    // The template is an ordinary order (not a test order, not cancelled): one the metrics count,
    // so each recompute does the full work of a real order.
    const templateDelivery = plan.deliveries.find((d) => {
      if (d.topic !== "orders/create") return false;
      const body = JSON.parse(d.body) as { customer?: unknown; test?: boolean; cancelled_at?: string | null };
      return Boolean(body.customer) && body.test !== true && !body.cancelled_at;
    });
    const template = JSON.parse(templateDelivery!.body) as Record<string, unknown>;
    const storeCustomers = store.customers.map((c) => Number(c.id));
    let nextNewCustomer = Math.max(...storeCustomers) + 1;
    let sent = 0;
    const nextBody = () => {
      const customer = sent < storeCustomers.length ? storeCustomers[sent] : nextNewCustomer++;
      sent += 1;
      return orderBody(template, 8_000_000_000_000 + sent, customer);
    };

    const cpuGroups: CpuGroups = { server: treeCpu(server.process.pid!), worker: treeCpu(worker.process.pid!) };
    if (services.postgres.pid) cpuGroups.postgres = treeCpu(services.postgres.pid);
    if (services.redis.pid) cpuGroups.redis = treeCpu(services.redis.pid);
    cpuGroups["load generator"] = selfCpu;
    cpuGroups.machine = machineBusyCpu;

    const loadStart = (await pool.query<{ now: Date }>(`SELECT (now() AT TIME ZONE 'UTC')::timestamp AS now`)).rows[0].now;
    log(`load: ${RATE} orders/s for ${SECONDS} s at ${CONNECTIONS} connections`);
    const cpuBefore = cpuSnapshot(cpuGroups);
    const result = await load({ url: server.url, shop, apiVersion, path: paths.get("orders/create")!, secret, nextBody });
    const cpuAfter = cpuSnapshot(cpuGroups);
    const backlogAtEnd = await pendingOf();
    log(`  ${result.ok} accepted in ${result.durationS} s (${(result.ok / result.durationS).toFixed(0)}/s), intake p99 ${result.p99} ms; ${backlogAtEnd} deliveries pending at the end`);

    await waitUntil(async () => (await pendingOf()) === 0, 10 * 60_000, "the measured deliveries to be processed");
    await waitUntil(
      async () => {
        const counts = await metricsQueue.getJobCounts("active", "waiting", "prioritized");
        return counts.active + counts.waiting + counts.prioritized === 0;
      },
      10 * 60_000,
      "the metrics queue to drain",
    );
    // From the load's start until every delivery of it is ingested and scored: all the CPU its deliveries cost.
    const cpuDrained = cpuSnapshot(cpuGroups);

    const rows = await pool.query<{ ms: number | null; after_ingest_ms: number | null; received: Date; processed: Date | null; computed: Date | null }>(
      `SELECT CASE WHEN cm."computedAt" >= d."receivedAt" THEN extract(epoch FROM cm."computedAt" - d."receivedAt") * 1000 END::float8 AS ms,
              CASE WHEN cm."computedAt" >= d."receivedAt" THEN extract(epoch FROM cm."computedAt" - d."processedAt") * 1000 END::float8 AS after_ingest_ms,
              d."receivedAt" AS received, d."processedAt" AS processed, cm."computedAt" AS computed
       FROM "WebhookDelivery" AS d
       LEFT JOIN "CustomerMetrics" AS cm ON cm.shop = d.shop AND cm."customerId" = d."customerId"
       WHERE d.shop = $1 AND d."receivedAt" >= $2 AND d.topic = 'orders/create'`,
      [shop, loadStart],
    );
    const fitAfter = (await pool.query<{ version: number }>(`SELECT version FROM "ShopFit" WHERE shop = $1`, [shop])).rows[0];
    const latencies = rows.rows.flatMap((r) => (r.ms === null ? [] : [r.ms]));
    const missing = rows.rows.length - latencies.length;
    // The metrics stage alone: the delivery's ingest committed -> its customer's row written.
    const afterIngest = rows.rows.flatMap((r) => (r.after_ingest_ms === null ? [] : [r.after_ingest_ms]));
    const span = (from: Date[], to: Date[]) => (Math.max(...to.map(Number)) - Math.min(...from.map(Number))) / 1000;
    const received = rows.rows.map((r) => r.received);
    const ingestRate = rows.rows.length / span(received, rows.rows.flatMap((r) => (r.processed ? [r.processed] : [])));
    const metricsRate = rows.rows.length / span(received, rows.rows.flatMap((r) => (r.computed ? [r.computed] : [])));

    const seconds = result.durationS;
    const cpu: Record<string, number> = {};
    let ours = 0;
    for (const name of Object.keys(cpuGroups)) {
      if (name === "machine") continue;
      const used = cpuAfter[name] - cpuBefore[name];
      ours += used;
      cpu[`CPU cores: ${name}`] = round(used / seconds, 2);
    }
    const otherCores = round(Math.max(0, cpuAfter.machine - cpuBefore.machine - ours) / seconds, 2);
    cpu["CPU cores: other processes"] = otherCores;
    // CPU per delivery is what a busy shared machine disturbs least: the capacity it allows
    // if the live path had the machine's cores to itself (the load generator excluded).
    let perDelivery = 0;
    for (const name of ["server", "worker", "postgres", "redis"]) {
      if (!(name in cpuGroups)) continue;
      const ms = ((cpuDrained[name] - cpuBefore[name]) * 1000) / Math.max(1, rows.rows.length);
      perDelivery += ms;
      cpu[`CPU ms per delivery: ${name}`] = round(ms, 2);
    }
    const capacity = Math.round((machineInfo().cpus * 1000) / perDelivery);
    cpu[`CPU-bound capacity on ${machineInfo().cpus} cores /s`] = capacity;

    const p95 = percentile(latencies, 95);
    const achieved = result.ok / seconds;
    const refitted = fitAfter.version !== fitBefore.version;
    return [
      {
        name: `freshness at ${RATE} orders/s for ${SECONDS} s`,
        metrics: {
          "orders/s sent (accepted)": round(achieved, 0),
          "deliveries measured": rows.rows.length,
          "p50 ms": round(percentile(latencies, 50), 0),
          "p95 ms": round(p95, 0),
          "p99 ms": round(percentile(latencies, 99), 0),
          "max ms": round(percentile(latencies, 100), 0),
          "without a fresh row": missing,
          "ingest done -> row p50 ms": round(percentile(afterIngest, 50), 0),
          "ingest done -> row p95 ms": round(percentile(afterIngest, 95), 0),
          "ingested/s": round(ingestRate, 0),
          "metrics rows/s": round(metricsRate, 0),
          "pending at end of load": backlogAtEnd,
          "intake p99 ms": result.p99,
          "non-2xx": result.non2xx,
          "refit during load": refitted,
          ...cpu,
        },
        target: `p95 ≤ ${TARGET_P95_MS.toLocaleString("en-US")} ms at ${RATE} orders/s, every delivery's row fresh`,
        pass: p95 <= TARGET_P95_MS && missing === 0 && achieved >= 0.95 * RATE && result.non2xx === 0,
        notes:
          `freshness = CustomerMetrics.computedAt - WebhookDelivery.receivedAt per delivery (one customer each); ` +
          `seed store ${SEED_CUSTOMERS} customers, fitted before the load; worker = npm run worker's process, ` +
          `ingest WORKER_CONCURRENCY ${process.env.WORKER_CONCURRENCY ?? "8 (default)"}, live metrics ${DEFAULT_METRICS_CONCURRENCY} active jobs; ` +
          `PostgreSQL and Redis CPU is counted under "other processes" unless they were started here` +
          (refitted ? "; a refit ran during the load: some rows were rescored by it" : "") +
          (otherCores > 0.25 ? `; the machine was busy: other processes used ${otherCores} of ${machineInfo().cpus} cores meanwhile` : ""),
      },
    ];
  } finally {
    await inspector?.quit().catch(() => {});
    await closeProducerQueues();
    await pool?.end().catch(() => {});
    await worker?.stop();
    await server?.stop();
    await database?.drop().catch(() => {});
    await services.stop();
  }
}
