// Backfill ingest: a bulk operation's JSONL result of 1,000,000 orders (BENCH_BACKFILL_ORDERS)
// with their customers, refunds and line items, in the shape Shopify writes it, streamed
// through the real download step (integrations/bulk-orders.server.ts: fetch, the JSONL reader,
// __parentId join, GraphQL mapper on a parsing thread as the app does for a big import
// (BENCH_BACKFILL_THREAD=0 parses on the writing thread), batched upsert committing its line offset) into
// PostgreSQL (scripts/local-services.ts: DATABASE_URL, else embedded PostgreSQL). The file
// is served by a node:http server in a child process, as Shopify's storage would serve it
// from elsewhere: the importing process's CPU and event loop are the import's alone.
//
// Target (issue 4): at least 20,000 orders/s into PostgreSQL.

import { createWriteStream, existsSync, mkdirSync, statSync } from "node:fs";
import { once } from "node:events";
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { applyMigrations } from "../app/db/migrations.server";
import { createPgPool } from "../app/db/pg.server";
import { createPrismaClient } from "../app/db.server";
import { benchDatabase } from "./lib/database";
import { advanceBackfill } from "../app/integrations/bulk-orders.server";
import { AdminGraphql } from "../app/integrations/shopify-admin.server";
import { PROJECT_ROOT, ensureLocalServices } from "../scripts/local-services";
import { type BenchResult, round } from "./lib/report";
import { cpuSnapshot, machineBusyCpu, selfCpu, treeCpu } from "./lib/cpu";

const ORDERS = Number(process.env.BENCH_BACKFILL_ORDERS ?? 1_000_000);
const BATCH = Number(process.env.BENCH_BACKFILL_BATCH ?? 5_000);
// "auto" (the app's default: a parsing thread for a big import), "1" or "0".
const PARSE_ON_THREAD = ({ auto: "auto", "1": true, "0": false } as const)[process.env.BENCH_BACKFILL_THREAD ?? "auto"] ?? "auto";
const TARGET = 20_000;
const log = (line: string) => console.error(`bench backfill: ${line}`);

/** Deterministic synthetic store: ORDERS orders over ORDERS/3 customers, 1-3 line items, some refunds, tests, guests. */
async function writeJsonl(file: string, orders: number): Promise<{ lines: number; bytes: number }> {
  const out = createWriteStream(file);
  let lines = 0;
  let buffer = "";
  const customers = Math.max(1, Math.floor(orders / 3));
  const base = Date.parse("2021-01-01T00:00:00Z");
  for (let i = 0; i < orders; i += 1) {
    const id = 5_000_000_000_000 + i;
    const customer = (i * 2_654_435_761) % customers;
    const created = new Date(base + i * 90_000).toISOString();
    const updated = new Date(base + i * 90_000 + 3_600_000).toISOString();
    const cents = 1_000 + ((i * 7_919) % 20_000);
    const amount = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;
    const guest = i % 17 === 0;
    const order = {
      id: `gid://shopify/Order/${id}`,
      name: `#${1_000 + i}`,
      createdAt: created,
      updatedAt: updated,
      processedAt: created,
      cancelledAt: null,
      test: i % 211 === 0,
      displayFinancialStatus: i % 13 === 0 ? "PARTIALLY_REFUNDED" : "PAID",
      sourceName: "web",
      discountCodes: i % 5 === 0 ? ["WELCOME10"] : [],
      tags: [],
      currentTotalPriceSet: { shopMoney: { amount, currencyCode: "USD" } },
      // The order's parts, as the bulk query selects them (issue 13): goods only.
      currentSubtotalPriceSet: { shopMoney: { amount, currencyCode: "USD" } },
      totalTaxSet: { shopMoney: { amount: "0.00", currencyCode: "USD" } },
      totalShippingPriceSet: { shopMoney: { amount: "0.00", currencyCode: "USD" } },
      originalTotalDutiesSet: null,
      customer: guest
        ? null
        : {
            id: `gid://shopify/Customer/${7_000_000_000 + customer}`,
            email: `customer-${customer}@example.com`,
            firstName: "Sam",
            lastName: `Buyer${customer}`,
            phone: null,
            state: "ENABLED",
            tags: [],
            amountSpent: { currencyCode: "USD" },
            createdAt: "2020-12-01T00:00:00Z",
            updatedAt: "2020-12-01T00:00:00Z",
          },
      refunds: i % 13 === 0
        ? [{ id: `gid://shopify/Refund/${9_000_000_000 + i}`, createdAt: updated, totalRefundedSet: { shopMoney: { amount: "5.00", currencyCode: "USD" } } }]
        : [],
    };
    buffer += `${JSON.stringify(order)}\n`;
    lines += 1;
    for (let l = 0; l < 1 + (i % 3); l += 1) {
      const line = {
        id: `gid://shopify/LineItem/${id * 4 + l}`,
        title: `Product ${(i + l) % 500}`,
        product: { id: `gid://shopify/Product/${8_000_000 + ((i + l) % 500)}` },
        originalTotalSet: { shopMoney: { amount: l === 0 ? amount : "0.00", currencyCode: "USD" } },
        discountAllocations: [],
        __parentId: order.id,
      };
      buffer += `${JSON.stringify(line)}\n`;
      lines += 1;
    }
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await once(out, "drain");
      buffer = "";
    }
  }
  out.end(buffer);
  await once(out, "finish");
  return { lines, bytes: statSync(file).size };
}


/** Serves `file` over HTTP from a child process; resolves with its URL. */
async function serveFile(file: string, started: (child: ChildProcess) => void): Promise<string> {
  const code = `
    const { createServer } = require("node:http");
    const { createReadStream } = require("node:fs");
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/jsonl" });
      createReadStream(process.argv[1]).pipe(res);
    });
    server.listen(0, "127.0.0.1", () => console.log(server.address().port));`;
  const child = spawn(process.execPath, ["-e", code, file], { stdio: ["ignore", "pipe", "inherit"] });
  started(child);
  const [chunk] = (await once(child.stdout!, "data")) as [Buffer];
  return `http://127.0.0.1:${Number(chunk.toString().trim())}/orders.jsonl`;
}

export async function run(): Promise<BenchResult[]> {
  // BENCH_PG_DATA_DIR: a cluster of its own (another benchmark may hold the shared one).
  const services = await ensureLocalServices({ pgDataDir: process.env.BENCH_PG_DATA_DIR ?? path.join(PROJECT_ROOT, ".demo", "bench-pg"), log });
  const dir = path.join(PROJECT_ROOT, ".demo", "bench-backfill");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `orders-${ORDERS}.jsonl`);
  let database: { url: string; drop: () => Promise<void> } | undefined;
  let server: ChildProcess | undefined;
  try {
    const generatedAt = Date.now();
    const reused = existsSync(file);
    const { bytes } = reused ? { bytes: statSync(file).size } : await writeJsonl(file, ORDERS);
    log(`${ORDERS} orders, ${round(bytes / 2 ** 20)} MiB of JSONL (${reused ? "reused" : `written in ${round((Date.now() - generatedAt) / 1000)} s`})`);

    database = await benchDatabase(services.databaseUrl, "tenure_bench_backfill");
    await applyMigrations(database.url);
    const db = createPrismaClient(database.url);
    const url = await serveFile(file, (child) => (server = child));
    const shop = "bench-backfill.myshopify.com";
    const runRow = await db.backfillRun.create({ data: { shop, status: "DOWNLOADING", url, bulkOperationId: "gid://shopify/BulkOperation/1", expectedCount: ORDERS } });

    const memoryBefore = process.memoryUsage().rss;
    let peakRss = memoryBefore;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 250);
    // CPU seconds of this process, of PostgreSQL (when started here), of the file server and
    // of the whole machine: on a small machine they compete for the same cores.
    const groups = {
      node: selfCpu,
      ...(services.postgres.pid ? { postgres: treeCpu(services.postgres.pid) } : {}),
      ...(server?.pid ? { fileServer: treeCpu(server.pid) } : {}),
      machine: machineBusyCpu,
    };
    const cpuBefore = cpuSnapshot(groups);
    const startedAt = process.hrtime.bigint();
    const pool = createPgPool(database.url, { max: 4 });
    let refits = 0;
    // No queue here: the refit request is counted, not run (bench/refit measures the refit).
    const deps = { db, pool, admin: new AdminGraphql({ db }), enqueue: async () => {}, requestRefit: async () => void (refits += 1), batchSize: BATCH, parseOnThread: PARSE_ON_THREAD,
      // No Admin API here: the checkout step (one paged query per 50 checkouts) is not measured.
      abandonedCheckouts: false };
    const outcome = await advanceBackfill(deps, runRow.id);
    const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
    const cpuAfter = cpuSnapshot(groups);
    const cpuSeconds = (name: string) => (name in cpuAfter ? cpuAfter[name] - cpuBefore[name] : null);
    const cpu = (name: string) => (name in cpuAfter ? round(cpuAfter[name] - cpuBefore[name]) : null);
    clearInterval(sampler);
    await pool.end();
    if (refits !== 1) throw new Error(`expected one refit request, got ${refits}`);
    if (outcome.state !== "completed") throw new Error(`backfill ended ${JSON.stringify(outcome)}`);

    const [orders, customers, refunds] = await Promise.all([
      db.order.count({ where: { shop } }),
      db.customer.count({ where: { shop } }),
      db.refund.count({ where: { shop } }),
    ]);
    await db.$disconnect();
    if (orders !== ORDERS) throw new Error(`expected ${ORDERS} orders stored, found ${orders}`);
    const rate = ORDERS / seconds;
    log(`${ORDERS} orders in ${round(seconds)} s: ${Math.round(rate)} orders/s`);
    return [
      {
        name: `backfill ingest, ${ORDERS.toLocaleString("en-US")} orders`,
        metrics: {
          "orders/s": Math.round(rate),
          "seconds": round(seconds),
          "orders stored": orders,
          "customers stored": customers,
          "refunds stored": refunds,
          "JSONL MiB": round(bytes / 2 ** 20),
          "batch (orders)": BATCH,
          "peak RSS MiB": round(peakRss / 2 ** 20),
          // The importing process's CPU (the JSONL server is another process); PostgreSQL's is on top.
          "Node CPU µs/order": round(((cpuSeconds("node") ?? 0) * 1e6) / ORDERS),
          "Node CPU s": cpu("node"),
          "postgres CPU s": cpu("postgres"),
          "file server CPU s": cpu("fileServer"),
          "machine busy CPU s": cpu("machine"),
        },
        target: `≥ ${TARGET.toLocaleString("en-US")} orders/s into PostgreSQL`,
        pass: rate >= TARGET,
        notes: `streamed over HTTP from a local server (its own process) through advanceBackfill's download step, parsing on a thread: ${String(PARSE_ON_THREAD)}; Node flags ${process.execArgv.filter((a) => a.startsWith("--max")).join(" ") || "default"}; database ${services.postgres.description}`,
      },
    ];
  } finally {
    server?.kill();
    await database?.drop().catch(() => {});
    await services.stop();
  }
}
