import { QUEUE } from "~/queues/contract";
import { MAX_DELIVERY_ATTEMPTS, sweepPendingDeliveries } from "~/ingest/sweeper.server";
import { insertDelivery, testDb, uniqueShop } from "../support/db";
import { isolatedIngestQueue } from "../support/queues";
import { fixture } from "../support/webhook-fixtures";

// The sweeper hands PENDING deliveries back to the ingest queue, but not forever (issue 12,
// finding 5): one that has failed MAX_DELIVERY_ATTEMPTS times is FAILED with its last error.

const queue = isolatedIngestQueue("sweeper");
const db = () => testDb();
const longAgo = new Date(Date.now() - 3_600_000);

describe("the sweeper", () => {
  it("gives up on a delivery that failed too often, keeping its last error, and re-enqueues the others", async () => {
    const shop = uniqueShop();
    const poisoned = await insertDelivery(db(), { shop, topic: "orders/create", payload: fixture("orders-create"), receivedAt: longAgo });
    await db().webhookDelivery.update({ where: { id: poisoned }, data: { attempts: MAX_DELIVERY_ATTEMPTS, error: "will retry: value out of range" } });
    const waiting = await insertDelivery(db(), { shop, topic: "orders/create", payload: fixture("orders-create"), receivedAt: longAgo });
    await db().webhookDelivery.update({ where: { id: waiting }, data: { attempts: 3 } });

    const report = await sweepPendingDeliveries(db(), queue, { olderThanSeconds: 1, batchSize: 1_000 });

    expect(report.gaveUp).toBeGreaterThanOrEqual(1);
    expect(await db().webhookDelivery.findUniqueOrThrow({ where: { id: poisoned } })).toMatchObject({
      status: "FAILED",
      error: `gave up after ${MAX_DELIVERY_ATTEMPTS} attempts: will retry: value out of range`,
    });
    const queued = (await queue.getJobs(["waiting", "delayed", "prioritized"])).map((job) => job.data.deliveryId);
    expect(queued).toContain(String(waiting));
    expect(queued).not.toContain(String(poisoned));
    expect(queue.name).toBe(QUEUE.ingest);
  });
});
