import os from "node:os";

// The contract between benchmarks and the harness (bench/run.ts). A benchmark is a file
// bench/<name>.bench.ts exporting `run(): Promise<BenchResult[]>`; the harness prints every
// result in one table and writes bench/results/<name>.json and bench/results/summary.json.

export type MetricValue = number | string | boolean | null;

export interface BenchResult {
  /** The measured case, one block of the table: "sustained, 32 connections". */
  name: string;
  /** The figures, one table row each, in this order. Put the unit in the key: "p99 ms", "deliveries/s". */
  metrics: Record<string, MetricValue>;
  /** What the case must achieve, in words ("≥ 1,000 deliveries/s with p99 ≤ 50 ms"). */
  target?: string;
  /** Whether the target was met; absent when there is nothing to meet. */
  pass?: boolean;
  /** Anything a reader needs to interpret the figures (parameters, caveats). */
  notes?: string;
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  arch: string;
  loadAverage1m: number;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: os.platform(),
    arch: os.arch(),
    loadAverage1m: Math.round(os.loadavg()[0] * 100) / 100,
  };
}

/** The p-th percentile (0-100) of `values` by nearest rank; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function formatValue(value: MetricValue): string {
  if (value === null) return "-";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return String(value);
    return Number.isInteger(value) ? value.toLocaleString("en-US") : value.toLocaleString("en-US", { maximumFractionDigits: 2 });
  }
  return value;
}

/** One table: benchmark | case | metric | value | target | result (target and result on a case's first row). */
export function formatTable(rows: { benchmark: string; result: BenchResult }[]): string {
  const header = ["benchmark", "case", "metric", "value", "target", "result"];
  const body: string[][] = [];
  for (const { benchmark, result } of rows) {
    const entries = Object.entries(result.metrics);
    if (entries.length === 0) entries.push(["(no figures)", null]);
    entries.forEach(([metric, value], index) => {
      const first = index === 0;
      body.push([
        first ? benchmark : "",
        first ? result.name : "",
        metric,
        formatValue(value),
        first ? (result.target ?? "") : "",
        first ? (result.pass === undefined ? "" : result.pass ? "PASS" : "MISS") : "",
      ]);
    });
  }
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const numeric = (text: string) => /^-?[\d,.]+$/.test(text);
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === 3 && numeric(cell) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}
