import { Prisma } from "@prisma/client";
import { describe, expect, it } from "vitest";
import { testDb, uniqueShop } from "../support/db";

// The schema ships twice: prisma/schema.prisma (for the client) and hand-written SQL
// migrations (for the database). This keeps them in step.
describe("schema.prisma and prisma/migrations", () => {
  it("agree on every model's columns", async () => {
    const columns = await testDb().$queryRaw<{ table_name: string; column_name: string }[]>`
      SELECT table_name::text AS table_name, column_name::text AS column_name FROM information_schema.columns WHERE table_schema = 'public'`;
    const actual = new Map<string, Set<string>>();
    for (const c of columns) {
      if (!actual.has(c.table_name)) actual.set(c.table_name, new Set());
      actual.get(c.table_name)!.add(c.column_name);
    }
    for (const model of Prisma.dmmf.datamodel.models) {
      const scalarFields = model.fields.filter((f) => f.kind !== "object").map((f) => f.dbName ?? f.name);
      expect([...(actual.get(model.dbName ?? model.name) ?? [])].sort(), model.name).toEqual(scalarFields.sort());
    }
  });

  it("has a model for every table a migration creates", async () => {
    // Partitions (CustomerMetrics' per-shop tables, ADR 0008) are their parent's; the
    // runner's own bookkeeping table is not the app's.
    const tables = await testDb().$queryRaw<{ name: string }[]>`
      SELECT c.relname::text AS name FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> '_prisma_migrations'`;
    const models = new Set(Prisma.dmmf.datamodel.models.map((model) => model.dbName ?? model.name));
    expect(tables.map((table) => table.name).filter((name) => !models.has(name)).sort()).toEqual([]);
  });

  it("round-trips a row through the engine-less client", async () => {
    const shop = uniqueShop();
    const row = await testDb().webhookDelivery.create({
      data: { shop, webhookId: "w-1", topic: "orders/create", payload: { id: 1 } },
    });
    expect(row.status).toBe("PENDING");
    expect(typeof row.id).toBe("bigint");
  });
});
