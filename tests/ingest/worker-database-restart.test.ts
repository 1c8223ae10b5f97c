import { type ChildProcess, spawn } from "node:child_process";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type PrismaClient } from "@prisma/client";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { startEmbeddedPostgres } from "../../scripts/embedded-postgres";
import { type LocalService } from "../../scripts/service-processes";
import { applyMigrations } from "~/db/migrations.server";
import { createPrismaClient } from "~/db.server";
import { upsertInstalledShop } from "~/data/shop.server";
import { QUEUE, ingestJobId } from "~/queues/contract";
import { insertDelivery } from "../support/db";
import { freePort } from "../support/ports";
import { PrivateRedis } from "../support/private-redis";
import { waitFor } from "../support/wait-for";
import { fixture } from "../support/webhook-fixtures";

// Issue 12, finding 1, with a real server stop (worker-process.test.ts cuts connections with
// pg_terminate_backend): the worker process (app/worker/main.ts, no supervisor to restart
// it) on a PostgreSQL of the test's own, stopped with a fast shutdown mid-stream and
// started again on the same data folder and port. The worker must stay up and process
// every delivery with nobody touching it.

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SHOP = "worker-restart.myshopify.com";

let tempDir: string;
let dataDir: string;
let pgPort: number;
let postgres: LocalService | undefined;
let redis: PrivateRedis;
let db: PrismaClient | undefined;
let worker: ChildProcess | undefined;
let connection: Redis | undefined;
let queue: Queue | undefined;

beforeAll(async () => {
  tempDir = await mkdtemp(path.join(os.tmpdir(), "tenure-worker-restart-"));
  await chmod(tempDir, 0o755); // PostgreSQL runs as `postgres` when we are root
  dataDir = path.join(tempDir, "pg");
  pgPort = await freePort();
  postgres = await startEmbeddedPostgres({ dataDir, port: pgPort });
  await applyMigrations(postgres.url);
  redis = await PrivateRedis.start();
}, 120_000);

afterAll(async () => {
  if (worker && worker.exitCode === null && worker.signalCode === null) {
    const exited = new Promise((resolve) => worker?.once("exit", resolve));
    worker.kill("SIGKILL");
    await exited;
  }
  await queue?.obliterate({ force: true }).catch(() => {});
  await queue?.close().catch(() => {});
  connection?.disconnect();
  await db?.$disconnect().catch(() => {});
  await redis?.stop();
  await postgres?.stop();
  await rm(tempDir, { recursive: true, force: true });
}, 60_000);

describe("a worker process while its PostgreSQL server stops and starts again", () => {
  it("stays up and processes every delivery once the server is back", async () => {
    const url = postgres!.url;
    db = createPrismaClient(url);
    await upsertInstalledShop(db, { shop: SHOP, currency: "USD", timezone: "America/New_York", scopes: null });
    const prefix = `tenure-test-pgstop-${process.pid}`;
    connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    connection.on("error", () => {});
    queue = new Queue(QUEUE.ingest, { connection, prefix });

    let output = "";
    worker = spawn(process.execPath, ["--import", "tsx", "app/worker/main.ts"], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: "test", DATABASE_URL: url, REDIS_URL: redis.url, TENURE_QUEUE_PREFIX: prefix, TENURE_TEST_INGEST_DELAY_MS: "50", WORKER_CONCURRENCY: "4" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    worker.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    worker.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(async () => output.includes('"worker started"'), 60_000, "the worker to start");

    const ids: bigint[] = [];
    for (let n = 0; n < 120; n++) {
      const payload = { ...fixture("orders-create"), id: 8_000_000 + n, admin_graphql_api_id: `gid://shopify/Order/${8_000_000 + n}` };
      ids.push(await insertDelivery(db, { shop: SHOP, topic: "orders/create", payload }));
    }
    await queue.addBulk(ids.map((id) => ({ name: "ingest", data: { deliveryId: String(id) }, opts: { jobId: ingestJobId(String(id)) } })));
    const processed = async () => (db ? db.webhookDelivery.count({ where: { shop: SHOP, status: "PROCESSED" } }) : 0);
    await waitFor(async () => (await processed()) >= 10, 30_000, "the first deliveries");

    // Fast shutdown: PostgreSQL terminates every session (transactions in flight included) and exits.
    await postgres!.stop();
    postgres = undefined;
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(worker.exitCode, output.slice(-2_000)).toBeNull();
    postgres = await startEmbeddedPostgres({ dataDir, port: pgPort });

    await waitFor(async () => (await processed()) === ids.length, 120_000, "every delivery to be processed");
    expect(await db.order.count({ where: { shop: SHOP } })).toBe(ids.length);
    expect(worker.exitCode).toBeNull();
    expect(output).not.toMatch(/Unhandled 'error' event/);
  }, 240_000);
});
