import { describe, expect, it } from "vitest";
import { PAYLOADS, QUEUE, SCHEDULES } from "~/queues/contract";
import { parsePayload, parsedProcessor } from "./registry.server";

// The one parse step every job goes through (ADR 0011): a payload off the contract fails
// without retries (UnrecoverableError), one on it reaches the processor parsed.

describe("the worker's parse step", () => {
  it("knows a payload schema for every queue", () => {
    expect(Object.keys(PAYLOADS).sort()).toEqual(Object.values(QUEUE).sort());
  });

  it("declares schedules whose payloads fit their queue", () => {
    for (const schedule of Object.values(SCHEDULES)) expect(() => parsePayload(schedule.queue, schedule.data)).not.toThrow();
  });

  it.each([
    [QUEUE.ingest, { deliveryId: "12; DROP TABLE" }],
    [QUEUE.customerMetrics, { shop: "not a shop!", customerId: "1" }],
    [QUEUE.shopRefit, { task: "shop", shop: "a.myshopify.com", trigger: "install" }],
    [QUEUE.backfill, { task: "advance" }],
    [QUEUE.reconcile, { task: "everything" }],
    [QUEUE.maintenance, null],
    [QUEUE.destinations, { task: "full", destinationId: "7", reason: "because" }],
    [QUEUE.destinations, { task: "changes", destinationId: "7; DROP TABLE" }],
  ] as const)("refuses a bad %s payload as unrecoverable, naming the queue", (queue, data) => {
    let thrown: unknown;
    try {
      parsePayload(queue, data);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).name).toBe("UnrecoverableError");
    expect((thrown as Error).message).toMatch(new RegExp(`^invalid ${queue} job data`));
  });

  it("hands the processor the parsed payload and the job", async () => {
    const job = { data: { shop: "a.myshopify.com", customerId: "42", extra: "dropped" }, attemptsMade: 0 };
    const seen: unknown[] = [];
    const processor = parsedProcessor(QUEUE.customerMetrics, async (data, received) => {
      seen.push(data, received);
      return "done";
    });
    expect(await processor(job as never)).toBe("done");
    expect(seen).toEqual([{ shop: "a.myshopify.com", customerId: "42" }, job]);
  });
});
