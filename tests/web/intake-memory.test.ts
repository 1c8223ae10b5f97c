import { readFileSync } from "node:fs";
import net from "node:net";
import { testDb, uniqueShop } from "../support/db";
import { type ProductionBuild, type RunningServer, productionBuild } from "../support/production-server";
import { isolatedIngestQueue } from "../support/queues";
import { uniqueWebhookId, webhookHeaders } from "../support/signed-webhooks";
import { fixtureText } from "../support/webhook-fixtures";

// Issue 12, finding 4: unauthenticated clients must not be able to make the production
// server (server.mjs on a real build) hold their bodies. 200 forged deliveries declare
// 1–5 MiB, send 1 MiB at once and then trickle; the server's resident memory (VmRSS, read
// from /proc, not timed) must stay within its body budget plus a margin, real signed
// deliveries sent meanwhile must be stored and answered 200, and every slow body must be
// cut off by the body deadline.

isolatedIngestQueue("intake-memory");
const KiB = 1024;
const MiB = 1024 * KiB;
const FORGED = 200;
const BODY_DEADLINE_MS = 3_000;
const BUDGET = 32 * MiB; // WEBHOOK_BODY_BUDGET_BYTES's default
/** Room for the server's own growth while it works (parsers, GC timing, the real deliveries). */
const MARGIN = 48 * MiB;

let build: ProductionBuild;
let server: RunningServer;
let shop: string;

beforeAll(async () => {
  build = await productionBuild("intake-memory");
  server = await build.serve({ TENURE_DEMO_MODE: "false", WEBHOOK_BODY_DEADLINE_MS: String(BODY_DEADLINE_MS) });
  // Deliveries are accepted for installed shops only: the forged ones aim at a real one.
  shop = uniqueShop("memory");
  await testDb().shop.create({ data: { domain: shop, currency: "USD" } });
}, 180_000);

afterAll(() => build?.close());

function residentBytes(pid: number): number {
  const line = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!line) throw new Error(`no VmRSS for process ${pid}`);
  return Number(line[1]) * KiB;
}

function realDelivery(): Promise<Response> {
  const body = fixtureText("orders-create");
  return fetch(`${server.baseUrl}/webhooks/orders/create`, {
    method: "POST",
    headers: webhookHeaders({ topic: "orders/create", shop, body, webhookId: uniqueWebhookId() }),
    body,
  });
}

interface ForgedOutcome {
  /** The status line the server answered, if it answered before closing. */
  status: number | null;
  /** Milliseconds from the first byte sent until the server closed the connection. */
  closedAfterMs: number;
}

/** A forged delivery declaring `declared` bytes: 1 MiB at once, then 1 KiB every 250 ms, until the server closes it. */
function slowForgedDelivery(port: number, declared: number): Promise<ForgedOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    const started = Date.now();
    let answer = "";
    let trickle: NodeJS.Timeout | undefined;
    socket.on("connect", () => {
      const head = [
        "POST /webhooks/orders/create HTTP/1.1",
        `Host: 127.0.0.1:${port}`,
        "Content-Type: application/json",
        `Content-Length: ${declared}`,
        "X-Shopify-Topic: orders/create",
        "X-Shopify-Hmac-Sha256: Zm9yZ2VkIHNpZ25hdHVyZQ==",
        `X-Shopify-Shop-Domain: ${shop}`,
        "X-Shopify-API-Version: 2026-10",
        `X-Shopify-Webhook-Id: ${uniqueWebhookId()}`,
        "",
        "",
      ].join("\r\n");
      socket.write(head);
      socket.write(Buffer.alloc(MiB, 0x20));
      trickle = setInterval(() => socket.write(Buffer.alloc(KiB, 0x20)), 250);
    });
    socket.on("data", (chunk) => (answer += chunk));
    socket.on("error", () => {}); // a reset is one way of being cut off
    socket.on("close", () => {
      clearInterval(trickle);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      resolve({ status: status ? Number(status[1]) : null, closedAfterMs: Date.now() - started });
    });
    // Never left open by the test itself: the server must close it well before this.
    setTimeout(() => socket.destroy(), 60_000).unref();
  });
}

describe("server.mjs under 200 slow forged webhook bodies", () => {
  it("keeps its memory within the body budget, stores real deliveries meanwhile, and cuts the slow bodies off", async () => {
    const pid = server.child.pid!;
    const port = Number(new URL(server.baseUrl).port);
    for (let i = 0; i < 30; i++) expect((await realDelivery()).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const baseline = residentBytes(pid);

    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, residentBytes(pid))), 50);
    try {
      const forged = Array.from({ length: FORGED }, (_, index) => slowForgedDelivery(port, MiB + 64 * KiB + ((index * 337 * KiB) % (4 * MiB))));
      await new Promise((resolve) => setTimeout(resolve, 500));
      const real = await Promise.all(Array.from({ length: 20 }, () => realDelivery()));
      expect(real.map((response) => response.status)).toEqual(Array(20).fill(200));

      const outcomes = await Promise.all(forged);
      const statuses = new Map<string, number>();
      for (const outcome of outcomes) statuses.set(String(outcome.status), (statuses.get(String(outcome.status)) ?? 0) + 1);
      console.log(
        `forged bodies: ${JSON.stringify(Object.fromEntries(statuses))} (null: cut off without an answer); ` +
          `slowest closed after ${Math.max(...outcomes.map((o) => o.closedAfterMs))} ms; ` +
          `RSS ${(baseline / MiB).toFixed(0)} MiB before, peak ${(peak / MiB).toFixed(0)} MiB`,
      );
      // Cut off by the body deadline, never left to Node's 300 s default or the test's own 60 s
      // cut-off. The bound is loose on purpose: on a busy machine noticing the deadline lags.
      for (const outcome of outcomes) expect(outcome.closedAfterMs).toBeLessThan(40_000);
      expect(outcomes.some((outcome) => outcome.status === 200)).toBe(false);
    } finally {
      clearInterval(sampler);
    }
    expect(peak - baseline).toBeLessThan(BUDGET + MARGIN);
    expect(await testDb().webhookDelivery.count({ where: { shop } })).toBe(50);
    // The process still serves after the attack.
    expect((await realDelivery()).status).toBe(200);
  }, 120_000);
});
