import type { TestProject } from "vitest/node";
import { dropRunDatabases, recreateTemplate } from "./databases";

declare module "vitest" {
  export interface ProvidedContext {
    testRunId: string;
  }
}

// One migrated template per test run; workers clone it. The run id keeps two runs on the
// same PostgreSQL (two developers, or a developer and CI) out of each other's databases.
export default async function globalSetup(project: TestProject) {
  const runId = `r${process.pid}`;
  await recreateTemplate(runId);
  project.provide("testRunId", runId);
  return async () => {
    await dropRunDatabases(runId);
  };
}
