import { closeProducerQueues } from "~/queues/connections.server";
import { BodyBudget } from "../../app/ingest/body-budget";
import { closeIntakePool, receiveWebhook } from "../../app/ingest/intake.server";
import { testDb, uniqueShop } from "../support/db";
import { isolatedIngestQueue } from "../support/queues";
import { webhookHeaders, webhookRequest } from "../support/signed-webhooks";
import { fixtureText } from "../support/webhook-fixtures";

// The intake's memory bound (issue 12, finding 4), called as the Remix route and server.mjs
// call it: bytes of bodies in flight are capped across requests (503 with Retry-After above
// the budget, before more is read), released on every path, and a body that does not arrive
// within the deadline is cut off by the intake itself, whoever serves it.

isolatedIngestQueue("intake-budget");
const KiB = 1024;
const MiB = 1024 * KiB;

afterAll(async () => {
  await closeIntakePool();
  await closeProducerQueues();
});

/** A shop that installed the app: deliveries are accepted for installed shops only. */
async function installedShop(): Promise<string> {
  const shop = uniqueShop("budget");
  await testDb().shop.create({ data: { domain: shop, currency: "USD" } });
  return shop;
}

interface SlowBody {
  request: Request;
  /** Bytes the intake has pulled so far. */
  pulled: () => number;
  /** Whether the intake cancelled the body. */
  cancelled: () => boolean;
}

/**
 * A forged delivery (not signed) declaring `declaredBytes`, whose body sends `sentBytes`
 * and then stops arriving, as a hostile client trickles it.
 */
function slowForgedDelivery(shop: string, declaredBytes: number | null, sentBytes: number): SlowBody {
  let pulled = 0;
  let cancelled = false;
  const chunk = new Uint8Array(16 * KiB).fill(0x20);
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (pulled >= sentBytes) return new Promise<void>(() => {}); // stalls: never sends the rest
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
      cancel() {
        cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  const headers = webhookHeaders({ topic: "orders/create", shop, body: "", hmac: "Zm9yZ2VkIHNpZ25hdHVyZQ==" });
  if (declaredBytes !== null) headers.set("Content-Length", String(declaredBytes));
  const request = new Request("https://tenure.test/webhooks/orders/create", { method: "POST", headers, body, duplex: "half" } as RequestInit);
  return { request, pulled: () => pulled, cancelled: () => cancelled };
}

describe("the body budget at the intake", () => {
  it("answers 503 with Retry-After, before reading a byte, when a declared body does not fit", async () => {
    const shop = await installedShop();
    const budget = new BodyBudget(4 * MiB);
    const holder = slowForgedDelivery(shop, 2 * MiB, 0);
    const held = receiveWebhook(holder.request, { bodyBudget: budget, bodyDeadlineMs: 2_000 });
    await vi.waitFor(() => expect(budget.bytesInFlight).toBe(2 * MiB));

    const refused = slowForgedDelivery(shop, 2 * MiB, 2 * MiB);
    const response = await receiveWebhook(refused.request, { bodyBudget: budget });
    expect(response.status).toBe(503);
    expect(response.headers.get("Retry-After")).toBe("5");
    expect(refused.pulled()).toBe(0);
    expect(budget.bytesInFlight).toBe(2 * MiB);

    // A real delivery still fits beside the large bodies' share.
    const real = await receiveWebhook(webhookRequest({ topic: "orders/create", shop, body: fixtureText("orders-create") }), { bodyBudget: budget });
    expect(real.status).toBe(200);
    expect(await testDb().webhookDelivery.count({ where: { shop } })).toBe(1);

    expect((await held).status).toBe(408);
    expect(holder.cancelled()).toBe(true);
    expect(budget.bytesInFlight).toBe(0);
  });

  it("grows a chunked body's reservation as it reads and stops reading when the budget is full", async () => {
    const shop = await installedShop();
    const budget = new BodyBudget(4 * MiB);
    const chunked = slowForgedDelivery(shop, null, 4 * MiB);
    const response = await receiveWebhook(chunked.request, { bodyBudget: budget });
    expect(response.status).toBe(503);
    expect(chunked.cancelled()).toBe(true);
    // Read no further than the large bodies' share (3 MiB of 4) and one chunk.
    expect(chunked.pulled()).toBeLessThanOrEqual(3 * MiB + 16 * KiB);
    expect(budget.bytesInFlight).toBe(0);
  });

  it("counts the bytes of a body longer than its Content-Length", async () => {
    const shop = await installedShop();
    const budget = new BodyBudget(4 * MiB);
    const liar = slowForgedDelivery(shop, 10, 4 * MiB);
    const response = await receiveWebhook(liar.request, { bodyBudget: budget });
    expect(response.status).toBe(503);
    expect(liar.pulled()).toBeLessThanOrEqual(3 * MiB + 16 * KiB);
    expect(budget.bytesInFlight).toBe(0);
  });

  it("cuts off a body that stops arriving at the deadline (408) and gives its bytes back", async () => {
    const shop = await installedShop();
    const budget = new BodyBudget(4 * MiB);
    const stalled = slowForgedDelivery(shop, MiB, 64 * KiB);
    const started = Date.now();
    const response = await receiveWebhook(stalled.request, { bodyBudget: budget, bodyDeadlineMs: 300 });
    expect(response.status).toBe(408);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(stalled.cancelled()).toBe(true);
    expect(budget.bytesInFlight).toBe(0);
  });

  it("gives the bytes back when the connection breaks mid-body, and answers 400", async () => {
    const shop = await installedShop();
    const budget = new BodyBudget(4 * MiB);
    let sent = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) return controller.error(new Error("socket hang up"));
        sent = true;
        controller.enqueue(new Uint8Array(64 * KiB));
      },
    });
    const headers = webhookHeaders({ topic: "orders/create", shop, body: "" });
    headers.set("Content-Length", String(MiB));
    const request = new Request("https://tenure.test/webhooks/orders/create", { method: "POST", headers, body, duplex: "half" } as RequestInit);
    const response = await receiveWebhook(request, { bodyBudget: budget });
    expect(response.status).toBe(400);
    expect(budget.bytesInFlight).toBe(0);
  });

  it("gives the bytes back when storing fails (503 from the database)", async () => {
    const shop = await installedShop();
    const budget = new BodyBudget(4 * MiB);
    const { default: pg } = await import("pg");
    const unreachable = new pg.Pool({ connectionString: "postgresql://postgres@127.0.0.1:1/none", connectionTimeoutMillis: 500 });
    try {
      const response = await receiveWebhook(webhookRequest({ topic: "orders/create", shop, body: fixtureText("orders-create") }), {
        bodyBudget: budget,
        pool: unreachable,
      });
      expect(response.status).toBe(503);
    } finally {
      await unreachable.end();
    }
    expect(budget.bytesInFlight).toBe(0);
  });
});
