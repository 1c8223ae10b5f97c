import { readFileSync } from "node:fs";
import http from "node:http";
import { type AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import type pg from "pg";
import { planDeliveries } from "../../demo/deliveries";
import { checkAgainstExpected, readCountedRevenue, readIngest, rowsFingerprint, waitForIngest } from "../../demo/report.server";
import { scoreShop } from "../../demo/scoring.server";
import { parseWebhookApiVersion, parseWebhookPaths, sendDeliveries, type WebhookTarget } from "../../demo/send";
import { generateStore } from "../../demo/store";
import { createPgPool } from "~/db/pg.server";
import { closeIntakePool } from "~/ingest/intake.server";
import { silentLogger } from "~/lib/log.server";
import { QUEUE } from "~/queues/contract";
import { closeProducerQueues } from "~/queues/connections.server";
import { type WorkersHandle, startWorkers } from "~/worker/workers.server";
import { installedShop, testDb } from "../support/db";

// The demo in miniature: a small generated store sent as signed HTTP deliveries to the real
// webhook route (app/routes/webhooks.$.tsx, the shared intake), on this worker's
// PostgreSQL and Redis, processed by the real workers; the rows must match the generator.
// (`npm run demo` does the same through remix-serve and the production build.)

type RouteModule = { action: (args: { request: Request; params: Record<string, string>; context: Record<string, unknown> }) => Promise<Response> | Response };
const root = fileURLToPath(new URL("../../", import.meta.url));
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** Serves /webhooks/<topic> with the webhook route's action, as Remix maps its splat. */
function startRouteServer(): Promise<http.Server> {
  const server = http.createServer(async (req, res) => {
    try {
      const path = (req.url ?? "/").split("?")[0];
      if (!path.startsWith("/webhooks/")) {
        res.writeHead(404).end();
        return;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const headers = new Headers();
      for (const [key, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(key, value);
      const request = new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers, body: req.method === "POST" ? Buffer.concat(chunks) : undefined });
      const route = (await import("../../app/routes/webhooks.$")) as RouteModule;
      const response = await route.action({ request, params: { "*": path.slice("/webhooks/".length) }, context: {} });
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

let server: http.Server | undefined;
let workers: WorkersHandle | undefined;
let pool: pg.Pool | undefined;

beforeEach(() => {
  process.env.TENURE_QUEUE_PREFIX = `tenure-test-demo-${process.pid}-${Date.now()}`;
});

afterEach(async () => {
  await workers?.close();
  workers = undefined;
  await pool?.end();
  pool = undefined;
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
  await closeProducerQueues();
  await closeIntakePool();
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  for (const name of Object.values(QUEUE)) {
    const queue = new Queue(name, { connection: redis, prefix: process.env.TENURE_QUEUE_PREFIX });
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
  }
  redis.disconnect();
});

describe("demo seeding", () => {
  it("ingests a generated store sent through the signed webhook routes, resends and early updates included, and a re-send changes nothing", async () => {
    const shop = await installedShop("demo");
    const store = generateStore({ endAt: new Date("2026-11-20T12:00:00Z"), customers: 50, seed: "smoke", shop });
    const plan = planDeliveries(store, { duplicateShare: 0.1, earlyUpdateShare: 0.5 });
    expect(plan.resends).toBeGreaterThan(0);
    expect(plan.earlyUpdates).toBeGreaterThan(0);

    server = await startRouteServer();
    pool = createPgPool(process.env.DATABASE_URL!, { max: 8 });
    workers = await startWorkers({ db: testDb(), pool, redisUrl: REDIS_URL, concurrency: 4, sweep: false, logger: silentLogger, shutdownDeadlineMs: 5_000 });
    const toml = readFileSync(`${root}shopify.app.toml`, "utf8");
    const target: WebhookTarget = {
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      secret: process.env.SHOPIFY_API_SECRET ?? "",
      shop,
      apiVersion: parseWebhookApiVersion(toml) ?? "2026-10",
      paths: parseWebhookPaths(toml),
    };

    const sent = await sendDeliveries(plan.deliveries, target, { concurrency: 8 });
    expect(sent.failures).toEqual([]);
    expect(sent.accepted).toBe(plan.deliveries.length);

    const { complete, snapshot } = await waitForIngest(testDb(), shop, plan.expected.deliveries, { timeoutMs: 40_000, pollMs: 200 });
    expect(complete).toBe(true);
    expect(checkAgainstExpected(snapshot, plan.expected).filter((check) => !check.ok)).toEqual([]);
    // The summary's revenue, as the app counts it (net sales by default, total sales beside it).
    expect(await readCountedRevenue(testDb(), shop)).toEqual({
      orders: plan.expected.countedOrders, netSalesMinor: plan.expected.countedNetSalesMinor, totalSalesMinor: plan.expected.countedTotalSalesMinor,
    });

    // The demo's ending: live metrics drained, one refit on the complete store, every buyer scored.
    const inspector = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const metricsQueue = new Queue(QUEUE.customerMetrics, { connection: inspector, prefix: process.env.TENURE_QUEUE_PREFIX });
    const refitQueue = new Queue(QUEUE.shopRefit, { connection: inspector, prefix: process.env.TENURE_QUEUE_PREFIX });
    try {
      const scoring = await scoreShop({ pool, shop, metricsQueue, refitQueue, timeoutMs: 60_000, pollMs: 200 });
      expect(scoring.complete).toBe(true);
      const { snapshot: scored } = scoring;
      expect(scored.buyers).toBe(plan.expected.buyers);
      expect(scored).toMatchObject({ customers: plan.expected.customers, rows: plan.expected.customers, scored: scored.buyers });
      expect(scored.fit).toMatchObject({ error: null });
      // Row by row: every customer with an order has a metrics row with a segment.
      const unscored = await pool.query(
        `SELECT c.id FROM "Customer" AS c LEFT JOIN "CustomerMetrics" AS cm ON cm.shop = c.shop AND cm."customerId" = c.id
         WHERE c.shop = $1 AND c."ordersCount" > 0 AND cm.segment IS NULL`,
        [shop],
      );
      expect(unscored.rows).toEqual([]);
      // Product costs (issue 17): the demo's catalogue has costs (one product without), so profit shows.
      const costs = await pool.query<{ cogs: string; costed: string; uncosted: string; profit: string }>(
        `SELECT (SELECT sum("costOfGoodsMinor") FROM "Order" WHERE shop = $1) AS cogs, (SELECT sum("costedNetSalesMinor") FROM "Order" WHERE shop = $1) AS costed,
                sum("uncostedSalesMinor") AS uncosted, sum("grossProfitMinor") AS profit FROM "CustomerMetrics" WHERE shop = $1`,
        [shop],
      );
      const c = costs.rows[0];
      expect(Number(c.cogs)).toBeGreaterThan(0);
      expect(Number(c.uncosted)).toBeGreaterThan(0);
      expect(Number(c.profit)).toBeGreaterThan(0);
      expect(Number(c.costed)).toBeGreaterThan(0.8 * plan.expected.countedNetSalesMinor);
    } finally {
      await metricsQueue.close();
      await refitQueue.close();
      inspector.disconnect();
    }

    // The demo re-run: the same deliveries again are all recognised; no row changes.
    const digest = await rowsFingerprint(testDb(), shop);
    const again = await sendDeliveries(plan.deliveries, target, { concurrency: 8 });
    expect(again.failures).toEqual([]);
    expect((await readIngest(testDb(), shop)).stored).toBe(plan.expected.deliveries);
    expect(await rowsFingerprint(testDb(), shop)).toBe(digest);
  });

  it("rejects a delivery signed with another secret and stores nothing", async () => {
    const shop = await installedShop("demo");
    const store = generateStore({ endAt: new Date("2026-11-20T12:00:00Z"), customers: 2, seed: "smoke-bad", shop, testOrders: 0 });
    const plan = planDeliveries(store, { duplicateShare: 0, earlyUpdateShare: 0 });
    server = await startRouteServer();
    const toml = readFileSync(`${root}shopify.app.toml`, "utf8");
    const sent = await sendDeliveries(plan.deliveries.slice(0, 1), {
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      secret: "not-the-app-secret",
      shop,
      apiVersion: "2026-10",
      paths: parseWebhookPaths(toml),
    });
    expect(sent.failures.map((f) => f.status)).toEqual([401]);
    expect((await readIngest(testDb(), shop)).stored).toBe(0);
  });
});
