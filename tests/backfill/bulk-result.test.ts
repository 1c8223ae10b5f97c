import { once } from "node:events";
import { type Server, createServer } from "node:http";
import os from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeJsonl } from "../support/store-jsonl";
import { BulkResultError, type ImportBatch } from "~/integrations/bulk-jsonl";
import { type OpenOptions, PARSE_ON_THREAD_MIN_ORDERS, openBulkResult } from "~/integrations/bulk-result.server";

// The download's two ways of reading a bulk result, against a real HTTP server: on a worker
// thread (a big import) and on the caller's thread. They must hand the writer the same batches.

const files = new Map<string, { status: number; body: string }>();
let server: Server;
let origin = "";
let responsesClosed = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    const file = files.get(req.url ?? "");
    res.on("close", () => (responsesClosed += 1));
    res.writeHead(file?.status ?? 404, { "content-type": "application/jsonl" });
    if (!file) return void res.end();
    // In pieces, as a network delivers a big file.
    for (let at = 0; at < file.body.length; at += 1_000) res.write(file.body.slice(at, at + 1_000));
    res.end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  files.set("/store.jsonl", { status: 200, body: storeJsonl(40) });
  files.set("/gone.jsonl", { status: 410, body: "" });
  const lines = storeJsonl(12).trimEnd().split("\n");
  lines[9] = "{not json";
  files.set("/broken.jsonl", { status: 200, body: lines.join("\n") });
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const options = (over: Partial<OpenOptions> = {}): OpenOptions => ({ fromLine: 0, batchSize: 7, onThread: false, expectedOrders: null, ...over });

async function read(path: string, over: Partial<OpenOptions>): Promise<{ status: number; onThread: boolean; batches: ImportBatch[] }> {
  const result = await openBulkResult(`${origin}${path}`, options(over));
  const batches: ImportBatch[] = [];
  try {
    for await (const batch of result.batches) batches.push(batch);
  } finally {
    await result.close();
  }
  return { status: result.status, onThread: result.onThread, batches };
}

describe("openBulkResult", () => {
  it("gives the same batches on a parsing thread as on this thread, from the start and from a resume offset", async () => {
    const here = await read("/store.jsonl", { onThread: false });
    const thread = await read("/store.jsonl", { onThread: true });
    expect([here.onThread, thread.onThread]).toEqual([false, true]);
    expect(here.batches.map((b) => b.bundles.length)).toEqual([7, 7, 7, 7, 7, 5]);
    expect(thread.batches).toEqual(here.batches);

    const fromLine = here.batches[2].upToLine;
    const resumedHere = await read("/store.jsonl", { onThread: false, fromLine });
    const resumedThread = await read("/store.jsonl", { onThread: true, fromLine });
    expect(resumedThread.batches).toEqual(resumedHere.batches);
    // The same orders as the rest of the whole read (a resumed read sends each customer's profile afresh).
    const orders = (batches: ImportBatch[]) => batches.flatMap((b) => b.bundles.map(({ order, refunds }) => ({ order, refunds })));
    expect(orders(resumedHere.batches)).toEqual(orders(here.batches.slice(3)));
  });

  it.each([false, true])("reports an unreadable line with its number (parsing thread: %s)", async (onThread) => {
    const reading = read("/broken.jsonl", { onThread });
    await expect(reading).rejects.toThrow(BulkResultError);
    await expect(reading).rejects.toThrow("bulk result line 10 is not JSON");
  });

  it.each([false, true])("hands back the status of a result that is gone, with no batches (parsing thread: %s)", async (onThread) => {
    expect(await read("/gone.jsonl", { onThread })).toEqual({ status: 410, onThread, batches: [] });
  });

  it("stops the download and the thread when the caller leaves after the first batch", async () => {
    const before = responsesClosed;
    const result = await openBulkResult(`${origin}/store.jsonl`, options({ onThread: true, batchSize: 2 }));
    for await (const batch of result.batches) {
      expect(batch.bundles).toHaveLength(2);
      break;
    }
    await result.close();
    await expect.poll(() => responsesClosed).toBeGreaterThan(before);
  });

  it("parses on a thread from PARSE_ON_THREAD_MIN_ORDERS expected orders, given a second core", async () => {
    const small = await read("/store.jsonl", { onThread: "auto", expectedOrders: PARSE_ON_THREAD_MIN_ORDERS - 1 });
    const big = await read("/store.jsonl", { onThread: "auto", expectedOrders: PARSE_ON_THREAD_MIN_ORDERS });
    expect(small.onThread).toBe(false);
    expect(big.onThread).toBe(os.availableParallelism() > 1);
    expect(big.batches).toEqual(small.batches);
  });
});
