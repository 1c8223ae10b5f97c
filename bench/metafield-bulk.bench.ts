// Metafield write-back after a refit, the bulk-mutation path (issue 15): 1,000,000 customers
// (BENCH_METAFIELD_CUSTOMERS or --customers), all seven of Tenure's values each, as after a
// refit rewrites everyone, written by writeMetafieldsInBulk
// (app/destinations/shopify/bulk-metafields.server.ts, production settings: 100 MB files,
// polls from 250 ms up to every 2 s) through the app's real Admin GraphQL client (AdminGraphql: offline session
// in PostgreSQL, cost bucket) to a fake Shopify with Shopify's documented limits: the Standard
// plan's cost bucket (2,000 points, 100 restored a second), metafieldsSet's 25 per call and
// its validations against the definitions, files up to 100 MB, bulk mutations per shop
// (Tenure runs one at a time). Shopify documents no processing rate for a bulk operation:
// the fake runs an operation's lines when it is polled the second time after it started
// (demo/fakes/shopify-bulk-mutations.ts), so its time here is the fake's CPU, not a model of
// Shopify's. The figure to read is Tenure's side: building and uploading the files, polling,
// reading the results, against the operations' count.
//
// The fake runs in a child process of its own (Shopify is another machine; running a
// million customers' metafieldsSet is its work), reached as the tests reach theirs: this
// process's fetch connections all go to the child's port. To hold its memory flat, the fake
// counts the values each operation wrote and then drops them.
//
// Two paths (--path):
//  - engine (default): a shop of that many customers with metrics rows, and its Shopify
//    write-back destination; a full pass "refit" of the real engine
//    (app/destinations/sync.server.ts) reads every scored customer, compares, and pushes
//    batches of 5,000 through the write-back adapter, which takes the bulk path for each
//    (writeback.server.ts: from 1,000 customers a push), so one operation per batch, one after
//    the other. This is the figure issue 15 asks for.
//  - direct: writeMetafieldsInBulk called once with every customer (files of 100 MB): the
//    bulk path alone, without the database and the batching.
//
// Options: --customers <n>, --path engine|direct, --poll-ms <ms> (default the production 2,000),
// --push <n> (direct path: calls of n customers, up to MAX_BATCHES_IN_FLIGHT at once, as the
// engine's pushes would be with that batch size; default one call).
// BENCH_MEMORY_LOG=1 logs this process's memory every second during the engine pass; with
// NODE_OPTIONS=--expose-gc it also logs the heap still in use after a full GC (what is
// really kept, as against garbage V8 has not collected yet).

import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import { type AddressInfo, connect as netConnect } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type pg from "pg";
import { Agent, setGlobalDispatcher } from "undici";
import { FakeBulkMutations } from "../demo/fakes/shopify-bulk-mutations";
import {
  CostBucket, FakeGraphqlErrors, type FakeShopData, type MetafieldsSetInput, THROTTLED_ERRORS, emptyShopData, metafieldsSet, resolveDefinitionsAndSegments,
} from "../demo/fakes/shopify-rules";
import { PROJECT_ROOT, ensureLocalServices } from "../scripts/local-services";
import { benchDatabase } from "./lib/database";
import { type BenchResult, round } from "./lib/report";

const SHOP = "bench-metafield-bulk.myshopify.com";
const APP_ID = "4242";
const TOKEN = "shpat_bench_metafield_bulk";
const FAKE_CHILD_FLAG = "--fake-shopify-child";
/** Shopify's Standard plan bucket (https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits); the fake charges 10 a call. */
const BUCKET = { maximumAvailable: 2_000, restoreRate: 100, queryCost: 10 };
const log = (line: string) => console.error(`bench metafield-bulk: ${line}`);

interface FakeSummary {
  operations: number;
  lines: number;
  landed: number;
  uploadedBytes: number;
  throttled: number;
  mostRunning: number;
  cpuS: number;
}

/** In the child: the fake Admin API and staged-upload storage on a loopback port. */
async function serveFake(): Promise<void> {
  const rules = { appNamespace: `app--${APP_ID}`, definitionUserErrorsNext: null };
  const shops = new Map<string, FakeShopData>();
  const buckets = new Map<string, CostBucket>();
  const shopData = (shop: string) => shops.get(shop) ?? shops.set(shop, emptyShopData()).get(shop)!;
  let landed = 0;
  let linesRun = 0;
  let throttled = 0;
  const resolve = (query: string, variables: Record<string, unknown>, shop: string): unknown => {
    const bulk = bulkMutations.resolve(query, variables, shop);
    if (bulk !== undefined) return bulk;
    const data = shopData(shop);
    if (query.includes("metafieldsSet(")) return { metafieldsSet: metafieldsSet(rules, data, (variables.metafields ?? []) as MetafieldsSetInput[]) };
    const other = resolveDefinitionsAndSegments(rules, data, query, variables);
    if (other !== undefined) return other;
    throw new Error(`the bench's fake does not know this query: ${query.slice(0, 200)}`);
  };
  const bulkMutations = new FakeBulkMutations({ origin: () => origin, execute: resolve });
  bulkMutations.onEnded = (operation) => {
    // Count what the operation wrote, then let it go, with its lines and staged file (a
    // million customers' values would not fit); its result lines stay for the download.
    const metafields = shopData(operation.shop).metafields;
    for (const owner of metafields.values()) landed += owner.size;
    metafields.clear();
    if (operation.shop === SHOP) linesRun += operation.lines.length;
    operation.lines = [];
    bulkMutations.staged.delete(operation.stagedUploadPath);
  };
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://fake");
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (bulkMutations.handlesHttp(req, url)) return bulkMutations.serveHttp(req, url, Buffer.concat(chunks), res);
    if (req.method !== "POST" || !/^\/admin\/api\/[\w-]+\/graphql\.json$/.test(url.pathname)) return json(res, 404, { errors: "Not Found" });
    if (req.headers["x-shopify-access-token"] !== TOKEN) return json(res, 401, { errors: "[API] Invalid API key or access token (unrecognized login or wrong password)" });
    const shop = (req.headers.host ?? "").replace(/:\d+$/, "");
    const bucket = buckets.get(shop) ?? buckets.set(shop, new CostBucket(BUCKET)).get(shop)!;
    if (!bucket.take()) {
      throttled += 1;
      return json(res, 200, { errors: THROTTLED_ERRORS, extensions: bucket.extensions(true) });
    }
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { query: string; variables?: Record<string, unknown> };
    try {
      return json(res, 200, { data: resolve(body.query, body.variables ?? {}, shop), extensions: bucket.extensions() });
    } catch (error) {
      if (!(error instanceof FakeGraphqlErrors)) throw error;
      return json(res, 200, { errors: error.errors, extensions: bucket.extensions() });
    }
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const cpuAtStart = process.cpuUsage();
  process.on("message", (message: unknown) => {
    if (message === "summary") {
      const cpu = process.cpuUsage(cpuAtStart);
      const operations = bulkMutations.operations.filter((o) => o.shop === SHOP);
      const summary: FakeSummary = {
        operations: operations.length,
        lines: linesRun,
        landed,
        uploadedBytes: bulkMutations.uploads.filter((u) => u.status === 201).reduce((sum, u) => sum + u.bytes, 0),
        throttled,
        mostRunning: bulkMutations.mostRunning.get(SHOP) ?? 0,
        cpuS: (cpu.user + cpu.system) / 1e6,
      };
      process.send!({ summary });
    } else if (message === "close") {
      server.closeAllConnections();
      server.close(() => process.disconnect());
    }
  });
  process.send!({ port: (server.address() as AddressInfo).port });
}

interface FakeProcess {
  port: number;
  summary(): Promise<FakeSummary>;
  close(): Promise<void>;
}

async function startFakeProcess(): Promise<FakeProcess> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [FAKE_CHILD_FLAG], {
    execArgv: [...process.execArgv, "--max-old-space-size=4096"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const next = async <T>(key: string): Promise<T> => {
    for (;;) {
      const [message] = (await Promise.race([once(child, "message"), once(child, "exit").then(() => { throw new Error("the fake Shopify process exited"); })])) as [Record<string, unknown>];
      if (key in message) return message[key] as T;
    }
  };
  const port = await next<number>("port");
  return {
    port,
    summary: () => {
      const answer = next<FakeSummary>("summary");
      child.send("summary");
      return answer;
    },
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, "exit");
      if (child.connected) child.send("close");
      else child.kill();
      await exited;
    },
  };
}

/**
 * This process's memory, sampled every 250 ms: peaks of RSS, the JS heap in use and memory
 * outside it (Buffers, Blobs); BENCH_MEMORY_LOG=1 logs a sample a second (to see growth).
 */
function memorySampler(): { stop: () => { rss: number; heapUsed: number; external: number } } {
  const peak = { rss: 0, heapUsed: 0, external: 0 };
  const logging = process.env.BENCH_MEMORY_LOG === "1";
  let ticks = 0;
  const sample = () => {
    const now = process.memoryUsage();
    peak.rss = Math.max(peak.rss, now.rss);
    peak.heapUsed = Math.max(peak.heapUsed, now.heapUsed);
    peak.external = Math.max(peak.external, now.external);
    if (logging && (ticks += 1) % 4 === 0) {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc) {
        gc();
        log(`memory after a full GC: heap used ${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MiB`);
      }
      const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
      log(`memory: rss ${mib(now.rss)} MiB, heap used ${mib(now.heapUsed)} of ${mib(now.heapTotal)} MiB, external ${mib(now.external)} MiB, array buffers ${mib(now.arrayBuffers)} MiB`);
    }
  };
  sample();
  const timer = setInterval(sample, 250);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

/** A shop of `customers` scored customers, each with all seven values (a segment, one or two behaviours, a next order). */
async function seedShop(pool: pg.Pool, customers: number, segments: readonly string[], behaviours: readonly string[]): Promise<void> {
  await pool.query(`INSERT INTO "Shop" (domain, currency, timezone, "updatedAt") VALUES ($1, 'USD', 'UTC', now())`, [SHOP]);
  await pool.query(
    `INSERT INTO "Customer" (shop, id, email, "firstName", "lastName", "shopifyUpdatedAt", "emailConsentState")
     SELECT $1, g, 'customer' || g || '@example.com', 'First' || g, 'Last', now(), 'SUBSCRIBED'
     FROM generate_series(1, $2::bigint) AS g`,
    [SHOP, customers],
  );
  await pool.query(
    `INSERT INTO "CustomerMetrics" (shop, "customerId", orders, "netSpentMinor", segment, behaviours, "pAlive", "predictedClvMinor",
                                    "expectedPurchases365d", "expectedOrderValueMinor", "chanceOfOrder90d", "expectedNextOrderDay", "asOfDay", "modelVersion")
     SELECT $1, g, 1 + g % 7, 1000 + (g * 37) % 90000, ($3::text[])[1 + g % array_length($3::text[], 1)],
            ARRAY[($4::text[])[1 + g % array_length($4::text[], 1)]], 0.5 + (g % 50) / 100.0, 500 + (g * 13) % 40000,
            1.5, 4200, (g % 100) / 100.0, DATE '2027-01-01' + (g % 90)::int, 20400, 1
     FROM generate_series(1, $2::bigint) AS g`,
    [SHOP, customers, segments, behaviours],
  );
  await pool.query(`ANALYZE "Customer"; ANALYZE "CustomerMetrics"`);
}

export async function run(argv: readonly string[] = []): Promise<BenchResult[]> {
  const { values } = parseArgs({ args: [...argv], options: { customers: { type: "string" }, "poll-ms": { type: "string" }, path: { type: "string" }, push: { type: "string" } }, strict: false });
  const viaEngine = (values.path ?? "engine") !== "direct";
  const customers = Number(values.customers ?? process.env.BENCH_METAFIELD_CUSTOMERS ?? 1_000_000);
  const pollIntervalMs = values["poll-ms"] === undefined ? undefined : Number(values["poll-ms"]);
  const pushSize = values.push === undefined ? customers : Number(values.push);
  if (!(pushSize >= 1)) throw new RangeError(`--push takes a number of customers, not ${String(values.push)}`);

  const services = await ensureLocalServices({ pgDataDir: path.join(PROJECT_ROOT, ".demo", "bench-pg"), log });
  const database = await benchDatabase(services.databaseUrl, "tenure_bench_metafield_bulk");
  const fake = await startFakeProcess();
  try {
    // The app's Shopify configuration reads these on first use (app/env.server.ts).
    Object.assign(process.env, {
      DATABASE_URL: database.url, REDIS_URL: services.redisUrl,
      SHOPIFY_API_KEY: process.env.SHOPIFY_API_KEY ?? "bench", SHOPIFY_API_SECRET: process.env.SHOPIFY_API_SECRET ?? "bench-secret",
      SHOPIFY_APP_URL: process.env.SHOPIFY_APP_URL ?? "https://tenure.bench",
    });
    const { applyMigrations } = await import("../app/db/migrations.server");
    const { createPrismaClient, db: appDb } = await import("../app/db.server");
    const { AdminGraphql } = await import("../app/integrations/shopify-admin.server");
    const { ensureTenureMetafieldDefinitions } = await import("../app/destinations/shopify/definitions.server");
    const { writeMetafieldsInBulk } = await import("../app/destinations/shopify/bulk-metafields.server");
    const { BEHAVIOUR_VALUES, RFM_SEGMENT_VALUES, TENURE_METAFIELD_KEYS: KEYS } = await import("../app/destinations/shopify/metafields");

    await applyMigrations(database.url);
    const db = createPrismaClient(database.url);
    await db.session.create({
      data: { id: `offline_${SHOP}`, shop: SHOP, state: "", isOnline: false, scope: "read_orders,read_all_orders,read_customers,write_customers", accessToken: TOKEN },
    });
    // Every connection of this process goes to the fake, whatever the host (Shopify's admin
    // API, its staged-upload bucket, the result files), as in the tests.
    setGlobalDispatcher(new Agent({
      connect: (_options, callback) => {
        const socket = netConnect({ host: "127.0.0.1", port: fake.port });
        socket.once("connect", () => callback(null, socket));
        socket.once("error", (error) => callback(error, null));
      },
    }));
    const admin = new AdminGraphql({ db });
    await ensureTenureMetafieldDefinitions(admin, SHOP);

    if (viaEngine) {
      const { createPgPool } = await import("../app/db/pg.server");
      const { ensureShopifyDestination } = await import("../app/data/destinations.server");
      const { runDestinationPass } = await import("../app/destinations/sync.server");
      const pool = createPgPool(database.url, { max: 4 });
      try {
        log(`seeding ${customers.toLocaleString("en-US")} customers with metrics rows`);
        await seedShop(pool, customers, RFM_SEGMENT_VALUES, BEHAVIOUR_VALUES);
        const { id } = await ensureShopifyDestination(pool, SHOP);
        log("full pass (refit) of the Shopify write-back");
        const memory = memorySampler();
        const cpuAtStart = process.cpuUsage();
        const started = process.hrtime.bigint();
        const result = await runDestinationPass(
          { pool, shopifyAdmin: admin, ...(pollIntervalMs === undefined ? {} : { shopifyWriteback: { bulkPollIntervalMs: pollIntervalMs } }) },
          id,
          "full",
          "refit",
        );
        const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
        const cpu = process.cpuUsage(cpuAtStart);
        const peak = memory.stop();
        const summary = await fake.summary();
        return [
          {
            name: `full pass after a refit, ${customers.toLocaleString("en-US")} customers × 7 metafields, bulk path`,
            metrics: {
              "elapsed s": round(elapsedS, 1),
              "customers/s": Math.round(customers / elapsedS),
              operations: summary.operations,
              "seconds per operation": round(elapsedS / Math.max(1, summary.operations), 1),
              "JSONL lines": summary.lines,
              "MB uploaded": round(summary.uploadedBytes / 1e6, 1),
              "customers sent": result.counts.sent,
              "customers failed": result.counts.failed,
              "metafields landed in the fake": summary.landed,
              "most operations running at once": summary.mostRunning,
              "THROTTLED answers": summary.throttled,
              "peak RSS MiB": round(peak.rss / 2 ** 20),
              "peak JS heap used MiB": round(peak.heapUsed / 2 ** 20),
              "peak external MiB": round(peak.external / 2 ** 20),
              "Tenure CPU s": round((cpu.user + cpu.system) / 1e6, 1),
              "fake Shopify CPU s": round(summary.cpuS, 1),
              "run status": result.status,
            },
            target: "every customer written, every metafield landed, one operation running at a time",
            pass: result.status === "done" && result.counts.sent === customers && summary.landed === customers * 7 && summary.mostRunning === 1,
            notes: `The engine pushes 5,000 customers at a time, each push one bulk operation polled from 250 ms up to every ${pollIntervalMs ?? 2_000} ms; Shopify documents no processing rate, so the fake runs an operation's lines at its second poll (its CPU shown apart, in a child process).`,
          },
        ];
      } finally {
        await pool.end().catch(() => {});
        await db.$disconnect();
        await appDb().$disconnect();
      }
    }

    log(`${customers.toLocaleString("en-US")} customers' metafields (7 each)`);
    const writes = Array.from({ length: customers }, (_, i) => ({
      customerId: String(6_000_000_000_000 + i),
      set: [
        { key: KEYS.rfmSegment, type: "single_line_text_field" as const, value: RFM_SEGMENT_VALUES[i % RFM_SEGMENT_VALUES.length] },
        { key: KEYS.behaviours, type: "list.single_line_text_field" as const, value: JSON.stringify(BEHAVIOUR_VALUES.slice(i % 3, 1 + (i % 3) + (i % 2))) },
        { key: KEYS.expectedSpend12m, type: "number_decimal" as const, value: `${(i * 37) % 90_000}.${String(i % 100).padStart(2, "0")}` },
        { key: KEYS.historicValue, type: "number_decimal" as const, value: `${(i * 13) % 40_000}.00` },
        { key: KEYS.chanceOfOrdering90d, type: "number_decimal" as const, value: String((i % 10_000) / 10_000) },
        { key: KEYS.expectedNextOrder, type: "date" as const, value: `2027-0${1 + (i % 9)}-1${i % 10}` },
        { key: KEYS.lastScored, type: "date_time" as const, value: "2026-12-07T03:00:00Z" },
      ],
    }));

    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250);
    const operations: { lines: number; bytes: number; seconds: number }[] = [];
    let operationStarted = process.hrtime.bigint();
    const cpuAtStart = process.cpuUsage();
    const started = process.hrtime.bigint();
    const bulkOptions = {
      pollIntervalMs,
      onOperation: ({ lines, bytes, status }: { lines: number; bytes: number; status: string }) => {
        const now = process.hrtime.bigint();
        operations.push({ lines, bytes, seconds: Number(now - operationStarted) / 1e9 });
        operationStarted = now;
        log(`operation ${operations.length} ${status}: ${lines.toLocaleString("en-US")} lines, ${round(bytes / 1e6)} MB, ${round(operations.at(-1)!.seconds)} s`);
      },
    };
    // --push <n>: calls of n customers, up to the engine's batches in flight at once, as the
    // engine's pushes would be with a push of that size (the database left out).
    const pushes = Array.from({ length: Math.ceil(customers / pushSize) }, (_, i) => writes.slice(i * pushSize, (i + 1) * pushSize));
    const pushOutcomes: Awaited<ReturnType<typeof writeMetafieldsInBulk>>[] = [];
    let nextPush = 0;
    const { MAX_BATCHES_IN_FLIGHT } = await import("../app/destinations/sync.server");
    await Promise.all(
      Array.from({ length: Math.min(MAX_BATCHES_IN_FLIGHT, pushes.length) }, async () => {
        for (let index = nextPush++; index < pushes.length; index = nextPush++) pushOutcomes[index] = await writeMetafieldsInBulk(admin, SHOP, pushes[index], bulkOptions);
      }),
    );
    const outcomes = pushOutcomes.flat();
    const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = process.cpuUsage(cpuAtStart);
    clearInterval(sampler);
    await db.$disconnect();
    await appDb().$disconnect(); // the session storage's client
    const refused = outcomes.filter((outcome) => !outcome.ok);
    if (refused.length > 0) log(`${refused.length} refused, e.g. ${JSON.stringify(refused[0])}`);

    const summary = await fake.summary();
    const written = outcomes.filter((outcome) => outcome.ok).length;
    return [
      {
        name: `bulk write after a refit, ${customers.toLocaleString("en-US")} customers × 7 metafields${pushSize < customers ? `, pushes of ${pushSize.toLocaleString("en-US")}` : ""}`,
        metrics: {
          "elapsed s": round(elapsedS, 1),
          "customers/s": Math.round(customers / elapsedS),
          "metafields/s": Math.round((customers * 7) / elapsedS),
          operations: summary.operations,
          "JSONL lines": summary.lines,
          "MB uploaded": round(summary.uploadedBytes / 1e6, 1),
          "slowest operation s": round(Math.max(...operations.map((o) => o.seconds)), 1),
          "customers written": written,
          "metafields landed in the fake": summary.landed,
          "most operations running at once": summary.mostRunning,
          "THROTTLED answers": summary.throttled,
          "peak RSS MiB": round(peakRss / 2 ** 20),
          "Tenure CPU s": round((cpu.user + cpu.system) / 1e6, 1),
          "fake Shopify CPU s": round(summary.cpuS, 1),
        },
        target: "every customer written, every metafield landed, one operation running at a time",
        pass: written === customers && summary.landed === customers * 7 && summary.mostRunning === 1,
        notes: `Polls from 250 ms up to every ${pollIntervalMs ?? 2_000} ms; Shopify documents no processing rate, so the fake runs an operation's lines at its second poll and its CPU is shown apart. The fake runs in a child process.`,
      },
    ];
  } finally {
    await fake.close();
    await database.drop().catch(() => {});
    await services.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}` && process.argv.includes(FAKE_CHILD_FLAG)) {
  void serveFake();
} else if (import.meta.url === `file://${process.argv[1]}`) {
  run(process.argv.slice(2)).then((results) => console.log(JSON.stringify(results, null, 2)));
}
