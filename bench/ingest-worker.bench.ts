// Ingest worker throughput: stored deliveries of a synthetic store (the demo's generator:
// customers/create, orders/create|updated|cancelled, refunds/create, real payload shapes)
// processed by the ingest processor at WORKER_CONCURRENCY-like concurrency (8 lanes) on a
// fresh database, three ways:
//   - "Prisma transaction": the previous transport (every query through Prisma's engine-less client);
//   - "pg transaction": processDelivery's hot path, metrics hand-off off;
//   - "pg transaction + metrics hand-off": as deployed (enqueueCustomerMetrics to Redis after commit).
// BullMQ's own job handling is not included: this measures what the processor adds per delivery.
// Beside the rate (disturbed on a shared machine), the CPU each delivery costs in this process
// and in PostgreSQL, and the capacity that CPU allows on this machine's cores.

import { benchDatabase } from "./lib/database";
import { type PrismaClient } from "@prisma/client";
import type pg from "pg";
import path from "node:path";
import { applyMigrations } from "../app/db/migrations.server";
import { createPgPool } from "../app/db/pg.server";
import { createPrismaClient } from "../app/db.server";
import { planDeliveries } from "../demo/deliveries";
import { generateStore } from "../demo/store";
import { SCRUBBED_NOTE } from "../app/ingest/gdpr.server";
import { type Delivery, handleDelivery } from "../app/ingest/deliveries.server";
import { TRANSACTION_OPTIONS } from "../app/db/tx.server";
import { processDelivery } from "../app/ingest/deliveries.server";
import { refreshPlannerStatistics } from "../app/db/planner-statistics.server";
import { closeProducerQueues } from "../app/queues/connections.server";
import { PROJECT_ROOT, ensureLocalServices } from "../scripts/local-services";
import { type BenchResult, machineInfo, round } from "./lib/report";
import { treeCpu } from "./lib/cpu";

const CUSTOMERS = Number(process.env.BENCH_INGEST_CUSTOMERS ?? 600);
const LANES = Number(process.env.BENCH_INGEST_CONCURRENCY ?? 8);
const log = (line: string) => console.error(`bench ingest-worker: ${line}`);
/** The live path's headroom target (issue 12): twice the freshness benchmark's 200 orders/s. */
const TARGET_PER_SECOND = 400;

/** The processor as it was before the pg hot path: one Prisma interactive transaction per delivery. */
async function processWithPrisma(db: PrismaClient, deliveryId: bigint): Promise<void> {
  await db.$transaction(async (tx) => {
    const [delivery] = await tx.$queryRaw<(Delivery & { status: string })[]>`
      SELECT id, shop, topic, payload, "triggeredAt", "receivedAt", status::text AS status
      FROM "WebhookDelivery" WHERE id = ${deliveryId}::bigint FOR UPDATE`;
    if (!delivery || delivery.status !== "PENDING") return;
    const result = await handleDelivery(tx, delivery);
    await tx.$executeRaw`
      UPDATE "WebhookDelivery"
      SET status = 'PROCESSED', "processedAt" = ${new Date()}::timestamp, "customerId" = ${result.customerId}::bigint,
          attempts = attempts + 1, error = ${result.scrub ? SCRUBBED_NOTE : null}::text
      WHERE id = ${deliveryId}::bigint`;
  }, TRANSACTION_OPTIONS);
}


/** Stores the plan's deliveries for `shop` in arrival order; returns their ids. */
async function storeDeliveries(pool: pg.Pool, shop: string, bodies: { topic: string; body: string; webhookId: string }[]): Promise<bigint[]> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO "WebhookDelivery" (shop, "webhookId", topic, payload, "receivedAt")
     SELECT $1, w, t, p::jsonb, now() AT TIME ZONE 'UTC' FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS x(w, t, p, n)
     ORDER BY n RETURNING id::text`,
    [shop, bodies.map((b) => b.webhookId), bodies.map((b) => b.topic), bodies.map((b) => b.body)],
  );
  return rows.map((row) => BigInt(row.id));
}

/** Runs `work` over the ids on LANES concurrent lanes, in order per lane; CPU per delivery here and in PostgreSQL (when started here). */
async function drain(
  ids: bigint[],
  work: (id: bigint) => Promise<unknown>,
  postgresCpu: (() => number) | undefined,
): Promise<{ seconds: number; cpuUsPerDelivery: number; postgresCpuUsPerDelivery: number | undefined }> {
  let next = 0;
  const cpu = process.cpuUsage();
  const postgresBefore = postgresCpu?.();
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: LANES }, async () => {
    while (next < ids.length) await work(ids[next++]);
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  const postgresUsed = postgresCpu && postgresBefore !== undefined ? postgresCpu() - postgresBefore : undefined;
  return {
    seconds,
    cpuUsPerDelivery: (used.user + used.system) / ids.length,
    postgresCpuUsPerDelivery: postgresUsed === undefined ? undefined : (postgresUsed * 1e6) / ids.length,
  };
}

export async function run(): Promise<BenchResult[]> {
  const services = await ensureLocalServices({ pgDataDir: path.join(PROJECT_ROOT, ".demo", "bench-pg"), log });
  let database: { url: string; drop: () => Promise<void> } | undefined;
  const previousRedis = process.env.REDIS_URL;
  const previousPrefix = process.env.TENURE_QUEUE_PREFIX;
  try {
    database = await benchDatabase(services.databaseUrl, "tenure_bench_ingest_worker");
    await applyMigrations(database.url);
    const db = createPrismaClient(database.url);
    const pool = createPgPool(database.url, { max: LANES + 2 });
    process.env.REDIS_URL = services.redisUrl;
    process.env.TENURE_QUEUE_PREFIX = `bench-ingest-worker-${Date.now()}`;

    const plan = planDeliveries(generateStore({ endAt: new Date(), customers: CUSTOMERS, seed: "bench-ingest-worker" }), { duplicateShare: 0, earlyUpdateShare: 0 });
    const bodies = plan.deliveries.map((d) => ({ topic: d.topic, body: d.body, webhookId: d.webhookId }));
    log(`${bodies.length} deliveries of a ${CUSTOMERS}-customer store per case, ${LANES} at a time`);

    const cases: { name: string; work: (id: bigint) => Promise<unknown> }[] = [
      { name: "Prisma transaction (before)", work: (id) => processWithPrisma(db, id) },
      { name: "pg transaction", work: (id) => processDelivery(db, id, { pool, enqueueMetrics: async () => {} }) },
      { name: "pg transaction + metrics hand-off (as deployed)", work: (id) => processDelivery(db, id, { pool }) },
    ];
    const postgresCpu = services.postgres.pid ? treeCpu(services.postgres.pid) : undefined;
    const cores = machineInfo().cpus;
    const results: BenchResult[] = [];
    for (const [index, c] of cases.entries()) {
      const shop = `bench-ingest-${index}.myshopify.com`;
      await pool.query(`INSERT INTO "Shop" (domain, currency, timezone, "updatedAt") VALUES ($1, 'USD', 'UTC', now()) ON CONFLICT DO NOTHING`, [shop]);
      const ids = await storeDeliveries(pool, shop, bodies);
      // As the worker's maintenance round does within seconds of the tables filling up.
      await refreshPlannerStatistics(pool);
      const measured = await drain(ids, c.work, postgresCpu);
      const processed = await db.webhookDelivery.count({ where: { shop, status: "PROCESSED" } });
      if (processed !== ids.length) throw new Error(`${c.name}: ${processed} of ${ids.length} deliveries processed`);
      const rate = ids.length / measured.seconds;
      const nodeMs = measured.cpuUsPerDelivery / 1000;
      const postgresMs = measured.postgresCpuUsPerDelivery === undefined ? undefined : measured.postgresCpuUsPerDelivery / 1000;
      // What this machine's cores could apply if the processor and PostgreSQL had them to themselves.
      const capacity = postgresMs === undefined ? undefined : Math.round((cores * 1000) / (nodeMs + postgresMs));
      const asDeployed = index === cases.length - 1;
      log(`${c.name}: ${Math.round(rate)} deliveries/s, ${round(nodeMs, 2)} ms Node CPU and ${postgresMs === undefined ? "?" : round(postgresMs, 2)} ms PostgreSQL CPU each`);
      results.push({
        name: c.name,
        metrics: {
          "deliveries/s": Math.round(rate),
          "Node CPU ms/delivery": round(nodeMs, 2),
          ...(postgresMs === undefined ? {} : { "PostgreSQL CPU ms/delivery": round(postgresMs, 2), [`CPU-bound capacity on ${cores} cores /s`]: capacity! }),
          deliveries: ids.length,
          concurrency: LANES,
        },
        ...(asDeployed ? { target: `≥ ${TARGET_PER_SECOND} deliveries/s`, pass: rate >= TARGET_PER_SECOND } : {}),
        notes:
          "processor only (no BullMQ job handling); CPU-bound capacity = cores / (Node + PostgreSQL CPU per delivery); " +
          "PostgreSQL's CPU is known only when it was started here; shared machine: see the load average for the rate",
      });
    }
    await pool.end();
    await db.$disconnect();
    return results;
  } finally {
    await closeProducerQueues();
    process.env.REDIS_URL = previousRedis;
    process.env.TENURE_QUEUE_PREFIX = previousPrefix;
    await database?.drop().catch(() => {});
    await services.stop();
  }
}
