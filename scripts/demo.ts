// `npm run demo`: Tenure end to end with no Shopify account.
//
// Uses DATABASE_URL / REDIS_URL when set, else starts an embedded PostgreSQL (.demo/pg)
// and a private redis-server; migrates; builds the app when build/ is missing or stale;
// starts the web server (remix-serve) and the worker in demo mode; generates a synthetic
// store and sends it through the real signed-webhook route, resends and out-of-order
// deliveries included; waits for the worker, then for the live metrics and one refit of
// the complete store; prints the local URL, what was ingested and how many customers are
// scored, read back from the database. It also starts local fakes of Klaviyo and Mailchimp
// (demo/fakes) that the app's Integrations page connects to, so a newcomer can watch a
// segment sync happen with no account, and a local fake of Shopify's Admin API for the demo
// store (SHOPIFY_ADMIN_API_URL), holding Tenure's metafield definitions as after an install,
// so the Segments page's "Publish to Shopify" works. Then keeps running until Ctrl-C, or stops once seeded with
// --exit-when-done (or DEMO_EXIT=1). Re-running with the same seed is idempotent: the same
// webhook ids are sent again and the intake recognises every one.

import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { type PrismaClient } from "@prisma/client";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import type pg from "pg";
import { createPgPool } from "../app/db/pg.server";
import { applyMigrations } from "../app/db/migrations.server";
import { createPrismaClient } from "../app/db.server";
import { redactShop } from "../app/ingest/gdpr.server";
import { upsertInstalledShop } from "../app/data/shop.server";
import { planDeliveries } from "../demo/deliveries";
import { readThroughOutages } from "../demo/database-outages.server";
import { checkAgainstExpected, formatConsentSplit, formatCount, formatMoney, readCountedRevenue, readIngest, rowsFingerprint, waitForIngest } from "../demo/report.server";
import { modelName, scoreShop } from "../demo/scoring.server";
import { QUEUE } from "../app/queues/contract";
import { closeProducerQueues } from "../app/queues/connections.server";
import { parseWebhookApiVersion, parseWebhookPaths, sendDeliveries } from "../demo/send";
import { generateStore } from "../demo/store";
import { type FakeKlaviyo, startFakeKlaviyo } from "../demo/fakes/klaviyo";
import { FAKE_MAILCHIMP_KEY, type FakeMailchimp, startFakeMailchimp } from "../demo/fakes/mailchimp";
import { type FakeShopifyAdmin, startFakeShopifyAdmin } from "../demo/fakes/shopify";
import { adminClientAt } from "../app/demo-mode.server";
import { makeSureOfMetafieldDefinitions } from "../app/worker/registry.server";
import { WORKER_NODE_FLAGS } from "../app/worker/node-flags";
import { ensureAppBuild, logTail as tail, startCommand, startDevReadySink } from "./app-build";
import { PROJECT_ROOT, type LocalServices, MissingRedisError, ensureLocalServices, freePort, onShutdownSignal, redactUrl } from "./local-services";

const DEMO_DIR = path.join(PROJECT_ROOT, ".demo");
const LOG_DIR = path.join(DEMO_DIR, "logs");
const STATE_FILE = path.join(DEMO_DIR, "demo-state.json");
/** The demo's TENURE_ENCRYPTION_KEY (seals the email tools' keys), kept so a re-run opens what the last one stored. */
const ENCRYPTION_KEY_FILE = path.join(DEMO_DIR, "encryption-key");

const { values: args } = parseArgs({
  options: {
    "exit-when-done": { type: "boolean", default: false },
    seed: { type: "string", default: process.env.DEMO_SEED ?? "tenure-demo" },
    customers: { type: "string", default: process.env.DEMO_CUSTOMERS ?? "3600" },
    port: { type: "string", default: process.env.DEMO_PORT },
    concurrency: { type: "string", default: "16" },
    fresh: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
  allowPositionals: false,
});

if (args.help) {
  console.log(`npm run demo [-- options]
  --exit-when-done   stop once the store is ingested (also DEMO_EXIT=1)
  --seed <text>      store seed (default tenure-demo); same seed, same store
  --customers <n>    customer accounts to generate (default 3600)
  --port <n>         web server port (default 3000, or a free one)
  --concurrency <n>  webhook requests in flight (default 16)
  --fresh            forget the demo shop's rows and re-anchor the store's history at today`);
  process.exit(0);
}

const exitWhenDone = args["exit-when-done"] || ["1", "true"].includes(process.env.DEMO_EXIT ?? "");
const shop = process.env.TENURE_DEMO_SHOP ?? "tenure-demo.myshopify.com";
const customers = Number(args.customers);
const concurrency = Number(args.concurrency);
if (!Number.isInteger(customers) || customers < 1) fail(`--customers must be a positive integer, not ${args.customers}`);
if (!Number.isInteger(concurrency) || concurrency < 1) fail(`--concurrency must be a positive integer, not ${args.concurrency}`);

const startedAt = Date.now();
const say = (line: string) => console.log(`tenure demo: ${line}`);
const elapsed = () => `${((Date.now() - startedAt) / 1000).toFixed(1)}s`;

function fail(message: string): never {
  console.error(`tenure demo: ${message}`);
  process.exit(1);
}

// ------------------------------------------------------------------ children

const children: { name: string; process: ChildProcess; log: string }[] = [];

function startChild(name: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  mkdirSync(LOG_DIR, { recursive: true });
  const log = path.join(LOG_DIR, `${name}.log`);
  const out = openSync(log, "w");
  // Own process group: a Ctrl-C reaches this script, which stops the children in order.
  const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, env, stdio: ["ignore", out, out], detached: true });
  children.push({ name, process: child, log });
  child.once("exit", (code, signal) => {
    if (!shuttingDown) {
      console.error(`tenure demo: the ${name} exited unexpectedly (code ${code}, signal ${signal}); its log:\n${tail(log)}`);
      void shutdown(1);
    }
  });
  return child;
}

/** Signals the child's whole process group (the worker runs under tsx, which has its own child). */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

process.on("exit", () => {
  for (const { process: child } of children) if (child.exitCode === null && child.signalCode === null) signalGroup(child, "SIGKILL");
});

async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  signalGroup(child, "SIGTERM");
  const timer = setTimeout(() => signalGroup(child, "SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

// ------------------------------------------------------------------ shutdown

let shuttingDown = false;
let services: LocalServices | undefined;
let prisma: PrismaClient | undefined;
let pool: pg.Pool | undefined;
let fakes: { klaviyo: FakeKlaviyo; mailchimp: FakeMailchimp; shopify: FakeShopifyAdmin } | undefined;
const abort = new AbortController();

async function shutdown(code: number): Promise<never> {
  if (!shuttingDown) {
    shuttingDown = true;
    abort.abort();
    say("stopping");
    // The app first (the worker drains its in-flight jobs), then the databases it writes to.
    const worker = children.find((c) => c.name === "worker");
    if (worker) await stopChild(worker.process, 15_000);
    await Promise.all(children.filter((c) => c !== worker).map((c) => stopChild(c.process, 5_000)));
    await Promise.allSettled([fakes?.klaviyo.close(), fakes?.mailchimp.close(), fakes?.shopify.close()]);
    await prisma?.$disconnect().catch(() => {});
    await pool?.end().catch(() => {});
    await closeProducerQueues();
    await services?.stop();
    say("stopped");
  }
  process.exit(code);
}

onShutdownSignal(() => shutdown(130));

// ------------------------------------------------------------------ main

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url, { method: "GET" });
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`the web server did not answer on ${url} within ${timeoutMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** The store a database holds: re-runs over it must generate exactly the same one. */
interface DemoState {
  shop: string;
  seed: string;
  customers: number;
  endAt: string;
}

/** States by database (the embedded cluster's folder, or the DATABASE_URL without password). */
type DemoStates = Record<string, DemoState>;

function readStates(): DemoStates {
  try {
    const parsed = JSON.parse(readFileSync(STATE_FILE, "utf8")) as Record<string, unknown>;
    return Object.fromEntries(
      Object.entries(parsed).filter(([, value]) => typeof value === "object" && value !== null && "seed" in value && "endAt" in value),
    ) as DemoStates;
  } catch {
    return {};
  }
}


async function main(): Promise<void> {
  say(`Node ${process.version}; data and logs in .demo/`);
  mkdirSync(DEMO_DIR, { recursive: true });

  try {
    services = await ensureLocalServices({ log: say });
  } catch (error) {
    if (error instanceof MissingRedisError) fail(error.message);
    throw error;
  }
  say(`database: ${services.postgres.description}`);
  say(`queue:    ${services.redis.description}`);

  const migrations = await applyMigrations(services.databaseUrl, { log: (line) => say(`migrate: ${line}`) });
  say(`migrations: ${migrations.applied.length} applied, ${migrations.alreadyApplied.length} already applied`);

  const { built } = await ensureAppBuild({ log: say, logFile: path.join(LOG_DIR, "build.log") });
  say(built ? `built the app (${elapsed()})` : "app build is up to date");

  prisma = createPrismaClient(services.databaseUrl);
  // The store's history ends "today" on first run, and at the same moment on re-runs over
  // the same database, so a re-run sends exactly the same deliveries. A database holding
  // another store (other seed or size, or unknown) is cleared first, or the rows would mix.
  const databaseKey = services.postgres.started ? "embedded:.demo/pg" : redactUrl(services.databaseUrl);
  const states = readStates();
  const previous = states[databaseKey];
  const hasRows = (await prisma.webhookDelivery.count({ where: { shop } })) > 0;
  const sameStore = previous !== undefined && previous.shop === shop && previous.seed === args.seed && previous.customers === customers;
  if (hasRows && (args.fresh || !sameStore)) {
    // shop/redact's own deletion: every row the shop has, whatever tables later issues add.
    await redactShop(prisma, shop);
    say(
      args.fresh
        ? `--fresh: removed every row of ${shop}`
        : `this database held another demo store for ${shop} (other seed or size): removed its rows first`,
    );
  }
  const endAt = hasRows && sameStore && !args.fresh ? new Date(previous.endAt) : new Date(Math.floor(Date.now() / 60_000) * 60_000);
  states[databaseKey] = { shop, seed: args.seed, customers, endAt: endAt.toISOString() };
  writeFileSync(STATE_FILE, `${JSON.stringify(states, null, 2)}\n`);
  // Installed as the auth flow installs it, so its deliveries are admitted (also after --fresh's redaction).
  await upsertInstalledShop(prisma, { shop, currency: "USD", timezone: "America/New_York", scopes: "read_orders,read_all_orders,read_customers,write_customers" });

  const toml = readFileSync(path.join(PROJECT_ROOT, "shopify.app.toml"), "utf8");
  const paths = parseWebhookPaths(toml);
  const apiVersion = parseWebhookApiVersion(toml) ?? "2026-10";

  // Klaviyo and Mailchimp, faked locally on free ports: the Integrations page connects to them.
  // Shopify's Admin API too, for the demo store: the Segments page publishes to it.
  fakes = { klaviyo: await startFakeKlaviyo(), mailchimp: await startFakeMailchimp(), shopify: await startFakeShopifyAdmin() };
  // The fake starts empty each run: what an earlier run published is not in it, so forget it
  // (the Segments page offers to publish again); then the metafield definitions, as an install makes them.
  await prisma.shopifySegment.deleteMany({ where: { shop } });
  pool ??= createPgPool(services.databaseUrl, { max: 2 });
  const sayLogger = { info: (message: string) => say(message), error: (message: string, fields?: Record<string, unknown>) => say(`${message}: ${String(fields?.error ?? "")}`) };
  await makeSureOfMetafieldDefinitions({ admin: adminClientAt(fakes.shopify.url, shop), pool, logger: sayLogger }, shop);

  const port = args.port ? Number(args.port) : await pickPort(3000);
  const appUrl = `http://localhost:${port}`;
  const secret = randomBytes(24).toString("hex");
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "development",
    DATABASE_URL: services.databaseUrl,
    REDIS_URL: services.redisUrl,
    SHOPIFY_API_KEY: "demo",
    SHOPIFY_API_SECRET: secret,
    SHOPIFY_APP_URL: appUrl,
    TENURE_DEMO_MODE: "true",
    TENURE_DEMO_SHOP: shop,
    // Its own queues, should REDIS_URL be a Redis that a real Tenure also uses.
    TENURE_QUEUE_PREFIX: process.env.TENURE_QUEUE_PREFIX ?? "tenure-demo",
    PORT: String(port),
    HOST: "127.0.0.1",
    KLAVIYO_API_URL: fakes.klaviyo.url,
    MAILCHIMP_API_URL: fakes.mailchimp.url,
    SHOPIFY_ADMIN_API_URL: fakes.shopify.url,
    TENURE_ENCRYPTION_KEY: process.env.TENURE_ENCRYPTION_KEY || demoEncryptionKey(),
  };
  // remix-serve under NODE_ENV=development announces each build to a `remix dev` server
  // at REMIX_DEV_ORIGIN and exits when there is none; the demo answers that ping itself.
  childEnv.REMIX_DEV_ORIGIN = (await startDevReadySink()).origin;
  const tsx = path.join(PROJECT_ROOT, "node_modules", "tsx", "dist", "cli.mjs");
  startChild("web", startCommand(), childEnv);
  // `npm run worker`: the supervisor restarts a worker that dies (issue 12, finding 1).
  startChild("worker", [tsx, ...WORKER_NODE_FLAGS, "app/worker/supervisor.ts"], childEnv);
  await waitForHttp(`http://127.0.0.1:${port}/webhooks/orders/create`, 60_000);
  say(`web server on ${appUrl} and worker started (logs: .demo/logs/web.log, .demo/logs/worker.log)`);

  const store = generateStore({ seed: args.seed, shop, customers, endAt });
  const plan = planDeliveries(store);
  const from = new Date(store.startAt).toISOString().slice(0, 10);
  const to = new Date(store.endAt).toISOString().slice(0, 10);
  say(
    `generated "${store.options.shopName}": ${formatCount(store.customers.length)} customers, ${formatCount(store.orders.length)} orders ` +
      `from ${from} to ${to}; ${formatCount(plan.deliveries.length)} webhook deliveries ` +
      `(${formatCount(plan.resends)} resends, ${formatCount(plan.earlyUpdates)} orders/updated sent before their orders/create)`,
  );

  let lastProgress = 0;
  const sent = await sendDeliveries(plan.deliveries, { baseUrl: `http://127.0.0.1:${port}`, secret, shop, apiVersion, paths }, {
    concurrency,
    // As Shopify does, keep retrying a 5xx (a database restart) for a while: up to ~40 s here.
    maxAttempts: 12,
    signal: abort.signal,
    onProgress: (done, total) => {
      if (Date.now() - lastProgress < 3_000 && done !== total) return;
      lastProgress = Date.now();
      say(`sent ${formatCount(done)}/${formatCount(total)}`);
    },
  });
  const rate = sent.accepted / (sent.elapsedMs / 1000);
  say(`sent ${formatCount(sent.accepted)} deliveries in ${(sent.elapsedMs / 1000).toFixed(1)} s (${rate.toFixed(0)}/s), ${sent.retries} retried, ${sent.failures.length} rejected`);
  for (const failure of sent.failures.slice(0, 5)) say(`  rejected ${failure.topic} ${failure.webhookId}: ${failure.status ?? "no response"} ${failure.message}`);

  let lastWait = 0;
  // A database outage while we wait is reported and waited out, as the worker rides it out.
  const onDatabaseOutage = (line: string) => say(line);
  const { snapshot, complete } = await waitForIngest(prisma, shop, plan.expected.deliveries, {
    signal: abort.signal,
    onDatabaseOutage,
    onProgress: (s) => {
      if (Date.now() - lastWait < 3_000) return;
      lastWait = Date.now();
      say(`worker: ${formatCount(s.processed + s.failed)}/${formatCount(s.stored)} stored deliveries processed`);
    },
  });
  if (!complete) say(`the worker had not finished after 10 minutes: ${snapshot.pending} deliveries still pending (see .demo/logs/worker.log)`);

  // Every customer scored: the live metrics drained, then one refit on the complete store.
  // (requestRefit below reads the queues' Redis and prefix from this process's environment.)
  process.env.REDIS_URL = services.redisUrl;
  process.env.TENURE_QUEUE_PREFIX = childEnv.TENURE_QUEUE_PREFIX;
  pool ??= createPgPool(services.databaseUrl, { max: 2 });
  const inspector = new Redis(services.redisUrl, { maxRetriesPerRequest: null });
  inspector.on("error", () => {});
  const metricsQueue = new Queue(QUEUE.customerMetrics, { connection: inspector, prefix: childEnv.TENURE_QUEUE_PREFIX });
  const refitQueue = new Queue(QUEUE.shopRefit, { connection: inspector, prefix: childEnv.TENURE_QUEUE_PREFIX });
  let lastScoring = 0;
  const scoringStartedAt = Date.now();
  const scoring = await scoreShop({
    pool,
    shop,
    metricsQueue,
    refitQueue,
    signal: abort.signal,
    onDatabaseOutage,
    onProgress: (stage, detail) => {
      if (Date.now() - lastScoring < 3_000) return;
      lastScoring = Date.now();
      say(`${stage}: ${detail}`);
    },
  }).finally(async () => {
    await Promise.allSettled([metricsQueue.close(), refitQueue.close()]);
    inspector.disconnect();
  });
  const scored = scoring.snapshot;
  const scoringOk = scoring.complete && scored.scored === scored.buyers && scored.rows === scored.customers;
  say(`metrics and refit done ${((Date.now() - scoringStartedAt) / 1000).toFixed(1)} s after ingestion`);
  if (!scoring.complete) say("the refit had not finished after 10 minutes (see .demo/logs/worker.log)");
  // The worker writes the scores to the fake Shopify as metafields (the write-back, with the demo's Admin client).
  const shopifyFake = fakes.shopify;
  const writeback = await waitForShopifyWriteback(pool, shop, () => customersWithMetafields(shopifyFake), abort.signal);

  const checks = checkAgainstExpected(snapshot, plan.expected);
  const repeatRate = snapshot.buyers ? snapshot.repeatBuyers / snapshot.buyers : 0;
  const ingestOk = checks.every((c) => c.ok) && sent.failures.length === 0;
  const allOk = ingestOk && scoringOk;
  const fit = scored.fit;
  const model = !fit
    ? "no fit yet"
    : fit.model
      ? `model ${modelName(fit.model)} (fit v${fit.version}), predictions for ${formatCount(scored.predicted)}`
      : `no predictions (fit v${fit.version}: ${fit.reason ?? fit.status})`;
  const readAfterOutages = <T>(read: () => Promise<T>) => readThroughOutages(read, { deadline: Date.now() + 10 * 60_000, signal: abort.signal, onOutage: onDatabaseOutage });
  const db = prisma;
  const final = await readAfterOutages(() => readIngest(db, shop));
  const digest = await readAfterOutages(() => rowsFingerprint(db, shop));
  const counted = await readAfterOutages(() => readCountedRevenue(db, shop));
  const lines = [
    "",
    exitWhenDone
      ? `  Tenure ran at ${appUrl}/app   (demo shop ${shop}; stopping now: --exit-when-done)`
      : `  Tenure is running: ${appUrl}/app   (demo shop ${shop}, no Shopify login needed)`,
    "",
    `  Deliveries   sent ${formatCount(plan.deliveries.length)} (${formatCount(plan.resends)} resends, ${formatCount(plan.earlyUpdates)} out of order) · ` +
      `stored ${formatCount(final.stored)} · processed ${formatCount(final.processed)} · failed ${formatCount(final.failed)} · pending ${formatCount(final.pending)}`,
    `  Customers    ${formatCount(final.customers)} (${formatCount(final.buyers)} with orders)`,
    `  Consent      ${formatConsentSplit(final.consent, final.customers)}`,
    `  Orders       ${formatCount(final.orders)} (${formatCount(final.guestOrders)} guest, ${formatCount(final.testOrders)} test, ${formatCount(final.cancelledOrders)} cancelled) · ${formatCount(final.refunds)} refunds`,
    `  Repeat rate  ${(repeatRate * 100).toFixed(1)}% (${formatCount(final.repeatBuyers)} of ${formatCount(final.buyers)} buyers ordered twice or more)`,
    // As the app counts by default (counted orders, net sales; docs/analytics/revenue.md), total sales beside it.
    `  Revenue      ${formatMoney(counted.netSalesMinor)} net sales · ${formatMoney(counted.totalSalesMinor)} total sales (with tax and shipping) · ` +
      `AOV ${formatMoney(Math.round(counted.netSalesMinor / Math.max(1, counted.orders)))} net sales over ${formatCount(counted.orders)} counted orders (test and guest orders left out)`,
    `  Scored       ${formatCount(scored.scored)} of ${formatCount(scored.buyers)} customers with orders, ${model}` +
      (scoringOk ? "" : ` · NOT ALL SCORED: ${formatCount(scored.rows)} metrics rows for ${formatCount(scored.customers)} customers`),
    `  Check        ${ingestOk ? "every count and the revenue match the generated store" : "MISMATCH with the generated store:"}`,
    ...checks.filter((c) => !c.ok).map((c) => `                 ${c.label}: expected ${formatCount(c.expected)}, database has ${formatCount(c.actual)}`),
    `  Rows digest  ${digest} (orders, customers, refunds; equal on an idempotent re-run)`,
    `  Took         ${elapsed()}`,
    "",
    `  Email tools  local fakes, connect them on ${appUrl}/app/integrations and choose a segment to watch it sync:`,
    `                 Klaviyo (local fake): any key starting with pk_ works, e.g. pk_demo_0123456789  (fake at ${fakes.klaviyo.url})`,
    `                 Mailchimp (local fake): key ${FAKE_MAILCHIMP_KEY}, then the audience "Newsletter"  (fake at ${fakes.mailchimp.url})`,
    `  Shopify      a local fake of the Admin API (${fakes.shopify.url}): the worker wrote Tenure's metafields on ${formatCount(writeback.written)} customers` +
      (writeback.waiting > 0 ? ` · ${formatCount(writeback.waiting)} customers' changes still waiting (see .demo/logs/worker.log)` : ""),
    `                 on ${appUrl}/app/segments, "Publish to Shopify" on a segment`,
    `                 makes it a customer segment there; rename the segment in Settings and the row offers to update its name`,
    "",
  ];
  console.log(lines.join("\n"));

  if (exitWhenDone) await shutdown(allOk ? 0 : 1);
  say("running; press Ctrl-C to stop");
}

/** Customers holding Tenure's metafields in the fake Shopify. */
function customersWithMetafields(fake: FakeShopifyAdmin): number {
  let customers = 0;
  for (const metafields of fake.data.metafields.values()) {
    if ([...metafields.values()].some((metafield) => metafield.namespace === fake.appNamespace)) customers += 1;
  }
  return customers;
}

/**
 * Waits (up to two minutes) until the demo shop's Shopify write-back has nothing left to send:
 * no outbox rows and no full pass wanted. Returns the customers written and the rows waiting.
 */
async function waitForShopifyWriteback(db: pg.Pool, forShop: string, written: () => number, signal: AbortSignal): Promise<{ written: number; waiting: number }> {
  const deadline = Date.now() + 120_000;
  let lastSaid = 0;
  for (;;) {
    // A database outage (the demo rides them out) reads as nothing settled yet.
    const { rows } = await db
      .query<{ waiting: number; fullWanted: boolean }>(
        `SELECT (SELECT count(*) FROM "DestinationOutbox" AS o WHERE o."destinationId" = d.id)::int AS waiting, d."fullWantedAt" IS NOT NULL AS "fullWanted"
         FROM "Destination" AS d WHERE d.shop = $1 AND d.kind = 'shopify'`,
        [forShop],
      )
      .catch(() => ({ rows: [{ waiting: -1, fullWanted: true }] }));
    const waiting = rows[0]?.waiting ?? 0;
    if ((waiting === 0 && !rows[0]?.fullWanted) || Date.now() > deadline || signal.aborted) return { written: written(), waiting: Math.max(0, waiting) };
    if (waiting >= 0 && Date.now() - lastSaid > 3_000) {
      lastSaid = Date.now();
      say(`Shopify write-back: ${formatCount(written())} customers' metafields written, ${formatCount(waiting)} customers' changes waiting`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** The demo's encryption key: read from .demo/, or made once (32 random bytes, base64) and kept there. */
function demoEncryptionKey(): string {
  try {
    const kept = readFileSync(ENCRYPTION_KEY_FILE, "utf8").trim();
    if (kept) return kept;
  } catch {
    // First run: made below.
  }
  const key = randomBytes(32).toString("base64");
  writeFileSync(ENCRYPTION_KEY_FILE, `${key}\n`, { mode: 0o600 });
  return key;
}

async function pickPort(preferred: number): Promise<number> {
  const net = await import("node:net");
  const free = await new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(preferred, "127.0.0.1", () => server.close(() => resolve(true)));
  });
  return free ? preferred : freePort();
}

main().catch(async (error: unknown) => {
  console.error(`tenure demo: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  await shutdown(1);
});
