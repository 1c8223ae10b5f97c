// `tenure analyze` end to end on a synthetic shop: 10 million transactions, 1 million
// customers (bench/synthetic-transactions.ts, seeded). Runs the real command (bin/tenure.js,
// its dist/cli build made first) as a child process under /usr/bin/time -v, which reports
// the peak RSS of the process tree it waits for; phase times come from the command's own
// progress lines.
//
//   npm run bench -- analyze [--rows N] [--customers N] [--seed N]
//   tsx bench/analyze.bench.ts [--rows N] [--customers N] [--seed N]
// Budget on a 2-core machine (issue 16): 10M transactions in 10 s wall and 1 GB peak RSS (read
// here as 1 GiB, 1,024 MiB);
// 1M transactions (--rows 1000000 --customers 100000) in 2 s and 400 MB.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildCli } from "../scripts/build-cli.mjs";
import { type BenchResult, formatTable, machineInfo, round } from "./lib/report";
import { DEFAULT_SYNTHETIC, type SyntheticOptions, syntheticFileName, writeSyntheticTransactions } from "./synthetic-transactions";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** Wall seconds and peak RSS by size: the first budget whose upToRows covers the run's transactions. */
const BUDGETS = [
  { upToRows: 1_000_000, wallSeconds: 2, peakRssMb: 400 },
  { upToRows: Number.POSITIVE_INFINITY, wallSeconds: 10, peakRssMb: 1024 },
];

function budgetFor(rows: number): { wallSeconds: number; peakRssMb: number } {
  return BUDGETS.find((budget) => rows <= budget.upToRows) ?? BUDGETS[BUDGETS.length - 1];
}

function timeIsAvailable(): boolean {
  return existsSync("/usr/bin/time");
}

/** Runs `tenure analyze` on `input`; returns wall time, peak RSS and phase times. */
async function timeAnalyze(
  input: string,
  outDir: string,
): Promise<{ wallSeconds: number; cpuSeconds: number; peakRssMb: number; stderr: string; exitCode: number }> {
  const command = [process.execPath, join(ROOT, "bin", "tenure.js"), "analyze", input, "--out", outDir];
  const useTime = timeIsAvailable();
  const argv = useTime ? ["/usr/bin/time", "-v", ...command] : command;
  const started = performance.now();
  const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, stdio: ["ignore", "inherit", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text: string) => {
    stderr += text;
    for (const line of text.split("\n")) if (line.startsWith("tenure")) process.stderr.write(`  ${line}\n`);
  });
  const exitCode = await new Promise<number>((done, fail) => {
    child.on("error", fail);
    child.on("close", (code) => done(code ?? 1));
  });
  const wallSeconds = (performance.now() - started) / 1000;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  const user = /User time \(seconds\): ([\d.]+)/.exec(stderr);
  const system = /System time \(seconds\): ([\d.]+)/.exec(stderr);
  const cpuSeconds = user && system ? Number(user[1]) + Number(system[1]) : Number.NaN;
  return { wallSeconds, cpuSeconds, peakRssMb: rss ? Number(rss[1]) / 1024 : Number.NaN, stderr, exitCode };
}

/**
 * "tenure analyze: summarised 1,000,000 customers (9.8 s)" -> { "summarised 1,000,000 customers": 9.8 };
 * the per-million "read N lines" progress lines are left out.
 */
function phaseTimes(stderr: string): Record<string, number> {
  const phases: Record<string, number> = {};
  for (const match of stderr.matchAll(/^tenure analyze: (.+) \((\d+(?:\.\d+)?) s\)$/gm)) {
    if (!/^read [\d,]+ lines$/.test(match[1])) phases[match[1]] = Number(match[2]);
  }
  return phases;
}

/** Runs the benchmark; bench/run.ts prints and stores the results. */
export async function run(argv: readonly string[] = []): Promise<BenchResult[]> {
  const synthetic = { ...DEFAULT_SYNTHETIC, ...parseArgs(argv) };
  const budget = budgetFor(synthetic.rows);
  const input = join(ROOT, ".cache", "bench", syntheticFileName(synthetic));
  if (!existsSync(input)) {
    process.stderr.write(`generating ${input} ...\n`);
    await writeSyntheticTransactions(input, synthetic);
  }
  // The command users run is the compiled one (dist/cli): built now, so that the timing is
  // of the current sources and not of bin/tenure.js's tsx fallback for a stale build.
  await buildCli();
  const outDir = await mkdtemp(join(tmpdir(), "tenure-analyze-bench-"));
  try {
    const loadAverage = loadavg()[0];
    const timing = await timeAnalyze(input, outDir);
    if (timing.exitCode !== 0) throw new Error(`tenure analyze exited with ${timing.exitCode}:\n${timing.stderr.slice(-2000)}`);
    const csv = await readFile(join(outDir, "customers.csv"), "utf8");
    const model = JSON.parse(await readFile(join(outDir, "model.json"), "utf8")) as { ok: boolean; chosen?: string; reason?: string };
    const phases = phaseTimes(timing.stderr);
    const metrics: BenchResult["metrics"] = {
      "transactions": synthetic.rows,
      "customers": synthetic.customers,
      "input MB": round((await stat(input)).size / 2 ** 20, 0),
      "wall s": round(timing.wallSeconds, 1),
      // CPU time says more than wall time on a shared machine: other processes stretch the wall clock.
      "CPU s (user + sys)": round(timing.cpuSeconds, 1),
      "peak RSS MiB": round(timing.peakRssMb, 0),
      "customers.csv rows": csv.split("\n").length - 2,
      "model": model.ok ? (model.chosen ?? "?") : `none: ${model.reason}`,
    };
    for (const [phase, seconds] of Object.entries(phases)) metrics[`${phase} (at s)`] = round(seconds, 1);
    metrics["load average at start"] = round(loadAverage, 2);
    return [
      {
        name: `${(synthetic.rows / 1e6).toLocaleString("en-US")}M transactions, ${(synthetic.customers / 1e6).toLocaleString("en-US")}M customers`,
        metrics,
        target: `≤ ${budget.wallSeconds} s wall and ≤ ${budget.peakRssMb} MiB peak RSS`,
        pass: timing.wallSeconds <= budget.wallSeconds && timing.peakRssMb <= budget.peakRssMb,
        notes: `tenure analyze as a child process (node bin/tenure.js), peak RSS from /usr/bin/time -v; seeded synthetic shop (seed ${synthetic.seed}); phases are elapsed times printed by the command`,
      },
    ];
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

/** run() takes the command line's options as bench/run.ts hands them (it took an object, so `npm run bench -- analyze --rows N` ran 10M rows). */
function parseArgs(argv: readonly string[]): Partial<SyntheticOptions> {
  const options: Partial<SyntheticOptions> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const value = Number(argv[i + 1]);
    if (!(Number.isInteger(value) && value >= 0)) throw new Error(`${argv[i]} needs a whole number (got ${argv[i + 1]})`);
    if (argv[i] === "--rows") options.rows = value;
    else if (argv[i] === "--customers") options.customers = value;
    else if (argv[i] === "--seed") options.seed = value;
    else throw new Error(`unknown option ${argv[i]} (expected --rows, --customers, --seed)`);
  }
  return options;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const startedAt = new Date();
  const results = await run(process.argv.slice(2));
  console.log(`\n${formatTable(results.map((result) => ({ benchmark: "analyze", result })))}`);
  await mkdir(join(ROOT, "bench", "results"), { recursive: true });
  const record = { benchmark: "analyze", startedAt: startedAt.toISOString(), durationMs: Date.now() - startedAt.getTime(), machine: machineInfo(), pass: results.every((r) => r.pass !== false), results };
  await writeFile(join(ROOT, "bench", "results", "analyze.json"), `${JSON.stringify(record, null, 2)}\n`);
  process.exitCode = record.pass ? 0 : 1;
}
