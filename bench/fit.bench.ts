// `tenure fit` end to end on a 1,000,000-customer summary CSV: BG/NBD, modified BG/NBD,
// Pareto/NBD and Gamma-Gamma. The file is generated (seeded) from BG/NBD and Gamma-Gamma
// stories in days over two years of acquisitions, written in weeks, so recency and T sit on
// a 1/7 grid like a real day-based summary. The command runs as a child process
// (tsx app/cli/main.ts fit <file>) under /usr/bin/time -v for its peak RSS; an in-process
// pass then times each phase to show where the time goes.
//
//   tsx bench/fit.bench.ts [--customers N] [--seed N] [--runs N]
// Target: at most 2 s wall for 1,000,000 customers on a 2-core machine.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, open, rm, stat, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { fitBgNbd, fitModifiedBgNbd } from "../app/analytics/clv/bgnbd";
import { fitGammaGamma, type SpendRow } from "../app/analytics/clv/gamma-gamma";
import { fitParetoNbd } from "../app/analytics/clv/pareto-nbd";
import { Random } from "../app/analytics/random";
import { simulateBgNbd } from "../app/analytics/clv/simulate";
import { readSummaryCsv } from "../app/cli/fit";
import { memoryIo } from "../app/cli/io";
import { type BenchResult, formatTable, machineInfo, round } from "./lib/report";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const TARGET_SECONDS = 2;

interface Options {
  customers: number;
  seed: number;
  runs: number;
}

const DEFAULTS: Options = { customers: 1_000_000, seed: 20240601, runs: 5 };
/** Weekly parameters of the generating process (CDNOW-like). */
const TRUTH = { r: 0.25, alpha: 4.4, a: 0.8, b: 2.4 };
const SPEND = { p: 6, q: 4, gamma: 15 };

function parseOptions(argv: readonly string[]): Options {
  const options = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    const value = Number(argv[i + 1]);
    if (!(key in options) || !Number.isInteger(value) || value < 1) throw new Error(`usage: --customers N --seed N --runs N (got ${argv[i]} ${argv[i + 1]})`);
    options[key as keyof Options] = value;
  }
  return options;
}

/** Writes frequency,recency,T,monetary_value for `customers` simulated customers. */
async function writeSummaryFile(path: string, options: Options): Promise<void> {
  // First purchases spread over two years of days; T counted to the end, in weeks.
  const customers = simulateBgNbd(TRUTH, {
    customers: options.customers,
    seed: options.seed,
    grid: 1 / 7,
    age: (u) => Math.ceil(u() * 730) / 7,
  });
  const random = new Random(options.seed + 1);
  const file = await open(path, "w");
  try {
    let chunk = "frequency,recency,T,monetary_value\n";
    const text = (value: number) => String(Number(value.toFixed(6)));
    for (const c of customers) {
      let spend = 0;
      if (c.frequency > 0) {
        const nu = random.gamma(SPEND.q, 1 / SPEND.gamma);
        let total = 0;
        for (let i = 0; i < c.frequency; i++) total += random.gamma(SPEND.p, 1 / nu);
        spend = Math.round((total / c.frequency) * 100) / 100;
      }
      chunk += `${c.frequency},${text(c.recency)},${text(c.T)},${spend}\n`;
      if (chunk.length > 1 << 20) {
        await file.write(chunk);
        chunk = "";
      }
    }
    await file.write(chunk);
  } finally {
    await file.close();
  }
}

interface Timing {
  wallSeconds: number;
  /** User + system seconds of the command (both threads), from /usr/bin/time; NaN without it. */
  cpuSeconds: number;
  peakRssMb: number;
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs `tsx app/cli/main.ts fit <file>` (under /usr/bin/time -v when present). */
async function timeFitCommand(input: string): Promise<Timing> {
  const tsx = join(ROOT, "node_modules", ".bin", "tsx");
  const command = [tsx, join(ROOT, "app", "cli", "main.ts"), "fit", input];
  const useTime = existsSync("/usr/bin/time");
  const argv = useTime ? ["/usr/bin/time", "-v", ...command] : command;
  const started = performance.now();
  const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
  child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  const exitCode = await new Promise<number>((done, fail) => {
    child.on("error", fail);
    child.on("close", (code) => done(code ?? 1));
  });
  const wallSeconds = (performance.now() - started) / 1000;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  const user = /User time \(seconds\): ([\d.]+)/.exec(stderr);
  const system = /System time \(seconds\): ([\d.]+)/.exec(stderr);
  const cpuSeconds = user && system ? Number(user[1]) + Number(system[1]) : Number.NaN;
  return { wallSeconds, cpuSeconds, peakRssMb: rss ? Number(rss[1]) / 1024 : Number.NaN, exitCode, stdout, stderr };
}

/** The same work in this process, phase by phase (seconds). */
async function phaseTimes(input: string): Promise<Record<string, number>> {
  const phases: Record<string, number> = {};
  let mark = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    phases[name] = round((now - mark) / 1000, 3);
    mark = now;
  };
  const { compressor, spend } = await readSummaryCsv(input, memoryIo(), false);
  lap("read + compress s");
  const rows = compressor.prepared();
  lap("prepare s");
  fitBgNbd(rows, { standardErrors: false });
  lap("BG/NBD s");
  fitModifiedBgNbd(rows, { standardErrors: false });
  lap("modified BG/NBD s");
  fitParetoNbd(rows, { standardErrors: false });
  lap("Pareto/NBD s");
  const spendRows: SpendRow[] = [];
  spend.forEach((x, m, _zero, weight) => spendRows.push({ x, m, weight }));
  fitGammaGamma(spendRows, { standardErrors: false });
  lap("Gamma-Gamma s");
  phases["distinct rows"] = rows.count;
  phases["distinct spend rows"] = spendRows.length;
  return phases;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export async function run(argv: readonly string[] = []): Promise<BenchResult[]> {
  const options = parseOptions(argv);
  const dir = await mkdtemp(join(tmpdir(), "tenure-fit-bench-"));
  try {
    const input = join(dir, `summary-${options.customers}-${options.seed}.csv`);
    process.stderr.write(`fit bench: writing ${options.customers.toLocaleString("en-US")} customers to ${input}\n`);
    await writeSummaryFile(input, options);
    const fileMb = (await stat(input)).size / 2 ** 20;
    const loadAverageAtStart = loadavg()[0];
    const timings: Timing[] = [];
    for (let i = 0; i < options.runs; i++) {
      const timing = await timeFitCommand(input);
      if (timing.exitCode !== 0) throw new Error(`tenure fit exited with ${timing.exitCode}:\n${timing.stderr.slice(-2000)}`);
      timings.push(timing);
      process.stderr.write(`fit bench: run ${i + 1}: ${timing.wallSeconds.toFixed(2)} s wall, ${timing.cpuSeconds.toFixed(2)} s CPU, ${timing.peakRssMb.toFixed(0)} MB\n`);
    }
    const output = JSON.parse(timings[0].stdout) as { n: number; bgnbd: Record<string, number>; gammaGamma: Record<string, number> };
    const phases = await phaseTimes(input);
    const walls = timings.map((t) => t.wallSeconds);
    const best = Math.min(...walls);
    return [
      {
        name: `tenure fit, ${options.customers.toLocaleString("en-US")} customers`,
        metrics: {
          "wall s, best": round(best, 2),
          "wall s, median": round(median(walls), 2),
          // Other work on the machine stretches the wall; CPU (both threads) compares across loads.
          "CPU s, best": round(Math.min(...timings.map((t) => t.cpuSeconds)), 2),
          "CPU s, median": round(median(timings.map((t) => t.cpuSeconds)), 2),
          "peak RSS MiB": Math.round(Math.max(...timings.map((t) => t.peakRssMb))),
          "file MB": round(fileMb, 1),
          customers: output.n,
          ...phases,
          "BG/NBD r (truth 0.25)": round(output.bgnbd.r, 4),
          "BG/NBD alpha (truth 4.4)": round(output.bgnbd.alpha, 3),
          "Gamma-Gamma p (truth 6)": round(output.gammaGamma.p, 3),
          "load average at start": round(loadAverageAtStart, 2),
        },
        target: `≤ ${TARGET_SECONDS} s wall, end to end`,
        pass: best <= TARGET_SECONDS,
        notes:
          `child process: tsx app/cli/main.ts fit (tsx startup included; Pareto/NBD on a second thread), best and median of ${options.runs} runs; ` +
          "phase times from a separate in-process pass, one thread (warm JIT after the runs, so they add up to less than the wall time)",
      },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const results = await run(process.argv.slice(2));
  console.log(formatTable(results.map((result) => ({ benchmark: "fit", result }))));
  await mkdir(join(ROOT, "bench", "results"), { recursive: true });
  await writeFile(
    join(ROOT, "bench", "results", "fit.json"),
    `${JSON.stringify({ benchmark: "fit", startedAt: new Date().toISOString(), machine: machineInfo(), results }, null, 2)}\n`,
  );
}
