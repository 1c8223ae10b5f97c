import type { TestProject } from "vitest/node";
import { resolveTestPostgres, resolveTestRedis, serviceLine } from "../../scripts/test-services";
import { dropRunDatabases, recreateTemplate } from "./databases";

declare module "vitest" {
  export interface ProvidedContext {
    testRunId: string;
    /** The PostgreSQL database the run creates its own from (TEST_DATABASE_URL in workers). */
    adminDatabaseUrl: string;
    /** The run's Redis (REDIS_URL in workers). */
    redisUrl: string;
  }
}

// The run's services (found or started: scripts/test-services.ts, README "Tests"), then one
// migrated template per test run; workers clone it. The run id keeps two runs on the same
// PostgreSQL (two developers, or a developer and CI) out of each other's databases.
export default async function globalSetup(project: TestProject) {
  const log = (line: string) => console.log(`test services: ${line}`);
  const redis = await resolveTestRedis({ log });
  let postgres;
  try {
    postgres = await resolveTestPostgres({ log });
  } catch (error) {
    await redis.stop();
    throw error;
  }
  console.log(serviceLine("PostgreSQL", postgres.url, postgres.description));
  console.log(serviceLine("Redis", redis.url, redis.description));
  process.env.TEST_DATABASE_URL = postgres.url;
  process.env.REDIS_URL = redis.url;

  const runId = `r${process.pid}`;
  try {
    await recreateTemplate(runId);
  } catch (error) {
    await Promise.allSettled([postgres.stop(), redis.stop()]);
    throw error;
  }
  project.provide("testRunId", runId);
  project.provide("adminDatabaseUrl", postgres.url);
  project.provide("redisUrl", redis.url);
  return async () => {
    // A cluster started for the run goes whole; on a shared server, only the run's databases.
    if (!postgres.started) await dropRunDatabases(runId);
    await Promise.allSettled([postgres.stop(), redis.stop()]);
  };
}
