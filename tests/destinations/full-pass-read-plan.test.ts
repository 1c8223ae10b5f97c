import { describe, expect, it } from "vitest";
import { readFullBatchStates } from "~/data/destinations.server";
import { type Queryable } from "~/db/pg.server";
import { installedShop, testPool } from "../support/db";

// The plan of a full pass's read (issue 14's initial sync): an RFM segment's customers are a
// range of the (shop, segment, customerId) index, not a walk of the primary key past every
// other chosen segment's rows (ADR 0022). A behavioural segment's group still walks the
// primary key. The test builds the rows in a transaction it rolls back.

// A batch a tenth of its segment, as 10,000 of a million customers in five segments is.
const CUSTOMERS = 50_000;
const BATCH = 1_000;
const SEGMENTS = ["champions", "loyal", "new", "potential-loyalist", "promising"];

/** Thrown once the read's statement is explained: the read goes no further. */
class Explained extends Error {
  constructor(readonly plan: string) {
    super("explained");
  }
}

/** The plan of the read's statement, run as EXPLAIN: nothing is read. */
async function readPlan(client: Queryable, shop: string, destinationId: string, group: string): Promise<string> {
  const explaining: Queryable = {
    query: (async (config: { text: string; values: unknown[] }) => {
      const result = await client.query<{ "QUERY PLAN": string }>(`EXPLAIN ${config.text}`, config.values);
      throw new Explained(result.rows.map((row) => row["QUERY PLAN"]).join("\n"));
    }) as unknown as Queryable["query"],
  };
  try {
    await readFullBatchStates(explaining, shop, destinationId, "subscribed", SEGMENTS, group, "0", BATCH);
  } catch (error) {
    if (error instanceof Explained) return error.plan;
    throw error;
  }
  throw new Error("the read ran no statement");
}

describe("a full pass's read", () => {
  it("reads an RFM segment's batch as a range of the segment index, and a behaviour's by the primary key", async () => {
    const shop = await installedShop("read-plan");
    const client = await testPool().connect();
    try {
      await client.query("BEGIN");
      // Segments spread over the ids, as in a real shop (and the benchmark).
      await client.query(
        `INSERT INTO "CustomerMetrics" (shop, "customerId", orders, "netSpentMinor", segment, behaviours, "asOfDay")
         SELECT $1, g, 1, 1000, ($2::text[])[1 + g % 5], CASE WHEN g % 7 = 0 THEN '{vip}'::text[] ELSE '{}' END, 20400
         FROM generate_series(1, $3::int) AS g`,
        [shop, SEGMENTS, CUSTOMERS],
      );
      await client.query(`ANALYZE "CustomerMetrics_shared"`);
      const destination = await client.query<{ id: string }>(
        `INSERT INTO "Destination" (shop, kind, "sealedCredentials", account) VALUES ($1, 'klaviyo', 'sealed', '{}') RETURNING id::text AS id`,
        [shop],
      );
      const id = destination.rows[0]!.id;

      const rfm = await readPlan(client, shop, id, "loyal");
      expect(rfm).toMatch(/Index Scan using "CustomerMetrics_shop_segment_customerId_idx"/);
      expect(rfm).not.toMatch(/Sort/);
      const behaviour = await readPlan(client, shop, id, "vip");
      expect(behaviour).toMatch(/Index Scan using "CustomerMetrics_shared_pkey"/);
    } finally {
      await client.query("ROLLBACK");
      client.release();
    }
  });
});
