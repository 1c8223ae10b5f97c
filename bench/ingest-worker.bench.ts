// Ingest worker throughput: stored deliveries of a synthetic store (the demo's generator:
// customers/create, orders/create|updated|cancelled, refunds/create, real payload shapes)
// processed by the ingest processor at WORKER_CONCURRENCY-like concurrency (8 lanes) on a
// fresh database, three ways:
//   - "Prisma transaction": the previous transport (every query through Prisma's engine-less client);
//   - "pg transaction": processDelivery's hot path, metrics hand-off off;
//   - "pg transaction + metrics hand-off": as deployed (enqueueCustomerMetrics to Redis after commit).
// BullMQ's own job handling is not included: this measures what the processor adds per delivery.

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
import { closeProducerQueues } from "../app/queues/connections.server";
import { PROJECT_ROOT, ensureLocalServices } from "../scripts/local-services";
import { type BenchResult, round } from "./lib/report";

const CUSTOMERS = Number(process.env.BENCH_INGEST_CUSTOMERS ?? 600);
const LANES = Number(process.env.BENCH_INGEST_CONCURRENCY ?? 8);
const log = (line: string) => console.error(`bench ingest-worker: ${line}`);

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

/** Runs `work` over the ids on LANES concurrent lanes, in order per lane. */
async function drain(ids: bigint[], work: (id: bigint) => Promise<unknown>): Promise<{ seconds: number; cpuUsPerDelivery: number }> {
  let next = 0;
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: LANES }, async () => {
    while (next < ids.length) await work(ids[next++]);
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  return { seconds, cpuUsPerDelivery: (used.user + used.system) / ids.length };
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
    const results: BenchResult[] = [];
    for (const [index, c] of cases.entries()) {
      const shop = `bench-ingest-${index}.myshopify.com`;
      const ids = await storeDeliveries(pool, shop, bodies);
      const measured = await drain(ids, c.work);
      const processed = await db.webhookDelivery.count({ where: { shop, status: "PROCESSED" } });
      if (processed !== ids.length) throw new Error(`${c.name}: ${processed} of ${ids.length} deliveries processed`);
      const rate = ids.length / measured.seconds;
      log(`${c.name}: ${Math.round(rate)} deliveries/s, ${round(measured.cpuUsPerDelivery / 1000, 2)} ms CPU each`);
      results.push({
        name: c.name,
        metrics: {
          "deliveries/s": Math.round(rate),
          "Node CPU ms/delivery": round(measured.cpuUsPerDelivery / 1000, 2),
          deliveries: ids.length,
          concurrency: LANES,
        },
        notes: "processor only (no BullMQ job handling); PostgreSQL's CPU is on top; shared machine, see load average",
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
