import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { WORKER_NODE_FLAGS } from "./node-flags";

describe("the worker processes' Node flags", () => {
  it("are the ones `npm run bench` runs with, so the refit benchmark measures what production runs", () => {
    const pkg = JSON.parse(readFileSync(path.resolve(import.meta.dirname, "../../package.json"), "utf8")) as { scripts: Record<string, string> };
    const benchArgs = pkg.scripts.bench.split(/\s+/);
    for (const flag of WORKER_NODE_FLAGS) expect(benchArgs).toContain(flag);
  });

  it("are `npm run worker`'s (its supervisor passes them to the worker: ingest and the backfill's import), so the backfill benchmark measures what production runs", () => {
    const pkg = JSON.parse(readFileSync(path.resolve(import.meta.dirname, "../../package.json"), "utf8")) as { scripts: Record<string, string> };
    const workerArgs = pkg.scripts.worker.split(/\s+/);
    for (const flag of WORKER_NODE_FLAGS) expect(workerArgs).toContain(flag);
  });
});
