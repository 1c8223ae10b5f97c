// Test support (imported only by *.test.ts): `tenure analyze` run in process into a fresh
// output folder per run, and its output files read back, for the analyze test files.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { runAnalyze } from "./analyze";
import { memoryIo } from "./io";
import { tempDirForTests } from "./temp-dir.testing";

export const CDNOW_SAMPLE = "tests/fixtures/cdnow/CDNOW_sample.txt";

/** Registers this test file's temporary folder; `analyze` writes each run to a folder of its own in it. */
export function analyzeRunsForTests(prefix: string) {
  const dir = tempDirForTests(prefix);
  let runs = 0;
  return {
    dir,
    async analyze(args: string[]) {
      const out = dir.path(`out-${++runs}`);
      const io = memoryIo();
      const code = await runAnalyze([...args, "--out", out], io);
      return { code, io, out };
    },
  };
}

export const customersCsvText = (out: string): string => readFileSync(join(out, "customers.csv"), "utf8");

export const customersCsv = (out: string): Record<string, string>[] =>
  parse(customersCsvText(out), { columns: true }) as Record<string, string>[];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests read the JSON's fields freely
export const outputJson = (out: string, name: string): any => JSON.parse(readFileSync(join(out, name), "utf8"));
