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

  it("round-trips a row through the engine-less client", async () => {
    const shop = uniqueShop();
    const row = await testDb().webhookDelivery.create({
      data: { shop, webhookId: "w-1", topic: "orders/create", payload: { id: 1 } },
    });
    expect(row.status).toBe("PENDING");
    expect(typeof row.id).toBe("bigint");
  });
});
