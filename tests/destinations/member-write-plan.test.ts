import { describe, expect, it } from "vitest";
import { type MemberWrite, recordDestinationFailures, writeMembers } from "~/data/destinations.server";
import { type ClientQueryable } from "~/db/pg.server";
import { installedShop, testPool } from "../support/db";

// The plan of a pass's commit (ADR 0022): each written customer's existence is probed by key.
// An EXISTS there was planned as a hashed subplan whenever Customer's visibility map was not
// set yet (a fresh import, before autovacuum): every batch of 10,000 then read and hashed the
// shop's whole Customer table, which at a million customers tripled the pass's PostgreSQL CPU
// (docs/destinations/klaviyo.md). The test builds that state in a transaction it rolls back.

const CUSTOMERS = 60_000;
const BATCH = 10_000;

describe("a pass's commit", () => {
  it("probes each written customer by key, never reading the shop's Customer table, even on a table not yet vacuumed", async () => {
    const shop = await installedShop("member-plan");
    const client = await testPool().connect();
    try {
      await client.query("BEGIN");
      await client.query(
        `INSERT INTO "Customer" (shop, id, email, "shopifyUpdatedAt") SELECT $1, g, 'c' || g || '@example.com', now() FROM generate_series(1, $2::int) AS g`,
        [shop, CUSTOMERS],
      );
      // Statistics of the fresh rows, none of them all-visible: what an import leaves.
      await client.query(`ANALYZE "Customer"`);
      const destination = await client.query<{ id: string }>(
        `INSERT INTO "Destination" (shop, kind, "sealedCredentials", account) VALUES ($1, 'klaviyo', 'sealed', '{}') RETURNING id::text AS id`,
        [shop],
      );
      const id = destination.rows[0]!.id;
      // The statements run as EXPLAIN: their plans are read, nothing is written.
      const plans: string[] = [];
      const explaining: ClientQueryable = {
        query: (async (text: string, values?: unknown[]) => {
          if (!/INSERT INTO "Destination(Member|Failure|Erasure)"/.test(text)) return client.query(text, values);
          const plan = await client.query<{ "QUERY PLAN": string }>(`EXPLAIN ${text}`, values);
          plans.push(plan.rows.map((row) => row["QUERY PLAN"]).join("\n"));
          return { rows: [], rowCount: 0 };
        }) as ClientQueryable["query"],
        release: () => {},
      };
      const ids = Array.from({ length: BATCH }, (_, i) => String(1 + i * 5));
      const writes: MemberWrite[] = ids.map((customerId) => ({
        customerId,
        email: `c${customerId}@example.com`,
        remoteProfileId: null,
        segments: ["champions"],
        syncedHash: "0".repeat(40),
      }));
      await writeMembers(explaining, shop, id, writes, []);
      // First writes: the plain insert, then (EXPLAIN inserted nothing) the erasures of the customers gone.
      await writeMembers(explaining, shop, id, writes.map((write) => ({ ...write, first: true })), []);
      await recordDestinationFailures(explaining, shop, id, null, ids.map((customerId) => ({ customerId, email: null, reason: "refused" })));
      expect(plans).toHaveLength(4);
      for (const plan of plans) {
        expect(plan).not.toMatch(/Seq Scan on "Customer"/);
        expect(plan).toMatch(/Index (Only )?Scan using "Customer_pkey" on "Customer"/);
      }
    } finally {
      await client.query("ROLLBACK");
      client.release();
    }
  });
});
