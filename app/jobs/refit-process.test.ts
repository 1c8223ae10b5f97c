import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REFIT_PROCESS_NODE_FLAGS } from "./refit-process";

describe("the refit process's Node flags", () => {
  it("are the ones `npm run bench` runs with, so the refit benchmark measures what production runs", () => {
    const pkg = JSON.parse(readFileSync(path.resolve(import.meta.dirname, "../../package.json"), "utf8")) as { scripts: Record<string, string> };
    const benchArgs = pkg.scripts.bench.split(/\s+/);
    for (const flag of REFIT_PROCESS_NODE_FLAGS) expect(benchArgs).toContain(flag);
  });
});
