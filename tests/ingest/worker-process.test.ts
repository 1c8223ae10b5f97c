import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { silentLogger } from "~/lib/log.server";
import { QUEUE, ingestJobId } from "~/queues/contract";
import { startWorkers, type WorkersHandle } from "~/worker/workers.server";
import { testDb, uniqueShop, insertDelivery, snapshot } from "../support/db";
import { fixture } from "../support/webhook-fixtures";
import { PrivateRedis } from "../support/private-redis";
import { waitFor } from "../support/wait-for";

// Worker processes for real: one SIGKILLed mid-job, one stopped by SIGTERM while Redis is
// unreachable. Children run with tsx, as `npm run worker` does.

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const db = () => testDb();

let redis: PrivateRedis;
const children: ChildProcess[] = [];
let handle: WorkersHandle | undefined;
const inspectors: { connection: Redis; queue: Queue }[] = [];

beforeAll(async () => {
  redis = await PrivateRedis.start();
});

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await handle?.close();
  handle = undefined;
  for (const { connection, queue } of inspectors.splice(0)) {
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close().catch(() => {});
    connection.disconnect();
  }
});

afterAll(async () => {
  await redis.stop();
});

interface Child {
  process: ChildProcess;
  output: () => string;
}

function spawnWorker(script: string, env: Record<string, string>): Child {
  // node with tsx's loader (as `tsx script` runs it), without tsx's wrapper process: a
  // signal sent to the child reaches the worker itself.
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: "test", REDIS_URL: redis.url, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return { process: child, output: () => output };
}

function queueOn(prefix: string) {
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  connection.on("error", () => {});
  const queue = new Queue(QUEUE.ingest, { connection, prefix });
  queue.on("error", () => {});
  inspectors.push({ connection, queue });
  return { connection, queue };
}

/** Entries of the queue's event stream for one job (BullMQ records every state change there). */
async function jobEvents(connection: Redis, prefix: string, jobId: string): Promise<string[]> {
  const entries = await connection.xrange(`${prefix}:${QUEUE.ingest}:events`, "-", "+");
  return entries
    .map(([, fields]) => Object.fromEntries(fields.flatMap((value, index) => (index % 2 === 0 ? [[value, fields[index + 1]]] : []))))
    .filter((event) => event.jobId === jobId)
    .map((event) => event.event);
}

describe("worker processes", () => {
  it("finishes a job exactly once when its worker is killed mid-job", async () => {
    const prefix = `tenure-test-kill-${process.pid}-${Date.now()}`;
    process.env.TENURE_QUEUE_PREFIX = prefix;
    const { connection, queue } = queueOn(prefix);
    const shop = uniqueShop();
    const id = await insertDelivery(db(), { shop, topic: "orders/create", payload: fixture("orders-create") });
    const jobId = ingestJobId(String(id));

    // Worker A holds each delivery for 20 s inside its transaction.
    const a = spawnWorker("tests/ingest/worker-child.ts", { TENURE_QUEUE_PREFIX: prefix, TENURE_TEST_INGEST_DELAY_MS: "20000" });
    await waitFor(async () => a.output().includes("child worker ready"), 30_000, "worker A to start");
    await queue.add("ingest", { deliveryId: String(id) }, { jobId });
    await waitFor(async () => (await queue.getJobState(jobId)) === "active", 10_000, "worker A to take the job");
    // A is inside the delivery's transaction: the row is locked.
    await waitFor(async () => {
      const free = await db().$queryRaw<{ id: bigint }[]>`
        SELECT id FROM "WebhookDelivery" WHERE id = ${id}::bigint FOR UPDATE SKIP LOCKED`;
      return free.length === 0;
    }, 10_000, "worker A to be mid-job");
    a.process.kill("SIGKILL");
    await once(a.process, "exit");
    expect(await db().webhookDelivery.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: "PENDING", attempts: 0 });

    // Worker B (this process) finds the dead worker's job once its lock lapses, and does it.
    handle = await startWorkers({ db: db(), redisUrl: redis.url, concurrency: 1, lockDurationMs: 1_000, stalledIntervalMs: 500, sweep: false, logger: silentLogger, shutdownDeadlineMs: 5_000 });
    await waitFor(async () => (await queue.getJobState(jobId)) === "completed", 20_000, "worker B to complete the job");

    const delivery = await db().webhookDelivery.findUniqueOrThrow({ where: { id } });
    expect(delivery).toMatchObject({ status: "PROCESSED", attempts: 1, customerId: 7390571233329n });
    const rows = await snapshot(db(), shop);
    expect(rows.orders.map((order) => [order.id, order.netMinor])).toEqual([[6123456789012n, 16963n]]);
    expect(rows.customers.map((customer) => [customer.id, customer.ordersCount, customer.netSpentMinor])).toEqual([[7390571233329n, 1, 16963n]]);
    const events = await jobEvents(connection, prefix, jobId);
    expect(events.filter((event) => event === "completed")).toHaveLength(1);
    expect(events).toContain("stalled");
    expect(events).not.toContain("failed");
    expect((await queue.getJob(jobId))?.returnvalue).toMatchObject({ status: "processed" });

  }, 60_000);

  it("drains in-flight jobs on SIGTERM", async () => {
    const prefix = `tenure-test-drain-${process.pid}-${Date.now()}`;
    const { queue } = queueOn(prefix);
    const id = await insertDelivery(db(), { shop: uniqueShop(), topic: "orders/create", payload: fixture("orders-create") });
    const worker = spawnWorker("app/worker/main.ts", { TENURE_QUEUE_PREFIX: prefix, TENURE_TEST_INGEST_DELAY_MS: "1500", SHUTDOWN_DEADLINE_MS: "8000" });
    await waitFor(async () => worker.output().includes("worker started"), 30_000, "the worker to start");
    await queue.add("ingest", { deliveryId: String(id) }, { jobId: ingestJobId(String(id)) });
    await waitFor(async () => (await queue.getJobState(ingestJobId(String(id)))) === "active", 10_000, "the job to start");

    worker.process.kill("SIGTERM");
    const [code] = await once(worker.process, "exit");
    expect(code).toBe(0);
    expect(worker.output()).toMatch(/"message":"worker stopped","graceful":true/);
    expect((await db().webhookDelivery.findUniqueOrThrow({ where: { id } })).status).toBe("PROCESSED");
    expect(await queue.getJobState(ingestJobId(String(id)))).toBe("completed");

  }, 60_000);

  it("exits within the deadline on SIGTERM while Redis is unreachable, losing nothing", async () => {
    const prefix = `tenure-test-sigterm-${process.pid}-${Date.now()}`;
    const { queue } = queueOn(prefix);
    const id = await insertDelivery(db(), { shop: uniqueShop(), topic: "orders/create", payload: fixture("orders-create") });
    const deadline = 2_000;
    const worker = spawnWorker("app/worker/main.ts", {
      TENURE_QUEUE_PREFIX: prefix,
      TENURE_TEST_INGEST_DELAY_MS: "30000", // a job that cannot finish before the deadline
      SHUTDOWN_DEADLINE_MS: String(deadline),
    });
    await waitFor(async () => worker.output().includes("worker started"), 30_000, "the worker to start");
    await queue.add("ingest", { deliveryId: String(id) }, { jobId: ingestJobId(String(id)) });
    await waitFor(async () => (await queue.getJobState(ingestJobId(String(id)))) === "active", 10_000, "the job to start");

    await redis.stop();
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const stoppedAt = Date.now();
      worker.process.kill("SIGTERM");
      const [code] = await once(worker.process, "exit");
      const elapsed = Date.now() - stoppedAt;
      expect(code).toBe(0);
      expect(elapsed).toBeLessThan(deadline + 1_000);
      expect(worker.output()).toMatch(/"message":"worker stopped","graceful":false/);
      // The unfinished delivery rolled back with the process: still PENDING, for the sweeper.
      expect(await db().webhookDelivery.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: "PENDING", attempts: 0 });
    } finally {
      await redis.start();
    }
  }, 60_000);

  // Issue 12, finding 1: node-pg emits 'error' on a checked-out client whose connection
  // dies; unheard, it killed `npm run worker` and left deliveries PENDING until a restart.
  it("survives its database connections being terminated mid-stream, and processes every delivery", async () => {
    const prefix = `tenure-test-pgkill-${process.pid}-${Date.now()}`;
    const { queue } = queueOn(prefix);
    const appName = `tenure-worker-under-test-${process.pid}`;
    const worker = spawnWorker("app/worker/main.ts", { TENURE_QUEUE_PREFIX: prefix, TENURE_TEST_INGEST_DELAY_MS: "40", PGAPPNAME: appName });
    await waitFor(async () => worker.output().includes("worker started"), 30_000, "the worker to start");
    const shop = uniqueShop("pgkill");
    const ids: bigint[] = [];
    for (let n = 0; n < 60; n++) {
      const payload = { ...fixture("orders-create"), id: 7_000_000 + n, admin_graphql_api_id: `gid://shopify/Order/${7_000_000 + n}` };
      ids.push(await insertDelivery(db(), { shop, topic: "orders/create", payload }));
    }
    await queue.addBulk(ids.map((id) => ({ name: "ingest", data: { deliveryId: String(id) }, opts: { jobId: ingestJobId(String(id)) } })));
    const processed = () => db().webhookDelivery.count({ where: { id: { in: ids }, status: "PROCESSED" } });
    await waitFor(async () => (await processed()) >= 5, 20_000, "the first deliveries");
    // Twice, while transactions are open: every connection the worker holds is cut.
    // Each round waits for the worker to hold connections again: after a cut, its jobs sit
    // in backoff and a loaded machine may take a while to reconnect.
    let terminated = 0;
    for (let round = 0; round < 2; round++) {
      await waitFor(async () => {
        const killed = await db().$queryRaw<{ n: number }[]>`
          SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = ${appName}`;
        terminated += killed[0].n;
        return killed[0].n > 0 || (await processed()) === ids.length;
      }, 30_000, "worker connections to terminate");
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(terminated).toBeGreaterThan(0);
    // Jobs cut off retry with backoff (the queue's default options).
    await waitFor(async () => (await processed()) === ids.length, 90_000, "every delivery to be processed");
    expect(worker.process.exitCode).toBeNull();
    expect(worker.output()).not.toMatch(/Unhandled 'error' event/);
  }, 180_000);

  it("runs under a supervisor that restarts a worker that died, then stops with it on SIGTERM", async () => {
    const prefix = `tenure-test-supervisor-${process.pid}-${Date.now()}`;
    const { queue } = queueOn(prefix);
    const supervisor = spawnWorker("app/worker/supervisor.ts", { TENURE_QUEUE_PREFIX: prefix, SHUTDOWN_DEADLINE_MS: "5000" });
    const started = () => supervisor.output().split('"message":"worker started"').length - 1;
    await waitFor(async () => started() === 1, 30_000, "the worker to start");
    const pid = Number(/"message":"worker process started","pid":(\d+)/.exec(supervisor.output())?.[1]);
    expect(pid).toBeGreaterThan(0);

    process.kill(pid, "SIGKILL"); // a crash, as far as the supervisor can tell
    await waitFor(async () => started() === 2, 30_000, "the supervisor to start a new worker");
    expect(supervisor.output()).toMatch(/"message":"worker process exited: restarting it","code":null,"signal":"SIGKILL"/);

    // The new worker does the work.
    const id = await insertDelivery(db(), { shop: uniqueShop(), topic: "orders/create", payload: fixture("orders-create") });
    await queue.add("ingest", { deliveryId: String(id) }, { jobId: ingestJobId(String(id)) });
    await waitFor(async () => (await db().webhookDelivery.findUniqueOrThrow({ where: { id } })).status === "PROCESSED", 20_000, "the delivery");

    supervisor.process.kill("SIGTERM");
    const [code] = await once(supervisor.process, "exit");
    expect(code).toBe(0);
    expect(supervisor.output()).toMatch(/"message":"worker stopped","graceful":true/);
    expect(supervisor.output()).toMatch(/"message":"supervisor stopped"/);
  }, 90_000);

  it("refuses to start (supervisor and all) with demo mode in production, naming the variable (issue 12, finding 8)", async () => {
    const supervisor = spawnWorker("app/worker/supervisor.ts", { NODE_ENV: "production", TENURE_DEMO_MODE: "true" });
    const [code] = await once(supervisor.process, "exit");
    expect(code).toBe(1);
    expect(supervisor.output()).toContain("demo mode cannot be switched on when NODE_ENV=production");
    expect(supervisor.output()).not.toContain("worker process started");
  }, 30_000);
});
