// `npm run bench [-- <name> ...] [--option ...]`: runs bench/<name>.bench.ts (all of them by
// default), each exporting `run(argv?): Promise<BenchResult[]>` (bench/lib/report.ts), one
// after the other; options after the names are passed to each run() as argv.
// Prints one table, writes bench/results/<name>.json per benchmark and merges this run into
// bench/results/summary.json, with the machine's size. Exits 1 when a benchmark fails or
// misses its target.

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { type BenchResult, type MachineInfo, formatTable, machineInfo } from "./lib/report";

const BENCH_DIR = import.meta.dirname;
const RESULTS_DIR = path.join(BENCH_DIR, "results");
const SUFFIX = ".bench.ts";

interface BenchRun {
  benchmark: string;
  startedAt: string;
  durationMs: number;
  machine: MachineInfo;
  /** false when the benchmark threw, or a result missed its target. */
  pass: boolean;
  error?: string;
  results: BenchResult[];
}

function available(): string[] {
  return readdirSync(BENCH_DIR)
    .filter((file) => file.endsWith(SUFFIX))
    .map((file) => file.slice(0, -SUFFIX.length))
    .sort();
}

function isBenchModule(module: unknown): module is { run: (argv: readonly string[]) => Promise<unknown> } {
  return typeof (module as { run?: unknown }).run === "function";
}

function isResult(value: unknown): value is BenchResult {
  const result = value as BenchResult;
  return typeof result === "object" && result !== null && typeof result.name === "string" && typeof result.metrics === "object" && result.metrics !== null;
}

/** run()'s value as BenchResult[] (a single BenchResult is accepted too); anything else is an error naming the contract. */
function asResults(value: unknown, benchmark: string): BenchResult[] {
  if (isResult(value)) return [value];
  if (Array.isArray(value) && value.every(isResult)) return value;
  throw new Error(
    `bench/${benchmark}${SUFFIX}: run() must resolve to BenchResult[] ({ name, metrics: { "<metric unit>": value }, target?, pass?, notes? }, bench/lib/report.ts)`,
  );
}

async function runOne(benchmark: string, options: readonly string[]): Promise<BenchRun> {
  const startedAt = new Date();
  const base = { benchmark, startedAt: startedAt.toISOString(), machine: machineInfo() };
  console.error(`bench: ${benchmark} ...`);
  try {
    const module: unknown = await import(pathToFileURL(path.join(BENCH_DIR, `${benchmark}${SUFFIX}`)).href);
    if (!isBenchModule(module)) throw new Error(`bench/${benchmark}${SUFFIX} does not export run()`);
    const results = asResults(await module.run(options), benchmark);
    return { ...base, durationMs: Date.now() - startedAt.getTime(), pass: results.every((r) => r.pass !== false), results };
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    console.error(`bench: ${benchmark} failed: ${message}`);
    return {
      ...base,
      durationMs: Date.now() - startedAt.getTime(),
      pass: false,
      error: message,
      results: [{ name: "(failed)", metrics: { error: message.split("\n")[0] }, pass: false }],
    };
  }
}

async function main(): Promise<void> {
  const names = available();
  // Names first, then options: `npm run bench -- fit --customers 1000` runs fit with
  // ["--customers", "1000"]; the options go to every selected benchmark's run(argv).
  const args = process.argv.slice(2);
  const firstOption = args.findIndex((arg) => arg.startsWith("-"));
  const wanted = firstOption === -1 ? args : args.slice(0, firstOption);
  const options = firstOption === -1 ? [] : args.slice(firstOption);
  const unknown = wanted.filter((name) => !names.includes(name.replace(/\.bench\.ts$/, "")));
  if (unknown.length > 0) {
    console.error(`bench: unknown benchmark ${unknown.join(", ")}; available: ${names.join(", ") || "(none)"}`);
    process.exit(2);
  }
  const selected = wanted.length > 0 ? wanted.map((name) => name.replace(/\.bench\.ts$/, "")) : names;
  if (selected.length === 0) {
    console.error("bench: no bench/*.bench.ts found");
    process.exit(2);
  }

  mkdirSync(RESULTS_DIR, { recursive: true });
  const runs: BenchRun[] = [];
  for (const benchmark of selected) {
    const run = await runOne(benchmark, options);
    runs.push(run);
    writeFileSync(path.join(RESULTS_DIR, `${benchmark}.json`), `${JSON.stringify(run, null, 2)}\n`);
  }

  const machine = machineInfo();
  console.log("");
  console.log(formatTable(runs.flatMap((run) => run.results.map((result) => ({ benchmark: run.benchmark, result })))));
  for (const run of runs) {
    for (const result of run.results) if (result.notes) console.log(`note: ${run.benchmark}, ${result.name}: ${result.notes}`);
  }
  console.log("");
  console.log(
    `machine: ${machine.cpus} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}-${machine.arch}; results in bench/results/`,
  );

  // Merge into the summary so `npm run bench -- <name>` keeps the other benchmarks' last figures.
  const summaryFile = path.join(RESULTS_DIR, "summary.json");
  let previous: Record<string, BenchRun> = {};
  if (existsSync(summaryFile)) {
    try {
      previous = (JSON.parse(readFileSync(summaryFile, "utf8")) as { benchmarks?: Record<string, BenchRun> }).benchmarks ?? {};
    } catch {
      previous = {};
    }
  }
  const benchmarks = { ...previous, ...Object.fromEntries(runs.map((run) => [run.benchmark, run])) };
  writeFileSync(summaryFile, `${JSON.stringify({ updatedAt: new Date().toISOString(), machine, benchmarks }, null, 2)}\n`);

  const failed = runs.filter((run) => !run.pass);
  if (failed.length > 0) {
    console.log(`bench: ${failed.map((run) => run.benchmark).join(", ")} failed or missed a target`);
    process.exit(1);
  }
  process.exit(0);
}

await main();
