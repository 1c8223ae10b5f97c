import { type ChildProcess, spawn } from "node:child_process";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import { type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type PrismaClient } from "@prisma/client";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import type pg from "pg";
import { planDeliveries } from "../../demo/deliveries";
import { checkAgainstExpected, readIngest, waitForIngest } from "../../demo/report.server";
import { scoreShop } from "../../demo/scoring.server";
import { parseWebhookApiVersion, parseWebhookPaths, sendDeliveries } from "../../demo/send";
import { generateStore } from "../../demo/store";
import { startEmbeddedPostgres } from "../../scripts/embedded-postgres";
import { type LocalService } from "../../scripts/service-processes";
import { applyMigrations } from "~/db/migrations.server";
import { createPgPool } from "~/db/pg.server";
import { createPrismaClient } from "~/db.server";
import { upsertInstalledShop } from "~/data/shop.server";
import { closeIntakePool } from "~/ingest/intake.server";
import { QUEUE } from "~/queues/contract";
import { closeProducerQueues } from "~/queues/connections.server";
import { freePort } from "../support/ports";
import { PrivateRedis } from "../support/private-redis";
import { waitFor } from "../support/wait-for";

// Issue 12, finding 1: `npm run demo` rides through a real PostgreSQL stop. Its own
// PostgreSQL (an embedded cluster stopped with a fast shutdown and started again on the
// same data folder and port) and Redis; the worker as `npm run worker` runs it (the
// supervisor); the webhook route in this process, as in demo.test.ts. The demo's
// orchestration (send, waitForIngest, scoreShop) runs while the database goes away twice:
// once while deliveries are sent, once while it waits for the counts.

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SHOP = "outage-demo.myshopify.com";
const OUTAGE_MS = 3_000;

type RouteModule = { action: (args: { request: Request; params: Record<string, string>; context: Record<string, unknown> }) => Promise<Response> | Response };

let tempDir: string;
let dataDir: string;
let pgPort: number;
let postgres: LocalService | undefined;
let databaseUrl: string;
let redis: PrivateRedis;
let server: http.Server | undefined;
let worker: ChildProcess | undefined;
let workerOutput = "";
let prisma: PrismaClient | undefined;
let pool: pg.Pool | undefined;
const savedDatabaseUrl = process.env.DATABASE_URL;
const prefix = `tenure-test-demo-outage-${process.pid}`;

function startRouteServer(): Promise<http.Server> {
  const routeServer = http.createServer(async (req, res) => {
    try {
      const urlPath = (req.url ?? "/").split("?")[0];
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const headers = new Headers();
      for (const [key, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(key, value);
      const request = new Request(`http://${req.headers.host}${req.url}`, { method: "POST", headers, body: Buffer.concat(chunks) });
      const route = (await import("../../app/routes/webhooks.$")) as RouteModule;
      const response = await route.action({ request, params: { "*": urlPath.slice("/webhooks/".length) }, context: {} });
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
  });
  return new Promise((resolve) => routeServer.listen(0, "127.0.0.1", () => resolve(routeServer)));
}

/** A real outage: fast shutdown (clients disconnected), a pause, and the same cluster back on the same port. */
async function stopPostgresFor(ms: number): Promise<void> {
  await postgres?.stop();
  postgres = undefined;
  await new Promise((resolve) => setTimeout(resolve, ms));
  postgres = await startEmbeddedPostgres({ dataDir, port: pgPort });
}

beforeAll(async () => {
  tempDir = await mkdtemp(path.join(os.tmpdir(), "tenure-demo-outage-"));
  // PostgreSQL runs as `postgres` when we are root: it must reach its data folder.
  await chmod(tempDir, 0o755);
  dataDir = path.join(tempDir, "pg");
  pgPort = await freePort();
  postgres = await startEmbeddedPostgres({ dataDir, port: pgPort });
  databaseUrl = postgres.url;
  await applyMigrations(databaseUrl);
  redis = await PrivateRedis.start();
  // The webhook route's intake and the queues read these (this file's modules only).
  process.env.DATABASE_URL = databaseUrl;
  process.env.REDIS_URL = redis.url;
  process.env.TENURE_QUEUE_PREFIX = prefix;
}, 120_000);

afterAll(async () => {
  if (worker && worker.exitCode === null && worker.signalCode === null) {
    worker.kill("SIGTERM");
    await new Promise((resolve) => worker?.once("exit", resolve));
  }
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await prisma?.$disconnect().catch(() => {});
  await pool?.end().catch(() => {});
  await closeProducerQueues();
  await closeIntakePool();
  await redis?.stop();
  await postgres?.stop();
  await rm(tempDir, { recursive: true, force: true });
  process.env.DATABASE_URL = savedDatabaseUrl;
  delete process.env.REDIS_URL;
}, 60_000);

describe("the demo through a PostgreSQL outage", () => {
  it("sends, waits for the counts and scores while PostgreSQL is stopped twice, and ends with every delivery PROCESSED", async () => {
    prisma = createPrismaClient(databaseUrl);
    await upsertInstalledShop(prisma, { shop: SHOP, currency: "USD", timezone: "America/New_York", scopes: null });
    const store = generateStore({ endAt: new Date("2026-11-20T12:00:00Z"), customers: 200, seed: "outage", shop: SHOP });
    const plan = planDeliveries(store);

    // `npm run worker`: the supervisor and its worker, slowed so the stream outlasts the outages.
    worker = spawn(process.execPath, ["--import", "tsx", "app/worker/supervisor.ts"], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: databaseUrl, REDIS_URL: redis.url, TENURE_QUEUE_PREFIX: prefix, TENURE_TEST_INGEST_DELAY_MS: "60", WORKER_CONCURRENCY: "4" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    worker.stdout?.on("data", (chunk: Buffer) => (workerOutput += chunk.toString()));
    worker.stderr?.on("data", (chunk: Buffer) => (workerOutput += chunk.toString()));
    await waitFor(async () => workerOutput.includes('"worker started"'), 60_000, "the worker to start");

    server = await startRouteServer();
    const toml = await readFile(path.join(ROOT, "shopify.app.toml"), "utf8");
    const target = {
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      secret: process.env.SHOPIFY_API_SECRET ?? "",
      shop: SHOP,
      apiVersion: parseWebhookApiVersion(toml) ?? "2026-10",
      paths: parseWebhookPaths(toml),
    };

    // Outage 1, while deliveries are sent: the intake answers 503 and the sender retries.
    let outageWhileSending: Promise<void> | undefined;
    const sent = await sendDeliveries(plan.deliveries, target, {
      concurrency: 8,
      maxAttempts: 10,
      onProgress: (done) => {
        if (done === Math.floor(plan.deliveries.length / 3)) outageWhileSending = stopPostgresFor(OUTAGE_MS);
      },
    });
    await outageWhileSending;
    expect(sent.failures).toEqual([]);

    // Outage 2, while the orchestration polls the counts.
    const outageLines: string[] = [];
    let outageWhileWaiting: Promise<void> | undefined;
    const ingest = await waitForIngest(prisma, SHOP, plan.expected.deliveries, {
      timeoutMs: 180_000,
      pollMs: 200,
      onDatabaseOutage: (line) => outageLines.push(line),
      onProgress: (snapshot) => {
        if (!outageWhileWaiting && snapshot.pending > 0) outageWhileWaiting = stopPostgresFor(OUTAGE_MS);
      },
    });
    await outageWhileWaiting;
    expect(outageWhileWaiting).toBeDefined();
    expect(ingest.complete).toBe(true);
    // Reported once when it went, once when it came back; never fatal.
    expect(outageLines).toHaveLength(2);
    expect(outageLines[0]).toMatch(/database is unavailable/);
    expect(outageLines[1]).toMatch(/database is back/);

    pool = createPgPool(databaseUrl, { max: 2 });
    const inspector = new Redis(redis.url, { maxRetriesPerRequest: null });
    const metricsQueue = new Queue(QUEUE.customerMetrics, { connection: inspector, prefix });
    const refitQueue = new Queue(QUEUE.shopRefit, { connection: inspector, prefix });
    try {
      const scoring = await scoreShop({ pool, shop: SHOP, metricsQueue, refitQueue, timeoutMs: 120_000, pollMs: 200 });
      expect(scoring.complete).toBe(true);
      expect(scoring.snapshot.scored).toBe(plan.expected.buyers);
    } finally {
      await Promise.allSettled([metricsQueue.close(), refitQueue.close()]);
      inspector.disconnect();
    }

    const final = await readIngest(prisma, SHOP);
    expect(final).toMatchObject({ stored: plan.expected.deliveries, processed: plan.expected.deliveries, pending: 0, failed: 0 });
    expect(checkAgainstExpected(final, plan.expected).filter((check) => !check.ok)).toEqual([]);
    // The worker rode through both stops itself: the supervisor never had to restart it.
    expect(worker.exitCode).toBeNull();
    expect(workerOutput).not.toMatch(/worker process exited/);
    expect(workerOutput).not.toMatch(/Unhandled 'error' event/);
  }, 300_000);
});
