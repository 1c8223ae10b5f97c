// Backfill ingest: a bulk operation's JSONL result of 1,000,000 orders (BENCH_BACKFILL_ORDERS)
// with their customers, refunds and line items, in the shape Shopify writes it, streamed
// through the real download step (integrations/bulk-orders.server.ts: fetch, the JSONL reader,
// __parentId join, GraphQL mapper on a parsing thread as the app does for a big import
// (BENCH_BACKFILL_THREAD=0 parses on the writing thread), batched upsert committing its line offset) into
// PostgreSQL (scripts/local-services.ts: DATABASE_URL, else embedded PostgreSQL). The file
// is served by a node:http server in a child process, as Shopify's storage would serve it
// from elsewhere: the importing process's CPU and event loop are the import's alone.
//
// The orders carry what the app's bulk query selects from a shop that granted the cost scopes
// (read_products, read_inventory), as most shops that use cost of goods have: each line's
// units, variant, inventory item and unit cost, so the costed path (issue 17, ADR 0023:
// order lines, variants, the cost history and each order's cost) is measured with the rest.
// Each run ends with a digest of the rows written, per table, to compare write paths
// (BENCH_BACKFILL_DIGEST=0 skips it; BENCH_BACKFILL_KEEP=1 keeps the database for EXPLAIN).
//
// Target (issue 4): at least 20,000 orders/s into PostgreSQL.

import { createWriteStream, existsSync, mkdirSync, statSync } from "node:fs";
import { once } from "node:events";
import { type ChildProcess, spawn } from "node:child_process";
import { loadavg } from "node:os";
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
/** The tables an import writes, with their keys (the digest's row order), less the columns that say when the run was. */
const DIGESTED = [
  ["Order", "t.id"],
  ["Customer", "t.id", "summaryAt"],
  ["Refund", "t.id"],
  ["OrderLine", 't."orderId", t.id'],
  ["ProductVariant", "t.id"],
  ["InventoryItemCost", 't."inventoryItemId", t."validFrom"'],
] as const;
const log = (line: string) => console.error(`bench backfill: ${line}`);

/** Cents as a Shopify amount string ("12.34"). */
const amountOf = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;
const usd = (cents: number) => ({ shopMoney: { amount: amountOf(cents), currencyCode: "USD" } });

const PRODUCTS = 500;
/** Variants of the catalogue (two per product); every tenth inventory item has no unit cost, every fiftieth line no variant (a custom item). */
const VARIANTS = PRODUCTS * 2;
const variantPrice = (v: number) => 500 + ((v * 7_919) % 5_000);

/**
 * Deterministic synthetic store: ORDERS orders over ORDERS/3 customers, 1-3 line items, some
 * refunds, tests, guests, in the shape the app's bulk query (bulkOrdersQuery(true):
 * ORDER_FIELDS, LINE_ITEM_FIELDS and LINE_ITEM_COST_FIELDS) gets back from a shop that granted
 * the cost scopes (read_products, read_inventory), as most shops that use cost of goods do:
 * current tax, shipping and duties, taxesIncluded, the customer journey, the customer's
 * default email and phone with their consent, and on each line its discount allocations, tax
 * lines, units and variant with its inventory item and unit cost (issue 17, ADR 0023).
 */
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
    const guest = i % 17 === 0;
    const refunded = i % 13 === 0;
    const discounted = i % 5 === 0; // WELCOME10: 10 % off every line
    // The lines first: the order's figures are theirs.
    const items = [];
    let subtotal = 0;
    let tax = 0;
    let refundedCents = 0;
    for (let l = 0; l < 1 + (i % 3); l += 1) {
      const variant = (i * 31 + l * 17) % VARIANTS;
      const product = Math.floor(variant / 2);
      const quantity = 1 + ((i + l) % 4 === 0 ? 1 : 0);
      const gross = variantPrice(variant) * quantity;
      const discount = discounted ? Math.floor(gross / 10) : 0;
      const lineTax = Math.round(((gross - discount) * 8) / 100); // 8 % sales tax, on top of the price
      // A refunded order returned one unit of its first line, with its tax.
      const returned = refunded && l === 0 ? 1 : 0;
      const returnedNet = Math.round(((gross - discount) * returned) / quantity);
      const returnedTax = Math.round((lineTax * returned) / quantity);
      subtotal += gross - discount - returnedNet;
      tax += lineTax - returnedTax;
      refundedCents += returnedNet + returnedTax;
      const custom = (i + l) % 50 === 0;
      items.push({
        id: `gid://shopify/LineItem/${id * 4 + l}`,
        title: custom ? "Gift wrapping" : `Product ${product}`,
        product: custom ? null : { id: `gid://shopify/Product/${8_000_000 + product}` },
        originalTotalSet: usd(gross),
        discountAllocations: discount > 0 ? [{ allocatedAmountSet: usd(discount) }] : [],
        taxLines: [{ priceSet: usd(lineTax) }],
        quantity,
        refundableQuantity: quantity - returned,
        variant: custom
          ? null
          : {
              id: `gid://shopify/ProductVariant/${40_000_000 + variant}`,
              inventoryItem: {
                id: `gid://shopify/InventoryItem/${60_000_000 + variant}`,
                updatedAt: "2020-11-15T00:00:00Z",
                unitCost: variant % 10 === 0 ? null : { amount: amountOf(Math.round(variantPrice(variant) * 0.4)), currencyCode: "USD" },
              },
            },
      });
    }
    const shipping = i % 4 === 0 ? 599 : 0;
    const journey = i % 3;
    const order = {
      id: `gid://shopify/Order/${id}`,
      name: `#${1_000 + i}`,
      createdAt: created,
      updatedAt: updated,
      processedAt: created,
      cancelledAt: null,
      test: i % 211 === 0,
      displayFinancialStatus: refunded ? "PARTIALLY_REFUNDED" : "PAID",
      sourceName: "web",
      discountCodes: discounted ? ["WELCOME10"] : [],
      tags: [],
      currentTotalPriceSet: usd(subtotal + tax + shipping),
      currentSubtotalPriceSet: usd(subtotal),
      currentTotalTaxSet: usd(tax),
      currentShippingPriceSet: usd(shipping),
      // Domestic orders: no duties (Shopify gives null then).
      currentTotalDutiesSet: null,
      taxesIncluded: false,
      // A third without a journey (Shopify has none for POS, draft and app orders), a third from a campaign, a third referred.
      customerJourneySummary:
        journey === 0
          ? null
          : {
              firstVisit:
                journey === 1
                  ? { landingPage: "https://shop.example.com/products/a?utm_source=newsletter&utm_medium=email&utm_campaign=spring", referrerUrl: null, utmParameters: { source: "newsletter", medium: "email", campaign: "spring" } }
                  : { landingPage: "https://shop.example.com/", referrerUrl: "https://www.google.com/", utmParameters: null },
            },
      customer: guest
        ? null
        : {
            id: `gid://shopify/Customer/${7_000_000_000 + customer}`,
            email: `customer-${customer}@example.com`,
            firstName: "Sam",
            lastName: `Buyer${customer}`,
            phone: customer % 5 === 0 ? `+1555${String(customer % 10_000_000).padStart(7, "0")}` : null,
            state: "ENABLED",
            tags: [],
            amountSpent: { currencyCode: "USD" },
            createdAt: "2020-12-01T00:00:00Z",
            updatedAt: "2020-12-01T00:00:00Z",
            defaultEmailAddress: {
              emailAddress: `customer-${customer}@example.com`,
              marketingState: customer % 4 === 0 ? "SUBSCRIBED" : "NOT_SUBSCRIBED",
              marketingOptInLevel: customer % 4 === 0 ? "SINGLE_OPT_IN" : null,
              marketingUpdatedAt: customer % 4 === 0 ? "2020-12-01T00:00:00Z" : null,
            },
            defaultPhoneNumber:
              customer % 5 === 0
                ? {
                    phoneNumber: `+1555${String(customer % 10_000_000).padStart(7, "0")}`,
                    smsMarketingConsent: { state: "NOT_SUBSCRIBED", optInLevel: "SINGLE_OPT_IN", updatedAt: null, collectedFrom: "OTHER" },
                  }
                : null,
          },
      refunds: refunded ? [{ id: `gid://shopify/Refund/${9_000_000_000 + i}`, createdAt: updated, totalRefundedSet: usd(refundedCents) }] : [],
    };
    buffer += `${JSON.stringify(order)}\n`;
    lines += 1;
    for (const item of items) {
      // The bulk result's child line: the line item, then its parent's id.
      buffer += `${JSON.stringify({ ...item, __parentId: order.id })}\n`;
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
  // Named by shape: a file of an older shape is not reused.
  const file = path.join(dir, `orders-costed-v2-${ORDERS}.jsonl`);
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
    const loadBefore = loadavg()[0];
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

    const [orders, customers, refunds, orderLines] = await Promise.all([
      db.order.count({ where: { shop } }),
      db.customer.count({ where: { shop } }),
      db.refund.count({ where: { shop } }),
      db.orderLine.count({ where: { shop } }),
    ]);
    // The rows the import left, one digest per table (after the timed part): a change to the
    // write path must leave them equal (BENCH_BACKFILL_DIGEST=0 skips it).
    const digests: Record<string, string> = {};
    if (process.env.BENCH_BACKFILL_DIGEST !== "0") {
      for (const [table, key, ...when] of DIGESTED as readonly (readonly string[])[]) {
        const row = when.reduce((json, column) => `${json} - '${column}'`, "to_jsonb(t)");
        const [digest] = await db.$queryRawUnsafe<{ md5: string | null }[]>(
          `SELECT md5(string_agg((${row})::text, E'\\n' ORDER BY ${key})) AS md5 FROM "${table}" AS t WHERE shop = $1`, shop);
        digests[`${table} md5`] = (digest.md5 ?? "none").slice(0, 12);
      }
      log(`row digests: ${JSON.stringify(digests)}`);
    }
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
          "order lines stored": orderLines,
          "JSONL MiB": round(bytes / 2 ** 20),
          "batch (orders)": BATCH,
          "peak RSS MiB": round(peakRss / 2 ** 20),
          // The importing process's CPU (the JSONL server is another process); PostgreSQL's is on top.
          "Node CPU µs/order": round(((cpuSeconds("node") ?? 0) * 1e6) / ORDERS),
          "Node CPU s": cpu("node"),
          "postgres CPU s": cpu("postgres"),
          "file server CPU s": cpu("fileServer"),
          "machine busy CPU s": cpu("machine"),
          "load (1 min) before": round(loadBefore),
          ...digests,
        },
        target: `≥ ${TARGET.toLocaleString("en-US")} orders/s into PostgreSQL`,
        pass: rate >= TARGET,
        notes: `costed lines (cost scopes granted); streamed over HTTP from a local server (its own process) through advanceBackfill's download step, parsing on a thread: ${String(PARSE_ON_THREAD)}; Node flags ${process.execArgv.filter((a) => a.startsWith("--max")).join(" ") || "default"}; database ${services.postgres.description}`,
      },
    ];
  } finally {
    server?.kill();
    if (process.env.BENCH_BACKFILL_KEEP !== "1") await database?.drop().catch(() => {});
    await services.stop();
  }
}
