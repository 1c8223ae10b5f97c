import { beforeAll, inject } from "vitest";
import { cloneTemplate, workerDatabase } from "./databases";

// Each test worker (fork) gets its own database, cloned from the run's migrated template.
const workerId = process.env.VITEST_POOL_ID ?? "0";
const runId = inject("testRunId");
const databaseName = workerDatabase(runId, workerId);
process.env.TENURE_TEST_RUN_ID = runId;
// The services global-setup.ts resolved for the run (given, found, or started by it).
process.env.TEST_DATABASE_URL = inject("adminDatabaseUrl");
process.env.REDIS_URL = inject("redisUrl");

process.env.NODE_ENV = "test";
process.env.SHOPIFY_API_KEY ??= "test-api-key";
process.env.SHOPIFY_API_SECRET ??= "test-api-secret";
process.env.SHOPIFY_APP_URL ??= "https://tenure.test";
process.env.TENURE_DEMO_MODE ??= "false";
// Seals destination API keys in tests (app/destinations/secrets.server.ts): 32 bytes, base64.
process.env.TENURE_ENCRYPTION_KEY ??= "dGVudXJlLXRlc3Qta2V5LTMyLWJ5dGVzLWV4YWN0bHk=";

declare global {
  var __tenureWorkerDb: Promise<string> | undefined;
}

beforeAll(async () => {
  // Test files in one worker share the process: clone once, then reuse.
  globalThis.__tenureWorkerDb ??= cloneTemplate(runId, databaseName);
  process.env.DATABASE_URL = await globalThis.__tenureWorkerDb;
});
