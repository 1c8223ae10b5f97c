import { createHash } from "node:crypto";
import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { cloneTemplate, databaseUrl } from "../support/databases";
import { MigrationError, applyMigrations, readMigrations } from "../../app/db/migrations.server";

// The runner gets its own empty database (not the shared worker one).
const runId = inject("testRunId");
const name = `tenure_test_${runId}_migrations_${process.env.VITEST_POOL_ID ?? "0"}`;
let url: string;

async function query<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function migrationsDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "tenure-migrations-"));
  for (const [folder, sql] of Object.entries(files)) {
    await mkdir(path.join(dir, folder));
    await writeFile(path.join(dir, folder, "migration.sql"), sql);
  }
  return dir;
}

beforeAll(async () => {
  await cloneTemplate(runId, name); // a fresh database of this run; emptied below
  url = databaseUrl(name);
  await query(`DROP SCHEMA public CASCADE; CREATE SCHEMA public;`);
});

afterAll(async () => {
  await query(`DROP SCHEMA public CASCADE; CREATE SCHEMA public;`);
});

describe("applyMigrations", () => {
  it("applies the project's migrations once and records them as prisma migrate deploy does", async () => {
    const first = await applyMigrations(url);
    const migrations = await readMigrations();
    expect(first.applied).toEqual(migrations.map((m) => m.name));
    const second = await applyMigrations(url);
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toEqual(first.applied);

    const recorded = await query<{ migration_name: string; checksum: string }>(
      `SELECT migration_name, checksum FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    expect(recorded).toEqual(
      migrations.map((m) => ({
        migration_name: m.name,
        checksum: createHash("sha256").update(m.sql).digest("hex"),
      })),
    );
    const tables = await query<{ tablename: string }>(
      `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`,
    );
    expect(tables.map((t) => t.tablename)).toEqual(
      expect.arrayContaining(["Customer", "Order", "Session", "WebhookDelivery"]),
    );
  });

  it("rolls a failing migration back whole and names it", async () => {
    await query(`DROP SCHEMA public CASCADE; CREATE SCHEMA public;`);
    const dir = await migrationsDir({
      "001_ok": `CREATE TABLE a (id int);`,
      "002_bad": `CREATE TABLE b (id int); SELECT no_such_function();`,
    });
    await expect(applyMigrations(url, { dir })).rejects.toThrow(/002_bad failed/);
    const tables = await query<{ tablename: string }>(
      `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`,
    );
    expect(tables.map((t) => t.tablename)).toEqual(["_prisma_migrations", "a"]);
  });

  it("refuses a migration edited after it was applied", async () => {
    await query(`DROP SCHEMA public CASCADE; CREATE SCHEMA public;`);
    const dir = await migrationsDir({ "001_ok": `CREATE TABLE a (id int);` });
    await applyMigrations(url, { dir });
    await writeFile(path.join(dir, "001_ok", "migration.sql"), `CREATE TABLE a (id bigint);`);
    await expect(applyMigrations(url, { dir })).rejects.toBeInstanceOf(MigrationError);
  });

  it("lets concurrent runners apply each migration exactly once", async () => {
    await query(`DROP SCHEMA public CASCADE; CREATE SCHEMA public;`);
    const reports = await Promise.all([applyMigrations(url), applyMigrations(url), applyMigrations(url)]);
    const appliedCount = reports.reduce((sum, r) => sum + r.applied.length, 0);
    expect(appliedCount).toBe((await readMigrations()).length);
  });
});
